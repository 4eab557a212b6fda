/**
 * The main job (`npm start`): online deep Q-learning on CartPole across two threads.
 *
 * - Inference thread (examples/dqn/agent-worker.ts): an Agent plays CartPole with the
 *   latest Q-network weights and collects each transition through a DataCollector it
 *   made from a handle; the native queue carries the rows to this thread.
 * - Training thread (here): a Trainer updates its DataUser, samples batches from a
 *   native SequentialBuffer and fits a tfjs MLP (DQN: Huber loss on TD targets from a
 *   target network), posting new weights to the agent every 50 steps.
 *
 * The agent is paced to 4 env steps per gradient step (DQN's replay ratio). The run
 * stops after --steps env steps or --seconds, whichever comes first.
 *
 * State: users (buffer, queue, collect times) and the trainer (both networks, step
 * counts, recent returns) go to a StateStore in --state-dir every --save-every seconds
 * and on exit; --resume continues from the newest complete state there.
 *
 * Flags: --steps N env steps this run (default 40000), --seconds N (default 300),
 * --seed N (default 1), --quiet (no live line; progress every 10 s), --resume,
 * --state-dir DIR (default .expbuf-state/online-learning), --save-every S (default 30).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { DataUsersDict, SequentialBuffer, StateStore, Trainer, type UsersOf } from '../ts/index.js';
import type { AgentWorkerData } from './dqn/agent-worker.js';
import { LAYERS } from './dqn/mlp.js';
import { transitionSchema as schema } from './envs/cartpole.js';

const { values: flags } = parseArgs({
  options: {
    steps: { type: 'string', default: '40000' },
    seconds: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    quiet: { type: 'boolean', default: false },
    resume: { type: 'boolean', default: false },
    'state-dir': { type: 'string', default: '.expbuf-state/online-learning' },
    'save-every': { type: 'string', default: '30' },
  },
});
const saveEvery = Number(flags['save-every']);
const maxSteps = Number(flags.steps);
const maxSeconds = Number(flags.seconds);
const seed = Number(flags.seed);
for (const [name, v] of [['steps', maxSteps], ['seconds', maxSeconds], ['seed', seed], ['save-every', saveEvery]] as const) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: expected a non-negative number, got ${v}`);
}

const BATCH = 64;
const GAMMA = 0.99;
const TARGET_SYNC = 250;
const WEIGHTS_EVERY = 50;

function qNetwork(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [LAYERS[0]], units: LAYERS[1], activation: 'relu' }),
      tf.layers.dense({ units: LAYERS[2], activation: 'relu' }),
      tf.layers.dense({ units: LAYERS[3] }),
    ],
  });
}

type Users = UsersOf<{ experience: SequentialBuffer<typeof schema> }>;

class DqnTrainer extends Trainer<Users> {
  private user!: Users['experience'];
  readonly online = qNetwork();
  readonly target = qNetwork();
  private readonly optimizer = tf.train.adam(1e-3);
  steps = 0;
  loss = NaN;
  /** Env steps done when last saved, and episode returns so far (kept with the state). */
  envSteps = 0;
  returns: number[] = [];

  constructor(private readonly onWeights: (w: Float32Array[]) => void) {
    super({ trainingConditionDataUser: 'experience', minBufferSize: 1000, minNewDataCount: 1 });
    this.target.setWeights(this.online.getWeights());
  }

  override onDataUsersAttached(): void {
    this.user = this.getDataUser('experience');
  }

  /** Adds both networks' weights and the progress counters to the trainer's state. */
  override async saveState(dir: string): Promise<void> {
    await super.saveState(dir);
    const nets = { online: this.online, target: this.target };
    const weights = Object.fromEntries(Object.entries(nets).map(([k, m]) => [k, m.getWeights().map((w) => Array.from(w.dataSync()))]));
    const progress = { steps: this.steps, envSteps: this.envSteps, returns: this.returns.slice(-100) };
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'dqn.json'), JSON.stringify({ weights, progress }));
  }

  override async loadState(dir: string): Promise<void> {
    await super.loadState(dir);
    const saved = JSON.parse(await readFile(join(dir, 'dqn.json'), 'utf8')) as {
      weights: Record<'online' | 'target', number[][]>;
      progress: { steps: number; envSteps: number; returns: number[] };
    };
    for (const [k, m] of [['online', this.online], ['target', this.target]] as const) {
      m.setWeights(m.getWeights().map((w, i) => tf.tensor(saved.weights[k][i], w.shape)));
    }
    this.steps = saved.progress.steps;
    this.envSteps = saved.progress.envSteps;
    this.returns = saved.progress.returns;
  }

  train(): void {
    const buffer = this.user.buffer;
    const b = buffer.sample(BATCH);
    const loss = tf.tidy(() => {
      const obs = tf.tensor2d(b.obs, [BATCH, 4]);
      const next = tf.tensor2d(b.nextObs, [BATCH, 4]);
      const nextQ = (this.target.predict(next) as tf.Tensor2D).max(1);
      const notDone = tf.sub(1, tf.tensor1d(b.done, 'float32'));
      const y = tf.add(tf.tensor1d(b.reward), tf.mul(GAMMA, tf.mul(nextQ, notDone)));
      const mask = tf.oneHot(tf.tensor1d(b.action, 'int32'), 2);
      const l = this.optimizer.minimize(() => {
        const q = tf.sum(tf.mul(this.online.predict(obs) as tf.Tensor2D, mask), 1);
        return tf.losses.huberLoss(y, q) as tf.Scalar;
      }, true);
      return l ?? tf.scalar(NaN);
    });
    this.loss = loss.dataSync()[0];
    loss.dispose();
    this.steps++;
    if (this.steps % TARGET_SYNC === 0) this.target.setWeights(this.online.getWeights());
    if (this.steps % WEIGHTS_EVERY === 0) this.onWeights(this.online.getWeights().map((w) => w.dataSync() as Float32Array));
  }
}

