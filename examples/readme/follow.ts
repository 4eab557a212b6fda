import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataUser, openPool, SequentialBuffer } from 'expbuf';

const where = mkdtempSync(join(tmpdir(), 'expbuf-readme-'));
const schema = { state: { dtype: 'float32', shape: [2] }, action: 'int32', reward: 'float32' } as const;
const pool = await openPool(join(where, 'pool'), { schema });
const user = new DataUser(new SequentialBuffer(schema, 1000));
const dir = join(where, 'learner');
// A collector elsewhere stores episodes; here, the same process does.
await pool.store([{ steps: { state: [0, 0, 1, 1], action: [0, 1], reward: [1, 1] } }]);
// #region readme
user.follow(pool);            // once
await user.pull();            // moves items stored since user.cursor into the buffer
await user.saveState(dir);    // the cursor is saved with the buffer
// #endregion readme
console.log(`held ${user.size} rows, cursor ${user.cursor}`);
user.close();
await pool.close();
rmSync(where, { recursive: true, force: true });
