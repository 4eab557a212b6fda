//! What a replay buffer hands out: n-step transitions, sequence windows and whole
//! episodes, written straight into output columns whose sizes are checked first.
//!
//! For a transition from step t, with K = min(nStep, steps to the episode's end):
//! reward = Σ_{k<K} γ^k r_{t+k}; nextState = the state K steps later (the episode's
//! final state when it ended within them); done = 1 when it terminated within them
//! (0 when truncated or going on); discount = γ^K. With priorities, P(i) = p_i^α /
//! Σ p^α and weight_i = (N · P(i))^−β / max_j (N · P(j))^−β = (p_i^α / min p^α)^−β.

use super::{Replay, ACTIVE, END, NONE, TERMINATED};
use crate::dtype::Dtype;
use crate::error::{Error, ErrorCode, Result};
use crate::limits::{self, MAX_ROWS};
use crate::rows::AnyColumn;

/// A scalar of `dtype` from its little-endian bytes.
fn scalar(dtype: Dtype, b: &[u8]) -> f64 {
    let a = |n: usize| {
        let mut x = [0u8; 8];
        x[..n].copy_from_slice(&b[..n]);
        x
    };
    match dtype {
        Dtype::Float32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
        Dtype::Float64 => f64::from_le_bytes(a(8)),
        Dtype::Int8 => b[0] as i8 as f64,
        Dtype::Uint8 => b[0] as f64,
        Dtype::Int16 => i16::from_le_bytes([b[0], b[1]]) as f64,
        Dtype::Uint16 => u16::from_le_bytes([b[0], b[1]]) as f64,
        Dtype::Int32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
        Dtype::Uint32 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
    }
}

fn count(n: usize, name: &str) -> Result<()> {
    if n == 0 || n > MAX_ROWS {
        return Err(Error::invalid_argument(format!(
            "{name}: {n} is not in [1, {MAX_ROWS}]"
        )));
    }
    Ok(())
}

impl Replay {
    fn row_bytes(&self, i: usize) -> usize {
        self.store.row_bytes(i)
    }

    fn reward_dtype(&self) -> Dtype {
        self.schema
            .typed_fields()
            .nth(self.reward_i)
            .and_then(|f| f.dtype())
            .unwrap_or(Dtype::Float32)
    }

    /// The reward of the step in slot `s`, of dtype `rd` (`reward_dtype()`).
    fn reward_at(&self, rd: Dtype, s: usize) -> f64 {
        scalar(rd, self.store.typed_range(self.reward_i, s..s + 1))
    }

    /// The id of the step in slot `s` (held).
    pub(crate) fn id_at(&self, s: usize) -> u64 {
        let cap = self.cap() as u64;
        let oldest = self.oldest();
        let first = self.slot_of(oldest) as u64;
        oldest + (s as u64 + cap - first) % cap
    }

    /// The state after the step in slot `s`: the next step's, the env's pending one, or
    /// (at an episode's end) its final state.
    pub(crate) fn next_state_of(&self, s: usize) -> &[u8] {
        if self.flags[s] & END != 0 {
            // An end's link numbers its final state (mod 2^32); `finals` starts at
            // `finals_base`.
            let k = self.link[s].wrapping_sub(self.finals_base as u32) as usize;
            return self.finals.get(k).map_or(&[][..], |b| &b[..]);
        }
        match self.link[s] {
            NONE => self
                .envs
                .get(&self.env[s])
                .filter(|e| e.last == Some(s as u32))
                .map_or(&[][..], |e| &e.pending[..]),
            next => self
                .store
                .typed_range(self.state_i, next as usize..next as usize + 1),
        }
    }

    /// Checks a sample of `n` before anything is drawn or allocated: the size,
    /// something to sample, the rate limit, the output's size.
    pub fn check_sample(&self, n: usize) -> Result<()> {
        count(n, "batchSize")?;
        if self.active == 0 {
            return Err(Error::new(
                ErrorCode::Empty,
                format!(
                    "sample: no step can be sampled yet ({} held; a step can once its {}-step window is known)",
                    self.len, self.config.n_step
                ),
            ));
        }
        self.check_limit(n)?;
        self.transition_bytes(n).map(|_| ())
    }

