/**
 * Turning JS steps and batches into native columns, and native columns back into JS:
 * the one place where a value is checked against its field.
 */
import { deserialize, serialize } from 'node:v8';
import { ExpbufError } from './errors.js';
import { describe, type AnyField, type Layout, type TypedArray, type TypedField } from './schema.js';

/** Rows as the native core takes them: one byte view per typed field, packed `any` values. */
export interface EncodedRows {
  rows: number;
  typed: Uint8Array[];
  anyBytes: Uint8Array[];
  anyOffsets: Uint32Array[];
}

function bad(message: string): ExpbufError {
  return new ExpbufError('EXPBUF_BAD_VALUE', message);
}

function checkNumber(f: TypedField, v: unknown): void {
  if (typeof v !== 'number') throw bad(`field '${f.name}': expected a number, got ${describe(v)}`);
  if (f.integer && !(Number.isInteger(v) && v >= f.min && v <= f.max)) {
    throw bad(`field '${f.name}': ${v} is not an integer in ${f.dtype} range [${f.min}, ${f.max}]`);
  }
}

function isTypedArray(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
}

/** Checks one row's value of a typed field and writes it at `offset` of `dst`. */
function writeValue(f: TypedField, value: unknown, dst: TypedArray, offset: number): void {
  if (typeof value === 'number') {
    if (f.elements !== 1) throw bad(`field '${f.name}': expected ${f.elements} elements, got a single number`);
    checkNumber(f, value);
    dst[offset] = value;
    return;
  }
  if (value instanceof f.ctor) {
    // Same dtype: every element is already representable.
    if (value.length !== f.elements) throw bad(`field '${f.name}': expected ${f.elements} elements, got ${value.length}`);
    dst.set(value, offset);
    return;
  }
  if (isTypedArray(value) || Array.isArray(value)) {
    const arr = value as ArrayLike<unknown>;
    if (arr.length !== f.elements) throw bad(`field '${f.name}': expected ${f.elements} elements, got ${arr.length}`);
    for (let i = 0; i < arr.length; i++) checkNumber(f, arr[i]);
    for (let i = 0; i < arr.length; i++) dst[offset + i] = arr[i] as number;
    return;
  }
  throw bad(`field '${f.name}': expected a number or ${f.elements} numbers, got ${describe(value)}`);
}

function serializeValue(f: AnyField, value: unknown): Uint8Array {
  try {
    return serialize(value);
  } catch (e) {
    throw new ExpbufError('EXPBUF_BAD_VALUE', `field '${f.name}': value cannot be structured-cloned (${(e as Error).message})`, { cause: e });
  }
}

function missing(layout: Layout, name: string, what: string): ExpbufError {
  return new ExpbufError('EXPBUF_MISSING_FIELD', `${what}: missing field '${name}' (fields are ${layout.names.join(', ')})`);
}

/**
 * Checks that `obj` is an object with no fields beyond the layout's (`what` names it in
 * errors). Missing fields are found where each value is read (`valueOf`).
 */
function checkObject(layout: Layout, obj: unknown, what: string): asserts obj is Record<string, unknown> {
  if (typeof obj !== 'object' || obj === null) throw bad(`${what}: expected an object with fields ${layout.names.join(', ')}, got ${describe(obj)}`);
  if (Object.keys(obj).length > layout.names.length || !layout.names.every((n) => Object.hasOwn(obj, n))) {
    const unknown = Object.keys(obj).find((k) => !layout.names.includes(k));
    if (unknown !== undefined) {
      throw new ExpbufError('EXPBUF_UNKNOWN_FIELD', `${what}: unknown field '${unknown}' (fields are ${layout.names.join(', ')})`);
    }
  }
}

/**
 * How many enumerable keys `obj` has, without allocating (`Object.keys` builds an
 * array per step). Inherited enumerable keys count too; an object with such keys
 * takes `checkObject`'s exact path, which only refuses real unknown own keys.
 */
