//! A replay buffer's state: its held steps (oldest first, one `.npy` per field), and
//! beside them what makes them a replay memory: each step's env, flags and link
//! (`replay_env.npy`, `replay_flags.npy`, `replay_link.npy`: the id of the next step of
//! its episode, −1 when it has not come, or at an episode's end the number of its
//! final state), the final states (`replay_finals.npy`), the next state of each env's
//! newest step (`replay_pending.npy`), the priorities (`replay_priority.npy`, p^α per
//! step), and in the manifest's `replay` entry the counters, the RNG, β and the
//! largest priority. Numpy reads every file as it is.

use super::atomic::StagingDir;
use super::columns_io::{
    check_npy, corrupt, find, manifest_schema, read_column, read_columns, write_columns,
    write_file, RowSink, RowSource,
};
use super::manifest::{FileEntry, Manifest, FORMAT, MANIFEST, VERSION};
use super::npy;
use super::read_manifest;
use crate::alloc;
use crate::dtype::Dtype;
use crate::error::{Error, ErrorCode, Result};
use crate::input::SAFE_LIMIT;
use crate::replay::tree::PriorityTree;
use crate::replay::{EnvState, Replay, ACTIVE, END, NONE, START};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::Path;

const KIND: &str = "replay";
const ENV: &str = "replay_env.npy";
const FLAGS: &str = "replay_flags.npy";
const LINK: &str = "replay_link.npy";
const FINALS: &str = "replay_finals.npy";
const PENDING: &str = "replay_pending.npy";
const PRIORITY: &str = "replay_priority.npy";

/// The manifest's `replay` entry.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Meta {
    max_size: usize,
    n_step: usize,
    /// α when prioritized.
    alpha: Option<f64>,
    next_id: u64,
    /// The id slot 0 took: restored, so every step keeps its slot (a prioritized draw
    /// walks the slots in order, so the same slots give the same draws).
    base: u64,
    inserted: u64,
    sampled: u64,
    finals: usize,
    finals_base: u64,
    max_priority: f64,
    beta: f64,
    rng: [u32; 4],
    /// Per env with an episode going on: its id, its newest step's id (None once
    /// evicted; then it has no row in the pending file), its first step's id if held.
    envs: Vec<(u32, Option<u64>, Option<u64>)>,
}

struct Steps<'a>(&'a Replay);

impl RowSource for Steps<'_> {
    fn rows(&self) -> usize {
        self.0.len
    }

    fn typed(&self, i: usize) -> [&[u8]; 2] {
        let r = self.0;
        let first = r.slot_of(r.oldest());
        let end = first + r.len;
        [
            r.store.typed_range(i, first..end.min(r.cap())),
            r.store.typed_range(i, 0..end.saturating_sub(r.cap())),
        ]
    }

    fn any_values(&self, a: usize) -> Box<dyn Iterator<Item = &[u8]> + '_> {
        let r = self.0;
        Box::new((0..r.len).map(move |i| r.store.any_value(a, r.slot_of(r.oldest() + i as u64))))
    }
}

fn npy_file(
    dir: &Path,
    name: &str,
    dtype: Dtype,
    dims: &[usize],
    data: &[u8],
) -> Result<FileEntry> {
    write_file(dir, name, &[&npy::header(dtype, dims), data])
}

fn f64_bytes(values: impl Iterator<Item = f64>) -> Vec<u8> {
    values.flat_map(f64::to_le_bytes).collect()
}

