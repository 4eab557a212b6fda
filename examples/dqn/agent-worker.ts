/**
 * The inference thread of the main job: an Agent plays CartPole with the latest Q-network
 * weights and collects every transition through a DataCollector made from a handle.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Agent, DataCollector, DataCollectorsDict, type CollectorHandle, type StepOf } from '../../ts/index.js';
import { CartPole, transitionSchema } from '../envs/cartpole.js';
import { forward, scratchFor, type Weights } from './mlp.js';

export interface AgentWorkerData {
  handle: CollectorHandle<Transition>;
  /** [0]: env steps done (written here), [1]: gradient steps done (written by the trainer), [2]: stop flag. */
  counters: Int32Array;
  /** Env steps allowed per gradient step once warm-up is over (replay ratio). */
  stepsPerTrain: number;
  warmup: number;
  epsilonSteps: number;
  seed: number;
  /** Env steps done before this run (a resumed run continues the exploration schedule). */
  startStep: number;
  /** Weights to act on from the first step (a resumed run). */
  weights?: Weights;
}

export type Transition = StepOf<typeof transitionSchema>;
type Collectors = { experience: DataCollector<Transition> };

class CartPoleAgent extends Agent<Float32Array, number, Collectors> {
  weights: Weights | undefined;
  epsilon = 1;
  private collector!: DataCollector<Transition>;
  private readonly scratch = scratchFor();
  private rng: number;

  constructor(seed: number) {
    super();
    this.rng = seed * 2654435761 + 1;
  }

  override onDataCollectorsAttached(): void {
    this.collector = this.getDataCollector('experience');
  }

  private random(): number {
    this.rng = (Math.imul(this.rng, 1664525) + 1013904223) >>> 0;
    return this.rng / 4294967296;
  }

  step(obs: Float32Array): number {
    if (this.weights === undefined || this.random() < this.epsilon) return this.random() < 0.5 ? 0 : 1;
    const q = forward(this.weights, obs, this.scratch);
    return q[1] > q[0] ? 1 : 0;
  }

  record(t: Transition): void {
    this.collector.collect(t);
  }
}

const data = workerData as AgentWorkerData;
const port = parentPort;
if (port === null) throw new Error('agent-worker runs as a worker');
const agent = new CartPoleAgent(data.seed);
agent.weights = data.weights;
const collectors = new DataCollectorsDict<Collectors>();
collectors.set('experience', DataCollector.fromHandle(data.handle));
agent.attachDataCollectors(collectors);
port.on('message', (w: Weights) => {
  agent.weights = w;
});

const env = new CartPole(data.seed);
const c = data.counters;
let obs = env.reset();
let ret = 0;
for (let t = data.startStep; Atomics.load(c, 2) === 0; t++) {
  // Pace to the learner: at most warmup + stepsPerTrain × gradient steps.
  while (t >= data.warmup + data.stepsPerTrain * Atomics.load(c, 1) && Atomics.load(c, 2) === 0) {
    await new Promise((r) => setTimeout(r, 1));
  }
  agent.epsilon = Math.max(0.05, 1 - t / data.epsilonSteps);
  const action = agent.step(obs);
  const { observation, reward, done, truncated } = env.step(action);
  agent.record({ obs, action, reward, nextObs: observation, done: done ? 1 : 0 });
  ret += reward;
  obs = observation;
  Atomics.store(c, 0, t + 1);
  if (done || truncated) {
    port.postMessage({ episodeReturn: ret });
    ret = 0;
    obs = env.reset();
  }
  // Yield now and then: staged rows reach the queue and new weights arrive.
  if (t % 64 === 0) await new Promise((r) => setImmediate(r));
}
collectors.get('experience')?.close();
port.postMessage({ finished: true });
