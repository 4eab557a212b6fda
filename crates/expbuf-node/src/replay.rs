//! Replay buffers: the native object, and the waits of `sampleAsync`/`insertAllowed`.

use crate::ffi::{Cx, Elem, Export, Native, Val, Waker};
use crate::registry::{self, Held, Shared};
use crate::rows;
use expbuf_core::input::{whole_in, Options};
use expbuf_core::replay::ReplayConfig;
use expbuf_core::state::{load_replay, save_replay, write_replay};
use expbuf_core::{checked_rows, Error, Replay, Result, Ring, Schema, User};
use napi::sys::napi_type_tag;
use parking_lot::Mutex;
use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;

/// What a wait is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Until {
    /// A sample of this many steps is allowed.
    Sample(usize),
    /// An insert is allowed.
    Insert,
}

/// A replay buffer shared by every thread that attached to it, with the waits of
/// `sampleAsync`/`insertAllowed` on any of those threads.
pub struct ReplayCell {
    pub replay: Mutex<Replay>,
    waiters: Mutex<Vec<(Arc<Waker>, Until)>>,
}

pub type SharedReplay = Arc<Shared<ReplayCell>>;

impl ReplayCell {
    /// Wakes the waiters whose condition holds now (called with the replay locked,
    /// after a change); a wake only queues a call on the waiter's thread, where the TS
    /// layer checks its waits again.
    pub fn wake_ready(&self, r: &Replay) {
        let mut w = self.waiters.lock();
        if w.is_empty() {
            return;
        }
        let mut woken: Vec<Arc<Waker>> = Vec::new();
        w.retain(|(waker, until)| {
            let ready = match *until {
                Until::Sample(n) => r.sample_allowed(n),
                Until::Insert => r.can_insert(),
            };
            if ready && !woken.iter().any(|x| Arc::ptr_eq(x, waker)) {
                woken.push(waker.clone());
            }
            !ready
        });
        drop(w);
        for x in woken {
            x.wake();
        }
    }

    /// Drops every wait of `waker`.
    fn forget(&self, waker: &Arc<Waker>) {
        self.waiters.lock().retain(|(w, _)| !Arc::ptr_eq(w, waker));
    }
}

/// A JS object's hold on a replay buffer, and the waker of its waits (made at the
/// first wait, on the object's thread).
pub struct ReplayObj {
    held: Held<ReplayCell>,
    waker: RefCell<Option<Arc<Waker>>>,
}

impl Native for ReplayObj {
    const TAG: napi_type_tag = napi_type_tag {
        lower: 0x6578_7062_7566_0008,
        upper: 0x1b7d_e3a9_5c02_f4e6,
    };
    const WHAT: &'static str = "replay buffer";
}

impl ReplayObj {
    fn new(shared: SharedReplay) -> ReplayObj {
        ReplayObj {
            held: Held::new(shared),
            waker: RefCell::new(None),
        }
    }

    pub fn shared(&self) -> Result<std::cell::Ref<'_, SharedReplay>> {
        self.held.get("replay buffer")
    }

    /// Ends this object's waits and its waker (at close, or when JS drops the object).
    fn end_waits(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            if let Ok(c) = self.shared() {
                c.data.forget(&w);
            }
            w.release();
        }
    }
}

impl Drop for ReplayObj {
    fn drop(&mut self) {
        self.end_waits();
    }
}

/// A replay buffer's `add()` stage on one thread.
pub struct ReplayStage(Arc<Ring>);

impl Native for ReplayStage {
    const TAG: napi_type_tag = napi_type_tag {
        lower: 0x6578_7062_7566_0009,
        upper: 0x8e40_7c1d_26b5_a93f,
    };
    const WHAT: &'static str = "stage";
}

impl crate::user::SinkCell for Shared<ReplayCell> {
    fn drain(&self, user: &User) -> Result<usize> {
        let mut r = self.data.replay.lock();
        let moved = user.update(&mut *r)?;
        self.data.wake_ready(&r);
        Ok(moved)
    }
}

