/**
 * Field declarations, the types inferred from them, and their layout: the TypedArray
 * constructor, element count and range of each field. The core checks a declaration
 * (`native.schema`); this module only turns its answer into what JS code needs.
 */
import { native, type FieldInfo } from './native/binding.js';

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
export type FieldBatch<F> = F extends 'any' ? readonly unknown[] : TypedArrayOf<DtypeOf<F>> | ArrayLike<number> | readonly ArrayLike<number>[];

/** One step: exactly the buffer's fields. */
export type StepOf<I extends FieldsInput> = I extends readonly string[] ? { [K in NameOf<I>]: unknown } : { -readonly [K in keyof I]: FieldValue<I[K]> };
/** Whole columns, one entry per field. */
export type DataOf<I extends FieldsInput> = I extends readonly string[] ? { [K in NameOf<I>]: unknown[] } : { -readonly [K in keyof I]: FieldColumn<I[K]> };
/** A batch of rows: one column per field, all of the same row count. */
export type BatchOf<I extends FieldsInput> = I extends readonly string[] ? { [K in NameOf<I>]: readonly unknown[] } : { [K in keyof I]: FieldBatch<I[K]> };
/** Caller-owned output arrays for `sampleInto`: one TypedArray per typed field. */
export type OutOf<I extends FieldsInput> = I extends readonly string[]
  ? Record<never, never>
  : { [K in keyof I as I[K] extends 'any' ? never : K]: TypedArrayOf<DtypeOf<I[K]>> };

export type TypedArrayCtor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
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
  /** A 0/1 field that also takes `true`/`false`. */
  readonly flag: boolean;
  /** The value a step may leave out (or give as `undefined`). */
  readonly default: number | undefined;
}

export interface AnyField {
  readonly kind: 'any';
  readonly name: string;
}

export type Field = TypedField | AnyField;

/** Parsed fields: the order of `typed` and `any` is the native column order. */
export interface Layout {
  readonly fields: readonly Field[];
  readonly names: readonly string[];
  readonly typed: readonly TypedField[];
  readonly any: readonly AnyField[];
  /** The fields as the core describes them (handed back to make a queue). */
  readonly info: readonly FieldInfo[];
  /** `name: dtype[shape]` per field, for printing. */
  readonly summary: Readonly<Record<string, string>>;
}

/** The layout of fields the core has described. */
export function layoutFromInfo(info: readonly FieldInfo[]): Layout {
  const fields: Field[] = info.map((f) => {
    if (f.dtype === undefined) return { kind: 'any', name: f.name };
    const d = DTYPES[f.dtype];
    const shape = [...(f.shape ?? [])];
    return { kind: 'typed', name: f.name, dtype: f.dtype, shape, elements: shape.reduce((a, n) => a * n, 1), ...d, flag: f.flag === true, default: f.default };
  });
  const summary: Record<string, string> = {};
  for (const f of fields) summary[f.name] = f.kind === 'any' ? 'any' : f.shape.length ? `${f.dtype}[${f.shape.join(', ')}]` : f.dtype;
  return {
    fields,
    names: fields.map((f) => f.name),
    typed: fields.filter((f): f is TypedField => f.kind === 'typed'),
    any: fields.filter((f): f is AnyField => f.kind === 'any'),
    info,
    summary,
  };
}

/**
 * Checks field names or a schema (in the core) and returns their layout.
 * @throws `EXPBUF_INVALID_ARGUMENT` naming the field
 */
export function layoutOf(input: FieldsInput): Layout {
  return layoutFromInfo(native.schema(input));
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} elements`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value)}`;
}
