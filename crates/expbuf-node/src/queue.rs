//! `NativeQueue` (collector side) and `NativeUser` (training side) over one shared
//! `RowQueue`.

use crate::buffer::NativeBuffer;
use crate::columns;
use crate::error::{invalid, to_js, Result};
use crate::registry::{self, Held, Shared};
use crate::schema::{to_schema, FieldDecl};
use crate::state::{self, FileTask, PrepareUserTask, PreparedUser};
use expbuf_core::{checked_size, RowQueue, TimestampLog};
use napi::bindgen_prelude::AsyncTask;
use napi::bindgen_prelude::{ArrayBuffer, Float64ArraySlice, Uint32ArraySlice, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;

type SharedQueue = Arc<Shared<Mutex<RowQueue>>>;

/// The collector side of a queue, in whichever thread attached to it.
#[napi]
pub struct NativeQueue {
    inner: Held<Mutex<RowQueue>>,
}

#[napi]
impl NativeQueue {
    /// `max_queue_size` absent or `Infinity` means unbounded.
    #[napi(constructor, catch_unwind)]
    pub fn new(fields: Vec<FieldDecl>, max_queue_size: Option<f64>) -> Result<Self> {
        let schema = to_schema(&fields)?;
        let max = match max_queue_size {
            None => None,
            Some(m) if m == f64::INFINITY => None,
            Some(m) => Some(checked_size(m, "maxQueueSize").map_err(to_js)?),
        };
        let queue = RowQueue::new(schema, max).map_err(to_js)?;
        Ok(NativeQueue {
            inner: Held::new(registry::register(Mutex::new(queue))),
        })
    }

    /// The queue behind handle `id`, from any thread.
    #[napi(factory, catch_unwind)]
    pub fn attach(id: f64) -> Result<Self> {
        let inner = registry::attach_or_closed::<Mutex<RowQueue>>(id, "queue")?;
        Ok(NativeQueue {
            inner: Held::new(inner),
        })
    }

    /// The id another thread passes to `attach`.
    #[napi(catch_unwind)]
    pub fn handle(&self) -> Result<f64> {
        Ok(self.shared()?.id() as f64)
    }

    /// Releases this thread's hold; the queue is freed when nothing holds it.
    #[napi]
    pub fn close(&mut self) {
        self.inner.release();
    }

    fn shared(&self) -> Result<&SharedQueue> {
        self.inner.get("collector")
    }

    /// Appends a block of collected rows with their timestamps. All or nothing.
    #[napi(catch_unwind)]
    pub fn push(
        &self,
        rows: u32,
        typed: Vec<Uint8ArraySlice>,
        any_bytes: Vec<Uint8ArraySlice>,
        any_offsets: Vec<Uint32ArraySlice>,
        timestamps: Float64ArraySlice,
    ) -> Result<()> {
        let r = columns::rows_ref(rows, &typed, &any_bytes, &any_offsets, Some(&timestamps));
        self.shared()?.data.lock().push(&r).map_err(to_js)
    }

    #[napi(getter)]
    pub fn dropped(&self) -> Result<f64> {
        Ok(self.shared()?.data.lock().dropped() as f64)
    }

    #[napi(getter)]
    pub fn length(&self) -> Result<f64> {
        Ok(self.shared()?.data.lock().len() as f64)
    }
}

/// The training side of a queue: moves rows out and logs their collect times.
#[napi]
pub struct NativeUser {
    queue: Held<Mutex<RowQueue>>,
    log: Mutex<TimestampLog>,
}

#[napi]
impl NativeUser {
    /// `log_capacity`: how many collect times to keep (the buffer's maxSize).
    #[napi(constructor, catch_unwind)]
    pub fn new(queue: &NativeQueue, log_capacity: f64) -> Result<Self> {
        let cap = checked_size(log_capacity, "maxSize").map_err(to_js)?;
        Ok(NativeUser {
            queue: Held::new(queue.shared()?.clone()),
            log: Mutex::new(TimestampLog::new(cap)),
        })
    }

    fn queue(&self) -> Result<&SharedQueue> {
        self.queue.get("user")
    }

    /// Releases this user's hold on the queue.
    #[napi]
    pub fn close(&mut self) {
        self.queue.release();
    }

    /// Moves every queued row into `buffer` in one call; returns the rows moved.
    #[napi(catch_unwind)]
    pub fn drain_into(&self, buffer: &NativeBuffer) -> Result<u32> {
        let drained = {
            let mut q = self.queue()?.data.lock();
            if q.schema() != buffer.shared()?.data.lock().schema() {
                return Err(invalid("buffer: its fields differ from the queue's"));
            }
            q.drain()
        };
        let mut b = buffer.shared()?.data.lock();
        let mut log = self.log.lock();
        for part in drained.parts() {
            b.extend(&part).map_err(to_js)?;
            log.extend(part.timestamps.unwrap_or_default());
        }
        Ok(drained.rows() as u32)
    }

    /// Takes every queued row, with timestamps, for a buffer written in TS.
    #[napi(catch_unwind)]
    pub fn drain<'env>(&self, env: &'env Env) -> Result<Vec<ArrayBuffer<'env>>> {
        let drained = self.queue()?.data.lock().drain();
        let columns = drained.into_columns().map_err(to_js)?;
        self.log.lock().extend(&columns.timestamps);
        columns::to_js(env, columns, true)
    }

    /// Writes the queued rows and the collect-time log into `dir`, off the JS thread.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn write_state(&self, dir: String) -> Result<AsyncTask<FileTask>> {
        let log: Vec<f64> = self.log.lock().times().collect();
        Ok(state::write_user_state(
            self.queue()?.clone(),
            log,
            PathBuf::from(dir),
        ))
    }

    /// Reads and checks a user state; `applyLoad` puts it in place.
    #[napi(catch_unwind, ts_return_type = "Promise<PreparedUser>")]
    pub fn prepare_load(&self, dir: String) -> Result<AsyncTask<PrepareUserTask>> {
        Ok(state::prepare_user(
            self.queue()?.clone(),
            PathBuf::from(dir),
        ))
    }

    /// Puts the restored queued rows before the current ones and restores the log.
    #[napi(catch_unwind)]
    pub fn apply_load(&self, prepared: &mut PreparedUser) -> Result<()> {
        state::apply_user(&self.queue()?.data, &self.log, prepared)
    }

    /// Rows added whose collect time is strictly later than `since` (ms since the epoch).
    #[napi(catch_unwind)]
    pub fn count_added_since(&self, since: f64) -> f64 {
        self.log.lock().count_after(since) as f64
    }
}
