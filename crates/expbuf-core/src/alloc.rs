//! Fallible allocation: a size that input chose must give an error, never an abort.

use crate::error::{Error, Result};

/// A zero-filled byte vector of `len` bytes, allocated with `calloc`-like zeroing so
/// that untouched pages stay unbacked (a large preallocated column costs resident
/// memory only as rows arrive).
pub fn zeroed_bytes(len: usize, what: &str) -> Result<Vec<u8>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<u8>(len).map_err(|_| too_large(len, what))?;
    // SAFETY: `layout` has non-zero size (len > 0 was checked above), as `alloc_zeroed`
    // requires.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return Err(too_large(len, what));
    }
    // SAFETY: `ptr` was just allocated by the global allocator with the layout of
    // `[u8; len]` (align 1, size len), so capacity `len` matches the allocation; all
    // `len` bytes are initialized (zeroed); ownership passes to the Vec, which frees it
    // with the same layout.
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
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
