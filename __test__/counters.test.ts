/**
 * The counters JS reads from shared native memory without a native call (a buffer's
 * `size`, `totalAdded`, `isFull`; a queue's `queued` and `droppedCount`; a replay
 * buffer's `stats`) against the native state after every kind of operation: the rows
 * a native read returns (`getData()`), what `update()` moved, and the counts of a
 * model of the operations. (A second thread reading them: threads.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataUser, RandomReplacementBuffer, ReplayBuffer, ReservoirBuffer, SequentialBuffer, type ReplayStep } from '../ts/index.js';

const root = mkdtempSync(join(tmpdir(), 'expbuf-counters-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const fresh = () => join(root, `s${dirs++}`);

const schema = { x: { dtype: 'float32', shape: [2] }, n: 'int32' } as const;
const MAX = 20;
const kinds = {
  sequential: () => new SequentialBuffer(schema, MAX, { seed: 1 }),
  'random-replacement': () => new RandomReplacementBuffer(schema, MAX, { seed: 1, replaceProbability: 0.5 }),
  reservoir: () => new ReservoirBuffer(schema, MAX, { seed: 1 }),
};
type Buffer = ReturnType<(typeof kinds)[keyof typeof kinds]>;

const rows = (from: number, k: number) => ({
  x: Float32Array.from({ length: 2 * k }, (_, i) => from + (i >> 1)),
  n: Int32Array.from({ length: k }, (_, i) => from + i),
});

/** Every counter of `b` agrees with its rows (a native read) and with `added`, the rows added since creation or clear(). */
function expectAgrees(b: Buffer, added: number): void {
  const held = b.getData().n.length;
  expect(b.size).toBe(held);
  expect(b.length).toBe(held);
  // All three kinds append until full; then they replace or drop, never grow.
  expect(b.size).toBe(Math.min(added, MAX));
  if (b instanceof ReservoirBuffer) expect(b.totalAdded).toBe(added);
  if (b instanceof RandomReplacementBuffer) expect(b.isFull).toBe(held === MAX);
}

describe.each(Object.entries(kinds))('%s buffer: counters agree with the native state', (_kind, make) => {
  it('after add, addBatch, update, sample, sampleInto, clear and loadState', async () => {
    const b = make();
    let added = 0;
    expectAgrees(b, added);
    for (let i = 0; i < 7; i++) b.add({ x: [i, i], n: i });
    added += 7;
    expectAgrees(b, added);
    b.addBatch(rows(100, 30));
    added += 30;
    expectAgrees(b, added);

    // Rows moved by a user; the queue's counters against a model of a bounded queue.
    const user = new DataUser(b, { maxQueueSize: 6 });
    const c = user.collector;
    for (let i = 0; i < 4; i++) c.collect({ x: [i, i], n: 200 + i });
    expect([c.queued, c.droppedCount]).toEqual([4, 0]);
    for (let i = 4; i < 9; i++) c.collect({ x: [i, i], n: 200 + i });
    expect([c.queued, c.droppedCount]).toEqual([6, 3]);
    c.collectBatch(rows(300, 4));
    expect([c.queued, c.droppedCount]).toEqual([6, 7]);
    // update() moves what the queue counter said was queued (the native call's count).
    expect(user.update()).toBe(6);
    added += 6;
    expect([c.queued, c.droppedCount]).toEqual([0, 7]);
    expectAgrees(b, added);
    expect(user.update()).toBe(0);

    b.sample(8);
    b.sample(MAX, { replacement: false });
    b.sampleInto(rows(0, 5));
    expectAgrees(b, added);

    const saved = fresh();
    await b.saveState(saved);
    const savedAdded = added;
    b.addBatch(rows(400, 3));
    added += 3;
    expectAgrees(b, added);

    b.clear();
    added = 0;
    expectAgrees(b, added);
    b.add({ x: [1, 1], n: 1 });
    added = 1;
    expectAgrees(b, added);

    await b.loadState(saved);
    expectAgrees(b, savedAdded);
    // A fresh buffer's counters, once it loads the same state.
    const other = make();
    await other.loadState(saved);
    expectAgrees(other, savedAdded);
    expect(other.getData()).toEqual(b.getData());

    // A partly filled state too (fewer rows than maxSize).
    const few = make();
    few.addBatch(rows(0, 3));
    const fewDir = fresh();
    await few.saveState(fewDir);
    await b.loadState(fewDir);
    expectAgrees(b, 3);
    user.close();
  });
});

describe('replay buffer: stats agree with the native state', () => {
  const rschema = { state: { dtype: 'float32', shape: [2] }, action: 'int32', reward: 'float32' } as const;
  const RMAX = 16;
  const EPISODE = 4;
  /** Step `t` of one env's stream of 4-step episodes, as plain numbers. */
  const fieldsOf = (t: number) => ({
    state: [t % EPISODE, t],
    action: t,
    nextState: [(t % EPISODE) + 1, t + 1],
    terminated: t % EPISODE === EPISODE - 1,
  });
  const step = (t: number): ReplayStep<typeof rschema> => ({ ...fieldsOf(t), reward: 1 });
  const batch = (from: number, k: number) => {
    const s = Array.from({ length: k }, (_, i) => fieldsOf(from + i));
    return {
      state: Float32Array.from(s.flatMap((x) => x.state)),
      action: Int32Array.from(s, (x) => x.action),
      reward: new Float32Array(k).fill(1),
      nextState: Float32Array.from(s.flatMap((x) => x.nextState)),
      terminated: Uint8Array.from(s, (x) => (x.terminated ? 1 : 0)),
    };
  };

  it('after add, addBatch, update, sample, sampleSequences, saveState/loadState and clear', async () => {
    const rb = new ReplayBuffer({ schema: rschema, maxSize: RMAX, seed: 3 });
    const model = { inserted: 0, sampled: 0 };
    /** Episodes held whole: those whose first step is still held and whose last is in. */
    const episodes = () => {
      const oldest = model.inserted - Math.min(model.inserted, RMAX);
      return Math.max(0, Math.floor(model.inserted / EPISODE) - Math.ceil(oldest / EPISODE));
    };
    const expectStats = () => {
      const held = rb.getData().action.length;
      expect(rb.stats).toEqual({ size: held, inserted: model.inserted, sampled: model.sampled, episodes: episodes() });
      expect(rb.size).toBe(held);
      expect(held).toBe(Math.min(model.inserted, RMAX));
    };
    expectStats();
    for (let t = 0; t < 6; t++) rb.add(step(t));
    model.inserted = 6;
    expectStats();
    rb.addBatch(batch(6, 14));
    model.inserted = 20;
    expectStats();
    rb.sample(5);
    model.sampled += 5;
    expectStats();
    rb.sampleSequences(2, 3);
    model.sampled += 6;
    expectStats();

    const user = new DataUser(rb);
    for (let t = 20; t < 27; t++) user.collector.collect(step(t));
    expect(user.update()).toBe(7);
    model.inserted = 27;
    expectStats();
    user.close();

    const dir = fresh();
    await rb.saveState(dir);
    const saved = { ...model };
    rb.addBatch(batch(27, 5));
    rb.sample(3);
    model.inserted += 5;
    model.sampled += 3;
    expectStats();
    await rb.loadState(dir);
    Object.assign(model, saved);
    expectStats();

    rb.clear();
    Object.assign(model, { inserted: 0, sampled: 0 });
    expectStats();
  });
});
