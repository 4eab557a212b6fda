import type { NativeQueue } from '../../native/binding.js';
import { now } from '../clock.js';
import { encodeBatch, RowStage } from '../encode.js';
import { ExpbufError } from '../errors.js';
import { readHandle, type CollectorHandle } from '../handles.js';
import { native } from '../native.js';
import { layoutOf, type Layout } from '../schema.js';

/** Rows staged per collector before they are handed to the queue in one native call. */
export const STAGE_ROWS = 1024;

/** Collectors on this thread holding staged rows; `DataUser.update()` flushes them. */
const pending = new Set<DataCollector<object>>();

/** Hands every staged row on this thread to its queue. */
export function flushPending(): void {
  for (const c of pending) c.flush();
}

/**
 * The inference side of a `DataUser`: collects steps into a native queue.
 *
 * Steps are checked at `collect` time and staged in preallocated typed columns; a full
 * stage of `STAGE_ROWS` rows is handed over in one native call. Staged rows reach the
 * queue at the latest when this thread calls `flush()` or returns to its event loop
 * (a microtask), and a `DataUser.update()` on this thread flushes first, so it sees
 * every row collected before it.
 *
 * A collector may live in another worker thread than its user: pass `handle()` to
 * the worker with `postMessage` and call `DataCollector.fromHandle(h)` there.
 *
 * @typeParam T - one step
 */
export class DataCollector<T extends object = Record<string, unknown>> {
  readonly #queue: NativeQueue;
  readonly #stage: RowStage;
  readonly #flushTask = (): void => this.flush();
  #closed = false;

  /** @internal Created by `DataUser` or `fromHandle`. */
  constructor(queue: NativeQueue, layout: Layout) {
    this.#queue = queue;
    this.#stage = new RowStage(layout, STAGE_ROWS);
  }

  /**
   * A collector on the same native queue as the one that made `handle`, in this
   * thread, with the same field checks.
   * @throws `EXPBUF_INVALID_ARGUMENT` for something that is not a collector handle;
   *   `EXPBUF_CLOSED` when every holder of the queue has closed it
   */
  static fromHandle<T extends object = Record<string, unknown>>(handle: CollectorHandle<T>): DataCollector<T> {
    const { id, schema } = readHandle(handle, 'expbuf.collector');
    return new DataCollector<T>(native.NativeQueue.attach(id), layoutOf(schema));
  }

  /** A structured-cloneable handle for `postMessage`; see `fromHandle`. */
  handle(): CollectorHandle<T> {
    this.#checkOpen();
    return { kind: 'expbuf.collector', id: this.#queue.handle(), fields: this.#stage.layout.decls };
  }

  /**
   * Hands staged rows over, then releases this collector's hold on the queue. Rows
   * already handed over stay queued for the user.
   */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#queue.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ExpbufError('EXPBUF_CLOSED', 'collector: closed');
  }

  /**
   * Collects one step, stamped with the current time.
   * @throws `EXPBUF_MISSING_FIELD`, `EXPBUF_UNKNOWN_FIELD`, `EXPBUF_BAD_VALUE`; nothing is collected then
   */
  collect(step: T): void {
    if (this.#closed) this.#checkOpen();
    const stage = this.#stage;
    stage.put(step, now());
    if (stage.count === 1) {
      pending.add(this);
      queueMicrotask(this.#flushTask);
    }
    if (stage.count === stage.capacity) this.flush();
  }

  /**
   * Collects a batch of rows given as one column per field, all stamped with the
   * current time. All rows or none.
   */
  collectBatch(columns: { [K in keyof T]: unknown }): void {
    this.collectBatchAt(columns, undefined);
  }

  /**
   * @internal Collects a batch stamped with the given times (one per row; default:
   * now), as a pool follower hands over the rows it pulled.
   */
  collectBatchAt(columns: unknown, times: Float64Array | undefined): void {
    this.#checkOpen();
    const e = encodeBatch(this.#stage.layout, columns);
    this.flush();
    const timestamps = times ?? new Float64Array(e.rows).fill(now());
    this.#queue.push(e.rows, e.typed, e.anyBytes, e.anyOffsets, timestamps);
  }

  /** Hands staged rows to the queue now. */
  flush(): void {
    const stage = this.#stage;
    pending.delete(this);
    if (stage.count === 0) return;
    const e = stage.encoded();
    this.#queue.push(e.rows, e.typed, e.anyBytes, e.anyOffsets, stage.timestamps.subarray(0, e.rows));
    stage.clear();
  }

  /** Rows the queue dropped because it was full (after handing over staged rows). */
  get droppedCount(): number {
    this.#checkOpen();
    this.flush();
    return this.#queue.dropped;
  }
}
