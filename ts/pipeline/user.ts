import type { NativeUser } from '../../native/binding.js';
import { DataBuffer } from '../buffers/data-buffer.js';
import { NativeDataBuffer } from '../buffers/native-buffer.js';
import { decodeColumns, rowOf } from '../encode.js';
import { ExpbufError } from '../errors.js';
import { native } from '../native.js';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkPageSize, checkQuery, concatItems, type PoolQuery } from '../pool/items.js';
import type { Pool } from '../pool/pool.js';
import { layoutOf, sameLayout, type FieldsInput, type Schema } from '../schema.js';
import { saveStaged, task, type Prepared } from '../state.js';
import { DataCollector, flushPending } from './collector.js';

/** The pull cursor saved with a user (0 for a state saved before cursors existed). */
async function readCursor(path: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return 0;
  }
  let cursor: unknown;
  try {
    cursor = (JSON.parse(text) as { cursor?: unknown }).cursor;
  } catch (e) {
    throw new ExpbufError('EXPBUF_CORRUPT_STATE', `follow.json: not JSON (${(e as Error).message})`, { cause: e });
  }
  if (!(Number.isInteger(cursor) && (cursor as number) >= 0)) throw new ExpbufError('EXPBUF_CORRUPT_STATE', `follow.json: cursor ${String(cursor)} is not a non-negative integer`);
  return cursor as number;
}

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
  readonly #maxQueueSize: number;
  #follow: { pool: Pool<Schema>; query: PoolQuery; pageSize: number } | undefined;
  /** Storage sequence of the last pool item pulled. */
  #cursor = 0;

  /**
   * @param buffer - a native buffer or a user `DataBuffer` subclass
   * @throws `EXPBUF_INVALID_ARGUMENT` for a bad `maxQueueSize`
   */
  constructor(buffer: DataBuffer<T, R>, options: DataUserOptions = {}) {
    if (!(buffer instanceof DataBuffer)) {
      throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', 'buffer: expected a DataBuffer');
    }
    this.#buffer = buffer;
    this.#maxQueueSize = options.maxQueueSize ?? buffer.maxSize;
    const queue = new native.NativeQueue(buffer.layout.decls, this.#maxQueueSize);
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

  /**
   * Follows `pool`: `pull()` then moves the items stored there (by collectors in other
   * processes or on other machines) since this user's cursor into the buffer. The
   * cursor is part of `saveState`, so a restarted learner neither loses nor repeats
   * rows.
   * @throws `EXPBUF_SCHEMA_MISMATCH` when the pool's fields differ from the buffer's
   */
  follow(pool: Pool<Schema>, options: { query?: PoolQuery; pageSize?: number } = {}): void {
    if (!sameLayout(layoutOf(pool.schema), this.#buffer.layout)) {
      throw new ExpbufError('EXPBUF_SCHEMA_MISMATCH', `pool: its fields ${JSON.stringify(layoutOf(pool.schema).decls)} differ from the buffer's ${JSON.stringify(this.#buffer.layout.decls)}`);
    }
    this.#follow = { pool, query: checkQuery(options.query), pageSize: checkPageSize(options.pageSize ?? 100) };
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
    if (f === undefined) throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', 'pull: this user follows no pool (call follow(pool) first)');
    let rows = 0;
    for await (const page of f.pool.iterate(f.query, { pageSize: f.pageSize, after: this.#cursor })) {
      const { columns, times } = concatItems(this.#buffer.layout, page);
      // In chunks the queue holds whole: a bounded queue must not drop pulled rows.
      const n = times.length;
      const chunk = Number.isFinite(this.#maxQueueSize) ? this.#maxQueueSize : n;
      for (let at = 0; at < n; at += chunk) {
        const end = Math.min(n, at + chunk);
        const part = Object.fromEntries(this.#buffer.layout.typed.map((fl) => [fl.name, columns[fl.name].subarray(at * fl.elements, end * fl.elements)]));
        this.collector.collectBatchAt(part, times.subarray(at, end));
        this.update();
      }
      rows += n;
      this.#cursor = page[page.length - 1].seq;
    }
    return rows;
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
    await writeFile(join(dir, 'follow.json'), JSON.stringify({ cursor: this.#cursor }));
  }

  /** @internal Reads and checks this user's state in `dir`; `apply()` puts it in place. */
  async prepareLoad(dir: string): Promise<Prepared> {
    const buffer = this.#buffer;
    if (!(buffer instanceof NativeDataBuffer) && !buffer.loadState) {
      throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', 'buffer: this DataBuffer has no loadState, so its state cannot be loaded');
    }
    const user = await task(this.#user.prepareLoad(join(dir, 'user')));
    const cursor = await readCursor(join(dir, 'follow.json'));
    const nativeBuffer = buffer instanceof NativeDataBuffer ? await (buffer as NativeDataBuffer<FieldsInput>).prepareLoad(join(dir, 'buffer')) : undefined;
    return {
      apply: async () => {
        if (nativeBuffer) await nativeBuffer.apply();
        else await buffer.loadState?.(join(dir, 'buffer'));
        flushPending();
        this.#user.applyLoad(user);
        this.#cursor = cursor;
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
