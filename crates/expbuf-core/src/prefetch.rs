//! Cache prefetch hints. A sample reads rows at random slots of columns far larger
//! than the caches; asking for every row's lines before copying any lets their misses
//! overlap instead of queueing one after another.

/// Asks the CPU to fetch the cache line holding `p` for reading.
#[inline]
pub fn read(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is a hint: it never faults and changes no memory, whatever
        // the address. SSE is part of x86_64's baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Asks the CPU to fetch the cache line holding `p` for writing.
#[inline]
pub fn write(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_ET0};
        // SAFETY: as `read`.
        unsafe { _mm_prefetch::<_MM_HINT_ET0>(p.cast()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Fetches every line of `bytes` for reading.
#[inline]
pub fn read_all(bytes: &[u8]) {
    for line in bytes.chunks(64) {
        read(line.as_ptr());
    }
}
