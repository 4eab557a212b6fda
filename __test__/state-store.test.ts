import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataUsersDict, SequentialBuffer, StateStore, Trainer } from '../ts/index.js';

const root = mkdtempSync(join(tmpdir(), 'expbuf-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

class CountingTrainer extends Trainer {
  passes = 0;
  constructor() {
    super({ trainingConditionDataUser: 'exp', minNewDataCount: 2 });
  }
  train(): void {
    this.passes++;
  }
  override async saveState(dir: string): Promise<void> {
    await super.saveState(dir);
    mkdirSync(join(dir, 'model'), { recursive: true });
  }
}

function system() {
  const users = DataUsersDict.fromDataBuffers({ exp: new SequentialBuffer({ x: 'int32' }, 100, { seed: 2 }) });
  const trainer = new CountingTrainer();
  trainer.attachDataUsers(users);
  return { users, trainer, user: users.get('exp') as NonNullable<ReturnType<typeof users.get<'exp'>>> };
}

describe('StateStore', () => {
  it('saves registered objects together, keeps the newest N, loads the newest complete one', async () => {
    const dir = join(root, 'run');
    const a = system();
    const store = new StateStore(dir, { keep: 3 });
    store.register('users', a.users);
    store.register('trainer', a.trainer);
    const saved: string[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3; i++) a.user.collector.collect({ x: round * 10 + i });
      expect(await a.trainer.run()).toBe(true);
      saved.push(await store.save());
    }
    expect(store.list()).toEqual(saved.slice(-3));
    expect(readdirSync(dir).length).toBe(3);
    // An unfinished newer directory (a crash mid-save) is not loaded.
    mkdirSync(join(dir, '9999-12-31T23-59-59.999Z.state'));

    const b = system();
    const store2 = new StateStore(dir);
    store2.register('users', b.users);
    store2.register('trainer', b.trainer);
    expect(await store2.loadLatest()).toBe(saved[4]);
    expect(b.users.get('exp')?.getData()).toEqual(a.users.get('exp')?.getData());
    // The trainer's last training time came back: no new rows since, so not trainable yet.
    expect(b.trainer.isTrainable()).toBe(false);
    b.user.collector.collect({ x: 1 });
    b.user.collector.collect({ x: 2 });
    expect(b.trainer.isTrainable()).toBe(true);
  });

  it('offers a periodic save condition, and refuses bad registrations and incomplete states', async () => {
    const store = new StateStore(join(root, 'periodic'), { saveInterval: 60_000 });
    expect(store.isSaveDue()).toBe(true);
    expect(await store.saveIfDue()).toBeDefined();
    expect(store.isSaveDue()).toBe(false);
    expect(await store.saveIfDue()).toBeUndefined();
    const s = system();
    store.register('t', s.trainer);
    expect(() => store.register('t', s.trainer)).toThrow(expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT' }));
    expect(() => store.register('x', {} as never)).toThrow(expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT' }));
    expect(() => new StateStore(join(root, 'bad'), { keep: 0 })).toThrow(
      expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('keep') }),
    );
    const partial = join(root, 'periodic', 'partial.state');
    mkdirSync(partial);
    await expect(store.load(partial)).rejects.toMatchObject({ code: 'EXPBUF_CORRUPT_STATE', message: expect.stringContaining('COMPLETE') });
    expect(await new StateStore(join(root, 'empty')).loadLatest()).toBeUndefined();
  });
});
