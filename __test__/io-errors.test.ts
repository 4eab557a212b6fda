/**
 * File-system failures are `EXPBUF_IO` with the OS error as `cause`, and change
 * nothing: a full filesystem (a 1 MiB tmpfs the test mounts, as root) and a read-only
 * one (the same tmpfs remounted read-only). Without root (no mount), a directory the
 * user may not write gives EACCES instead.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataUser, ExpbufError, openPool, ReplayBuffer, SequentialBuffer, StateStore } from '../ts/index.js';

const root = mkdtempSync(join(tmpdir(), 'expbuf-io-'));
const mnt = join(root, 'mnt');
const asRoot = process.getuid?.() === 0;

function sh(...args: string[]): void {
  execFileSync(args[0], args.slice(1), { stdio: 'pipe' });
}

beforeAll(() => {
  mkdirSync(mnt);
  if (asRoot) sh('mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt);
});
afterAll(() => {
  if (asRoot) sh('umount', mnt);
  else chmodSync(mnt, 0o755);
  rmSync(root, { recursive: true, force: true });
});

/** A buffer of about 2 MiB of rows: more than the tmpfs holds. */
function big(): SequentialBuffer<{ readonly v: { readonly dtype: 'float32'; readonly shape: readonly [1024] } }> {
  const b = new SequentialBuffer({ v: { dtype: 'float32', shape: [1024] } } as const, 512, { seed: 1 });
  b.addBatch({ v: new Float32Array(512 * 1024).fill(1) });
  return b;
}

async function ioFailure(p: Promise<unknown>, os: string | string[]): Promise<ExpbufError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ExpbufError);
  const err = caught as ExpbufError;
  expect(err.code).toBe('EXPBUF_IO');
  expect([os].flat()).toContain((err.cause as { code?: string }).code);
  expect((err.cause as { errno?: number }).errno).toBeLessThan(0);
  return err;
}

describe('file-system failures are EXPBUF_IO with the OS error as cause', () => {
  it(
    asRoot ? 'a full filesystem (ENOSPC): saveState leaves no partial state and the previous one whole' : 'a directory without write permission (EACCES)',
    async () => {
      const dir = join(mnt, 'state');
      if (!asRoot) {
        chmodSync(mnt, 0o555);
        await ioFailure(big().saveState(dir), 'EACCES');
        return;
      }
      const small = new SequentialBuffer({ v: 'float32' }, 4);
      small.add({ v: 1 });
      await small.saveState(dir);
      const b = big();
      const before = b.getData();
      const err = await ioFailure(b.saveState(dir), 'ENOSPC');
      expect(err.message).toContain(mnt);
      // Nothing changed: the buffer, and the previous state, which still loads.
      expect(b.getData()).toEqual(before);
      const check = new SequentialBuffer({ v: 'float32' }, 4);
      await check.loadState(dir);
      expect([...check.getData().v]).toEqual([1]);
      // The staging directory of the failed save is gone.
      expect(readdirSync(mnt).filter((f) => f.includes('.expbuf-tmp-'))).toEqual([]);
      // A replay buffer's state, a user's, and a pool's store fail the same way.
      const rb = new ReplayBuffer({ schema: { state: { dtype: 'float32', shape: [1024] }, action: 'int32', reward: 'float32' }, maxSize: 600, seed: 1 });
      rb.addBatch({
        state: new Float32Array(512 * 1024),
        action: new Int32Array(512),
        reward: new Float32Array(512),
        nextState: new Float32Array(512 * 1024),
        terminated: new Uint8Array(512),
      });
      await ioFailure(rb.saveState(join(mnt, 'replay')), 'ENOSPC');
      const user = new DataUser(big());
      await ioFailure(user.saveState(join(mnt, 'user')), 'ENOSPC');
      const pool = await openPool(join(mnt, 'pool'), { schema: { v: { dtype: 'float32', shape: [1024] } } });
      await ioFailure(pool.store([{ steps: { v: new Float32Array(600 * 1024) } }]), 'ENOSPC');
      expect(await pool.count()).toBe(0);
      await pool.close();
    },
  );

  it.runIf(asRoot)('a read-only filesystem (EROFS): saves, stores and state stores fail, and loads still work', async () => {
    const dir = join(mnt, 'state');
    expect(existsSync(join(dir, 'manifest.json'))).toBe(true);
    rmSync(join(mnt, 'pool'), { recursive: true, force: true });
    sh('mount', '-o', 'remount,ro', mnt);
    try {
      const b = new SequentialBuffer({ v: 'float32' }, 4);
      b.add({ v: 2 });
      await ioFailure(b.saveState(dir), 'EROFS');
      // Loading needs no writes.
      await b.loadState(dir);
      expect([...b.getData().v]).toEqual([1]);
      await ioFailure(openPool(join(mnt, 'pool'), { schema: { v: 'float32' } }), 'EROFS');
      let store: unknown;
      try {
        new StateStore(join(mnt, 'store'));
      } catch (e) {
        store = e;
      }
      expect((store as ExpbufError).code).toBe('EXPBUF_IO');
      expect(((store as ExpbufError).cause as { code?: string }).code).toBe('EROFS');
    } finally {
      sh('mount', '-o', 'remount,rw', mnt);
    }
  });
});
