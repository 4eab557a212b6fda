import type { BufferDescription, BufferOptions, NativeBuffer } from '../../native/binding.js';
import { decodeColumns, encodeBatch, RowStage } from '../encode.js';
import { ExpbufError } from '../errors.js';
import { readHandle, type BufferHandle } from '../handles.js';
import { native } from '../native.js';
import type { BatchOf, DataOf, FieldsInput, Schema, StepOf } from '../schema.js';
import { task, type Prepared } from '../state.js';
import { DataBuffer } from './data-buffer.js';

/** Options key by which `fromHandle` passes an attached native buffer to a constructor. */
export const ATTACHED = Symbol('expbuf.attached');

/** Buffer options, or an attached native buffer (from `fromHandle`). */
export type NativeBufferInit = BufferOptions | { [ATTACHED]: NativeBuffer };

/**
 * Attaches to the buffer behind `handle`; `kind` is the class asking, which must match.
 * @throws `EXPBUF_INVALID_ARGUMENT` for a bad handle or another buffer kind; `EXPBUF_CLOSED`
 */
export function attachBuffer(handle: unknown, kind: string): { schema: Schema; attached: NativeBuffer; description: BufferDescription } {
  const { id, schema } = readHandle(handle, 'expbuf.buffer');
  const attached = native.NativeBuffer.attach(id);
  const description = attached.describe();
  if (description.kind !== kind) {
    attached.close();
    throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', `handle: a ${description.kind} buffer, not a ${kind} one`);
  }
  return { schema, attached, description };
}

export interface SampleOptions {
  /** Draw rows independently (default), or distinct rows. */
  replacement?: boolean;
}

/**
 * What every native buffer shares: rows live in preallocated Rust columns; calls copy
 * whole batches across the boundary.
 */
export abstract class NativeDataBuffer<const F extends FieldsInput> extends DataBuffer<StepOf<F>, DataOf<F>> {
  /** @internal The Rust buffer; `DataUser` moves queued rows into it in one call. */
  readonly native: NativeBuffer;
  readonly #scratch: RowStage;

  protected constructor(fields: F, maxSize: number, init: NativeBufferInit) {
    super(fields, maxSize);
    this.native = ATTACHED in init ? init[ATTACHED] : new native.NativeBuffer(this.layout.decls, maxSize, init);
    this.#scratch = new RowStage(this.layout, 1);
  }

  /**
   * A structured-cloneable handle for `postMessage`: another thread's
   * `<BufferClass>.fromHandle(h)` reads and samples the same native rows.
   */
  handle(): BufferHandle<F> {
    return { kind: 'expbuf.buffer', id: this.native.handle(), fields: this.layout.decls };
  }

  /**
   * Saves every held row, the RNG and the counters into directory `dir`: a
   * `manifest.json` and one numpy `.npy` file per typed field (rows oldest first),
   * plus `any.bin` for `any` fields. Crash-safe: written aside, fsynced, then swapped
   * in, so `dir` always holds the previous state or the new one, whole. The file I/O
   * runs off the JS thread; calls on this buffer wait for it meanwhile.
   */
  override async saveState(dir: string): Promise<void> {
    await task(this.native.saveState(dir));
  }

  /**
   * Replaces the rows, RNG and counters with the state saved in `dir`. Every file is
   * checked against the manifest (size, header, checksum) before anything changes.
   * A state of more rows than `maxSize` keeps its newest rows.
   * @throws `EXPBUF_CORRUPT_STATE` naming the file; `EXPBUF_SCHEMA_MISMATCH` for other
   *   fields or another buffer kind
   */
  override async loadState(dir: string): Promise<void> {
    await (await this.prepareLoad(dir)).apply();
  }

  /** @internal Writes the state into `dir`, a part of a staged composite state. */
  async writeState(dir: string): Promise<void> {
    await task(this.native.writeState(dir));
  }

  /** @internal Reads and checks the state in `dir`; `apply()` swaps it in. */
  async prepareLoad(dir: string): Promise<Prepared> {
    const prepared = await task(this.native.prepareLoad(dir));
    return { apply: async () => this.native.applyLoad(prepared) };
  }

  /** Releases this thread's hold on the native buffer; it is freed when no thread holds it. */
  close(): void {
    this.native.close();
  }

  /**
   * Adds one step.
   * @throws `EXPBUF_MISSING_FIELD`, `EXPBUF_UNKNOWN_FIELD`, `EXPBUF_BAD_VALUE`; the buffer is then unchanged
   */
  add(step: StepOf<F>): void {
    const s = this.#scratch;
    s.clear();
    s.put(step, 0);
    const e = s.encoded();
    this.native.add(e.rows, e.typed, e.anyBytes, e.anyOffsets);
    s.clear();
  }

  /**
   * Adds rows given as one column per field (a TypedArray of `rows × prod(shape)`
   * elements, a number array, or an array of per-row values). All rows or none.
   */
  addBatch(columns: BatchOf<F>): void {
    const e = encodeBatch(this.layout, columns);
    this.native.add(e.rows, e.typed, e.anyBytes, e.anyOffsets);
  }

  /** A copy of every held row, in storage order: a TypedArray per typed field, an array per `any` field. */
  getData(): DataOf<F> {
    return decodeColumns(this.layout, this.native.getData()).data as DataOf<F>;
  }

  /**
   * `batchSize` uniformly drawn rows.
   * @throws `EXPBUF_EMPTY` when no row is held; `EXPBUF_INVALID_ARGUMENT` for a bad size,
   *   or more rows than held without replacement
   */
  sample(batchSize: number, options: SampleOptions = {}): DataOf<F> {
    const buffers = this.native.sample(batchSize, options.replacement ?? true);
    return decodeColumns(this.layout, buffers).data as DataOf<F>;
  }

  get size(): number {
    return this.native.size;
  }
}
