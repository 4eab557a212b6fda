import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportParquet, importParquet, openPool } from 'expbuf';

const where = mkdtempSync(join(tmpdir(), 'expbuf-readme-'));
process.chdir(where);
const schema = { state: { dtype: 'float32', shape: [2] }, action: 'int32', reward: 'float32' } as const;
const pool = await openPool('./pool', { schema });
const otherPool = await openPool('./other', { schema });
await pool.store([
  { meta: { vehicle: 'v1', driver: 'd7' }, steps: { state: [0, 0, 1, 0], action: [1, 0], reward: [1, 1] }, finalState: [2, 0], terminated: false },
  { meta: { vehicle: 'v2', driver: 'd7' }, steps: { state: [5, 5], action: [1], reward: [0] } },
]);
// #region readme
await exportParquet(pool, './runs.parquet', { query: { meta: { driver: 'd7' } }, partitionBy: ['vehicle'] });
await importParquet('./runs.parquet', otherPool);   // same ids, meta, times, steps, terminated, finalState
// #endregion readme
console.log(`imported ${await otherPool.count()} items`);
await pool.close();
await otherPool.close();
process.chdir(tmpdir());
rmSync(where, { recursive: true, force: true });
