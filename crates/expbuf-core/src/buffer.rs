//! A replay buffer: column storage, a placement policy and the buffer's own RNG.

use crate::error::{Error, ErrorCode, Result};
use crate::policy::{Placement, Policy};
use crate::rng::Rng;
use crate::rows::{Columns, RowsRef};
use crate::sampling;
use crate::schema::Schema;
use crate::storage::ColumnStore;
use std::sync::Arc;

/// Largest `maxSize` (and batch size): row indices stay exact in a JS number and in an
/// Int32Array, and a mistyped size fails here rather than as an allocation failure.
pub const MAX_ROWS: usize = (1 << 31) - 1;

/// Checks a size argument (maxSize, batchSize) given as a JS number.
pub fn checked_size(value: f64, name: &str) -> Result<usize> {
    if !(value.is_finite() && value.fract() == 0.0 && value >= 1.0 && value <= MAX_ROWS as f64) {
        return Err(Error::invalid_argument(format!(
            "{name}: {value} is not an integer in [1, {MAX_ROWS}]"
        )));
    }
    Ok(value as usize)
}

#[derive(Debug)]
pub struct Buffer {
    policy: Policy,
    store: ColumnStore,
    /// Rows held.
    len: usize,
    /// Slot of the oldest row (moves only for `Sequential` once full).
    head: usize,
    total_added: u64,
    rng: Rng,
}

impl Buffer {
    pub fn new(schema: Arc<Schema>, policy: Policy, max_size: usize, seed: u64) -> Result<Buffer> {
        if max_size == 0 || max_size > MAX_ROWS {
            return Err(Error::invalid_argument(format!(
                "maxSize: {max_size} is not in [1, {MAX_ROWS}]"
            )));
        }
        if seed >= crate::rng::MAX_BOUND {
            return Err(Error::invalid_argument(format!(
                "seed: {seed} is not an integer in [0, 2^53)"
            )));
        }
        Ok(Buffer {
            policy,
            store: ColumnStore::new(schema, max_size)?,
            len: 0,
            head: 0,
            total_added: 0,
            rng: Rng::new(seed),
        })
    }

