/**
 * JS values against their fields: checking one value (`writeValue`), a batch of
 * columns (`encodeBatch`), and reading native output back (`decodeColumns`). Every
 * message that blames a value is written here.
 */
import { deserialize, serialize } from 'node:v8';
import { ExpbufError } from '../errors.js';
import { describe, type AnyField, type Field, type Layout, type TypedArray, type TypedField } from '../schema.js';

/** Rows as the native core takes them: one byte view per typed field, packed `any` values. */
export interface EncodedRows {
  rows: number;
  typed: Uint8Array[];
  anyBytes: Uint8Array[];
  anyOffsets: Uint32Array[];
}

export function bad(message: string): ExpbufError {
  return new ExpbufError('EXPBUF_BAD_VALUE', message);
}

/** A flag's value as 0/1, or throws naming the field. */
export function flagValue(f: TypedField, v: unknown): number {
  if (v === true || v === 1) return 1;
  if (v === false || v === 0) return 0;
  throw bad(`field '${f.name}': expected a boolean or 0/1, got ${describe(v)}`);
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
export function writeValue(f: TypedField, value: unknown, dst: TypedArray, offset: number): void {
  if (value === undefined && f.default !== undefined) {
    dst[offset] = f.default;
    return;
  }
  if (f.flag) {
    dst[offset] = flagValue(f, value);
    return;
  }
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

/** Serializes an `any` field's value with `node:v8`. */
export function serializeValue(f: AnyField, value: unknown): Uint8Array {
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
 * Checks that `obj` is an object with exactly the layout's fields (`what` names it in
 * errors): an unknown field first, then a missing one.
 */
export function checkObject(layout: Layout, obj: unknown, what: string): asserts obj is Record<string, unknown> {
  if (typeof obj !== 'object' || obj === null) throw bad(`${what}: expected an object with fields ${layout.names.join(', ')}, got ${describe(obj)}`);
  // Loops rather than Object.keys: a batch call checks its object every time.
  for (const k in obj) {
    if (Object.hasOwn(obj, k) && !layout.names.includes(k)) {
      throw new ExpbufError('EXPBUF_UNKNOWN_FIELD', `${what}: unknown field '${k}' (fields are ${layout.names.join(', ')})`);
    }
  }
  for (const f of layout.fields) {
    if (!Object.hasOwn(obj, f.name) && !(f.kind === 'typed' && f.default !== undefined)) throw missing(layout, f.name, what);
  }
}

/** The value of field `f` in `obj`, or throws `EXPBUF_MISSING_FIELD` (a field with a default may be left out). */
export function fieldValue(layout: Layout, obj: Record<string, unknown>, f: Field, what: string): unknown {
  const v = obj[f.name];
  if (v === undefined && !Object.hasOwn(obj, f.name) && !(f.kind === 'typed' && f.default !== undefined)) throw missing(layout, f.name, what);
  return v;
}

/** Serialized values as one byte array plus `rows + 1` offsets. */
export function packAny(values: readonly Uint8Array[]): { bytes: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(values.length + 1);
  let total = 0;
  for (let r = 0; r < values.length; r++) {
    total += values[r].length;
    offsets[r + 1] = total;
  }
  const bytes = new Uint8Array(total);
  for (let r = 0; r < values.length; r++) bytes.set(values[r], offsets[r]);
  return { bytes, offsets };
}

export function bytesOf(a: TypedArray, elements: number): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, elements * a.BYTES_PER_ELEMENT);
}

/** The row count of one batch column and how it was read, or throws naming the field (undefined: a left-out column with a default). */
function columnRows(f: Field, col: unknown): { rows: number; elements?: number } | undefined {
  if (col === undefined && f.kind === 'typed' && f.default !== undefined) return undefined;
  if (f.kind === 'any') {
    if (!Array.isArray(col)) throw bad(`field '${f.name}': expected an array of values, got ${describe(col)}`);
    return { rows: col.length };
  }
  if (Array.isArray(col) && col.length > 0 && typeof col[0] !== 'number') return { rows: col.length };
  if (isTypedArray(col) || Array.isArray(col)) {
    const n = (col as ArrayLike<unknown>).length;
    if (n % f.elements !== 0) throw bad(`field '${f.name}': ${n} elements is not a whole number of rows of ${f.elements}`);
    return { rows: n / f.elements, elements: n };
  }
  throw bad(`field '${f.name}': expected a TypedArray or an array, got ${describe(col)}`);
}

/** The row count most given columns agree on (ties: the first field's); a column that differs is blamed. */
function agreedRows(fields: readonly Field[], read: ({ rows: number; elements?: number } | undefined)[]): number {
  const counts = read.filter((c): c is { rows: number; elements?: number } => c !== undefined);
  if (counts.every((c) => c.rows === counts[0].rows)) return counts[0]?.rows ?? 0;
  const tally = new Map<number, number>();
  for (const c of counts) tally.set(c.rows, (tally.get(c.rows) ?? 0) + 1);
  let rows = counts[0].rows;
  for (const [r, n] of tally) if (n > (tally.get(rows) ?? 0)) rows = r;
  const i = read.findIndex((c) => c !== undefined && c.rows !== rows);
  const f = fields[i];
  const c = read[i] as { rows: number; elements?: number };
  const what =
    c.elements !== undefined && f.kind === 'typed' && f.elements !== 1 ? `${c.elements} elements are ${c.rows} rows of ${f.elements}` : `${c.rows} rows`;
  throw bad(`field '${f.name}': ${what}, but the other columns have ${rows} rows`);
}

