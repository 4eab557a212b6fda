//! The sum-tree of prioritized replay, with the min-tree its importance weights are
//! normalized by. Leaf `i` holds slot `i`'s p^α (0 and +∞ for a slot that cannot be
//! drawn); each inner node the sum (min) of its two children.
//!
//! Batches are handled one tree level at a time (`set_many`, `find_many`): the loads of
//! one level are independent across the batch, so the CPU overlaps their cache misses
//! instead of waiting for each leaf-to-root walk in turn (20 dependent misses per walk
//! on a million leaves).

use crate::alloc;
use crate::error::Result;

#[derive(Debug)]
pub struct PriorityTree {
    /// Leaves (a power of two, at least the capacity).
    leaves: usize,
    /// Node 1 is the root; node k's children are 2k and 2k + 1; leaf i is `leaves + i`.
    sum: Vec<f64>,
    min: Vec<f64>,
}

impl PriorityTree {
    pub fn new(capacity: usize) -> Result<PriorityTree> {
        let leaves = capacity.max(1).next_power_of_two();
        let mut sum = alloc::with_capacity(2 * leaves, "priority tree")?;
        sum.resize(2 * leaves, 0.0);
        let mut min = alloc::with_capacity(2 * leaves, "priority tree")?;
        min.resize(2 * leaves, f64::INFINITY);
        Ok(PriorityTree { leaves, sum, min })
    }

    /// Σ over every leaf.
    pub fn total(&self) -> f64 {
        self.sum[1]
    }

    /// The smallest drawable leaf (∞ when none is).
    pub fn min(&self) -> f64 {
        self.min[1]
    }

    pub fn get(&self, slot: usize) -> f64 {
        self.sum[self.leaves + slot]
    }

    /// Sets one leaf (`value` 0 makes it undrawable).
    pub fn set(&mut self, slot: usize, value: f64) {
        self.set_many(&mut [(slot, value)]);
    }

    /// Sets several leaves, then fixes their ancestors level by level. `updates` is
    /// sorted in place (by slot); for a slot given twice the last value wins.
    pub fn set_many(&mut self, updates: &mut [(usize, f64)]) {
        updates.sort_by_key(|&(s, _)| s);
        let mut nodes: Vec<usize> = Vec::with_capacity(updates.len());
        for &(slot, value) in updates.iter() {
            let leaf = self.leaves + slot;
            self.sum[leaf] = value;
            self.min[leaf] = if value > 0.0 { value } else { f64::INFINITY };
            if nodes.last() != Some(&(leaf >> 1)) {
                nodes.push(leaf >> 1);
            }
        }
        while !nodes.is_empty() {
            for &k in &nodes {
                self.sum[k] = self.sum[2 * k] + self.sum[2 * k + 1];
                self.min[k] = self.min[2 * k].min(self.min[2 * k + 1]);
            }
            if nodes[0] == 1 {
                break;
            }
            // Parents of a sorted list are sorted: dropping repeats keeps each once.
            let mut w = 0;
            for r in 0..nodes.len() {
                let p = nodes[r] >> 1;
                if w == 0 || nodes[w - 1] != p {
                    nodes[w] = p;
                    w += 1;
                }
            }
            nodes.truncate(w);
        }
    }

    /// For each target `u` in `[0, total)`, the leaf where the prefix sums reach it, all
    /// targets descending together.
    pub fn find_many(&self, targets: &mut [f64], out: &mut [usize]) {
        for o in out.iter_mut() {
            *o = 1;
        }
        while out.first().is_some_and(|&k| k < self.leaves) {
            for (k, u) in out.iter_mut().zip(targets.iter_mut()) {
                let left = self.sum[2 * *k];
                if *u < left || self.sum[2 * *k + 1] <= 0.0 {
                    *k *= 2;
                } else {
                    *u -= left;
                    *k = 2 * *k + 1;
                }
            }
        }
        for k in out.iter_mut() {
            *k -= self.leaves;
        }
    }

    /// Clears every leaf.
    pub fn clear(&mut self) {
        self.sum.fill(0.0);
        self.min.fill(f64::INFINITY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_mins_and_finds_follow_the_leaves() {
        let mut t = PriorityTree::new(5).expect("tree");
        t.set_many(&mut [(0, 1.0), (3, 2.0), (4, 0.5)]);
        assert_eq!(t.total(), 3.5);
        assert_eq!(t.min(), 0.5);
        let mut u = [0.0, 0.99, 1.0, 2.99, 3.0, 3.49];
        let mut out = [0; 6];
        t.find_many(&mut u, &mut out);
        assert_eq!(out, [0, 0, 3, 3, 4, 4]);
        t.set(4, 0.0);
        assert_eq!((t.total(), t.min()), (3.0, 1.0));
        t.set_many(&mut [(3, 5.0), (3, 7.0)]);
        assert_eq!(t.get(3), 7.0);
        assert_eq!(t.total(), 8.0);
        t.clear();
        assert_eq!((t.total(), t.min()), (0.0, f64::INFINITY));
    }

    #[test]
    fn batched_updates_equal_one_by_one() {
        let mut a = PriorityTree::new(1000).expect("a");
        let mut b = PriorityTree::new(1000).expect("b");
        let mut rng = crate::rng::Rng::new(3);
        let mut ups: Vec<(usize, f64)> = (0..300)
            .map(|_| (rng.below(1000) as usize, rng.next_f64()))
            .collect();
        for &(s, v) in &ups {
            a.set(s, v);
        }
        // One by one the last write of a slot wins; set_many keeps the order of equal slots.
        b.set_many(&mut ups);
        assert!((a.total() - b.total()).abs() < 1e-9);
        assert_eq!(a.min(), b.min());
    }
}