fn cell(cx: &Cx, i: usize) -> Result<SharedReplay> {
    Ok(cx.obj::<ReplayObj>(i)?.shared()?.clone())
}

/// `replayNew(schema, options)`: a replay buffer; every option is checked here.
fn new(cx: &mut Cx) -> Result<Val> {
    let schema = Arc::new(Schema::parse(&cx.value(0)?)?);
    let config = ReplayConfig::from_options(&cx.value(1)?)?;
    let replay = Replay::new(schema, config)?;
    let cell = ReplayCell {
        replay: Mutex::new(replay),
        waiters: Mutex::new(Vec::new()),
    };
    cx.external(ReplayObj::new(registry::register(cell)))
}

/// `replayAttach(id)`: the replay buffer behind a handle's id, from any thread.
fn attach(cx: &mut Cx) -> Result<Val> {
    let shared = registry::attach::<ReplayCell>(cx.f64(0, "handle.id")?, "replay buffer")?;
    cx.external(ReplayObj::new(shared))
}

fn id(cx: &mut Cx) -> Result<Val> {
    let id = cell(cx, 0)?.id();
    cx.number(id as f64)
}

/// `replayDescribe(replay)`: its fields, the fields of what it takes and gives, its settings.
fn describe(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let r = c.data.replay.lock();
    let cfg = r.config();
    let n = |x: f64| cx.number(x);
    let priority = match cfg.priority {
        Some(p) => cx.object(&[
            ("alpha", n(p.alpha)?),
            ("beta", n(r.beta())?),
            ("epsilon", n(p.epsilon)?),
        ])?,
        None => cx.undefined(),
    };
    let rate = match cfg.rate_limit {
        Some(l) => cx.object(&[
            ("minSize", n(l.min_size as f64)?),
            ("samplesPerInsert", n(l.samples_per_insert)?),
            ("tolerance", n(l.tolerance)?),
        ])?,
        None => cx.undefined(),
    };
    cx.object(&[
        ("fields", cx.js_value(&r.schema().to_value())?),
        ("stepFields", cx.js_value(&r.schemas().step.to_value())?),
        (
            "sampleFields",
            cx.js_value(&r.schemas().transition.to_value())?,
        ),
        (
            "sequenceFields",
            cx.js_value(&r.schemas().sequence.to_value())?,
        ),
        (
            "episodeFields",
            cx.js_value(&r.schemas().episode.to_value())?,
        ),
        ("maxSize", n(cfg.max_size as f64)?),
        ("batchSize", n(cfg.batch_size as f64)?),
        ("nStep", n(cfg.n_step as f64)?),
        ("gamma", n(cfg.gamma)?),
        ("priority", priority),
        ("rateLimit", rate),
    ])
}

fn counters(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let counters = c.data.replay.lock().counters().clone();
    rows::counter_view(cx, counters)
}

fn close(cx: &mut Cx) -> Result<Val> {
    let obj = cx.obj::<ReplayObj>(0)?;
    obj.end_waits();
    obj.held.release();
    Ok(cx.undefined())
}

/// `replayAddBatch(replay, rows, typed[], anyBytes[], anyOffsets[])`: steps (rows of
/// the step schema), all or nothing.
fn add_batch(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let input = rows::Input::read(cx, 1)?;
    let mut r = c.data.replay.lock();
    r.extend(&input.rows())?;
    c.data.wake_ready(&r);
    Ok(cx.undefined())
}

/// The typed array argument at `i`, which must hold `elem` values.
fn typed_of<'a>(cx: &'a Cx, i: usize, name: &str, elem: Elem) -> Result<&'a [u8]> {
    let t = cx.typed(i, name)?;
    if t.elem != elem {
        return Err(Error::invalid_argument(format!(
            "{name}: expected a {} array, got a {}",
            elem.name(),
            t.elem.name()
        )));
    }
    Ok(t.bytes)
}

