//! Shared objects reachable from any worker thread by a numeric handle.
//!
//! The registry maps ids to `Weak` references of Rust data only (never a JS value):
//! each JS object that uses a shared queue or buffer, in whichever thread, holds an
//! `Arc` through its `Held`. When the last of them is closed or garbage-collected the
//! data is dropped and its entry removed, so the registry never keeps anything alive.

use expbuf_core::input::{whole_in, SAFE_LIMIT};
use expbuf_core::{Error, ErrorCode, Result};
use parking_lot::Mutex;
use std::any::Any;
use std::cell::{Ref, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Weak};

/// A registered object: its id, and the data. Dropping the last `Arc` unregisters it.
pub struct Shared<T> {
    id: u64,
    pub data: T,
}

impl<T> Shared<T> {
    pub fn id(&self) -> u64 {
        self.id
    }
}

type Entries = HashMap<u64, Weak<dyn Any + Send + Sync>>;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static ENTRIES: LazyLock<Mutex<Entries>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Registers `data` and returns the first holder's `Arc`.
pub fn register<T: Send + Sync + 'static>(data: T) -> Arc<Shared<T>> {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let shared = Arc::new(Shared { id, data });
    let any: Arc<dyn Any + Send + Sync> = shared.clone();
    ENTRIES.lock().insert(id, Arc::downgrade(&any));
    shared
}

/// A new holder of object `id` (a handle's id), or `EXPBUF_CLOSED` naming `what` when
/// it was dropped, never existed, or is another kind of object.
pub fn attach<T: Send + Sync + 'static>(id: f64, what: &str) -> Result<Arc<Shared<T>>> {
    // The wasm build's threads each instantiate their own module, with its own registry.
    let why = if cfg!(target_family = "wasm") {
        " in this thread (the WebAssembly build: handles do not cross threads)"
    } else {
        ""
    };
    let closed = || {
        Error::new(
            ErrorCode::Closed,
            format!("handle: {what} {id} was closed or never existed{why}"),
        )
    };
    if !whole_in(id, 1.0..=SAFE_LIMIT - 1.0) {
        return Err(Error::invalid_argument(format!(
            "handle: id {id} is not a handle's id"
        )));
    }
    let weak = ENTRIES
        .lock()
        .get(&(id as u64))
        .cloned()
        .ok_or_else(closed)?;
    weak.upgrade()
        .ok_or_else(closed)?
        .downcast::<Shared<T>>()
        .map_err(|_| closed())
}

/// How many shared objects are alive.
pub fn len() -> usize {
    ENTRIES.lock().len()
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        ENTRIES.lock().remove(&self.id);
    }
}

/// One JS object's hold on a shared object: released by `close()`, or when the JS
/// object is garbage-collected and this is dropped. Used only on its object's thread.
pub struct Held<T>(RefCell<Option<Arc<Shared<T>>>>);

impl<T> Held<T> {
    pub fn new(shared: Arc<Shared<T>>) -> Self {
        Held(RefCell::new(Some(shared)))
    }

    /// The shared object, or `EXPBUF_CLOSED` naming `what` once released.
    pub fn get(&self, what: &str) -> Result<Ref<'_, Arc<Shared<T>>>> {
        Ref::filter_map(self.0.borrow(), Option::as_ref).map_err(|_| Error::closed(what))
    }

    pub fn release(&self) {
        self.0.borrow_mut().take();
    }
}
