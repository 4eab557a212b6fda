//! State tasks, run on libuv's thread pool: saving and loading buffers, users, and the
//! staging directories that make a composite state (a user, a dict of users) atomic.
//!
//! napi's async tasks carry only napi's own status, so a failure's message starts with
//! its expbuf code ("EXPBUF_CORRUPT_STATE: …"); the TS layer turns it back into `code`.

use crate::buffer::SharedBuffer;
use crate::error::{closed, invalid, to_js, Result};
use expbuf_core::state::{
    commit_staged, discard_staged, load_buffer, read_user, save_buffer, stage, write_buffer,
    write_user, Target,
};
use expbuf_core::{Buffer, Columns, RowQueue, TimestampLog};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn reason(e: expbuf_core::Error) -> napi::Error {
    napi::Error::from_reason(e.to_string())
}

/// A unit of file work: `run` on the pool, nothing to hand back but success.
pub struct FileTask(Option<Box<dyn FnOnce() -> expbuf_core::Result<()> + Send>>);

impl FileTask {
    pub fn new(
        f: impl FnOnce() -> expbuf_core::Result<()> + Send + 'static,
    ) -> AsyncTask<FileTask> {
        AsyncTask::new(FileTask(Some(Box::new(f))))
    }
}

impl Task for FileTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<()> {
        match self.0.take() {
            Some(f) => f().map_err(reason),
            None => Ok(()),
        }
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> napi::Result<()> {
        Ok(())
    }
}

/// Saves atomically. Holds the buffer's lock while writing, so the state is one
/// consistent moment and no second copy of the rows is made; `update()` and
/// `sample()` wait meanwhile.
pub fn save(buffer: SharedBuffer, dir: PathBuf) -> AsyncTask<FileTask> {
    FileTask::new(move || save_buffer(&buffer.data.lock(), &dir))
}

/// Writes into `dir` (inside a staged directory), creating it.
pub fn write(buffer: SharedBuffer, dir: PathBuf) -> AsyncTask<FileTask> {
    FileTask::new(move || {
        std::fs::create_dir_all(&dir)
            .map_err(|e| expbuf_core::Error::invalid_argument(format!("{}: {e}", dir.display())))?;
        write_buffer(&buffer.data.lock(), &dir)
    })
}

/// A loaded buffer state waiting to be swapped in by `NativeBuffer.applyLoad`.
#[napi]
pub struct PreparedBuffer {
    pub(crate) loaded: Option<Buffer>,
}

pub struct PrepareBufferTask {
    buffer: SharedBuffer,
    dir: PathBuf,
}

impl PrepareBufferTask {
    pub fn new(buffer: SharedBuffer, dir: PathBuf) -> AsyncTask<Self> {
        AsyncTask::new(PrepareBufferTask { buffer, dir })
    }
}

impl Task for PrepareBufferTask {
    type Output = Buffer;
    type JsValue = PreparedBuffer;

    /// Loads into a new buffer without the lock (files are checked on the way).
    fn compute(&mut self) -> napi::Result<Buffer> {
        let (schema, kind, max_size) = {
            let b = self.buffer.data.lock();
            (b.schema().clone(), b.policy().kind(), b.max_size())
        };
        let target = Target {
            schema: &schema,
            kind,
            max_size,
        };
        load_buffer(&self.dir, &target).map_err(reason)
    }

    fn resolve(&mut self, _env: Env, loaded: Buffer) -> napi::Result<PreparedBuffer> {
        Ok(PreparedBuffer {
            loaded: Some(loaded),
        })
    }
}

/// Swaps a prepared state into `buffer`; infallible once prepared.
pub fn apply_buffer(buffer: &SharedBuffer, prepared: &mut PreparedBuffer) -> Result<()> {
    let loaded = prepared
        .loaded
        .take()
        .ok_or_else(|| closed("prepared: already applied".to_owned()))?;
    *buffer.data.lock() = loaded;
    Ok(())
}

/// What a user's state holds besides its buffer, loaded and checked.
#[napi]
pub struct PreparedUser {
    pub(crate) loaded: Option<(Columns, Vec<f64>)>,
}

pub struct PrepareUserTask {
    queue: Arc<crate::registry::Shared<Mutex<RowQueue>>>,
    dir: PathBuf,
}

impl Task for PrepareUserTask {
    type Output = (Columns, Vec<f64>);
    type JsValue = PreparedUser;

    fn compute(&mut self) -> napi::Result<(Columns, Vec<f64>)> {
        let schema = self.queue.data.lock().schema().clone();
        read_user(&self.dir, &schema).map_err(reason)
    }

    fn resolve(&mut self, _env: Env, loaded: (Columns, Vec<f64>)) -> napi::Result<PreparedUser> {
        Ok(PreparedUser {
            loaded: Some(loaded),
        })
    }
}

pub fn prepare_user(
    queue: Arc<crate::registry::Shared<Mutex<RowQueue>>>,
    dir: PathBuf,
) -> AsyncTask<PrepareUserTask> {
    AsyncTask::new(PrepareUserTask { queue, dir })
}

/// Writes the queued rows (copied under the queue's lock) and the log into `dir`.
pub fn write_user_state(
    queue: Arc<crate::registry::Shared<Mutex<RowQueue>>>,
    log: Vec<f64>,
    dir: PathBuf,
) -> AsyncTask<FileTask> {
    FileTask::new(move || {
        let (schema, queued) = {
            let q = queue.data.lock();
            (q.schema().clone(), q.snapshot()?)
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| expbuf_core::Error::invalid_argument(format!("{}: {e}", dir.display())))?;
        write_user(&dir, &schema, &queued, &log)
    })
}

/// Puts restored queued rows before the current ones and replaces the log.
pub fn apply_user(
    queue: &Mutex<RowQueue>,
    log: &Mutex<TimestampLog>,
    prepared: &mut PreparedUser,
) -> Result<()> {
    let (queued, times) = prepared
        .loaded
        .take()
        .ok_or_else(|| closed("prepared: already applied".to_owned()))?;
    queue.lock().prepend(queued);
    log.lock().replace(&times);
    Ok(())
}

/// Creates a staging directory beside `target` for a composite state; returns its path.
#[napi(catch_unwind)]
pub fn stage_dir(target: String) -> Result<String> {
    let staged = stage(Path::new(&target)).map_err(to_js)?;
    staged
        .into_os_string()
        .into_string()
        .map_err(|_| invalid("dir: not valid UTF-8"))
}

/// Swaps a staged directory in for `target`, atomically, off the JS thread.
#[napi(catch_unwind, ts_return_type = "Promise<void>")]
pub fn commit_dir(staged: String, target: String) -> AsyncTask<FileTask> {
    FileTask::new(move || commit_staged(Path::new(&staged), Path::new(&target)))
}

/// Removes a staged directory that will not be committed.
#[napi(catch_unwind)]
pub fn discard_dir(staged: String) {
    discard_staged(Path::new(&staged));
}
