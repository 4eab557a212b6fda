import { ReplayBuffer } from 'expbuf';
import { CartPole } from '../envs/cartpole.js';

const schema = { state: { dtype: 'float32', shape: [4] }, action: 'int32', reward: 'float32' } as const;
const rb = new ReplayBuffer({ schema, maxSize: 100_000, seed: 1 });
// #region readme
const N = 8;
const envs = Array.from({ length: N }, (_, e) => new CartPole(e));
const obs = new Float32Array(4 * N);
for (let e = 0; e < N; e++) obs.set(envs[e].reset(), 4 * e);
const nextObs = new Float32Array(4 * N);
const actions = new Int32Array(N);
const rewards = new Float32Array(N);
const terminated = new Uint8Array(N);
const truncated = new Uint8Array(N);
const env = Uint32Array.from({ length: N }, (_, e) => e);
for (let t = 0; t < 1_000; t++) {
  envs.forEach((cart, e) => {
    actions[e] = Math.random() < 0.5 ? 0 : 1;
    const r = cart.step(actions[e]);
    nextObs.set(r.observation, 4 * e);       // the observation the action led to, before any reset
    rewards[e] = r.reward;
    terminated[e] = Number(r.done);
    truncated[e] = Number(r.truncated);
  });
  // One call per vector step; `env` tells the streams apart.
  rb.addBatch({ state: obs, action: actions, reward: rewards, nextState: nextObs, terminated, truncated, env });
  for (let e = 0; e < N; e++) obs.set(terminated[e] || truncated[e] ? envs[e].reset() : nextObs.subarray(4 * e, 4 * e + 4), 4 * e);
}
// #endregion readme
console.log(`held ${rb.size} steps of ${rb.stats.episodes} episodes across ${N} envs`);
