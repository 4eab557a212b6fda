//! Writing a dataset, page by page: memory holds one page of items (the caller's pool
//! page, copied once into per-partition column buffers), never the dataset. Each page
//! becomes row groups of at most [`ROW_GROUP_ROWS`] rows in each partition's open file.
//!
//! Files go into a staging sibling of the target and the directory is renamed into
//! place by `finish`, so a crash or a failure leaves no dataset, never half of one
//! (the next export to the same target removes what a dead one left).
//!
//! Meta columns are learnt as items arrive: a key first seen on a later page adds a
//! column, files written before it are finished and, in `finish`, rewritten with the
//! column (null for their rows), so every file of a dataset has the same columns
//! (pyarrow and DuckDB take the first file's schema for the dataset's).

use super::hive::{self, DEFAULT_PARTITION};
use super::layout::{
    check_name, element_type, file_schema, state_index, DatasetMeta, ItemInfo, ItemKind,
    MetaColumn, MetaKind, MetaValue, ID, KIND, METADATA_KEY, STEP, TIME,
};
use crate::error::{Error, ErrorCode, Result};
use crate::input::{expected, Value};
use crate::schema::{Field, FieldKind, Schema};
use crate::state::{commit_staged_new, discard_staged, exists, stage, sync_dir, sync_file};
use arrow_array::builder::{BooleanBuilder, Float64Builder, StringBuilder};
use arrow_array::{make_array, new_null_array, ArrayRef, FixedSizeListArray, RecordBatch};
use arrow_buffer::{Buffer, MutableBuffer, NullBuffer};
use arrow_data::ArrayData;
use arrow_schema::{Field as ArrowField, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Most files open at once; past it the least recently written one is finished and
/// its partition's next rows start a new file (bounds file descriptors and memory when
/// there are many partitions).
pub const MAX_OPEN_FILES: usize = 64;

/// Most rows in a row group. A row group's encoded pages stay in memory until it is
/// flushed, so a page of 256 episodes (51,200 rows, 13 MB of `float32[64]` states) as
/// one row group made every export fault in and copy that much fresh memory per page;
/// groups of 8,192 rows (2 MB at that width) stay in cache: the unpartitioned export of
/// `npm run bench -- parquet` went from 0.95M to 1.18M rows/s (median of 3). Readers
/// skip by row group, and DuckDB's own groups are of similar size (122,880 rows of
/// narrower tables).
const ROW_GROUP_ROWS: usize = 8192;

/// Values per column-writer call (see `properties`).
const WRITE_BATCH: usize = 32 * 1024;

/// Most `partitionBy` keys.
pub const MAX_PARTITION_KEYS: usize = 16;

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportTotals {
    pub files: usize,
    pub items: usize,
    pub rows: usize,
    /// The dataset's size on disk (all its files).
    pub bytes: u64,
}

/// One page of items, sorted into partitions, ready for [`Exporter::write`].
pub struct Page {
    parts: Vec<PagePart>,
}

/// A page's items of one partition: their steps as one buffer per field.
struct PagePart {
    /// The partition's directory, relative to the dataset (escaped `key=value`
    /// segments joined by `/`; empty for the root).
    dir: String,
    items: Vec<ItemInfo>,
    rows: usize,
    fields: Vec<MutableBuffer>,
    /// (row within the part, its final state's bytes).
    finals: Vec<(usize, Vec<u8>)>,
}

struct OpenFile {
    dir: String,
    path: PathBuf,
    writer: ArrowWriter<File>,
    /// How many meta columns the file was started with.
    columns: usize,
    last_use: u64,
}

struct WrittenFile {
    path: PathBuf,
    columns: usize,
}

pub struct Exporter {
    target: PathBuf,
    staged: PathBuf,
    committed: bool,
    fields: Vec<Field>,
    state: Option<usize>,
    /// The partition keys and the type their values have (known from the first item).
    partitions: Vec<(String, Option<MetaKind>)>,
    /// The meta columns stored in the files, in order of first appearance.
    columns: Vec<MetaColumn>,
    open: Vec<OpenFile>,
    written: Vec<WrittenFile>,
    next_part: HashMap<String, usize>,
    dirs: BTreeSet<PathBuf>,
    tick: u64,
    totals: ExportTotals,
}

/// `partitionBy` as the caller gave it: absent (no partitions) or an array of meta keys.
pub fn partition_keys(v: &Value) -> Result<Vec<String>> {
    match v {
        Value::Undefined => Ok(Vec::new()),
        Value::Array(keys) => keys
            .iter()
            .enumerate()
            .map(|(i, k)| match k {
                Value::String(s) => Ok(s.clone()),
                other => Err(expected(
                    &format!("options.partitionBy[{i}]"),
                    "a meta key (a string)",
                    other,
                )),
            })
            .collect(),
        other => Err(expected(
            "options.partitionBy",
            "an array of meta keys",
            other,
        )),
    }
}

impl Exporter {
    /// Starts an export of items of `schema` (typed fields only) into the new directory
    /// `target`, partitioned by the meta keys `partition_by`.
    pub fn new(target: &Path, schema: &Schema, partition_by: &[String]) -> Result<Exporter> {
        let fields: Vec<Field> = schema.fields().to_vec();
        for f in &fields {
            if matches!(f.kind, FieldKind::Any) {
                return Err(Error::invalid_argument(format!(
                    "fields: '{}' is 'any'; a dataset holds typed fields only",
                    f.name
                )));
            }
            check_name(&f.name, &[], "field")?;
        }
        if partition_by.len() > MAX_PARTITION_KEYS {
            return Err(Error::invalid_argument(format!(
                "options.partitionBy: {} keys, more than {MAX_PARTITION_KEYS}",
                partition_by.len()
            )));
        }
        for (i, k) in partition_by.iter().enumerate() {
            if k.is_empty() || partition_by[..i].contains(k) {
                return Err(Error::invalid_argument(format!(
                    "options.partitionBy[{i}]: expected a distinct, non-empty meta key, got {k:?}"
                )));
            }
            check_name(k, &fields, "options.partitionBy: meta key")?;
        }
        if target.symlink_metadata().is_ok() {
            return Err(exists(target));
        }
        let staged = stage(target)?;
        Ok(Exporter {
            target: target.to_path_buf(),
            dirs: BTreeSet::from([staged.clone()]),
            staged,
            committed: false,
            state: state_index(&fields),
            fields,
            partitions: partition_by.iter().map(|k| (k.clone(), None)).collect(),
            columns: Vec::new(),
            open: Vec::new(),
            written: Vec::new(),
            next_part: HashMap::new(),
            tick: 0,
            totals: ExportTotals::default(),
        })
    }

    /// Checks a page of items (their summaries, their steps as one byte slice per field
    /// and item, `columns[field][item]`, the final states of those that have one) and
    /// sorts it into partitions, copying the bytes once. New meta keys add columns here.
    pub fn page(
        &mut self,
        items: &[ItemInfo],
        columns: &[Vec<&[u8]>],
        finals: &[&[u8]],
    ) -> Result<Page> {
        if columns.len() != self.fields.len() {
            return Err(Error::invalid_argument(format!(
                "columns: {} arrays, expected one per field ({})",
                columns.len(),
                self.fields.len()
            )));
        }
        for (f, c) in self.fields.iter().zip(columns) {
            let fits = c.len() == items.len()
                && c.iter()
                    .zip(items)
                    .all(|(b, it)| b.len() == it.rows * f.row_bytes());
            if !fits {
                return Err(Error::invalid_argument(format!(
                    "columns.{}: expected one array per item of its rows × {} bytes",
                    f.name,
                    f.row_bytes()
                )));
            }
        }
        let with_final = items.iter().filter(|it| it.has_final).count();
        let final_bytes = self.state.map(|s| self.fields[s].row_bytes());
        if finals.len() != with_final
            || (with_final > 0 && final_bytes.is_none())
            || finals.iter().any(|f| Some(f.len()) != final_bytes)
        {
            return Err(Error::invalid_argument(
                "finals: one final state (of the 'state' field) per item that has one",
            ));
        }
        let mut dirs = Vec::with_capacity(items.len());
        let mut rows: HashMap<String, usize> = HashMap::new();
        for it in items {
            if it.kind == ItemKind::Record && it.has_final {
                return Err(Error::invalid_argument(format!(
                    "items: record '{}' has a final state",
                    it.id
                )));
            }
            let dir = self.place(it)?;
            *rows.entry(dir.clone()).or_insert(0) += it.rows;
            dirs.push(dir);
        }
        let mut parts: Vec<PagePart> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut fin = 0;
        for (i, (it, dir)) in items.iter().zip(dirs).enumerate() {
            let p = match index.get(&dir) {
                Some(&p) => p,
                None => {
                    let n = rows.get(&dir).copied().unwrap_or(0);
                    parts.push(PagePart {
                        fields: self
                            .fields
                            .iter()
                            .map(|f| MutableBuffer::with_capacity(n * f.row_bytes()))
                            .collect(),
                        dir: dir.clone(),
                        items: Vec::new(),
                        rows: 0,
                        finals: Vec::new(),
                    });
                    index.insert(dir, parts.len() - 1);
                    parts.len() - 1
                }
            };
            let part = &mut parts[p];
            for (c, out) in columns.iter().zip(&mut part.fields) {
                out.extend_from_slice(c[i]);
            }
            if it.has_final {
                part.finals
                    .push((part.rows + it.rows - 1, finals[fin].to_vec()));
                fin += 1;
            }
            part.rows += it.rows;
            part.items.push(it.clone());
        }
        Ok(Page { parts })
    }

    /// The partition directory of `it`; records its meta keys' types, refusing a key
    /// whose type differs from earlier items' (a column has one type).
    fn place(&mut self, it: &ItemInfo) -> Result<String> {
        let mut segments = Vec::with_capacity(self.partitions.len());
        for (key, kind) in &mut self.partitions {
            let Some((_, v)) = it.meta.iter().find(|(k, _)| k == key) else {
                return Err(Error::invalid_argument(format!(
                    "options.partitionBy: item '{}' has no meta key '{key}'",
                    it.id
                )));
            };
            expect_kind(kind, v, key, &it.id)?;
            let text = v.path_text();
            if text == DEFAULT_PARTITION {
                return Err(Error::invalid_argument(format!(
                    "options.partitionBy: item '{}' has meta {key} = '{DEFAULT_PARTITION}', Hive's name for an empty value",
                    it.id
                )));
            }
            segments.push(hive::segment(key, &text));
        }
        for (key, v) in &it.meta {
            if self.partitions.iter().any(|(k, _)| k == key) {
                continue;
            }
            match self.columns.iter_mut().find(|c| &c.key == key) {
                Some(c) => {
                    let mut kind = Some(c.kind);
                    expect_kind(&mut kind, v, key, &it.id)?;
                }
                None => {
                    check_name(key, &self.fields, "meta key")?;
                    self.columns.push(MetaColumn {
                        key: key.clone(),
                        kind: v.kind(),
                    });
                }
            }
        }
        Ok(segments.join("/"))
    }

    /// Writes a page: row groups of at most [`ROW_GROUP_ROWS`] rows, per partition it touches.
    pub fn write(&mut self, page: Page) -> Result<()> {
        for part in page.parts {
            let (rows, items) = (part.rows, part.items.len());
            let i = self.writer_for(&part.dir)?;
            let batch = self.batch(part)?;
            let file = &mut self.open[i];
            let mut at = 0;
            while at < rows {
                let len = ROW_GROUP_ROWS.min(rows - at);
                file.writer
                    .write(&batch.slice(at, len))
                    .and_then(|()| file.writer.flush())
                    .map_err(|e| write_error(&file.path, e))?;
                at += len;
            }
            self.totals.rows += rows;
            self.totals.items += items;
        }
        Ok(())
    }

    /// Finishes every file, gives the files written before a meta key appeared that
    /// key's column, makes it all durable and renames the dataset into place.
    pub fn finish(&mut self) -> Result<ExportTotals> {
        while let Some(f) = self.open.pop() {
            self.close(f)?;
        }
        if self.written.is_empty() {
            // No items: one file without rows, so that readers still find the columns.
            self.partitions.clear();
            let i = self.writer_for("")?;
            let f = self.open.swap_remove(i);
            self.close(f)?;
        }
        let bytes = self.widen_all()?;
        for d in self.dirs.iter().rev() {
            sync_dir(d)?;
        }
        commit_staged_new(&self.staged, &self.target)?;
        self.committed = true;
        Ok(ExportTotals {
            files: self.written.len(),
            bytes,
            ..self.totals
        })
    }

    /// Rewrites the files that lack later meta columns; returns the dataset's bytes.
    fn widen_all(&self) -> Result<u64> {
        let mut bytes = 0;
        for f in &self.written {
            if f.columns < self.columns.len() {
                self.widen(&f.path)?;
            }
            bytes += fs::metadata(&f.path)
                .map_err(|e| Error::io(&f.path, "stat", &e))?
                .len();
        }
        Ok(bytes)
    }

    fn widen(&self, path: &Path) -> Result<()> {
        let schema = self.schema()?;
        let tmp = path.with_extension("parquet.widen");
        let file = File::open(path).map_err(|e| Error::io(path, "open", &e))?;
        let reopen = || {
            let f = file.try_clone().map_err(|e| Error::io(path, "open", &e))?;
            ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| write_error(path, e))
        };
        let groups = reopen()?.metadata().num_row_groups();
        let out = File::create(&tmp).map_err(|e| Error::io(&tmp, "create", &e))?;
        let mut w = ArrowWriter::try_new(out, schema.clone(), Some(self.properties()))
            .map_err(|e| write_error(&tmp, e))?;
        for g in 0..groups {
            let reader = reopen()?
                .with_row_groups(vec![g])
                .build()
                .map_err(|e| write_error(path, e))?;
            for batch in reader {
                let batch = batch.map_err(|e| write_error(path, e.into()))?;
                let cols: Vec<ArrayRef> = schema
                    .fields()
                    .iter()
                    .map(|f| {
                        batch
                            .column_by_name(f.name())
                            .cloned()
                            .unwrap_or_else(|| new_null_array(f.data_type(), batch.num_rows()))
                    })
                    .collect();
                let wide = RecordBatch::try_new(schema.clone(), cols)
                    .map_err(|e| write_error(path, e.into()))?;
                w.write(&wide).map_err(|e| write_error(&tmp, e))?;
            }
            w.flush().map_err(|e| write_error(&tmp, e))?;
        }
        let mut out = w.into_inner().map_err(|e| write_error(&tmp, e))?;
        sync_file(&mut out, &tmp)?;
        fs::rename(&tmp, path).map_err(|e| Error::io(path, "rename", &e))
    }

    /// The open file of partition `dir` with the current columns, opening one (and
    /// finishing the least recently used when too many are open).
    fn writer_for(&mut self, dir: &str) -> Result<usize> {
        self.tick += 1;
        if let Some(i) = self.open.iter().position(|f| f.dir == dir) {
            if self.open[i].columns == self.columns.len() {
                self.open[i].last_use = self.tick;
                return Ok(i);
            }
            let f = self.open.swap_remove(i);
            self.close(f)?;
        }
        if self.open.len() >= MAX_OPEN_FILES {
            if let Some(lru) = (0..self.open.len()).min_by_key(|&i| self.open[i].last_use) {
                let f = self.open.swap_remove(lru);
                self.close(f)?;
            }
        }
        let mut at = self.staged.clone();
        for segment in dir.split('/').filter(|s| !s.is_empty()) {
            at.push(segment);
            self.dirs.insert(at.clone());
        }
        fs::create_dir_all(&at).map_err(|e| Error::io(&at, "create directory", &e))?;
        let n = self.next_part.entry(dir.to_owned()).or_insert(0);
        let path = at.join(format!("part-{n:05}.parquet"));
        *n += 1;
        let file = File::create(&path).map_err(|e| Error::io(&path, "create", &e))?;
        let schema = self.schema()?;
        let writer = ArrowWriter::try_new(file, schema, Some(self.properties()))
            .map_err(|e| write_error(&path, e))?;
        self.open.push(OpenFile {
            dir: dir.to_owned(),
            path,
            writer,
            columns: self.columns.len(),
            last_use: self.tick,
        });
        Ok(self.open.len() - 1)
    }

    fn close(&mut self, f: OpenFile) -> Result<()> {
        let mut file = f.writer.into_inner().map_err(|e| write_error(&f.path, e))?;
        sync_file(&mut file, &f.path)?;
        self.written.push(WrittenFile {
            path: f.path,
            columns: f.columns,
        });
        Ok(())
    }

    /// The metadata every file carries, for the columns as they are now.
    fn meta(&self) -> DatasetMeta {
        let partitions: Vec<MetaColumn> = self
            .partitions
            .iter()
            .map(|(key, kind)| MetaColumn {
                key: key.clone(),
                kind: kind.unwrap_or(MetaKind::String),
            })
            .collect();
        DatasetMeta::new(&self.fields, &partitions, &self.columns)
    }

    /// The files' Arrow schema for the columns as they are now, carrying the dataset
    /// metadata too: pyarrow shows a file's Arrow schema metadata (`ARROW:schema`) as the
    /// table's, other readers the Parquet key-value metadata (`properties`).
    fn schema(&self) -> Result<SchemaRef> {
        let columns = file_schema(&self.fields, &self.columns)?;
        let meta = HashMap::from([(METADATA_KEY.to_owned(), self.meta().to_json())]);
        Ok(Arc::new(columns.as_ref().clone().with_metadata(meta)))
    }

    /// Snappy; dictionaries for strings only (trying one on float data costs time and
    /// never pays); chunk statistics on the item columns (filters on time, step or meta
    /// skip row groups), none on the fields' values; values handed to the column
    /// writers 32Ki at a time (the default 1Ki made its per-batch work a tenth of an
    /// export's time for a float32[64] field).
    fn properties(&self) -> WriterProperties {
        let path = |name: &str| ColumnPath::new(vec![name.to_owned()]);
        let mut b = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_write_batch_size(WRITE_BATCH)
            .set_dictionary_enabled(false)
            .set_statistics_enabled(EnabledStatistics::None)
            .set_key_value_metadata(Some(vec![KeyValue::new(
                METADATA_KEY.to_owned(),
                self.meta().to_json(),
            )]));
        for name in [ID, KIND] {
            b = b.set_column_dictionary_enabled(path(name), true);
        }
        for name in [ID, KIND, STEP, TIME] {
            b = b.set_column_statistics_enabled(path(name), EnabledStatistics::Chunk);
        }
        for c in &self.columns {
            if c.kind == MetaKind::String {
                b = b.set_column_dictionary_enabled(path(&c.key), true);
            }
            b = b.set_column_statistics_enabled(path(&c.key), EnabledStatistics::Chunk);
        }
        b.build()
    }

    /// A part's rows as a record batch of the current columns.
    fn batch(&self, part: PagePart) -> Result<RecordBatch> {
        let n = part.rows;
        let id_bytes: usize = part.items.iter().map(|it| it.id.len() * it.rows).sum();
        let mut ids = StringBuilder::with_capacity(n, id_bytes);
        let mut kinds = StringBuilder::with_capacity(n, n * 7);
        let mut steps: Vec<i32> = Vec::with_capacity(n);
        let mut times: Vec<f64> = Vec::with_capacity(n);
        let mut terminated = BooleanBuilder::with_capacity(n);
        for it in &part.items {
            ids.append_value_n(&it.id, it.rows);
            kinds.append_value_n(it.kind.name(), it.rows);
            // Rows are at most MAX_ROWS (2^31 - 1), so every step index fits an i32.
            steps.extend((0..it.rows).map(|s| s as i32));
            times.extend(std::iter::repeat_n(it.time, it.rows));
            match it.kind {
                ItemKind::Episode => terminated.append_n(it.rows, it.terminated),
                ItemKind::Record => terminated.append_nulls(it.rows),
            }
        }
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(ids.finish()),
            Arc::new(kinds.finish()),
            Arc::new(arrow_array::Int32Array::from(steps)),
            Arc::new(arrow_array::Float64Array::from(times)),
        ];
        for c in &self.columns {
            let value = |it: &ItemInfo| {
                it.meta
                    .iter()
                    .find(|(k, _)| k == &c.key)
                    .map(|(_, v)| v.clone())
            };
            cols.push(match c.kind {
                MetaKind::String => {
                    let mut b = StringBuilder::with_capacity(n, 0);
                    for it in &part.items {
                        match value(it) {
                            Some(MetaValue::Str(s)) => b.append_value_n(s, it.rows),
                            _ => b.append_nulls(it.rows),
                        }
                    }
                    Arc::new(b.finish())
                }
                MetaKind::Number => {
                    let mut b = Float64Builder::with_capacity(n);
                    for it in &part.items {
                        match value(it) {
                            Some(MetaValue::Num(x)) => b.append_value_n(x, it.rows),
                            _ => b.append_nulls(it.rows),
                        }
                    }
                    Arc::new(b.finish())
                }
            });
        }
        for (f, bytes) in self.fields.iter().zip(part.fields) {
            cols.push(column(f, n, bytes.into(), None)?);
        }
        cols.push(Arc::new(terminated.finish()));
        if let Some(s) = self.state {
            let f = &self.fields[s];
            let rb = f.row_bytes();
            let mut values = MutableBuffer::from_len_zeroed(n * rb);
            let mut valid = vec![false; n];
            for (row, bytes) in &part.finals {
                values.as_slice_mut()[row * rb..(row + 1) * rb].copy_from_slice(bytes);
                valid[*row] = true;
            }
            cols.push(column(f, n, values.into(), Some(NullBuffer::from(valid)))?);
        }
        RecordBatch::try_new(self.schema()?, cols).map_err(|e| internal(&e.to_string()))
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if !self.committed {
            discard_staged(&self.staged);
        }
    }
}

