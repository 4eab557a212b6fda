//! The replay memory of off-policy RL: steps of several envs interleaved in one FIFO
//! ring, each step linked to the next step of its episode; n-step returns, prioritized
//! replay, sequence windows, whole episodes and a rate limiter over them.
//!
//! Step `id` (the count of steps inserted before it) lives in slot `(id − base) mod
//! maxSize` (`base` is 0, or a restored state's oldest id); the buffer holds ids
//! `inserted − len .. inserted`. Per slot: its env, its flags
//! (episode start / end / terminated / sampleable) and a link: the slot of the next
//! step of its episode, or, at an episode's end, the number of its final state.
//!
//! Each state is stored once: a step's next state is the next step's state. Only an
//! episode's final state is kept beside the rows (`finals`, in end order, so eviction
//! pops them in the same order), and, per env with an episode going on, the newest
//! step's next state (`EnvState::pending`).
//!
//! A step is sampleable ("active") once its n-step window is known: `nStep` steps of
//! its episode exist from it on, or its episode ended within them. Each env keeps the
//! newest not-yet-active steps (`window`).

mod config;
mod sample;
pub(crate) mod tree;

pub use config::{PriorityConfig, RateLimit, ReplayConfig, ReplaySchemas, STEP_FIELDS};

use crate::counters::{self, Counters};
use crate::error::{Error, ErrorCode, Result};
use crate::limits::{self, MAX_ENVS};
use crate::queue::Sink;
use crate::rng::Rng;
use crate::rows::RowsRef;
use crate::schema::Schema;
use crate::storage::ColumnStore;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use tree::PriorityTree;

const SIZE: usize = counters::slot(counters::REPLAY, "size");
const INSERTED: usize = counters::slot(counters::REPLAY, "inserted");
const SAMPLED: usize = counters::slot(counters::REPLAY, "sampled");
const EPISODES: usize = counters::slot(counters::REPLAY, "episodes");
const MAX_SIZE: usize = counters::slot(counters::REPLAY, "maxSize");

/// Slot flags.
pub(crate) const START: u8 = 1;
pub(crate) const END: u8 = 2;
pub(crate) const TERMINATED: u8 = 4;
pub(crate) const ACTIVE: u8 = 8;

/// No next step (yet).
pub(crate) const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub(crate) struct EnvState {
    /// The newest step of the episode going on (None once it was evicted).
    pub(crate) last: Option<u32>,
    /// That step's next state (state bytes).
    pub(crate) pending: Vec<u8>,
    /// Its newest steps whose n-step window is not complete yet, oldest first.
    pub(crate) window: VecDeque<u32>,
    /// The id of the episode's first step, while the buffer holds it.
    pub(crate) start: Option<u64>,
}

#[derive(Debug)]
pub struct Replay {
    pub(crate) schema: Arc<Schema>,
    pub(crate) schemas: ReplaySchemas,
    pub(crate) config: ReplayConfig,
    /// The schema's fields, `max_size` slots.
    pub(crate) store: ColumnStore,
    pub(crate) env: Vec<u32>,
    pub(crate) link: Vec<u32>,
    pub(crate) flags: Vec<u8>,
    /// Steps inserted ever: the next step's id.
    pub(crate) next_id: u64,
    /// The id that slot 0 took (0, or a restored state's oldest id).
    pub(crate) base: u64,
    pub(crate) len: usize,
    /// Final states in end order; `finals_base` numbers the front one.
    pub(crate) finals: VecDeque<Box<[u8]>>,
    pub(crate) finals_base: u64,
    pub(crate) envs: HashMap<u32, EnvState, BuildHasherDefault<EnvHasher>>,
    /// Sampleable steps.
    pub(crate) active: usize,
    pub(crate) tree: Option<PriorityTree>,
    /// The largest priority given so far (before ^α); new steps get it.
    pub(crate) max_priority: f64,
    pub(crate) beta: f64,
    /// Complete episodes held whole: (first id, last id), by first id (so eviction
    /// drops them from the front).
    pub(crate) episodes: VecDeque<(u64, u64)>,
    /// The rate limiter's counts since creation (or `clear`).
    pub(crate) inserted: u64,
    pub(crate) sampled: u64,
    pub(crate) rng: Rng,
    pub(crate) counters: Arc<Counters>,
    pub(crate) state_i: usize,
    pub(crate) reward_i: usize,
    pub(crate) state_bytes: usize,
}

