/**
 * The main job (`npm start`): online deep Q-learning on CartPole-v1 across two threads,
 * with expbuf's replay memory between them.
 *
 * - Agent thread (examples/dqn/agent-worker.ts): plays CartPole ε-greedily on the latest
 *   parameters and collects every step through a DataCollector made from a handle. It
 *   paces itself with the replay buffer's rate limiter (`canInsert` / `insertAllowed`
 *   on the same ReplayBuffer, attached from a handle).
 * - Trainer (here): a `Trainer` whose data user feeds a `ReplayBuffer` (prioritized,
 *   n-step returns, rate-limited to `batchSize / trainEvery` samples per inserted step).
 *   It trains when the limiter allows a sample: double DQN (examples/dqn/q-network.ts),
 *   with an episode cut by CartPole's time limit bootstrapped from its final state
 *   (`done` is 1 only when terminated), then sets the batch's priorities to its |TD
 *   errors|. It posts the parameters to the agent every `weightsEvery` gradient steps,
 *   and evaluates them greedily (10 episodes of its own env, ε = 0) every `evalEvery`
 *   env steps and at the end.
 *
 * The run ends when the agent has taken --steps steps and the learner has drawn the
 * samples the limiter grants for them (or after --seconds). Its last line reads
 * `final greedy evaluation: mean return X over 10 episodes`. Hyperparameters and how
 * they were chosen: examples/dqn/hyperparameters.ts.
 *
 * Output in --state-dir: the states (replay buffer with priorities and limiter counts,
 * queued rows, both networks, Adam's moments, step counts, the curve so far), kept 3
 * deep, saved every --save-every seconds and at the end; and `learning-curve.svg` /
 * `learning-curve.csv` (episode returns, their moving mean, the 475 line, evaluations).
 * --resume continues from the newest complete state.
 *
 * Flags: --steps N env steps this run (default 50000), --seconds N (default 300),
 * --seed N (default 1), --backend wasm|cpu (default wasm, the fastest measured),
 * --quiet (no live line; progress every 10 s), --resume, --state-dir DIR (default
 * .expbuf-state/online-learning), --save-every S (default 30).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { DataUsersDict, ReplayBuffer, StateStore, Trainer, type UsersOf } from '../ts/index.js';
import type { AgentReport, AgentTimings, AgentWorkerData } from './dqn/agent-worker.js';
import { isBackendName, useBackend } from './dqn/backend.js';
import { greedyReturns } from './dqn/evaluate.js';
import { HYPERPARAMETERS as H } from './dqn/hyperparameters.js';
import { Mlp } from './dqn/mlp.js';
import { DoubleDqn, type LearnerState } from './dqn/q-network.js';
import { replaySchema } from './envs/cartpole.js';
import { learningCurveCsv, learningCurveSvg, type LearningCurve, type Point } from './plot/learning-curve.js';

const { values: flags } = parseArgs({
  options: {
    steps: { type: 'string', default: '50000' },
    seconds: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'wasm' },
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
for (const [name, v] of [
  ['steps', maxSteps],
  ['seconds', maxSeconds],
  ['seed', seed],
  ['save-every', saveEvery],
] as const) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: expected a non-negative number, got ${v}`);
}
const backendName = flags.backend;
if (!isBackendName(backendName)) throw new Error(`--backend: expected wasm or cpu, got ${backendName}`);
const stateDir = flags['state-dir'];

type Users = UsersOf<{ experience: ReplayBuffer<typeof replaySchema> }>;

/** Step counts and the curve so far: saved with the networks, continued on resume. */
interface Progress {
  gradientSteps: number;
  envSteps: number;
  /** Runs started on this state (the replay stream of each run's episodes). */
  runs: number;
  episodes: Point[];
  evaluations: Point[];
}

/** Milliseconds the trainer thread spent, by activity. */
interface TrainerTimings {
  /** update (queue → replay buffer), canSample, sample, updatePriorities, β. */
  pipeline: number;
  /** Training steps, target copies, reading the parameters for the agent. */
  network: number;
  evaluation: number;
  saving: number;
}

