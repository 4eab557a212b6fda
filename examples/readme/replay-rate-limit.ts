import { ReplayBuffer } from 'expbuf';

const schema = { state: { dtype: 'float32', shape: [4] }, action: 'int32', reward: 'float32' } as const;
let t = 0;
const step = () => ({ state: [t, 0, 0, 0], action: 0, reward: 1, nextState: [++t, 0, 0, 0], terminated: t % 100 === 0 });
// #region readme
const rb = new ReplayBuffer({ schema, maxSize: 1_000_000, batchSize: 256,
  rateLimit: { minSize: 1000, samplesPerInsert: 8, tolerance: 4096 } });
// learner: waits, without blocking its event loop, for inserts from any thread
async function learner(batches: number): Promise<void> {
  for (let i = 0; i < batches; i++) {
    const batch = await rb.sampleAsync(256, { timeoutMs: 10_000 });
    void batch;                          // train on it
  }
}
// actor: slows down when the learner falls behind (inserts are never refused)
async function actor(until: () => boolean): Promise<void> {
  while (!until()) {
    if (!rb.canInsert()) await rb.insertAllowed({ timeoutMs: 10_000 });
    rb.add(step());
    if (t % 64 === 0) await new Promise((r) => setImmediate(r));   // an env step's own await
  }
}
let learned = false;
await Promise.all([learner(200).then(() => (learned = true)), actor(() => learned)]);
// #endregion readme
const { inserted, sampled } = rb.stats;
console.log(`inserted ${inserted}, sampled ${sampled}: ${(sampled / (inserted - 1000)).toFixed(1)} samples per insert beyond minSize`);
