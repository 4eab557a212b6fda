//! `NativeQueue` (collector side) and `NativeUser` (training side) over one shared
//! `RowQueue`.

use crate::buffer::NativeBuffer;
use crate::columns;
use crate::error::{invalid, to_js, Result};
use crate::schema::{to_schema, FieldDecl};
use expbuf_core::{checked_size, RowQueue, TimestampLog};
use napi::bindgen_prelude::{ArrayBuffer, Float64ArraySlice, Uint32ArraySlice, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use parking_lot::Mutex;
use std::sync::Arc;

#[napi]
pub struct NativeQueue {
    inner: Arc<Mutex<RowQueue>>,
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
        Ok(NativeQueue {
            inner: Arc::new(Mutex::new(RowQueue::new(schema, max).map_err(to_js)?)),
        })
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
        self.inner.lock().push(&r).map_err(to_js)
    }

    #[napi(getter)]
    pub fn dropped(&self) -> f64 {
        self.inner.lock().dropped() as f64
    }

    #[napi(getter)]
    pub fn length(&self) -> f64 {
        self.inner.lock().len() as f64
    }
}

/// The training side of a queue: moves rows out and logs their collect times.
#[napi]
pub struct NativeUser {
    queue: Arc<Mutex<RowQueue>>,
    log: Mutex<TimestampLog>,
}

#[napi]
impl NativeUser {
    /// `log_capacity`: how many collect times to keep (the buffer's maxSize).
    #[napi(constructor, catch_unwind)]
    pub fn new(queue: &NativeQueue, log_capacity: f64) -> Result<Self> {
        let cap = checked_size(log_capacity, "maxSize").map_err(to_js)?;
        Ok(NativeUser {
            queue: queue.inner.clone(),
            log: Mutex::new(TimestampLog::new(cap)),
        })
    }

    /// Moves every queued row into `buffer` in one call; returns the rows moved.
    #[napi(catch_unwind)]
    pub fn drain_into(&self, buffer: &NativeBuffer) -> Result<u32> {
        let drained = {
            let mut q = self.queue.lock();
            if q.schema() != buffer.inner.lock().schema() {
                return Err(invalid("buffer: its fields differ from the queue's"));
            }
            q.drain()
        };
        let mut b = buffer.inner.lock();
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
        let drained = self.queue.lock().drain();
        let columns = drained.into_columns().map_err(to_js)?;
        self.log.lock().extend(&columns.timestamps);
        columns::to_js(env, columns, true)
    }

    /// Rows added whose collect time is strictly later than `since` (ms since the epoch).
    #[napi(catch_unwind)]
    pub fn count_added_since(&self, since: f64) -> f64 {
        self.log.lock().count_after(since) as f64
    }
}
