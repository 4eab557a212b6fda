//! The sum-tree of prioritized replay, with the min its importance weights are
//! normalized by. Slot `i`'s p^α sits in a flat leaf array (0 for a slot that cannot be
//! drawn); the leaves are grouped in blocks of `BLOCK`, and a binary tree over the
//! blocks holds each block's sum and smallest drawable leaf.
//!
//! Why blocks: a binary tree over every leaf costs 2 × 2 × 8 bytes a slot (sum and min
//! nodes), 1.19× a 264-byte step's raw size; over blocks of 32 the inner nodes cost
//! under 1 byte a slot, so the leaves' 8 bytes are nearly all. A draw descends the
//! small block tree (it stays in cache) and then scans one block's 32 contiguous
//! leaves (four cache lines) instead of five more levels of scattered nodes.
//!
//! Batches are handled one tree level at a time (`set_many`, `find_many`): the loads of
//! one level are independent across the batch, so the CPU overlaps their cache misses
//! instead of waiting for each root-to-leaf walk in turn.

use crate::alloc;
use crate::error::Result;

/// Leaves per block: the scan a draw ends with, and the grain of the inner tree.
const BLOCK: usize = 32;

#[derive(Debug)]
pub struct PriorityTree {
    /// p^α per slot, a whole number of blocks long.
    leaf: Vec<f64>,
    /// Blocks in the inner tree (a power of two, at least the blocks that hold leaves).
    blocks: usize,
    /// Node 1 is the root; node k's children are 2k and 2k + 1; block b is `blocks + b`.
    sum: Vec<f64>,
    /// The smallest drawable (> 0) leaf below each node; ∞ where there is none.
    min: Vec<f64>,
}

impl PriorityTree {
    pub fn new(capacity: usize) -> Result<PriorityTree> {
        let held_blocks = capacity.max(1).div_ceil(BLOCK);
        let blocks = held_blocks.next_power_of_two();
        let mut leaf = alloc::with_capacity(held_blocks * BLOCK, "priority tree")?;
        leaf.resize(held_blocks * BLOCK, 0.0);
        let mut sum = alloc::with_capacity(2 * blocks, "priority tree")?;
        sum.resize(2 * blocks, 0.0);
        let mut min = alloc::with_capacity(2 * blocks, "priority tree")?;
        min.resize(2 * blocks, f64::INFINITY);
        Ok(PriorityTree {
            leaf,
            blocks,
            sum,
            min,
        })
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
        self.leaf[slot]
    }

    /// Sets one leaf (`value` 0 makes it undrawable).
    pub fn set(&mut self, slot: usize, value: f64) {
        self.set_many(&mut [(slot, value)]);
    }

    /// Sets several leaves, then fixes their blocks and the blocks' ancestors level by
    /// level. `updates` is sorted in place (by slot); for a slot given twice the last
    /// value wins.
    pub fn set_many(&mut self, updates: &mut [(usize, f64)]) {
        updates.sort_by_key(|&(s, _)| s);
        // Every block's lines requested before any is summed: their misses overlap.
        for &(slot, _) in updates.iter() {
            self.prefetch_block(slot / BLOCK);
        }
        let mut nodes: Vec<usize> = Vec::with_capacity(updates.len());
        for &(slot, value) in updates.iter() {
            self.leaf[slot] = value;
            let b = slot / BLOCK;
            if nodes.last() != Some(&b) {
                nodes.push(b);
            }
        }
        // A block's sum and min are recomputed from its leaves, never adjusted by a
        // difference, so no rounding error accumulates over millions of updates.
        for b in nodes.iter_mut() {
            let leaves = &self.leaf[*b * BLOCK..(*b + 1) * BLOCK];
            let k = self.blocks + *b;
            self.sum[k] = leaves.iter().sum();
            self.min[k] = leaves
                .iter()
                .filter(|&&p| p > 0.0)
                .fold(f64::INFINITY, |m, &p| m.min(p));
            *b = k >> 1;
        }
        if self.blocks == 1 {
            // The one block is the root: done.
            return;
        }
        nodes.dedup();
        while !nodes.is_empty() {
            for &k in &nodes {
                self.sum[k] = self.sum[2 * k] + self.sum[2 * k + 1];
                self.min[k] = self.min[2 * k].min(self.min[2 * k + 1]);
            }
            if nodes[0] == 1 {
                break;
            }
            // Parents of a sorted list are sorted: dropping repeats keeps each once.
            for k in nodes.iter_mut() {
                *k >>= 1;
            }
            nodes.dedup();
        }
    }

