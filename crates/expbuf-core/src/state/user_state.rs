//! A data user's own state (besides its buffer): the rows still queued, with their
//! collect times, the log of collect times of the rows it moved into the buffer, and
//! the cursor of the pool it follows.

use super::columns_io::{
    corrupt, find, manifest_schema, read_columns, read_f64, write_columns, write_f64, write_file,
    RowSink, RowSource,
};
use super::manifest::{Manifest, FORMAT, MANIFEST, VERSION};
use super::read_manifest;
use crate::alloc;
use crate::error::{Error, Result};
use crate::rows::Columns;
use crate::schema::Schema;
use crate::user::SavedUser;
use std::path::Path;

const TIMESTAMPS: &str = "queued_timestamps.npy";
const LOG: &str = "log.npy";
const KIND: &str = "user";

struct Pending<'a> {
    columns: &'a Columns,
}

impl RowSource for Pending<'_> {
    fn rows(&self) -> usize {
        self.columns.rows
    }

    fn typed(&self, i: usize) -> [&[u8]; 2] {
        [&self.columns.typed[i], &[]]
    }

    fn any_values(&self, a: usize) -> Box<dyn Iterator<Item = &[u8]> + '_> {
        let col = self.columns.any[a].as_ref();
        Box::new((0..self.columns.rows).map(move |r| col.value(r)))
    }
}

/// Loaded rows land in plain columns of `schema`, allocated only once their files'
/// sizes were checked.
struct Loaded<'a> {
    schema: &'a Schema,
    columns: Columns,
}

impl RowSink for Loaded<'_> {
    fn typed_mut(&mut self, i: usize, rows: usize) -> Result<&mut [u8]> {
        let row_bytes = self
            .schema
            .typed_fields()
            .nth(i)
            .map_or(0, |f| f.row_bytes());
        self.columns.typed[i] = alloc::zeroed_vec(rows * row_bytes, "queued rows")?;
        Ok(&mut self.columns.typed[i][..])
    }

    fn push_any(&mut self, a: usize, value: Vec<u8>) -> Result<()> {
        self.columns.any[a].push(&value, "any")
    }
}

/// Writes a user's saved part into the existing, empty `dir`.
pub fn write_user(dir: &Path, schema: &Schema, saved: &SavedUser) -> Result<()> {
    let queued = &saved.queued;
    let written = write_columns(dir, schema, &Pending { columns: queued })?;
    let mut files = written.files;
    files.push(write_f64(dir, TIMESTAMPS, &queued.timestamps)?);
    files.push(write_f64(dir, LOG, &saved.log)?);
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: VERSION,
        kind: KIND.to_owned(),
        fields: written.fields,
        rows: queued.rows,
        max_size: None,
        head: None,
        total_added: None,
        replace_probability: None,
        rng: None,
        any_file: written.any_file,
        timestamps_file: Some(TIMESTAMPS.to_owned()),
        log_file: Some(LOG.to_owned()),
        log_rows: Some(saved.log.len()),
        cursor: Some(saved.cursor),
        replay: None,
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::invalid_argument(format!("manifest: {e}")))?;
    write_file(dir, MANIFEST, &[&json])?;
    Ok(())
}

/// Reads and checks a user state for `schema`.
pub fn read_user(dir: &Path, schema: &Schema) -> Result<SavedUser> {
    let m = read_manifest(dir)?;
    if m.kind != KIND {
        return Err(corrupt(
            MANIFEST,
            format!("kind '{}' is not a user state", m.kind),
        ));
    }
    schema.expect_same(&manifest_schema(&m)?, "the state", "the user")?;
    let mut sink = Loaded {
        schema,
        columns: Columns::with_capacity(schema, 0)?,
    };
    read_columns(dir, &m, schema, 0, &mut sink)?;
    let mut queued = sink.columns;
    queued.rows = m.rows;
    let ts_file = m
        .timestamps_file
        .as_deref()
        .ok_or_else(|| corrupt(MANIFEST, "timestampsFile: missing"))?;
    queued.timestamps = read_f64(dir, find(&m, ts_file)?, m.rows)?;
    let log_file = m
        .log_file
        .as_deref()
        .ok_or_else(|| corrupt(MANIFEST, "logFile: missing"))?;
    let log_rows = m
        .log_rows
        .ok_or_else(|| corrupt(MANIFEST, "logRows: missing"))?;
    if log_rows > crate::limits::MAX_ROWS {
        return Err(corrupt(MANIFEST, "logRows: out of range"));
    }
    let log = read_f64(dir, find(&m, log_file)?, log_rows)?;
    Ok(SavedUser {
        queued,
        log,
        cursor: m.cursor.unwrap_or(0),
    })
}
