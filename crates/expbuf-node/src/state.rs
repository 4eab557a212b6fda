//! `saveState` / `loadState` of a native buffer, run on libuv's thread pool.
//!
//! napi's async tasks carry only napi's own status, so a failure's message starts with
//! its expbuf code ("EXPBUF_CORRUPT_STATE: …"); the TS layer turns it back into `code`.

use crate::buffer::SharedBuffer;
use expbuf_core::state::{load_buffer, save_buffer, Target};
use napi::bindgen_prelude::*;
use std::path::PathBuf;

fn reason(e: expbuf_core::Error) -> napi::Error {
    napi::Error::from_reason(e.to_string())
}

pub struct SaveTask {
    pub(crate) buffer: SharedBuffer,
    pub(crate) dir: PathBuf,
}

impl Task for SaveTask {
    type Output = ();
    type JsValue = ();

    /// Holds the buffer's lock while writing, so the state is one consistent moment and
    /// no second copy of the rows is made; `update()` and `sample()` wait meanwhile.
    fn compute(&mut self) -> napi::Result<()> {
        let b = self.buffer.data.lock();
        save_buffer(&b, &self.dir).map_err(reason)
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> napi::Result<()> {
        Ok(())
    }
}

pub struct LoadTask {
    pub(crate) buffer: SharedBuffer,
    pub(crate) dir: PathBuf,
}

impl Task for LoadTask {
    type Output = ();
    type JsValue = ();

    /// Loads into a new buffer without the lock (files are checked on the way), then
    /// swaps it in: on any error the buffer is as it was.
    fn compute(&mut self) -> napi::Result<()> {
        let (schema, kind, max_size) = {
            let b = self.buffer.data.lock();
            (b.schema().clone(), b.policy().kind(), b.max_size())
        };
        let target = Target {
            schema: &schema,
            kind,
            max_size,
        };
        let loaded = load_buffer(&self.dir, &target).map_err(reason)?;
        *self.buffer.data.lock() = loaded;
        Ok(())
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> napi::Result<()> {
        Ok(())
    }
}
