import type { BufferOptions, NativeBuffer } from '../../native/binding.js';
import { decodeColumns, encodeBatch, RowStage } from '../encode.js';
import { native } from '../native.js';
import type { BatchOf, DataOf, FieldsInput, StepOf } from '../schema.js';
import { DataBuffer } from './data-buffer.js';

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

  protected constructor(fields: F, maxSize: number, options: BufferOptions) {
    super(fields, maxSize);
    this.native = new native.NativeBuffer(this.layout.decls, maxSize, options);
    this.#scratch = new RowStage(this.layout, 1);
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
