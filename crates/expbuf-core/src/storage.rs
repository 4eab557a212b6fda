//! Preallocated columns addressed by slot: the memory every buffer kind stores into.

use crate::alloc::ZeroedBytes;
use crate::error::Result;
use crate::limits;
use crate::rows::{AnyColumn, RowsRef};
use crate::schema::Schema;
use std::ops::Range;
use std::sync::Arc;

/// Columns of `capacity` slots. Typed columns are allocated once, zeroed and lazily
/// backed; an `any` slot holds its serialized value and reuses its allocation when the
/// slot is overwritten.
#[derive(Debug)]
pub struct ColumnStore {
    schema: Arc<Schema>,
    capacity: usize,
    typed: Vec<ZeroedBytes>,
    row_bytes: Vec<usize>,
    any: Vec<Vec<Vec<u8>>>,
}

impl ColumnStore {
    /// Columns for `capacity` rows; refused (before allocating) when they would not fit
    /// in this machine's memory.
    pub fn new(schema: Arc<Schema>, capacity: usize) -> Result<ColumnStore> {
        limits::check_capacity(capacity, schema.typed_row_bytes(), 0, "maxSize")?;
        let mut typed = Vec::with_capacity(schema.typed_count());
        let mut row_bytes = Vec::with_capacity(schema.typed_count());
        for f in schema.typed_fields() {
            typed.push(ZeroedBytes::new(capacity * f.row_bytes(), "maxSize")?);
            row_bytes.push(f.row_bytes());
        }
        let any = schema.any_fields().map(|_| Vec::new()).collect();
        Ok(ColumnStore {
            schema,
            capacity,
            typed,
            row_bytes,
            any,
        })
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Copies row `row` of `src` into `slot`. `src` must be validated against the schema;
    /// `slot` must be below capacity and at most one past the highest slot written.
    pub fn write_row(&mut self, slot: usize, src: &RowsRef<'_>, row: usize) {
        for ((col, &rb), data) in self.typed.iter_mut().zip(&self.row_bytes).zip(&src.typed) {
            col[slot * rb..(slot + 1) * rb].copy_from_slice(&data[row * rb..(row + 1) * rb]);
        }
        self.write_any(slot, src, row);
    }

    /// Copies rows `row..row + count` of `src` into slots `slot..slot + count`; same
    /// preconditions as `write_row`, for every row of the run.
    pub fn write_rows(&mut self, slot: usize, src: &RowsRef<'_>, row: usize, count: usize) {
        for ((col, &rb), data) in self.typed.iter_mut().zip(&self.row_bytes).zip(&src.typed) {
            col[slot * rb..(slot + count) * rb]
                .copy_from_slice(&data[row * rb..(row + count) * rb]);
        }
        if !self.any.is_empty() {
            for i in 0..count {
                self.write_any(slot + i, src, row + i);
            }
        }
    }

    /// Asks the CPU to fetch slot `slot`'s lines of every typed column for writing: a
    /// per-step `update()` writes one row into a large ring, so without this each row's
    /// lines are cold and its copy waits on memory, inside the call.
    pub fn prefetch(&self, slot: usize) {
        if slot >= self.capacity {
            return;
        }
        for (col, &rb) in self.typed.iter().zip(&self.row_bytes) {
            let row = &col[slot * rb..(slot + 1) * rb];
            for line in row.chunks(64) {
                crate::prefetch::write(line.as_ptr());
            }
        }
    }

    fn write_any(&mut self, slot: usize, src: &RowsRef<'_>, row: usize) {
        for (slots, data) in self.any.iter_mut().zip(&src.any) {
            let value = data.value(row);
            if slot == slots.len() {
                slots.push(value.to_vec());
            } else {
                let held = &mut slots[slot];
                held.clear();
                held.extend_from_slice(value);
            }
        }
    }

    /// Writes the rows at `slots` (each below the number of rows written), in the order
    /// given, into `typed` (one slice per typed field, exactly `slots.len()` rows long)
    /// and returns their `any` values.
    pub fn gather_into(&self, slots: &[usize], typed: &mut [&mut [u8]]) -> Result<Vec<AnyColumn>> {
        for ((dst, col), &rb) in typed.iter_mut().zip(&self.typed).zip(&self.row_bytes) {
            for (d, &s) in dst.chunks_exact_mut(rb.max(1)).zip(slots) {
                d.copy_from_slice(&col[s * rb..(s + 1) * rb]);
            }
        }
        self.any
            .iter()
            .zip(self.schema.any_fields())
            .map(|(held, field)| {
                let mut col = AnyColumn::with_rows(slots.len())?;
                for &s in slots {
                    col.push(&held[s], &field.name)?;
                }
                Ok(col)
            })
            .collect()
    }

    /// Copies the slot ranges `ranges` (concatenated, in order) into `typed` and
    /// returns their `any` values.
    pub fn gather_ranges_into(
        &self,
        ranges: &[Range<usize>],
        typed: &mut [&mut [u8]],
    ) -> Result<Vec<AnyColumn>> {
        for ((dst, col), &rb) in typed.iter_mut().zip(&self.typed).zip(&self.row_bytes) {
            let mut at = 0;
            for r in ranges {
                let n = r.len() * rb;
                dst[at..at + n].copy_from_slice(&col[r.start * rb..r.end * rb]);
                at += n;
            }
        }
        let rows: usize = ranges.iter().map(|r| r.len()).sum();
        self.any
            .iter()
            .zip(self.schema.any_fields())
            .map(|(held, field)| {
                let mut col = AnyColumn::with_rows(rows)?;
                for r in ranges {
                    for v in &held[r.clone()] {
                        col.push(v, &field.name)?;
                    }
                }
                Ok(col)
            })
            .collect()
    }

    /// Bytes of the `any` values in `slots` (what gathering them allocates).
    pub fn any_bytes(&self, slots: impl Iterator<Item = usize> + Clone) -> u128 {
        self.any
            .iter()
            .map(|held| {
                slots
                    .clone()
                    .map(|s| held[s].len() as u128 + 4)
                    .sum::<u128>()
            })
            .sum()
    }

    /// Moves the rows in slots `0..rows` (as a loader wrote them) to slots
    /// `by..by + rows` (mod capacity), so a restored ring keeps the slots it had.
    pub fn rotate_rows(&mut self, by: usize, rows: usize) {
        let cap = self.capacity;
        if by == 0 || cap == 0 {
            return;
        }
        for (col, &rb) in self.typed.iter_mut().zip(&self.row_bytes) {
            col[..cap * rb].rotate_right(by * rb);
        }
        for held in &mut self.any {
            held.truncate(rows);
            held.resize(cap, Vec::new());
            held.rotate_right(by);
        }
    }

    /// Forgets every `any` value (typed columns are simply overwritten later).
    pub fn clear_any(&mut self) {
        for a in &mut self.any {
            a.clear();
        }
    }

    /// Bytes of slots `range` of typed column `i`.
    pub fn typed_range(&self, i: usize, range: Range<usize>) -> &[u8] {
        let rb = self.row_bytes[i];
        &self.typed[i][range.start * rb..range.end * rb]
    }

    /// Asks the CPU to fetch slot `slot`'s row of typed column `i` for reading.
    pub fn prefetch_read(&self, i: usize, slot: usize) {
        crate::prefetch::read_all(self.typed_range(i, slot..slot + 1));
    }

    /// Bytes one row of typed column `i` takes.
    pub fn row_bytes(&self, i: usize) -> usize {
        self.row_bytes[i]
    }

    /// Slots `0..rows` of typed column `i`, to fill when restoring.
    pub fn typed_rows_mut(&mut self, i: usize, rows: usize) -> &mut [u8] {
        let rb = self.row_bytes[i];
        &mut self.typed[i][..rows * rb]
    }

    /// The value in `slot` of `any` column `a`.
    pub fn any_value(&self, a: usize, slot: usize) -> &[u8] {
        &self.any[a][slot]
    }

    /// Appends a value to `any` column `a` (the next slot), when restoring.
    pub fn push_any(&mut self, a: usize, value: Vec<u8>) {
        self.any[a].push(value);
    }
}
