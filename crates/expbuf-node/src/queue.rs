//! Queues and collector rings: the collecting side of `DataUser`'s queue.

use crate::buffer::BufferObj;
use crate::ffi::{Cx, Native, Val};
use crate::registry::{self, Held, Shared};
use crate::replay::ReplayObj;
use crate::rows::{self, AnyInput, Input};
use expbuf_core::input::Options;
use expbuf_core::{checked_rows, Queue, Result, Ring, Schema};
use napi::sys::napi_type_tag;
use std::sync::Arc;

/// A JS object's hold on a queue (a collector's, or a user's).
pub struct QueueObj(Held<Arc<Queue>>);

impl Native for QueueObj {
    const TAG: napi_type_tag = napi_type_tag {
        lower: 0x6578_7062_7566_0003,
        upper: 0x2f6b_d80e_c419_73a2,
    };
    const WHAT: &'static str = "collector";
}

impl QueueObj {
    pub fn queue(&self) -> Result<Arc<Queue>> {
        Ok(self.0.get("collector")?.data.clone())
    }

    /// A new hold on the queue's registry entry (a user keeps one).
    pub fn hold(&self) -> Result<Arc<Shared<Arc<Queue>>>> {
        Ok(self.0.get("collector")?.clone())
    }
}

/// A collecting thread's ring on a queue.
pub struct RingObj {
    queue: Arc<Queue>,
    ring: Arc<Ring>,
}

impl Native for RingObj {
    const TAG: napi_type_tag = napi_type_tag {
        lower: 0x6578_7062_7566_0004,
        upper: 0xc0a7_3e59_12d4_8b66,
    };
    const WHAT: &'static str = "ring";
}

/// `queueNew(source, options, maxSize)`: a queue for rows of `source` (a native buffer
/// or replay buffer, whose (step) schema it shares, or a field declaration), bounded by `options.maxQueueSize`
/// (`Infinity`: unbounded; absent: `maxSize`, the buffer's).
fn new(cx: &mut Cx) -> Result<Val> {
    let schema = if let Ok(b) = cx.obj::<BufferObj>(0) {
        b.shared()?.data.lock().schema().clone()
    } else if let Ok(r) = cx.obj::<ReplayObj>(0) {
        r.shared()?.data.replay.lock().step_schema().clone()
    } else {
        Arc::new(Schema::parse(&cx.value(0)?)?)
    };
    let options = cx.value(1)?;
    let o = Options::new(&options, "options", &["maxQueueSize"])?;
    let max = match o.number("maxQueueSize")? {
        None => Some(checked_rows(cx.f64(2, "maxSize")?, "maxSize")?),
        Some(m) if m == f64::INFINITY => None,
        Some(m) => Some(checked_rows(m, "options.maxQueueSize")?),
    };
    let queue = Arc::new(Queue::new(schema, max)?);
    cx.external(QueueObj(Held::new(registry::register(queue))))
}

/// `queueAttach(id)`: the queue behind a collector handle's id, from any thread.
fn attach(cx: &mut Cx) -> Result<Val> {
    let shared = registry::attach::<Arc<Queue>>(cx.f64(0, "handle.id")?, "collector")?;
    cx.external(QueueObj(Held::new(shared)))
}

/// `queueId(queue)`: the id a handle carries.
fn id(cx: &mut Cx) -> Result<Val> {
    let id = cx.obj::<QueueObj>(0)?.0.get("collector")?.id();
    cx.number(id as f64)
}

/// `queueFields(queue)`: the queue's fields, as `Schema::to_value` lists them.
fn fields(cx: &mut Cx) -> Result<Val> {
    let q = cx.obj::<QueueObj>(0)?.queue()?;
    cx.js_value(&q.schema().to_value())
}

/// `queueCounters(queue)`: an ArrayBuffer over the queue's counter block.
fn counters(cx: &mut Cx) -> Result<Val> {
    let q = cx.obj::<QueueObj>(0)?.queue()?;
    rows::counter_view(cx, q.counters().clone())
}

/// `queueClose(queue)`: releases this object's hold.
fn close(cx: &mut Cx) -> Result<Val> {
    cx.obj::<QueueObj>(0)?.0.release();
    Ok(cx.undefined())
}

/// `queueRing(queue)`: a new ring for this thread, `{ ring, view }`.
fn ring(cx: &mut Cx) -> Result<Val> {
    let queue = cx.obj::<QueueObj>(0)?.queue()?;
    let ring = queue.ring()?;
    let view = rows::ring_view(cx, &ring)?;
    let obj = cx.external(RingObj { queue, ring })?;
    cx.object(&[("ring", obj), ("view", view)])
}

/// `ringPublish(ring, tail, anyBytes?, anyOffsets?)`: publishes the rows written up to
/// `tail`; returns the ring's head (the writer may use slots below head + capacity).
fn publish(cx: &mut Cx) -> Result<Val> {
    let r = cx.obj::<RingObj>(0)?;
    let tail = cx.counter(1, "tail")?;
    let any = AnyInput::read(cx, 2)?;
    let head = r.queue.publish(&r.ring, tail, &any.refs())?;
    cx.number(head as f64)
}

/// `ringSpill(ring)`: moves the ring's published rows into a block; returns its head.
fn spill(cx: &mut Cx) -> Result<Val> {
    let r = cx.obj::<RingObj>(0)?;
    let head = r.queue.spill(&r.ring)?;
    cx.number(head as f64)
}

/// `queuePush(ring, tail, anyBytes?, anyOffsets?, rows, typed[], anyBytes[],
/// anyOffsets[], timestamps)`: publishes and spills the ring (so the batch follows the
/// rows collected before it), then queues the batch; returns the ring's head.
fn push(cx: &mut Cx) -> Result<Val> {
    let r = cx.obj::<RingObj>(0)?;
    let tail = cx.counter(1, "tail")?;
    let pending = AnyInput::read(cx, 2)?;
    let batch = Input::read_with(cx, 4, true)?;
    let pending = pending.refs();
    let head = r
        .queue
        .push(Some((&r.ring, tail, &pending)), &batch.rows())?;
    cx.number(head as f64)
}

pub const EXPORTS: &[(&str, crate::ffi::Export)] = &[
    ("queueNew", new),
    ("queueAttach", attach),
    ("queueId", id),
    ("queueFields", fields),
    ("queueCounters", counters),
    ("queueClose", close),
    ("queueRing", ring),
    ("ringPublish", publish),
    ("ringSpill", spill),
    ("queuePush", push),
];
