//! A stage that JS writes directly: rows of typed columns (and their collect times) in
//! native memory, published to the reader by a commit index.
//!
//! One thread writes a ring through typed views over its memory (the binding hands
//! them to JS); the rows it has published (`tail`) are read by the consumer side,
//! which marks them taken (`head`). The writer only writes slots outside
//! `head..tail`, the reader only reads slots inside it, so the two never touch the
//! same bytes. A collector's ring belongs to a queue (every collector object of one
//! thread on one queue shares it, so their rows keep their collect order); a buffer's
//! `add()` stage is a ring of its own.
//!
//! `head` and `tail` count rows modulo 2^32; the capacity is a power of two, so slot
//! `i` of counter `c` is `c mod capacity` across the wrap.

use crate::alloc::SharedBytes;
use crate::defaults::{RING_BYTES, RING_ROWS};
use crate::error::{Error, Result};
use crate::queue::Sink;
use crate::rows::{AnyColumn, AnyColumnRef, RowsRef};
use crate::schema::Schema;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// Columns start on cache lines.
const ALIGN: usize = 64;

/// Where each column lies in a ring's memory (bytes from its start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingLayout {
    /// Rows the ring holds (a power of two).
    pub capacity: usize,
    /// Offset of each typed column, in typed-field order.
    pub columns: Vec<usize>,
    /// Offset of the f64 timestamps.
    pub timestamps: usize,
    /// Bytes of the whole memory.
    pub bytes: usize,
}

pub struct Ring {
    schema: Arc<Schema>,
    layout: RingLayout,
    mem: SharedBytes,
    /// Rows published by the writer.
    tail: AtomicU32,
    /// Rows taken (moved on, spilled or dropped) by the reader side.
    head: AtomicU32,
    /// Serialized `any` values of published rows not yet taken, per `any` field.
    any: Mutex<Vec<VecDeque<Vec<u8>>>>,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ring({} rows)", self.layout.capacity)
    }
}

