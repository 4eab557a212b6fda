import type { BufferHandle } from '../handles.js';
import { native } from '../native/binding.js';
import type { FieldsInput } from '../schema.js';
import { SINK } from './data-buffer.js';
import { attach, NativeDataBuffer } from './native-buffer.js';

export interface RandomReplacementBufferOptions {
  /** Probability in [0, 1] that a new row replaces a uniformly chosen one once full (default 1). */
  replaceProbability?: number;
  /** Sets the probability so that a row survives about this many adds; excludes `replaceProbability`. */
  expectedSurvivalLength?: number;
  /** RNG seed, an integer in [0, 2^53); random when absent. */
  seed?: number;
}

/** Appends until full, then each new row replaces a uniformly chosen row with probability p. */
export class RandomReplacementBuffer<const F extends FieldsInput> extends NativeDataBuffer<F> {
  /** The replacement probability in force. */
  readonly replaceProbability: number;

  /**
   * @throws `EXPBUF_INVALID_ARGUMENT` for p outside [0, 1] or NaN, a bad survival
   *   length, both options at once, or an unknown option
   */
  constructor(fields: F, maxSize: number, options?: RandomReplacementBufferOptions) {
    super('random-replacement', fields, maxSize, options);
    // The core resolved the options (default, survival length); a random-replacement
    // buffer always describes its probability.
    this.replaceProbability = native.bufferDescribe(this[SINK]).replaceProbability as number;
  }

  /** The buffer behind `handle` (from `handle()` in any thread), in this thread. */
  static fromHandle<const F extends FieldsInput>(handle: BufferHandle<RandomReplacementBuffer<F>>): RandomReplacementBuffer<F> {
    const a = attach<F>(handle, 'random-replacement');
    return new RandomReplacementBuffer(a.fields, a.maxSize, a.init as RandomReplacementBufferOptions);
  }

  /** p = clamp(maxSize / L · (ln maxSize + γ), 0, 1), as pamiq-core computes it. */
  static computeReplaceProbabilityFromExpectedSurvivalLength(maxSize: number, expectedSurvivalLength: number): number {
    return native.replaceProbabilityFromSurvivalLength(maxSize, expectedSurvivalLength);
  }

  /** Whether `maxSize` rows are held. */
  get isFull(): boolean {
    return this.size === this.maxSize;
  }

  protected override describeMore(): Record<string, unknown> {
    return { replaceProbability: this.replaceProbability };
  }
}