function keyCount(obj: object): number {
  let n = 0;
  for (const _ in obj) n++;
  return n;
}

/** The value of field `name`, or throws `EXPBUF_MISSING_FIELD`. */
function valueOf(layout: Layout, obj: Record<string, unknown>, name: string, what: string): unknown {
  const v = obj[name];
  if (v === undefined && !Object.hasOwn(obj, name)) throw missing(layout, name, what);
  return v;
}

function packAny(values: readonly (Uint8Array | undefined)[], rows: number): { bytes: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(rows + 1);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    total += (values[r] as Uint8Array).length;
    offsets[r + 1] = total;
  }
  const bytes = new Uint8Array(total);
  for (let r = 0; r < rows; r++) bytes.set(values[r] as Uint8Array, offsets[r]);
  return { bytes, offsets };
}

function bytesOf(a: TypedArray, elements: number): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, elements * a.BYTES_PER_ELEMENT);
}

/**
 * Preallocated columns that rows are written into one at a time: the collector's
 * staging area and the scratch row of single `add` calls.
 */
export class RowStage {
  /** Rows written. */
  count = 0;
  readonly typed: TypedArray[];
  readonly any: (Uint8Array | undefined)[][];
  readonly timestamps: Float64Array;

  constructor(readonly layout: Layout, readonly capacity: number) {
    this.typed = layout.typed.map((f) => new f.ctor(capacity * f.elements));
    this.any = layout.any.map(() => new Array<Uint8Array | undefined>(capacity).fill(undefined));
    this.timestamps = new Float64Array(capacity);
  }

  /**
   * Checks `step` and writes it as the next row. On bad input it throws and the row
   * count stays as it was, so nothing is changed.
   */
  put(step: unknown, timestamp: number): void {
    const layout = this.layout;
    if (typeof step !== 'object' || step === null || keyCount(step) !== layout.names.length) {
      checkObject(layout, step, 'step');
    }
    const rec = step as Record<string, unknown>;
    const row = this.count;
    for (let i = 0; i < layout.typed.length; i++) {
      const f = layout.typed[i];
      writeValue(f, valueOf(layout, rec, f.name, 'step'), this.typed[i], row * f.elements);
    }
    for (let i = 0; i < layout.any.length; i++) {
      const f = layout.any[i];
      this.any[i][row] = serializeValue(f, valueOf(layout, rec, f.name, 'step'));
    }
    this.timestamps[row] = timestamp;
    this.count = row + 1;
  }

  /** The rows written so far, as views (typed) and packed copies (`any`). */
  encoded(): EncodedRows {
    const rows = this.count;
    const anyBytes: Uint8Array[] = [];
    const anyOffsets: Uint32Array[] = [];
    for (const values of this.any) {
      const p = packAny(values, rows);
      anyBytes.push(p.bytes);
      anyOffsets.push(p.offsets);
    }
    return {
      rows,
      typed: this.typed.map((a, i) => bytesOf(a, rows * this.layout.typed[i].elements)),
      anyBytes,
      anyOffsets,
    };
  }

  /** Forgets the rows written (and the `any` values they held). */
  clear(): void {
    for (const values of this.any) values.fill(undefined, 0, this.count);
    this.count = 0;
  }
}

/** The row count of one batch column, or throws naming the field. */
function columnRows(f: TypedField | AnyField, col: unknown): number {
  if (f.kind === 'any') {
    if (!Array.isArray(col)) throw bad(`field '${f.name}': expected an array of values, got ${describe(col)}`);
    return col.length;
  }
  if (Array.isArray(col) && col.length > 0 && typeof col[0] !== 'number') return col.length;
  if (isTypedArray(col) || Array.isArray(col)) {
    const n = (col as ArrayLike<unknown>).length;
    if (n % f.elements !== 0) throw bad(`field '${f.name}': ${n} elements is not a whole number of rows of ${f.elements}`);
    return n / f.elements;
  }
  throw bad(`field '${f.name}': expected a TypedArray or an array, got ${describe(col)}`);
}

