//! Saved state: a directory with `manifest.json` (format version, kind, schema, sizes,
//! RNG, counters, a checksum per file), one numpy `.npy` file per typed column (rows
//! oldest first) and `any.bin` for serialized `any` values. Written crash-safely.

mod atomic;
mod buffer_state;
pub mod manifest;
pub mod npy;

pub use buffer_state::{load_buffer, read_manifest, save_buffer, Target};
