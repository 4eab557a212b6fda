/**
 * The pure-TS buffers: the test oracle of the native buffers (same seed, same rows)
 * and a JS baseline of the benchmark. Not part of the package: nothing in `ts/`
 * imports them.
 */
import { native } from '../ts/native/binding.js';
import type { FieldsInput } from '../ts/schema.js';
import { ReferenceBuffer } from './reference-buffer.js';

/** Pure-TS `SequentialBuffer`. */
export class ReferenceSequentialBuffer<const F extends FieldsInput> extends ReferenceBuffer<F> {
  constructor(fields: F, maxSize: number, options: { seed: number }) {
    super(fields, maxSize, options.seed, 'rotate');
  }
}

/** Pure-TS `RandomReplacementBuffer` (its probability resolved by the core, as the native one's). */
export class ReferenceRandomReplacementBuffer<const F extends FieldsInput> extends ReferenceBuffer<F> {
  readonly replaceProbability: number;

  constructor(fields: F, maxSize: number, options: { seed: number; replaceProbability?: number; expectedSurvivalLength?: number }) {
    const probe = native.bufferNew('random-replacement', fields, maxSize, options);
    const p = native.bufferDescribe(probe).replaceProbability as number;
    native.bufferClose(probe);
    super(fields, maxSize, options.seed, (_len, max, _total, rng) => {
      const replace = p >= 1 || (p > 0 && rng.nextF64() < p);
      return replace ? rng.below(max) : -1;
    });
    this.replaceProbability = p;
  }
}

/** Pure-TS `ReservoirBuffer`. */
export class ReferenceReservoirBuffer<const F extends FieldsInput> extends ReferenceBuffer<F> {
  constructor(fields: F, maxSize: number, options: { seed: number }) {
    super(fields, maxSize, options.seed, (_len, max, total, rng) => {
      const j = rng.below(Math.min(total + 1, 2 ** 53));
      return j < max ? j : -1;
    });
  }
}
