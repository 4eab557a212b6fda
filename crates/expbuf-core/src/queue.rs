//! The collector queue: rows handed over by collectors, waiting for `DataUser.update()`.

use crate::error::{Error, Result};
use crate::rows::{Columns, RowsRef};
use crate::schema::Schema;
use std::collections::VecDeque;
use std::sync::Arc;

/// One handed-over block; rows before `start` were dropped to make room.
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

/// A FIFO of collected rows with their timestamps. Bounded queues drop their oldest
/// rows when full and count them; `None` means unbounded.
#[derive(Debug)]
pub struct RowQueue {
    schema: Arc<Schema>,
    blocks: VecDeque<Block>,
    len: usize,
    max_len: Option<usize>,
    dropped: u64,
}

/// Rows taken from the queue by `drain`, oldest first.
#[derive(Debug)]
pub struct Drained {
    schema: Arc<Schema>,
    blocks: Vec<Block>,
}

impl Drained {
    pub fn rows(&self) -> usize {
        self.blocks.iter().map(Block::live).sum()
    }

    /// All drained rows in one set of columns, with their timestamps.
    pub fn into_columns(self) -> Result<Columns> {
        concat(&self.schema, &self.blocks)
    }

    /// Each block's live rows as a `RowsRef` with timestamps.
    pub fn parts(&self) -> impl Iterator<Item = RowsRef<'_>> {
        self.blocks
            .iter()
            .map(|b| b.columns.rows_from(&self.schema, b.start))
    }
}

/// The live rows of `blocks`, in order, as one set of columns with timestamps.
fn concat<'a>(schema: &Schema, blocks: impl IntoIterator<Item = &'a Block>) -> Result<Columns> {
    let blocks: Vec<&Block> = blocks.into_iter().collect();
    let rows = blocks.iter().map(|b| b.live()).sum();
    let mut out = Columns::with_capacity(schema, rows)?;
    for b in blocks {
        out.append_rows(schema, &b.columns.rows_from(schema, 0), b.start)?;
    }
    Ok(out)
}

impl RowQueue {
    pub fn new(schema: Arc<Schema>, max_len: Option<usize>) -> Result<RowQueue> {
        if max_len == Some(0) {
            return Err(Error::invalid_argument("maxQueueSize: must be at least 1"));
        }
        Ok(RowQueue {
            schema,
            blocks: VecDeque::new(),
            len: 0,
            max_len,
            dropped: 0,
        })
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Rows dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Appends `rows` (which must carry timestamps). Validates before changing anything;
    /// a bounded queue then drops its oldest rows, including older rows of this batch.
    pub fn push(&mut self, rows: &RowsRef<'_>) -> Result<()> {
        rows.validate(&self.schema)?;
        if rows.timestamps.is_none() {
            return Err(Error::invalid_argument("timestamps: missing"));
        }
        if rows.rows == 0 {
            return Ok(());
        }
        let keep = self.max_len.map_or(rows.rows, |m| rows.rows.min(m));
        let skip = rows.rows - keep;
        let mut columns = Columns::with_capacity(&self.schema, keep)?;
        columns.append_rows(&self.schema, rows, skip)?;
        self.dropped += skip as u64;
        if let Some(max) = self.max_len {
            self.drop_oldest((self.len + keep).saturating_sub(max));
        }
        self.len += keep;
        self.blocks.push_back(Block { start: 0, columns });
        Ok(())
    }

    fn drop_oldest(&mut self, mut n: usize) {
        self.dropped += n as u64;
        self.len -= n;
        while n > 0 {
            let Some(front) = self.blocks.front_mut() else {
                return;
            };
            let live = front.live();
            if live <= n {
                n -= live;
                self.blocks.pop_front();
            } else {
                front.start += n;
                n = 0;
            }
        }
    }

    /// A copy of every queued row with its timestamp, oldest first (nothing is taken).
    pub fn snapshot(&self) -> Result<Columns> {
        concat(&self.schema, self.blocks.iter())
    }

    /// Puts `older` (rows with timestamps, e.g. restored ones) before every queued row.
    /// A bounded queue keeps its newest rows and counts the rest as dropped.
    pub fn prepend(&mut self, older: Columns) {
        if older.rows == 0 {
            return;
        }
        self.len += older.rows;
        self.blocks.push_front(Block {
            start: 0,
            columns: older,
        });
        if let Some(max) = self.max_len {
            self.drop_oldest(self.len.saturating_sub(max));
        }
    }

    /// Takes every queued row, oldest first.
    pub fn drain(&mut self) -> Drained {
        self.len = 0;
        Drained {
            schema: self.schema.clone(),
            blocks: self.blocks.drain(..).collect(),
        }
    }
}
