//! What the TS layer learns from the core once: error codes, counter slots, defaults,
//! limits, whether this is the wasm build; and the checks it asks the core for (schemas, sizes).

use crate::ffi::{Cx, Val};
use crate::registry;
use expbuf_core::{checked_rows, counters, defaults, limits, policy, ErrorCode, Result, Schema};

/// `init(makeError)`: registers the factory that turns core errors into `ExpbufError`s
/// in this thread.
fn init(cx: &mut Cx) -> Result<Val> {
    cx.set_error_factory(0)?;
    Ok(cx.undefined())
}

/// `info()`: codes, counter slots, defaults and limits, as one object.
fn info(cx: &mut Cx) -> Result<Val> {
    let codes = ErrorCode::ALL
        .iter()
        .map(|c| cx.array(&[cx.string(c.as_str())?, cx.string(c.doc())?]))
        .collect::<Result<Vec<_>>>()?;
    let names = |list: &[&str]| -> Result<Val> {
        let v = list
            .iter()
            .map(|n| cx.string(n))
            .collect::<Result<Vec<_>>>()?;
        cx.array(&v)
    };
    let n = |x: f64| cx.number(x);
    cx.object(&[
        ("codes", cx.array(&codes)?),
        (
            "counters",
            cx.object(&[
                ("buffer", names(counters::BUFFER)?),
                ("queue", names(counters::QUEUE)?),
                ("replay", names(counters::REPLAY)?),
            ])?,
        ),
        (
            "defaults",
            cx.object(&[
                ("replaceProbability", n(defaults::REPLACE_PROBABILITY)?),
                ("pageSize", n(defaults::PAGE_SIZE as f64)?),
                ("maxPageSize", n(defaults::MAX_PAGE_SIZE as f64)?),
                ("publishEvery", n(defaults::PUBLISH_EVERY as f64)?),
                ("batchSize", n(defaults::BATCH_SIZE as f64)?),
                ("nStep", n(defaults::N_STEP as f64)?),
                ("gamma", n(defaults::GAMMA)?),
                ("alpha", n(defaults::PRIORITY_ALPHA)?),
                ("beta", n(defaults::PRIORITY_BETA)?),
                ("epsilon", n(defaults::PRIORITY_EPSILON)?),
                ("statesKept", n(defaults::STATES_KEPT as f64)?),
                ("saveIntervalMs", n(defaults::SAVE_INTERVAL_MS)?),
                ("connectTimeoutMs", n(defaults::CONNECT_TIMEOUT_MS)?),
            ])?,
        ),
        (
            "limits",
            cx.object(&[
                ("maxRows", n(limits::MAX_ROWS as f64)?),
                ("callBytes", n(limits::call_bytes() as f64)?),
                ("memoryBytes", n(limits::memory_bytes() as f64)?),
                (
                    "maxFieldElements",
                    n(expbuf_core::schema::MAX_FIELD_ELEMENTS as f64)?,
                ),
                ("maxFields", n(expbuf_core::schema::MAX_FIELDS as f64)?),
                ("maxEnvs", n(limits::MAX_ENVS as f64)?),
            ])?,
        ),
        ("kinds", names(&policy::KINDS)?),
        ("wasm", cx.boolean(cfg!(target_family = "wasm"))?),
    ])
}

/// `schema(fields)`: checks a field declaration; returns the fields as the TS layer
/// builds its views from them (`[{ name, dtype?, shape }]`).
fn schema(cx: &mut Cx) -> Result<Val> {
    let s = Schema::parse(&cx.value(0)?)?;
    cx.js_value(&s.to_value())
}

/// `expectSameFields(theirs, ours, what, whose)`: `EXPBUF_SCHEMA_MISMATCH` (naming both
/// field lists) unless two field declarations declare the same fields in the same order.
fn expect_same(cx: &mut Cx) -> Result<Val> {
    let theirs = Schema::parse(&cx.value(0)?)?;
    let ours = Schema::parse(&cx.value(1)?)?;
    ours.expect_same(&theirs, &cx.str(2, "what")?, &cx.str(3, "whose")?)?;
    Ok(cx.undefined())
}

/// `checkOptions(options, what, known)`: refuses an options value that is not an object
/// (or undefined) or has a key outside `known`, naming it and listing the known keys.
fn check_options(cx: &mut Cx) -> Result<Val> {
    let v = cx.value(0)?;
    let what = cx.str(1, "what")?;
    let known = match cx.value(2)? {
        expbuf_core::input::Value::Array(items) => items
            .into_iter()
            .filter_map(|k| match k {
                expbuf_core::input::Value::String(s) => Some(s),
                _ => None,
            })
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    expbuf_core::input::Options::new(&v, &what, &known)?;
    Ok(cx.undefined())
}

/// `checkRows(value, name)`: a row count argument, checked (an integer in [1, 2^31 - 1]).
fn check_rows(cx: &mut Cx) -> Result<Val> {
    let name = cx.str(1, "name")?;
    let n = checked_rows(cx.f64(0, &name)?, &name)?;
    cx.number(n as f64)
}

/// `replaceProbabilityFromSurvivalLength(maxSize, length)`.
fn survival(cx: &mut Cx) -> Result<Val> {
    let max = checked_rows(cx.f64(0, "maxSize")?, "maxSize")?;
    let length = cx.f64(1, "expectedSurvivalLength")?;
    cx.number(expbuf_core::replace_probability_from_survival_length(
        max, length,
    )?)
}

/// `registrySize()`: shared queues and buffers alive in this process (all threads).
fn registry_size(cx: &mut Cx) -> Result<Val> {
    cx.number(registry::len() as f64)
}

/// `noop()`: the call floor, for the benchmark.
fn noop(cx: &mut Cx) -> Result<Val> {
    Ok(cx.undefined())
}

pub const EXPORTS: &[(&str, crate::ffi::Export)] = &[
    ("init", init),
    ("info", info),
    ("schema", schema),
    ("checkRows", check_rows),
    ("expectSameFields", expect_same),
    ("checkOptions", check_options),
    ("replaceProbabilityFromSurvivalLength", survival),
    ("registrySize", registry_size),
    ("noop", noop),
];
