//! Rows in columnar form: borrowed input (`RowsRef`) and owned output (`Columns`).
//!
//! Typed columns are raw little-endian bytes, rows contiguous; an `any` column is the
//! concatenated serialized values plus `rows + 1` offsets.

use crate::alloc;
use crate::error::{Error, ErrorCode, Result};
use crate::schema::Schema;

/// A borrowed `any` column: value `i` is `bytes[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Clone, Copy)]
pub struct AnyColumnRef<'a> {
    pub bytes: &'a [u8],
    pub offsets: &'a [u32],
}

impl<'a> AnyColumnRef<'a> {
    pub fn value(&self, row: usize) -> &'a [u8] {
        &self.bytes[self.offsets[row] as usize..self.offsets[row + 1] as usize]
    }
}

/// Borrowed rows: one slice per typed field and one `AnyColumnRef` per `any` field, in
/// schema order, plus optional collect timestamps (ms since the epoch).
#[derive(Debug, Clone)]
pub struct RowsRef<'a> {
    pub rows: usize,
    pub typed: Vec<&'a [u8]>,
    pub any: Vec<AnyColumnRef<'a>>,
    pub timestamps: Option<&'a [f64]>,
}

impl<'a> RowsRef<'a> {
    /// Checks that every column holds exactly `rows` rows of its field. After this,
    /// reading any row of any column cannot go out of bounds.
    pub fn validate(&self, schema: &Schema) -> Result<()> {
        if self.typed.len() != schema.typed_count() || self.any.len() != schema.any_count() {
            return Err(Error::invalid_argument(format!(
                "columns: expected {} typed and {} any columns, got {} and {}",
                schema.typed_count(),
                schema.any_count(),
                self.typed.len(),
                self.any.len()
            )));
        }
        for (field, col) in schema.typed_fields().zip(&self.typed) {
            let want = self.rows.checked_mul(field.row_bytes());
            if want != Some(col.len()) {
                return Err(Error::bad_value(format!(
                    "field '{}': column has {} bytes, expected {} rows of {} bytes",
                    field.name,
                    col.len(),
                    self.rows,
                    field.row_bytes()
                )));
            }
        }
        for (field, col) in schema.any_fields().zip(&self.any) {
            let offsets_ok = col.offsets.len() == self.rows + 1
                && col.offsets.windows(2).all(|w| w[0] <= w[1])
                && col
                    .offsets
                    .last()
                    .is_some_and(|&end| end as usize <= col.bytes.len());
            if !offsets_ok {
                return Err(Error::bad_value(format!(
                    "field '{}': serialized column does not hold {} values",
                    field.name, self.rows
                )));
            }
        }
        if let Some(ts) = self.timestamps {
            if ts.len() != self.rows {
                return Err(Error::bad_value(format!(
                    "timestamps: {} given for {} rows",
                    ts.len(),
                    self.rows
                )));
            }
        }
        Ok(())
    }
}

/// An owned `any` column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnyColumn {
    pub bytes: Vec<u8>,
    pub offsets: Vec<u32>,
}

impl AnyColumn {
    pub fn with_rows(rows: usize) -> Result<AnyColumn> {
        let mut offsets = alloc::with_capacity(rows + 1, "any column offsets")?;
        offsets.push(0);
        Ok(AnyColumn {
            bytes: Vec::new(),
            offsets,
        })
    }

    pub fn push(&mut self, value: &[u8], field: &str) -> Result<()> {
        let end = u32::try_from(self.bytes.len() + value.len()).map_err(|_| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("field '{field}': serialized values exceed 4 GiB in one batch"),
            )
        })?;
        self.bytes.extend_from_slice(value);
        self.offsets.push(end);
        Ok(())
    }

    /// Number of values held.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn as_ref(&self) -> AnyColumnRef<'_> {
        AnyColumnRef {
            bytes: &self.bytes,
            offsets: &self.offsets,
        }
    }
}

/// Owned rows, as `getData()` and `sample()` return them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns {
    pub rows: usize,
    pub typed: Vec<Vec<u8>>,
    pub any: Vec<AnyColumn>,
    pub timestamps: Vec<f64>,
}

impl Columns {
    /// Empty columns with room for `rows` rows of `schema`.
    pub fn with_capacity(schema: &Schema, rows: usize) -> Result<Columns> {
        let typed = schema
            .typed_fields()
            .map(|f| {
                let bytes = rows
                    .checked_mul(f.row_bytes())
                    .ok_or_else(|| Error::invalid_argument("rows: too many rows"))?;
                alloc::with_capacity(bytes, &format!("field '{}'", f.name))
            })
            .collect::<Result<Vec<_>>>()?;
        let any = schema
            .any_fields()
            .map(|_| AnyColumn::with_rows(rows))
            .collect::<Result<Vec<_>>>()?;
        Ok(Columns {
            rows: 0,
            typed,
            any,
            timestamps: Vec::new(),
        })
    }

    /// Appends rows `from..` of `src` (validated against `schema`), with their
    /// timestamps when `src` has them.
    pub fn append_rows(&mut self, schema: &Schema, src: &RowsRef<'_>, from: usize) -> Result<()> {
        for (dst, (col, f)) in self
            .typed
            .iter_mut()
            .zip(src.typed.iter().zip(schema.typed_fields()))
        {
            dst.extend_from_slice(&col[from * f.row_bytes()..src.rows * f.row_bytes()]);
        }
        for ((dst, col), f) in self.any.iter_mut().zip(&src.any).zip(schema.any_fields()) {
            for r in from..src.rows {
                dst.push(col.value(r), &f.name)?;
            }
        }
        if let Some(ts) = src.timestamps {
            self.timestamps.extend_from_slice(&ts[from..]);
        }
        self.rows += src.rows - from;
        Ok(())
    }

    /// Rows `start..` as a `RowsRef`; timestamps are included when every row has one.
    pub fn rows_from(&self, schema: &Schema, start: usize) -> RowsRef<'_> {
        RowsRef {
            rows: self.rows - start,
            typed: self
                .typed
                .iter()
                .zip(schema.typed_fields())
                .map(|(col, f)| &col[start * f.row_bytes()..])
                .collect(),
            any: self
                .any
                .iter()
                .map(|a| AnyColumnRef {
                    bytes: &a.bytes,
                    offsets: &a.offsets[start..],
                })
                .collect(),
            timestamps: (self.timestamps.len() == self.rows).then(|| &self.timestamps[start..]),
        }
    }
}
