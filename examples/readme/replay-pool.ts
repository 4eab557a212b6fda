import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPool, ReplayBuffer } from 'expbuf';

const where = mkdtempSync(join(tmpdir(), 'expbuf-readme-'));
const schema = { state: { dtype: 'float32', shape: [2] }, action: 'int32', reward: 'float32' } as const;
const pool = await openPool(join(where, 'pool'), { schema });
await pool.store([{ meta: { vehicle: 'v1' }, steps: { state: [0, 0, 1, 0], action: [1, 1], reward: [1, 1] }, terminated: true }]);
const steps = { state: [5, 0, 6, 0, 7, 0], action: [0, 0, 1], reward: [1, 1, 1] };
const finalState = [8, 0];
// #region readme
await using rb = new ReplayBuffer({ pool, maxSize: 1_000_000, nStep: 3 });
const read = await rb.load({ meta: { vehicle: 'v1' } });   // streams matching episodes in; resolves to the steps read
await rb.store({ steps, finalState, terminated: false });  // into the pool (durably) and memory
await rb.find({ seqLen: { min: 10 } });
// #endregion readme
console.log(`read ${read} steps; holding ${rb.size} steps of ${rb.stats.episodes} episodes`);
await rb.close();
rmSync(where, { recursive: true, force: true });
