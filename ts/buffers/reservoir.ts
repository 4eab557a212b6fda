import type { FieldsInput } from '../schema.js';
import { randomSeed } from '../seed.js';
import { NativeDataBuffer } from './native-buffer.js';

export interface ReservoirBufferOptions {
  /** RNG seed, an integer in [0, 2^53); random when absent. */
  seed?: number;
}

/** Algorithm R: every row ever added is held with the same probability maxSize / totalAdded. */
export class ReservoirBuffer<const F extends FieldsInput> extends NativeDataBuffer<F> {
  constructor(fields: F, maxSize: number, options: ReservoirBufferOptions = {}) {
    super(fields, maxSize, { kind: 'reservoir', seed: options.seed ?? randomSeed() });
  }

  /** Rows ever added, held or not. */
  get totalAdded(): number {
    return this.native.totalAdded;
  }
}