/// `replayAddEpisodes(replay, rows, typed[], anyBytes, anyOffsets, lengths: Uint32Array,
/// terminated: Uint8Array, finals: Uint8Array, hasFinal: Uint8Array)`: whole episodes
/// (rows of the schema, episode after episode; `finals` holds a state's bytes per
/// episode, read where `hasFinal` is 1). See `Replay::extend_episodes`.
fn add_episodes(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let input = rows::Input::read(cx, 1)?;
    let lengths: Vec<u32> = typed_of(cx, 5, "lengths", Elem::U32)?
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let terminated: Vec<bool> = typed_of(cx, 6, "terminated", Elem::U8)?
        .iter()
        .map(|&b| b != 0)
        .collect();
    let finals = typed_of(cx, 7, "finals", Elem::U8)?;
    let has = typed_of(cx, 8, "hasFinal", Elem::U8)?;
    let mut r = c.data.replay.lock();
    let sb = r
        .schemas()
        .step
        .field("nextState")
        .map_or(0, |f| f.row_bytes());
    if has.len() != lengths.len() || finals.len() != sb * lengths.len() {
        return Err(Error::invalid_argument(format!(
            "finals: {} bytes and {} flags for {} episodes of {sb}-byte states",
            finals.len(),
            has.len(),
            lengths.len()
        )));
    }
    let finals: Vec<Option<&[u8]>> = has
        .iter()
        .enumerate()
        .map(|(e, &h)| (h != 0).then(|| &finals[e * sb..(e + 1) * sb]))
        .collect();
    r.extend_episodes(&input.rows(), &lengths, &terminated, &finals)?;
    c.data.wake_ready(&r);
    Ok(cx.undefined())
}

fn stage(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let schema = c.data.replay.lock().step_schema().clone();
    let ring = Arc::new(Ring::new(schema, usize::MAX)?);
    let view = rows::ring_view(cx, &ring)?;
    let obj = cx.external(ReplayStage(ring))?;
    cx.object(&[("stage", obj), ("ring", view)])
}

/// `replayFlush(replay, stage, tail, anyBytes?, anyOffsets?)`: the staged steps up to
/// `tail` into the buffer; returns how many.
fn flush(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let ring = cx.obj::<ReplayStage>(1)?.0.clone();
    let tail = cx.counter(2, "tail")?;
    let any = rows::AnyInput::read(cx, 3)?;
    let mut r = c.data.replay.lock();
    let moved = ring.flush_into(tail, &any.refs(), &mut *r)?;
    c.data.wake_ready(&r);
    cx.number(moved as f64)
}

/// The batch size argument at `i` (absent: the buffer's `batchSize`).
fn batch(cx: &Cx, i: usize, r: &Replay, name: &str) -> Result<usize> {
    if cx.is_nullish(i) {
        return Ok(r.config().batch_size);
    }
    checked_rows(cx.f64(i, name)?, name)
}

/// `replaySample(replay, n?)`: n-step transitions as output buffers (see
/// `Replay::transition_bytes` for their order).
fn sample(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let mut r = c.data.replay.lock();
    let n = batch(cx, 1, &r, "batchSize")?;
    r.check_sample(n)?;
    let sizes = r.transition_bytes(n)?;
    let out = rows::output(cx, &sizes, |o| r.sample_into(n, o))?;
    c.data.wake_ready(&r);
    Ok(out)
}

/// `replaySampleSequences(replay, n, length)`.
fn sample_sequences(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let n = checked_rows(cx.f64(1, "n")?, "n")?;
    let length = checked_rows(cx.f64(2, "length")?, "length")?;
    let mut r = c.data.replay.lock();
    r.check_sequences(n, length)?;
    let sizes = r.sequence_bytes(n, length)?;
    let out = rows::output(cx, &sizes, |o| r.sample_sequences_into(n, length, o))?;
    c.data.wake_ready(&r);
    Ok(out)
}

/// `replaySampleEpisodes(replay, n)`: `{ T, outputs }`, episodes padded to T steps.
fn sample_episodes(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let n = checked_rows(cx.f64(1, "n")?, "n")?;
    let mut r = c.data.replay.lock();
    let eps = r.draw_episodes(n)?;
    let t = eps.iter().map(Vec::len).max().unwrap_or(0);
    let sizes = r.episode_bytes(n, t)?;
    let out = rows::output(cx, &sizes, |o| r.episodes_into(&eps, t, o))?;
    cx.object(&[("T", cx.number(t as f64)?), ("outputs", out)])
}

