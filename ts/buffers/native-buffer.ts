import { native, INFO, nativeView, slots, type BufferRef } from '../native/binding.js';
import { decodeColumns, encodeBatch, rowFrom, rowsFrom } from '../rows/columns.js';
import { Stage } from '../rows/stage.js';
import { flushWriters } from '../rows/writer.js';
import { ExpbufError, invalid } from '../errors.js';
import { handleId, type BufferHandle } from '../handles.js';
import { custom, show } from '../inspect.js';
import type { InspectOptions } from 'node:util';
import { describe, type BatchOf, type DataOf, type FieldsInput, type OutOf, type StepOf, type TypedArray } from '../schema.js';
import { DataBuffer, LAYOUT, SINK, STATE, statePart, type NativeSink, type StatePart } from './data-buffer.js';

/** The counter slots of a buffer's block. */
const C = slots(INFO.counters.buffer, ['size', 'maxSize', 'totalAdded'] as const);

/** A native buffer another thread made, attached by `fromHandle`. */
export class Attached {
  constructor(readonly ref: BufferRef) {}
}

export interface SampleOptions {
  /** Draw rows independently (default), or distinct rows. */
  replacement?: boolean;
}

/**
 * Attaches to the buffer behind `handle`, which must be of `kind`.
 * @throws `EXPBUF_INVALID_ARGUMENT` for a bad handle or another buffer kind; `EXPBUF_CLOSED`
 */
export function attach<F extends FieldsInput>(handle: unknown, kind: string): { init: Attached; fields: F; maxSize: number } {
  const ref = native.bufferAttach(handleId(handle, 'expbuf.buffer'));
  const d = native.bufferDescribe(ref);
  if (d.kind !== kind) {
    native.bufferClose(ref);
    throw invalid(`handle: a ${d.kind} buffer, not a ${kind} one`);
  }
  // The native side owns the fields: the handle carries only the id. (The core reads
  // its own description of fields back as a field declaration.)
  return { init: new Attached(ref), fields: d.fields as unknown as F, maxSize: d.maxSize };
}

/**
 * What every native buffer shares: rows live in preallocated Rust columns. `add()`
 * writes each step straight into native memory (a stage) with no native call; staged
 * rows reach the buffer at the latest when this thread returns to its event loop, and
 * every read of this object (`size`, `sample`, `getData`, …) applies them first.
 * Whole batches cross the boundary in one call.
 */
export abstract class NativeDataBuffer<const F extends FieldsInput> extends DataBuffer<StepOf<F>, DataOf<F>> implements NativeSink {
  readonly #ref: BufferRef;
  readonly #counters: Float64Array;
  readonly #stage: Stage;
  #closed = false;
  /** Reused by `sampleInto`: one output per typed field. */
  readonly #out: unknown[];

