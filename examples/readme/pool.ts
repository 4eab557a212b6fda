import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPool } from 'expbuf';

const where = mkdtempSync(join(tmpdir(), 'expbuf-readme-'));
const schema = { state: { dtype: 'float32', shape: [2] }, action: 'int32', reward: 'float32' } as const;
const state = new Float32Array([0, 0, 0.1, 0, 0.2, 0]);
const action = new Int32Array([1, 0, 1]);
const reward = new Float32Array([1, 1, 1]);
const t0 = Date.now() - 1000;
// #region readme
await using pool = await openPool(join(where, 'experience'), { schema });   // embedded, no server
// or: await openPool('postgres://user@host:5432/db?pool=runs', { schema }) (needs `pg`)
// or: await openPool('mongodb://user@host:27017/db?pool=runs', { schema }) (needs `mongodb`)
const [id] = await pool.store([{ meta: { vehicle: 'v1' }, steps: { state, action, reward }, terminated: false, finalState: [0.3, 0] }]);
await pool.find({ meta: { vehicle: 'v1' }, seqLen: { min: 2 }, limit: 100 });
await pool.count({ kind: 'record', timestamp: { from: t0 } });
await pool.sample(32, { query: { meta: { vehicle: 'v1' } } });
await pool.delete(id);
// #endregion readme
console.log(`${await pool.count()} items left`);
await pool.close();
rmSync(where, { recursive: true, force: true });
