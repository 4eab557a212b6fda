//! `manifest.json`: what a state directory holds, written last.

use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "expbuf-state";
pub const VERSION: u32 = 1;
pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldEntry {
    pub name: String,
    /// Absent for an `any` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
    #[serde(default)]
    pub shape: Vec<usize>,
    /// The `.npy` file of a typed field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub crc32: u32,
}

/// A buffer's (or a user's) saved state. Rows are stored in logical order, oldest
/// first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// A buffer's kind ("sequential", "random-replacement", "reservoir", "replay"), or
    /// "user" for a data user's own state (queued rows, the collect-time log, cursor).
    pub kind: String,
    pub fields: Vec<FieldEntry>,
    pub rows: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<usize>,
    /// Ring position when saved (informational: rows are saved oldest first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_added: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_probability: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rng: Option<[u32; 4]>,
    /// The file of serialized `any` values, when there are `any` fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_file: Option<String>,
    /// User states: the collect times of the queued rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamps_file: Option<String>,
    /// User states: the collect-time log and its length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_rows: Option<usize>,
    /// User states: the storage sequence of the last pool item pulled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<u64>,
    /// Replay buffers: their own settings and counters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<serde_json::Value>,
    pub files: Vec<FileEntry>,
}
