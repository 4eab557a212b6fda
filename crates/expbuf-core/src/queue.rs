//! The collector queue: rows collected on any thread, waiting for `DataUser.update()`.
//!
//! Rows arrive two ways. Per-step collects are written by JS straight into the
//! collecting thread's ring (`ring.rs`) and published there; `update()` moves them
//! from the ring into the buffer, so a row is copied once on its way. Batches
//! (`collectBatch`), rows spilled from a full ring, and restored rows wait as blocks.
//!
//! A bounded queue holds at most `max_len` rows: beyond it the oldest rows (by collect
//! time, over blocks and rings) are dropped and counted. The bound is applied whenever
//! rows are published, pushed or restored.
//!
//! Locks: `update()` takes the sink's (buffer's) lock, then the queue's; nothing takes
//! them the other way round, and collectors take only the queue's, for a spill or a
//! batch. So a collector never waits for a buffer, e.g. while it is being saved.

use crate::counters::{self, Counters};
use crate::error::{Error, Result};
use crate::limits;
use crate::ring::Ring;
use crate::rows::{AnyColumnRef, Columns, RowsRef};
use crate::schema::Schema;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Where `update()` moves rows: a buffer or a replay buffer.
pub trait Sink {
    fn schema(&self) -> &Arc<Schema>;
    /// Adds rows of this schema (validated by the caller or here); all or nothing.
    fn extend(&mut self, rows: &RowsRef<'_>) -> Result<()>;
}

const QUEUED: usize = counters::slot(counters::QUEUE, "queued");
const DROPPED: usize = counters::slot(counters::QUEUE, "dropped");
const MAX_QUEUE_SIZE: usize = counters::slot(counters::QUEUE, "maxQueueSize");

/// A block of rows; rows before `start` were dropped.
#[derive(Debug)]
struct Block {
    start: usize,
    columns: Columns,
}

impl Block {
    fn live(&self) -> usize {
        self.columns.rows - self.start
    }
}

#[derive(Debug, Default)]
struct Inner {
    blocks: VecDeque<Block>,
    block_rows: usize,
    rings: Vec<Arc<Ring>>,
    dropped: u64,
}

#[derive(Debug)]
pub struct Queue {
    schema: Arc<Schema>,
    max_len: Option<usize>,
    counters: Arc<Counters>,
    /// Rows in blocks plus published ring rows not yet taken. Raised before a ring's
    /// rows are published and lowered after rows are taken, so it never undercounts;
    /// a publish that finds it above the bound applies the bound.
    queued: AtomicU64,
    inner: Mutex<Inner>,
}

impl Queue {
    /// A queue for rows of `schema`; `max_len` None means unbounded.
    pub fn new(schema: Arc<Schema>, max_len: Option<usize>) -> Result<Queue> {
        if let Some(m) = max_len {
            limits::check_capacity(m, schema.typed_row_bytes() + 8, 0, "maxQueueSize")?;
        }
        let counters = Arc::new(Counters::default());
        counters.set(MAX_QUEUE_SIZE, max_len.map_or(f64::INFINITY, |m| m as f64));
        Ok(Queue {
            schema,
            max_len,
            counters,
            queued: AtomicU64::new(0),
            inner: Mutex::new(Inner::default()),
        })
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    pub fn max_len(&self) -> Option<usize> {
        self.max_len
    }

    /// The counters JS reads: `counters::QUEUE`.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// Rows queued (an upper bound while collectors publish).
    pub fn len(&self) -> usize {
        self.queued.load(Ordering::Acquire) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.inner.lock().dropped
    }

    /// A new ring for a collecting thread.
    pub fn ring(&self) -> Result<Arc<Ring>> {
        let ring = Arc::new(Ring::new(
            self.schema.clone(),
            self.max_len.unwrap_or(usize::MAX),
        )?);
        self.inner.lock().rings.push(ring.clone());
        Ok(ring)
    }

    /// Publishes `ring`'s rows up to `tail` (with their `any` values) and applies the
    /// bound; returns the ring's head.
    pub fn publish(&self, ring: &Ring, tail: u32, any: &[AnyColumnRef<'_>]) -> Result<u32> {
        let added = ring.check_publish(tail, any)?;
        if added > 0 {
            let queued = self.queued.fetch_add(added as u64, Ordering::AcqRel) + added as u64;
            ring.commit(tail, any);
            if self.max_len.is_some_and(|m| queued > m as u64) {
                let mut inner = self.inner.lock();
                self.apply_bound(&mut inner);
                self.publish_counters(&inner);
            } else {
                self.counters
                    .set(QUEUED, self.queued.load(Ordering::Acquire) as f64);
            }
        }
        Ok(ring.head())
    }

    /// Moves `ring`'s published rows into a block, so the writer has the whole ring
    /// again; returns the ring's head.
    pub fn spill(&self, ring: &Ring) -> Result<u32> {
        let mut inner = self.inner.lock();
        self.spill_locked(&mut inner, ring)?;
        Ok(ring.head())
    }

    fn spill_locked(&self, inner: &mut Inner, ring: &Ring) -> Result<()> {
        let (head, count) = ring.pending();
        if count == 0 {
            return Ok(());
        }
        let mut columns = Columns::with_capacity(&self.schema, count)?;
        for run in ring.runs(head, count) {
            let any = ring.take_any(run.len())?;
            columns.append_rows(&self.schema, &ring.rows(run, &any), 0)?;
        }
        ring.take(count);
        inner.block_rows += count;
        inner.blocks.push_back(Block { start: 0, columns });
        Ok(())
    }

    /// Appends a batch (which must carry timestamps), after publishing and spilling
    /// `before` (the collecting thread's ring up to its tail) so that the batch follows
    /// the rows collected before it. Validates first; a bounded queue then drops its
    /// oldest rows, including older rows of this batch. Returns the ring's head.
    pub fn push(
        &self,
        before: Option<(&Ring, u32, &[AnyColumnRef<'_>])>,
        rows: &RowsRef<'_>,
    ) -> Result<u32> {
        rows.validate(&self.schema)?;
        if rows.timestamps.is_none() {
            return Err(Error::invalid_argument("timestamps: missing"));
        }
        let added = match before {
            Some((ring, tail, any)) => ring.check_publish(tail, any)?,
            None => 0,
        };
        let keep = self.max_len.map_or(rows.rows, |m| rows.rows.min(m));
        let skip = rows.rows - keep;
        let mut columns = Columns::with_capacity(&self.schema, keep)?;
        columns.append_rows(&self.schema, rows, skip)?;
        let mut inner = self.inner.lock();
        let mut head = 0;
        if let Some((ring, tail, any)) = before {
            self.queued.fetch_add(added as u64, Ordering::AcqRel);
            ring.commit(tail, any);
            self.spill_locked(&mut inner, ring)?;
            head = ring.head();
        }
        inner.dropped += skip as u64;
        if keep > 0 {
            inner.block_rows += keep;
            inner.blocks.push_back(Block { start: 0, columns });
            self.queued.fetch_add(keep as u64, Ordering::AcqRel);
        }
        self.apply_bound(&mut inner);
        self.publish_counters(&inner);
        Ok(head)
    }

    /// Puts `older` (rows with timestamps, e.g. restored ones) before every queued row;
    /// a bounded queue keeps its newest rows and counts the rest as dropped.
    pub fn prepend(&self, older: Columns) {
        let mut inner = self.inner.lock();
        if older.rows > 0 {
            inner.block_rows += older.rows;
            self.queued.fetch_add(older.rows as u64, Ordering::AcqRel);
            inner.blocks.push_front(Block {
                start: 0,
                columns: older,
            });
        }
        self.apply_bound(&mut inner);
        self.publish_counters(&inner);
    }

    /// Drops the oldest rows beyond the bound.
    fn apply_bound(&self, inner: &mut Inner) {
        let Some(max) = self.max_len else {
            return;
        };
        let ring_rows: usize = inner.rings.iter().map(|r| r.pending().1).sum();
        let total = inner.block_rows + ring_rows;
        if total <= max {
            return;
        }
        let mut n = total - max;
        inner.dropped += n as u64;
        self.queued.fetch_sub(n as u64, Ordering::AcqRel);
        while n > 0 {
            // The source whose first row was collected earliest: blocks in order, then
            // each ring. With one non-empty source the whole rest goes at once.
            let block_time = inner.blocks.front().map(|b| b.columns.timestamps[b.start]);
            let (ring_at, ring_time) = inner
                .rings
                .iter()
                .enumerate()
                .filter_map(|(i, r)| first_time(r).map(|t| (i, t)))
                .fold((None, f64::INFINITY), |best, (i, t)| {
                    if t < best.1 {
                        (Some(i), t)
                    } else {
                        best
                    }
                });
            let sources = usize::from(block_time.is_some())
                + inner.rings.iter().filter(|r| r.pending().1 > 0).count();
            let take_block = match (block_time, ring_at) {
                (Some(bt), Some(_)) => bt <= ring_time,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => return,
            };
            if take_block {
                let Some(front) = inner.blocks.front_mut() else {
                    return;
                };
                let d = if sources == 1 { n } else { 1 }.min(front.live());
                front.start += d;
                inner.block_rows -= d;
                if front.live() == 0 {
                    inner.blocks.pop_front();
                }
                n -= d;
            } else if let Some(i) = ring_at {
                let ring = &inner.rings[i];
                let d = if sources == 1 { n } else { 1 }.min(ring.pending().1);
                // Dropped rows' `any` values go with them.
                let _ = ring.take_any(d);
                ring.take(d);
                n -= d;
            }
        }
    }

    fn publish_counters(&self, inner: &Inner) {
        self.counters
            .set(QUEUED, self.queued.load(Ordering::Acquire) as f64);
        self.counters.set(DROPPED, inner.dropped as f64);
    }

    /// Moves every queued row into `sink` (whose lock the caller holds), oldest block
    /// first, then each ring; `times` receives the moved rows' collect times. Returns
    /// the rows moved.
    pub fn drain_into(&self, sink: &mut dyn Sink, times: &mut dyn FnMut(&[f64])) -> Result<usize> {
        // The queue usually shares its buffer's schema (`Queue::new` from the buffer's
        // Arc): a pointer check, not a comparison of every field, per update.
        if !Arc::ptr_eq(sink.schema(), &self.schema) && sink.schema() != &self.schema {
            return Err(Error::invalid_argument(
                "buffer: its fields differ from the queue's",
            ));
        }
        let mut inner = self.inner.lock();
        let mut moved = 0;
        while let Some(b) = inner.blocks.pop_front() {
            let rows = b.columns.rows_from(&self.schema, b.start);
            inner.block_rows -= rows.rows;
            sink.extend(&rows)?;
            times(rows.timestamps.unwrap_or_default());
            moved += rows.rows;
            self.queued.fetch_sub(rows.rows as u64, Ordering::AcqRel);
        }
        for ring in &inner.rings {
            let (head, count) = ring.pending();
            for run in ring.runs(head, count) {
                if run.is_empty() {
                    continue;
                }
                let any = ring.take_any(run.len())?;
                let rows = ring.rows(run, &any);
                sink.extend(&rows)?;
                times(rows.timestamps.unwrap_or_default());
            }
            ring.take(count);
            moved += count;
            self.queued.fetch_sub(count as u64, Ordering::AcqRel);
        }
        // A ring only the queue still holds (its thread's collectors are gone) and that
        // is empty is done with.
        inner
            .rings
            .retain(|r| Arc::strong_count(r) > 1 || r.pending().1 > 0);
        self.publish_counters(&inner);
        Ok(moved)
    }

    /// Takes every queued row, oldest block first, as one set of columns with times.
    pub fn drain(&self) -> Result<Columns> {
        self.collect(true)
    }

    /// A copy of every queued row with its time (nothing is taken).
    pub fn snapshot(&self) -> Result<Columns> {
        self.collect(false)
    }

    fn collect(&self, take: bool) -> Result<Columns> {
        let mut inner = self.inner.lock();
        let ring_rows: usize = inner.rings.iter().map(|r| r.pending().1).sum();
        let mut out = Columns::with_capacity(&self.schema, inner.block_rows + ring_rows)?;
        for b in &inner.blocks {
            out.append_rows(&self.schema, &b.columns.rows_from(&self.schema, 0), b.start)?;
        }
        for ring in &inner.rings {
            let (head, count) = ring.pending();
            let mut at = 0;
            for run in ring.runs(head, count) {
                let n = run.len();
                let any = if take {
                    ring.take_any(n)?
                } else {
                    ring.peek_any(at, n)?
                };
                out.append_rows(&self.schema, &ring.rows(run, &any), 0)?;
                at += n;
            }
            if take {
                ring.take(count);
                self.queued.fetch_sub(count as u64, Ordering::AcqRel);
            }
        }
        if take {
            self.queued
                .fetch_sub(inner.block_rows as u64, Ordering::AcqRel);
            inner.blocks.clear();
            inner.block_rows = 0;
            self.publish_counters(&inner);
        }
        Ok(out)
    }
}

/// The collect time of a ring's oldest published row.
fn first_time(ring: &Ring) -> Option<f64> {
    let (head, count) = ring.pending();
    if count == 0 {
        return None;
    }
    let [run, _] = ring.runs(head, 1);
    ring.rows(run, &[])
        .timestamps
        .and_then(|t| t.first().copied())
}
