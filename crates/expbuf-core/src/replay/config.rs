//! A replay buffer's settings, checked from the options a user gave, and the schema of
//! its steps.

use crate::defaults;
use crate::dtype::Dtype;
use crate::error::{Error, ErrorCode, Result};
use crate::input::{number, whole_in, Options, Value, SAFE_LIMIT};
use crate::limits::{checked_rows, MAX_ROWS};
use crate::rng::{checked_seed, random_seed};
use crate::schema::{Field, FieldKind, Schema};
use std::sync::Arc;

/// The fields a step carries besides the schema's, in this order.
pub const STEP_FIELDS: [&str; 4] = ["nextState", "terminated", "truncated", "env"];

/// Prioritized replay (Schaul et al. 2016, proportional).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorityConfig {
    pub alpha: f64,
    pub beta: f64,
    pub epsilon: f64,
}

/// Reverb's SampleToInsertRatio: with I steps inserted and S sampled, a sample of `n`
/// is allowed when I ≥ min_size and S + n ≤ samples_per_insert · (I − min_size) +
/// tolerance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub min_size: u64,
    pub samples_per_insert: f64,
    pub tolerance: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplayConfig {
    pub max_size: usize,
    pub batch_size: usize,
    pub n_step: usize,
    pub gamma: f64,
    pub priority: Option<PriorityConfig>,
    pub rate_limit: Option<RateLimit>,
    pub seed: u64,
}

const OPTIONS: &[&str] = &[
    "schema",
    "pool",
    "maxSize",
    "batchSize",
    "seed",
    "nStep",
    "gamma",
    "priority",
    "rateLimit",
];

/// A number option in `[lo, hi]` (default `default`), named in errors.
fn ranged(o: &Options<'_>, key: &str, lo: f64, hi: f64, default: f64) -> Result<f64> {
    let v = o.number(key)?.unwrap_or(default);
    if !(lo..=hi).contains(&v) {
        return Err(Error::invalid_argument(format!(
            "{}: {} is not in [{}, {}]",
            o.name(key),
            number(v),
            number(lo),
            number(hi)
        )));
    }
    Ok(v)
}

impl ReplayConfig {
    /// Reads the options of `new ReplayBuffer(options)` (the schema is given apart).
    pub fn from_options(options: &Value) -> Result<ReplayConfig> {
        let o = Options::new(options, "options", OPTIONS)?;
        let max_size = checked_rows(
            o.number("maxSize")?
                .ok_or_else(|| Error::invalid_argument("options.maxSize: required (steps held)"))?,
            "options.maxSize",
        )?;
        let batch_size = match o.number("batchSize")? {
            Some(b) => checked_rows(b, "options.batchSize")?,
            None => defaults::BATCH_SIZE,
        };
        let n_step = match o.number("nStep")? {
            Some(n) if whole_in(n, 1.0..=MAX_ROWS as f64) => n as usize,
            Some(n) => {
                return Err(Error::invalid_argument(format!(
                    "options.nStep: {} is not an integer of at least 1",
                    number(n)
                )))
            }
            None => defaults::N_STEP,
        };
        let gamma = ranged(&o, "gamma", 0.0, 1.0, defaults::GAMMA)?;
        let seed = match o.number("seed")? {
            Some(s) => checked_seed(s, "options.seed")?,
            None => random_seed(),
        };
        let priority = match o.object("priority") {
            None => None,
            Some(v) => {
                let p = Options::new(v, "options.priority", &["alpha", "beta", "epsilon"])?;
                let alpha = ranged(&p, "alpha", 0.0, f64::MAX, defaults::PRIORITY_ALPHA)?;
                let beta = ranged(&p, "beta", 0.0, 1.0, defaults::PRIORITY_BETA)?;
                let epsilon = p.number("epsilon")?.unwrap_or(defaults::PRIORITY_EPSILON);
                if !(epsilon.is_finite() && epsilon > 0.0) {
                    return Err(Error::invalid_argument(format!(
                        "options.priority.epsilon: {} is not a positive finite number",
                        number(epsilon)
                    )));
                }
                Some(PriorityConfig {
                    alpha,
                    beta,
                    epsilon,
                })
            }
        };
        let rate_limit = match o.object("rateLimit") {
            None => None,
            Some(v) => Some(RateLimit::from_options(v, batch_size)?),
        };
        Ok(ReplayConfig {
            max_size,
            batch_size,
            n_step,
            gamma,
            priority,
            rate_limit,
            seed,
        })
    }
}

