import type { BufferHandle } from '../handles.js';
import type { FieldsInput } from '../schema.js';
import { attach, NativeDataBuffer } from './native-buffer.js';

export interface SequentialBufferOptions {
  /** Seed of the RNG `sample()` draws with, an integer in [0, 2^53); random when absent. */
  seed?: number;
}

/** A FIFO ring: when full, the oldest row goes. `getData()` returns oldest first. */
export class SequentialBuffer<const F extends FieldsInput> extends NativeDataBuffer<F> {
  /**
   * @param fields - field names or a schema
   * @param maxSize - most rows held, an integer in [1, 2^31 - 1]
   * @throws `EXPBUF_INVALID_ARGUMENT` for a bad field, size or option (unknown keys too)
   */
  constructor(fields: F, maxSize: number, options?: SequentialBufferOptions) {
    super('sequential', fields, maxSize, options);
  }

  /** The buffer behind `handle` (from `handle()` in any thread), in this thread. */
  static fromHandle<const F extends FieldsInput>(handle: BufferHandle<SequentialBuffer<F>>): SequentialBuffer<F> {
    const a = attach<F>(handle, 'sequential');
    return new SequentialBuffer(a.fields, a.maxSize, a.init as SequentialBufferOptions);
  }
}
