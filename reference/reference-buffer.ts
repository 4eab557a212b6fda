/**
 * Pure-TS buffers with the native buffers' semantics: the benchmark's JS baseline and
 * the oracle of the differential tests. Typed fields live in preallocated TypedArrays.
 */
import { DataBuffer, LAYOUT } from '../ts/buffers/data-buffer.js';
import type { SampleOptions } from '../ts/buffers/native-buffer.js';
import { ExpbufError } from '../ts/errors.js';
import { decodeColumns, encodeBatch, type EncodedRows } from '../ts/rows/columns.js';
import { encoderFor, type Encoder } from '../ts/rows/encoder.js';
import type { BatchOf, DataOf, FieldsInput, StepOf, TypedArray } from '../ts/schema.js';
import { Rng, sampleIndices } from './rng.js';

/** Where a new row goes: a slot, or -1 to drop it. */
type Placer = (len: number, maxSize: number, totalBefore: number, rng: Rng) => number;

const MAX_ROWS = 2 ** 31 - 1;

export abstract class ReferenceBuffer<const F extends FieldsInput> extends DataBuffer<StepOf<F>, DataOf<F>> {
  readonly #cols: TypedArray[];
  readonly #any: Uint8Array[][];
  readonly #rng: Rng;
  /** One row per typed field, and the `any` values, that `add` checks a step into. */
  readonly #row: TypedArray[];
  readonly #anyRow: Uint8Array[];
  readonly #encode: Encoder;
  #len = 0;
  #head = 0;
  #total = 0;

  /** `seed`: the oracle always takes one (the native buffers check seeds). */
  protected constructor(fields: F, maxSize: number, seed: number, private readonly placer: Placer | 'rotate') {
    super(fields, maxSize);
    const layout = this[LAYOUT];
    this.#cols = layout.typed.map((f) => new f.ctor(maxSize * f.elements));
    this.#any = layout.any.map(() => []);
    this.#rng = new Rng(seed);
    this.#row = layout.typed.map((f) => new f.ctor(f.elements));
    this.#anyRow = layout.any.map(() => new Uint8Array(0));
    this.#encode = encoderFor(layout);
  }

  add(step: StepOf<F>): void {
    this.#encode(step, 0, this.#row, this.#anyRow);
    this.#place(this.#row, this.#anyRow.map((v) => [v]), 0);
  }

  addBatch(columns: BatchOf<F>): void {
    const e: EncodedRows = encodeBatch(this[LAYOUT], columns);
    const typed = this[LAYOUT].typed.map((f, i) => new f.ctor(e.typed[i].buffer as ArrayBuffer, e.typed[i].byteOffset, e.rows * f.elements));
    const any = e.anyBytes.map((bytes, i) => {
      const o = e.anyOffsets[i];
      return Array.from({ length: e.rows }, (_, r) => bytes.subarray(o[r], o[r + 1]).slice());
    });
    for (let r = 0; r < e.rows; r++) this.#place(typed, any, r);
  }

  #place(src: TypedArray[], any: Uint8Array[][], r: number): void {
    const max = this.maxSize;
    let slot: number;
    if (this.#len < max) {
      slot = this.#len++;
    } else if (this.placer === 'rotate') {
      slot = this.#head;
      this.#head = (this.#head + 1) % max;
    } else {
      slot = this.placer(this.#len, max, this.#total, this.#rng);
    }
    this.#total++;
    if (slot < 0) return;
    this[LAYOUT].typed.forEach((f, i) => {
      const e = f.elements;
      if (e === 1) this.#cols[i][slot] = src[i][r];
      else this.#cols[i].set(src[i].subarray(r * e, r * e + e), slot * e);
    });
    for (let j = 0; j < any.length; j++) this.#any[j][slot] = any[j][r];
  }

  #gather(slots: number[]): DataOf<F> {
    const buffers: ArrayBuffer[] = [];
    this[LAYOUT].typed.forEach((f, i) => {
      const e = f.elements;
      const out = new f.ctor(slots.length * e);
      const col = this.#cols[i];
      for (let k = 0; k < slots.length; k++) {
        if (e === 1) out[k] = col[slots[k]];
        else out.set(col.subarray(slots[k] * e, slots[k] * e + e), k * e);
      }
      buffers.push(out.buffer as ArrayBuffer);
    });
    for (const held of this.#any) {
      const offsets = new Uint32Array(slots.length + 1);
      let total = 0;
      slots.forEach((s, k) => (offsets[k + 1] = total += held[s].length));
      const bytes = new Uint8Array(total);
      slots.forEach((s, k) => bytes.set(held[s], offsets[k]));
      buffers.push(bytes.buffer, offsets.buffer);
    }
    return decodeColumns(this[LAYOUT], buffers).data as DataOf<F>;
  }

  #slot(i: number): number {
    const s = this.#head + i;
    return s >= this.maxSize ? s - this.maxSize : s;
  }

  getData(): DataOf<F> {
    return this.#gather(Array.from({ length: this.#len }, (_, i) => this.#slot(i)));
  }

  sample(batchSize: number, options: SampleOptions = {}): DataOf<F> {
    const replacement = options.replacement ?? true;
    if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= MAX_ROWS)) {
      throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', `batchSize: ${batchSize} is not an integer in [1, ${MAX_ROWS}]`);
    }
    if (this.#len === 0) throw new ExpbufError('EXPBUF_EMPTY', `sample: the buffer holds no rows (batchSize ${batchSize})`);
    if (!replacement && batchSize > this.#len) {
      throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', `batchSize: ${batchSize} rows without replacement, but only ${this.#len} are held`);
    }
    const idx = sampleIndices(this.#rng, this.#len, batchSize, replacement);
    return this.#gather(idx.map((i) => this.#slot(i)));
  }

  get size(): number {
    return this.#len;
  }

  get isFull(): boolean {
    return this.#len === this.maxSize;
  }

  get totalAdded(): number {
    return this.#total;
  }
}
