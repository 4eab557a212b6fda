import { afterEach, describe, expect, it, vi } from 'vitest';
import { Agent, DataBuffer, DataCollector, type DataCollectorsDict, DataUser, DataUsersDict, SequentialBuffer, Trainer } from '../ts/index.js';
import { ReferenceSequentialBuffer } from '../reference/buffers.js';
import { native } from '../ts/native/binding.js';
import { RowWriter } from '../ts/rows/writer.js';
import { layoutOf } from '../ts/schema.js';

const schema = { obs: { dtype: 'float32', shape: [4] }, action: 'int32', reward: 'float32' } as const;
const step = (i: number) => ({ obs: [i, i, i, i], action: i, reward: i / 2 });

/** The seed's user-written buffer, translated: lists per field, oldest dropped when full. */
class SimpleBuffer<T> extends DataBuffer<Record<string, T>, Record<string, T[]>> {
  private data: Record<string, T[]>;
  private count = 0;

  constructor(collectingDataNames: string[], maxSize: number) {
    super(collectingDataNames, maxSize);
    this.data = Object.fromEntries(collectingDataNames.map((n) => [n, []]));
  }

  add(stepData: Record<string, T>): void {
    for (const name of this.collectingDataNames) {
      if (!(name in stepData)) throw new Error(`Required data '${name}' not found in step_data`);
    }
    if (this.count < this.maxSize) {
      for (const name of this.collectingDataNames) this.data[name].push(stepData[name]);
      this.count++;
    } else {
      for (const name of this.collectingDataNames) {
        this.data[name].shift();
        this.data[name].push(stepData[name]);
      }
    }
  }

  getData(): Record<string, T[]> {
    return Object.fromEntries(Object.entries(this.data).map(([k, v]) => [k, [...v]]));
  }

