import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runUntilKilled } from './support/kill.js';
import { SequentialBuffer } from '../ts/index.js';
import { crashReplay, crashSchema, ROUND_ROWS, rowValues } from './workers/saver.js';
import { setup } from './workers/trainer-saver.js';

const SAVER = fileURLToPath(new URL('../dist/__test__/workers/saver.js', import.meta.url));
const TRAINER = fileURLToPath(new URL('../dist/__test__/workers/trainer-saver.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'expbuf-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Loads `dir` into a new buffer of `kind`; returns the round of each row and its 16 values (or throws as the load does). */
async function loadRows(kind: 'buffer' | 'replay', dir: string): Promise<{ k: ArrayLike<number>; v: Float32Array; size: number }> {
  if (kind === 'buffer') {
    const b = new SequentialBuffer(crashSchema, 4 * ROUND_ROWS);
    await b.loadState(dir);
    const d = b.getData();
    return { k: d.k, v: d.v, size: b.size };
  }
  const rb = crashReplay();
  await rb.loadState(dir);
  const d = rb.getData();
  // A loaded replay buffer samples and takes priorities as before.
  const s = rb.sample(8);
  rb.updatePriorities(s.ids, [1, 2, 3, 4, 5, 6, 7, 8]);
  return { k: d.action, v: d.state, size: rb.size };
}

describe('crash safety', () => {
  for (const [kind, rounds] of [
    ['buffer', 100],
    ['replay', 50],
  ] as const) {
    it(`SIGKILL at random moments, ${rounds} times (${kind}): the newest complete state always loads whole`, async () => {
      let seed = 7;
      let sawSaves = 0;
      const base = join(root, kind);
      for (let round = 0; round < rounds; round++) {
        const dir = join(`${base}-${round % 4}`); // reuse directories: saves replace older states
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        const reported = await runUntilKilled(SAVER, [dir, kind], 80 + (seed % 400), /saved (\d+)/g, 0);
        let d: Awaited<ReturnType<typeof loadRows>>;
        try {
          d = await loadRows(kind, dir);
        } catch (e) {
          // Only possible when this directory never got a complete save.
          expect((e as { code?: string }).code).toBe('EXPBUF_CORRUPT_STATE');
          expect(reported).toBe(0);
          continue;
        }
        const loaded = d.k[d.size - 1];
        // The last save reported, or the one in flight whose commit landed before the kill.
        if (reported > 0) expect([reported, reported + 1]).toContain(loaded);
        if (reported > 0) sawSaves++;
        // And it holds exactly what that save held: rounds loaded-3..loaded, 500 rows each.
        const first = Math.max(1, loaded - 3);
        expect(d.size).toBe((loaded - first + 1) * ROUND_ROWS);
        for (let r = 0; r < d.size; r++) {
          const k = first + Math.floor(r / ROUND_ROWS);
          expect(d.k[r]).toBe(k);
          const want = rowValues(k, r % ROUND_ROWS);
          expect(Array.from(d.v.subarray(r * 16, r * 16 + 16))).toEqual(want.map(Math.fround));
        }
      }
      // Temporaries of killed saves are removed by the next save: at most the last
      // kill's per directory remain.
      const temps = readdirSync(root).filter((f) => f.startsWith(kind) && f.includes('.expbuf-tmp-'));
      expect(temps.length).toBeLessThanOrEqual(4);
      expect(sawSaves).toBeGreaterThan(rounds / 2);
    });
  }

  it('SIGKILL at random moments, 40 times (a Trainer and its DataUser in a StateStore): the newest complete state loads whole and consistent', async () => {
    let seed = 11;
    let sawSaves = 0;
    const dir = join(root, 'trainer');
    let last = 0;
    for (let round = 0; round < 40; round++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const reported = await runUntilKilled(TRAINER, [join(dir, String(round % 2))], 150 + (seed % 400), /saved (\d+)/g, 0);
      const { user, trainer, store } = setup(join(dir, String(round % 2)));
      const loaded = await store.loadLatest();
      if (loaded === undefined) {
        expect(reported).toBe(0);
        continue;
      }
      sawSaves++;
      // The user's rows, queued rows and the trainer's count are of one and the same round.
      user.update();
      const k = user.buffer.getData().k;
      const K = k[k.length - 1];
      if (reported > 0) expect([reported, reported + 1]).toContain(K);
      expect(k.length).toBe(100 * K);
      for (let i = 0; i < k.length; i++) expect(k[i]).toBe(Math.floor(i / 100) + 1);
      expect(trainer.trained).toBe(K);
      // Nothing new since the last training: the restored condition agrees.
      expect(trainer.isTrainable()).toBe(false);
      user.close();
      last = K;
    }
    expect(sawSaves).toBeGreaterThan(20);
    expect(last).toBeGreaterThan(0);
  });
});