impl Ring {
    /// A ring of at most `max_rows` rows (fewer for wide rows: its memory stays near
    /// `RING_BYTES`).
    pub fn new(schema: Arc<Schema>, max_rows: usize) -> Result<Ring> {
        let row = schema.typed_row_bytes() + 8;
        let want = (RING_BYTES / row).clamp(1, RING_ROWS).min(max_rows.max(1));
        // The largest power of two not above `want`.
        let capacity = 1usize << (usize::BITS - 1 - want.leading_zeros());
        let mut at = 0;
        let mut columns = Vec::with_capacity(schema.typed_count());
        for f in schema.typed_fields() {
            columns.push(at);
            at = (at + capacity * f.row_bytes()).next_multiple_of(ALIGN);
        }
        let timestamps = at;
        let bytes = timestamps + capacity * 8;
        let mem = SharedBytes::new(bytes, "ring")?;
        let any = schema.any_fields().map(|_| VecDeque::new()).collect();
        Ok(Ring {
            schema,
            layout: RingLayout {
                capacity,
                columns,
                timestamps,
                bytes,
            },
            mem,
            tail: AtomicU32::new(0),
            head: AtomicU32::new(0),
            any: Mutex::new(any),
        })
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    pub fn layout(&self) -> &RingLayout {
        &self.layout
    }

    /// The memory JS writes rows into.
    pub fn memory(&self) -> (*mut u8, usize) {
        (self.mem.as_ptr(), self.mem.len())
    }

    /// Rows taken so far (the writer may reuse slots below `head + capacity`).
    pub fn head(&self) -> u32 {
        self.head.load(Ordering::Acquire)
    }

    /// Checks a writer's new `tail` (it must not move back or overrun the reader) and
    /// the `any` values of the rows it adds; returns how many rows it adds. Changes
    /// nothing: `commit` does.
    pub fn check_publish(&self, tail: u32, any: &[AnyColumnRef<'_>]) -> Result<usize> {
        let old = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Acquire);
        let added = tail.wrapping_sub(old) as usize;
        let held = tail.wrapping_sub(head) as usize;
        if held > self.layout.capacity || added > held {
            return Err(Error::invalid_argument(format!(
                "tail: {tail} is not within {} rows of {head}",
                self.layout.capacity
            )));
        }
        if any.len() != self.schema.any_count() {
            return Err(Error::invalid_argument("any: one column per any field"));
        }
        for (col, f) in any.iter().zip(self.schema.any_fields()) {
            if col.offsets.len() != added + 1 || !offsets_ok(col) {
                return Err(Error::bad_value(format!(
                    "field '{}': serialized column does not hold {added} values",
                    f.name
                )));
            }
        }
        Ok(added)
    }

    /// Publishes rows up to `tail` (checked by `check_publish`), with their `any` values.
    pub fn commit(&self, tail: u32, any: &[AnyColumnRef<'_>]) {
        if !any.is_empty() {
            let mut deques = self.any.lock();
            for (dq, col) in deques.iter_mut().zip(any) {
                for r in 0..col.offsets.len() - 1 {
                    dq.push_back(col.value(r).to_vec());
                }
            }
        }
        // Release: the rows' bytes (written before this call) are visible to a reader
        // that loads this tail with Acquire.
        self.tail.store(tail, Ordering::Release);
    }

    /// Published rows not yet taken: `(head, count)`.
    pub fn pending(&self) -> (u32, usize) {
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Acquire);
        (head, tail.wrapping_sub(head) as usize)
    }

    /// The slot ranges of `count` rows from counter `head`: at most two runs.
    pub fn runs(&self, head: u32, count: usize) -> [Range<usize>; 2] {
        let cap = self.layout.capacity;
        let start = head as usize & (cap - 1);
        let first = count.min(cap - start);
        [start..start + first, 0..count - first]
    }

    /// Published rows in slots `run` (from `runs`, before they are taken), with their
    /// timestamps; `any` must hold their `any` values (from `take_any`).
    pub fn rows<'a>(&'a self, run: Range<usize>, any: &'a [AnyColumn]) -> RowsRef<'a> {
        let rows = run.len();
        let typed = self
            .schema
            .typed_fields()
            .zip(&self.layout.columns)
            .map(|(f, &off)| {
                let rb = f.row_bytes();
                // SAFETY: slots in `run` are published and not yet taken: the writer does
                // not write them until `take` moves `head` past them.
                unsafe { self.mem.range(off + run.start * rb..off + run.end * rb) }
            })
            .collect();
        let ts_off = self.layout.timestamps;
        // SAFETY: as above, for the timestamps of the same slots.
        let ts = unsafe { self.mem.range(ts_off + run.start * 8..ts_off + run.end * 8) };
        RowsRef {
            rows,
            typed,
            any: any.iter().map(AnyColumn::as_ref).collect(),
            timestamps: Some(ts_as_f64(ts)),
        }
    }

    /// Removes and returns the `any` values of the next `count` rows from the head, per
    /// `any` field (empty when there are no `any` fields).
    pub fn take_any(&self, count: usize) -> Result<Vec<AnyColumn>> {
        self.any_values(0, count, true)
    }

    /// The `any` values of rows `skip..skip + count` from the head, left in place.
    pub fn peek_any(&self, skip: usize, count: usize) -> Result<Vec<AnyColumn>> {
        self.any_values(skip, count, false)
    }

    fn any_values(&self, skip: usize, count: usize, take: bool) -> Result<Vec<AnyColumn>> {
        if self.schema.any_count() == 0 {
            return Ok(Vec::new());
        }
        let mut deques = self.any.lock();
        deques
            .iter_mut()
            .zip(self.schema.any_fields())
            .map(|(dq, f)| {
                let mut col = AnyColumn::with_rows(count)?;
                let end = (skip + count).min(dq.len());
                for v in dq.range(skip.min(end)..end) {
                    col.push(v, &f.name)?;
                }
                if take {
                    dq.drain(..end);
                }
                Ok(col)
            })
            .collect()
    }

    /// Marks `count` rows from the head as taken: the writer may reuse their slots.
    pub fn take(&self, count: usize) {
        let head = self.head.load(Ordering::Relaxed);
        // Release: every read of the taken slots happens before the writer sees them free.
        self.head
            .store(head.wrapping_add(count as u32), Ordering::Release);
    }
}

impl Ring {
    /// Publishes rows up to `tail` and moves them straight into `sink`: a buffer's own
    /// `add()` stage, which one thread both writes and flushes. Returns the rows moved.
    pub fn flush_into(
        &self,
        tail: u32,
        any: &[AnyColumnRef<'_>],
        sink: &mut dyn Sink,
    ) -> Result<usize> {
        self.check_publish(tail, any)?;
        self.commit(tail, any);
        let (head, count) = self.pending();
        for run in self.runs(head, count) {
            if run.is_empty() {
                continue;
            }
            let any = self.take_any(run.len())?;
            sink.extend(&self.rows(run, &any))?;
        }
        self.take(count);
        Ok(count)
    }
}

fn offsets_ok(col: &AnyColumnRef<'_>) -> bool {
    col.offsets.windows(2).all(|w| w[0] <= w[1])
        && col
            .offsets
            .last()
            .is_some_and(|&end| end as usize <= col.bytes.len())
}

/// Little-endian f64 bytes (8-aligned: ring columns start 64-aligned) as f64s.
fn ts_as_f64(bytes: &[u8]) -> &[f64] {
    // SAFETY: f64 has no invalid bit patterns; `align_to` only yields the aligned
    // middle part, and the ring's memory is 8-aligned with the timestamps at a
    // 64-multiple offset, so prefix and suffix are empty.
    let (pre, mid, post) = unsafe { bytes.align_to::<f64>() };
    debug_assert!(pre.is_empty() && post.is_empty());
    mid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dtype, Field};