    /// Byte lengths of `sample(n)`'s output columns: the typed fields of
    /// `schemas().transition`, in order. Checked against what one call may return.
    pub fn transition_bytes(&self, n: usize) -> Result<Vec<usize>> {
        let sizes: Vec<u128> = self
            .schemas
            .transition
            .typed_fields()
            .map(|f| n as u128 * f.row_bytes() as u128)
            .collect();
        limits::output_sizes(&sizes, "batchSize")
    }

    /// Draws `n` sampleable slots (by priority, or uniformly), and their weights.
    fn draw(&mut self, n: usize) -> (Vec<usize>, Vec<f32>) {
        let mut slots = vec![0usize; n];
        let mut weights = vec![1.0f32; n];
        if let Some(tree) = &self.tree {
            let total = tree.total();
            let mut targets: Vec<f64> = (0..n).map(|_| self.rng.next_f64() * total).collect();
            tree.find_many(&mut targets, &mut slots);
            let (min, beta) = (tree.min(), self.beta);
            for (w, &s) in weights.iter_mut().zip(&slots) {
                *w = (tree.get(s) / min).powf(-beta) as f32;
            }
            return (slots, weights);
        }
        let oldest = self.oldest();
        if self.active * 4 >= self.len {
            // Most held steps are sampleable: draw a held step for every position still
            // open, in position order, and keep the sampleable ones; repeat for the rest.
            // Drawing a round before checking it lets the flags' cache misses overlap.
            let mut open: Vec<usize> = (0..n).collect();
            while !open.is_empty() {
                for &b in &open {
                    let i = self.rng.below(self.len as u64);
                    let s = self.slot_of(oldest + i);
                    crate::prefetch::read(std::ptr::from_ref(&self.flags[s]));
                    slots[b] = s;
                }
                open.retain(|&b| self.flags[slots[b]] & ACTIVE == 0);
            }
            return (slots, weights);
        }
        for slot in slots.iter_mut() {
            // Few are sampleable: pick one of them by its rank.
            let mut r = self.rng.below(self.active as u64);
            let mut s = self.slot_of(oldest);
            *slot = loop {
                if self.flags[s] & ACTIVE != 0 {
                    if r == 0 {
                        break s;
                    }
                    r -= 1;
                }
                s = (s + 1) % self.cap();
            };
        }
        (slots, weights)
    }

