import type { InspectOptions } from 'node:util';
import { DataBuffer, isNative, LAYOUT, SINK, STATE } from '../buffers/data-buffer.js';
import { ExpbufError, invalid } from '../errors.js';
import { custom, show } from '../inspect.js';
import { INFO, native, nativeView, type QueueRef, type UserRef } from '../native/binding.js';
import { checkPageSize, checkQuery, concatItems, type PoolQuery } from '../pool/items.js';
import type { Pool } from '../pool/pool.js';
import { decodeColumns, rowOf } from '../rows/columns.js';
import { flushWriters } from '../rows/writer.js';
import type { Schema } from '../schema.js';
import { saveStaged, type Prepared } from '../state.js';
import { DataCollector, QUEUE } from './collector.js';
import { join } from 'node:path';

export interface DataUserOptions {
  /**
   * Most rows the queue holds between two `update()` calls; beyond it the oldest are
   * dropped and counted. Default: the buffer's `maxSize`. `Infinity`: unbounded.
   */
  maxQueueSize?: number;
}

/** The step type of a buffer. */
export type StepOfBuffer<B> = B extends DataBuffer<infer T, unknown> ? T : never;

/**
 * The training side: owns a buffer and the queue its collector fills.
 *
 * @typeParam B - the buffer (its type carries the step and data types)
 */
export class DataUser<B extends DataBuffer<object, unknown> = DataBuffer<Record<string, unknown>, unknown>> {
  /** The collector that feeds this user's queue. */
  readonly collector: DataCollector<StepOfBuffer<B>>;
  /** The buffer rows are moved into. */
  readonly buffer: B;
  readonly #user: UserRef;
  readonly #queue: QueueRef;
  readonly #counters: Float64Array;
  #follow: { pool: Pool<Schema>; query: PoolQuery; pageSize: number } | undefined;
  /** Storage sequence of the last pool item pulled. */
  #cursor = 0;
  #closed = false;

