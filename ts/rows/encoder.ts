/**
 * A step encoder generated for one layout: unrolled, one fast check per field for the
 * common shapes of a valid step (a number of the field's range, a TypedArray of the
 * field's dtype and length), each falling back to the generic checks of `columns.ts`
 * (`writeValue`, `checkObject`), so a bad step gets the same code and message as
 * before and a valid one pays for no loop over the layout.
 */
import type { Layout, TypedArray, TypedField } from '../schema.js';
import { checkObject, serializeValue, writeValue } from './columns.js';

/**
 * Writes `step` into slot `slot` of `cols` (one view per typed field) and its `any`
 * values, serialized, into `anyOut`. Throws on a bad step; it may then have written
 * part of the slot, which the caller has not published, so nothing changed.
 */
export type Encoder = (step: unknown, slot: number, cols: readonly TypedArray[], anyOut: Uint8Array[]) => void;

const cache = new WeakMap<Layout, Encoder>();

/** The fast check that a scalar value `v` fits field `f` exactly. */
function scalarCheck(f: TypedField): string {
  switch (f.dtype) {
    case 'float32':
    case 'float64':
      return `typeof v === 'number'`;
    case 'int32':
      return `(v | 0) === v`;
    case 'uint32':
      return `(v >>> 0) === v`;
    case 'int16':
      return `((v << 16) >> 16) === v`;
    case 'uint16':
      return `(v & 0xffff) === v`;
    case 'int8':
      return `((v << 24) >> 24) === v`;
    case 'uint8':
      return `(v & 0xff) === v`;
  }
}

/** The encoder of `layout` (generated once per layout). */
export function encoderFor(layout: Layout): Encoder {
  const hit = cache.get(layout);
  if (hit !== undefined) return hit;
  const key = (name: string) => JSON.stringify(name);
  const lines: string[] = [];
  layout.typed.forEach((_, i) => {
    lines.push(`const C${i} = ctors[${i}];`);
  });
  lines.push('return function encode(step, slot, cols, anyOut) {');
  lines.push("  if (typeof step !== 'object' || step === null) return slow(step, slot, cols, anyOut);");
  // Counting keys with for-in allocates nothing (Object.keys builds an array per step).
  // for-in also yields inherited enumerable keys, which the generic check does not
  // count as fields: such a step takes the generic path. (V8 answers hasOwnProperty
  // on a for-in key from the enum cache: about a nanosecond.)
  lines.push('  let n = 0;');
  lines.push('  for (const k in step) {');
  lines.push('    if (!hasOwn.call(step, k)) return slow(step, slot, cols, anyOut);');
  lines.push('    n++;');
  lines.push('  }');
  // Fields a step may leave out lower the count of keys it must have.
  lines.push(`  let known = ${layout.names.length};`);
  layout.typed.forEach((f) => {
    if (f.default !== undefined) lines.push(`  if (step[${key(f.name)}] === undefined) known--;`);
  });
  lines.push('  if (n !== known) return slow(step, slot, cols, anyOut);');
  lines.push('  let v;');
  layout.typed.forEach((f, i) => {
    lines.push(`  v = step[${key(f.name)}];`);
    if (f.default !== undefined) {
      lines.push(`  if (v === undefined) cols[${i}][slot] = ${f.default};`);
      lines.push('  else');
    }
    if (f.flag) {
      lines.push(
        `  if (v === true || v === 1) cols[${i}][slot] = 1; else if (v === false || v === 0) cols[${i}][slot] = 0; else put(${i}, step, v, slot, cols);`,
      );
    } else if (f.elements === 1) {
      lines.push(`  if (${scalarCheck(f)}) cols[${i}][slot] = v; else put(${i}, step, v, slot, cols);`);
    } else {
      lines.push(`  if (v instanceof C${i} && v.length === ${f.elements}) cols[${i}].set(v, slot * ${f.elements}); else put(${i}, step, v, slot, cols);`);
    }
  });
  layout.any.forEach((f, j) => {
    lines.push(`  anyOut[${j}] = ser(${j}, step, step[${key(f.name)}]);`);
  });
  lines.push('};');
  // A step with as many own keys as fields may still lack one and have an unknown
  // one instead: when a field's value is refused (or is missing), the object is
  // checked first, so the error is the generic path's (an unknown field, then a
  // missing one, then the value).
  const put = (i: number, step: Record<string, unknown>, v: unknown, slot: number, cols: readonly TypedArray[]): void => {
    const f = layout.typed[i];
    try {
      writeValue(f, v, cols[i], slot * f.elements);
    } catch (e) {
      checkObject(layout, step, 'step');
      throw e;
    }
  };
  const ser = (j: number, step: Record<string, unknown>, v: unknown): Uint8Array => {
    const f = layout.any[j];
    // `undefined` serializes: only the object check tells a missing value from an own one.
    if (v === undefined) checkObject(layout, step, 'step');
    try {
      return serializeValue(f, v);
    } catch (e) {
      checkObject(layout, step, 'step');
      throw e;
    }
  };
  // A step that is not a plain object of exactly the fields: the full check, then the
  // generic path for each field (it may still be valid, e.g. with inherited keys).
  const slow: Encoder = (step, slot, cols, anyOut) => {
    checkObject(layout, step, 'step');
    layout.typed.forEach((f, i) => {
      writeValue(f, step[f.name], cols[i], slot * f.elements);
    });
    layout.any.forEach((f, j) => {
      anyOut[j] = serializeValue(f, step[f.name]);
    });
  };
  const make = new Function('ctors', 'put', 'slow', 'ser', 'hasOwn', lines.join('\n')) as (
    ctors: readonly unknown[],
    p: typeof put,
    s: typeof slow,
    z: typeof ser,
    h: typeof Object.prototype.hasOwnProperty,
  ) => Encoder;
  const encoder = make(
    layout.typed.map((f) => f.ctor),
    put,
    slow,
    ser,
    Object.prototype.hasOwnProperty,
  );
  cache.set(layout, encoder);
  return encoder;
}
