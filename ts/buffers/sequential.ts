import type { FieldsInput } from '../schema.js';
import { randomSeed } from '../seed.js';
import { NativeDataBuffer } from './native-buffer.js';

export interface SequentialBufferOptions {
  /** Seed of the RNG `sample()` draws with, an integer in [0, 2^53); random when absent. */
  seed?: number;
}

/** A FIFO ring: when full, the oldest row goes. `getData()` returns oldest first. */
export class SequentialBuffer<const F extends FieldsInput> extends NativeDataBuffer<F> {
  constructor(fields: F, maxSize: number, options: SequentialBufferOptions = {}) {
    super(fields, maxSize, { kind: 'sequential', seed: options.seed ?? randomSeed() });
  }
}
