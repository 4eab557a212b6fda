//! A replay buffer: column storage, a placement policy and the buffer's own RNG.

use crate::counters::{self, Counters};
use crate::error::{Error, ErrorCode, Result};
use crate::limits::{self, MAX_ROWS};
use crate::policy::{Placement, Policy};
use crate::queue::Sink;
use crate::rng::Rng;
use crate::rows::{AnyColumn, Columns, RowsRef};
use crate::sampling;
use crate::schema::Schema;
use crate::storage::ColumnStore;
use std::sync::Arc;

const SIZE: usize = counters::slot(counters::BUFFER, "size");
const MAX_SIZE: usize = counters::slot(counters::BUFFER, "maxSize");
const TOTAL_ADDED: usize = counters::slot(counters::BUFFER, "totalAdded");

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
    /// `len`, `maxSize` and `total_added` as JS reads them.
    counters: Arc<Counters>,
}

impl Buffer {
    pub fn new(schema: Arc<Schema>, policy: Policy, max_size: usize, seed: u64) -> Result<Buffer> {
        if max_size == 0 || max_size > MAX_ROWS {
            return Err(Error::invalid_argument(format!(
                "maxSize: {max_size} is not in [1, {MAX_ROWS}]"
            )));
        }
        let b = Buffer {
            policy,
            store: ColumnStore::new(schema, max_size)?,
            len: 0,
            head: 0,
            total_added: 0,
            rng: Rng::new(crate::rng::checked_seed(seed as f64, "seed")?),
            counters: Arc::new(Counters::default()),
        };
        b.publish();
        Ok(b)
    }

    /// Writes the counters JS reads; called after every change.
    fn publish(&self) {
        self.counters.set(SIZE, self.len as f64);
        self.counters.set(MAX_SIZE, self.max_size() as f64);
        self.counters.set(TOTAL_ADDED, self.total_added as f64);
    }