/** Linear from `from` to `to` over the schedule's env steps, then `to`. */
const anneal = (from: number, to: number, envStep: number): number => from + (to - from) * Math.min(1, envStep / H.scheduleSteps);

class DqnTrainer extends Trainer<Users> {
  readonly learner = new DoubleDqn({ layers: H.layers, learningRate: H.learningRate, seed });
  readonly mlp = new Mlp(H.layers);
  progress: Progress = { gradientSteps: 0, envSteps: 0, runs: 0, episodes: [], evaluations: [] };
  readonly timings: TrainerTimings = { pipeline: 0, network: 0, evaluation: 0, saving: 0 };
  loss = NaN;
  #replay!: ReplayBuffer<typeof replaySchema>;

  constructor(
    /** The agent's env-step count. */
    private readonly envSteps: () => number,
    private readonly postParameters: (theta: Float32Array<ArrayBuffer>) => void,
  ) {
    // The rate limiter decides when there is enough new data; the condition user is
    // updated (queue → buffer) before each check.
    super({ trainingConditionDataUser: 'experience' });
  }

  override onDataUsersAttached(): void {
    this.#replay = this.getDataUser('experience').buffer;
  }

  override isTrainable(): boolean {
    const t0 = performance.now();
    const ok = super.isTrainable() && this.#replay.canSample();
    this.timings.pipeline += performance.now() - t0;
    return ok;
  }

  train(): void {
    const t0 = performance.now();
    const batch = this.#replay.sample();
    const t1 = performance.now();
    const envStep = this.envSteps();
    this.learner.learningRate = anneal(H.learningRate, H.learningRate * H.finalLearningRateFraction, envStep);
    const { loss, absTdErrors } = this.learner.trainStep(batch);
    this.loss = loss;
    const steps = ++this.progress.gradientSteps;
    if (steps % H.targetSync === 0) this.learner.syncTarget();
    if (steps % H.weightsEvery === 0) this.postParameters(this.learner.parameters());
    const t2 = performance.now();
    this.#replay.updatePriorities(batch.ids, absTdErrors);
    this.#replay.beta = anneal(H.priority.beta, H.finalBeta, envStep);
    const t3 = performance.now();
    this.timings.pipeline += t1 - t0 + (t3 - t2);
    this.timings.network += t2 - t1;
  }

  /** A greedy evaluation of the online network, recorded on the curve. */
  evaluate(): number {
    const t0 = performance.now();
    const p = this.progress;
    const returns = greedyReturns(this.mlp, this.learner.parameters(), 1_000_003 * (seed + 1) + p.evaluations.length, H.evalEpisodes);
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    p.evaluations.push({ step: this.envSteps(), value: mean });
    this.timings.evaluation += performance.now() - t0;
    return mean;
  }

  /** Adds the networks, Adam's state and the progress to the trainer's state. */
  override async saveState(dir: string): Promise<void> {
    await super.saveState(dir);
    this.progress.envSteps = this.envSteps();
    const s = await this.learner.state();
    const arrays = { online: Array.from(s.online), target: Array.from(s.target) };
    const adam = s.adam && { iterations: s.adam.iterations, m: Array.from(s.adam.m), v: Array.from(s.adam.v) };
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'dqn.json'), JSON.stringify({ layers: H.layers, ...arrays, adam, progress: this.progress }));
  }

  override async loadState(dir: string): Promise<void> {
    await super.loadState(dir);
    const saved = JSON.parse(await readFile(join(dir, 'dqn.json'), 'utf8')) as {
      layers: number[];
      online: number[];
      target: number[];
      adam?: { iterations: number; m: number[]; v: number[] };
      progress: Progress;
    };
    if (saved.layers.join() !== H.layers.join()) throw new Error(`${dir}: saved layers ${saved.layers.join('-')}, this job's are ${H.layers.join('-')}`);
    const f32 = (a: number[]) => Float32Array.from(a);
    const state: LearnerState = {
      online: f32(saved.online),
      target: f32(saved.target),
      adam: saved.adam && { iterations: saved.adam.iterations, m: f32(saved.adam.m), v: f32(saved.adam.v) },
    };
    await this.learner.setState(state);
    this.progress = saved.progress;
  }
}

