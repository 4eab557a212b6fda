/**
 * Pure-TS buffers with the native buffers' semantics: the benchmark's JS baseline and
 * the oracle of the differential tests. Typed fields live in preallocated TypedArrays.
 */
import { DataBuffer } from '../buffers/data-buffer.js';
import type { SampleOptions } from '../buffers/native-buffer.js';
import { decodeColumns, encodeBatch, RowStage, type EncodedRows } from '../encode.js';
import { ExpbufError } from '../errors.js';
import type { BatchOf, DataOf, FieldsInput, StepOf, TypedArray } from '../schema.js';
import { randomSeed } from '../seed.js';
import { Rng, sampleIndices } from './rng.js';

/** Where a new row goes: a slot, or -1 to drop it. */
type Placer = (len: number, maxSize: number, totalBefore: number, rng: Rng) => number;

const MAX_ROWS = 2 ** 31 - 1;

export abstract class ReferenceBuffer<const F extends FieldsInput> extends DataBuffer<StepOf<F>, DataOf<F>> {
  readonly #cols: TypedArray[];
  readonly #any: Uint8Array[][];
  readonly #rng: Rng;
  readonly #scratch: RowStage;
  #len = 0;
  #head = 0;
  #total = 0;

  protected constructor(fields: F, maxSize: number, seed: number | undefined, private readonly placer: Placer | 'rotate') {
    super(fields, maxSize);
    if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 53)) {
      throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', `seed: ${seed} is not an integer in [0, 2^53)`);
    }
    this.#cols = this.layout.typed.map((f) => new f.ctor(maxSize * f.elements));
    this.#any = this.layout.any.map(() => []);
    this.#rng = new Rng(seed ?? randomSeed());
    this.#scratch = new RowStage(this.layout, 1);
  }

  add(step: StepOf<F>): void {
    const s = this.#scratch;
    s.clear();
    s.put(step, 0);
    this.#place(s.typed, s.any as Uint8Array[][], 0);
    s.clear();
  }

  addBatch(columns: BatchOf<F>): void {
    const e: EncodedRows = encodeBatch(this.layout, columns);
    const typed = this.layout.typed.map((f, i) => new f.ctor(e.typed[i].buffer as ArrayBuffer, e.typed[i].byteOffset, e.rows * f.elements));
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
    this.layout.typed.forEach((f, i) => {
      const e = f.elements;
      if (e === 1) this.#cols[i][slot] = src[i][r];
      else this.#cols[i].set(src[i].subarray(r * e, r * e + e), slot * e);
    });
    for (let j = 0; j < any.length; j++) this.#any[j][slot] = any[j][r];
  }

  #gather(slots: number[]): DataOf<F> {
    const buffers: ArrayBuffer[] = [];
    this.layout.typed.forEach((f, i) => {
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
    return decodeColumns(this.layout, buffers).data as DataOf<F>;
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
