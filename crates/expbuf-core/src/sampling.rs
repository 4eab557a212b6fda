//! Index draws for `sample()`. The TS reference draws the same indices in the same order.

use crate::alloc;
use crate::error::Result;
use crate::rng::Rng;
use std::collections::HashSet;

/// `k` indices below `n`: independent uniform draws with replacement, or Floyd's
/// algorithm without (k ≤ n), whose result order is insertion order.
pub fn indices(rng: &mut Rng, n: usize, k: usize, replacement: bool) -> Result<Vec<usize>> {
    let mut out = alloc::with_capacity(k, "batchSize")?;
    if replacement {
        out.extend((0..k).map(|_| rng.below(n as u64) as usize));
        return Ok(out);
    }
    let mut seen = HashSet::with_capacity(k);
    for j in (n - k)..n {
        let t = rng.below(j as u64 + 1) as usize;
        let pick = if seen.contains(&t) { j } else { t };
        seen.insert(pick);
        out.push(pick);
    }
    Ok(out)
}