    pub fn schema(&self) -> &Arc<Schema> {
        self.store.schema()
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    pub fn max_size(&self) -> usize {
        self.store.capacity()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len == self.max_size()
    }

    /// Rows ever offered to the buffer, held or not.
    pub fn total_added(&self) -> u64 {
        self.total_added
    }

    /// A buffer of `len` rows to be filled by a state loader (`typed_rows_mut`,
    /// `push_any`), with the saved RNG and counter.
    pub fn restore(
        schema: Arc<Schema>,
        policy: Policy,
        max_size: usize,
        rng: Rng,
        total_added: u64,
        len: usize,
    ) -> Result<Buffer> {
        let mut b = Buffer::new(schema, policy, max_size, 0)?;
        if len > max_size {
            return Err(Error::invalid_argument("rows: more than maxSize"));
        }
        b.rng = rng;
        b.total_added = total_added.max(len as u64);
        b.len = len;
        Ok(b)
    }

    /// The RNG, whose state a saved buffer keeps.
    pub fn rng(&self) -> &Rng {
        &self.rng
    }

    /// Slot of the oldest row.
    pub fn head(&self) -> usize {
        self.head
    }

    /// Typed column `i` of the held rows in logical order, as at most two slices.
    pub fn typed_segments(&self, i: usize) -> [&[u8]; 2] {
        let end = self.head + self.len;
        let max = self.max_size();
        [
            self.store.typed_range(i, self.head..end.min(max)),
            self.store.typed_range(i, 0..end.saturating_sub(max)),
        ]
    }

    /// `any` column `a` of the held rows in logical order.
    pub fn any_values(&self, a: usize) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len).map(move |i| self.store.any_value(a, self.slot(i)))
    }

    /// Rows `0..rows` of typed column `i`, for a state loader.
    pub fn typed_rows_mut(&mut self, i: usize, rows: usize) -> &mut [u8] {
        self.store.typed_rows_mut(i, rows)
    }

    /// Appends the next row's value of `any` column `a`, for a state loader.
    pub fn push_any(&mut self, a: usize, value: Vec<u8>) {
        self.store.push_any(a, value);
    }

    /// Adds every row of `rows`, oldest first. Validates all columns before the first
    /// byte is written, so an error changes nothing.
    pub fn extend(&mut self, rows: &RowsRef<'_>) -> Result<()> {
        rows.validate(self.schema())?;
        if self.policy == Policy::Sequential {
            self.extend_ring(rows);
            return Ok(());
        }
        for row in 0..rows.rows {
            self.add_row(rows, row);
        }
        Ok(())
    }

    /// The FIFO ring takes a batch as at most two contiguous copies per field: rows that
    /// a later row of the same batch would overwrite are skipped.
    fn extend_ring(&mut self, rows: &RowsRef<'_>) {
        let max = self.max_size();
        let n = rows.rows;
        self.total_added += n as u64;
        let skip = n.saturating_sub(max);
        let mut row = skip;
        while row < n {
            let (slot, rotate) = if self.len < max {
                (self.len, false)
            } else {
                (self.head, true)
            };
            let run = (n - row).min(max - slot);
            self.store.write_rows(slot, rows, row, run);
            if rotate {
                self.head = (self.head + run) % max;
            } else {
                self.len += run;
            }
            row += run;
        }
    }

    fn add_row(&mut self, rows: &RowsRef<'_>, row: usize) {
        let max = self.max_size();
        let placement = self
            .policy
            .place(self.len, max, self.total_added, &mut self.rng);
        self.total_added += 1;
        match placement {
            Placement::Append => {
                self.store.write_row(self.len, rows, row);
                self.len += 1;
            }
            Placement::Rotate => {
                self.store.write_row(self.head, rows, row);
                self.head = (self.head + 1) % max;
            }
            Placement::Replace(i) => {
                let slot = self.slot(i);
                self.store.write_row(slot, rows, row);
            }
            Placement::Drop => {}
        }
    }

    /// Physical slot of the row at logical index `i` (0 = oldest in storage order).
    fn slot(&self, i: usize) -> usize {
        let s = self.head + i;
        if s >= self.max_size() {
            s - self.max_size()
        } else {
            s
        }
    }

    /// A copy of every held row, in storage order.
    pub fn get_data(&self) -> Result<Columns> {
        let first = self.head..(self.head + self.len).min(self.max_size());
        let wrapped = 0..(self.head + self.len).saturating_sub(self.max_size());
        self.store.gather_ranges(&[first, wrapped])
    }

    /// The rows at logical `indices` (0 = oldest), in the order given.
    pub fn gather(&self, indices: &[usize]) -> Result<Columns> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len) {
            return Err(Error::invalid_argument(format!(
                "indices: {bad} is not below the {} rows held",
                self.len
            )));
        }
        let mut out = Columns::with_capacity(self.schema(), indices.len())?;
        let slots: Vec<usize> = indices.iter().map(|&i| self.slot(i)).collect();
        self.store.gather_into(&slots, &mut out)?;
        Ok(out)
    }

    /// `batch_size` uniformly drawn rows; without replacement, distinct rows.
    pub fn sample(&mut self, batch_size: usize, replacement: bool) -> Result<Columns> {
        if batch_size == 0 || batch_size > MAX_ROWS {
            return Err(Error::invalid_argument(format!(
                "batchSize: {batch_size} is not in [1, {MAX_ROWS}]"
            )));
        }
        if self.len == 0 {
            return Err(Error::new(
                ErrorCode::Empty,
                format!("sample: the buffer holds no rows (batchSize {batch_size})"),
            ));
        }
        if !replacement && batch_size > self.len {
            return Err(Error::invalid_argument(format!(
                "batchSize: {batch_size} rows without replacement, but only {} are held",
                self.len
            )));
        }
        // Output first: a batch too large for memory fails before any RNG draw.
        let mut out = Columns::with_capacity(self.schema(), batch_size)?;
        let mut slots = sampling::indices(&mut self.rng, self.len, batch_size, replacement)?;
        for s in &mut slots {
            *s = self.slot(*s);
        }
        self.store.gather_into(&slots, &mut out)?;
        Ok(out)
    }
}