impl Replay {
    /// A replay buffer for steps of `schema` (typed `state` and `action`, a scalar
    /// typed `reward`) with `config`.
    pub fn new(schema: Arc<Schema>, config: ReplayConfig) -> Result<Replay> {
        let schemas = ReplaySchemas::of(&schema)?;
        let (state_i, reward_i) = (schemas.state_i, schemas.reward_i);
        let state_bytes = schema
            .field("state")
            .map_or(0, crate::schema::Field::row_bytes);
        let n = config.max_size;
        // Columns, per-slot env/link/flags, and the priority trees when prioritized.
        let trees = if config.priority.is_some() { 32 } else { 0 };
        limits::check_capacity(
            n,
            schema.typed_row_bytes() + 9 + trees,
            0,
            "options.maxSize",
        )?;
        let store = ColumnStore::new(schema.clone(), n)?;
        let tree = match config.priority {
            Some(_) => Some(PriorityTree::new(n)?),
            None => None,
        };
        let zeros = |what| -> Result<Vec<u32>> {
            let mut v = crate::alloc::with_capacity(n, what)?;
            v.resize(n, 0);
            Ok(v)
        };
        let env = zeros("env")?;
        let mut link = zeros("links")?;
        link.fill(NONE);
        let flags = crate::alloc::zeroed_vec(n, "flags")?;
        let beta = config.priority.map_or(0.0, |p| p.beta);
        let rng = Rng::new(config.seed);
        let r = Replay {
            schema,
            schemas,
            config,
            store,
            env,
            link,
            flags,
            next_id: 0,
            base: 0,
            len: 0,
            finals: VecDeque::new(),
            finals_base: 0,
            envs: HashMap::default(),
            active: 0,
            tree,
            max_priority: 1.0,
            beta,
            episodes: VecDeque::new(),
            inserted: 0,
            sampled: 0,
            rng,
            counters: Arc::new(Counters::default()),
            state_i,
            reward_i,
            state_bytes,
        };
        r.publish();
        Ok(r)
    }

    pub(crate) fn publish(&self) {
        self.counters.set(SIZE, self.len as f64);
        self.counters.set(INSERTED, self.inserted as f64);
        self.counters.set(SAMPLED, self.sampled as f64);
        self.counters.set(EPISODES, self.episodes.len() as f64);
        self.counters.set(MAX_SIZE, self.config.max_size as f64);
    }

    /// Takes over `other`'s steps and counts (a loaded state), keeping this buffer's
    /// counter block, which JS views.
    pub fn replace_with(&mut self, other: Replay) {
        let counters = self.counters.clone();
        *self = other;
        self.counters = counters;
        self.publish();
    }

    /// A new, empty buffer with the same schema and settings (to load a state into).
    pub fn empty_like(&self) -> Result<Replay> {
        Replay::new(self.schema.clone(), self.config.clone())
    }

    /// The counters JS reads: `counters::REPLAY`.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// The schemas of what this buffer takes and gives.
    pub fn schemas(&self) -> &ReplaySchemas {
        &self.schemas
    }

    pub fn step_schema(&self) -> &Arc<Schema> {
        &self.schemas.step
    }