  get size(): number {
    return this.count;
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('DataUser and DataCollector', () => {
  it('moves collected rows into the buffer on update, in order', () => {
    const user = new DataUser(new SequentialBuffer(schema, 100));
    for (let i = 0; i < 1000; i++) user.collector.collect(step(i));
    expect(user.size).toBe(0);
    // The queue's default bound is the buffer's maxSize: the 900 oldest were dropped.
    expect(user.update()).toBe(100);
    expect(user.collector.droppedCount).toBe(900);
    expect(user.update()).toBe(0);
    expect(user.size).toBe(100);
    expect([...user.buffer.getData().action]).toEqual(Array.from({ length: 100 }, (_, i) => 900 + i));
  });

  it('getData updates first', () => {
    const user = new DataUser(new SequentialBuffer(['x'], 10));
    user.collector.collect({ x: 'a' });
    user.collector.collect({ x: 'b' });
    expect(user.getData()).toEqual({ x: ['a', 'b'] });
    expect(user.size).toBe(2);
  });

  it('hands staged rows to the queue when the thread returns to its event loop', async () => {
    // A writer over a real ring, its target recording each publish.
    const layout = layoutOf(schema);
    const queue = native.queueNew(layout.info, { maxQueueSize: 100 }, 100);
    const { ring, view } = native.queueRing(queue);
    const published: number[] = [];
    const writer = new RowWriter(layout, view, {
      publish: (tail) => {
        published.push(tail);
        return native.ringPublish(ring, tail);
      },
      spill: () => native.ringSpill(ring),
    });
    for (let i = 0; i < 5; i++) writer.put(step(i), i);
    expect(published).toEqual([]); // still staged: no native call per step
    await Promise.resolve();
    expect(published).toEqual([5]); // one publish, by the microtask
    for (let i = 5; i < 8; i++) writer.put(step(i), i);
    writer.put(step(8), 8);
    await Promise.resolve();
    expect(published).toEqual([5, 9]);
    native.queueClose(queue);
  });

  it('rows collected on one thread keep their order whichever collector object collected, flushed or closed', () => {
    const user = new DataUser(new SequentialBuffer(schema, 10));
    const other = DataCollector.fromHandle(user.collector.handle());
    const held = () => [...user.buffer.getData().action];
    // a by the user's collector, b by another that flushes: update() stores a before b.
    user.collector.collect(step(1));
    other.collect(step(2));
    other.flush();
    expect(user.update()).toBe(2);
    expect(held()).toEqual([1, 2]);
    // Interleaved with a batch, and a collector made while rows are staged.
    user.collector.collect(step(3));
    other.collectBatch({ obs: [4, 4, 4, 4], action: [4], reward: [2] });
    user.collector.collect(step(5));
    const late = DataCollector.fromHandle(user.collector.handle());
    late.collect(step(6));
    user.collector.flush();
    expect(user.update()).toBe(4);
    expect(held()).toEqual([1, 2, 3, 4, 5, 6]);
    // Closing a collector hands over every row this thread staged before its own.
    user.collector.collect(step(7));
    late.collect(step(8));
    late.close();
    other.collect(step(9));
    other.close();
    user.collector.collect(step(10));
    user.update();
    expect(held()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    user.close();
  });

  it('a bounded queue drops its oldest rows and counts them; collectBatch too', () => {
    const user = new DataUser(new SequentialBuffer(schema, 1000), { maxQueueSize: 50 });
    for (let i = 0; i < 30; i++) user.collector.collect(step(i));
    user.collector.collectBatch({
      obs: new Float32Array(40 * 4).map((_, k) => 30 + Math.floor(k / 4)),
      action: Int32Array.from({ length: 40 }, (_, i) => 30 + i),
      reward: new Float32Array(40),
    });
    expect(user.collector.droppedCount).toBe(20);
    user.update();
    expect([...user.buffer.getData().action]).toEqual(Array.from({ length: 50 }, (_, i) => 20 + i));
  });

  it('an unbounded queue keeps every row', () => {
    const user = new DataUser(new SequentialBuffer(schema, 10), { maxQueueSize: Infinity });
    for (let i = 0; i < 5000; i++) user.collector.collect(step(i));
    expect(user.collector.droppedCount).toBe(0);
    user.update();
    expect(user.countDataAddedSince(-Infinity)).toBe(10);
  });

  it('countDataAddedSince counts rows collected strictly later, at the boundaries', () => {
    const user = new DataUser(new SequentialBuffer(['x'], 100));
    const origin = performance.timeOrigin;
    const clock = vi.spyOn(performance, 'now');
    for (const t of [100, 200, 200, 300]) {
      clock.mockReturnValue(t);
      user.collector.collect({ x: t });
    }
    clock.mockRestore();
    expect(user.countDataAddedSince(origin)).toBe(0); // not yet moved by update()
    user.update();
    expect(user.countDataAddedSince(origin + 99)).toBe(4);
    expect(user.countDataAddedSince(origin + 100)).toBe(3);
    expect(user.countDataAddedSince(origin + 199.999)).toBe(3);
    expect(user.countDataAddedSince(origin + 200)).toBe(1);
    expect(user.countDataAddedSince(origin + 300)).toBe(0);
    expect(user.countDataAddedSince(Date.now() + 1000)).toBe(0);
  });

  it("works with the seed's user-written SimpleBuffer", () => {
    const buffer = new SimpleBuffer<unknown>(['observation', 'action', 'reward'], 3);
    const user = new DataUser(buffer);
    user.collector.collect({ observation: [0.5, 1], action: 1, reward: 1.0 });
    user.collector.collect({ observation: { nested: true }, action: 0, reward: -1.0 });
    expect(user.getData()).toEqual({
      observation: [[0.5, 1], { nested: true }],
      action: [1, 0],
      reward: [1.0, -1.0],
    });
    for (let i = 0; i < 5; i++) user.collector.collect({ observation: i, action: i, reward: i });
    expect(user.update()).toBe(3); // queue bound = maxSize 3: rows 0 and 1 were dropped
    expect(user.collector.droppedCount).toBe(2);
    expect(buffer.getData().action).toEqual([2, 3, 4]);
    expect(user.size).toBe(3);
    expect(() => user.collector.collect({ observation: 1, action: 1 } as never)).toThrow(expect.objectContaining({ code: 'EXPBUF_MISSING_FIELD' }));
  });

  it('feeds a TS reference buffer through the same pipeline', () => {
    const user = new DataUser(new ReferenceSequentialBuffer(schema, 5, { seed: 1 }));
    for (let i = 0; i < 8; i++) user.collector.collect(step(i));
    expect([...(user.getData() as { action: Int32Array }).action]).toEqual([3, 4, 5, 6, 7]);
  });
});

describe('DataUsersDict and DataCollectorsDict', () => {
  it('fromDataBuffers makes a user per buffer and a collectors dict of the same names', () => {
    const users = DataUsersDict.fromDataBuffers({ a: new SequentialBuffer(['x'], 5), b: new SequentialBuffer(schema, 5) });
    expect([...users.keys()]).toEqual(['a', 'b']);
    expect([...users.dataCollectorsDict.keys()]).toEqual(['a', 'b']);
    expect(users.dataCollectorsDict.get('a')).toBe(users.get('a')?.collector);
  });

  it('acquire hands a collector out once and refuses unknown names', () => {
    const users = DataUsersDict.fromDataBuffers({ a: new SequentialBuffer(['x'], 5) });
    const collectors: DataCollectorsDict = users.dataCollectorsDict;
    const c = collectors.acquire('a');
    expect(c).toBe(users.get('a')?.collector);
    expect(() => collectors.acquire('a')).toThrow(expect.objectContaining({ code: 'EXPBUF_ALREADY_ACQUIRED' }));
    expect(() => collectors.acquire('nope')).toThrow(expect.objectContaining({ code: 'EXPBUF_NOT_FOUND', message: expect.stringContaining("'nope'") }));
  });
});

describe('Agent and Trainer', () => {
  class CollectingAgent extends Agent<number, number> {
    collector!: ReturnType<CollectingAgent['getDataCollector']>;
    override onDataCollectorsAttached(): void {
      this.collector = this.getDataCollector('experience');
    }
    step(observation: number): number {
      const action = observation > 0 ? 1 : 0;
      this.collector.collect({ obs: [observation, 0, 0, 0], action, reward: action ? 1 : -1 });
      return action;
    }
  }

  class CountingTrainer extends Trainer {
    trained: number[] = [];
    user!: DataUser;
    override onDataUsersAttached(): void {
      this.user = this.getDataUser('experience');
    }
    train(): void {
      this.trained.push(this.user.size);
    }
  }

  it('attach hooks acquire collectors and fetch users; run() trains only when trainable', async () => {
    const users = DataUsersDict.fromDataBuffers({ experience: new SequentialBuffer(schema, 1000) });
    const agent = new CollectingAgent();
    agent.attachDataCollectors(users.dataCollectorsDict);
    expect(() => agent.getDataCollector('experience')).toThrow(expect.objectContaining({ code: 'EXPBUF_ALREADY_ACQUIRED' }));
    const trainer = new CountingTrainer({ trainingConditionDataUser: 'experience', minBufferSize: 10, minNewDataCount: 5 });
    trainer.attachDataUsers(users);

    for (let i = 0; i < 9; i++) agent.step(i - 4);
    expect(trainer.isTrainable()).toBe(false); // 9 < minBufferSize
    expect(await trainer.run()).toBe(false);
    agent.step(1);
    expect(await trainer.run()).toBe(true);
    expect(trainer.trained).toEqual([10]);
    for (let i = 0; i < 4; i++) agent.step(1);
    expect(trainer.isTrainable()).toBe(false); // 4 new rows < minNewDataCount
    agent.step(1);
    expect(await trainer.run()).toBe(true);
    expect(trainer.trained).toEqual([10, 15]);
  });

  it('a trainer without a condition is always trainable; unknown users are not found', () => {
    const t = new CountingTrainer();
    expect(t.isTrainable()).toBe(true);
    t.attachDataUsers(DataUsersDict.fromDataBuffers({ experience: new SequentialBuffer(['x'], 2) }));
    expect(t.user).toBeInstanceOf(DataUser);
    expect(() => t.getDataUser('x')).toThrow(expect.objectContaining({ code: 'EXPBUF_NOT_FOUND' }));
    expect(() => new CountingTrainer({ minBufferSize: 3 })).toThrow(expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT' }));
    expect(() => new CountingTrainer({ trainingConditionDataUser: 'x', minNewDataCount: -1 })).toThrow(
      expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('minNewDataCount') }),
    );
  });
});
