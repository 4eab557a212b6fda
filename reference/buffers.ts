import { ExpbufError } from '../errors.js';
import type { FieldsInput } from '../schema.js';
import { resolveReplaceProbability, type RandomReplacementBufferOptions } from '../buffers/random-replacement.js';
import { ReferenceBuffer } from './reference-buffer.js';

/** Pure-TS `SequentialBuffer`. */
export class ReferenceSequentialBuffer<const F extends FieldsInput> extends ReferenceBuffer<F> {
  constructor(fields: F, maxSize: number, options: { seed?: number } = {}) {
    super(fields, maxSize, options.seed, 'rotate');
  }
}

/** Pure-TS `RandomReplacementBuffer`. */
export class ReferenceRandomReplacementBuffer<const F extends FieldsInput> extends ReferenceBuffer<F> {
  readonly replaceProbability: number;

  constructor(fields: F, maxSize: number, options: RandomReplacementBufferOptions = {}) {
    const p = resolveReplaceProbability(maxSize, options);
    if (!(p >= 0 && p <= 1)) throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', `replaceProbability: ${p} is not in [0, 1]`);
    super(fields, maxSize, options.seed, (_len, max, _total, rng) => {
      const replace = p >= 1 || (p > 0 && rng.nextF64() < p);
      return replace ? rng.below(max) : -1;
    });
    this.replaceProbability = p;
  }
}

/** Pure-TS `ReservoirBuffer`. */
export class ReferenceReservoirBuffer<const F extends FieldsInput> extends ReferenceBuffer<F> {
  constructor(fields: F, maxSize: number, options: { seed?: number } = {}) {
    super(fields, maxSize, options.seed, (_len, max, total, rng) => {
      const j = rng.below(Math.min(total + 1, 2 ** 53));
      return j < max ? j : -1;
    });
  }
}