    pub fn config(&self) -> &ReplayConfig {
        &self.config
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The importance-weight exponent in force.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// Sets β (annealed during training).
    pub fn set_beta(&mut self, beta: f64) -> Result<()> {
        if self.config.priority.is_none() {
            return Err(Error::invalid_argument(
                "beta: this ReplayBuffer has no priorities (options.priority)",
            ));
        }
        if !(0.0..=1.0).contains(&beta) {
            return Err(Error::invalid_argument(format!(
                "beta: {} is not in [0, 1]",
                crate::input::number(beta)
            )));
        }
        self.beta = beta;
        Ok(())
    }

    pub(crate) fn cap(&self) -> usize {
        self.config.max_size
    }

    pub(crate) fn slot_of(&self, id: u64) -> usize {
        ((id - self.base) % self.cap() as u64) as usize
    }

    /// The id of the oldest held step.
    pub(crate) fn oldest(&self) -> u64 {
        self.next_id - self.len as u64
    }

    /// Whether rows of the step schema may be added: flags 0/1 and room for their envs.
    fn check_rows(&self, rows: &RowsRef<'_>) -> Result<()> {
        rows.validate(&self.schemas.step)?;
        let k = self.schema.typed_count();
        for (name, col) in [
            ("terminated", rows.typed[k + 1]),
            ("truncated", rows.typed[k + 2]),
        ] {
            if let Some(r) = col.iter().position(|&b| b > 1) {
                return Err(Error::bad_value(format!(
                    "field '{name}': {} in row {r} is not 0 or 1 (or a boolean)",
                    col[r]
                )));
            }
        }
        // Only a batch that could pass the limit pays for counting its new envs.
        if self.envs.len() + rows.rows <= MAX_ENVS {
            return Ok(());
        }
        let fresh: std::collections::HashSet<u32> = env_column(rows.typed[k + 3])
            .filter(|e| !self.envs.contains_key(e))
            .collect();
        if self.envs.len() + fresh.len() > MAX_ENVS {
            return Err(Error::bad_value(format!(
                "field 'env': more than {MAX_ENVS} envs would have an episode going on"
            )));
        }
        Ok(())
    }

    /// Adds steps (rows of the step schema), oldest first; all or nothing.
    pub fn extend(&mut self, rows: &RowsRef<'_>) -> Result<()> {
        self.check_rows(rows)?;
        let k = self.schema.typed_count();
        let next_state = rows.typed[k];
        let (term, trunc) = (rows.typed[k + 1], rows.typed[k + 2]);
        let envs: Vec<u32> = env_column(rows.typed[k + 3]).collect();
        let data = RowsRef {
            rows: rows.rows,
            typed: rows.typed[..k].to_vec(),
            any: rows.any.clone(),
            timestamps: None,
        };
        let sb = self.state_bytes;
        for r in 0..rows.rows {
            let ns = &next_state[r * sb..(r + 1) * sb];
            self.insert(&data, r, envs[r], term[r] == 1, trunc[r] == 1, ns);
        }
        self.publish();
        Ok(())
    }

    /// Adds whole episodes (a pool's items): `rows` of the schema (not the step schema),
    /// episode after episode, `lengths[e]` rows each. A step's next state is the next
    /// row's state; the last step's is `finals[e]` when given, else its own state (an
    /// item stored without one). The last step is terminated or truncated as
    /// `terminated[e]` says. Each episode takes an env with no episode going on, so it
    /// never joins steps `add()` feeds. All or nothing.
    pub fn extend_episodes(
        &mut self,
        rows: &RowsRef<'_>,
        lengths: &[u32],
        terminated: &[bool],
        finals: &[Option<&[u8]>],
    ) -> Result<()> {
        rows.validate(&self.schema)?;
        let sb = self.state_bytes;
        if terminated.len() != lengths.len() || finals.len() != lengths.len() {
            return Err(Error::invalid_argument(format!(
                "episodes: {} lengths, {} terminated flags, {} final states",
                lengths.len(),
                terminated.len(),
                finals.len()
            )));
        }
        if let Some(e) = lengths.iter().position(|&l| l == 0) {
            return Err(Error::bad_value(format!("episodes[{e}]: no steps")));
        }
        let total: u64 = lengths.iter().map(|&l| u64::from(l)).sum();
        if total != rows.rows as u64 {
            return Err(Error::invalid_argument(format!(
                "episodes: lengths sum to {total}, not the {} rows given",
                rows.rows
            )));
        }
        if let Some(e) = finals.iter().position(|f| f.is_some_and(|f| f.len() != sb)) {
            return Err(Error::bad_value(format!(
                "episodes[{e}].finalState: not {sb} bytes (the state field's)"
            )));
        }
        let states = rows.typed[self.state_i];
        let mut at = 0;
        for ((&len, &term), fin) in lengths.iter().zip(terminated).zip(finals) {
            let env = (0..=u32::MAX)
                .find(|e| !self.envs.contains_key(e))
                .unwrap_or(0);
            let end = at + len as usize;
            for r in at..end {
                let last = r + 1 == end;
                let next = match (last, fin) {
                    (false, _) => &states[(r + 1) * sb..(r + 2) * sb],
                    (true, Some(f)) => f,
                    (true, None) => &states[r * sb..(r + 1) * sb],
                };
                self.insert(rows, r, env, last && term, last && !term, next);
            }
            at = end;
        }
        self.publish();
        Ok(())
    }

    fn insert(
        &mut self,
        data: &RowsRef<'_>,
        row: usize,
        env: u32,
        terminated: bool,
        truncated: bool,
        next_state: &[u8],
    ) {
        let id = self.next_id;
        let s = self.slot_of(id);
        if self.len == self.cap() {
            self.evict(s);
        }
        self.store.write_row(s, data, row);
        let s32 = s as u32;
        self.env[s] = env;
        self.link[s] = NONE;
        self.flags[s] = 0;
        self.next_id += 1;
        self.len = (self.len + 1).min(self.cap());
        self.inserted += 1;
        let st = self.envs.entry(env).or_insert_with(|| EnvState {
            last: None,
            pending: Vec::new(),
            window: VecDeque::new(),
            start: Some(id),
        });
        match st.last {
            Some(prev) => self.link[prev as usize] = s32,
            None if st.start == Some(id) => self.flags[s] |= START,
            None => {}
        }
        st.window.push_back(s32);
        if terminated || truncated {
            self.flags[s] |= END | if terminated { TERMINATED } else { 0 };
            self.link[s] = (self.finals_base + self.finals.len() as u64) as u32;
            self.finals.push_back(next_state.into());
            let Some(done) = self.envs.remove(&env) else {
                return;
            };
            for w in done.window {
                self.activate(w as usize);
            }
            if let Some(start) = done.start {
                // Episodes end in any order; most recent ones started late, so the
                // place is found near the back.
                let at = self.episodes.partition_point(|&(s0, _)| s0 < start);
                self.episodes.insert(at, (start, id));
            }
        } else {
            st.last = Some(s32);
            st.pending.clear();
            st.pending.extend_from_slice(next_state);
            let full = st.window.len() >= self.config.n_step;
            let ready = if full { st.window.pop_front() } else { None };
            if let Some(w) = ready {
                self.activate(w as usize);
            }
        }
    }

    fn activate(&mut self, s: usize) {
        self.flags[s] |= ACTIVE;
        self.active += 1;
        if let (Some(t), Some(p)) = (&mut self.tree, self.config.priority) {
            t.set(s, self.max_priority.powf(p.alpha));
        }
    }

    /// Forgets the oldest step (in slot `s`), keeping every link of what stays valid.
    fn evict(&mut self, s: usize) {
        let id = self.oldest();
        let f = self.flags[s];
        if f & ACTIVE != 0 {
            self.active -= 1;
            if let Some(t) = &mut self.tree {
                t.set(s, 0.0);
            }
        }
        if f & END != 0 {
            // Episodes end in id order, so the oldest end holds the oldest final state.
            self.finals.pop_front();
            self.finals_base += 1;
        }
        let env = self.env[s];
        if let Some(st) = self.envs.get_mut(&env) {
            if st.last == Some(s as u32) {
                // Its ongoing episode has no step left here; a later step of the env
                // continues it, as a part without a start.
                st.last = None;
                st.pending.clear();
                st.window.clear();
                st.start = None;
            } else {
                if st.window.front() == Some(&(s as u32)) {
                    st.window.pop_front();
                }
                if st.start == Some(id) {
                    st.start = None;
                }
            }
        }
        while self.episodes.front().is_some_and(|&(start, _)| start <= id) {
            self.episodes.pop_front();
        }
        self.len -= 1;
    }

    /// Removes every step; ids go on (an id from before is then never held), and the
    /// rate limiter counts from zero.
    pub fn clear(&mut self) {
        self.len = 0;
        self.finals_base += self.finals.len() as u64;
        self.finals.clear();
        self.envs.clear();
        self.active = 0;
        self.episodes.clear();
        self.inserted = 0;
        self.sampled = 0;
        self.flags.fill(0);
        self.store.clear_any();
        if let Some(t) = &mut self.tree {
            t.clear();
        }
        self.publish();
    }

    /// Whether `sample(n)` would succeed now: a step can be sampled and the rate
    /// limiter allows `n` (what `canSample` and `sampleAsync` wait for).
    pub fn sample_allowed(&self, n: usize) -> bool {
        self.active > 0 && self.can_sample(n)
    }

    /// The rate limiter's answer for a sample of `n` steps.
    pub fn can_sample(&self, n: usize) -> bool {
        self.config
            .rate_limit
            .is_none_or(|r| r.allows_sample(self.inserted, self.sampled, n as u64))
    }

    /// Whether an insert now keeps the sample-to-insert ratio within the tolerance.
    pub fn can_insert(&self) -> bool {
        self.config
            .rate_limit
            .is_none_or(|r| r.allows_insert(self.inserted, self.sampled))
    }

    /// `EXPBUF_RATE_LIMITED` unless a sample of `n` is allowed now.
    fn check_limit(&self, n: usize) -> Result<()> {
        if self.can_sample(n) {
            return Ok(());
        }
        let r = self.config.rate_limit.as_ref();
        Err(Error::new(
            ErrorCode::RateLimited,
            format!(
                "sample: {n} steps are not allowed yet ({} inserted, {} sampled; minSize {}, samplesPerInsert {}, tolerance {})",
                self.inserted,
                self.sampled,
                r.map_or(0, |r| r.min_size),
                r.map_or(0.0, |r| r.samples_per_insert),
                r.map_or(0.0, |r| r.tolerance)
            ),
        ))
    }

    /// Sets the priority of each step `ids[i]` to `|priorities[i]| + ε` (all checked
    /// first). Ids of steps overwritten since (or not sampleable) are ignored; an id
    /// that never existed is an error.
    pub fn update_priorities(&mut self, ids: &[f64], priorities: &[f64]) -> Result<usize> {
        let Some(p) = self.config.priority else {
            return Err(Error::invalid_argument(
                "updatePriorities: this ReplayBuffer has no priorities (options.priority)",
            ));
        };
        if ids.len() != priorities.len() {
            return Err(Error::invalid_argument(format!(
                "priorities: {} values for {} ids",
                priorities.len(),
                ids.len()
            )));
        }
        for (i, (&id, &q)) in ids.iter().zip(priorities).enumerate() {
            if !crate::input::whole_in(id, 0.0..=self.next_id as f64 - 1.0) {
                return Err(Error::invalid_argument(format!(
                    "ids[{i}]: {} is not the id of a step this buffer took",
                    crate::input::number(id)
                )));
            }
            if !q.is_finite() || q < 0.0 {
                return Err(Error::invalid_argument(format!(
                    "priorities[{i}]: {} is not a finite number ≥ 0",
                    crate::input::number(q)
                )));
            }
        }
        let oldest = self.oldest();
        let mut updates = Vec::with_capacity(ids.len());
        for (&id, &q) in ids.iter().zip(priorities) {
            let id = id as u64;
            let s = self.slot_of(id);
            if id < oldest || self.flags[s] & ACTIVE == 0 {
                continue;
            }
            let q = q.abs() + p.epsilon;
            self.max_priority = self.max_priority.max(q);
            updates.push((s, q.powf(p.alpha)));
        }
        let n = updates.len();
        if let Some(t) = &mut self.tree {
            t.set_many(&mut updates);
        }
        Ok(n)
    }

    /// Steps of complete episodes held whole.
    pub fn episodes(&self) -> usize {
        self.episodes.len()
    }

    pub fn rng(&self) -> &Rng {
        &self.rng
    }
}

/// Hashes an env id with one multiplication (Fx's constant): the env map is probed for
/// every inserted step, where SipHash costs more than the rest of the insert. A chosen
/// set of colliding ids could only slow inserts down, never make them wrong.
#[derive(Default)]
pub(crate) struct EnvHasher(u64);

impl Hasher for EnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// An `env` column's values (u32, little-endian).
fn env_column(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

impl Sink for Replay {
    // A queue feeds a replay buffer whole steps (with nextState, flags, env).
    #[allow(clippy::misnamed_getters)]
    fn schema(&self) -> &Arc<Schema> {
        &self.schemas.step
    }

    fn extend(&mut self, rows: &RowsRef<'_>) -> Result<()> {
        Replay::extend(self, rows)
    }
}