const backend = await useBackend(backendName);
const replay = new ReplayBuffer({
  schema: replaySchema,
  maxSize: H.replaySize,
  batchSize: H.batchSize,
  seed,
  nStep: H.nStep,
  gamma: H.gamma,
  priority: H.priority,
  rateLimit: { minSize: H.warmup, samplesPerInsert: H.batchSize / H.trainEvery, tolerance: H.toleranceSteps * H.batchSize },
});
const users = DataUsersDict.fromDataBuffers({ experience: replay });
const user = users.get('experience') as Users['experience'];
const counters = new Int32Array(new SharedArrayBuffer(8));
let postParameters: (theta: Float32Array<ArrayBuffer>) => void = () => {};
const trainer = new DqnTrainer(
  () => Atomics.load(counters, 0),
  (theta) => postParameters(theta),
);
trainer.attachDataUsers(users);
const store = new StateStore(stateDir, { keep: 3, saveInterval: saveEvery * 1000 });
store.register('users', users);
store.register('trainer', trainer);
if (flags.resume) {
  const from = await store.loadLatest();
  const p = trainer.progress;
  console.log(
    from
      ? `resumed from ${from}: ${replay.size} steps held, ${p.gradientSteps} gradient steps, ${p.envSteps} env steps, ${p.episodes.length} episodes done`
      : `no saved state in ${stateDir}: starting afresh`,
  );
}
const progress = trainer.progress;
const startSteps = progress.envSteps;
Atomics.store(counters, 0, startSteps);

