import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, truncateSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DataBuffer, DataUser, DataUsersDict, ReplayBuffer, ReservoirBuffer, SequentialBuffer } from '../ts/index.js';

const root = mkdtempSync(join(tmpdir(), 'expbuf-user-state-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());
let n = 0;
const fresh = () => join(root, `u${n++}`);

const schema = { obs: { dtype: 'float32', shape: [3] }, action: 'int32', info: 'any' } as const;
const step = (i: number) => ({ obs: [i, -i, i / 2], action: i, info: { i } });

/** Collects with the clock pinned to origin + t for each row. */
function collectAt(user: { collector: { collect(s: ReturnType<typeof step>): void } }, i: number, t: number): void {
  const clock = vi.spyOn(performance, 'now').mockReturnValue(t);
  user.collector.collect(step(i));
  clock.mockRestore();
}

/** A user-written buffer with JSON state hooks. */
class JsonBuffer extends DataBuffer<Record<string, unknown>, Record<string, unknown[]>> {
  rows: Record<string, unknown>[] = [];
  add(s: Record<string, unknown>): void {
    this.rows.push(s);
    if (this.rows.length > this.maxSize) this.rows.shift();
  }
  getData(): Record<string, unknown[]> {
    return Object.fromEntries(this.collectingDataNames.map((k) => [k, this.rows.map((r) => r[k])]));
  }
  get size(): number {
    return this.rows.length;
  }
  override async saveState(dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'rows.json'), JSON.stringify(this.rows));
  }
  override async loadState(dir: string): Promise<void> {
    this.rows = JSON.parse(readFileSync(join(dir, 'rows.json'), 'utf8')) as Record<string, unknown>[];
  }
}

describe('DataUser state', () => {
  it('restores the buffer, the collect-time log and the queued rows', async () => {
    const origin = performance.timeOrigin;
    const a = new DataUser(new SequentialBuffer(schema, 8, { seed: 1 }), { maxQueueSize: 100 });
    for (let i = 0; i < 10; i++) collectAt(a, i, 100 + i);
    a.update();
    for (let i = 10; i < 13; i++) collectAt(a, i, 100 + i); // queued, not yet moved
    const dir = fresh();
    await a.saveState(dir);

    const b = new DataUser(new SequentialBuffer(schema, 8, { seed: 99 }), { maxQueueSize: 100 });
    collectAt(b, 50, 500); // collected after start-up, before the load: stays, after the restored rows
    await b.loadState(dir);
    expect(b.buffer.getData()).toEqual(a.buffer.getData());
    // Same rows and the same RNG position: the same draws.
    expect((b.buffer as SequentialBuffer<typeof schema>).sample(5)).toEqual((a.buffer as SequentialBuffer<typeof schema>).sample(5));
    for (const since of [-Infinity, origin + 101, origin + 105.5, origin + 109, origin + 200]) {
      expect(b.countDataAddedSince(since)).toBe(a.countDataAddedSince(since));
    }
    expect(b.update()).toBe(4);
    expect(a.update()).toBe(3);
    expect([...(b.buffer.getData() as { action: Int32Array }).action]).toEqual([6, 7, 8, 9, 10, 11, 12, 50]);
    expect(b.countDataAddedSince(origin + 109)).toBe(4);
  });

  it("a ReplayBuffer user loads what it saved (its steps' flag and optional fields included)", async () => {
    const make = () =>
      new DataUser(new ReplayBuffer({ schema: { state: { dtype: 'float32', shape: [2] }, action: 'int32', reward: 'float32' }, maxSize: 10, seed: 1 }));
    const a = make();
    for (let i = 0; i < 3; i++) a.collector.collect({ state: [i, i], action: i, reward: 1, nextState: [i + 1, i + 1], terminated: i === 2, env: 0 });
    a.update();
    a.collector.collect({ state: [7, 7], action: 0, reward: 1, nextState: [8, 8], terminated: false, truncated: true });
    const dir = fresh();
    await a.saveState(dir);
    const b = make();
    await b.loadState(dir);
    expect(b.size).toBe(3);
    expect(b.update()).toBe(1);
    expect(Array.from(b.buffer.getData().truncated)).toEqual([0, 0, 0, 1]);
  });

  it('a user-written buffer saves through its hooks; one without hooks is refused', async () => {
    const a = new DataUser(new JsonBuffer(['x', 'y'], 5));
    for (let i = 0; i < 7; i++) a.collector.collect({ x: i, y: `v${i}` });
    a.update();
    const dir = fresh();
    await a.saveState(dir);
    const b = new DataUser(new JsonBuffer(['x', 'y'], 5));
    await b.loadState(dir);
    expect(b.getData()).toEqual(a.getData());

    class NoHooks extends DataBuffer {
      add(): void {}
      getData() {
        return {};
      }
      get size() {
        return 0;
      }
    }
    const c = new DataUser(new NoHooks(['x'], 3));
    await expect(c.saveState(fresh())).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('saveState') });
    await expect(c.loadState(dir)).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('loadState') });
  });
});

describe('DataUsersDict state', () => {
  it('one sub-directory per name; a damaged part changes no user', async () => {
    const make = () =>
      DataUsersDict.fromDataBuffers({
        experience: new ReservoirBuffer(schema, 10, { seed: 4 }),
        'notes/with odd name': new JsonBuffer(['text'], 4),
      });
    const a = make();
    const exp = a.get('experience');
    if (exp === undefined) throw new Error('no user');
    for (let i = 0; i < 30; i++) exp.collector.collect(step(i));
    a.get('notes/with odd name')?.collector.collect({ text: 'hello' });
    for (const u of a.values()) u.update();
    const dir = fresh();
    await a.saveState(dir);
    expect(readdirSync(dir).sort()).toEqual(['experience', 'notes%2Fwith%20odd%20name']);

    const b = make();
    await b.loadState(dir);
    for (const name of ['experience', 'notes/with odd name'] as const) expect(b.get(name)?.getData()).toEqual(a.get(name)?.getData());

    // Damage the second user's state: loading the dict must leave every user as it was.
    const c = make();
    c.get('experience')?.collector.collect(step(777));
    const before = c.get('experience')?.getData();
    const log = join(dir, 'notes%2Fwith%20odd%20name', 'user', 'log.npy');
    truncateSync(log, 10);
    await expect(c.loadState(dir)).rejects.toMatchObject({ code: 'EXPBUF_CORRUPT_STATE', message: expect.stringContaining('log.npy') });
    expect(c.get('experience')?.getData()).toEqual(before);
  });
});
