// #region readme
import { ReplayBuffer, type TransitionBatch } from 'expbuf';
import { CartPole } from '../envs/cartpole.js';

const schema = { state: { dtype: 'float32', shape: [4] }, action: 'int32', reward: 'float32' } as const;
const rb = new ReplayBuffer({
  schema,
  maxSize: 100_000, batchSize: 64, seed: 1,
  nStep: 3, gamma: 0.99,
  priority: { alpha: 0.6, beta: 0.4 },
});

// A linear Q-function keeps the example short (examples/online-learning.ts trains a network).
const w = [new Float64Array(5), new Float64Array(5)];
const q = (s: ArrayLike<number>, at: number, a: number) => w[a][4] + w[a][0] * s[at] + w[a][1] * s[at + 1] + w[a][2] * s[at + 2] + w[a][3] * s[at + 3];
/** One SGD step on the importance-weighted n-step TD errors; returns their absolute values. */
function learn(b: TransitionBatch<typeof schema>): Float32Array {
  const errors = new Float32Array(b.ids.length);
  for (let i = 0; i < b.ids.length; i++) {
    const next = Math.max(q(b.nextState, 4 * i, 0), q(b.nextState, 4 * i, 1));
    const target = b.reward[i] + b.discount[i] * (1 - b.done[i]) * next;   // truncation bootstraps: done is 0
    const delta = target - q(b.state, 4 * i, b.action[i]);
    const step = 1e-3 * b.weights[i] * delta;
    for (let k = 0; k < 4; k++) w[b.action[i]][k] += step * b.state[4 * i + k];
    w[b.action[i]][4] += step;
    errors[i] = Math.abs(delta);
  }
  return errors;
}

const env = new CartPole(1);
let state = env.reset();
const steps = 5_000;
for (let step = 0; step < steps; step++) {
  const action = Math.random() < 0.1 ? (Math.random() < 0.5 ? 0 : 1) : Number(q(state, 0, 1) > q(state, 0, 0));
  const { observation: nextState, reward, done: terminated, truncated } = env.step(action);
  rb.add({ state, action, reward, nextState, terminated, truncated });
  state = terminated || truncated ? env.reset() : nextState;
  if (rb.canSample()) {
    const b = rb.sample();            // { state, action, reward, nextState, done, discount, ids, weights }
    rb.updatePriorities(b.ids, learn(b));
    rb.beta = Math.min(1, 0.4 + (0.6 * step) / steps);
  }
}
// #endregion readme
console.log(`held ${rb.size} steps of ${rb.stats.episodes} episodes; sampled ${rb.stats.sampled}`);
