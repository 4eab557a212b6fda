//! Fallible allocation: a size that input chose must give an error, never an abort.

use crate::error::{Error, Result};
use std::alloc::Layout;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// Columns at least this large are aligned to, and advised onto, 2 MiB huge pages.
const HUGE_PAGE: usize = 2 << 20;

/// A zero-filled, fixed-size byte block that frees itself with the layout it was
/// allocated with (a `Vec<u8>` would free with alignment 1).
pub struct ZeroedBytes {
    ptr: NonNull<u8>,
    len: usize,
    layout: Layout,
}

// SAFETY: ZeroedBytes uniquely owns its allocation, like Vec<u8>; shared access only
// hands out `&[u8]`, mutable access needs `&mut self`.
unsafe impl Send for ZeroedBytes {}
// SAFETY: as above: `&ZeroedBytes` gives only read access.
unsafe impl Sync for ZeroedBytes {}

impl ZeroedBytes {
    /// `len` zero bytes, allocated zeroed so that untouched pages stay unbacked (a large
    /// preallocated column costs resident memory only as rows arrive). Columns of 2 MiB
    /// or more are aligned to and advised onto huge pages: rows are read at random by
    /// `sample`, and with 4 KiB pages nearly every such read is also a TLB miss.
    pub fn new(len: usize, what: &str) -> Result<ZeroedBytes> {
        // Alignment 1 keeps this a calloc: pages stay unbacked until written. (A larger
        // alignment makes std's allocator memset the block, backing every page at once.)
        let layout = Layout::from_size_align(len, 1).map_err(|_| too_large(len, what))?;
        if len == 0 {
            return Ok(ZeroedBytes {
                ptr: NonNull::dangling(),
                len,
                layout,
            });
        }
        // SAFETY: `layout` has non-zero size (len > 0 was checked above).
        let raw = unsafe { std::alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(raw).ok_or_else(|| too_large(len, what))?;
        if len >= HUGE_PAGE {
            advise_huge_pages(ptr, len);
        }
        Ok(ZeroedBytes { ptr, len, layout })
    }
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: NonNull<u8>, len: usize) {
    const PAGE: usize = 4096;
    let start = ptr.as_ptr() as usize;
    let aligned = start.next_multiple_of(PAGE);
    let Some(rest) = len.checked_sub(aligned - start) else {
        return;
    };
    // SAFETY: `aligned..aligned + rest` lies inside the live allocation `ptr..ptr + len`
    // that this process owns, and starts on a page boundary as madvise requires.
    // MADV_HUGEPAGE is advisory: it changes how pages are backed, never their contents.
    // Failure (THP disabled) is harmless and ignored.
    unsafe {
        libc::madvise(aligned as *mut libc::c_void, rest, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_ptr: NonNull<u8>, _len: usize) {}

impl Deref for ZeroedBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for `len` initialized (zeroed, then written) bytes for
        // as long as `self` lives, or dangling with len 0, which from_raw_parts allows.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for ZeroedBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`, and `&mut self` makes this the only access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for ZeroedBytes {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: `ptr` was allocated by the global allocator with `self.layout`
            // and is freed once, here.
            unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) }
        }
    }
}

impl std::fmt::Debug for ZeroedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ZeroedBytes({} bytes)", self.len)
    }
}

/// An empty vector with room for exactly `len` items, or an error if memory is short.
pub fn with_capacity<T>(len: usize, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| too_large(len.saturating_mul(std::mem::size_of::<T>()), what))?;
    Ok(v)
}

fn too_large(bytes: usize, what: &str) -> Error {
    Error::invalid_argument(format!(
        "{what}: cannot allocate {bytes} bytes (too large for this machine's memory)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_small_and_huge_blocks_read_zero_and_write_back() {
        for len in [0, 1, 4096, HUGE_PAGE + 7] {
            let mut b = ZeroedBytes::new(len, "test").expect("alloc");
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&x| x == 0));
            if len > 0 {
                b[len - 1] = 9;
                assert_eq!(b[len - 1], 9);
            }
        }
    }

    #[test]
    fn impossible_sizes_are_errors_not_aborts() {
        assert!(ZeroedBytes::new(usize::MAX / 2, "test").is_err());
        assert!(with_capacity::<u64>(usize::MAX / 4, "test").is_err());
    }
}