    /// `n` n-step transitions into `outs` (sized by `transition_bytes`); returns the
    /// `any` fields' values at t. Everything is checked before the first draw.
    pub fn sample_into(&mut self, n: usize, outs: &mut [&mut [u8]]) -> Result<Vec<AnyColumn>> {
        self.check_sample(n)?;
        let sizes = self.transition_bytes(n)?;
        if outs.len() != sizes.len() || outs.iter().zip(&sizes).any(|(o, &s)| o.len() != s) {
            return Err(Error::invalid_argument("out: columns of the wrong size"));
        }
        let (slots, weights) = self.draw(n);
        let k = self.schema.typed_count();
        let (gamma, n_step) = (self.config.gamma, self.config.n_step);
        let sb = self.state_bytes;
        let rd = self.reward_dtype();
        // Three passes, so that the cache misses of different transitions overlap
        // instead of queueing: ask for every drawn step's link, flags and rows; walk each
        // n-step window (asking for the row of the state it ends at); then copy.
        for &t in &slots {
            crate::prefetch::read(std::ptr::from_ref(&self.link[t]).cast());
            for i in 0..k {
                self.store.prefetch_read(i, t);
            }
        }
        // Per transition: the window's last step, its length K, done, the return. The
        // windows advance one step per round, all together, and each round asks for the
        // lines the next one reads, so the hops' misses overlap too.
        let mut ends: Vec<(usize, i32, u8, f64)> = slots.iter().map(|&t| (t, 0, 0, 0.0)).collect();
        let mut walking: Vec<usize> = (0..n).collect();
        let mut g = 1.0f64;
        while !walking.is_empty() {
            walking.retain(|&b| {
                let (s, steps, terminal, ret) = &mut ends[b];
                *ret += g * self.reward_at(rd, *s);
                *steps += 1;
                if self.flags[*s] & END != 0 {
                    *terminal = u8::from(self.flags[*s] & TERMINATED != 0);
                    return false;
                }
                if *steps as usize == n_step || self.link[*s] == NONE {
                    return false;
                }
                *s = self.link[*s] as usize;
                crate::prefetch::read(std::ptr::from_ref(&self.link[*s]).cast());
                crate::prefetch::read(std::ptr::from_ref(&self.flags[*s]));
                self.store.prefetch_read(self.reward_i, *s);
                true
            });
            g *= gamma;
        }
        for &(s, ..) in &ends {
            if self.flags[s] & END == 0 && self.link[s] != NONE {
                self.store
                    .prefetch_read(self.state_i, self.link[s] as usize);
            }
        }
        let (fields, extra) = outs.split_at_mut(k - 1);
        let [reward, next, done, discount, ids, wout] = extra else {
            return Err(Error::new(ErrorCode::Internal, "sample: output layout"));
        };
        for (b, (&t, &(s, steps, terminal, ret))) in slots.iter().zip(&ends).enumerate() {
            let mut out_i = 0;
            for i in 0..k {
                if i == self.reward_i {
                    continue;
                }
                let rb = self.store.row_bytes(i);
                fields[out_i][b * rb..(b + 1) * rb]
                    .copy_from_slice(self.store.typed_range(i, t..t + 1));
                out_i += 1;
            }
            reward[b * 4..b * 4 + 4].copy_from_slice(&(ret as f32).to_le_bytes());
            let ns = self.next_state_of(s);
            if ns.len() == sb {
                next[b * sb..(b + 1) * sb].copy_from_slice(ns);
            }
            done[b] = terminal;
            let disc = gamma.powi(steps) as f32;
            discount[b * 4..b * 4 + 4].copy_from_slice(&disc.to_le_bytes());
            ids[b * 8..b * 8 + 8].copy_from_slice(&(self.id_at(t) as f64).to_le_bytes());
            wout[b * 4..b * 4 + 4].copy_from_slice(&weights[b].to_le_bytes());
        }
        self.sampled += n as u64;
        self.publish();
        self.any_at(&slots)
    }

    fn any_at(&self, slots: &[usize]) -> Result<Vec<AnyColumn>> {
        self.schema
            .any_fields()
            .enumerate()
            .map(|(a, f)| {
                let mut col = AnyColumn::with_rows(slots.len())?;
                for &s in slots {
                    if s == usize::MAX {
                        col.push(&[], &f.name)?;
                    } else {
                        col.push(self.store.any_value(a, s), &f.name)?;
                    }
                }
                Ok(col)
            })
            .collect()
    }

    /// Byte lengths of `sampleSequences(n, length)`'s outputs: each typed field of the
    /// schema as `[n, length, ...shape]`, then mask (u8 `[n, length]`) and ids (f64 `[n]`).
    pub fn sequence_bytes(&self, n: usize, length: usize) -> Result<Vec<usize>> {
        count(n, "n")?;
        if length == 0 || length > self.cap() {
            return Err(Error::invalid_argument(format!(
                "length: {length} is not in [1, maxSize = {}]",
                self.cap()
            )));
        }
        let cells = n as u128 * length as u128;
        let mut sizes: Vec<u128> = self
            .schema
            .typed_fields()
            .map(|f| cells * f.row_bytes() as u128)
            .collect();
        sizes.extend([cells, n as u128 * 8]);
        limits::output_sizes(&sizes, "n × length")
    }

    /// Checks `sampleSequences(n, length)` before anything is drawn.
    pub fn check_sequences(&self, n: usize, length: usize) -> Result<()> {
        self.sequence_bytes(n, length)?;
        if self.len == 0 {
            return Err(Error::new(
                ErrorCode::Empty,
                "sampleSequences: the buffer holds no steps",
            ));
        }
        self.check_limit(n * length)
    }