    /// The counters JS reads: `counters::BUFFER`.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
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
        if len > max_size {
            return Err(Error::invalid_argument("rows: more than maxSize"));
        }
        let mut b = Buffer::new(schema, policy, max_size, 0)?;
        b.rng = rng;
        b.total_added = total_added.max(len as u64);
        b.len = len;
        b.publish();
        Ok(b)
    }

    /// Takes over `other`'s rows, RNG and counters (a loaded state), keeping this
    /// buffer's counter block, which JS views.
    pub fn replace_with(&mut self, other: Buffer) {
        let counters = self.counters.clone();
        *self = other;
        self.counters = counters;
        self.publish();
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
        } else {
            for row in 0..rows.rows {
                self.add_row(rows, row);
            }
        }
        self.publish();
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
        // The next row goes to the next slot: have its lines ready for the next call.
        self.store
            .prefetch(if self.len < max { self.len } else { self.head });
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

    /// Removes every row and resets the count of rows added; the RNG goes on.
    pub fn clear(&mut self) {
        self.len = 0;
        self.head = 0;
        self.total_added = 0;
        self.store.clear_any();
        self.publish();
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

    /// Bytes of each typed output column for `rows` rows, checked (with the `any`
    /// values of `slots`, when given) against what one call may return. `name` is the
    /// argument that chose `rows`.
    pub fn output_bytes(&self, rows: usize, name: &str) -> Result<Vec<usize>> {
        let sizes: Vec<usize> = self
            .schema()
            .typed_fields()
            .map(|f| rows * f.row_bytes())
            .collect();
        let any_estimate = (rows as u128) * 4 * self.schema().any_count() as u128;
        limits::check_output(
            sizes.iter().map(|&s| s as u128).sum::<u128>() + any_estimate,
            name,
        )?;
        Ok(sizes)
    }

    /// Checks that the `any` values of `slots` fit in one call's output.
    fn check_any_output(&self, slots: &[usize], name: &str) -> Result<()> {
        if self.schema().any_count() == 0 {
            return Ok(());
        }
        let typed: u128 = (slots.len() * self.schema().typed_row_bytes()) as u128;
        limits::check_output(typed + self.store.any_bytes(slots.iter().copied()), name)
    }

    /// Checks that `typed` are output columns of `rows` rows (byte lengths).
    fn check_outputs(&self, typed: &[&mut [u8]], rows: usize) -> Result<()> {
        if typed.len() != self.schema().typed_count() {
            return Err(Error::invalid_argument(format!(
                "out: expected {} typed columns, got {}",
                self.schema().typed_count(),
                typed.len()
            )));
        }
        for (col, f) in typed.iter().zip(self.schema().typed_fields()) {
            if col.len() != rows * f.row_bytes() {
                return Err(Error::invalid_argument(format!(
                    "out.{}: {} bytes, expected {rows} rows of {} bytes",
                    f.name,
                    col.len(),
                    f.row_bytes()
                )));
            }
        }
        Ok(())
    }

    /// Writes every held row, in storage order, into `typed` (sized by `output_bytes`
    /// for `len()` rows); returns the `any` values.
    pub fn data_into(&self, typed: &mut [&mut [u8]]) -> Result<Vec<AnyColumn>> {
        self.check_outputs(typed, self.len)?;
        let first = self.head..(self.head + self.len).min(self.max_size());
        let wrapped = 0..(self.head + self.len).saturating_sub(self.max_size());
        let slots: Vec<usize> = first.clone().chain(wrapped.clone()).collect();
        self.check_any_output(&slots, "getData")?;
        self.store.gather_ranges_into(&[first, wrapped], typed)
    }

    /// Writes row `i` (0 = oldest, storage order) into `typed`; returns its `any` values.
    pub fn row_into(&self, i: usize, typed: &mut [&mut [u8]]) -> Result<Vec<AnyColumn>> {
        if i >= self.len {
            return Err(Error::invalid_argument(format!(
                "index: {i} is not below the {} rows held",
                self.len
            )));
        }
        self.check_outputs(typed, 1)?;
        self.store.gather_into(&[self.slot(i)], typed)
    }

    /// Checks a `sample` call before anything is drawn or allocated.
    pub fn check_sample(&self, batch_size: usize, replacement: bool) -> Result<()> {
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
        self.output_bytes(batch_size, "batchSize").map(|_| ())
    }

    /// `batch_size` uniformly drawn rows (without replacement: distinct rows), written
    /// into `typed`; returns their `any` values. Everything is checked before the first
    /// draw, so an error spends no RNG state.
    pub fn sample_into(
        &mut self,
        batch_size: usize,
        replacement: bool,
        typed: &mut [&mut [u8]],
    ) -> Result<Vec<AnyColumn>> {
        self.check_sample(batch_size, replacement)?;
        self.check_outputs(typed, batch_size)?;
        let mut slots = sampling::indices(&mut self.rng, self.len, batch_size, replacement)?;
        for s in &mut slots {
            *s = self.slot(*s);
        }
        self.store.gather_into(&slots, typed)
    }

    /// Every held row as owned columns (tests and state code).
    pub fn get_data(&self) -> Result<Columns> {
        self.owned(self.len, |b, typed| b.data_into(typed))
    }

    /// `batch_size` drawn rows as owned columns (tests).
    pub fn sample(&mut self, batch_size: usize, replacement: bool) -> Result<Columns> {
        self.check_sample(batch_size, replacement)?;
        let rows = batch_size;
        let sizes = self.output_bytes(rows, "batchSize")?;
        let mut cols = sizes
            .iter()
            .map(|&n| crate::alloc::zeroed_vec(n, "batchSize"))
            .collect::<Result<Vec<_>>>()?;
        let mut views: Vec<&mut [u8]> = cols.iter_mut().map(|c| c.as_mut_slice()).collect();
        let any = self.sample_into(batch_size, replacement, &mut views)?;
        Ok(Columns {
            rows,
            typed: cols,
            any,
            timestamps: Vec::new(),
        })
    }

    fn owned(
        &self,
        rows: usize,
        fill: impl FnOnce(&Self, &mut [&mut [u8]]) -> Result<Vec<AnyColumn>>,
    ) -> Result<Columns> {
        let sizes = self.output_bytes(rows, "getData")?;
        let mut cols = sizes
            .iter()
            .map(|&n| crate::alloc::zeroed_vec(n, "getData"))
            .collect::<Result<Vec<_>>>()?;
        let mut views: Vec<&mut [u8]> = cols.iter_mut().map(|c| c.as_mut_slice()).collect();
        let any = fill(self, &mut views)?;
        Ok(Columns {
            rows,
            typed: cols,
            any,
            timestamps: Vec::new(),
        })
    }
}

impl Sink for Buffer {
    fn schema(&self) -> &Arc<Schema> {
        self.store.schema()
    }

    fn extend(&mut self, rows: &RowsRef<'_>) -> Result<()> {
        Buffer::extend(self, rows)
    }
}
