//! The per-buffer PRNG: xoshiro128** seeded through splitmix32.
//!
//! Every operation here is defined on 32-bit words so that the TypeScript reference
//! (`ts/reference/rng.ts`) reproduces it exactly with `Math.imul`; a seed gives the same
//! rows on both sides. Never a thread-local RNG: each buffer owns one behind its lock.

use crate::error::{Error, Result};
use crate::input::{number, whole_in};
use std::hash::{BuildHasher, Hasher};

/// Largest bound `below` accepts: integers up to 2^53 are exact in a JS number.
pub const MAX_BOUND: u64 = 1 << 53;

/// Checks a seed given as a JS number: an integer in [0, 2^53).
pub fn checked_seed(value: f64, name: &str) -> Result<u64> {
    if !whole_in(value, 0.0..=MAX_BOUND as f64 - 1.0) {
        return Err(Error::invalid_argument(format!(
            "{name}: {} is not an integer in [0, 2^53)",
            number(value)
        )));
    }
    Ok(value as u64)
}

/// A fresh seed in [0, 2^53) for objects created without one. std's `RandomState` is
/// seeded from the OS once per process and varied per instance, which is all a seed
/// for sampling needs (this is not for cryptography).
pub fn random_seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(u64::from(crate::process::id()));
    h.finish() & (MAX_BOUND - 1)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    s: [u32; 4],
}

fn splitmix32(state: &mut u32) -> u32 {
    *state = state.wrapping_add(0x9e37_79b9);
    let mut z = *state;
    z = (z ^ (z >> 16)).wrapping_mul(0x85eb_ca6b);
    z = (z ^ (z >> 13)).wrapping_mul(0xc2b2_ae35);
    z ^ (z >> 16)
}

impl Rng {
    /// Seeds from an integer in [0, 2^53): the low and high 32-bit words are mixed.
    pub fn new(seed: u64) -> Rng {
        let mut hi = (seed >> 32) as u32;
        let mut state = (seed as u32) ^ splitmix32(&mut hi);
        let mut s = [0u32; 4];
        for w in &mut s {
            *w = splitmix32(&mut state);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Rng { s }
    }

    /// The generator's words, for saving and restoring its position.
    pub fn state(&self) -> [u32; 4] {
        self.s
    }

    pub fn from_state(s: [u32; 4]) -> Option<Rng> {
        (s != [0; 4]).then_some(Rng { s })
    }

    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as u64;
        let b = (self.next_u32() >> 6) as u64;
        ((a << 26) + b) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [0, bound), unbiased by rejection; `bound` in [1, 2^53].
    pub fn below(&mut self, bound: u64) -> u64 {
        debug_assert!((1..=MAX_BOUND).contains(&bound));
        if bound <= 1 << 32 {
            let threshold = ((1u64 << 32) - bound) % bound;
            loop {
                let r = self.next_u32() as u64;
                if r >= threshold {
                    return r % bound;
                }
            }
        }
        let threshold = (MAX_BOUND - bound) % bound;
        loop {
            let hi = (self.next_u32() >> 11) as u64;
            let x = (hi << 32) + self.next_u32() as u64;
            if x >= threshold {
                return x % bound;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_checked_and_random_ones_differ() {
        assert_eq!(checked_seed(7.0, "seed"), Ok(7));
        for bad in [-1.0, 1.5, f64::NAN, 2f64.powi(53)] {
            assert!(checked_seed(bad, "seed").is_err());
        }
        let (a, b) = (random_seed(), random_seed());
        assert!(a < MAX_BOUND && b < MAX_BOUND && a != b);
    }

    #[test]
    fn same_seed_same_stream_and_different_seeds_differ() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let mut c = Rng::new(43);
        let xa: Vec<u32> = (0..16).map(|_| a.next_u32()).collect();
        let xb: Vec<u32> = (0..16).map(|_| b.next_u32()).collect();
        let xc: Vec<u32> = (0..16).map(|_| c.next_u32()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    /// Pins the stream; `__test__/rng.test.ts` checks the same vector against the TS
    /// reference, so the two sides cannot drift apart.
    #[test]
    fn pinned_vector() {
        let mut r = Rng::new(0);
        let w: Vec<u32> = (0..4).map(|_| r.next_u32()).collect();
        assert_eq!(w, [4187458251, 2444602982, 3872279642, 1301277917]);
        let mut r = Rng::new(123_456_789_012_345);
        let w: Vec<u32> = (0..4).map(|_| r.next_u32()).collect();
        assert_eq!(w, [3990010758, 3642716762, 4275355356, 3763656496]);
        let mut r = Rng::new(7);
        let mut b: Vec<u64> = (0..4).map(|_| r.below(1000)).collect();
        b.push(r.below((1 << 40) + 3));
        b.push(r.below((1 << 40) + 3));
        assert_eq!(b, [434, 379, 57, 435, 26062502529, 817595341707]);
        assert_eq!(r.next_f64(), 0.018263277896873542);
    }

    #[test]
    fn below_stays_in_range_for_small_and_large_bounds() {
        let mut r = Rng::new(7);
        for bound in [
            1u64,
            2,
            3,
            7,
            1000,
            (1 << 32) - 1,
            1 << 32,
            (1 << 32) + 1,
            MAX_BOUND,
        ] {
            for _ in 0..200 {
                assert!(r.below(bound) < bound);
            }
        }
    }

    #[test]
    fn f64_in_unit_interval_with_mean_near_half() {
        let mut r = Rng::new(1);
        let n = 100_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
            sum += x;
        }
        let mean = sum / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }
}
