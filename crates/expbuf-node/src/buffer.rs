//! Buffers: one native object for the three kinds (the TS layer gives each its class).

use crate::ffi::{Cx, Native, Val};
use crate::registry::{self, Held, Shared};
use crate::rows;
use expbuf_core::input::{whole_in, Options};
use expbuf_core::{checked_rows, Buffer, Error, Policy, Result, Ring, Schema};
use napi::sys::napi_type_tag;
use parking_lot::Mutex;
use std::sync::Arc;

pub type SharedBuffer = Arc<Shared<Mutex<Buffer>>>;

/// A JS object's hold on a buffer.
pub struct BufferObj(Held<Mutex<Buffer>>);

impl Native for BufferObj {
    const TAG: napi_type_tag = napi_type_tag {
        lower: 0x6578_7062_7566_0001,
        upper: 0x9d3c_41f0_0b7e_5a11,
    };
    const WHAT: &'static str = "buffer";
}

impl BufferObj {
    pub fn shared(&self) -> Result<std::cell::Ref<'_, SharedBuffer>> {
        self.0.get("buffer")
    }
}

/// A buffer's `add()` stage on one thread (see `Ring::flush_into`).
pub struct StageObj(Arc<Ring>);

impl Native for StageObj {
    const TAG: napi_type_tag = napi_type_tag {
        lower: 0x6578_7062_7566_0002,
        upper: 0x51c2_88e4_3a90_17bd,
    };
    const WHAT: &'static str = "stage";
}

/// `bufferNew(kind, fields, maxSize, options)`: a new buffer; the fields and options
/// are checked here, every message naming the field or option.
fn new(cx: &mut Cx) -> Result<Val> {
    let kind = cx.str(0, "kind")?;
    let schema = Arc::new(Schema::parse(&cx.value(1)?)?);
    let max_size = checked_rows(cx.f64(2, "maxSize")?, "maxSize")?;
    let (policy, seed) = Policy::from_options(&kind, max_size, &cx.value(3)?)?;
    let buffer = Buffer::new(schema, policy, max_size, seed)?;
    cx.external(BufferObj(Held::new(registry::register(Mutex::new(buffer)))))
}

/// `bufferAttach(id)`: the buffer behind a handle's id, from any thread.
fn attach(cx: &mut Cx) -> Result<Val> {
    let shared = registry::attach::<Mutex<Buffer>>(cx.f64(0, "handle.id")?, "buffer")?;
    cx.external(BufferObj(Held::new(shared)))
}

/// `bufferId(buffer)`: the id a handle carries.
fn id(cx: &mut Cx) -> Result<Val> {
    let id = cx.obj::<BufferObj>(0)?.shared()?.id();
    cx.number(id as f64)
}

/// `bufferDescribe(buffer)`: `{ kind, maxSize, replaceProbability, fields }`.
fn describe(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let b = shared.data.lock();
    let p = match b.policy().replace_probability() {
        Some(p) => cx.number(p)?,
        None => cx.undefined(),
    };
    cx.object(&[
        ("kind", cx.string(b.policy().kind())?),
        ("maxSize", cx.number(b.max_size() as f64)?),
        ("replaceProbability", p),
        ("fields", cx.js_value(&b.schema().to_value())?),
    ])
}

/// `bufferCounters(buffer)`: an ArrayBuffer over the buffer's counter block.
fn counters(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let c = shared.data.lock().counters().clone();
    rows::counter_view(cx, c)
}

/// `bufferClose(buffer)`: releases this object's hold.
fn close(cx: &mut Cx) -> Result<Val> {
    cx.obj::<BufferObj>(0)?.0.release();
    Ok(cx.undefined())
}

/// `bufferAddBatch(buffer, rows, typed[], anyBytes[], anyOffsets[])`: all or nothing.
fn add_batch(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let input = rows::Input::read(cx, 1)?;
    shared.data.lock().extend(&input.rows())?;
    Ok(cx.undefined())
}

