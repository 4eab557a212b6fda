//! Saving a buffer to a state directory and loading it back.
//!
//! Save streams each column from the buffer's memory into its file (no second copy of
//! the data), computing the checksum on the way. Load reads every file into a new
//! buffer, checking sizes, headers and checksums against the manifest; the caller
//! swaps the new buffer in only when all of it checked out.

use super::atomic::{io_error, sync_file, StagingDir, TMP_MARK};
use super::manifest::{FieldEntry, FileEntry, Manifest, FORMAT, MANIFEST, VERSION};
use super::npy;
use crate::buffer::{Buffer, MAX_ROWS};
use crate::dtype::Dtype;
use crate::error::{Error, ErrorCode, Result};
use crate::policy::Policy;
use crate::rng::Rng;
use crate::schema::{Field, FieldKind, Schema};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

const ANY_FILE: &str = "any.bin";

fn corrupt(file: &str, why: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::CorruptState, format!("{file}: {why}"))
}

fn mismatch(why: impl Into<String>) -> Error {
    Error::new(ErrorCode::SchemaMismatch, why.into())
}

/// A file name for field `i`: its index plus the name's safe characters.
fn file_name(i: usize, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    format!("{i:03}_{safe}.npy")
}

/// Writes `parts` to `file` in `dir`, returning its manifest entry.
fn write_file(dir: &StagingDir, name: &str, parts: &[&[u8]]) -> Result<FileEntry> {
    let (mut f, path) = dir.create(name)?;
    let mut crc = crc32fast::Hasher::new();
    let mut bytes = 0u64;
    for p in parts {
        f.write_all(p).map_err(|e| io_error(&path, e))?;
        crc.update(p);
        bytes += p.len() as u64;
    }
    sync_file(&mut f, &path)?;
    Ok(FileEntry {
        name: name.to_owned(),
        bytes,
        crc32: crc.finalize(),
    })
}

/// Saves `buffer` into directory `dir`, replacing what was there atomically.
pub fn save_buffer(buffer: &Buffer, dir: &Path) -> Result<()> {
    let staging = StagingDir::new(dir)?;
    let schema = buffer.schema().clone();
    let len = buffer.len();
    let mut files = Vec::new();
    let mut fields = Vec::new();
    let mut typed_i = 0;
    for (i, f) in schema.fields().iter().enumerate() {
        match &f.kind {
            FieldKind::Typed { dtype, shape, .. } => {
                let name = file_name(i, &f.name);
                let mut dims = vec![len];
                dims.extend_from_slice(shape);
                let header = npy::header(*dtype, &dims);
                let [a, b] = buffer.typed_segments(typed_i);
                files.push(write_file(&staging, &name, &[&header, a, b])?);
                fields.push(FieldEntry {
                    name: f.name.clone(),
                    dtype: Some(dtype.name().to_owned()),
                    shape: shape.clone(),
                    file: Some(name),
                });
                typed_i += 1;
            }
            FieldKind::Any => fields.push(FieldEntry {
                name: f.name.clone(),
                dtype: None,
                shape: Vec::new(),
                file: None,
            }),
        }
    }
    let any_file = if schema.any_count() > 0 {
        // Per any field: a u64 count, then per value a u64 length and its bytes.
        let mut blob = Vec::new();
        for a in 0..schema.any_count() {
            blob.extend_from_slice(&(len as u64).to_le_bytes());
            for v in buffer.any_values(a) {
                blob.extend_from_slice(&(v.len() as u64).to_le_bytes());
                blob.extend_from_slice(v);
            }
        }
        files.push(write_file(&staging, ANY_FILE, &[&blob])?);
        Some(ANY_FILE.to_owned())
    } else {
        None
    };
    let replace_probability = match buffer.policy() {
        Policy::RandomReplacement {
            replace_probability,
        } => Some(replace_probability),
        _ => None,
    };
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: VERSION,
        kind: buffer.policy().kind().to_owned(),
        fields,
        rows: len,
        max_size: Some(buffer.max_size()),
        head: Some(buffer.head()),
        total_added: Some(buffer.total_added()),
        replace_probability,
        rng: Some(buffer.rng().state()),
        any_file,
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::invalid_argument(format!("manifest: {e}")))?;
    write_file(&staging, MANIFEST, &[&json])?;
    staging.commit()
}

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
    let path = dir.join(MANIFEST);
    let text = fs::read(&path).map_err(|_| corrupt(MANIFEST, "missing"))?;
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
    if m.rows > MAX_ROWS {
        return Err(corrupt(MANIFEST, format!("rows {} out of range", m.rows)));
    }
    Ok(m)
}

