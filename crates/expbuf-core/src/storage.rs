//! Preallocated columns addressed by slot: the memory every buffer kind stores into.

use crate::alloc::ZeroedBytes;
use crate::error::{Error, Result};
use crate::rows::{Columns, RowsRef};
use crate::schema::Schema;
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
    pub fn new(schema: Arc<Schema>, capacity: usize) -> Result<ColumnStore> {
        let mut typed = Vec::with_capacity(schema.typed_count());
        let mut row_bytes = Vec::with_capacity(schema.typed_count());
        for f in schema.typed_fields() {
            let bytes = capacity
                .checked_mul(f.row_bytes())
                .ok_or_else(|| Error::invalid_argument("maxSize: too large for the row size"))?;
            typed.push(ZeroedBytes::new(bytes, "maxSize")?);
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

    /// Appends the rows at `slots` (each below the number of rows written) to `out`, in
    /// the order given.
    pub fn gather_into(&self, slots: &[usize], out: &mut Columns) -> Result<()> {
        for ((dst, col), &rb) in out.typed.iter_mut().zip(&self.typed).zip(&self.row_bytes) {
            for &s in slots {
                dst.extend_from_slice(&col[s * rb..(s + 1) * rb]);
            }
        }
        for ((dst, held), field) in out
            .any
            .iter_mut()
            .zip(&self.any)
            .zip(self.schema.any_fields())
        {
            for &s in slots {
                dst.push(&held[s], &field.name)?;
            }
        }
        out.rows += slots.len();
        Ok(())
    }

    /// Copies the slot ranges `ranges` (concatenated, in order) into new columns.
    pub fn gather_ranges(&self, ranges: &[std::ops::Range<usize>]) -> Result<Columns> {
        let rows: usize = ranges.iter().map(|r| r.len()).sum();
        let mut out = Columns::with_capacity(&self.schema, rows)?;
        for ((dst, col), &rb) in out.typed.iter_mut().zip(&self.typed).zip(&self.row_bytes) {
            for r in ranges {
                dst.extend_from_slice(&col[r.start * rb..r.end * rb]);
            }
        }
        for ((dst, held), field) in out
            .any
            .iter_mut()
            .zip(&self.any)
            .zip(self.schema.any_fields())
        {
            for r in ranges {
                for v in &held[r.clone()] {
                    dst.push(v, &field.name)?;
                }
            }
        }
        out.rows = rows;
        Ok(out)
    }

    /// Bytes of slots `range` of typed column `i`.
    pub fn typed_range(&self, i: usize, range: std::ops::Range<usize>) -> &[u8] {
        let rb = self.row_bytes[i];
        &self.typed[i][range.start * rb..range.end * rb]
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