/// Writes `r`'s state into the existing, empty directory `dir`.
pub fn write_replay(r: &Replay, dir: &Path) -> Result<()> {
    let written = write_columns(dir, &r.schema, &Steps(r))?;
    let mut files = written.files;
    let slots: Vec<usize> = (0..r.len)
        .map(|i| r.slot_of(r.oldest() + i as u64))
        .collect();
    let env: Vec<u8> = slots.iter().flat_map(|&s| r.env[s].to_le_bytes()).collect();
    files.push(npy_file(dir, ENV, Dtype::Uint32, &[r.len], &env)?);
    let flags: Vec<u8> = slots.iter().map(|&s| r.flags[s]).collect();
    files.push(npy_file(dir, FLAGS, Dtype::Uint8, &[r.len], &flags)?);
    let link = f64_bytes(slots.iter().map(|&s| {
        if r.flags[s] & END != 0 {
            r.link[s].wrapping_sub(r.finals_base as u32) as f64
        } else if r.link[s] == NONE {
            -1.0
        } else {
            r.id_at(r.link[s] as usize) as f64
        }
    }));
    files.push(write_file(
        dir,
        LINK,
        &[&npy::header(Dtype::Float64, &[r.len]), &link],
    )?);
    let (state_dtype, state_shape) = state_spec(r)?;
    let mut dims = vec![r.finals.len()];
    dims.extend_from_slice(&state_shape);
    let finals: Vec<u8> = r.finals.iter().flat_map(|b| b.iter().copied()).collect();
    files.push(npy_file(dir, FINALS, state_dtype, &dims, &finals)?);
    let mut envs: Vec<(&u32, &EnvState)> = r.envs.iter().collect();
    envs.sort_by_key(|(e, _)| **e);
    let pending: Vec<u8> = envs
        .iter()
        .filter(|(_, st)| st.last.is_some())
        .flat_map(|(_, st)| st.pending.iter().copied())
        .collect();
    let mut dims = vec![envs.iter().filter(|(_, st)| st.last.is_some()).count()];
    dims.extend_from_slice(&state_shape);
    files.push(npy_file(dir, PENDING, state_dtype, &dims, &pending)?);
    if let Some(t) = &r.tree {
        let p = f64_bytes(slots.iter().map(|&s| t.get(s)));
        files.push(write_file(
            dir,
            PRIORITY,
            &[&npy::header(Dtype::Float64, &[r.len]), &p],
        )?);
    }
    let meta = Meta {
        max_size: r.config.max_size,
        n_step: r.config.n_step,
        alpha: r.config.priority.map(|p| p.alpha),
        next_id: r.next_id,
        base: r.base,
        inserted: r.inserted,
        sampled: r.sampled,
        finals: r.finals.len(),
        finals_base: r.finals_base,
        max_priority: r.max_priority,
        beta: r.beta,
        rng: r.rng.state(),
        envs: envs
            .iter()
            .map(|(e, st)| (**e, st.last.map(|s| r.id_at(s as usize)), st.start))
            .collect(),
    };
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: VERSION,
        kind: KIND.to_owned(),
        fields: written.fields,
        rows: r.len,
        max_size: Some(r.config.max_size),
        head: None,
        total_added: Some(r.next_id),
        replace_probability: None,
        rng: Some(r.rng.state()),
        any_file: written.any_file,
        timestamps_file: None,
        log_file: None,
        log_rows: None,
        cursor: None,
        replay: Some(
            serde_json::to_value(&meta)
                .map_err(|e| Error::invalid_argument(format!("manifest: {e}")))?,
        ),
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::invalid_argument(format!("manifest: {e}")))?;
    write_file(dir, MANIFEST, &[&json])?;
    Ok(())
}

/// Saves `r` into `dir`, replacing what was there atomically.
pub fn save_replay(r: &Replay, dir: &Path) -> Result<()> {
    let staging = StagingDir::new(dir)?;
    write_replay(r, &staging.path)?;
    staging.commit()
}

fn state_spec(r: &Replay) -> Result<(Dtype, Vec<usize>)> {
    match r.schema.field("state").map(|f| &f.kind) {
        Some(crate::schema::FieldKind::Typed { dtype, shape, .. }) => Ok((*dtype, shape.clone())),
        _ => Err(Error::new(ErrorCode::Internal, "replay: no typed state")),
    }
}

impl RowSink for Replay {
    fn typed_mut(&mut self, i: usize, rows: usize) -> Result<&mut [u8]> {
        Ok(self.store.typed_rows_mut(i, rows))
    }

    fn push_any(&mut self, a: usize, value: Vec<u8>) -> Result<()> {
        self.store.push_any(a, value);
        Ok(())
    }
}

