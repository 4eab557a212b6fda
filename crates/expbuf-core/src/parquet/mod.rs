//! Parquet datasets: a pool's items written as one row per step, in a layout that
//! pandas, pyarrow, DuckDB and Dask read as it is, and such datasets read back into
//! items. Every rule of the layout lives in this module; the binding translates and
//! the TS layer (`ts/pool/parquet.ts`) streams pool pages through it.
//!
//! The layout (`layout.rs` builds it, for the writer and for the reader's checks):
//!
//! - Files `part-NNNNN.parquet` (snappy), under Hive directories `key=value/` for the
//!   `partitionBy` meta keys, in that order. Keys and values are escaped as Hive
//!   escapes them (`hive.rs`), so a directory name never holds `/` or NUL and always
//!   starts with `key=`: no value can name `.`, `..` or a path outside the dataset.
//!   As in Hive, partition columns live in the directory names, not in the files.
//! - One row per step of an episode, one row per record. Columns: `id` (the item's id),
//!   `kind` (`episode` | `record`), `step` (int32: 0, 1, … within the item), `time`
//!   (float64, ms since the epoch: the episode's start time, the record's timestamp),
//!   one column per meta key that is not a partition key (utf8 for strings, float64
//!   for numbers, null where an item lacks the key), one column per field in its dtype
//!   (a scalar field as that primitive, a shaped field as a fixed-size list of
//!   `prod(shape)` elements, row-major), `terminated` (bool: the episode's, on each of
//!   its rows; null for records) and, when the schema has a typed `state` field,
//!   `final_state` (nullable fixed-size list like `state`: set on an episode's last row
//!   when the episode has a final state, null elsewhere).
//! - The key-value metadata `expbuf` (JSON, [`DatasetMeta`]): format and version, each
//!   field's dtype and shape (a reader restores shaped fields from it), the meta
//!   columns and their types (partition keys included), the partition keys.
//!
//! Why per-row `terminated`/`final_state` instead of a sidecar file: every file stays
//! whole on its own (a partition directory copied elsewhere still imports), readers
//! see one table (`df[df.final_state.notna()]`, `WHERE final_state IS NOT NULL`), and
//! the cost is a run-length-encoded bit per row plus a definition level.

mod hive;
mod layout;
mod read;
mod write;

pub use hive::{escape, unescape};
pub use layout::{DatasetMeta, ItemInfo, ItemKind, MetaKind, MetaValue};
pub use read::{ImportPage, ImportTotals, Importer};
pub use write::{partition_keys, ExportTotals, Exporter, Page};
