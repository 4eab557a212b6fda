import type { InspectOptions } from 'node:util';
import { now } from '../clock.js';
import { ExpbufError } from '../errors.js';
import { handleId, type CollectorHandle } from '../handles.js';
import { custom, show } from '../inspect.js';
import { INFO, native, nativeView, slots, type QueueRef, type RingRef } from '../native/binding.js';
import { encodeBatch } from '../rows/columns.js';
import { RowWriter } from '../rows/writer.js';
import { layoutFromInfo, type Layout } from '../schema.js';

/** The counter slots of a queue's block. */
export const QUEUE = slots(INFO.counters.queue, ['queued', 'dropped', 'maxQueueSize'] as const);

/** This thread's ring on one queue, shared by every collector of the thread on it. */
interface ThreadRing {
  ring: RingRef;
  writer: RowWriter;
  /** Open collectors of this thread using it. */
  users: number;
}

/** This thread's rings, by queue id: collectors on one queue keep one collect order. */
const rings = new Map<number, ThreadRing>();

function ringFor(queue: QueueRef, layout: Layout): ThreadRing {
  const id = native.queueId(queue);
  let r = rings.get(id);
  if (r === undefined) {
    const { ring, view } = native.queueRing(queue);
    const writer: RowWriter = new RowWriter(layout, view, {
      publish: (tail, bytes, offsets) => native.ringPublish(ring, tail, bytes, offsets),
      spill: () => native.ringSpill(ring),
    });
    r = { ring, writer, users: 0 };
    rings.set(id, r);
  }
  r.users++;
  return r;
}

function releaseRing(queue: QueueRef, r: ThreadRing): void {
  r.writer.publish();
  if (--r.users === 0) rings.delete(native.queueId(queue));
}

/**
 * The inference side of a `DataUser`: collects steps into a native queue.
 *
 * `collect` checks a step and writes it straight into this thread's ring of the queue
 * (native memory), stamped with the time; no native call is made per step. Rows reach
 * the queue at the latest when this thread calls `flush()` or returns to its event
 * loop (a microtask), and a `DataUser.update()` on this thread flushes first, so it
 * sees every row collected before it. Every collector of one thread on one queue (the
 * user's own, or any made by `fromHandle`) writes into the same ring, so their rows
 * keep their collect order.
 *
 * A collector may live in another worker thread than its user: pass `handle()` to the
 * worker with `postMessage` and call `DataCollector.fromHandle(h)` there.
 *
 * @typeParam T - one step
 */
export class DataCollector<T extends object> {
  readonly #queue: QueueRef;
  readonly #layout: Layout;
  readonly #ring: ThreadRing;
  readonly #counters: Float64Array;
  #closed = false;

  /** @internal Created by `DataUser` or `fromHandle`. */
  constructor(queue: QueueRef, layout: Layout) {
    this.#queue = queue;
    this.#layout = layout;
    this.#ring = ringFor(queue, layout);
    this.#counters = nativeView(Float64Array, native.queueCounters(queue));
  }

  /**
   * A collector on the same native queue as the one that made `handle`, in this
   * thread, with the same field checks. Give the step type with the handle's type:
   * `DataCollector.fromHandle(workerData as CollectorHandle<Step>)`.
   * @throws `EXPBUF_INVALID_ARGUMENT` for something that is not a collector handle;
   *   `EXPBUF_CLOSED` when every holder of the queue has closed it
   */
  static fromHandle<T extends object = never>(handle: CollectorHandle<T>): DataCollector<T> {
    const queue = native.queueAttach(handleId(handle, 'expbuf.collector'));
    return new DataCollector<T>(queue, layoutFromInfo(native.queueFields(queue)));
  }

  /** A structured-cloneable handle for `postMessage`; see `fromHandle`. */
  handle(): CollectorHandle<T> {
    this.#open();
    return { kind: 'expbuf.collector', id: native.queueId(this.#queue) };
  }

  #open(): void {
    if (this.#closed) throw new ExpbufError('EXPBUF_CLOSED', 'collector: closed');
  }

  /**
   * Collects one step, stamped with the current time.
   * @throws `EXPBUF_MISSING_FIELD`, `EXPBUF_UNKNOWN_FIELD`, `EXPBUF_BAD_VALUE`; nothing is collected then
   */
  collect(step: T): void {
    if (this.#closed) this.#open();
    this.#ring.writer.put(step, now());
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
   * now), as a pool follower hands over the rows it pulled. The rows staged before
   * are handed over first, so the batch follows them.
   */
  collectBatchAt(columns: unknown, times: Float64Array | undefined): void {
    this.#open();
    const e = encodeBatch(this.#layout, columns);
    const timestamps = times ?? new Float64Array(e.rows).fill(now());
    const w = this.#ring.writer;
    const pending = w.takeAny();
    w.head = native.queuePush(this.#ring.ring, w.tail, pending?.bytes, pending?.offsets, e.rows, e.typed, e.anyBytes, e.anyOffsets, timestamps);
    w.published = w.tail;
  }

  /** Hands staged rows to the queue now. */
  flush(): void {
    this.#ring.writer.publish();
  }

  /** Rows the queue dropped because it was full (after handing over staged rows). */
  get droppedCount(): number {
    this.#open();
    this.flush();
    return this.#counters[QUEUE.dropped];
  }

  /** Rows waiting in the queue (after handing over staged rows; other threads' rows as last published). */
  get queued(): number {
    this.#open();
    this.flush();
    return this.#counters[QUEUE.queued];
  }

  /**
   * Hands staged rows over, then releases this collector's hold on the queue. Rows
   * already handed over stay queued for the user.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    releaseRing(this.#queue, this.#ring);
    native.queueClose(this.#queue);
  }

  /** What printing shows: fields, queue length and drops. */
  [custom](depth: number, options: InspectOptions): string {
    if (this.#closed) return show('DataCollector', { closed: true }, depth, options);
    const max = this.#counters[QUEUE.maxQueueSize];
    return show('DataCollector', { fields: this.#layout.summary, queued: this.queued, maxQueueSize: max, dropped: this.droppedCount }, depth, options);
  }
}
