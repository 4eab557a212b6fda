/**
 * The inference thread of the main job: an Agent plays CartPole ε-greedily on the latest
 * Q-network parameters the trainer posted and collects every step (state, action,
 * reward, next state, terminated, truncated) through a DataCollector made from a handle.
 * It is paced by the replay buffer's rate limiter: before each step it checks
 * `canInsert()` on the same ReplayBuffer (attached from a handle) and, when the learner
 * has fallen behind, awaits `insertAllowed()`, which the learner's samples resolve.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Agent, DataCollector, DataCollectorsDict, ReplayBuffer, type CollectorHandle, type ReplayBufferHandle, type ReplayStep } from '../../ts/index.js';
import { CartPole, type replaySchema } from '../envs/cartpole.js';
import { Mlp, type Layers } from './mlp.js';

export type CartPoleStep = ReplayStep<typeof replaySchema>;

export interface AgentWorkerData {
  collector: CollectorHandle<CartPoleStep>;
  replay: ReplayBufferHandle<ReplayBuffer<typeof replaySchema>>;
  layers: Layers;
  /** [0]: env steps done in all (written here), [1]: stop now (written by the trainer). */
  counters: Int32Array;
  /** Env steps done before this run, and where this run stops. */
  startStep: number;
  endStep: number;
  /** Most of this run's steps that may be collected but not yet in the replay buffer. */
  maxLead: number;
  /** ε falls linearly from 1 to finalEpsilon over the first explorationSteps env steps. */
  explorationSteps: number;
  finalEpsilon: number;
  seed: number;
  /**
   * The replay stream (`env`) of this run's episodes: a resumed run starts a new one,
   * so its first episode is not linked to the episode the previous run left open.
   */
  stream: number;
  /** Parameters to act on from the first step (a resumed run); else random play until the first post. */
  theta?: Float32Array;
  /** Episode returns and the final timings go here (the trainer reads it without yielding). */
  report: MessagePort;
}

/** What the agent thread reports. */
export type AgentReport = { kind: 'episode'; envStep: number; episodeReturn: number } | { kind: 'finished'; timings: AgentTimings };

/** Milliseconds the agent thread spent, by activity. */
export interface AgentTimings {
  /** `collect` and the rate limiter's `canInsert`: expbuf's share. */
  pipeline: number;
  /** Forward passes. */
  network: number;
  env: number;
  /** Awaiting `insertAllowed()` (the learner is behind) and yielding for new weights. */
  waiting: number;
}

type Collectors = { experience: DataCollector<CartPoleStep> };

class CartPoleAgent extends Agent<Float32Array, number, Collectors> {
  theta: Float32Array | undefined;
  epsilon = 1;
  collector!: DataCollector<CartPoleStep>;
  readonly #mlp: Mlp;
  #rng: number;

  constructor(layers: Layers, seed: number) {
    super();
    this.#mlp = new Mlp(layers);
    this.#rng = (Math.imul(seed, 2654435761) + 1) >>> 0;
  }

  override onDataCollectorsAttached(): void {
    this.collector = this.getDataCollector('experience');
  }

  #random(): number {
    this.#rng = (Math.imul(this.#rng, 1664525) + 1013904223) >>> 0;
    return this.#rng / 4294967296;
  }

  step(obs: Float32Array): number {
    if (this.theta === undefined || this.#random() < this.epsilon) return this.#random() < 0.5 ? 0 : 1;
    return this.#mlp.greedy(this.theta, obs);
  }
}

const data = workerData as AgentWorkerData;
const port = parentPort;
if (port === null) throw new Error('agent-worker runs as a worker');
const agent = new CartPoleAgent(data.layers, data.seed);
agent.theta = data.theta;
const collectors = new DataCollectorsDict<Collectors>();
collectors.set('experience', DataCollector.fromHandle(data.collector));
agent.attachDataCollectors(collectors);
const replay = ReplayBuffer.fromHandle(data.replay);
port.on('message', (theta: Float32Array) => {
  agent.theta = theta;
});

const timings: AgentTimings = { pipeline: 0, network: 0, env: 0, waiting: 0 };
const env = new CartPole(data.seed);
let state = env.reset();
let episodeReturn = 0;
let clock = performance.now();
/** Adds the time since the last call to `what`. */
const spend = (what: keyof AgentTimings): void => {
  const t = performance.now();
  timings[what] += t - clock;
  clock = t;
};
const stopped = (): boolean => Atomics.load(data.counters, 1) !== 0;
const insertedBefore = replay.stats.inserted;
for (let t = data.startStep; t < data.endStep && !stopped(); t++) {
  // The limiter counts a step once the trainer's update() has moved it from the queue
  // into the buffer. So that its view is never stale by more than maxLead steps (the
  // trainer may be busy, e.g. evaluating, and not update for a while), the agent also
  // waits while more of its steps than that are still queued.
  if (t - data.startStep - (replay.stats.inserted - insertedBefore) > data.maxLead) {
    while (t - data.startStep - (replay.stats.inserted - insertedBefore) > data.maxLead && !stopped()) await new Promise((r) => setTimeout(r, 1));
    spend('waiting');
  }
  let allowed = replay.canInsert();
  spend('pipeline');
  if (!allowed) {
    // Woken by the learner's samples; the timeout only lets a stop be seen.
    while (!allowed && !stopped())
      allowed = await replay.insertAllowed({ timeoutMs: 100 }).then(
        () => true,
        () => false,
      );
    spend('waiting');
  } else if (t % 64 === 0) {
    // Now and then a macrotask, so posted weights arrive while the limiter lets us run.
    await new Promise((r) => setImmediate(r));
    spend('waiting');
  }
  agent.epsilon = Math.max(data.finalEpsilon, 1 - (t * (1 - data.finalEpsilon)) / data.explorationSteps);
  const action = agent.step(state);
  spend('network');
  const { observation, reward, done, truncated } = env.step(action);
  spend('env');
  agent.collector.collect({ state, action, reward, nextState: observation, terminated: done, truncated, env: data.stream });
  spend('pipeline');
  episodeReturn += reward;
  state = observation;
  Atomics.store(data.counters, 0, t + 1);
  if (done || truncated) {
    data.report.postMessage({ kind: 'episode', envStep: t + 1, episodeReturn } satisfies AgentReport);
    episodeReturn = 0;
    state = env.reset();
  }
}
// Hands the staged steps to the queue before saying so.
agent.collector.close();
await replay.close();
spend('pipeline');
data.report.postMessage({ kind: 'finished', timings } satisfies AgentReport);