/// Refuses `v` for `key` when earlier items gave the key another type.
fn expect_kind(kind: &mut Option<MetaKind>, v: &MetaValue, key: &str, id: &str) -> Result<()> {
    match kind {
        Some(k) if *k != v.kind() => Err(Error::new(
            ErrorCode::SchemaMismatch,
            format!(
                "meta key '{key}': item '{id}' has {}, earlier items {}; a Parquet column has one type",
                v.kind().name(),
                k.name()
            ),
        )),
        Some(_) => Ok(()),
        None => {
            *kind = Some(v.kind());
            Ok(())
        }
    }
}

/// A field's column over `rows` rows of bytes: the primitive, or a fixed-size list.
fn column(f: &Field, rows: usize, bytes: Buffer, nulls: Option<NullBuffer>) -> Result<ArrayRef> {
    let (Some(dtype), n) = (f.dtype(), f.elements()) else {
        return Err(internal("a typed field without a dtype"));
    };
    let scalar = matches!(&f.kind, FieldKind::Typed { shape, .. } if shape.is_empty());
    let values = ArrayData::builder(element_type(dtype))
        .len(rows * n)
        .add_buffer(bytes)
        .nulls(if scalar { nulls.clone() } else { None })
        .build()
        .map_err(|e| internal(&e.to_string()))?;
    if scalar {
        return Ok(make_array(values));
    }
    let size = i32::try_from(n).map_err(|_| internal("too many elements"))?;
    let item = Arc::new(ArrowField::new("item", element_type(dtype), false));
    FixedSizeListArray::try_new(item, size, make_array(values), nulls)
        .map(|a| Arc::new(a) as ArrayRef)
        .map_err(|e| internal(&e.to_string()))
}

fn internal(what: &str) -> Error {
    Error::new(ErrorCode::Internal, format!("parquet: {what}"))
}

/// A Parquet writer's failure on `path`: `EXPBUF_IO`, with the OS error as cause when
/// the file system is behind it.
fn write_error(path: &Path, e: ParquetError) -> Error {
    if let ParquetError::External(inner) = &e {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return Error::io(path, "write", io);
        }
    }
    Error::new(
        ErrorCode::Io,
        format!("{}: writing Parquet failed: {e}", path.display()),
    )
}