fn mismatch(what: &str, saved: impl std::fmt::Display, ours: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::SchemaMismatch,
        format!("{what}: the state has {saved}, this ReplayBuffer {ours}"),
    )
}

/// Reads a small `.npy` whole (checked size, header and checksum).
fn read_npy(dir: &Path, m: &Manifest, name: &str, dtype: Dtype, dims: &[usize]) -> Result<Vec<u8>> {
    let entry = find(m, name)?;
    check_npy(dir, entry, dtype, dims)?;
    let bytes: usize = dims.iter().product::<usize>() * dtype.size();
    let mut out = alloc::zeroed_vec(bytes, name)?;
    read_column(dir, entry, dtype, dims, 0, &mut out)?;
    Ok(out)
}

fn f64s(bytes: &[u8]) -> impl Iterator<Item = f64> + '_ {
    bytes.chunks_exact(8).map(|c| {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        f64::from_le_bytes(a)
    })
}

/// Loads the state in `dir` into `target`, a new, empty replay buffer made like the
/// one loading (same schema, `maxSize`, `nStep` and priority α; its other settings,
/// e.g. γ and the rate limit's, stay its own). Every small file is read and checked
/// before the rows are; the caller swaps the result in only on success.
pub fn load_replay(dir: &Path, mut target: Replay) -> Result<Replay> {
    let m = read_manifest(dir)?;
    if m.kind != KIND {
        return Err(corrupt(
            MANIFEST,
            format!("kind '{}' is not a replay buffer state", m.kind),
        ));
    }
    target
        .schema
        .expect_same(&manifest_schema(&m)?, "the state", "the ReplayBuffer")?;
    let meta: Meta = serde_json::from_value(
        m.replay
            .clone()
            .ok_or_else(|| corrupt(MANIFEST, "replay: missing"))?,
    )
    .map_err(|e| corrupt(MANIFEST, format!("replay: {e}")))?;
    let c = &target.config;
    if meta.max_size != c.max_size {
        return Err(mismatch("maxSize", meta.max_size, c.max_size));
    }
    if meta.n_step != c.n_step {
        return Err(mismatch("nStep", meta.n_step, c.n_step));
    }
    let alpha = c.priority.map(|p| p.alpha);
    if meta.alpha != alpha {
        let show = |a: Option<f64>| {
            a.map_or("no priorities".to_owned(), |a| {
                format!("priority alpha {a}")
            })
        };
        return Err(mismatch("priority", show(meta.alpha), show(alpha)));
    }
    let len = m.rows;
    if len > c.max_size || meta.next_id < len as u64 || meta.next_id as f64 >= SAFE_LIMIT {
        return Err(corrupt(
            MANIFEST,
            format!(
                "rows {len} do not fit maxSize {} and nextId {}",
                c.max_size, meta.next_id
            ),
        ));
    }
    let (state_dtype, state_shape) = state_spec(&target)?;
    let sb = target.state_bytes;
    let with = |n: usize| {
        let mut d = vec![n];
        d.extend_from_slice(&state_shape);
        d
    };
    let env = read_npy(dir, &m, ENV, Dtype::Uint32, &[len])?;
    let flags = read_npy(dir, &m, FLAGS, Dtype::Uint8, &[len])?;
    let link = read_npy(dir, &m, LINK, Dtype::Float64, &[len])?;
    let finals = read_npy(dir, &m, FINALS, state_dtype, &with(meta.finals))?;
    let pending_envs = meta
        .envs
        .iter()
        .filter(|(_, last, _)| last.is_some())
        .count();
    let pending = read_npy(dir, &m, PENDING, state_dtype, &with(pending_envs))?;
    let prio = match target.tree {
        Some(_) => Some(read_npy(dir, &m, PRIORITY, Dtype::Float64, &[len])?),
        None => None,
    };
    let rng = Rng::from_state(meta.rng).ok_or_else(|| corrupt(MANIFEST, "replay.rng: zero"))?;
    read_columns(dir, &m, &target.schema.clone(), 0, &mut target)?;

    let r = &mut target;
    let oldest = meta.next_id - len as u64;
    if meta.base > oldest {
        return Err(corrupt(MANIFEST, "replay.base: after the oldest step"));
    }
    r.next_id = meta.next_id;
    r.base = meta.base;
    r.len = len;
    // The loader wrote the i-th oldest step into slot i; move each to its own slot.
    let first = r.slot_of(oldest);
    r.store.rotate_rows(first, len);
    r.finals_base = meta.finals_base;
    r.finals = finals
        .chunks_exact(sb.max(1))
        .take(meta.finals)
        .map(Box::from)
        .collect::<VecDeque<_>>();
    let bad_link = |i: usize| corrupt(LINK, format!("row {i}: a link out of range"));
    for (i, (e, l)) in env.chunks_exact(4).zip(f64s(&link)).enumerate() {
        let s = r.slot_of(oldest + i as u64);
        r.env[s] = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
        let f = flags[i];
        r.flags[s] = f;
        r.link[s] = if f & END != 0 {
            if !(l >= 0.0 && (l as usize) < meta.finals) {
                return Err(bad_link(i));
            }
            (meta.finals_base + l as u64) as u32
        } else if l < 0.0 {
            NONE
        } else {
            let id = l as u64;
            if !(id > oldest + i as u64 && id < meta.next_id) {
                return Err(bad_link(i));
            }
            r.slot_of(id) as u32
        };
    }
    r.active = flags.iter().filter(|&&f| f & ACTIVE != 0).count();
    r.envs.clear();
    let mut rows = pending.chunks_exact(sb.max(1));
    for &(e, last, start) in &meta.envs {
        let id_slot = |id: u64| -> Result<u32> {
            if id < oldest || id >= meta.next_id {
                return Err(corrupt(
                    MANIFEST,
                    format!("replay.envs: env {e}: id {id} is not held"),
                ));
            }
            Ok(((id - meta.base) % meta.max_size as u64) as u32)
        };
        let last = last.map(id_slot).transpose()?;
        let pending = match last {
            Some(_) => rows
                .next()
                .ok_or_else(|| corrupt(PENDING, "fewer rows than envs"))?
                .to_vec(),
            None => Vec::new(),
        };
        // The not-yet-sampleable steps of an episode going on are its newest ones.
        let window = (0..len as u64)
            .map(|i| r.slot_of(oldest + i))
            .filter(|&s| r.env[s] == e && r.flags[s] & (ACTIVE | END) == 0)
            .map(|s| s as u32)
            .collect();
        r.envs.insert(
            e,
            EnvState {
                last,
                pending,
                window,
                start,
            },
        );
    }
    if let Some(p) = &prio {
        let mut ups: Vec<(usize, f64)> = f64s(p)
            .enumerate()
            .map(|(i, v)| (r.slot_of(oldest + i as u64), v))
            .collect();
        if ups
            .iter()
            .any(|&(s, v)| !(v.is_finite() && v >= 0.0) || (v > 0.0) != (r.flags[s] & ACTIVE != 0))
        {
            return Err(corrupt(
                PRIORITY,
                "a priority that is negative, not finite, or on a step that cannot be sampled",
            ));
        }
        let mut t = PriorityTree::new(r.config.max_size)?;
        t.set_many(&mut ups);
        r.tree = Some(t);
    }
    // Complete episodes held whole: walk each held start to its end.
    r.episodes.clear();
    for i in 0..len as u64 {
        let s = r.slot_of(oldest + i);
        if r.flags[s] & START == 0 {
            continue;
        }
        let mut k = s;
        for _ in 0..len {
            if r.flags[k] & END != 0 {
                r.episodes.push_back((oldest + i, r.id_at(k)));
                break;
            }
            if r.link[k] == NONE {
                break;
            }
            k = r.link[k] as usize;
        }
    }
    r.inserted = meta.inserted;
    r.sampled = meta.sampled;
    r.max_priority = meta.max_priority;
    r.beta = meta.beta;
    r.rng = rng;
    r.publish();
    Ok(target)
}
