//! A buffer's state: its rows (oldest first), RNG, counters and settings.
//!
//! Save streams each column from the buffer's memory into its file (no second copy of
//! the data). Load reads every file into a new buffer, checking sizes, headers and
//! checksums against the manifest; the caller swaps the new buffer in only when all of
//! it checked out.

use super::atomic::StagingDir;
use super::columns_io::{
    corrupt, manifest_schema, read_columns, write_columns, write_file, RowSink, RowSource,
};
use super::manifest::{Manifest, FORMAT, MANIFEST, VERSION};
use super::read_manifest;
use crate::buffer::Buffer;
use crate::error::{Error, ErrorCode, Result};
use crate::policy::Policy;
use crate::rng::Rng;
use crate::schema::Schema;
use std::path::Path;
use std::sync::Arc;

impl RowSource for Buffer {
    fn rows(&self) -> usize {
        self.len()
    }

    fn typed(&self, i: usize) -> [&[u8]; 2] {
        self.typed_segments(i)
    }

    fn any_values(&self, a: usize) -> Box<dyn Iterator<Item = &[u8]> + '_> {
        Box::new(Buffer::any_values(self, a))
    }
}

impl RowSink for Buffer {
    fn typed_mut(&mut self, i: usize, rows: usize) -> Result<&mut [u8]> {
        Ok(self.typed_rows_mut(i, rows))
    }

    fn push_any(&mut self, a: usize, value: Vec<u8>) -> Result<()> {
        Buffer::push_any(self, a, value);
        Ok(())
    }
}

/// Writes `buffer`'s state into the existing, empty directory `dir` (not atomic: use
/// `save_buffer`, or a staged directory that is committed after).
pub fn write_buffer(buffer: &Buffer, dir: &Path) -> Result<()> {
    let written = write_columns(dir, buffer.schema(), buffer)?;
    let replace_probability = buffer.policy().replace_probability();
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: VERSION,
        kind: buffer.policy().kind().to_owned(),
        fields: written.fields,
        rows: buffer.len(),
        max_size: Some(buffer.max_size()),
        head: Some(buffer.head()),
        total_added: Some(buffer.total_added()),
        replace_probability,
        rng: Some(buffer.rng().state()),
        any_file: written.any_file,
        timestamps_file: None,
        log_file: None,
        log_rows: None,
        cursor: None,
        replay: None,
        files: written.files,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::invalid_argument(format!("manifest: {e}")))?;
    write_file(dir, MANIFEST, &[&json])?;
    Ok(())
}

/// Saves `buffer` into directory `dir`, replacing what was there atomically.
pub fn save_buffer(buffer: &Buffer, dir: &Path) -> Result<()> {
    let staging = StagingDir::new(dir)?;
    write_buffer(buffer, &staging.path)?;
    staging.commit()
}

/// What the loading buffer expects; the saved state must match it.
pub struct Target<'a> {
    pub schema: &'a Schema,
    pub kind: &'a str,
    pub max_size: usize,
}

/// Loads the state in `dir` as a new buffer for `target`. When more rows were saved
/// than `target.max_size` holds, the newest rows (the last in storage order) are kept,
/// as pamiq-core truncates on load. Nothing is changed on error: the caller swaps the
/// result in.
pub fn load_buffer(dir: &Path, target: &Target<'_>) -> Result<Buffer> {
    let m = read_manifest(dir)?;
    let schema = manifest_schema(&m)?;
    target
        .schema
        .expect_same(&schema, "the state", "the buffer")?;
    if m.kind != target.kind {
        return Err(Error::new(
            ErrorCode::SchemaMismatch,
            format!(
                "kind: the state is a {} buffer, not {}",
                m.kind, target.kind
            ),
        ));
    }
    let policy = Policy::from_saved(&m.kind, m.replace_probability)
        .map_err(|e| corrupt(MANIFEST, e.message))?;
    let rng = m
        .rng
        .and_then(Rng::from_state)
        .ok_or_else(|| corrupt(MANIFEST, "rng: missing or zero"))?;
    let total = m
        .total_added
        .ok_or_else(|| corrupt(MANIFEST, "totalAdded: missing"))?;
    let keep = m.rows.min(target.max_size);
    let mut buffer = Buffer::restore(
        Arc::new(schema.clone()),
        policy,
        target.max_size,
        rng,
        total,
        keep,
    )?;
    read_columns(dir, &m, &schema, m.rows - keep, &mut buffer)?;
    Ok(buffer)
}
