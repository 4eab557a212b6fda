/**
 * Writing rows straight into native ring memory (a collector's ring on its queue, or
 * a buffer's `add()` stage): a step is checked and written into the next slot through
 * typed views, with no native call; rows are published in one call at a time, at the
 * latest when the thread returns to its event loop (a microtask), every
 * `defaults.publishEvery` rows, when the ring is full, or on `flushWriters()`.
 */
import { INFO, nativeView, type RingView } from '../native/binding.js';
import type { Layout, TypedArray } from '../schema.js';
import { packAny } from './columns.js';
import { encoderFor, type Encoder } from './encoder.js';

/** Where a writer's rows go. */
export interface WriterTarget {
  /** Publishes the rows written up to `tail` (and their `any` values); returns the reader's head. */
  publish(tail: number, anyBytes?: Uint8Array[], anyOffsets?: Uint32Array[]): number;
  /** Called when the ring is still full after a publish: frees it; returns the head. */
  spill(): number;
}

const PUBLISH_EVERY = INFO.defaults.publishEvery;

/** Writers on this thread holding unpublished rows (each once: `RowWriter.listed`). */
const dirty: RowWriter[] = [];
let scheduled = false;

/**
 * Publishes every writer of this thread. From the microtask a publish error (a buffer
 * closed meanwhile) is dropped with the rows, as closing drops staged rows; called
 * directly, it propagates.
 */
export function flushWriters(fromMicrotask = false): void {
  // Only the microtask clears `scheduled`: a loop that publishes by hand (update() per
  // step) then queues one microtask in all, not one per step.
  if (fromMicrotask) scheduled = false;
  // The common case of a read (`size`, `sample`) with nothing staged: no try frame, and
  // no splice (it allocates its result array even when it removes nothing).
  if (dirty.length === 0) return;
  // Publishing never adds to the list, so it can be walked and emptied. If a direct
  // publish throws, the writers after it stay listed for the next flush.
  let i = 0;
  try {
    for (; i < dirty.length; i++) {
      const w = dirty[i];
      w.listed = false;
      if (!fromMicrotask) w.publish();
      else {
        try {
          w.publish();
        } catch {
          // The target is closed: nothing can receive these rows.
        }
      }
    }
  } finally {
    // Walked to the end: empty the list in place. A throw at `i` leaves the writers after it.
    if (i >= dirty.length) dirty.length = 0;
    else dirty.splice(0, i + 1);
  }
}

const flushTask = (): void => flushWriters(true);

export class RowWriter {
  /** One view per typed field over the ring's memory. */
  readonly cols: TypedArray[];
  readonly times: Float64Array;
  readonly capacity: number;
  readonly #mask: number;
  /** Rows written, read (by the reader side) and published, as u32 counters. */
  tail = 0;
  head = 0;
  published = 0;
  /** Serialized `any` values of the written, unpublished rows, per `any` field. */
  readonly #pending: Uint8Array[][];
  readonly #anyOut: Uint8Array[];
  readonly #encode: Encoder;
  /** @internal Whether this writer is in this thread's list of writers to publish. */
  listed = false;

  constructor(
    readonly layout: Layout,
    view: RingView,
    readonly target: WriterTarget,
  ) {
    this.capacity = view.capacity;
    this.#mask = view.capacity - 1;
    this.cols = layout.typed.map((f, i) => nativeView(f.ctor, view.memory, view.columns[i], view.capacity * f.elements));
    this.times = nativeView(Float64Array, view.memory, view.timestamps, view.capacity);
    this.#pending = layout.any.map(() => []);
    this.#anyOut = layout.any.map(() => new Uint8Array(0));
    this.#encode = encoderFor(layout);
  }

  /** Rows written and not yet published. */
  get unpublished(): number {
    return (this.tail - this.published) >>> 0;
  }

  /**
   * Checks `step` and writes it as the next row, stamped `time`. On bad input it
   * throws and the row is not written (the slot is not published).
   */
  put(step: unknown, time: number): void {
    if ((this.tail - this.head) >>> 0 >= this.capacity) this.#makeRoom();
    const slot = this.tail & this.#mask;
    this.#encode(step, slot, this.cols, this.#anyOut);
    for (let j = 0; j < this.#pending.length; j++) this.#pending[j].push(this.#anyOut[j]);
    this.times[slot] = time;
    this.tail = (this.tail + 1) >>> 0;
    const n = (this.tail - this.published) >>> 0;
    if (n === 1) {
      if (!this.listed) {
        this.listed = true;
        dirty.push(this);
      }
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flushTask);
      }
    } else if (n >= PUBLISH_EVERY) {
      this.publish();
    }
  }

  /** Publishes the written rows now. */
  publish(): void {
    if (this.tail === this.published) return;
    const any = this.takeAny();
    this.head = this.target.publish(this.tail, any?.bytes, any?.offsets);
    this.published = this.tail;
  }

  /** The unpublished rows' `any` values, packed, and forgotten here (undefined without `any` fields). */
  takeAny(): { bytes: Uint8Array[]; offsets: Uint32Array[] } | undefined {
    if (this.#pending.length === 0) return undefined;
    const bytes: Uint8Array[] = [];
    const offsets: Uint32Array[] = [];
    for (const values of this.#pending) {
      const p = packAny(values);
      bytes.push(p.bytes);
      offsets.push(p.offsets);
      values.length = 0;
    }
    return { bytes, offsets };
  }

  #makeRoom(): void {
    this.publish();
    if ((this.tail - this.head) >>> 0 >= this.capacity) this.head = this.target.spill();
  }
}
