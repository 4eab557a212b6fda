/**
 * The processes of the follow test (and of examples/pool-follow.ts):
 *   producer <url> <p> <rows> <batch>  stores records { p, s } for s = 0..rows-1
 *   learner <url> <stateDir> <total> [perPull]
 *                                      follows the pool, saving its state after every
 *                                      pull (of at most `perPull` items, when given),
 *                                      until its buffer holds `total` rows; then
 *                                      prints {"size","unique"} and exits
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataUser, openPool, SequentialBuffer } from '../../ts/index.js';

export const followSchema = { p: 'uint8', s: 'uint32' } as const;

const [role, url, a, b, c] = process.argv.slice(2);
if (process.argv[1]?.endsWith('follow-roles.js')) {
  if (role === 'producer') {
    const [p, rows, batch] = [Number(a), Number(b), Number(c)];
    await using pool = await openPool(url, { schema: followSchema });
    for (let s = 0; s < rows; s += batch) {
      const n = Math.min(batch, rows - s);
      await pool.store(Array.from({ length: n }, (_, i) => ({ id: `${p}-${s + i}`, step: { p, s: s + i } })));
    }
  } else if (role === 'learner') {
    const [stateDir, total, perPull] = [a, Number(b), c === undefined ? undefined : Number(c)];
    await using pool = await openPool(url, { schema: followSchema });
    const buffer = new SequentialBuffer(followSchema, total + 1000);
    const user = new DataUser(buffer, { maxQueueSize: 5000 });
    const state = join(stateDir, 'learner');
    if (existsSync(state)) await user.loadState(state);
    // A query limit caps what one pull moves.
    user.follow(pool, { pageSize: 2000, ...(perPull === undefined ? {} : { query: { limit: perPull } }) });
    while (buffer.size < total) {
      const rows = await user.pull();
      await user.saveState(state);
      process.stdout.write(`at ${buffer.size} cursor ${user.cursor}\n`);
      if (rows === 0) await new Promise((r) => setTimeout(r, 20));
    }
    const d = buffer.getData();
    const keys = new Set<number>();
    for (let i = 0; i < d.p.length; i++) keys.add(d.p[i] * 1e7 + d.s[i]);
    process.stdout.write(`${JSON.stringify({ size: buffer.size, unique: keys.size })}\n`);
    user.close();
    buffer.close();
  }
}
