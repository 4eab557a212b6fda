//! `NativeBuffer`: one class for the three buffer kinds; the TS layer gives each its
//! own typed class.

use crate::columns;
use crate::error::{invalid, to_js, Result};
use crate::registry::{self, Held, Shared};
use crate::schema::{to_schema, FieldDecl};
use crate::state::{self, FileTask, PrepareBufferTask, PreparedBuffer};
use expbuf_core::{checked_size, Buffer, Policy};
use napi::bindgen_prelude::{ArrayBuffer, AsyncTask, Uint32ArraySlice, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use parking_lot::Mutex;
use std::path::PathBuf;
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

pub(crate) type SharedBuffer = Arc<Shared<Mutex<Buffer>>>;

/// A buffer, shared by every thread that attached to it by handle.
#[napi(object)]
pub struct BufferDescription {
    pub kind: String,
    pub max_size: u32,
    pub replace_probability: Option<f64>,
}

#[napi]
pub struct NativeBuffer {
    inner: Held<Mutex<Buffer>>,
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
            inner: Held::new(registry::register(Mutex::new(buffer))),
        })
    }

    /// The buffer behind handle `id`, from any thread.
    #[napi(factory, catch_unwind)]
    pub fn attach(id: f64) -> Result<Self> {
        let inner = registry::attach_or_closed::<Mutex<Buffer>>(id, "buffer")?;
        Ok(NativeBuffer {
            inner: Held::new(inner),
        })
    }

    /// The id another thread passes to `attach`.
    #[napi(catch_unwind)]
    pub fn handle(&self) -> Result<f64> {
        Ok(self.shared()?.id() as f64)
    }

    /// Releases this thread's hold; the buffer is freed when no thread holds it.
    #[napi]
    pub fn close(&mut self) {
        self.inner.release();
    }

    pub(crate) fn shared(&self) -> Result<&SharedBuffer> {
        self.inner.get("buffer")
    }

    /// Saves the buffer into directory `dir` (crash-safe), off the JS thread.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn save_state(&self, dir: String) -> Result<AsyncTask<FileTask>> {
        Ok(state::save(self.shared()?.clone(), PathBuf::from(dir)))
    }

    /// Writes the state into `dir` (a sub-directory of a staged composite state).
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn write_state(&self, dir: String) -> Result<AsyncTask<FileTask>> {
        Ok(state::write(self.shared()?.clone(), PathBuf::from(dir)))
    }

    /// Loads and checks the state in `dir` into a new buffer, off the JS thread;
    /// `applyLoad` swaps it in. Nothing changes until then.
    #[napi(catch_unwind, ts_return_type = "Promise<PreparedBuffer>")]
    pub fn prepare_load(&self, dir: String) -> Result<AsyncTask<PrepareBufferTask>> {
        Ok(PrepareBufferTask::new(
            self.shared()?.clone(),
            PathBuf::from(dir),
        ))
    }

    /// Swaps a prepared state in.
    #[napi(catch_unwind)]
    pub fn apply_load(&self, prepared: &mut PreparedBuffer) -> Result<()> {
        state::apply_buffer(self.shared()?, prepared)
    }

    /// The kind and settings `fromHandle` rebuilds the TS class from.
    #[napi(catch_unwind)]
    pub fn describe(&self) -> Result<BufferDescription> {
        let b = self.shared()?.data.lock();
        let replace_probability = match b.policy() {
            Policy::RandomReplacement {
                replace_probability,
            } => Some(replace_probability),
            _ => None,
        };
        Ok(BufferDescription {
            kind: b.policy().kind().to_owned(),
            max_size: b.max_size() as u32,
            replace_probability,
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
        self.shared()?.data.lock().extend(&r).map_err(to_js)
    }

    #[napi(catch_unwind)]
    pub fn get_data<'env>(&self, env: &'env Env) -> Result<Vec<ArrayBuffer<'env>>> {
        let data = self.shared()?.data.lock().get_data().map_err(to_js)?;
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
        let data = self
            .shared()?
            .data
            .lock()
            .sample(k, replacement)
            .map_err(to_js)?;
        columns::to_js(env, data, false)
    }

    /// The rows at logical `indices` (0 = oldest), in the order given.
    #[napi(catch_unwind)]
    pub fn gather<'env>(
        &self,
        env: &'env Env,
        indices: Uint32ArraySlice,
    ) -> Result<Vec<ArrayBuffer<'env>>> {
        let idx: Vec<usize> = indices.iter().map(|&i| i as usize).collect();
        let data = self.shared()?.data.lock().gather(&idx).map_err(to_js)?;
        columns::to_js(env, data, false)
    }

    #[napi(getter)]
    pub fn size(&self) -> Result<u32> {
        Ok(self.shared()?.data.lock().len() as u32)
    }

    #[napi(getter)]
    pub fn max_size(&self) -> Result<u32> {
        Ok(self.shared()?.data.lock().max_size() as u32)
    }

    #[napi(getter)]
    pub fn is_full(&self) -> Result<bool> {
        Ok(self.shared()?.data.lock().is_full())
    }

    #[napi(getter)]
    pub fn total_added(&self) -> Result<f64> {
        Ok(self.shared()?.data.lock().total_added() as f64)
    }
}

/// pamiq-core's replace probability for an expected survival length.
#[napi(catch_unwind)]
pub fn replace_probability_from_survival_length(max_size: f64, length: f64) -> Result<f64> {
    let max_size = checked_size(max_size, "maxSize").map_err(to_js)?;
    expbuf_core::replace_probability_from_survival_length(max_size, length).map_err(to_js)
}

/// How many shared queues and buffers are alive in this process (all threads).
#[napi]
pub fn registry_size() -> u32 {
    registry::len() as u32
}

/// Checks a size argument (an integer in [1, 2^31 - 1]); returns it or throws
/// `EXPBUF_INVALID_ARGUMENT` naming `name`.
#[napi(catch_unwind)]
pub fn checked_size_arg(value: f64, name: String) -> Result<f64> {
    checked_size(value, &name).map(|v| v as f64).map_err(to_js)
}
