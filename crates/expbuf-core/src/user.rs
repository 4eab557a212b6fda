//! A data user's own part of the pipeline: its queue, and the collect times of the
//! rows it moved into its buffer (for `countDataAddedSince`).

use crate::error::Result;
use crate::queue::{Queue, Sink};
use crate::rows::Columns;
use crate::timestamps::TimestampLog;
use parking_lot::Mutex;
use std::sync::Arc;

#[derive(Debug)]
pub struct User {
    queue: Arc<Queue>,
    log: Mutex<TimestampLog>,
}

/// What a user's saved state holds besides its buffer.
#[derive(Debug)]
pub struct SavedUser {
    /// Rows that were still queued, with their collect times.
    pub queued: Columns,
    /// The collect-time log.
    pub log: Vec<f64>,
    /// The storage sequence of the last pool item pulled (0: none).
    pub cursor: u64,
}

impl User {
    /// A user of `queue` that remembers the collect times of its last `log_capacity`
    /// rows (its buffer's `maxSize`).
    pub fn new(queue: Arc<Queue>, log_capacity: usize) -> User {
        User {
            queue,
            log: Mutex::new(TimestampLog::new(log_capacity)),
        }
    }

    pub fn queue(&self) -> &Arc<Queue> {
        &self.queue
    }

    /// Moves every queued row into `sink` (whose lock the caller holds) and logs their
    /// collect times; returns the rows moved.
    pub fn update(&self, sink: &mut dyn Sink) -> Result<usize> {
        let mut log = self.log.lock();
        self.queue.drain_into(sink, &mut |times| log.extend(times))
    }

    /// Takes every queued row (for a buffer written in TS) and logs their times.
    pub fn drain(&self) -> Result<Columns> {
        let mut log = self.log.lock();
        let rows = self.queue.drain()?;
        log.extend(&rows.timestamps);
        Ok(rows)
    }

    /// Rows moved on whose collect time is strictly later than `since`.
    pub fn count_added_since(&self, since: f64) -> usize {
        self.log.lock().count_after(since)
    }

    /// The queued rows and the log, as a state saves them.
    pub fn snapshot(&self, cursor: u64) -> Result<SavedUser> {
        let log = self.log.lock().times().collect();
        Ok(SavedUser {
            queued: self.queue.snapshot()?,
            log,
            cursor,
        })
    }

    /// Puts a loaded state in place: its queued rows go before any queued since, and
    /// the log is replaced.
    pub fn apply(&self, saved: SavedUser) {
        self.log.lock().replace(&saved.log);
        self.queue.prepend(saved.queued);
    }
}