/// The schema a manifest declares.
fn manifest_schema(m: &Manifest) -> Result<Schema> {
    let fields = m
        .fields
        .iter()
        .map(|f| match &f.dtype {
            None => Ok(Field::any(&f.name)),
            Some(d) => Field::typed(&f.name, Dtype::parse(d, &f.name)?, &f.shape),
        })
        .collect::<Result<Vec<_>>>()
        .map_err(|e| corrupt(MANIFEST, e.message))?;
    Schema::new(fields).map_err(|e| corrupt(MANIFEST, e.message))
}

/// Reads file `entry` whole, checking its size and checksum.
fn read_checked(dir: &Path, entry: &FileEntry) -> Result<Vec<u8>> {
    let path = dir.join(&entry.name);
    let mut f = File::open(&path).map_err(|_| corrupt(&entry.name, "missing"))?;
    let len = f.metadata().map_err(|e| io_error(&path, e))?.len();
    if len != entry.bytes {
        return Err(corrupt(
            &entry.name,
            format!("{len} bytes, the manifest says {}", entry.bytes),
        ));
    }
    let mut bytes = crate::alloc::with_capacity(len as usize, &entry.name)?;
    f.read_to_end(&mut bytes).map_err(|e| io_error(&path, e))?;
    if crc32fast::hash(&bytes) != entry.crc32 {
        return Err(corrupt(
            &entry.name,
            "checksum mismatch (the file changed after it was saved)",
        ));
    }
    Ok(bytes)
}

/// Opens file `entry` and checks its size against the manifest.
fn open_checked(dir: &Path, entry: &FileEntry) -> Result<File> {
    let path = dir.join(&entry.name);
    let f = File::open(&path).map_err(|_| corrupt(&entry.name, "missing"))?;
    let len = f.metadata().map_err(|e| io_error(&path, e))?.len();
    if len != entry.bytes {
        return Err(corrupt(
            &entry.name,
            format!("{len} bytes, the manifest says {}", entry.bytes),
        ));
    }
    Ok(f)
}

