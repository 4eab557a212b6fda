//! `NativeBuffer`: one class for the three buffer kinds; the TS layer gives each its
//! own typed class.

use crate::columns;
use crate::error::{invalid, to_js, Result};
use crate::schema::{to_schema, FieldDecl};
use expbuf_core::{checked_size, Buffer, Policy};
use napi::bindgen_prelude::{ArrayBuffer, Uint32ArraySlice, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use parking_lot::Mutex;
use std::sync::Arc;

#[napi(object)]
pub struct BufferOptions {
    /// "sequential", "random-replacement" or "reservoir".
    pub kind: String,
    /// Seed of the buffer's RNG, an integer in [0, 2^53).
    pub seed: f64,
    /// Probability in [0, 1] that a new row replaces one once full (random-replacement).
    pub replace_probability: Option<f64>,
}

#[napi]
pub struct NativeBuffer {
    pub(crate) inner: Arc<Mutex<Buffer>>,
}

fn seed_of(seed: f64) -> Result<u64> {
    if !(seed.is_finite() && seed.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&seed))
    {
        return Err(invalid(format!(
            "seed: {seed} is not an integer in [0, 2^53)"
        )));
    }
    Ok(seed as u64)
}

#[napi]
impl NativeBuffer {
    #[napi(constructor, catch_unwind)]
    pub fn new(fields: Vec<FieldDecl>, max_size: f64, options: BufferOptions) -> Result<Self> {
        let schema = to_schema(&fields)?;
        let max_size = checked_size(max_size, "maxSize").map_err(to_js)?;
        let policy = match options.kind.as_str() {
            "sequential" => Policy::Sequential,
            "reservoir" => Policy::Reservoir,
            "random-replacement" => {
                Policy::random_replacement(options.replace_probability.unwrap_or(1.0))
                    .map_err(to_js)?
            }
            other => return Err(invalid(format!("kind: unknown buffer kind '{other}'"))),
        };
        let buffer =
            Buffer::new(schema, policy, max_size, seed_of(options.seed)?).map_err(to_js)?;
        Ok(NativeBuffer {
            inner: Arc::new(Mutex::new(buffer)),
        })
    }

    /// Adds `rows` rows given as one byte view per typed field and, per `any` field,
    /// serialized bytes plus `rows + 1` offsets. All or nothing.
    #[napi(catch_unwind)]
    pub fn add(
        &self,
        rows: u32,
        typed: Vec<Uint8ArraySlice>,
        any_bytes: Vec<Uint8ArraySlice>,
        any_offsets: Vec<Uint32ArraySlice>,
    ) -> Result<()> {
        let r = columns::rows_ref(rows, &typed, &any_bytes, &any_offsets, None);
        self.inner.lock().extend(&r).map_err(to_js)
    }

    #[napi(catch_unwind)]
    pub fn get_data<'env>(&self, env: &'env Env) -> Result<Vec<ArrayBuffer<'env>>> {
        let data = self.inner.lock().get_data().map_err(to_js)?;
        columns::to_js(env, data, false)
    }

    #[napi(catch_unwind)]
    pub fn sample<'env>(
        &self,
        env: &'env Env,
        batch_size: f64,
        replacement: bool,
    ) -> Result<Vec<ArrayBuffer<'env>>> {
        let k = checked_size(batch_size, "batchSize").map_err(to_js)?;
        let data = self.inner.lock().sample(k, replacement).map_err(to_js)?;
        columns::to_js(env, data, false)
    }

    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.inner.lock().len() as u32
    }

    #[napi(getter)]
    pub fn max_size(&self) -> u32 {
        self.inner.lock().max_size() as u32
    }

    #[napi(getter)]
    pub fn is_full(&self) -> bool {
        self.inner.lock().is_full()
    }

    #[napi(getter)]
    pub fn total_added(&self) -> f64 {
        self.inner.lock().total_added() as f64
    }
}

/// pamiq-core's replace probability for an expected survival length.
#[napi(catch_unwind)]
pub fn replace_probability_from_survival_length(max_size: f64, length: f64) -> Result<f64> {
    let max_size = checked_size(max_size, "maxSize").map_err(to_js)?;
    expbuf_core::replace_probability_from_survival_length(max_size, length).map_err(to_js)
}

/// Checks a size argument (an integer in [1, 2^31 - 1]); returns it or throws
/// `EXPBUF_INVALID_ARGUMENT` naming `name`.
#[napi(catch_unwind)]
pub fn checked_size_arg(value: f64, name: String) -> Result<f64> {
    checked_size(value, &name).map(|v| v as f64).map_err(to_js)
}
