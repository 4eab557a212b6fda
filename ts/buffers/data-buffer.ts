import { native, type BufferRef, type ReplayRef } from '../native/binding.js';
import { layoutOf, type FieldsInput, type Layout } from '../schema.js';
import type { Prepared } from '../state.js';

/** Where a buffer keeps its parsed fields: a symbol, so they stay out of JSON and printing. */
export const LAYOUT: unique symbol = Symbol('expbuf.layout');

/**
 * A native buffer's object that `DataUser.update()` moves queued rows into, read after
 * applying this thread's staged `add()`s (and throwing `EXPBUF_CLOSED` once closed).
 */
export const SINK: unique symbol = Symbol('expbuf.sink');

/** How a native buffer's state is written into, and read from, a part of a composite state (a user's, a dict's). */
export const STATE: unique symbol = Symbol('expbuf.state');

/** A part of a staged state: written into a directory, or read and checked, then applied. */
export interface StatePart {
  write(dir: string): Promise<void>;
  prepare(dir: string): Promise<Prepared>;
}

/**
 * The state part of a native object: `write` and `prepare` run its native calls; the
 * object's staged rows are applied (`sync`) before a write and before a loaded state
 * replaces them.
 */
export function statePart<P>(
  sync: () => void,
  write: (dir: string) => Promise<void>,
  prepare: (dir: string) => Promise<P>,
  apply: (prepared: P) => void,
): StatePart {
  return {
    write: async (dir) => {
      sync();
      await write(dir);
    },
    prepare: async (dir) => {
      const prepared = await prepare(dir);
      return {
        apply: async () => {
          sync();
          apply(prepared);
        },
      };
    },
  };
}

/** What the native buffers (plain and replay) add to a `DataBuffer`. */
export interface NativeSink {
  readonly [SINK]: BufferRef | ReplayRef;
  readonly [STATE]: StatePart;
}

/** Whether `buffer` keeps its rows natively (so a user moves rows in one native call). */
export function isNative(buffer: object): buffer is NativeSink {
  return SINK in buffer;
}

/**
 * The extension hook, as pamiq-core's `DataBuffer`: a subclass stores steps its own way
 * and works with `DataUser` and `DataCollector` like the native buffers.
 *
 * A subclass implements `add`, `getData` and `size`, and optionally `saveState` /
 * `loadState`. Steps reach `add` with exactly the declared fields.
 *
 * @typeParam T - one step
 * @typeParam R - what `getData()` returns
 */
export abstract class DataBuffer<T extends object = Record<string, unknown>, R = Record<string, unknown[]>> {
  /** Names of the fields every step carries. */
  readonly collectingDataNames: string[];
  /** Most rows the buffer holds. */
  readonly maxSize: number;
  /** @internal The parsed fields; a field-names buffer has only `any` fields. */
  readonly [LAYOUT]: Layout;

  /**
   * @param collectingDataNames - field names (any structured-cloneable values) or a schema of typed fields
   * @param maxSize - most rows held, an integer in [1, 2^31 - 1]
   * @throws `EXPBUF_INVALID_ARGUMENT` for a bad field list or size
   */
  constructor(collectingDataNames: FieldsInput, maxSize: number) {
    this[LAYOUT] = layoutOf(collectingDataNames);
    this.collectingDataNames = [...this[LAYOUT].names];
    this.maxSize = native.checkRows(maxSize, 'maxSize');
  }

  /** Adds one step. */
  abstract add(step: T): void;

  /** Every held row. */
  abstract getData(): R;

  /** Rows held. */
  abstract get size(): number;

  /** Rows held: `size`, as arrays and pamiq-core's `len()` have it. */
  get length(): number {
    return this.size;
  }

  /** Saves the buffer into directory `dir` (optional for user buffers). */
  saveState?(dir: string): Promise<void>;

  /** Restores what `saveState` wrote into `dir`. */
  loadState?(dir: string): Promise<void>;
}