  /**
   * @param buffer - a native buffer or a user `DataBuffer` subclass
   * @throws `EXPBUF_INVALID_ARGUMENT` for a bad `maxQueueSize` or an unknown option
   */
  constructor(buffer: B, options?: DataUserOptions) {
    if (!(buffer instanceof DataBuffer)) throw invalid('buffer: expected a DataBuffer (a native buffer or your subclass)');
    this.buffer = buffer;
    const layout = buffer[LAYOUT];
    // A native buffer's queue shares its schema (the core then checks a pointer per
    // update), and the user is bound to it once.
    const target = isNative(buffer) ? buffer[SINK] : undefined;
    this.#queue = native.queueNew(target ?? layout.info, options, buffer.maxSize);
    this.#user = native.userNew(this.#queue, buffer.maxSize, target);
    this.#counters = nativeView(Float64Array, native.queueCounters(this.#queue));
    this.collector = new DataCollector<StepOfBuffer<B>>(this.#queue, layout);
  }

  #open(): void {
    if (this.#closed) throw new ExpbufError('EXPBUF_CLOSED', 'user: closed');
  }

  /**
   * Moves every queued row into the buffer (one native call for native buffers, none
   * when nothing is queued; one `add` per row for user buffers) and logs their collect
   * times. Rows collected on this thread before the call are included.
   * @returns the number of rows moved
   */
  update(): number {
    this.#open();
    flushWriters();
    const buffer = this.buffer as DataBuffer<object, unknown>;
    if (isNative(buffer)) {
      // Applies the buffer's staged adds first (and throws once it is closed).
      void buffer[SINK];
      if (this.#counters[QUEUE.queued] === 0) return 0;
      return native.userUpdate(this.#user);
    }
    const layout = buffer[LAYOUT];
    const cols = decodeColumns(layout, native.userDrain(this.#user), true);
    for (let r = 0; r < cols.rows; r++) buffer.add(rowOf(layout, cols, r));
    return cols.rows;
  }

  /**
   * Follows `pool`: `pull()` then moves the items stored there (by collectors in other
   * processes or on other machines) since this user's cursor into the buffer. The
   * cursor is part of `saveState`, so a restarted learner neither loses nor repeats
   * rows.
   * @throws `EXPBUF_SCHEMA_MISMATCH` when the pool's fields differ from the buffer's
   */
  follow(pool: Pool<Schema>, options: { query?: PoolQuery; pageSize?: number } = {}): void {
    native.expectSameFields(pool.schema, this.buffer[LAYOUT].info, 'the pool', 'the buffer');
    this.#follow = { pool, query: checkQuery(options.query), pageSize: checkPageSize(options.pageSize ?? INFO.defaults.pageSize) };
  }

  /** The storage sequence of the last pool item pulled (0: none yet). */
  get cursor(): number {
    return this.#cursor;
  }

  /**
   * Moves every item stored in the followed pool since the cursor into the buffer (a
   * page at a time, through this user's queue, with the items' times as collect
   * times); resolves to the rows moved. This is `update()`'s pool half, and async
   * because the pool is.
   * @throws `EXPBUF_INVALID_ARGUMENT` when not following a pool
   */
  async pull(): Promise<number> {
    const f = this.#follow;
    if (f === undefined) throw invalid('pull: this user follows no pool (call follow(pool) first)');
    const layout = this.buffer[LAYOUT];
    const max = this.#counters[QUEUE.maxQueueSize];
    let rows = 0;
    for await (const page of f.pool.iterate(f.query, { pageSize: f.pageSize, after: this.#cursor })) {
      const { columns, times } = concatItems(layout, page);
      // In chunks the queue holds whole: a bounded queue must not drop pulled rows.
      const n = times.length;
      const chunk = Number.isFinite(max) ? max : n;
      for (let at = 0; at < n; at += chunk) {
        const end = Math.min(n, at + chunk);
        const part = Object.fromEntries(layout.typed.map((fl) => [fl.name, columns[fl.name].subarray(at * fl.elements, end * fl.elements)]));
        this.collector.collectBatchAt(part, times.subarray(at, end));
        this.update();
      }
      rows += n;
      this.#cursor = page[page.length - 1].seq;
    }
    return rows;
  }

  /** Updates, then returns the buffer's data. */
  getData(): B extends DataBuffer<object, infer R> ? R : never {
    this.update();
    return this.buffer.getData() as B extends DataBuffer<object, infer R> ? R : never;
  }

  /**
   * Rows moved in by `update()` whose collect time is strictly later than `since`
   * (ms since the epoch, as `Date.now()`; fractions allowed). Counts over the last
   * `maxSize` rows added.
   */
  countDataAddedSince(since: number): number {
    this.#open();
    return native.userCountSince(this.#user, since);
  }

  /** Rows the buffer holds. */
  get size(): number {
    return this.buffer.size;
  }

  /**
   * Saves the buffer (sub-directory `buffer`), the rows still queued with their collect
   * times, the collect-time log and the pool cursor (sub-directory `user`, checksummed
   * like every state file) into `dir`, atomically as a whole. A user-written buffer
   * needs a `saveState` hook.
   * @throws `EXPBUF_INVALID_ARGUMENT` for a buffer without `saveState`; `EXPBUF_IO`
   */
  async saveState(dir: string): Promise<void> {
    await saveStaged(dir, (staged) => this.writeState(staged));
  }

  /**
   * Restores what `saveState` wrote: the buffer, the log (so `countDataAddedSince`
   * answers as before), the cursor, and the queued rows, which go before any collected
   * since. Every part is read and checked before anything changes (a user-written
   * buffer's `loadState` hook runs last).
   * @throws `EXPBUF_CORRUPT_STATE`, `EXPBUF_SCHEMA_MISMATCH`
   */
  async loadState(dir: string): Promise<void> {
    await (await this.prepareLoad(dir)).apply();
  }

  /** @internal Writes this user's state into `dir`, a part of a staged state. */
  async writeState(dir: string): Promise<void> {
    this.#open();
    flushWriters();
    const buffer = this.buffer as DataBuffer<object, unknown>;
    if (isNative(buffer)) await buffer[STATE].write(join(dir, 'buffer'));
    else if (buffer.saveState) await buffer.saveState(join(dir, 'buffer'));
    else throw invalid('buffer: this DataBuffer has no saveState, so its state cannot be saved');
    await native.userWrite(this.#user, join(dir, 'user'), this.#cursor);
  }

  /** @internal Reads and checks this user's state in `dir`; `apply()` puts it in place. */
  async prepareLoad(dir: string): Promise<Prepared> {
    this.#open();
    const buffer = this.buffer as DataBuffer<object, unknown>;
    if (!isNative(buffer) && !buffer.loadState) {
      throw invalid('buffer: this DataBuffer has no loadState, so its state cannot be loaded');
    }
    const user = await native.userPrepareLoad(this.#user, join(dir, 'user'));
    const nativeBuffer = isNative(buffer) ? await buffer[STATE].prepare(join(dir, 'buffer')) : undefined;
    return {
      apply: async () => {
        if (nativeBuffer) await nativeBuffer.apply();
        else await buffer.loadState?.(join(dir, 'buffer'));
        flushWriters();
        this.#cursor = native.userApplyLoad(this.#user, user);
      },
    };
  }

  /**
   * Releases this user's native resources: its collector and its hold on the queue
   * (collectors in other threads keep the queue alive until they close too). The
   * buffer stays usable; close it on its own.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.collector.close();
    native.userClose(this.#user);
    native.queueClose(this.#queue);
  }

  /** What printing shows: the buffer, the queue's length, bound and drops. */
  [custom](depth: number, options: InspectOptions): string {
    if (this.#closed) return show('DataUser', { closed: true }, depth, options);
    flushWriters();
    const c = this.#counters;
    return show('DataUser', { buffer: this.buffer, queued: c[QUEUE.queued], maxQueueSize: c[QUEUE.maxQueueSize], dropped: c[QUEUE.dropped] }, depth, options);
  }
}
