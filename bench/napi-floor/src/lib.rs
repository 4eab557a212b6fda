//! The benchmark's floors. The call floor of napi-rs v3: a free function and a class
//! method that do nothing but what napi-rs does around every call (argument and
//! `this` unwrapping). And memory backed as expbuf-core backs its columns (advised
//! onto 2 MiB transparent huge pages), so that the gather floor of `sample()` is
//! measured over memory whose page walks cost what expbuf's do.

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

const HUGE_PAGE: usize = 2 << 20;

/// `bytes` bytes advised onto huge pages, every page backed, handed to JS without a copy.
#[napi]
pub fn huge_page_memory(bytes: u32) -> Buffer {
    // Zeroed by calloc: no page is backed before the advice.
    let mut v = vec![0u8; bytes as usize];
    let start = v.as_mut_ptr() as usize;
    let from = start.next_multiple_of(HUGE_PAGE);
    let to = (start + v.len()) & !(HUGE_PAGE - 1);
    if to > from {
        // SAFETY: [from, to) lies inside `v`'s allocation, which this process owns, and
        // starts on a page boundary; MADV_HUGEPAGE changes how pages are backed, never
        // their contents.
        unsafe { libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE) };
    }
    // Back every page now, as a filled buffer's are.
    for b in v.iter_mut().step_by(4096) {
        *b = 1;
    }
    v.into()
}

/// A `#[napi]` free function.
#[napi]
pub fn noop() {}

/// A `#[napi]` class, as the binding's classes were before it moved to raw Node-API.
#[napi]
pub struct Floor {
    calls: u32,
}

#[napi]
impl Floor {
    #[napi(constructor)]
    pub fn new() -> Self {
        Floor { calls: 0 }
    }

    /// A method that touches its object, so `this` is unwrapped as in any real method.
    #[napi]
    pub fn touch(&mut self) {
        self.calls = self.calls.wrapping_add(1);
    }
}

/// The gather floor in native code: draws `n` rows below `rows` (a xorshift; `seed`
/// varies the draw) of the columns in `mem` (obs: `rows` × `obs_bytes`, then a 4-byte
/// column, then another, as `hugePageMemory` is laid out by the bench) and loads one
/// byte of every 64-byte line of each drawn row, nothing else. Returns what it read,
/// summed, so that no load is left out.
#[napi]
pub fn gather_floor(mem: Buffer, rows: u32, obs_bytes: u32, n: u32, seed: u32) -> u32 {
    let m: &[u8] = &mem;
    let (rows, obs) = (rows as usize, obs_bytes as usize);
    let (action, reward) = (rows * obs, rows * (obs + 4));
    let mut x = u64::from(seed) | 1;
    let mut sum = 0u32;
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let r = ((x >> 32) as usize * rows) >> 32;
        let b = r * obs;
        // A row of `obs` bytes spans its lines from its first to its last byte.
        let mut off = 0;
        while off < obs {
            sum = sum.wrapping_add(u32::from(m[b + off]));
            off += 64;
        }
        sum = sum.wrapping_add(u32::from(m[b + obs - 1]));
        sum = sum.wrapping_add(u32::from(m[action + r * 4]) + u32::from(m[reward + r * 4]));
    }
    sum
}