/**
 * Checks a batch (one column per field) and encodes it. A typed column given as a
 * TypedArray of the field's dtype is passed as a view, without a copy.
 */
export function encodeBatch(layout: Layout, columns: unknown): EncodedRows {
  checkObject(layout, columns, 'columns');
  let rows = -1;
  let first = '';
  for (const f of layout.fields) {
    const n = columnRows(f, valueOf(layout, columns, f.name, 'columns'));
    if (rows === -1) {
      rows = n;
      first = f.name;
    } else if (n !== rows) {
      throw bad(`field '${f.name}': column has ${n} rows, but field '${first}' has ${rows}`);
    }
  }
  const typed = layout.typed.map((f) => {
    const col = columns[f.name];
    if (col instanceof f.ctor) return bytesOf(col, rows * f.elements);
    const out = new f.ctor(rows * f.elements);
    const arr = col as ArrayLike<unknown>;
    if (Array.isArray(col) && rows > 0 && typeof col[0] !== 'number') {
      for (let r = 0; r < rows; r++) writeValue(f, arr[r], out, r * f.elements);
    } else {
      for (let i = 0; i < arr.length; i++) checkNumber(f, arr[i]);
      for (let i = 0; i < arr.length; i++) out[i] = arr[i] as number;
    }
    return bytesOf(out, rows * f.elements);
  });
  const anyBytes: Uint8Array[] = [];
  const anyOffsets: Uint32Array[] = [];
  for (const f of layout.any) {
    const values = (columns[f.name] as unknown[]).map((v) => serializeValue(f, v));
    const p = packAny(values, rows);
    anyBytes.push(p.bytes);
    anyOffsets.push(p.offsets);
  }
  return { rows, typed, anyBytes, anyOffsets };
}

/** Columns decoded from the native core's flat list of ArrayBuffers. */
export interface DecodedColumns {
  rows: number;
  data: Record<string, TypedArray | unknown[]>;
  timestamps?: Float64Array;
}

/**
 * Decodes `buffers` (each typed column, then per `any` field its bytes and offsets,
 * then optionally the timestamps), deserializing every `any` value.
 */
export function decodeColumns(layout: Layout, buffers: ArrayBuffer[], withTimestamps = false): DecodedColumns {
  const data: Record<string, TypedArray | unknown[]> = {};
  let rows = 0;
  let k = 0;
  for (const f of layout.typed) {
    const arr = new f.ctor(buffers[k++]);
    rows = arr.length / f.elements;
    data[f.name] = arr;
  }
  for (const f of layout.any) {
    const bytes = new Uint8Array(buffers[k++]);
    const offsets = new Uint32Array(buffers[k++]);
    rows = offsets.length - 1;
    const values = new Array<unknown>(rows);
    for (let r = 0; r < rows; r++) values[r] = deserialize(bytes.subarray(offsets[r], offsets[r + 1]));
    data[f.name] = values;
  }
  // Keep the caller's field order.
  const ordered: Record<string, TypedArray | unknown[]> = {};
  for (const name of layout.names) ordered[name] = data[name];
  const out: DecodedColumns = { rows, data: ordered };
  if (withTimestamps) out.timestamps = new Float64Array(buffers[k]);
  return out;
}

/** Row `r` of decoded columns as a step object (typed fields as scalars or subarray copies). */
export function rowOf(layout: Layout, cols: DecodedColumns, r: number): Record<string, unknown> {
  const step: Record<string, unknown> = {};
  for (const f of layout.fields) {
    const col = cols.data[f.name];
    if (f.kind === 'any') step[f.name] = (col as unknown[])[r];
    else if (f.elements === 1 && f.shape.length === 0) step[f.name] = (col as TypedArray)[r];
    else step[f.name] = (col as TypedArray).slice(r * f.elements, (r + 1) * f.elements);
  }
  return step;
}