/// Reads a `.npy` column straight into `dst` (the new buffer's memory), hashing as it
/// goes: the header must be exactly what `dtype` and `dims` give, the first `skip`
/// data bytes are read past (truncation), and the checksum must match at the end.
fn read_column(
    dir: &Path,
    entry: &FileEntry,
    dtype: Dtype,
    dims: &[usize],
    skip: usize,
    dst: &mut [u8],
) -> Result<()> {
    const CHUNK: usize = 8 << 20;
    let name = &entry.name;
    let mut f = open_checked(dir, entry)?;
    let header_len = npy::header(dtype, dims).len();
    let data_len = dims.iter().product::<usize>() * dtype.size();
    if entry.bytes != (header_len + data_len) as u64 {
        return Err(corrupt(
            name,
            format!(
                "{} bytes, {} rows of {:?} {} need {}",
                entry.bytes,
                dims[0],
                &dims[1..],
                dtype.name(),
                header_len + data_len
            ),
        ));
    }
    let io = |e: std::io::Error| corrupt(name, e);
    let mut crc = crc32fast::Hasher::new();
    let mut header = vec![0u8; header_len];
    f.read_exact(&mut header).map_err(io)?;
    npy::check_header(&header, dtype, dims).map_err(|why| corrupt(name, why))?;
    crc.update(&header);
    let mut scratch = vec![0u8; skip.min(CHUNK)];
    let mut left = skip;
    while left > 0 {
        let n = left.min(CHUNK);
        f.read_exact(&mut scratch[..n]).map_err(io)?;
        crc.update(&scratch[..n]);
        left -= n;
    }
    for part in dst.chunks_mut(CHUNK) {
        f.read_exact(part).map_err(io)?;
        crc.update(part);
    }
    if crc.finalize() != entry.crc32 {
        return Err(corrupt(
            name,
            "checksum mismatch (the file changed after it was saved)",
        ));
    }
    Ok(())
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
    if &schema != target.schema {
        return Err(mismatch(format!(
            "fields: the state has [{}], the buffer [{}]",
            describe(&schema),
            describe(target.schema)
        )));
    }
    if m.kind != target.kind {
        return Err(mismatch(format!(
            "kind: the state is a {} buffer, not {}",
            m.kind, target.kind
        )));
    }
    let policy = match m.kind.as_str() {
        "sequential" => Policy::Sequential,
        "reservoir" => Policy::Reservoir,
        "random-replacement" => {
            Policy::random_replacement(m.replace_probability.unwrap_or(f64::NAN))
                .map_err(|e| corrupt(MANIFEST, e.message))?
        }
        other => return Err(corrupt(MANIFEST, format!("unknown kind '{other}'"))),
    };
    let rng = m
        .rng
        .and_then(Rng::from_state)
        .ok_or_else(|| corrupt(MANIFEST, "rng: missing or zero"))?;
    let total = m
        .total_added
        .ok_or_else(|| corrupt(MANIFEST, "totalAdded: missing"))?;
    let keep = m.rows.min(target.max_size);
    let skip = m.rows - keep;
    let mut buffer = Buffer::restore(Arc::new(schema), policy, target.max_size, rng, total, keep)?;
    let find = |name: &str| {
        m.files
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| corrupt(MANIFEST, format!("no file entry for '{name}'")))
    };
    let mut typed_i = 0;
    for f in &m.fields {
        let (Some(file), Some(d)) = (&f.file, &f.dtype) else {
            continue;
        };
        let dtype = Dtype::parse(d, &f.name)?;
        let mut dims = vec![m.rows];
        dims.extend_from_slice(&f.shape);
        let row_bytes = dtype.size() * f.shape.iter().product::<usize>();
        let dst = buffer.typed_rows_mut(typed_i, keep);
        read_column(dir, find(file)?, dtype, &dims, skip * row_bytes, dst)?;
        typed_i += 1;
    }
    if buffer.schema().any_count() > 0 {
        let name = m
            .any_file
            .clone()
            .ok_or_else(|| corrupt(MANIFEST, "anyFile: missing"))?;
        let bytes = read_checked(dir, find(&name)?)?;
        let mut r = Reader {
            bytes: &bytes,
            at: 0,
            file: &name,
        };
        for a in 0..buffer.schema().any_count() {
            let count = r.u64()? as usize;
            if count != m.rows {
                return Err(corrupt(
                    &name,
                    format!("{count} values for {} rows", m.rows),
                ));
            }
            for i in 0..count {
                let n = r.u64()? as usize;
                let v = r.take(n)?;
                if i >= skip {
                    buffer.push_any(a, v.to_vec());
                }
            }
        }
        if r.at != bytes.len() {
            return Err(corrupt(&name, "trailing bytes"));
        }
    }
    Ok(buffer)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    file: &'a str,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(corrupt(self.file, "truncated value"));
        };
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u64(&mut self) -> Result<u64> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
}

fn describe(s: &Schema) -> String {
    s.fields()
        .iter()
        .map(|f| match &f.kind {
            FieldKind::Typed { dtype, shape, .. } => {
                format!("{}: {}{:?}", f.name, dtype.name(), shape)
            }
            FieldKind::Any => format!("{}: any", f.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