impl RateLimit {
    fn from_options(v: &Value, batch_size: usize) -> Result<RateLimit> {
        let r = Options::new(
            v,
            "options.rateLimit",
            &["minSize", "samplesPerInsert", "tolerance"],
        )?;
        let need = |k: &str| {
            r.number(k)?
                .ok_or_else(|| Error::invalid_argument(format!("{}: required", r.name(k))))
        };
        let min_size = need("minSize")?;
        if !whole_in(min_size, 1.0..=SAFE_LIMIT - 1.0) {
            return Err(Error::invalid_argument(format!(
                "options.rateLimit.minSize: {} is not a positive integer",
                number(min_size)
            )));
        }
        let spi = need("samplesPerInsert")?;
        if !(spi.is_finite() && spi > 0.0) {
            return Err(Error::invalid_argument(format!(
                "options.rateLimit.samplesPerInsert: {} is not a positive finite number (with 0 no sample beyond the tolerance would ever be allowed)",
                number(spi)
            )));
        }
        let tolerance = need("tolerance")?;
        // Neither side can be stuck: some sample of batchSize or some insert is always
        // allowed exactly when 2 · tolerance ≥ samplesPerInsert + batchSize.
        if !(tolerance.is_finite() && 2.0 * tolerance >= spi + batch_size as f64) {
            return Err(Error::invalid_argument(format!(
                "options.rateLimit.tolerance: {} can stall both sides: it must be at least (samplesPerInsert + batchSize) / 2 = {}",
                number(tolerance),
                number((spi + batch_size as f64) / 2.0)
            )));
        }
        Ok(RateLimit {
            min_size: min_size as u64,
            samples_per_insert: spi,
            tolerance,
        })
    }

    /// Whether a sample of `n` is allowed after `inserted` inserts and `sampled` samples.
    pub fn allows_sample(&self, inserted: u64, sampled: u64, n: u64) -> bool {
        inserted >= self.min_size
            && (sampled + n) as f64
                <= self.samples_per_insert * (inserted - self.min_size) as f64 + self.tolerance
    }

    /// Whether one more insert keeps the sample-to-insert ratio within the tolerance.
    pub fn allows_insert(&self, inserted: u64, sampled: u64) -> bool {
        self.samples_per_insert * (inserted as f64 + 1.0 - self.min_size as f64) - sampled as f64
            <= self.tolerance
    }
}

/// What a replay buffer takes and gives, each as a schema whose typed fields are the
/// columns of that call in order (the TS layer decodes by them).
#[derive(Debug, Clone)]
pub struct ReplaySchemas {
    /// A step: the schema's fields, then `nextState` (the spec of `state`),
    /// `terminated`, `truncated` (0/1 flags that take booleans; `truncated` may be left
    /// out) and `env` (a stream id, default 0).
    pub step: Arc<Schema>,
    /// `sample()`: the schema's fields but `reward`, then `reward` (float32, the n-step
    /// return), `nextState`, `done` (uint8), `discount` (float32), `ids` (float64),
    /// `weights` (float32).
    pub transition: Arc<Schema>,
    /// `sampleSequences()`: the schema's fields (per cell of `[n, length]`), `mask`
    /// (uint8, per cell), `ids` (float64, per window).
    pub sequence: Arc<Schema>,
    /// `sampleEpisodes()`: the schema's fields (per cell of `[n, T]`), `mask` (uint8,
    /// per cell), `lengths` (int32), `terminated` (uint8), `finalState` (per episode).
    pub episode: Arc<Schema>,
    /// Typed indices of `state` and `reward` in the schema.
    pub state_i: usize,
    pub reward_i: usize,
}

