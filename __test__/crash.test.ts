import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runUntilKilled } from './support/kill.js';
import { SequentialBuffer } from '../ts/index.js';
import { crashSchema, ROUND_ROWS, rowValues } from './workers/saver.js';

const SAVER = fileURLToPath(new URL('../dist/__test__/workers/saver.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'expbuf-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('crash safety', () => {
  it('SIGKILL at random moments, 100 times: the newest complete state always loads whole', async () => {
    let seed = 7;
    let kills = 0;
    let sawSaves = 0;
    for (let round = 0; round < 100; round++) {
      const dir = join(root, `state-${round % 4}`); // reuse directories: saves replace older states
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const reported = await runUntilKilled(SAVER, [dir], 80 + (seed % 400), /saved (\d+)/g, 0);
      kills++;
      const b = new SequentialBuffer(crashSchema, 4 * ROUND_ROWS);
      let loaded: number;
      try {
        await b.loadState(dir);
        const k = b.getData().k;
        loaded = k[k.length - 1];
      } catch (e) {
        // Only possible when this directory never got a complete save.
        expect((e as { code?: string }).code).toBe('EXPBUF_CORRUPT_STATE');
        expect(reported).toBe(0);
        continue;
      }
      // The last save reported, or the one in flight whose commit landed before the kill.
      if (reported > 0) expect([reported, reported + 1]).toContain(loaded);
      if (reported > 0) sawSaves++;
      // And it holds exactly what that save held: rounds loaded-3..loaded, 500 rows each.
      const d = b.getData();
      const first = Math.max(1, loaded - 3);
      expect(b.size).toBe((loaded - first + 1) * ROUND_ROWS);
      for (let r = 0; r < b.size; r++) {
        const k = first + Math.floor(r / ROUND_ROWS);
        expect(d.k[r]).toBe(k);
        const want = rowValues(k, r % ROUND_ROWS);
        expect(Array.from(d.v.subarray(r * 16, r * 16 + 16))).toEqual(want.map(Math.fround));
      }
    }
    expect(kills).toBe(100);
    // Temporaries of killed saves are removed by the next save: at most the last
    // kill's per directory remain.
    const temps = readdirSync(root).filter((f) => f.includes('.expbuf-tmp-'));
    expect(temps.length).toBeLessThanOrEqual(4);
    expect(sawSaves).toBeGreaterThan(50);
  });
});