/// A Float64Array or Float32Array argument as f64 values.
fn numbers(cx: &Cx, i: usize, name: &str) -> Result<Vec<f64>> {
    let t = cx.typed(i, name)?;
    match t.elem {
        Elem::F64 => Ok(t
            .bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect()),
        Elem::F32 => Ok(t
            .bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect()),
        other => Err(Error::invalid_argument(format!(
            "{name}: expected a Float64Array or Float32Array, got a {}",
            other.name()
        ))),
    }
}

/// `replayUpdatePriorities(replay, ids, priorities)`: returns how many were set.
fn update_priorities(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let ids = numbers(cx, 1, "ids")?;
    let ps = numbers(cx, 2, "priorities")?;
    let n = c.data.replay.lock().update_priorities(&ids, &ps)?;
    cx.number(n as f64)
}

/// `replayBeta(replay, beta?)`: sets β when given; returns it.
fn beta(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let mut r = c.data.replay.lock();
    if !cx.is_nullish(1) {
        r.set_beta(cx.f64(1, "beta")?)?;
    }
    cx.number(r.beta())
}

/// `replayCanSample(replay, n?)`, `replayCanInsert(replay)`.
fn can_sample(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let r = c.data.replay.lock();
    let n = batch(cx, 1, &r, "batchSize")?;
    cx.boolean(r.sample_allowed(n))
}

fn can_insert(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let ok = c.data.replay.lock().can_insert();
    cx.boolean(ok)
}

/// `replayWait(replay, n | undefined, onWake)`: whether a sample of `n` (undefined:
/// an insert) is allowed now; when not, a wait for it is kept, and `onWake` (the same
/// function each time, for this object) runs on this thread once a change on any
/// thread allows it. The TS layer then checks its waits again.
fn wait(cx: &mut Cx) -> Result<Val> {
    let obj = cx.obj::<ReplayObj>(0)?;
    let c = obj.shared()?.clone();
    let r = c.data.replay.lock();
    let until = if cx.is_nullish(1) {
        Until::Insert
    } else {
        Until::Sample(checked_rows(cx.f64(1, "batchSize")?, "batchSize")?)
    };
    let now = match until {
        Until::Sample(n) => r.sample_allowed(n),
        Until::Insert => r.can_insert(),
    };
    if now {
        return cx.boolean(true);
    }
    let waker = match &*obj.waker.borrow() {
        Some(w) => w.clone(),
        None => cx.waker(2)?,
    };
    obj.waker.borrow_mut().get_or_insert_with(|| waker.clone());
    // Registered under the replay's lock, so no change can slip between the check and
    // the wait.
    c.data.waiters.lock().push((waker.clone(), until));
    drop(r);
    cx.keep_alive(&waker, true);
    cx.boolean(false)
}

/// `replayCancelWaits(replay)`: drops this object's waits (before the TS layer
/// registers those still pending again, or at a timeout); the event loop is no longer
/// kept alive for them.
fn cancel_waits(cx: &mut Cx) -> Result<Val> {
    let obj = cx.obj::<ReplayObj>(0)?;
    if let Some(w) = &*obj.waker.borrow() {
        obj.shared()?.data.forget(w);
        cx.keep_alive(w, false);
    }
    Ok(cx.undefined())
}

/// `replayGetData(replay)`: every held step, oldest first, as rows of the step schema.
fn get_data(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let r = c.data.replay.lock();
    let sizes = r.step_bytes(r.len(), "getData")?;
    rows::output(cx, &sizes, |o| r.data_into(o))
}

/// `replayGet(replay, index)`: held step `index` (0 = oldest) as a row of the step schema.
fn get(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let i = cx.f64(1, "index")?;
    let r = c.data.replay.lock();
    if !whole_in(i, 0.0..=(r.len() as f64 - 1.0)) {
        return Err(Error::invalid_argument(format!(
            "index: {} is not an integer in [0, {})",
            expbuf_core::input::number(i),
            r.len()
        )));
    }
    let s = r.slot_at(i as usize)?;
    let sizes = r.step_bytes(1, "index")?;
    rows::output(cx, &sizes, |o| r.steps_into(&[s], o))
}

