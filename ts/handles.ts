/**
 * Handles: plain, structured-cloneable values naming a native queue, buffer or replay
 * buffer, for `postMessage`. A handle carries only the object's kind and id; the
 * receiving thread asks the native side for everything else (fields, settings), so a
 * hand-built or altered handle cannot make it misread memory.
 *
 * Lifetime: a handle does not keep anything alive. The native data lives while some
 * object attached to it (in any thread) is neither closed nor garbage-collected; keep
 * the object that made the handle open until the receiving thread has attached.
 */
import { invalid } from './errors.js';

/** What `DataCollector.handle()` returns; `T` (the step type) rides along for TS only. */
export interface CollectorHandle<T extends object> {
  readonly kind: 'expbuf.collector';
  readonly id: number;
  /** Never set: carries the step type through `postMessage` for TypeScript. */
  readonly __step?: T;
}

/** What a buffer's `handle()` returns; `B` (the buffer's class) rides along for TS only. */
export interface BufferHandle<B> {
  readonly kind: 'expbuf.buffer';
  readonly id: number;
  /** Never set: carries the buffer type through `postMessage` for TypeScript. */
  readonly __buffer?: B;
}

/** What `ReplayBuffer.handle()` returns; `B` (the buffer's type) rides along for TS only. */
export interface ReplayBufferHandle<B> {
  readonly kind: 'expbuf.replay';
  readonly id: number;
  /** Never set: carries the buffer type through `postMessage` for TypeScript. */
  readonly __buffer?: B;
}

type Kind = 'expbuf.collector' | 'expbuf.buffer' | 'expbuf.replay';

/**
 * The id of handle `h` of `kind`.
 * @throws `EXPBUF_INVALID_ARGUMENT` for anything else
 */
export function handleId(h: unknown, kind: Kind): number {
  const o = h as { kind?: unknown; id?: unknown } | null;
  if (typeof o !== 'object' || o === null || o.kind !== kind || typeof o.id !== 'number') {
    let shown: string;
    try {
      shown = JSON.stringify(h)?.slice(0, 80) ?? String(h);
    } catch {
      shown = String(h);
    }
    throw invalid(`handle: expected a ${kind} handle (from handle()), got ${shown}`);
  }
  return o.id;
}
