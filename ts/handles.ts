/**
 * Handles: plain, structured-cloneable descriptions of a native queue or buffer that
 * another worker thread turns back into a collector or buffer on the same native data.
 *
 * Lifetime: a handle does not keep anything alive. The native data lives while some
 * object attached to it (in any thread) is neither closed nor garbage-collected; keep
 * the object that made the handle open until the receiving thread has attached.
 */
import type { FieldDecl } from '../native/binding.js';
import { ExpbufError } from './errors.js';
import type { FieldsInput, FieldSpec, Schema } from './schema.js';

/** What `DataCollector.handle()` returns; `T` (the step type) rides along for TS only. */
export interface CollectorHandle<T extends object = Record<string, unknown>> {
  readonly kind: 'expbuf.collector';
  readonly id: number;
  readonly fields: FieldDecl[];
  /** Never set: carries the step type through `postMessage` for TypeScript. */
  readonly __step?: T;
}

/** What a native buffer's `handle()` returns. */
export interface BufferHandle<F extends FieldsInput = Schema> {
  readonly kind: 'expbuf.buffer';
  readonly id: number;
  readonly fields: FieldDecl[];
  /** Never set: carries the field types through `postMessage` for TypeScript. */
  readonly __fields?: F;
}

/** Checks that `h` is a handle of `kind`; returns its id and fields as a schema. */
export function readHandle(h: unknown, kind: 'expbuf.collector' | 'expbuf.buffer'): { id: number; schema: Schema } {
  const o = h as { kind?: unknown; id?: unknown; fields?: unknown } | null;
  if (typeof o !== 'object' || o === null || o.kind !== kind || typeof o.id !== 'number' || !Array.isArray(o.fields)) {
    throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', `handle: expected a ${kind} handle (from handle()), got ${JSON.stringify(h)?.slice(0, 80)}`);
  }
  const schema: Record<string, FieldSpec> = {};
  for (const f of o.fields as FieldDecl[]) {
    schema[f.name] = f.dtype === undefined || f.dtype === null ? 'any' : ({ dtype: f.dtype, shape: f.shape ?? [] } as FieldSpec);
  }
  return { id: o.id, schema };
}
