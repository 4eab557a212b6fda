//! The documented limits on what an argument can make expbuf allocate.
//!
//! Linux overcommits memory: a 16 GB `malloc` succeeds and the process is killed when
//! the pages are touched, so a failed allocation is not how a size is found too big.
//! Every size an argument chooses is checked here first:
//!
//! - a count of rows (`maxSize`, `maxQueueSize`, a batch size, a page size) is an
//!   integer in `[1, MAX_ROWS]`;
//! - a buffer's or queue's preallocated columns fit in the machine's memory
//!   ([`memory_bytes`]: physical memory, or the cgroup's limit when lower);
//! - what one call returns (`sample`, `sampleSequences`, `sampleEpisodes`, `getData`,
//!   a pool page) is at most [`call_bytes`]: a quarter of that memory, and never more
//!   than 4 GiB (the largest JS ArrayBuffer Node 20 makes).

use crate::error::{Error, Result};
use crate::input::{number, whole_in};
use std::sync::OnceLock;

/// Largest row count (`maxSize`, batch sizes): row indices stay exact in an Int32Array.
pub const MAX_ROWS: usize = (1 << 31) - 1;

/// The most bytes one call may return (also the largest JS ArrayBuffer here).
pub const MAX_CALL_BYTES_CAP: u64 = 4 << 30;

/// Largest distinct `env` ids a replay buffer tracks at once.
pub const MAX_ENVS: usize = 1 << 20;

/// Checks a row count given as a JS number: an integer in `[1, MAX_ROWS]`.
pub fn checked_rows(value: f64, name: &str) -> Result<usize> {
    if !whole_in(value, 1.0..=MAX_ROWS as f64) {
        return Err(Error::invalid_argument(format!(
            "{name}: {} is not an integer in [1, {MAX_ROWS}]",
            number(value)
        )));
    }
    Ok(value as usize)
}

/// The memory this process may use: physical memory, lowered to the cgroup's limit.
pub fn memory_bytes() -> u64 {
    static MEMORY: OnceLock<u64> = OnceLock::new();
    *MEMORY.get_or_init(|| {
        let physical = physical_memory();
        cgroup_limit().map_or(physical, |c| c.min(physical))
    })
}

/// The most bytes one call may return.
pub fn call_bytes() -> u64 {
    (memory_bytes() / 4).min(MAX_CALL_BYTES_CAP)
}

/// Checks that `rows × row_bytes` (plus `extra`) can be preallocated for `name`.
pub fn check_capacity(rows: usize, row_bytes: usize, extra: u64, name: &str) -> Result<()> {
    let bytes = (rows as u128) * (row_bytes as u128) + extra as u128;
    let limit = memory_bytes();
    if bytes > limit as u128 {
        return Err(Error::invalid_argument(format!(
            "{name}: {rows} rows of {row_bytes} bytes need {}, more than this machine's memory ({})",
            bytes_text(bytes),
            bytes_text(limit as u128)
        )));
    }
    Ok(())
}

/// Checks that a call returning `bytes` for `name` stays within [`call_bytes`].
pub fn check_output(bytes: u128, name: &str) -> Result<()> {
    let limit = call_bytes();
    if bytes > limit as u128 {
        return Err(Error::invalid_argument(format!(
            "{name}: the result would take {}, more than one call may return ({}; a quarter of this machine's memory, at most 4 GiB)",
            bytes_text(bytes),
            bytes_text(limit as u128)
        )));
    }
    Ok(())
}

/// The byte lengths of a call's output columns, checked together against
/// [`call_bytes`] (computed in u128, so no size an argument sets can overflow).
pub fn output_sizes(sizes: &[u128], name: &str) -> Result<Vec<usize>> {
    check_output(sizes.iter().sum(), name)?;
    // Each is at most the sum, at most 4 GiB: it fits.
    Ok(sizes.iter().map(|&s| s as usize).collect())
}

/// `bytes` in the largest binary unit that keeps it above 1.
pub fn bytes_text(bytes: u128) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(unix)]
fn physical_memory() -> u64 {
    // SAFETY: sysconf only reads system configuration; it takes no pointers.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages > 0 && size > 0 {
        (pages as u64).saturating_mul(size as u64)
    } else {
        FALLBACK_MEMORY
    }
}

#[cfg(not(unix))]
fn physical_memory() -> u64 {
    FALLBACK_MEMORY
}

/// Where the platform cannot say (Windows, wasm), the limit assumes this much memory.
#[cfg(not(target_family = "wasm"))]
const FALLBACK_MEMORY: u64 = 16 << 30;
#[cfg(target_family = "wasm")]
const FALLBACK_MEMORY: u64 = 4 << 30;

/// A cgroup v2 memory limit (containers), when one is set.
fn cgroup_limit() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let text = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok()?;
    text.trim().parse::<u64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_must_be_integers_in_range_and_messages_print_js_numbers() {
        assert_eq!(checked_rows(5.0, "n"), Ok(5));
        for bad in [
            0.0,
            -1.0,
            2.5,
            f64::NAN,
            f64::INFINITY,
            MAX_ROWS as f64 + 1.0,
        ] {
            assert!(checked_rows(bad, "maxSize").is_err(), "{bad}");
        }
        let e = checked_rows(f64::INFINITY, "maxSize").expect_err("inf");
        assert_eq!(
            e.message,
            "maxSize: Infinity is not an integer in [1, 2147483647]"
        );
    }

    #[test]
    fn output_and_capacity_limits_refuse_before_allocating() {
        assert!(memory_bytes() >= 1 << 20);
        assert!(call_bytes() <= MAX_CALL_BYTES_CAP);
        assert!(check_output(1 << 20, "x").is_ok());
        let e = check_output(1 << 40, "batchSize").expect_err("too big");
        assert!(e
            .message
            .starts_with("batchSize: the result would take 1.0 TiB"));
        assert!(check_capacity(MAX_ROWS, 1 << 24, 0, "maxSize").is_err());
        assert_eq!(bytes_text(512), "512 bytes");
        assert_eq!(bytes_text(3 << 30), "3.0 GiB");
    }
}
