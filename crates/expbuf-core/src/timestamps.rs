//! Collect times of the rows a `DataUser` has moved into its buffer.

use std::collections::VecDeque;

/// The collect timestamps (ms since the epoch) of the last `capacity` rows added, as
/// pamiq-core's DataUser keeps them for `count_data_added_since`.
#[derive(Debug, Clone)]
pub struct TimestampLog {
    capacity: usize,
    times: VecDeque<f64>,
}

impl TimestampLog {
    pub fn new(capacity: usize) -> TimestampLog {
        TimestampLog {
            capacity,
            times: VecDeque::new(),
        }
    }

    pub fn extend(&mut self, times: &[f64]) {
        let take = times.len().min(self.capacity);
        let excess = (self.times.len() + take).saturating_sub(self.capacity);
        self.times.drain(..excess);
        self.times.extend(&times[times.len() - take..]);
    }

    /// Rows whose collect time is strictly later than `since`. Rows from several threads
    /// may arrive out of time order, so every logged time is checked.
    pub fn count_after(&self, since: f64) -> usize {
        self.times.iter().filter(|&&t| t > since).count()
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Replaces the logged times (keeping the newest `capacity`).
    pub fn replace(&mut self, times: &[f64]) {
        self.times.clear();
        self.extend(times);
    }

    pub fn times(&self) -> impl Iterator<Item = f64> + '_ {
        self.times.iter().copied()
    }
}
