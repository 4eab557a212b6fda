//! Rows as files: one `.npy` per typed field and `any.bin` for `any` values, each
//! checksummed; shared by buffer states and user states.

use super::atomic::{io_error, sync_file};
use super::manifest::{FieldEntry, FileEntry, Manifest, MANIFEST};
use super::npy;
use crate::alloc;
use crate::dtype::Dtype;
use crate::error::{Error, ErrorCode, Result};
use crate::schema::{Field, FieldKind, Schema};
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

pub const ANY_FILE: &str = "any.bin";

pub fn corrupt(file: &str, why: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::CorruptState, format!("{file}: {why}"))
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

/// Writes `parts` as file `name` in `dir` (fsynced), returning its manifest entry.
pub fn write_file(dir: &Path, name: &str, parts: &[&[u8]]) -> Result<FileEntry> {
    let path = dir.join(name);
    let mut f = File::create(&path).map_err(|e| io_error(&path, "create", e))?;
    let mut crc = crc32fast::Hasher::new();
    let mut bytes = 0u64;
    for p in parts {
        f.write_all(p).map_err(|e| io_error(&path, "write", e))?;
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

/// Writes a float64 vector as a `.npy` file.
pub fn write_f64(dir: &Path, name: &str, values: &[f64]) -> Result<FileEntry> {
    let header = npy::header(Dtype::Float64, &[values.len()]);
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_file(dir, name, &[&header, &bytes])
}

/// Where the rows' data comes from: each typed column as at most two slices (a ring's
/// two halves) and each `any` column's values in order.
pub trait RowSource {
    fn rows(&self) -> usize;
    fn typed(&self, i: usize) -> [&[u8]; 2];
    fn any_values(&self, a: usize) -> Box<dyn Iterator<Item = &[u8]> + '_>;
}

/// What the written columns add to a manifest.
pub struct Written {
    pub fields: Vec<FieldEntry>,
    pub files: Vec<FileEntry>,
    pub any_file: Option<String>,
}

/// Writes every column of `src` into `dir`, streaming from its memory.
pub fn write_columns(dir: &Path, schema: &Schema, src: &dyn RowSource) -> Result<Written> {
    let rows = src.rows();
    let mut files = Vec::new();
    let mut fields = Vec::new();
    let mut typed_i = 0;
    for (i, f) in schema.fields().iter().enumerate() {
        match &f.kind {
            FieldKind::Typed { dtype, shape, .. } => {
                let name = file_name(i, &f.name);
                let mut dims = vec![rows];
                dims.extend_from_slice(shape);
                let header = npy::header(*dtype, &dims);
                let [a, b] = src.typed(typed_i);
                files.push(write_file(dir, &name, &[&header, a, b])?);
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
            blob.extend_from_slice(&(rows as u64).to_le_bytes());
            for v in src.any_values(a) {
                blob.extend_from_slice(&(v.len() as u64).to_le_bytes());
                blob.extend_from_slice(v);
            }
        }
        files.push(write_file(dir, ANY_FILE, &[&blob])?);
        Some(ANY_FILE.to_owned())
    } else {
        None
    };
    Ok(Written {
        fields,
        files,
        any_file,
    })
}

/// The schema a manifest declares.
pub fn manifest_schema(m: &Manifest) -> Result<Schema> {
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

pub fn find<'m>(m: &'m Manifest, name: &str) -> Result<&'m FileEntry> {
    m.files
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| corrupt(MANIFEST, format!("no file entry for '{name}'")))
}

/// Opens file `entry` and checks its size on disk against the manifest.
fn open_checked(dir: &Path, entry: &FileEntry) -> Result<File> {
    let path = dir.join(&entry.name);
    let f = File::open(&path).map_err(|_| corrupt(&entry.name, "missing"))?;
    let len = f.metadata().map_err(|e| io_error(&path, "stat", e))?.len();
    if len != entry.bytes {
        return Err(corrupt(
            &entry.name,
            format!("{len} bytes, the manifest says {}", entry.bytes),
        ));
    }
    Ok(f)
}

/// Reads file `entry` whole, checking its size and checksum. Its size on disk is
/// checked before the bytes are allocated, so a manifest cannot make this allocate
/// more than the file holds.
pub fn read_checked(dir: &Path, entry: &FileEntry) -> Result<Vec<u8>> {
    let mut f = open_checked(dir, entry)?;
    let len = usize::try_from(entry.bytes).map_err(|_| corrupt(&entry.name, "too large"))?;
    let mut bytes = alloc::zeroed_vec(len, &entry.name)?;
    f.read_exact(&mut bytes)
        .map_err(|e| corrupt(&entry.name, e))?;
    if crc32fast::hash(&bytes) != entry.crc32 {
        return Err(corrupt(
            &entry.name,
            "checksum mismatch (the file changed after it was saved)",
        ));
    }
    Ok(bytes)
}

/// The byte length a `.npy` file of `dtype` and `dims` must have.
fn npy_bytes(dtype: Dtype, dims: &[usize]) -> Option<u64> {
    let data = dims
        .iter()
        .try_fold(dtype.size() as u64, |n, &d| n.checked_mul(d as u64))?;
    data.checked_add(npy::header(dtype, dims).len() as u64)
}

/// Checks that `entry` has exactly the size a `.npy` of `dtype` and `dims` has, in the
/// manifest and on disk: called before anything is allocated for its rows.
pub fn check_npy(dir: &Path, entry: &FileEntry, dtype: Dtype, dims: &[usize]) -> Result<()> {
    let want = npy_bytes(dtype, dims);
    if want != Some(entry.bytes) {
        return Err(corrupt(
            &entry.name,
            format!(
                "{} bytes, {} rows of {:?} {} need {}",
                entry.bytes,
                dims[0],
                &dims[1..],
                dtype.name(),
                want.map_or("more than 2^64".to_owned(), |w| w.to_string())
            ),
        ));
    }
    open_checked(dir, entry).map(|_| ())
}

/// Reads a `.npy` column straight into `dst`, hashing as it goes: the header must be
/// exactly what `dtype` and `dims` give, the first `skip` data bytes are read past
/// (truncation), and the checksum must match at the end.
pub fn read_column(
    dir: &Path,
    entry: &FileEntry,
    dtype: Dtype,
    dims: &[usize],
    skip: usize,
    dst: &mut [u8],
) -> Result<()> {
    const CHUNK: usize = 8 << 20;
    let name = &entry.name;
    check_npy(dir, entry, dtype, dims)?;
    let mut f = open_checked(dir, entry)?;
    let header_len = npy::header(dtype, dims).len();
    let data_len = entry.bytes as usize - header_len;
    if skip + dst.len() != data_len {
        return Err(corrupt(name, "row count differs from the manifest"));
    }
    let io = |e: std::io::Error| corrupt(name, e);
    let mut crc = crc32fast::Hasher::new();
    let mut header = vec![0u8; header_len];
    f.read_exact(&mut header).map_err(io)?;
    npy::check_header(&header, dtype, dims).map_err(|why| corrupt(name, why))?;
    crc.update(&header);
    let mut scratch = alloc::zeroed_vec(skip.min(CHUNK), name)?;
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

/// Reads a float64 `.npy` vector of `len` values; the file's size is checked before
/// the values are allocated.
pub fn read_f64(dir: &Path, entry: &FileEntry, len: usize) -> Result<Vec<f64>> {
    check_npy(dir, entry, Dtype::Float64, &[len])?;
    let mut bytes = alloc::zeroed_vec(len * 8, &entry.name)?;
    read_column(dir, entry, Dtype::Float64, &[len], 0, &mut bytes)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            f64::from_le_bytes(a)
        })
        .collect())
}