/// `bufferStage(buffer)`: a new `add()` stage for this thread, with its memory.
fn stage(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let schema = shared.data.lock().schema().clone();
    let ring = Arc::new(Ring::new(schema, usize::MAX)?);
    let view = rows::ring_view(cx, &ring)?;
    let obj = cx.external(StageObj(ring))?;
    cx.object(&[("stage", obj), ("ring", view)])
}

/// `bufferFlush(buffer, stage, tail, anyBytes?, anyOffsets?)`: moves the staged rows
/// up to `tail` into the buffer; returns how many.
fn flush(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let ring = cx.obj::<StageObj>(1)?.0.clone();
    let tail = cx.counter(2, "tail")?;
    let any = rows::AnyInput::read(cx, 3)?;
    let moved = ring.flush_into(tail, &any.refs(), &mut *shared.data.lock())?;
    cx.number(moved as f64)
}

/// `bufferGetData(buffer)`: every held row, storage order, as output buffers.
fn get_data(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let b = shared.data.lock();
    rows::output(cx, &b.output_bytes(b.len(), "getData")?, |typed| {
        b.data_into(typed)
    })
}

/// `bufferGet(buffer, index)`: row `index` (storage order) as output buffers.
fn get(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let i = cx.f64(1, "index")?;
    let b = shared.data.lock();
    if b.is_empty() || !whole_in(i, 0.0..=(b.len() - 1) as f64) {
        return Err(Error::invalid_argument(format!(
            "index: {} is not an integer in [0, {})",
            expbuf_core::input::number(i),
            b.len()
        )));
    }
    rows::output(cx, &b.output_bytes(1, "index")?, |typed| {
        b.row_into(i as usize, typed)
    })
}

/// Reads `sample`'s options: `{ replacement = true }`.
pub fn replacement(cx: &Cx, i: usize) -> Result<bool> {
    let v = cx.value(i)?;
    let o = Options::new(&v, "options", &["replacement"])?;
    Ok(o.bool("replacement")?.unwrap_or(true))
}

/// `bufferSample(buffer, batchSize, options)`: uniformly drawn rows as output buffers.
fn sample(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let n = checked_rows(cx.f64(1, "batchSize")?, "batchSize")?;
    let replacement = replacement(cx, 2)?;
    let mut b = shared.data.lock();
    b.check_sample(n, replacement)?;
    let sizes = b.output_bytes(n, "batchSize")?;
    rows::output(cx, &sizes, |typed| b.sample_into(n, replacement, typed))
}

/// `bufferSampleInto(buffer, options, ...out)`: draws as many rows as `out` (one typed
/// array per typed field, of its dtype) holds, into `out`; returns that row count.
fn sample_into(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let replacement = replacement(cx, 1)?;
    let mut b = shared.data.lock();
    let schema = b.schema().clone();
    let names: Vec<String> = schema
        .typed_fields()
        .map(|f| format!("out.{}", f.name))
        .collect();
    let mut out = cx.typed_out(2, &names)?;
    let rows = rows::out_rows(&schema, &out)?;
    if schema.any_count() > 0 {
        return Err(Error::invalid_argument(
            "out: sampleInto fills typed fields only; this buffer has 'any' fields (use sample)",
        ));
    }
    let mut typed: Vec<&mut [u8]> = out.iter_mut().map(|(_, s)| &mut **s).collect();
    b.sample_into(rows, replacement, &mut typed)?;
    cx.number(rows as f64)
}

/// `bufferClear(buffer)`.
fn clear(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    shared.data.lock().clear();
    Ok(cx.undefined())
}

pub const EXPORTS: &[(&str, crate::ffi::Export)] = &[
    ("bufferNew", new),
    ("bufferAttach", attach),
    ("bufferId", id),
    ("bufferDescribe", describe),
    ("bufferCounters", counters),
    ("bufferClose", close),
    ("bufferAddBatch", add_batch),
    ("bufferStage", stage),
    ("bufferFlush", flush),
    ("bufferGetData", get_data),
    ("bufferGet", get),
    ("bufferSample", sample),
    ("bufferSampleInto", sample_into),
    ("bufferClear", clear),
];
