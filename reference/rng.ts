/**
 * xoshiro128** seeded through splitmix32, word for word as `expbuf-core/src/rng.rs`,
 * so that a seed draws the same rows on both sides.
 */
const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function splitmix32(state: { v: number }): number {
  state.v = (state.v + 0x9e3779b9) >>> 0;
  let z = state.v;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** @param seed - an integer in [0, 2^53) */
  constructor(seed: number) {
    const lo = seed % TWO_32;
    const hi = Math.floor(seed / TWO_32);
    const state = { v: (lo ^ splitmix32({ v: hi })) >>> 0 };
    this.s0 = splitmix32(state);
    this.s1 = splitmix32(state);
    this.s2 = splitmix32(state);
    this.s3 = splitmix32(state);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextF64(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / TWO_53;
  }

  /** Uniform integer in [0, bound), unbiased by rejection; `bound` in [1, 2^53]. */
  below(bound: number): number {
    if (bound <= TWO_32) {
      const threshold = (TWO_32 - bound) % bound;
      for (;;) {
        const r = this.nextU32();
        if (r >= threshold) return r % bound;
      }
    }
    const threshold = (TWO_53 - bound) % bound;
    for (;;) {
      const hi = this.nextU32() >>> 11;
      const x = hi * TWO_32 + this.nextU32();
      if (x >= threshold) return x % bound;
    }
  }
}

/** `k` indices below `n`, drawn as `expbuf-core/src/sampling.rs` draws them. */
export function sampleIndices(rng: Rng, n: number, k: number, replacement: boolean): number[] {
  const out = new Array<number>(k);
  if (replacement) {
    for (let i = 0; i < k; i++) out[i] = rng.below(n);
    return out;
  }
  const seen = new Set<number>();
  let i = 0;
  for (let j = n - k; j < n; j++) {
    const t = rng.below(j + 1);
    const pick = seen.has(t) ? j : t;
    seen.add(pick);
    out[i++] = pick;
  }
  return out;
}