/// Where loaded rows go: typed columns by index, `any` values appended in order.
pub trait RowSink {
    fn typed_mut(&mut self, i: usize, rows: usize) -> Result<&mut [u8]>;
    fn push_any(&mut self, a: usize, value: Vec<u8>) -> Result<()>;
}

/// The manifest's entry and `.npy` dims of each typed field of `schema`, in typed-field
/// order, each file's size checked on disk. Fails with `EXPBUF_CORRUPT_STATE` naming a
/// typed field that has no file.
pub fn typed_files<'m>(
    dir: &Path,
    m: &'m Manifest,
    schema: &Schema,
) -> Result<Vec<(&'m FileEntry, Dtype, Vec<usize>)>> {
    let mut out = Vec::with_capacity(schema.typed_count());
    for f in &m.fields {
        let Some(d) = &f.dtype else {
            continue;
        };
        let file = f
            .file
            .as_deref()
            .ok_or_else(|| corrupt(MANIFEST, format!("field '{}': no file", f.name)))?;
        let dtype = Dtype::parse(d, &f.name).map_err(|e| corrupt(MANIFEST, e.message))?;
        let mut dims = vec![m.rows];
        dims.extend_from_slice(&f.shape);
        let entry = find(m, file)?;
        check_npy(dir, entry, dtype, &dims)?;
        out.push((entry, dtype, dims));
    }
    if out.len() != schema.typed_count() {
        return Err(corrupt(
            MANIFEST,
            format!(
                "{} typed fields have files, the schema has {}",
                out.len(),
                schema.typed_count()
            ),
        ));
    }
    Ok(out)
}

/// Reads the columns of manifest `m` (rows `skip..`) from `dir` into `sink`. Every typed
/// file's size is checked first, so a damaged manifest fails before `sink` allocates.
pub fn read_columns(
    dir: &Path,
    m: &Manifest,
    schema: &Schema,
    skip: usize,
    sink: &mut dyn RowSink,
) -> Result<()> {
    let keep = m.rows - skip;
    let files = typed_files(dir, m, schema)?;
    for (typed_i, (entry, dtype, dims)) in files.into_iter().enumerate() {
        let row_bytes = dtype.size() * dims[1..].iter().product::<usize>();
        read_column(
            dir,
            entry,
            dtype,
            &dims,
            skip * row_bytes,
            sink.typed_mut(typed_i, keep)?,
        )?;
    }
    if schema.any_count() > 0 {
        let name = m
            .any_file
            .clone()
            .ok_or_else(|| corrupt(MANIFEST, "anyFile: missing"))?;
        let bytes = read_checked(dir, find(m, &name)?)?;
        let mut r = Reader {
            bytes: &bytes,
            at: 0,
            file: &name,
        };
        for a in 0..schema.any_count() {
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
                    sink.push_any(a, v.to_vec())?;
                }
            }
        }
        if r.at != bytes.len() {
            return Err(corrupt(&name, "trailing bytes"));
        }
    }
    Ok(())
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