await tf.setBackend('cpu');
const users = DataUsersDict.fromDataBuffers({ experience: new SequentialBuffer(schema, 50_000, { seed }) });
const user = users.get('experience') as Users['experience'];
let postWeights: (w: Float32Array[]) => void = () => {};
const trainer = new DqnTrainer((w) => postWeights(w));
trainer.attachDataUsers(users);
const store = new StateStore(flags['state-dir'], { keep: 3, saveInterval: saveEvery * 1000 });
store.register('users', users);
store.register('trainer', trainer);
if (flags.resume) {
  const from = await store.loadLatest();
  console.log(from ? `resumed from ${from}: ${user.size} rows, ${trainer.steps} gradient steps, ${trainer.envSteps} env steps done` : `no saved state in ${flags['state-dir']}: starting afresh`);
}
const returns = trainer.returns;
const startSteps = trainer.envSteps;

const counters = new Int32Array(new SharedArrayBuffer(12));
Atomics.store(counters, 0, startSteps);
Atomics.store(counters, 1, trainer.steps);
const workerData: AgentWorkerData = {
  handle: user.collector.handle(),
  counters,
  stepsPerTrain: 4,
  warmup: 1000,
  epsilonSteps: 10_000,
  seed: seed + startSteps,
  startStep: startSteps,
  weights: trainer.steps > 0 ? trainer.online.getWeights().map((w) => w.dataSync() as Float32Array) : undefined,
};
const agentThread = new Worker(new URL('./dqn/agent-worker.js', import.meta.url), { workerData });
postWeights = (w) => agentThread.postMessage(w);
let agentFinished = false;
agentThread.on('message', (m: { episodeReturn?: number; finished?: boolean }) => {
  if (m.episodeReturn !== undefined) returns.push(m.episodeReturn);
  if (m.finished) agentFinished = true;
});
agentThread.on('error', (e) => {
  console.error('agent thread failed:', e);
  process.exit(1);
});

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const started = performance.now();
let lastReport = started;
let lastSteps = 0;
const live = process.stdout.isTTY && !flags.quiet;
const status = () => {
  const now = performance.now();
  const steps = Atomics.load(counters, 0);
  const rate = ((steps - lastSteps) * 1000) / Math.max(1, now - lastReport);
  lastReport = now;
  lastSteps = steps;
  return (
    `${((now - started) / 1000).toFixed(0).padStart(4)}s | steps ${String(steps).padStart(6)} (${rate.toFixed(0).padStart(5)}/s) | ` +
    `buffer ${String(user.size).padStart(5)}/${user.buffer.maxSize} | drops ${user.collector.droppedCount} | ` +
    `train ${String(trainer.steps).padStart(5)} | loss ${trainer.loss.toFixed(4)} | ` +
    `episodes ${String(returns.length).padStart(4)} | mean return (last 20) ${mean(returns.slice(-20)).toFixed(1)}`
  );
};

console.log(`expbuf main job: DQN on CartPole, agent in a worker thread, trainer here (tfjs ${tf.version.tfjs}, backend ${tf.getBackend()})`);
console.log(`stops after ${maxSteps} env steps or ${maxSeconds} s; a random policy averages about 22`);
let nextPrint = started + (live ? 500 : 10_000);
/** Saves users and trainer; the agent's step count goes with the trainer. */
async function save(): Promise<string> {
  trainer.envSteps = Atomics.load(counters, 0);
  return store.save();
}
let lastSave = performance.now();
while (Atomics.load(counters, 0) - startSteps < maxSteps && performance.now() - started < maxSeconds * 1000) {
  if (await trainer.run()) {
    Atomics.store(counters, 1, trainer.steps);
    // A macrotask now and then, so the agent's episode reports are read as they come.
    if (trainer.steps % 10 === 0) await new Promise((r) => setImmediate(r));
  } else {
    await new Promise((r) => setTimeout(r, 1));
  }
  if (saveEvery > 0 && performance.now() - lastSave >= saveEvery * 1000) {
    await save();
    lastSave = performance.now();
  }
  if (performance.now() >= nextPrint) {
    if (live) process.stdout.write(`\r${status()}`);
    else console.log(status());
    nextPrint = performance.now() + (live ? 500 : 10_000);
  }
}
Atomics.store(counters, 2, 1);
while (!agentFinished) await new Promise((r) => setTimeout(r, 5));
await agentThread.terminate();
user.update();
const savedTo = await save();
if (live) process.stdout.write('\n');
console.log(status());

const secs = (performance.now() - started) / 1000;
console.log(`state saved to ${savedTo} (continue with --resume)`);
const first = mean(returns.slice(0, 20));
const last = mean(returns.slice(-20));
console.log(
  `\nsummary: ${Atomics.load(counters, 0) - startSteps} env steps this run (${Atomics.load(counters, 0)} in all) and ${trainer.steps} gradient steps in ${secs.toFixed(1)} s; ` +
    `${returns.length} episodes; queue drops ${user.collector.droppedCount}\n` +
    `mean return: first 20 episodes ${first.toFixed(1)}, last 20 episodes ${last.toFixed(1)} (random play ≈ 22)`,
);
user.close();