const NO_BYTES: Uint8Array[] = [];
const NO_OFFSETS: Uint32Array[] = [];
/** Per field with a default, a column of it as long as the longest batch so far (the core only reads it). */
const defaults = new WeakMap<TypedField, TypedArray>();

/** `rows` rows of field `f`'s default value, as bytes. */
function defaultColumn(f: TypedField, rows: number): Uint8Array {
  const n = rows * f.elements;
  let col = defaults.get(f);
  if (col === undefined || col.length < n) {
    col = new f.ctor(Math.max(n, 2 * (col?.length ?? 0))).fill(f.default ?? 0);
    defaults.set(f, col);
  }
  return bytesOf(col, n);
}

/**
 * A batch whose columns are all TypedArrays of their fields' dtypes (or left out, with
 * a default): viewed as they are, nothing copied or allocated but the views. Undefined
 * when anything needs the general path, which then finds and names what is wrong.
 */
function viewedBatch(layout: Layout, columns: Record<string, unknown>): EncodedRows | undefined {
  if (layout.any.length > 0) return undefined;
  let rows = -1;
  for (const f of layout.typed) {
    const col = columns[f.name];
    if (col === undefined && f.default !== undefined) continue;
    if (!(col instanceof f.ctor)) return undefined;
    const n = col.length / f.elements;
    if (!Number.isInteger(n) || (rows >= 0 && n !== rows)) return undefined;
    rows = n;
    if (f.flag) for (let i = 0; i < col.length; i++) if (col[i] > 1) return undefined;
  }
  if (rows < 0) return undefined;
  const typed = new Array<Uint8Array>(layout.typed.length);
  for (let i = 0; i < typed.length; i++) {
    const f = layout.typed[i];
    const col = columns[f.name] as TypedArray | undefined;
    typed[i] = col === undefined ? defaultColumn(f, rows) : bytesOf(col, rows * f.elements);
  }
  return { rows, typed, anyBytes: NO_BYTES, anyOffsets: NO_OFFSETS };
}

/**
 * Checks a batch (one column per field) and encodes it. A typed column given as a
 * TypedArray of the field's dtype is passed as a view, without a copy.
 */
export function encodeBatch(layout: Layout, columns: unknown): EncodedRows {
  checkObject(layout, columns, 'columns');
  const viewed = viewedBatch(layout, columns);
  if (viewed !== undefined) return viewed;
  const read = layout.fields.map((f) => columnRows(f, fieldValue(layout, columns, f, 'columns')));
  const rows = agreedRows(layout.fields, read);
  const typed = layout.typed.map((f) => {
    const col = columns[f.name];
    if (col === undefined && f.default !== undefined) return defaultColumn(f, rows);
    if (col instanceof f.ctor && !f.flag) return bytesOf(col, rows * f.elements);
    const out = new f.ctor(rows * f.elements);
    const arr = col as ArrayLike<unknown>;
    if (f.flag) {
      for (let r = 0; r < rows; r++) out[r] = flagValue(f, arr[r]);
    } else if (Array.isArray(col) && rows > 0 && typeof col[0] !== 'number') {
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
    const p = packAny((columns[f.name] as unknown[]).map((v) => serializeValue(f, v)));
    anyBytes.push(p.bytes);
    anyOffsets.push(p.offsets);
  }
  return { rows, typed, anyBytes, anyOffsets };
}

/** Columns decoded from the native core's output buffers. */
export interface DecodedColumns {
  rows: number;
  data: Record<string, TypedArray | unknown[]>;
  timestamps?: Float64Array;
}

/**
 * Decodes `buffers` (each typed column, then per `any` field its bytes and offsets,
 * then optionally the timestamps), deserializing every `any` value; the fields come
 * back in declaration order.
 */
export function decodeColumns(layout: Layout, buffers: readonly ArrayBuffer[], withTimestamps = false): DecodedColumns {
  const data: Record<string, TypedArray | unknown[]> = {};
  let rows = 0;
  let k = 0;
  const columns = new Map<string, TypedArray | unknown[]>();
  for (const f of layout.typed) {
    const arr = new f.ctor(buffers[k++]);
    rows = arr.length / f.elements;
    columns.set(f.name, arr);
  }
  for (const f of layout.any) {
    const bytes = new Uint8Array(buffers[k++]);
    const offsets = new Uint32Array(buffers[k++]);
    rows = offsets.length - 1;
    const values = new Array<unknown>(rows);
    for (let r = 0; r < rows; r++) values[r] = deserialize(bytes.subarray(offsets[r], offsets[r + 1]));
    columns.set(f.name, values);
  }
  for (const name of layout.names) data[name] = columns.get(name) as TypedArray | unknown[];
  const out: DecodedColumns = { rows, data };
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

/** The one row of `outputs` (a native `get`) as a step object. */
export function rowFrom(layout: Layout, outputs: readonly ArrayBuffer[]): Record<string, unknown> {
  return rowOf(layout, decodeColumns(layout, outputs), 0);
}

/** Every row of `outputs` as step objects (decoded once). */
export function* rowsFrom(layout: Layout, outputs: readonly ArrayBuffer[]): IterableIterator<Record<string, unknown>> {
  const cols = decodeColumns(layout, outputs);
  for (let r = 0; r < cols.rows; r++) yield rowOf(layout, cols, r);
}
