import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runUntilKilled } from './support/kill.js';
import { openPool } from '../ts/index.js';
import { writerEpisode, writerSchema } from './workers/pool-writer.js';

const WRITER = fileURLToPath(new URL('../dist/__test__/workers/pool-writer.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'expbuf-pool-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('embedded pool crash safety', () => {
  it('SIGKILL during store, 100 times: every acknowledged item is there, whole; no call half applied', async () => {
    const dir = join(root, 'pool');
    let acked = 0; // calls 1..acked were acknowledged
    let landedCalls = 0; // calls in the pool
    let seed = 11;
    for (let round = 0; round < 100; round++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      // The writer continues after every call that landed, so ids never repeat.
      const start = landedCalls + 1;
      acked = await runUntilKilled(WRITER, [dir, String(start)], 60 + (seed % 300), /stored (\d+)/g, start - 1);
      await using pool = await openPool(dir, { schema: writerSchema });
      // Acknowledged calls are there with all 4 episodes; the call in flight is there
      // whole or not at all; nothing else is.
      for (let k = start; k <= acked; k++) expect(await pool.count({ meta: { call: k } }), `acknowledged call ${k}`).toBe(4);
      const inFlight = await pool.count({ meta: { call: acked + 1 } });
      expect([0, 4]).toContain(inFlight);
      landedCalls = acked + (inFlight === 4 ? 1 : 0);
      expect(await pool.count()).toBe(4 * landedCalls);
      // The newest calls' steps are exactly what was stored.
      for (const it of await pool.find({ meta: { call: landedCalls } })) {
        const want = writerEpisode(Number(it.meta.call), Number(it.meta.j));
        expect(it.kind === 'episode' && Array.from(it.steps.v)).toEqual(Array.from(want.steps.v));
      }
    }
    expect(landedCalls).toBeGreaterThan(100);
  }, 600_000);
});