    /// `n` windows of `length` consecutive steps of one episode each, starting at
    /// uniformly drawn held steps; a window that reaches its episode's end (or its
    /// newest step) is padded (mask 0). Counts `n × length` steps for the rate limiter.
    pub fn sample_sequences_into(
        &mut self,
        n: usize,
        length: usize,
        outs: &mut [&mut [u8]],
    ) -> Result<Vec<AnyColumn>> {
        self.check_sequences(n, length)?;
        let sizes = self.sequence_bytes(n, length)?;
        if outs.len() != sizes.len() || outs.iter().zip(&sizes).any(|(o, &s)| o.len() != s) {
            return Err(Error::invalid_argument("out: columns of the wrong size"));
        }
        let k = self.schema.typed_count();
        let oldest = self.oldest();
        let mut cells = vec![usize::MAX; n * length];
        for w in 0..n {
            let i = self.rng.below(self.len as u64);
            let mut s = self.slot_of(oldest + i);
            let first = self.id_at(s);
            outs[k + 1][w * 8..w * 8 + 8].copy_from_slice(&(first as f64).to_le_bytes());
            for j in 0..length {
                cells[w * length + j] = s;
                if self.flags[s] & END != 0 || self.link[s] == NONE {
                    break;
                }
                s = self.link[s] as usize;
            }
        }
        self.fill_cells(&cells, outs);
        self.sampled += (n * length) as u64;
        self.publish();
        self.any_at(&cells)
    }

    /// Writes each cell's step (`usize::MAX`: padding, left zero) into the field columns
    /// and the mask that follows them.
    fn fill_cells(&self, cells: &[usize], outs: &mut [&mut [u8]]) {
        let k = self.schema.typed_count();
        // Ask for every cell's rows first, so that their misses overlap.
        for &s in cells.iter().filter(|&&s| s != usize::MAX) {
            for i in 0..k {
                self.store.prefetch_read(i, s);
            }
        }
        for (c, &s) in cells.iter().enumerate() {
            if s == usize::MAX {
                continue;
            }
            for (i, out) in outs.iter_mut().take(k).enumerate() {
                let rb = self.row_bytes(i);
                out[c * rb..(c + 1) * rb].copy_from_slice(self.store.typed_range(i, s..s + 1));
            }
            outs[k][c] = 1;
        }
    }

    /// Draws `n` complete episodes held whole (with replacement); returns their slots.
    /// Everything is checked before the draw counts: `n`, the memory of the draw, the
    /// size of the output padded to the longest episode drawn.
    pub fn draw_episodes(&mut self, n: usize) -> Result<Vec<Vec<usize>>> {
        count(n, "n")?;
        if self.episodes.is_empty() {
            return Err(Error::new(
                ErrorCode::Empty,
                "sampleEpisodes: no whole episode is held",
            ));
        }
        // The smallest output n episodes can take (one step each) bounds the draw's own
        // bookkeeping as well.
        self.episode_bytes(n, 1)?;
        let mut rng = self.rng.clone();
        let picks: Vec<(u64, u64)> = (0..n)
            .map(|_| self.episodes[rng.below(self.episodes.len() as u64) as usize])
            .collect();
        let t = picks
            .iter()
            .map(|&(a, b)| (b - a + 1) as usize)
            .max()
            .unwrap_or(1);
        self.episode_bytes(n, t)?;
        limits::check_output(n as u128 * t as u128 * 8, "n")?;
        self.rng = rng;
        Ok(picks
            .into_iter()
            .map(|(start, end)| {
                let mut steps = Vec::with_capacity((end - start + 1) as usize);
                let mut s = self.slot_of(start);
                loop {
                    steps.push(s);
                    if self.flags[s] & END != 0 || self.id_at(s) >= end || self.link[s] == NONE {
                        break;
                    }
                    s = self.link[s] as usize;
                }
                steps
            })
            .collect())
    }

