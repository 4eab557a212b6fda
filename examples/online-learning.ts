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
 * Flags: --steps N (default 40000), --seconds N (default 300), --seed N (default 1),
 * --quiet (no live line; progress every 10 s).
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { DataUser, DataUsersDict, SequentialBuffer, Trainer } from '../ts/index.js';
import type { AgentWorkerData, Transition } from './dqn/agent-worker.js';
import { LAYERS } from './dqn/mlp.js';

const { values: flags } = parseArgs({
  options: {
    steps: { type: 'string', default: '40000' },
    seconds: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    quiet: { type: 'boolean', default: false },
  },
});
const maxSteps = Number(flags.steps);
const maxSeconds = Number(flags.seconds);
const seed = Number(flags.seed);
for (const [name, v] of [['steps', maxSteps], ['seconds', maxSeconds], ['seed', seed]] as const) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: expected a non-negative number, got ${v}`);
}

const BATCH = 64;
const GAMMA = 0.99;
const TARGET_SYNC = 250;
const WEIGHTS_EVERY = 50;
const schema = {
  obs: { dtype: 'float32', shape: [4] },
  action: 'int32',
  reward: 'float32',
  nextObs: { dtype: 'float32', shape: [4] },
  done: 'uint8',
} as const;

function qNetwork(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [LAYERS[0]], units: LAYERS[1], activation: 'relu' }),
      tf.layers.dense({ units: LAYERS[2], activation: 'relu' }),
      tf.layers.dense({ units: LAYERS[3] }),
    ],
  });
}

class DqnTrainer extends Trainer {
  private user!: DataUser<Transition>;
  readonly online = qNetwork();
  readonly target = qNetwork();
  private readonly optimizer = tf.train.adam(1e-3);
  steps = 0;
  loss = NaN;

  constructor(private readonly onWeights: (w: Float32Array[]) => void) {
    super({ trainingConditionDataUser: 'experience', minBufferSize: 1000, minNewDataCount: 1 });
    this.target.setWeights(this.online.getWeights());
  }

  override onDataUsersAttached(): void {
    this.user = this.getDataUser<Transition>('experience');
  }

  train(): void {
    const buffer = this.user.buffer as SequentialBuffer<typeof schema>;
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
const user = users.get('experience') as DataUser<Transition>;
const counters = new Int32Array(new SharedArrayBuffer(12));
const workerData: AgentWorkerData = {
  handle: user.collector.handle(),
  counters,
  stepsPerTrain: 4,
  warmup: 1000,
  epsilonSteps: 10_000,
  seed,
};
const agentThread = new Worker(new URL('./dqn/agent-worker.js', import.meta.url), { workerData });
const returns: number[] = [];
let agentFinished = false;
agentThread.on('message', (m: { episodeReturn?: number; finished?: boolean }) => {
  if (m.episodeReturn !== undefined) returns.push(m.episodeReturn);
  if (m.finished) agentFinished = true;
});
agentThread.on('error', (e) => {
  console.error('agent thread failed:', e);
  process.exit(1);
});

const trainer = new DqnTrainer((w) => agentThread.postMessage(w));
trainer.attachDataUsers(users);

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
while (Atomics.load(counters, 0) < maxSteps && performance.now() - started < maxSeconds * 1000) {
  if (await trainer.run()) {
    Atomics.store(counters, 1, trainer.steps);
    // A macrotask now and then, so the agent's episode reports are read as they come.
    if (trainer.steps % 10 === 0) await new Promise((r) => setImmediate(r));
  } else {
    await new Promise((r) => setTimeout(r, 1));
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
if (live) process.stdout.write('\n');
console.log(status());

const secs = (performance.now() - started) / 1000;
const first = mean(returns.slice(0, 20));
const last = mean(returns.slice(-20));
console.log(
  `\nsummary: ${Atomics.load(counters, 0)} env steps and ${trainer.steps} gradient steps in ${secs.toFixed(1)} s; ` +
    `${returns.length} episodes; queue drops ${user.collector.droppedCount}\n` +
    `mean return: first 20 episodes ${first.toFixed(1)}, last 20 episodes ${last.toFixed(1)} (random play ≈ 22)`,
);
user.close();
