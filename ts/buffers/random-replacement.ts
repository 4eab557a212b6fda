import { ExpbufError } from '../errors.js';
import { native } from '../native.js';
import type { FieldsInput } from '../schema.js';
import { randomSeed } from '../seed.js';
import type { BufferHandle } from '../handles.js';
import { ATTACHED, attachBuffer, NativeDataBuffer, type NativeBufferInit } from './native-buffer.js';

export interface RandomReplacementBufferOptions {
  /** Probability in [0, 1] that a new row replaces a uniformly chosen one once full (default 1). */
  replaceProbability?: number;
  /** Sets the probability so that a row survives about this many adds; excludes `replaceProbability`. */
  expectedSurvivalLength?: number;
  /** RNG seed, an integer in [0, 2^53); random when absent. */
  seed?: number;
}

/**
 * The replacement probability the options ask for (default 1).
 * @throws `EXPBUF_INVALID_ARGUMENT` when both options are given or the length is bad
 */
export function resolveReplaceProbability(maxSize: number, options: RandomReplacementBufferOptions): number {
  const { replaceProbability, expectedSurvivalLength } = options;
  if (replaceProbability !== undefined && expectedSurvivalLength !== undefined) {
    throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', 'replaceProbability and expectedSurvivalLength: give one, not both');
  }
  if (expectedSurvivalLength !== undefined) {
    return native.replaceProbabilityFromSurvivalLength(maxSize, expectedSurvivalLength);
  }
  return replaceProbability ?? 1;
}

/** Appends until full, then each new row replaces a uniformly chosen row with probability p. */
export class RandomReplacementBuffer<const F extends FieldsInput> extends NativeDataBuffer<F> {
  /** The replacement probability in force. */
  readonly replaceProbability: number;

  /**
   * @throws `EXPBUF_INVALID_ARGUMENT` for p outside [0, 1] or NaN, a bad survival
   *   length, or both options at once
   */
  constructor(fields: F, maxSize: number, options: RandomReplacementBufferOptions | NativeBufferInit = {}) {
    if (ATTACHED in options) {
      super(fields, maxSize, options);
      this.replaceProbability = options[ATTACHED].describe().replaceProbability ?? 1;
      return;
    }
    const o = options as RandomReplacementBufferOptions;
    const p = resolveReplaceProbability(maxSize, o);
    super(fields, maxSize, { kind: 'random-replacement', seed: o.seed ?? randomSeed(), replaceProbability: p });
    this.replaceProbability = p;
  }

  /** The buffer behind `handle` (from `handle()` in any thread), in this thread. */
  static fromHandle<const F extends FieldsInput>(handle: BufferHandle<F>): RandomReplacementBuffer<F> {
    const { schema, attached, description } = attachBuffer(handle, 'random-replacement');
    return new RandomReplacementBuffer(schema as F, description.maxSize, { [ATTACHED]: attached });
  }

  /** p = clamp(maxSize / L · (ln maxSize + γ), 0, 1), as pamiq-core computes it. */
  static computeReplaceProbabilityFromExpectedSurvivalLength(maxSize: number, expectedSurvivalLength: number): number {
    return native.replaceProbabilityFromSurvivalLength(maxSize, expectedSurvivalLength);
  }

  /** Whether `maxSize` rows are held. */
  get isFull(): boolean {
    return this.native.isFull;
  }
}
