/**
 * Child process of the crash test: saves a buffer (argv[3] `buffer`, a
 * SequentialBuffer, or `replay`, a prioritized ReplayBuffer) to argv[2] over and
 * over; before save k it holds the rows of rounds k-3..k (500 rows each), so a loaded
 * state says which save it is. Prints "saved k" after each save returns.
 */
import { ReplayBuffer, SequentialBuffer } from '../../ts/index.js';

export const crashSchema = { k: 'uint32', v: { dtype: 'float32', shape: [16] } } as const;
/** The replay variant: one 500-step episode per round, state = row values, action = k, reward = i. */
export const crashReplaySchema = { state: { dtype: 'float32', shape: [16] }, action: 'uint32', reward: 'float32' } as const;
export const ROUND_ROWS = 500;

/** Row i of round k. */
export function rowValues(k: number, i: number): number[] {
  return Array.from({ length: 16 }, (_, j) => k * 1000 + i + j / 16);
}

/** The replay buffer the saver saves and the test loads into. */
export function crashReplay(): ReplayBuffer<typeof crashReplaySchema> {
  return new ReplayBuffer({ schema: crashReplaySchema, maxSize: 4 * ROUND_ROWS, seed: 1, priority: { alpha: 0.6 } });
}

/** Round k's rows as columns: `v` (16 floats per row), and the same values one row later. */
function round(k: number): { v: Float32Array; next: Float32Array } {
  const v = new Float32Array(ROUND_ROWS * 16);
  const next = new Float32Array(ROUND_ROWS * 16);
  for (let i = 0; i < ROUND_ROWS; i++) {
    v.set(rowValues(k, i), i * 16);
    next.set(rowValues(k, i + 1), i * 16);
  }
  return { v, next };
}

const dir = process.argv[2];
if (dir !== undefined && process.argv[1]?.endsWith('saver.js')) {
  process.stdout.write('ready\n');
  if (process.argv[3] === 'replay') {
    const rb = crashReplay();
    for (let k = 1; ; k++) {
      const { v, next } = round(k);
      const end = new Uint8Array(ROUND_ROWS);
      end[ROUND_ROWS - 1] = 1;
      rb.addBatch({
        state: v,
        action: new Uint32Array(ROUND_ROWS).fill(k),
        reward: Float32Array.from({ length: ROUND_ROWS }, (_, i) => i),
        nextState: next,
        terminated: end,
      });
      const s = rb.sample(64);
      rb.updatePriorities(
        s.ids,
        Float64Array.from(s.ids, (id) => id % 5),
      );
      await rb.saveState(dir);
      process.stdout.write(`saved ${k}\n`);
    }
  } else {
    const b = new SequentialBuffer(crashSchema, 4 * ROUND_ROWS);
    for (let k = 1; ; k++) {
      b.addBatch({ k: new Uint32Array(ROUND_ROWS).fill(k), v: round(k).v });
      await b.saveState(dir);
      process.stdout.write(`saved ${k}\n`);
    }
  }
}
