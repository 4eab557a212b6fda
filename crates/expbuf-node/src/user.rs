//! Data users: the training side of a queue.

use crate::buffer::BufferObj;
use crate::ffi::{Cx, Native, Val};
use crate::queue::QueueObj;
use crate::registry::Shared;
use crate::replay::ReplayObj;
use crate::rows;
use expbuf_core::{checked_rows, Error, Queue, Result, User};
use napi::sys::napi_type_tag;
use std::cell::RefCell;
use std::sync::Arc;

/// A native sink `update()` moves rows into, locked for the move.
pub trait SinkCell: Send + Sync {
    fn drain(&self, user: &User) -> Result<usize>;
}

impl SinkCell for Shared<parking_lot::Mutex<expbuf_core::Buffer>> {
    fn drain(&self, user: &User) -> Result<usize> {
        user.update(&mut *self.data.lock())
    }
}

/// A `DataUser`'s native part: the user, its queue's registry entry (so collectors can
/// attach by handle for as long as the user lives), and its native buffer, bound once
/// so that `update()` checks one object per call.
struct Parts {
    user: Arc<User>,
    _queue: Arc<Shared<Arc<Queue>>>,
    sink: Option<Arc<dyn SinkCell>>,
}

pub struct UserObj(RefCell<Option<Parts>>);

impl Native for UserObj {
    const TAG: napi_type_tag = napi_type_tag {
        lower: 0x6578_7062_7566_0005,
        upper: 0x7e21_b9c4_d063_5af8,
    };
    const WHAT: &'static str = "user";
}

impl UserObj {
    pub fn user(&self) -> Result<Arc<User>> {
        self.0
            .borrow()
            .as_ref()
            .map(|p| p.user.clone())
            .ok_or_else(|| Error::closed("user"))
    }
}

/// `userNew(queue, logCapacity, buffer?)`: a user of `queue` that remembers the collect
/// times of its last `logCapacity` rows and moves them into the native `buffer` or
/// replay buffer (absent for a buffer written in TS, which `userDrain` serves).
fn new(cx: &mut Cx) -> Result<Val> {
    let q = cx.obj::<QueueObj>(0)?;
    let cap = checked_rows(cx.f64(1, "maxSize")?, "maxSize")?;
    let sink: Option<Arc<dyn SinkCell>> = if cx.is_nullish(2) {
        None
    } else if let Ok(r) = cx.obj::<ReplayObj>(2) {
        Some(r.shared()?.clone())
    } else {
        Some(cx.obj::<BufferObj>(2)?.shared()?.clone())
    };
    let hold = q.hold()?;
    let user = Arc::new(User::new(hold.data.clone(), cap));
    cx.external(UserObj(RefCell::new(Some(Parts {
        user,
        _queue: hold,
        sink,
    }))))
}

/// `userUpdate(user)`: moves every queued row into the user's buffer; returns how many.
fn update(cx: &mut Cx) -> Result<Val> {
    let obj = cx.obj::<UserObj>(0)?;
    let moved = {
        let parts = obj.0.borrow();
        let p = parts.as_ref().ok_or_else(|| Error::closed("user"))?;
        let sink = p.sink.as_ref().ok_or_else(|| {
            Error::invalid_argument("user: its buffer is written in TS (use userDrain)")
        })?;
        sink.drain(&p.user)?
    };
    cx.number(moved as f64)
}

/// `userDrain(user)`: takes every queued row (for a buffer written in TS), as output
/// buffers with the collect times last.
fn drain(cx: &mut Cx) -> Result<Val> {
    let user = cx.obj::<UserObj>(0)?.user()?;
    let rows = user.drain()?;
    let sizes: Vec<usize> = rows.typed.iter().map(Vec::len).collect();
    let times = rows.timestamps.clone();
    let typed = rows.typed;
    let any = rows.any;
    rows::output_with(cx, &sizes, Some(&times), move |out| {
        for (dst, src) in out.iter_mut().zip(&typed) {
            dst.copy_from_slice(src);
        }
        Ok(any)
    })
}

/// `userCountSince(user, since)`: rows moved on whose collect time is strictly later.
fn count_since(cx: &mut Cx) -> Result<Val> {
    let user = cx.obj::<UserObj>(0)?.user()?;
    let since = cx.f64(1, "since")?;
    cx.number(user.count_added_since(since) as f64)
}

/// `userClose(user)`: releases the user and its hold on the queue.
fn close(cx: &mut Cx) -> Result<Val> {
    cx.obj::<UserObj>(0)?.0.borrow_mut().take();
    Ok(cx.undefined())
}

pub const EXPORTS: &[(&str, crate::ffi::Export)] = &[
    ("userNew", new),
    ("userUpdate", update),
    ("userDrain", drain),
    ("userCountSince", count_since),
    ("userClose", close),
];
