import type { BufferHandle } from '../handles.js';
import type { FieldsInput } from '../schema.js';
import { attach, NativeDataBuffer } from './native-buffer.js';

export interface ReservoirBufferOptions {
  /** RNG seed, an integer in [0, 2^53); random when absent. */
  seed?: number;
}

/** Algorithm R: every row ever added is held with the same probability maxSize / totalAdded. */
export class ReservoirBuffer<const F extends FieldsInput> extends NativeDataBuffer<F> {
  /**
   * @throws `EXPBUF_INVALID_ARGUMENT` for a bad field, size or option (unknown keys too)
   */
  constructor(fields: F, maxSize: number, options?: ReservoirBufferOptions) {
    super('reservoir', fields, maxSize, options);
  }

  /** The buffer behind `handle` (from `handle()` in any thread), in this thread. */
  static fromHandle<const F extends FieldsInput>(handle: BufferHandle<ReservoirBuffer<F>>): ReservoirBuffer<F> {
    const a = attach<F>(handle, 'reservoir');
    return new ReservoirBuffer(a.fields, a.maxSize, a.init as ReservoirBufferOptions);
  }

  /** Rows ever added, held or not. */
  get totalAdded(): number {
    return this.added;
  }

  protected override describeMore(): Record<string, unknown> {
    return { totalAdded: this.totalAdded };
  }
}
