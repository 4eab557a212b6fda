import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DataUser, openPool, SequentialBuffer } from '../ts/index.js';
import { followSchema } from './workers/follow-roles.js';

const ROLES = fileURLToPath(new URL('../dist/__test__/workers/follow-roles.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'expbuf-follow-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function start(args: string[]): { child: ChildProcess; out: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [ROLES, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
  const done = new Promise<number | null>((resolve, reject) =>
    child.on('exit', (code, signal) => (signal === 'SIGKILL' || code === 0 ? resolve(code) : reject(new Error(`${args[0]} failed (${code}): ${err}`)))),
  );
  return { child, out: () => out, done };
}

const backends = [
  { name: 'PostgreSQL', url: () => `${inject('pgUrl')}?pool=follow_${process.pid}`, rows: 100_000, perPull: [] as string[] },
  // FerretDB, the tests' MongoDB server, answers every query by a pass over the whole
  // collection (no index is used), so a page costs as much as all rows: fewer rows, and
  // the learner pulls a page at a time to save its state often enough to be killed
  // between saves.
  { name: 'MongoDB', url: () => `${inject('mongoUrl')}?pool=follow_${process.pid}`, rows: 10_000, perPull: ['2000'] },
];

for (const backend of backends) {
  describe(`a DataUser following a ${backend.name} pool`, () => {
    const total = 3 * backend.rows;
    it(`3 producer processes × ${backend.rows.toLocaleString('en')} rows; the learner killed and restarted twice; each row held exactly once`, async () => {
      const url = backend.url();
      const producers = [0, 1, 2].map((p) => start(['producer', url, String(p), String(backend.rows), '1000']));
      const stateDir = join(root, backend.name);
      mkdirSync(stateDir);
      const learnerArgs = ['learner', url, stateDir, String(total), ...backend.perPull];
      let learner = start(learnerArgs);
      for (let kill = 0; kill < 2; kill++) {
        // Let it pull and save a while, then SIGKILL it and start it again from its state.
        for (let i = 0; i < 200 && !/at [1-9]/.test(learner.out()); i++) await new Promise((r) => setTimeout(r, 25));
        await new Promise((r) => setTimeout(r, 300 + kill * 400));
        learner.child.kill('SIGKILL');
        expect(await learner.done).toBeNull(); // killed, not finished
        const seen = [...learner.out().matchAll(/at (\d+)/g)].map((m) => Number(m[1]));
        // It was killed mid-way: it had pulled rows, but not all of them.
        expect(seen[seen.length - 1]).toBeGreaterThan(0);
        expect(seen[seen.length - 1]).toBeLessThan(total);
        learner = start(learnerArgs);
      }
      await Promise.all(producers.map((p) => p.done));
      await learner.done;
      const result = JSON.parse(learner.out().trim().split('\n').pop() as string) as { size: number; unique: number };
      expect(result).toEqual({ size: total, unique: total });
    }, 300_000);
  });
}

describe('a DataUser following a pool', () => {
  it('follow refuses a pool of other fields; pull without follow is an error', async () => {
    await using pool = await openPool(join(root, 'embedded'), { schema: { other: 'float32' } });
    const user = new DataUser(new SequentialBuffer(followSchema, 10));
    expect(() => user.follow(pool)).toThrow(expect.objectContaining({ code: 'EXPBUF_SCHEMA_MISMATCH' }));
    await expect(user.pull()).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('follow') });
  });
});
