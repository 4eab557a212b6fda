//! Fallible allocation: a size that input chose must give an error, never an abort.
//!
//! Sizes are first checked against the documented limits (`limits.rs`); these
//! allocators then turn an allocation failure (e.g. under `ulimit -v`) into an error.

use crate::error::{Error, Result};
use std::alloc::Layout;
use std::ops::{Deref, DerefMut, Range};
use std::ptr::NonNull;

/// Columns at least this large are advised onto 2 MiB huge pages.
const HUGE_PAGE: usize = 2 << 20;

/// Zero-filled memory that is never borrowed whole: JS may write parts of it through a
/// view while Rust reads other parts, so only ranges are lent out, by an `unsafe`
/// method whose caller states that no one writes the range meanwhile.
pub struct SharedBytes {
    ptr: NonNull<u8>,
    len: usize,
    layout: Layout,
}

// SAFETY: SharedBytes owns its allocation; every access goes through `range`/`range_mut`,
// whose callers guarantee that no two parties touch the same bytes at once.
unsafe impl Send for SharedBytes {}
// SAFETY: as above.
unsafe impl Sync for SharedBytes {}

impl SharedBytes {
    /// `len` zero bytes, 8-byte aligned (so Float64Array views at 8-byte offsets work).
    /// Allocated zeroed (a calloc: 8 is within every platform's minimum malloc
    /// alignment; a larger one makes std's allocator memset the block, backing every
    /// page at once), so untouched pages stay unbacked.
    pub fn new(len: usize, what: &str) -> Result<SharedBytes> {
        let layout = Layout::from_size_align(len.max(1), 8).map_err(|_| too_large(len, what))?;
        // SAFETY: `layout` has non-zero size (at least 1).
        let raw = unsafe { std::alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(raw).ok_or_else(|| too_large(len, what))?;
        Ok(SharedBytes { ptr, len, layout })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The start of the memory, for a JS view over all of it.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Bytes `r` (within `len`, checked).
    ///
    /// # Safety
    /// No one may write these bytes while the returned slice lives.
    pub unsafe fn range(&self, r: Range<usize>) -> &[u8] {
        assert!(r.start <= r.end && r.end <= self.len, "range out of bounds");
        // SAFETY: in bounds (asserted) of a live allocation; the caller guarantees no
        // concurrent writer.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(r.start), r.end - r.start) }
    }

    /// Bytes `r` (within `len`, checked), to write.
    ///
    /// # Safety
    /// No one else may read or write these bytes while the returned slice lives.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn range_mut(&self, r: Range<usize>) -> &mut [u8] {
        assert!(r.start <= r.end && r.end <= self.len, "range out of bounds");
        // SAFETY: in bounds (asserted); the caller guarantees exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(r.start), r.end - r.start) }
    }
}

impl Drop for SharedBytes {
    fn drop(&mut self) {
        // SAFETY: allocated by the global allocator with `self.layout`, freed once here.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

impl std::fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedBytes({} bytes)", self.len)
    }
}

/// A zero-filled, fixed-size byte block owned by one party (a buffer's column).
pub struct ZeroedBytes(SharedBytes);

impl ZeroedBytes {
    /// `len` zero bytes. Allocated zeroed so that untouched pages stay unbacked: a large
    /// preallocated column costs resident memory only as rows arrive. Columns of 2 MiB
    /// or more are advised onto transparent huge pages where the kernel has them:
    /// `sample` reads rows at random, and on 4 KiB pages nearly every such read is also
    /// a TLB miss. (The advice covers the page-aligned part of the block; the block
    /// itself is only 8-byte aligned, since a larger alignment makes the allocator
    /// memset the block, as `SharedBytes::new` explains.)
    pub fn new(len: usize, what: &str) -> Result<ZeroedBytes> {
        let b = SharedBytes::new(len, what)?;
        if len >= HUGE_PAGE {
            advise_huge_pages(b.ptr, len);
        }
        Ok(ZeroedBytes(b))
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
        // SAFETY: the block has one owner, and `&self` excludes `&mut self`.
        unsafe { self.0.range(0..self.0.len) }
    }
}

impl DerefMut for ZeroedBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: `&mut self` makes this the only access to the block.
        unsafe { self.0.range_mut(0..self.0.len) }
    }
}

impl std::fmt::Debug for ZeroedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ZeroedBytes({} bytes)", self.0.len)
    }
}

/// An empty vector with room for exactly `len` items, or an error if memory is short.
pub fn with_capacity<T>(len: usize, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| too_large(len.saturating_mul(std::mem::size_of::<T>()), what))?;
    Ok(v)
}

/// `len` zero bytes in a vector, or an error if memory is short.
pub fn zeroed_vec(len: usize, what: &str) -> Result<Vec<u8>> {
    let mut v = with_capacity(len, what)?;
    v.resize(len, 0);
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
        let s = SharedBytes::new(100, "test").expect("alloc");
        assert_eq!(s.as_ptr() as usize % 8, 0);
    }

    #[test]
    fn impossible_sizes_are_errors_not_aborts() {
        assert!(ZeroedBytes::new(usize::MAX / 2, "test").is_err());
        assert!(with_capacity::<u64>(usize::MAX / 4, "test").is_err());
        assert!(zeroed_vec(usize::MAX / 2, "test").is_err());
    }
}