impl ReplaySchemas {
    /// The schemas of a replay buffer of `schema`, which needs typed `state` and
    /// `action` fields and a scalar typed `reward`, and none of the step's own names.
    pub fn of(schema: &Schema) -> Result<ReplaySchemas> {
        let typed = |name: &str| -> Result<&Field> {
            match schema.field(name) {
                Some(f) if matches!(f.kind, FieldKind::Typed { .. }) => Ok(f),
                _ => Err(Error::new(
                    ErrorCode::SchemaMismatch,
                    format!("schema: a ReplayBuffer needs a typed '{name}' field"),
                )),
            }
        };
        let state = typed("state")?;
        typed("action")?;
        if typed("reward")?.elements() != 1 {
            return Err(Error::new(
                ErrorCode::SchemaMismatch,
                "schema: 'reward' must be a scalar field",
            ));
        }
        if let Some(clash) = STEP_FIELDS.iter().find(|n| schema.field(n).is_some()) {
            return Err(Error::new(
                ErrorCode::SchemaMismatch,
                format!("schema: '{clash}' is a step's own field (nextState, terminated, truncated, env); rename it"),
            ));
        }
        let FieldKind::Typed { dtype, shape, .. } = &state.kind else {
            return Err(Error::new(
                ErrorCode::SchemaMismatch,
                "schema: 'state' must be typed",
            ));
        };
        let state_as = |name: &str| Field::typed(name, *dtype, shape);
        let scalar = |name: &str, d: Dtype| Field::typed(name, d, &[]);
        let with = |mut fields: Vec<Field>, more: Vec<Field>| -> Result<Arc<Schema>> {
            fields.extend(more);
            Ok(Arc::new(Schema::new(fields)?))
        };
        let own = schema.fields().to_vec();
        let step = with(
            own.clone(),
            vec![
                state_as("nextState")?,
                scalar("terminated", Dtype::Uint8)?.as_flag(),
                scalar("truncated", Dtype::Uint8)?.as_flag().with_default(0),
                scalar("env", Dtype::Uint32)?.with_default(0),
            ],
        )?;
        let transition = with(
            own.iter().filter(|f| f.name != "reward").cloned().collect(),
            vec![
                scalar("reward", Dtype::Float32)?,
                state_as("nextState")?,
                scalar("done", Dtype::Uint8)?,
                scalar("discount", Dtype::Float32)?,
                scalar("ids", Dtype::Float64)?,
                scalar("weights", Dtype::Float32)?,
            ],
        )?;
        let sequence = with(
            own.clone(),
            vec![
                scalar("mask", Dtype::Uint8)?,
                scalar("ids", Dtype::Float64)?,
            ],
        )?;
        let episode = with(
            own,
            vec![
                scalar("mask", Dtype::Uint8)?,
                scalar("lengths", Dtype::Int32)?,
                scalar("terminated", Dtype::Uint8)?,
                state_as("finalState")?,
            ],
        )?;
        Ok(ReplaySchemas {
            step,
            transition,
            sequence,
            episode,
            state_i: schema.typed_index("state").unwrap_or(0),
            reward_i: schema.typed_index("reward").unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(entries: Vec<(&str, Value)>) -> Value {
        Value::object(&entries)
    }

    #[test]
    fn options_are_checked_with_their_names() {
        let n = Value::Number;
        let msg = |v: Value| ReplayConfig::from_options(&v).expect_err("bad").message;
        assert!(msg(obj(vec![])).contains("options.maxSize: required"));
        assert!(msg(obj(vec![("maxSize", n(10.0)), ("nStep", n(0.0))])).contains("options.nStep"));
        assert!(msg(obj(vec![("maxSize", n(10.0)), ("nStep", n(1.5))])).contains("options.nStep"));
        assert!(msg(obj(vec![("maxSize", n(10.0)), ("gamma", n(1.5))])).contains("options.gamma"));
        assert!(msg(obj(vec![
            ("maxSize", n(10.0)),
            ("priority", obj(vec![("beta", n(2.0))]))
        ]))
        .contains("options.priority.beta"));
        assert!(msg(obj(vec![
            ("maxSize", n(10.0)),
            ("priority", obj(vec![("epsilon", n(0.0))]))
        ]))
        .contains("options.priority.epsilon"));
        assert!(msg(obj(vec![
            ("maxSize", n(10.0)),
            ("priority", obj(vec![("alpha", n(-1.0))]))
        ]))
        .contains("options.priority.alpha"));
        assert!(msg(obj(vec![
            ("maxSize", n(10.0)),
            ("priority", obj(vec![("alfa", n(1.0))]))
        ]))
        .contains("unknown option 'alfa'"));
        let rl = |spi: f64, tol: f64| {
            obj(vec![
                ("maxSize", n(10.0)),
                ("batchSize", n(8.0)),
                (
                    "rateLimit",
                    obj(vec![
                        ("minSize", n(5.0)),
                        ("samplesPerInsert", n(spi)),
                        ("tolerance", n(tol)),
                    ]),
                ),
            ])
        };
        assert!(msg(rl(0.0, 100.0)).contains("samplesPerInsert"));
        assert!(msg(rl(4.0, 5.9)).contains("tolerance"));
        assert!(ReplayConfig::from_options(&rl(4.0, 6.0)).is_ok());
    }

    #[test]
    fn rate_limit_boundary_is_the_formula_exactly() {
        let r = RateLimit {
            min_size: 10,
            samples_per_insert: 2.0,
            tolerance: 5.0,
        };
        assert!(!r.allows_sample(9, 0, 1));
        // At I = 12: 2 · 2 + 5 = 9 steps may have been sampled.
        assert!(r.allows_sample(12, 0, 9));
        assert!(!r.allows_sample(12, 0, 10));
        assert!(r.allows_sample(12, 4, 5));
        assert!(!r.allows_sample(12, 5, 5));
        // Inserts: 2 · (I + 1 − 10) − S ≤ 5.
        assert!(r.allows_insert(11, 0)); // 2·2 − 0 = 4
        assert!(!r.allows_insert(12, 0)); // 2·3 = 6 > 5
        assert!(r.allows_insert(12, 1));
    }

    #[test]
    fn the_step_schema_adds_its_fields_and_refuses_clashes() {
        use crate::input::Value as V;
        let schema = Schema::parse(&obj(vec![
            (
                "state",
                obj(vec![
                    ("dtype", V::String("float32".into())),
                    ("shape", V::Array(vec![n4()])),
                ]),
            ),
            ("action", V::String("int32".into())),
            ("reward", V::String("float32".into())),
        ]))
        .expect("schema");
        let out = ReplaySchemas::of(&schema).expect("step");
        let step = &out.step;
        assert_eq!(step.describe(), "state: float32[4], action: int32[], reward: float32[], nextState: float32[4], terminated: uint8[], truncated: uint8[], env: uint32[]");
        assert_eq!(out.transition.describe(), "state: float32[4], action: int32[], reward: float32[], nextState: float32[4], done: uint8[], discount: float32[], ids: float64[], weights: float32[]");
        assert_eq!((out.state_i, out.reward_i), (0, 2));
        assert!(step
            .field("terminated")
            .is_some_and(|f| f.flag && f.default.is_none()));
        assert!(step
            .field("env")
            .is_some_and(|f| !f.flag && f.default == Some(0)));
        let bad = Schema::parse(&obj(vec![
            ("state", V::String("float32".into())),
            ("action", V::String("int32".into())),
        ]))
        .expect("s");
        assert_eq!(
            ReplaySchemas::of(&bad).expect_err("no reward").code,
            ErrorCode::SchemaMismatch
        );
    }

    fn n4() -> Value {
        Value::Number(4.0)
    }
}
