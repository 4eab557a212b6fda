//! Shared objects reachable from any worker thread by a numeric handle.
//!
//! The registry maps ids to `Weak` references of Rust data only (never a JS value):
//! each JS object that uses a shared queue or buffer, in whichever thread, holds an
//! `Arc`. When the last of them is closed or garbage-collected the data is dropped and
//! its entry removed, so the registry never keeps anything alive by itself.

use parking_lot::Mutex;
use std::any::Any;
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

/// A new holder of the object `id`: `None` if it was dropped or is not a `T`.
pub fn attach<T: Send + Sync + 'static>(id: u64) -> Option<Arc<Shared<T>>> {
    let weak = ENTRIES.lock().get(&id)?.clone();
    weak.upgrade()?.downcast::<Shared<T>>().ok()
}

/// `attach`, or an `EXPBUF_CLOSED` error naming `what` (a buffer, a queue).
pub fn attach_or_closed<T: Send + Sync + 'static>(
    id: f64,
    what: &str,
) -> crate::error::Result<Arc<Shared<T>>> {
    attach::<T>(id as u64).ok_or_else(|| {
        crate::error::closed(format!("handle: {what} {id} was closed or never existed"))
    })
}

/// One JS object's hold on a shared object: released by `close()`, or when the JS
/// object is garbage-collected and this is dropped.
pub struct Held<T>(Option<Arc<Shared<T>>>);

impl<T> Held<T> {
    pub fn new(shared: Arc<Shared<T>>) -> Self {
        Held(Some(shared))
    }

    /// The shared object, or `EXPBUF_CLOSED` naming `what` once released.
    pub fn get(&self, what: &str) -> crate::error::Result<&Arc<Shared<T>>> {
        self.0
            .as_ref()
            .ok_or_else(|| crate::error::closed(format!("{what}: closed")))
    }

    pub fn release(&mut self) {
        self.0 = None;
    }
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
