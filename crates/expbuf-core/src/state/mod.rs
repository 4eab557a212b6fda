//! Saved state: a directory with `manifest.json` (format version, kind, schema, sizes,
//! RNG, counters, a checksum per file), one numpy `.npy` file per typed column (rows
//! oldest first) and `any.bin` for serialized `any` values. Written crash-safely.

mod atomic;
mod buffer_state;
mod columns_io;
pub mod manifest;
pub mod npy;
mod replay_state;
mod user_state;

pub use atomic::{
    commit_staged, commit_staged_new, create_dir_all, discard_staged, exists, process_alive, stage,
    sync_dir, sync_file, write_file_atomic,
};
pub use buffer_state::{load_buffer, save_buffer, write_buffer, Target};
pub use replay_state::{load_replay, save_replay, write_replay};
pub use user_state::{read_user, write_user};

use crate::error::Result;
use atomic::TMP_MARK;
use columns_io::corrupt;
use manifest::{Manifest, FORMAT, MANIFEST, VERSION};
use std::path::Path;

/// Reads and checks `dir/manifest.json`.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    if !dir.is_dir() {
        return Err(corrupt(
            &dir.display().to_string(),
            "no such state directory",
        ));
    }
    if dir
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains(TMP_MARK))
    {
        return Err(corrupt(
            &dir.display().to_string(),
            "a half-written temporary directory, not a saved state",
        ));
    }
    let text = std::fs::read(dir.join(MANIFEST)).map_err(|_| corrupt(MANIFEST, "missing"))?;
    let m: Manifest = serde_json::from_slice(&text)
        .map_err(|e| corrupt(MANIFEST, format!("not a valid manifest ({e})")))?;
    if m.format != FORMAT || m.version != VERSION {
        return Err(corrupt(
            MANIFEST,
            format!(
                "format {} version {} (this build reads {FORMAT} version {VERSION})",
                m.format, m.version
            ),
        ));
    }
    if m.rows > crate::limits::MAX_ROWS {
        return Err(corrupt(MANIFEST, format!("rows {} out of range", m.rows)));
    }
    Ok(m)
}
