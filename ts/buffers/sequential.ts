import type { FieldsInput } from '../schema.js';
import { randomSeed } from '../seed.js';
import type { BufferHandle } from '../handles.js';
import { ATTACHED, attachBuffer, NativeDataBuffer, type NativeBufferInit } from './native-buffer.js';

export interface SequentialBufferOptions {
  /** Seed of the RNG `sample()` draws with, an integer in [0, 2^53); random when absent. */
  seed?: number;
}

/** A FIFO ring: when full, the oldest row goes. `getData()` returns oldest first. */
export class SequentialBuffer<const F extends FieldsInput> extends NativeDataBuffer<F> {
  constructor(fields: F, maxSize: number, options: SequentialBufferOptions | NativeBufferInit = {}) {
    super(fields, maxSize, ATTACHED in options ? options : { kind: 'sequential', seed: (options as SequentialBufferOptions).seed ?? randomSeed() });
  }

  /** The buffer behind `handle` (from `handle()` in any thread), in this thread. */
  static fromHandle<const F extends FieldsInput>(handle: BufferHandle<F>): SequentialBuffer<F> {
    const { schema, attached, description } = attachBuffer(handle, 'sequential');
    return new SequentialBuffer(schema as F, description.maxSize, { [ATTACHED]: attached });
  }
}
