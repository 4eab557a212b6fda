//! Which slot a new row goes to: the rule that tells the buffer kinds apart.

use crate::defaults;
use crate::error::{Error, Result};
use crate::input::{number, Options, Value};
use crate::rng::{checked_seed, random_seed, Rng};

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

/// The kind names, as the TS classes and saved states spell them.
pub const KINDS: [&str; 3] = ["sequential", "random-replacement", "reservoir"];

impl Policy {
    pub fn random_replacement(replace_probability: f64) -> Result<Policy> {
        if !(0.0..=1.0).contains(&replace_probability) {
            return Err(Error::invalid_argument(format!(
                "replaceProbability: {} is not in [0, 1]",
                number(replace_probability)
            )));
        }
        Ok(Policy::RandomReplacement {
            replace_probability,
        })
    }

    /// The policy of buffer kind `kind` with the constructor options a user gave it
    /// (`{ seed?, replaceProbability?, expectedSurvivalLength? }`, the last two for
    /// random-replacement only); returns the policy and the seed (random when absent).
    pub fn from_options(kind: &str, max_size: usize, options: &Value) -> Result<(Policy, u64)> {
        let known: &[&str] = match kind {
            "random-replacement" => &["seed", "replaceProbability", "expectedSurvivalLength"],
            "sequential" | "reservoir" => &["seed"],
            other => {
                return Err(Error::invalid_argument(format!(
                    "kind: unknown buffer kind '{other}' (kinds are {})",
                    KINDS.join(", ")
                )))
            }
        };
        let o = Options::new(options, "options", known)?;
        let seed = match o.number("seed")? {
            Some(s) => checked_seed(s, "options.seed")?,
            None => random_seed(),
        };
        let policy = match kind {
            "sequential" => Policy::Sequential,
            "reservoir" => Policy::Reservoir,
            _ => {
                let p = o.number("replaceProbability")?;
                let length = o.number("expectedSurvivalLength")?;
                let p =
                    match (p, length) {
                        (Some(_), Some(_)) => return Err(Error::invalid_argument(
                            "options: give replaceProbability or expectedSurvivalLength, not both",
                        )),
                        (Some(p), None) => p,
                        (None, Some(l)) => replace_probability_from_survival_length(max_size, l)?,
                        (None, None) => defaults::REPLACE_PROBABILITY,
                    };
                Policy::random_replacement(p).map_err(|e| e.within("options"))?
            }
        };
        Ok((policy, seed))
    }

    /// The policy a saved state of `kind` describes.
    pub fn from_saved(kind: &str, replace_probability: Option<f64>) -> Result<Policy> {
        match kind {
            "sequential" => Ok(Policy::Sequential),
            "reservoir" => Ok(Policy::Reservoir),
            "random-replacement" => {
                Policy::random_replacement(replace_probability.unwrap_or(f64::NAN))
            }
            other => Err(Error::invalid_argument(format!(
                "kind: unknown buffer kind '{other}'"
            ))),
        }
    }

    /// The replace probability of a random-replacement policy.
    pub fn replace_probability(&self) -> Option<f64> {
        match self {
            Policy::RandomReplacement {
                replace_probability,
            } => Some(*replace_probability),
            _ => None,
        }
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
            "expectedSurvivalLength: {} is not a positive finite number",
            number(length)
        )));
    }
    let m = max_size as f64;
    Ok((m / length * (m.ln() + EULER_GAMMA)).clamp(0.0, 1.0))
}
