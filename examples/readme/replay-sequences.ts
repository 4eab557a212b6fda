import { ReplayBuffer } from 'expbuf';

const schema = { state: { dtype: 'float32', shape: [4] }, action: 'int32', reward: 'float32' } as const;
const rb = new ReplayBuffer({ schema, maxSize: 10_000, seed: 1 });
for (let t = 0; t < 2_000; t++) {
  const state = [t % 50, 0, 0, 0];
  rb.add({ state, action: 0, reward: 1, nextState: [(t % 50) + 1, 0, 0, 0], terminated: t % 50 === 49, env: 0 });
}
// #region readme
const seq = rb.sampleSequences(32, 16);   // every field [32, 16, ...shape], mask [32, 16], ids [32]
const eps = rb.sampleEpisodes(8);         // every field [8, T, ...shape], mask, lengths, terminated, finalState
// #endregion readme
const real = seq.mask.reduce((a, m) => a + m, 0);
console.log(`${real} of ${seq.mask.length} sequence cells are steps; episodes of ${eps.T} steps`);
