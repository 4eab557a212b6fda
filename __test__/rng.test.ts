import { describe, expect, it } from 'vitest';
import { Rng } from '../reference/rng.js';

// The same vector is pinned in crates/expbuf-core/src/rng.rs: both sides draw alike.
describe('reference Rng', () => {
  it('matches the pinned xoshiro128** vector of the Rust core', () => {
    const r0 = new Rng(0);
    expect([0, 1, 2, 3].map(() => r0.nextU32())).toEqual([4187458251, 2444602982, 3872279642, 1301277917]);
    const rBig = new Rng(123_456_789_012_345);
    expect([0, 1, 2, 3].map(() => rBig.nextU32())).toEqual([3990010758, 3642716762, 4275355356, 3763656496]);
    const r7 = new Rng(7);
    const b = [0, 1, 2, 3].map(() => r7.below(1000));
    b.push(r7.below(2 ** 40 + 3), r7.below(2 ** 40 + 3));
    expect(b).toEqual([434, 379, 57, 435, 26062502529, 817595341707]);
    expect(r7.nextF64()).toBe(0.018263277896873542);
  });
});
