//! Which slot a new row goes to: the rule that tells the buffer kinds apart.

use crate::error::{Error, Result};
use crate::rng::Rng;

/// Euler–Mascheroni constant, in the survival-length formula.
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy {
    /// FIFO ring: when full, the oldest row goes.
    Sequential,
    /// Appends until full, then replaces a uniformly chosen row with probability `p`.
    RandomReplacement { replace_probability: f64 },
    /// Algorithm R: every row ever added is held with probability maxSize / totalAdded.
    Reservoir,
}

/// Where a new row lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Into the next free slot.
    Append,
    /// Over the row at this logical index.
    Replace(usize),
    /// Over the oldest row (the ring advances).
    Rotate,
    /// Nowhere: the row is dropped.
    Drop,
}

impl Policy {
    pub fn random_replacement(replace_probability: f64) -> Result<Policy> {
        if !(0.0..=1.0).contains(&replace_probability) {
            return Err(Error::invalid_argument(format!(
                "replaceProbability: {replace_probability} is not in [0, 1]"
            )));
        }
        Ok(Policy::RandomReplacement {
            replace_probability,
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Policy::Sequential => "sequential",
            Policy::RandomReplacement { .. } => "random-replacement",
            Policy::Reservoir => "reservoir",
        }
    }

    /// Places one new row. `len` rows are held of `max_size`; `total_before` rows were
    /// added before this one.
    pub fn place(
        &self,
        len: usize,
        max_size: usize,
        total_before: u64,
        rng: &mut Rng,
    ) -> Placement {
        if len < max_size {
            return Placement::Append;
        }
        match *self {
            Policy::Sequential => Placement::Rotate,
            Policy::RandomReplacement {
                replace_probability: p,
            } => {
                // p = 1 and p = 0 need no draw; both sides of the RNG contract skip it.
                let replace = p >= 1.0 || (p > 0.0 && rng.next_f64() < p);
                if replace {
                    Placement::Replace(rng.below(max_size as u64) as usize)
                } else {
                    Placement::Drop
                }
            }
            Policy::Reservoir => {
                let j = rng.below(total_before.saturating_add(1).min(crate::rng::MAX_BOUND));
                if (j as usize) < max_size {
                    Placement::Replace(j as usize)
                } else {
                    Placement::Drop
                }
            }
        }
    }
}

/// pamiq-core's replace probability for a wanted expected survival length `L`:
/// p = clamp(maxSize / L · (ln maxSize + γ), 0, 1).
pub fn replace_probability_from_survival_length(max_size: usize, length: f64) -> Result<f64> {
    if max_size == 0 {
        return Err(Error::invalid_argument("maxSize: must be at least 1"));
    }
    if !(length.is_finite() && length > 0.0) {
        return Err(Error::invalid_argument(format!(
            "expectedSurvivalLength: {length} is not a positive finite number"
        )));
    }
    let m = max_size as f64;
    Ok((m / length * (m.ln() + EULER_GAMMA)).clamp(0.0, 1.0))
}