const reports = new MessageChannel();
const workerData: AgentWorkerData = {
  collector: user.collector.handle(),
  replay: replay.handle(),
  layers: H.layers,
  counters,
  startStep: startSteps,
  endStep: startSteps + maxSteps,
  maxLead: H.toleranceSteps * H.trainEvery,
  explorationSteps: H.explorationSteps,
  finalEpsilon: H.finalEpsilon,
  seed: seed + startSteps,
  stream: progress.runs++,
  theta: progress.gradientSteps > 0 ? trainer.learner.parameters() : undefined,
  report: reports.port2,
};
const agentThread = new Worker(new URL('./dqn/agent-worker.js', import.meta.url), { workerData, transferList: [reports.port2] });
postParameters = (theta) => agentThread.postMessage(theta, [theta.buffer]);
agentThread.on('error', (e) => {
  console.error('agent thread failed:', e);
  process.exit(1);
});
let agentTimings: AgentTimings | undefined;
/** Reads the agent's reports without yielding to the event loop. */
function readReports(): void {
  for (let m = receiveMessageOnPort(reports.port1); m !== undefined; m = receiveMessageOnPort(reports.port1)) {
    const r = m.message as AgentReport;
    if (r.kind === 'episode') progress.episodes.push({ step: r.envStep, value: r.episodeReturn });
    else agentTimings = r.timings;
  }
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const recentMean = () => mean(progress.episodes.slice(-20).map((p) => p.value));
const started = performance.now();
let lastReport = started;
let lastSteps = startSteps;
const live = process.stdout.isTTY && !flags.quiet;
const status = () => {
  const now = performance.now();
  const steps = Atomics.load(counters, 0);
  const rate = ((steps - lastSteps) * 1000) / Math.max(1, now - lastReport);
  lastReport = now;
  lastSteps = steps;
  const lastEval = progress.evaluations.at(-1);
  return (
    `${((now - started) / 1000).toFixed(0).padStart(4)}s | steps ${String(steps).padStart(6)} (${rate.toFixed(0).padStart(5)}/s) | ` +
    `replay ${String(replay.size).padStart(6)} | drops ${user.collector.droppedCount} | train ${String(progress.gradientSteps).padStart(5)} | ` +
    `loss ${trainer.loss.toFixed(3)} | episodes ${String(progress.episodes.length).padStart(4)} | mean return (last 20) ${recentMean().toFixed(1).padStart(5)}` +
    (lastEval ? ` | greedy ${lastEval.value.toFixed(0)} @ ${lastEval.step}` : '')
  );
};

console.log(`expbuf main job: double DQN on CartPole-v1, agent in a worker thread, trainer here; tfjs backend ${backend}`);
console.log(
  `replay: prioritized (α ${H.priority.alpha}), ${H.nStep}-step returns, ${H.batchSize / H.trainEvery} samples per inserted step; ` +
    `stops after ${maxSteps} env steps or ${maxSeconds} s; random play averages about 22, 475 counts as solved`,
);
let nextPrint = started + (live ? 500 : 10_000);
let nextEval = (Math.floor(startSteps / H.evalEvery) + 1) * H.evalEvery;
let lastSave = performance.now();
async function save(): Promise<string> {
  const t0 = performance.now();
  const dir = await store.save();
  trainer.timings.saving += performance.now() - t0;
  lastSave = performance.now();
  return dir;
}
let timedOut = false;
for (;;) {
  readReports();
  const finished = agentTimings !== undefined;
  const trained = !timedOut && (await trainer.run());
  // Done when the agent has taken its steps and the limiter grants no more samples.
  if (finished && !trained) break;
  // Else not trainable: the learner waits for the agent's next steps.
  if (!trained) await new Promise((r) => setTimeout(r, 1));
  if (!timedOut && performance.now() - started >= maxSeconds * 1000) {
    timedOut = true;
    Atomics.store(counters, 1, 1);
  }
  // The evaluation at the last step is the final one, after the loop.
  if (Atomics.load(counters, 0) >= nextEval && nextEval < startSteps + maxSteps) {
    trainer.evaluate();
    nextEval += H.evalEvery;
  }
  if (saveEvery > 0 && performance.now() - lastSave >= saveEvery * 1000) await save();
  if (performance.now() >= nextPrint) {
    if (live) process.stdout.write(`\r${status()}`);
    else console.log(status());
    nextPrint = performance.now() + (live ? 500 : 10_000);
  }
}
await agentThread.terminate();
const trainSeconds = (performance.now() - started) / 1000;
if (live) process.stdout.write('\n');
console.log(status());
const finalEval = trainer.evaluate();
const savedTo = await save();

const curve: LearningCurve = { episodes: progress.episodes, evaluations: progress.evaluations, window: 20, threshold: { value: 475, label: 'solved (475)' } };
const title = `DQN on CartPole-v1 (expbuf ReplayBuffer, tfjs ${backendName}), seed ${seed}: ${Atomics.load(counters, 0)} env steps`;
await writeFile(join(stateDir, 'learning-curve.svg'), learningCurveSvg(curve, { title, yMax: 500 }));
await writeFile(join(stateDir, 'learning-curve.csv'), learningCurveCsv(curve));

const secs = (performance.now() - started) / 1000;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const t = trainer.timings;
console.log(
  `\nsummary: ${Atomics.load(counters, 0) - startSteps} env steps this run (${Atomics.load(counters, 0)} in all) and ${progress.gradientSteps} gradient steps in all; ` +
    `training ${trainSeconds.toFixed(1)} s, ${secs.toFixed(1)} s with the final evaluation and save${timedOut ? ` (stopped by --seconds ${maxSeconds})` : ''}\n` +
    `episodes ${progress.episodes.length}, mean return of the last 20 ${recentMean().toFixed(1)}, queue drops ${user.collector.droppedCount}\n` +
    `greedy evaluations (mean of ${H.evalEpisodes} episodes) by env step: ${progress.evaluations.map((e) => `${e.step}: ${e.value.toFixed(0)}`).join(', ')}\n` +
    `trainer thread: network ${s(t.network)}, expbuf ${s(t.pipeline)} (update, canSample, sample, updatePriorities), evaluation ${s(t.evaluation)}, saving ${s(t.saving)}\n` +
    (agentTimings
      ? `agent thread: network ${s(agentTimings.network)}, expbuf ${s(agentTimings.pipeline)} (collect, canInsert), env ${s(agentTimings.env)}, paced by the limiter ${s(agentTimings.waiting)}\n`
      : '') +
    `state saved to ${savedTo} (continue with --resume); learning curve in ${join(stateDir, 'learning-curve.svg')} and .csv`,
);
user.close();
await replay.close();
console.log(`final greedy evaluation: mean return ${finalEval.toFixed(1)} over ${H.evalEpisodes} episodes`);
