/**
 * Child process of the crash test: saves a buffer to argv[2] over and over; before
 * save k the buffer holds the rows of rounds k-3..k (500 rows each), so a loaded state
 * says which save it is. Prints "saved k" after each save returns.
 */
import { SequentialBuffer } from '../../ts/index.js';

export const crashSchema = { k: 'uint32', v: { dtype: 'float32', shape: [16] } } as const;
export const ROUND_ROWS = 500;

/** Row i of round k. */
export function rowValues(k: number, i: number): number[] {
  return Array.from({ length: 16 }, (_, j) => k * 1000 + i + j / 16);
}

const dir = process.argv[2];
if (dir !== undefined && process.argv[1]?.endsWith('saver.js')) {
  const b = new SequentialBuffer(crashSchema, 4 * ROUND_ROWS);
  for (let k = 1; ; k++) {
    const v = new Float32Array(ROUND_ROWS * 16);
    for (let i = 0; i < ROUND_ROWS; i++) v.set(rowValues(k, i), i * 16);
    b.addBatch({ k: new Uint32Array(ROUND_ROWS).fill(k), v });
    await b.saveState(dir);
    process.stdout.write(`saved ${k}\n`);
  }
}
