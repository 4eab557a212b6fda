//! Counters that JS reads without a native call.
//!
//! Each shared object (buffer, queue, replay buffer) keeps a small block of `f64`
//! counters. The core writes them with release stores after every change, under the
//! object's lock; the binding hands JS a Float64Array view over the block, so reading
//! `size` costs a memory load. An aligned 8-byte load is single-copy atomic on every
//! target expbuf builds for, so a reader on another thread sees an old or a new value,
//! never a torn one.

use std::sync::atomic::{AtomicU64, Ordering};

/// Slots per block.
pub const SLOTS: usize = 8;

/// The slots of a buffer's block, by name (the binding hands these names to JS).
pub const BUFFER: &[&str] = &["size", "maxSize", "totalAdded"];
/// The slots of a queue's block.
pub const QUEUE: &[&str] = &["queued", "dropped", "maxQueueSize"];
/// The slots of a replay buffer's block.
pub const REPLAY: &[&str] = &["size", "inserted", "sampled", "episodes", "maxSize"];

/// A block of counters, written by the core, read by JS through a view.
#[repr(C, align(64))]
#[derive(Debug, Default)]
pub struct Counters {
    slots: [AtomicU64; SLOTS],
}

impl Counters {
    pub fn set(&self, slot: usize, value: f64) {
        self.slots[slot].store(value.to_bits(), Ordering::Release);
    }

    pub fn get(&self, slot: usize) -> f64 {
        f64::from_bits(self.slots[slot].load(Ordering::Acquire))
    }

    /// The block's memory, for a JS view (`SLOTS` f64 values).
    pub fn as_ptr(&self) -> *mut u8 {
        self.slots.as_ptr() as *mut u8
    }

    /// Bytes of the block.
    pub const BYTES: usize = SLOTS * 8;
}

/// The slot of counter `name` in `names`.
pub const fn slot(names: &[&str], name: &str) -> usize {
    let mut i = 0;
    while i < names.len() {
        if str_eq(names[i], name) {
            return i;
        }
        i += 1;
    }
    panic!("no such counter");
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_slots_are_found_by_name() {
        let c = Counters::default();
        c.set(slot(BUFFER, "totalAdded"), 12345678901.0);
        assert_eq!(c.get(2), 12345678901.0);
        assert_eq!(slot(QUEUE, "dropped"), 1);
        assert!(BUFFER.len() <= SLOTS && QUEUE.len() <= SLOTS && REPLAY.len() <= SLOTS);
        assert_eq!(c.as_ptr() as usize % 64, 0);
    }
}
