/**
 * Field declarations, the types inferred from them, and their parsed layout.
 */
import { ExpbufError } from './errors.js';
import type { FieldDecl } from '../native/binding.js';

export type Dtype = 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'uint8' | 'uint16' | 'uint32';
/** A typed field (a dtype, with an optional shape) or `'any'`: one structured-cloneable value. */
export type FieldSpec = Dtype | { readonly dtype: Dtype; readonly shape?: readonly number[] } | 'any';
export type Schema = { readonly [name: string]: FieldSpec };
/** Field names alone (every field `any`) or a schema. */
export type FieldsInput = readonly string[] | Schema;

interface DtypeArrays {
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
}
export type TypedArray = DtypeArrays[Dtype];
export type TypedArrayOf<D extends Dtype> = DtypeArrays[D];

type DtypeOf<F> = F extends Dtype ? F : F extends { readonly dtype: infer D extends Dtype } ? D : never;
type NameOf<I> = I extends readonly (infer N extends string)[] ? N : never;

/** What one field of a step takes. */
export type FieldValue<F> = F extends 'any' ? unknown : number | ArrayLike<number>;
/** What `getData()` / `sample()` return for one field. */
export type FieldColumn<F> = F extends 'any' ? unknown[] : TypedArrayOf<DtypeOf<F>>;
/** What `addBatch` / `collectBatch` take for one field. */
export type FieldBatch<F> = F extends 'any'
  ? readonly unknown[]
  : TypedArrayOf<DtypeOf<F>> | ArrayLike<number> | readonly ArrayLike<number>[];

/** One step: exactly the buffer's fields. */
export type StepOf<I extends FieldsInput> = I extends readonly string[]
  ? { [K in NameOf<I>]: unknown }
  : { -readonly [K in keyof I]: FieldValue<I[K]> };
/** Whole columns, one entry per field. */
export type DataOf<I extends FieldsInput> = I extends readonly string[]
  ? { [K in NameOf<I>]: unknown[] }
  : { -readonly [K in keyof I]: FieldColumn<I[K]> };
/** A batch of rows: one column per field, all of the same row count. */
export type BatchOf<I extends FieldsInput> = I extends readonly string[]
  ? { [K in NameOf<I>]: readonly unknown[] }
  : { [K in keyof I]: FieldBatch<I[K]> };

type TypedArrayCtor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

const DTYPES: Record<Dtype, { ctor: TypedArrayCtor; min: number; max: number; integer: boolean }> = {
  float32: { ctor: Float32Array, min: -Infinity, max: Infinity, integer: false },
  float64: { ctor: Float64Array, min: -Infinity, max: Infinity, integer: false },
  int8: { ctor: Int8Array, min: -128, max: 127, integer: true },
  int16: { ctor: Int16Array, min: -32768, max: 32767, integer: true },
  int32: { ctor: Int32Array, min: -2147483648, max: 2147483647, integer: true },
  uint8: { ctor: Uint8Array, min: 0, max: 255, integer: true },
  uint16: { ctor: Uint16Array, min: 0, max: 65535, integer: true },
  uint32: { ctor: Uint32Array, min: 0, max: 4294967295, integer: true },
};

export interface TypedField {
  readonly kind: 'typed';
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** Elements per row: the product of `shape`. */
  readonly elements: number;
  readonly ctor: TypedArrayCtor;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

export interface AnyField {
  readonly kind: 'any';
  readonly name: string;
}

export type Field = TypedField | AnyField;

/** A parsed field list: the order of `typed` and `any` is the native column order. */
export interface Layout {
  readonly fields: readonly Field[];
  readonly names: readonly string[];
  readonly typed: readonly TypedField[];
  readonly any: readonly AnyField[];
  /** The declaration the native core takes. */
  readonly decls: FieldDecl[];
}

function invalid(message: string): ExpbufError {
  return new ExpbufError('EXPBUF_INVALID_ARGUMENT', message);
}

function parseField(name: string, spec: unknown): Field {
  if (spec === 'any') return { kind: 'any', name };
  const obj = typeof spec === 'object' && spec !== null ? (spec as { dtype?: unknown; shape?: unknown }) : undefined;
  const dtype = typeof spec === 'string' ? spec : obj?.dtype;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) {
    throw invalid(`field '${name}': expected 'any', a dtype (${Object.keys(DTYPES).join(', ')}) or { dtype, shape }, got ${describe(spec)}`);
  }
  const shape = obj?.shape ?? [];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 1 && d <= 2 ** 24)) {
    throw invalid(`field '${name}': shape must be an array of positive integers, got ${describe(shape)}`);
  }
  const elements = shape.reduce((a: number, d: number) => a * d, 1);
  if (elements > 2 ** 24) throw invalid(`field '${name}': shape ${JSON.stringify(shape)} has more than 2^24 elements`);
  const d = DTYPES[dtype as Dtype];
  return { kind: 'typed', name, dtype: dtype as Dtype, shape: [...shape], elements, ctor: d.ctor, min: d.min, max: d.max, integer: d.integer };
}

/** Parses field names or a schema; throws `EXPBUF_INVALID_ARGUMENT` naming the field. */
export function layoutOf(input: FieldsInput): Layout {
  let fields: Field[];
  if (Array.isArray(input)) {
    fields = input.map((name: unknown, i) => {
      if (typeof name !== 'string' || name.length === 0) throw invalid(`fields[${i}]: expected a non-empty field name, got ${describe(name)}`);
      return { kind: 'any', name } as const;
    });
  } else if (typeof input === 'object' && input !== null) {
    fields = Object.entries(input).map(([name, spec]) => parseField(name, spec));
  } else {
    throw invalid(`fields: expected an array of names or a schema object, got ${describe(input)}`);
  }
  if (fields.length === 0) throw invalid('fields: a buffer needs at least one field');
  const names = fields.map((f) => f.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw invalid(`fields: '${dup}' is declared twice`);
  return {
    fields,
    names,
    typed: fields.filter((f): f is TypedField => f.kind === 'typed'),
    any: fields.filter((f): f is AnyField => f.kind === 'any'),
    decls: fields.map((f) => (f.kind === 'any' ? { name: f.name } : { name: f.name, dtype: f.dtype, shape: [...f.shape] })),
  };
}

/** Whether two layouts declare the same fields in the same order. */
export function sameLayout(a: Layout, b: Layout): boolean {
  return JSON.stringify(a.decls) === JSON.stringify(b.decls);
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