fn clear(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let mut r = c.data.replay.lock();
    r.clear();
    c.data.wake_ready(&r);
    Ok(cx.undefined())
}

fn resolved(cx: &Cx, _: ()) -> Result<Val> {
    Ok(cx.undefined())
}

/// `replaySave(replay, dir)`, `replayWrite(replay, dir)` (into a staged state).
fn save(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let dir = PathBuf::from(cx.str(1, "dir")?);
    cx.promise(move || save_replay(&c.data.replay.lock(), &dir), resolved)
}

fn write(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let dir = PathBuf::from(cx.str(1, "dir")?);
    cx.promise(
        move || {
            expbuf_core::state::create_dir_all(&dir)?;
            write_replay(&c.data.replay.lock(), &dir)
        },
        resolved,
    )
}

/// A loaded replay state waiting for `replayApplyLoad`.
pub struct PreparedReplay(RefCell<Option<Replay>>);

impl Native for PreparedReplay {
    const TAG: napi_type_tag = napi_type_tag {
        lower: 0x6578_7062_7566_000a,
        upper: 0x4f93_d2c6_7a18_e05b,
    };
    const WHAT: &'static str = "prepared replay state";
}

/// `replayPrepareLoad(replay, dir)`: reads and checks a state into a new buffer.
fn prepare_load(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let dir = PathBuf::from(cx.str(1, "dir")?);
    cx.promise(
        move || {
            let fresh = c.data.replay.lock().empty_like()?;
            load_replay(&dir, fresh)
        },
        |cx, loaded| cx.external(PreparedReplay(RefCell::new(Some(loaded)))),
    )
}

fn apply_load(cx: &mut Cx) -> Result<Val> {
    let c = cell(cx, 0)?;
    let loaded = cx
        .obj::<PreparedReplay>(1)?
        .0
        .borrow_mut()
        .take()
        .ok_or_else(|| Error::closed("prepared state (already applied)"))?;
    let mut r = c.data.replay.lock();
    r.replace_with(loaded);
    c.data.wake_ready(&r);
    Ok(cx.undefined())
}

/// Options of `sampleAsync`/`insertAllowed` are read in TS; this checks the keys once.
fn check_wait_options(cx: &mut Cx) -> Result<Val> {
    let v = cx.value(0)?;
    let o = Options::new(&v, "options", &["timeoutMs"])?;
    match o.number("timeoutMs")? {
        Some(t) if t.is_nan() || t < 0.0 => Err(Error::invalid_argument(format!(
            "options.timeoutMs: {} is not a number of ms ≥ 0",
            expbuf_core::input::number(t)
        ))),
        Some(t) => cx.number(t),
        None => Ok(cx.undefined()),
    }
}

pub const EXPORTS: &[(&str, Export)] = &[
    ("replayNew", new),
    ("replayAttach", attach),
    ("replayId", id),
    ("replayDescribe", describe),
    ("replayCounters", counters),
    ("replayClose", close),
    ("replayAddBatch", add_batch),
    ("replayAddEpisodes", add_episodes),
    ("replayStage", stage),
    ("replayFlush", flush),
    ("replaySample", sample),
    ("replaySampleSequences", sample_sequences),
    ("replaySampleEpisodes", sample_episodes),
    ("replayUpdatePriorities", update_priorities),
    ("replayBeta", beta),
    ("replayCanSample", can_sample),
    ("replayCanInsert", can_insert),
    ("replayWait", wait),
    ("replayCancelWaits", cancel_waits),
    ("replayWaitOptions", check_wait_options),
    ("replayGetData", get_data),
    ("replayGet", get),
    ("replayClear", clear),
    ("replaySave", save),
    ("replayWrite", write),
    ("replayPrepareLoad", prepare_load),
    ("replayApplyLoad", apply_load),
];