    /// For each target `u` in `[0, total)`, the leaf where the prefix sums reach it, all
    /// targets descending together. Only drawable (> 0) leaves are returned.
    pub fn find_many(&self, targets: &mut [f64], out: &mut [usize]) {
        for o in out.iter_mut() {
            *o = 1;
        }
        while out.first().is_some_and(|&k| k < self.blocks) {
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
            *k -= self.blocks;
            self.prefetch_block(*k);
        }
        for (k, &u) in out.iter_mut().zip(targets.iter()) {
            *k = self.scan(*k, u);
        }
    }

    /// Asks for the cache lines of block `b`'s leaves (32 × 8 bytes: four lines).
    fn prefetch_block(&self, b: usize) {
        for line in (0..BLOCK).step_by(8) {
            crate::prefetch::read(std::ptr::from_ref(&self.leaf[b * BLOCK + line]).cast());
        }
    }

    /// The leaf of block `b` where its prefix sums pass `u`. Rounding can leave `u` at or
    /// past the block's last drawable leaf; that leaf is the answer then.
    fn scan(&self, b: usize, mut u: f64) -> usize {
        let first = b * BLOCK;
        let mut last_drawable = first;
        for (j, &p) in self.leaf[first..first + BLOCK].iter().enumerate() {
            if p > 0.0 {
                if u < p {
                    return first + j;
                }
                last_drawable = first + j;
            }
            u -= p;
        }
        last_drawable
    }

    /// Clears every leaf.
    pub fn clear(&mut self) {
        self.leaf.fill(0.0);
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

    #[test]
    fn finds_across_blocks_equal_a_linear_prefix_scan() {
        // 1000 slots: 32 blocks, the last one partly beyond the capacity; a third of the
        // leaves undrawable, whole blocks among them.
        let mut t = PriorityTree::new(1000).expect("tree");
        let mut rng = crate::rng::Rng::new(5);
        let mut p = vec![0.0f64; 1000];
        let mut ups = Vec::new();
        for (s, v) in p.iter_mut().enumerate() {
            let whole_block_empty = (64..128).contains(&s);
            *v = if whole_block_empty || rng.below(3) == 0 {
                0.0
            } else {
                0.25 + rng.next_f64()
            };
            ups.push((s, *v));
        }
        t.set_many(&mut ups);
        let total: f64 = p.iter().sum();
        assert!((t.total() - total).abs() < 1e-9 * total);
        assert_eq!(
            t.min(),
            p.iter()
                .copied()
                .filter(|&v| v > 0.0)
                .fold(f64::INFINITY, f64::min)
        );
        // Targets away from the boundaries (where rounding could tip a prefix sum).
        let mut prefix = 0.0;
        let (mut us, mut want) = (Vec::new(), Vec::new());
        for (s, &v) in p.iter().enumerate() {
            if v > 0.0 {
                us.push(prefix + v / 2.0);
                want.push(s);
            }
            prefix += v;
        }
        let mut got = vec![0; us.len()];
        t.find_many(&mut us, &mut got);
        assert_eq!(got, want);
        // A target at the very top lands on the last drawable leaf, never an empty one.
        let mut top = [t.total() * (1.0 - 1e-16)];
        let mut at = [0];
        t.find_many(&mut top, &mut at);
        assert!(p[at[0]] > 0.0);
    }
}
