import type { NativeUser } from '../../native/binding.js';
import { DataBuffer } from '../buffers/data-buffer.js';
import { NativeDataBuffer } from '../buffers/native-buffer.js';
import { decodeColumns, rowOf } from '../encode.js';
import { ExpbufError } from '../errors.js';
import { native } from '../native.js';
import { join } from 'node:path';
import { saveStaged, task, type Prepared } from '../state.js';
import type { FieldsInput } from '../schema.js';
import { DataCollector, flushPending } from './collector.js';

export interface DataUserOptions {
  /**
   * Most rows the queue holds between two `update()` calls; beyond it the oldest are
   * dropped and counted. Default: the buffer's `maxSize`. `Infinity`: unbounded.
   */
  maxQueueSize?: number;
}

/**
 * The training side: owns a buffer and the queue its collector fills.
 *
 * @typeParam T - one step
 * @typeParam R - what the buffer's `getData()` returns
 */
export class DataUser<T extends object = Record<string, unknown>, R = unknown> {
  /** The collector that feeds this user's queue. */
  readonly collector: DataCollector<T>;
  readonly #buffer: DataBuffer<T, R>;
  readonly #user: NativeUser;

  /**
   * @param buffer - a native buffer or a user `DataBuffer` subclass
   * @throws `EXPBUF_INVALID_ARGUMENT` for a bad `maxQueueSize`
   */
  constructor(buffer: DataBuffer<T, R>, options: DataUserOptions = {}) {
    if (!(buffer instanceof DataBuffer)) {
      throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', 'buffer: expected a DataBuffer');
    }
    this.#buffer = buffer;
    const queue = new native.NativeQueue(buffer.layout.decls, options.maxQueueSize ?? buffer.maxSize);
    this.#user = new native.NativeUser(queue, buffer.maxSize);
    this.collector = new DataCollector<T>(queue, buffer.layout);
  }

  /** The buffer rows are moved into. */
  get buffer(): DataBuffer<T, R> {
    return this.#buffer;
  }

  /**
   * Moves every queued row into the buffer (one native call for native buffers; one
   * `add` per row for user buffers) and logs their collect times.
   * @returns the number of rows moved
   */
  update(): number {
    flushPending();
    const buffer = this.#buffer;
    if (buffer instanceof NativeDataBuffer) {
      return this.#user.drainInto((buffer as NativeDataBuffer<FieldsInput>).native);
    }
    const cols = decodeColumns(buffer.layout, this.#user.drain(), true);
    for (let r = 0; r < cols.rows; r++) buffer.add(rowOf(buffer.layout, cols, r) as T);
    return cols.rows;
  }

  /** Updates, then returns the buffer's data. */
  getData(): R {
    this.update();
    return this.#buffer.getData();
  }

  /**
   * Rows moved in by `update()` whose collect time is strictly later than `since`
   * (ms since the epoch, as `Date.now()`; fractions allowed). Counts over the last
   * `maxSize` rows added.
   */
  countDataAddedSince(since: number): number {
    return this.#user.countAddedSince(since);
  }

  /** Rows the buffer holds. */
  get size(): number {
    return this.#buffer.size;
  }

  /**
   * Saves the buffer (sub-directory `buffer`), the rows still queued with their collect
   * times, and the collect-time log (sub-directory `user`) into `dir`, atomically as a
   * whole. A user-written buffer needs a `saveState` hook.
   * @throws `EXPBUF_INVALID_ARGUMENT` for a buffer without `saveState`
   */
  async saveState(dir: string): Promise<void> {
    await saveStaged(dir, (staged) => this.writeState(staged));
  }

  /**
   * Restores what `saveState` wrote: the buffer, the log (so `countDataAddedSince`
   * answers as before), and the queued rows, which go before any collected since.
   * Every part is read and checked before anything changes (a user-written buffer's
   * `loadState` hook runs last).
   * @throws `EXPBUF_CORRUPT_STATE`, `EXPBUF_SCHEMA_MISMATCH`
   */
  async loadState(dir: string): Promise<void> {
    await (await this.prepareLoad(dir)).apply();
  }

  /** @internal Writes this user's state into `dir`, a part of a staged state. */
  async writeState(dir: string): Promise<void> {
    flushPending();
    const buffer = this.#buffer;
    if (buffer instanceof NativeDataBuffer) await (buffer as NativeDataBuffer<FieldsInput>).writeState(join(dir, 'buffer'));
    else if (buffer.saveState) await buffer.saveState(join(dir, 'buffer'));
    else throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', 'buffer: this DataBuffer has no saveState, so its state cannot be saved');
    await task(this.#user.writeState(join(dir, 'user')));
  }

  /** @internal Reads and checks this user's state in `dir`; `apply()` puts it in place. */
  async prepareLoad(dir: string): Promise<Prepared> {
    const buffer = this.#buffer;
    if (!(buffer instanceof NativeDataBuffer) && !buffer.loadState) {
      throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', 'buffer: this DataBuffer has no loadState, so its state cannot be loaded');
    }
    const user = await task(this.#user.prepareLoad(join(dir, 'user')));
    const nativeBuffer = buffer instanceof NativeDataBuffer ? await (buffer as NativeDataBuffer<FieldsInput>).prepareLoad(join(dir, 'buffer')) : undefined;
    return {
      apply: async () => {
        if (nativeBuffer) await nativeBuffer.apply();
        else await buffer.loadState?.(join(dir, 'buffer'));
        flushPending();
        this.#user.applyLoad(user);
      },
    };
  }

  /**
   * Releases this user's native resources: its collector and its hold on the queue
   * (collectors in other threads keep the queue alive until they close too). The
   * buffer stays usable; close it on its own.
   */
  close(): void {
    this.collector.close();
    this.#user.close();
  }
}
