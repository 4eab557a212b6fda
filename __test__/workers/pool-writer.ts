/**
 * Child process of the pool crash test: opens the embedded pool at argv[2] and stores
 * batches forever. Call k stores episodes `k-0` … `k-3` (values encode k and the
 * episode's index); "stored k" is printed once the call resolved (acknowledged).
 */
import { openPool } from '../../ts/index.js';

export const writerSchema = { v: { dtype: 'float32', shape: [8] }, k: 'int32' } as const;

/** Episode `j` of call `k`: 5 + j steps. */
export function writerEpisode(k: number, j: number) {
  const n = 5 + j;
  return {
    id: `${k}-${j}`,
    meta: { call: k, j },
    steps: {
      v: Float32Array.from({ length: n * 8 }, (_, i) => k * 1000 + j * 100 + i),
      k: new Int32Array(n).fill(k),
    },
  };
}

const [dir, start] = process.argv.slice(2);
if (dir !== undefined && process.argv[1]?.endsWith('pool-writer.js')) {
  process.stdout.write('ready\n');
  const pool = await openPool(dir, { schema: writerSchema });
  for (let k = Number(start); ; k++) {
    await pool.store([0, 1, 2, 3].map((j) => writerEpisode(k, j)));
    process.stdout.write(`stored ${k}\n`);
  }
}