    fn schema() -> Arc<Schema> {
        Arc::new(
            Schema::new(vec![
                Field::typed("x", Dtype::Int32, &[]).expect("x"),
                Field::typed("v", Dtype::Float32, &[3]).expect("v"),
            ])
            .expect("schema"),
        )
    }

    /// Writes row values as JS would, through the memory pointer.
    fn write(ring: &Ring, counter: u32, x: i32) {
        let l = ring.layout();
        let slot = counter as usize & (l.capacity - 1);
        let (base, _) = ring.memory();
        // SAFETY: test-only writer: the slot is outside head..tail (not yet published).
        unsafe {
            let xs = base.add(l.columns[0]).cast::<i32>();
            *xs.add(slot) = x;
            let ts = base.add(l.timestamps).cast::<f64>();
            *ts.add(slot) = x as f64;
        }
    }

    #[test]
    fn capacity_is_a_power_of_two_within_the_limits() {
        assert_eq!(Ring::new(schema(), 5).expect("r").layout().capacity, 4);
        assert_eq!(Ring::new(schema(), 1).expect("r").layout().capacity, 1);
        assert_eq!(
            Ring::new(schema(), 1 << 30).expect("r").layout().capacity,
            RING_ROWS
        );
        let wide = Arc::new(
            Schema::new(vec![
                Field::typed("img", Dtype::Uint8, &[84, 84, 4]).expect("img")
            ])
            .expect("s"),
        );
        let r = Ring::new(wide, 1 << 30).expect("r");
        assert!(r.layout().bytes <= RING_BYTES + 64 * 2 + 8 * RING_ROWS);
        assert_eq!(r.layout().capacity, 128);
    }

    #[test]
    fn publish_read_take_across_the_wrap() {
        let ring = Ring::new(schema(), 4).expect("ring");
        for c in 0..3 {
            write(&ring, c, c as i32 + 10);
        }
        assert_eq!(ring.check_publish(3, &[]).expect("ok"), 3);
        ring.commit(3, &[]);
        ring.take(2);
        for c in 3..6 {
            write(&ring, c, c as i32 + 10);
        }
        assert!(ring.check_publish(7, &[]).is_err(), "overruns the reader");
        ring.commit(6, &[]);
        let (head, count) = ring.pending();
        assert_eq!((head, count), (2, 4));
        let [a, b] = ring.runs(head, count);
        assert_eq!((a.clone(), b.clone()), (2..4, 0..2));
        let xs =
            |r: Range<usize>| -> Vec<f64> { ring.rows(r, &[]).timestamps.expect("ts").to_vec() };
        assert_eq!([xs(a), xs(b)].concat(), vec![12.0, 13.0, 14.0, 15.0]);
        ring.take(count);
        assert_eq!(ring.pending().1, 0);
        assert!(ring.check_publish(5, &[]).is_err(), "moves back");
    }
}
