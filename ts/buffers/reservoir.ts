import type { FieldsInput } from '../schema.js';
import { randomSeed } from '../seed.js';
import type { BufferHandle } from '../handles.js';
import { ATTACHED, attachBuffer, NativeDataBuffer, type NativeBufferInit } from './native-buffer.js';

export interface ReservoirBufferOptions {
  /** RNG seed, an integer in [0, 2^53); random when absent. */
  seed?: number;
}

/** Algorithm R: every row ever added is held with the same probability maxSize / totalAdded. */
export class ReservoirBuffer<const F extends FieldsInput> extends NativeDataBuffer<F> {
  constructor(fields: F, maxSize: number, options: ReservoirBufferOptions | NativeBufferInit = {}) {
    super(fields, maxSize, ATTACHED in options ? options : { kind: 'reservoir', seed: (options as ReservoirBufferOptions).seed ?? randomSeed() });
  }

  /** The buffer behind `handle` (from `handle()` in any thread), in this thread. */
  static fromHandle<const F extends FieldsInput>(handle: BufferHandle<F>): ReservoirBuffer<F> {
    const { schema, attached, description } = attachBuffer(handle, 'reservoir');
    return new ReservoirBuffer(schema as F, description.maxSize, { [ATTACHED]: attached });
  }

  /** Rows ever added, held or not. */
  get totalAdded(): number {
    return this.native.totalAdded;
  }
}