  protected constructor(kind: string, fields: F, maxSize: number, init: unknown) {
    super(fields, maxSize);
    this.#ref = init instanceof Attached ? init.ref : native.bufferNew(kind, fields, maxSize, init);
    this.#counters = nativeView(Float64Array, native.bufferCounters(this.#ref));
    this.#out = this[LAYOUT].typed.map(() => undefined);
    const ref = this.#ref;
    this.#stage = new Stage(this[LAYOUT], () => {
      const { stage, ring } = native.bufferStage(ref);
      return { ring, flush: (tail, bytes, offsets) => void native.bufferFlush(ref, stage, tail, bytes, offsets) };
    });
  }

  /** @internal The native buffer, with this thread's staged rows applied. */
  get [SINK](): BufferRef {
    this.#open();
    this.#sync();
    return this.#ref;
  }

  /** Throws `EXPBUF_CLOSED` once closed. */
  #open(): void {
    if (this.#closed) throw new ExpbufError('EXPBUF_CLOSED', 'buffer: closed');
  }

  /**
   * Applies this thread's staged rows: this object's `add()`s, and those of every other
   * object (and collector) of this thread, so a read sees every row this thread wrote.
   */
  #sync(): void {
    flushWriters();
  }

  /**
   * A structured-cloneable handle for `postMessage`: another thread's
   * `<BufferClass>.fromHandle(h)` reads and samples the same native rows.
   */
  handle(): BufferHandle<this> {
    this.#sync();
    return { kind: 'expbuf.buffer', id: native.bufferId(this.#ref) };
  }

  /**
   * Adds one step.
   * @throws `EXPBUF_MISSING_FIELD`, `EXPBUF_UNKNOWN_FIELD`, `EXPBUF_BAD_VALUE`; the buffer is then unchanged
   */
  add(step: StepOf<F>): void {
    this.#open();
    this.#stage.put(step);
  }

  /**
   * Adds rows given as one column per field (a TypedArray of `rows × prod(shape)`
   * elements, a number array, or an array of per-row values). All rows or none.
   */
  addBatch(columns: BatchOf<F>): void {
    this.#sync();
    const e = encodeBatch(this[LAYOUT], columns);
    native.bufferAddBatch(this.#ref, e.rows, e.typed, e.anyBytes, e.anyOffsets);
  }

  /** A copy of every held row, in storage order: a TypedArray per typed field, an array per `any` field. */
  getData(): DataOf<F> {
    this.#sync();
    return decodeColumns(this[LAYOUT], native.bufferGetData(this.#ref)).data as DataOf<F>;
  }

  /**
   * `batchSize` uniformly drawn rows.
   * @throws `EXPBUF_EMPTY` when no row is held; `EXPBUF_INVALID_ARGUMENT` for a bad size or
   *   option, or more rows than held without replacement
   */
  sample(batchSize: number, options?: SampleOptions): DataOf<F> {
    this.#sync();
    return decodeColumns(this[LAYOUT], native.bufferSample(this.#ref, batchSize, options)).data as DataOf<F>;
  }

  /**
   * Draws as many rows as `out` holds into `out` (caller-owned: one TypedArray per
   * typed field, of its dtype, all of the same row count), allocating nothing; resolves
   * to that row count. Everything is checked before the first draw.
   * @throws `EXPBUF_INVALID_ARGUMENT` for arrays of another type or length (nothing drawn)
   */
  sampleInto(out: OutOf<F>, options?: SampleOptions): number {
    this.#sync();
    if (typeof out !== 'object' || out === null) throw invalid(`out: expected an object of typed arrays, got ${describe(out)}`);
    const o = out as Record<string, TypedArray>;
    const args = this.#out;
    const typed = this[LAYOUT].typed;
    for (let i = 0; i < typed.length; i++) args[i] = o[typed[i].name];
    try {
      return native.bufferSampleInto(this.#ref, options, args);
    } finally {
      args.fill(undefined);
    }
  }

  /**
   * Row `index` (0 = first in storage order) as a step object.
   * @throws `EXPBUF_INVALID_ARGUMENT` for an index outside [0, size)
   */
  get(index: number): StepOf<F> {
    this.#sync();
    return rowFrom(this[LAYOUT], native.bufferGet(this.#ref, index)) as StepOf<F>;
  }

  /** Every held row, in storage order, as step objects (one copy of the data, one native call). */
  [Symbol.iterator](): IterableIterator<StepOf<F>> {
    this.#sync();
    return rowsFrom(this[LAYOUT], native.bufferGetData(this.#ref)) as IterableIterator<StepOf<F>>;
  }

  /** Removes every row (and resets the count of rows added). */
  clear(): void {
    this.#sync();
    native.bufferClear(this.#ref);
  }

  /** Rows held. */
  get size(): number {
    this.#open();
    this.#sync();
    return this.#counters[C.size];
  }

  /** @internal Rows ever added (held or not). */
  protected get added(): number {
    this.#open();
    this.#sync();
    return this.#counters[C.totalAdded];
  }

  /**
   * Saves every held row, the RNG and the counters into directory `dir`: a
   * `manifest.json` and one numpy `.npy` file per typed field (rows oldest first),
   * plus `any.bin` for `any` fields. Crash-safe: written aside, fsynced, then swapped
   * in, so `dir` always holds the previous state or the new one, whole. The file I/O
   * runs off the JS thread; `update()` and `sample()` on this buffer wait for it
   * meanwhile, collectors do not.
   * @throws `EXPBUF_IO` when the file system fails (the OS error is the cause)
   */
  override async saveState(dir: string): Promise<void> {
    this.#sync();
    await native.bufferSave(this.#ref, dir);
  }

  /**
   * Replaces the rows, RNG and counters with the state saved in `dir`. Every file is
   * checked against the manifest (size, header, checksum) before anything changes.
   * A state of more rows than `maxSize` keeps its newest rows.
   * @throws `EXPBUF_CORRUPT_STATE` naming the file; `EXPBUF_SCHEMA_MISMATCH` for other
   *   fields or another buffer kind
   */
  override async loadState(dir: string): Promise<void> {
    await (await this[STATE].prepare(dir)).apply();
  }

  /** @internal This buffer's part of a composite state. */
  get [STATE](): StatePart {
    const ref = this.#ref;
    return statePart(
      () => this.#sync(),
      (dir) => native.bufferWrite(ref, dir),
      (dir) => native.bufferPrepareLoad(ref, dir),
      (prepared) => native.bufferApplyLoad(ref, prepared),
    );
  }

  /** Releases this thread's hold on the native buffer (after applying staged rows); it is freed when no thread holds it. */
  close(): void {
    if (this.#closed) return;
    this.#sync();
    this.#closed = true;
    native.bufferClose(this.#ref);
  }

  /** What printing shows: kind, size / maxSize, fields. */
  [custom](depth: number, options: InspectOptions): string {
    const name = this.constructor.name;
    if (this.#closed) return show(name, { closed: true }, depth, options);
    return show(name, { size: this.size, maxSize: this.maxSize, fields: this[LAYOUT].summary, ...this.describeMore() }, depth, options);
  }

  /** @internal Kind-specific figures for printing. */
  protected describeMore(): Record<string, unknown> {
    return {};
  }
}
