/**
 * A single-thread example: an agent acts in CartPole and collects every step
 * through a DataCollector; a trainer samples batches from a native SequentialBuffer
 * and fits a linear Q-function on the TD targets; the agent acts greedily on it.
 * Inference and training alternate on the main thread; the main job (`npm start`,
 * online-learning.ts) runs them in two threads.
 *
 * Flags: --steps N (default 60000), --batch N (default 64), --seed N (default 1).
 */
import { parseArgs } from 'node:util';
import { Agent, type DataUser, DataUsersDict, SequentialBuffer, Trainer } from '../ts/index.js';
import { CartPole, transitionSchema as schema } from './envs/cartpole.js';

const { values: flags } = parseArgs({
  options: {
    steps: { type: 'string', default: '60000' },
    batch: { type: 'string', default: '64' },
    seed: { type: 'string', default: '1' },
  },
});
const totalSteps = Number(flags.steps);
const batchSize = Number(flags.batch);
const seed = Number(flags.seed);
for (const [name, v] of [
  ['steps', totalSteps],
  ['batch', batchSize],
  ['seed', seed],
] as const) {
  if (!Number.isInteger(v) || v < (name === 'seed' ? 0 : 1)) throw new Error(`--${name}: expected a positive integer, got ${v}`);
}

/** Quadratic features of the observation: a linear model on them can balance the pole. */
const FEATURES = 15;
function features(o: ArrayLike<number>, out: Float64Array, at = 0): void {
  let k = at;
  out[k++] = 1;
  for (let i = 0; i < 4; i++) out[k++] = o[i];
  for (let i = 0; i < 4; i++) for (let j = i; j < 4; j++) out[k++] = o[i] * o[j];
}

/** Q(s, a) = w[a] · φ(s), shared by agent and trainer (one thread). */
class LinearQ {
  readonly w = [new Float64Array(FEATURES), new Float64Array(FEATURES)];
  private readonly phi = new Float64Array(FEATURES);
  q(o: ArrayLike<number>, a: number): number {
    features(o, this.phi);
    let s = 0;
    for (let i = 0; i < FEATURES; i++) s += this.w[a][i] * this.phi[i];
    return s;
  }
}

class CartPoleAgent extends Agent<Float32Array, number> {
  private collector!: ReturnType<Agent<Float32Array, number>['getDataCollector']>;
  epsilon = 1;
  private rng = seed + 12345;
  constructor(private readonly model: LinearQ) {
    super();
  }
  override onDataCollectorsAttached(): void {
    this.collector = this.getDataCollector('experience');
  }
  private random(): number {
    this.rng = (Math.imul(this.rng, 1664525) + 1013904223) >>> 0;
    return this.rng / 4294967296;
  }
  step(obs: Float32Array): number {
    if (this.random() < this.epsilon) return this.random() < 0.5 ? 0 : 1;
    return this.model.q(obs, 1) > this.model.q(obs, 0) ? 1 : 0;
  }
  record(obs: Float32Array, action: number, reward: number, nextObs: Float32Array, done: boolean): void {
    this.collector.collect({ obs, action, reward, nextObs, done: done ? 1 : 0 });
  }
}

class QTrainer extends Trainer {
  private user!: DataUser;
  trainSteps = 0;
  lastLoss = NaN;
  private readonly phi = new Float64Array(FEATURES);
  constructor(
    private readonly model: LinearQ,
    private readonly target: LinearQ,
  ) {
    super({ trainingConditionDataUser: 'experience', minBufferSize: 500, minNewDataCount: 8 });
  }
  override onDataUsersAttached(): void {
    this.user = this.getDataUser('experience');
  }
  train(): void {
    const buffer = this.user.buffer as SequentialBuffer<typeof schema>;
    const b = buffer.sample(batchSize);
    const gamma = 0.95;
    const lr = 0.002;
    let loss = 0;
    for (let k = 0; k < batchSize; k++) {
      const next = b.nextObs.subarray(k * 4, k * 4 + 4);
      const bootstrap = b.done[k] ? 0 : gamma * Math.max(this.target.q(next, 0), this.target.q(next, 1));
      const y = b.reward[k] + bootstrap;
      const o = b.obs.subarray(k * 4, k * 4 + 4);
      const a = b.action[k];
      const err = this.model.q(o, a) - y;
      loss += err * err;
      features(o, this.phi);
      const clipped = Math.max(-1, Math.min(1, err));
      for (let i = 0; i < FEATURES; i++) this.model.w[a][i] -= lr * clipped * this.phi[i];
    }
    this.lastLoss = loss / batchSize;
    this.trainSteps++;
    if (this.trainSteps % 250 === 0) for (const a of [0, 1]) this.target.w[a].set(this.model.w[a]);
  }
}

const model = new LinearQ();
const target = new LinearQ();
const users = DataUsersDict.fromDataBuffers({ experience: new SequentialBuffer(schema, 20_000, { seed }) });
const agent = new CartPoleAgent(model);
agent.attachDataCollectors(users.dataCollectorsDict);
const trainer = new QTrainer(model, target);
trainer.attachDataUsers(users);

const env = new CartPole(seed);
let obs = env.reset();
let episodeReturn = 0;
const returns: number[] = [];
const started = performance.now();
const recentMean = () => {
  const r = returns.slice(-20);
  return r.length ? r.reduce((a, b) => a + b, 0) / r.length : 0;
};

console.log(`expbuf online learning: CartPole, linear Q on quadratic features, ${totalSteps} steps, batch ${batchSize}`);
for (let t = 1; t <= totalSteps; t++) {
  agent.epsilon = Math.max(0.05, 1 - t / (totalSteps * 0.5));
  const action = agent.step(obs);
  const { observation, reward, done, truncated } = env.step(action);
  agent.record(obs, action, reward, observation, done);
  episodeReturn += reward;
  obs = observation;
  if (done || truncated) {
    returns.push(episodeReturn);
    episodeReturn = 0;
    obs = env.reset();
  }
  if (t % 4 === 0) await trainer.run();
  if (t % 5000 === 0 || t === totalSteps) {
    const user = users.get('experience') as DataUser;
    const secs = (performance.now() - started) / 1000;
    console.log(
      `step ${String(t).padStart(7)} | buffer ${String(user.size).padStart(6)} | dropped ${user.collector.droppedCount} | ` +
        `train steps ${String(trainer.trainSteps).padStart(5)} | loss ${trainer.lastLoss.toFixed(4)} | ` +
        `episodes ${returns.length} | recent mean return ${recentMean().toFixed(1)} | ${(t / secs).toFixed(0)} steps/s`,
    );
  }
}
const first = returns.slice(0, 20);
console.log(
  `done: ${returns.length} episodes; mean return of the first 20 ${(first.reduce((a, b) => a + b, 0) / Math.max(1, first.length)).toFixed(1)}, ` +
    `of the last 20 ${recentMean().toFixed(1)} (a random policy averages about 22)`,
);