    /// Byte lengths of `sampleEpisodes`'s outputs for `n` episodes padded to `t` steps:
    /// each typed field `[n, t, ...shape]`, mask (u8 `[n, t]`), lengths (i32 `[n]`),
    /// terminated (u8 `[n]`), finalState (`[n, ...state]`).
    pub fn episode_bytes(&self, n: usize, t: usize) -> Result<Vec<usize>> {
        let (n, cells) = (n as u128, n as u128 * t as u128);
        let mut sizes: Vec<u128> = self
            .schema
            .typed_fields()
            .map(|f| cells * f.row_bytes() as u128)
            .collect();
        sizes.extend([cells, n * 4, n, n * self.state_bytes as u128]);
        limits::output_sizes(&sizes, "n")
    }

    /// Writes drawn `episodes` (from `draw_episodes`), padded to `t`, into `outs`.
    pub fn episodes_into(
        &self,
        episodes: &[Vec<usize>],
        t: usize,
        outs: &mut [&mut [u8]],
    ) -> Result<Vec<AnyColumn>> {
        let k = self.schema.typed_count();
        let sb = self.state_bytes;
        let mut cells = vec![usize::MAX; episodes.len() * t];
        for (e, steps) in episodes.iter().enumerate() {
            for (j, &s) in steps.iter().enumerate() {
                cells[e * t + j] = s;
            }
            outs[k + 1][e * 4..e * 4 + 4].copy_from_slice(&(steps.len() as i32).to_le_bytes());
            if let Some(&last) = steps.last() {
                outs[k + 2][e] = u8::from(self.flags[last] & TERMINATED != 0);
                let fs = self.next_state_of(last);
                if fs.len() == sb {
                    outs[k + 3][e * sb..(e + 1) * sb].copy_from_slice(fs);
                }
            }
        }
        self.fill_cells(&cells, outs);
        self.any_at(&cells)
    }

    /// Every held step in id order (oldest first): each typed field of the step schema
    /// (the schema's, nextState, terminated, truncated, env) into `outs`.
    pub fn data_into(&self, outs: &mut [&mut [u8]]) -> Result<Vec<AnyColumn>> {
        let slots: Vec<usize> = (0..self.len)
            .map(|i| self.slot_of(self.oldest() + i as u64))
            .collect();
        self.steps_into(&slots, outs)
    }

    /// Byte lengths of the step schema's typed columns for `rows` steps.
    pub fn step_bytes(&self, rows: usize, name: &str) -> Result<Vec<usize>> {
        let sizes: Vec<u128> = self
            .schemas
            .step
            .typed_fields()
            .map(|f| rows as u128 * f.row_bytes() as u128)
            .collect();
        limits::output_sizes(&sizes, name)
    }

    /// The steps in `slots` as rows of the step schema.
    pub fn steps_into(&self, slots: &[usize], outs: &mut [&mut [u8]]) -> Result<Vec<AnyColumn>> {
        let k = self.schema.typed_count();
        let sb = self.state_bytes;
        for (r, &s) in slots.iter().enumerate() {
            for (i, out) in outs.iter_mut().take(k).enumerate() {
                let rb = self.row_bytes(i);
                out[r * rb..(r + 1) * rb].copy_from_slice(self.store.typed_range(i, s..s + 1));
            }
            let ns = self.next_state_of(s);
            if ns.len() == sb {
                outs[k][r * sb..(r + 1) * sb].copy_from_slice(ns);
            }
            let f = self.flags[s];
            outs[k + 1][r] = u8::from(f & TERMINATED != 0);
            outs[k + 2][r] = u8::from(f & END != 0 && f & TERMINATED == 0);
            outs[k + 3][r * 4..r * 4 + 4].copy_from_slice(&self.env[s].to_le_bytes());
        }
        self.any_at(slots)
    }

    /// The slot of held step `index` (0 = oldest).
    pub fn slot_at(&self, index: usize) -> Result<usize> {
        if index >= self.len {
            return Err(Error::invalid_argument(format!(
                "index: {index} is not below the {} steps held",
                self.len
            )));
        }
        Ok(self.slot_of(self.oldest() + index as u64))
    }
}
