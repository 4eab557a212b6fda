//! Reading a dataset back into items, a page at a time: memory holds one record batch
//! of one file and the page being assembled, never the dataset.
//!
//! Every file is checked against the pool's fields before its rows are read: its
//! `expbuf` metadata, its columns (none missing, none extra, each of the layout's
//! type) and its partition directories. Rows must form items as the writer lays them
//! out: an item's rows consecutive within one file, steps 0, 1, …, the item's columns
//! the same on each of its rows, a final state only on an episode's last row.
//! `check` reads the whole dataset this way before anything is imported (all but the
//! fields' columns, whose pages are decoded when the items are read).

use super::hive::parse_segment;
use super::layout::{
    describe_type, file_schema, same_type, state_index, DatasetMeta, ItemInfo, ItemKind, MetaKind,
    MetaValue, FINAL_STATE, FORMAT, ID, KIND, METADATA_KEY, STEP, TERMINATED, TIME, VERSION,
};
use crate::dtype::Dtype;
use crate::error::{Error, ErrorCode, Result};
use crate::limits::check_output;
use crate::schema::{Field, FieldKind, Schema};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray,
};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use std::collections::HashSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// Rows per record batch read from a file.
const BATCH_ROWS: usize = 8192;
/// A page is handed over once it holds this many bytes of steps (at an item boundary).
const PAGE_BYTES: usize = 64 << 20;
/// Items per page while checking (their summaries only: bounds the check's memory).
const CHECK_ITEMS: usize = 4096;
/// Deepest partition nesting followed.
const MAX_DEPTH: usize = 64;

/// What a dataset holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportTotals {
    pub files: usize,
    pub items: usize,
    pub rows: usize,
}

/// Whole items: their summaries, their steps as one byte column per field (over all
/// their rows, in item order), and the final states of those that have one.
#[derive(Debug, Default)]
pub struct ImportPage {
    pub items: Vec<ItemInfo>,
    pub fields: Vec<Vec<u8>>,
    pub finals: Vec<u8>,
    bytes: usize,
}

struct DatasetFile {
    path: PathBuf,
    /// The partition directories above it: (key, value), unescaped.
    dirs: Vec<(String, String)>,
}

/// Column positions of one file.
struct Columns {
    id: usize,
    kind: usize,
    step: usize,
    time: usize,
    terminated: usize,
    final_state: Option<usize>,
    fields: Vec<usize>,
    meta: Vec<(String, usize, MetaKind)>,
}

struct Cursor {
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    columns: Columns,
    partition: Vec<(String, MetaValue)>,
    batch: Option<RecordBatch>,
    row: usize,
    /// The file row of the current batch's first row.
    offset: usize,
}

/// The item being assembled (its rows may span record batches).
struct Open {
    info: ItemInfo,
    /// Its meta columns' values, in the file's meta column order.
    meta: Vec<Option<MetaValue>>,
    final_state: Option<Vec<u8>>,
}

pub struct Importer {
    fields: Vec<Field>,
    state: Option<usize>,
    files: Vec<DatasetFile>,
    next: usize,
    cursor: Option<Cursor>,
    open: Option<Open>,
    /// While checking: the ids seen so far (an id twice is a damaged dataset).
    seen: Option<HashSet<String>>,
}

impl Importer {
    /// Lists the dataset's files under `root` for a pool of `schema`.
    pub fn open(root: &Path, schema: &Schema) -> Result<Importer> {
        let meta = fs::metadata(root).map_err(|e| Error::io(root, "open the dataset", &e))?;
        if !meta.is_dir() {
            return Err(Error::invalid_argument(format!(
                "dir: '{}' is not a directory",
                root.display()
            )));
        }
        let mut files = Vec::new();
        walk(root, &mut Vec::new(), &mut files)?;
        let fields = schema.fields().to_vec();
        Ok(Importer {
            state: state_index(&fields),
            fields,
            files,
            next: 0,
            cursor: None,
            open: None,
            seen: None,
        })
    }

    /// Reads and checks the whole dataset, then starts over; the totals say what
    /// `next_page` will give.
    pub fn check(&mut self) -> Result<ImportTotals> {
        self.seen = Some(HashSet::new());
        let mut totals = ImportTotals {
            files: self.files.len(),
            ..ImportTotals::default()
        };
        let result = (|| {
            while let Some(page) = self.read(CHECK_ITEMS, false)? {
                totals.items += page.items.len();
                totals.rows += page.items.iter().map(|it| it.rows).sum::<usize>();
            }
            Ok(totals)
        })();
        self.seen = None;
        self.next = 0;
        self.cursor = None;
        self.open = None;
        result
    }

    /// The next page of at most `max_items` whole items (fewer when it reaches 64 MiB
    /// of steps), or `None` at the end.
    pub fn next_page(&mut self, max_items: usize) -> Result<Option<ImportPage>> {
        self.read(max_items.max(1), true)
    }

    fn read(&mut self, max_items: usize, keep: bool) -> Result<Option<ImportPage>> {
        let mut page = ImportPage {
            fields: vec![Vec::new(); self.fields.len()],
            ..ImportPage::default()
        };
        let full = |p: &ImportPage| p.items.len() >= max_items || (keep && p.bytes >= PAGE_BYTES);
        loop {
            if self.cursor.is_none() {
                let Some(file) = self.files.get(self.next) else {
                    break;
                };
                self.cursor = Some(Cursor::open(file, &self.fields, self.state, keep)?);
                self.next += 1;
            }
            let Some(cursor) = self.cursor.as_mut() else {
                break;
            };
            if cursor.batch.is_none() {
                match cursor.reader.next() {
                    Some(Ok(b)) => {
                        cursor.batch = Some(b);
                        cursor.row = 0;
                    }
                    Some(Err(e)) => {
                        return Err(corrupt(&cursor.path, &format!("unreadable ({e})")));
                    }
                    None => {
                        // Items never span files: the file's last item ends here.
                        self.cursor = None;
                        self.finish(&mut page, keep)?;
                        if full(&page) {
                            break;
                        }
                        continue;
                    }
                }
            }
            if self.rows(&mut page, keep, &full)? {
                break;
            }
        }
        if self.cursor.is_none() && self.next >= self.files.len() {
            self.finish(&mut page, keep)?;
        }
        Ok((!page.items.is_empty()).then_some(page))
    }

    /// Takes rows of the current batch into the page; true when the page is full.
    fn rows(
        &mut self,
        page: &mut ImportPage,
        keep: bool,
        full: &dyn Fn(&ImportPage) -> bool,
    ) -> Result<bool> {
        let Some(cursor) = self.cursor.as_mut() else {
            return Ok(false);
        };
        let Some(batch) = cursor.batch.as_ref() else {
            return Ok(false);
        };
        let view = View::new(cursor, batch, &self.fields, self.state)?;
        let mut r = cursor.row;
        let mut is_full = false;
        while r < batch.num_rows() {
            let step = view.steps.value(r);
            if step == 0 {
                if let Some(open) = self.open.take() {
                    finish_item(open, page, keep, &mut self.seen, &cursor.path)?;
                    if full(page) {
                        is_full = true;
                        break;
                    }
                }
                self.open = Some(view.start(r, &cursor.partition)?);
            } else {
                let Some(open) = self.open.as_mut() else {
                    let why = format!(
                        "step {step} of '{}' without the item's step 0",
                        view.ids.value(r)
                    );
                    return Err(view.bad(r, &why));
                };
                view.next_row(open, r, step)?;
            }
            if let Some(open) = self.open.as_mut() {
                view.take(open, r, page, keep)?;
            }
            r += 1;
        }
        let rows = batch.num_rows();
        drop(view);
        cursor.row = r;
        if r >= rows {
            cursor.batch = None;
            cursor.offset += rows;
        }
        Ok(is_full)
    }

    fn finish(&mut self, page: &mut ImportPage, keep: bool) -> Result<()> {
        match self.open.take() {
            Some(open) => {
                let path = self
                    .files
                    .get(self.next.saturating_sub(1))
                    .map_or_else(PathBuf::new, |f| f.path.clone());
                finish_item(open, page, keep, &mut self.seen, &path)
            }
            None => Ok(()),
        }
    }
}

fn finish_item(
    open: Open,
    page: &mut ImportPage,
    keep: bool,
    seen: &mut Option<HashSet<String>>,
    path: &Path,
) -> Result<()> {
    let mut info = open.info;
    if let Some(f) = open.final_state {
        info.has_final = true;
        if keep {
            page.finals.extend_from_slice(&f);
        }
    }
    if let Some(seen) = seen {
        if !seen.insert(info.id.clone()) {
            return Err(corrupt(
                path,
                &format!("item '{}' appears twice in the dataset", info.id),
            ));
        }
    }
    page.items.push(info);
    if keep {
        check_output(page.bytes as u128, "importParquet: one item")?;
    }
    Ok(())
}

/// One record batch's columns, typed (their types were checked when the file opened).
struct View<'a> {
    path: &'a Path,
    /// The file row of the batch's first row, for messages.
    offset: usize,
    ids: &'a StringArray,
    kinds: &'a StringArray,
    steps: &'a Int32Array,
    times: &'a Float64Array,
    terminated: &'a BooleanArray,
    meta: Vec<(&'a str, MetaArray<'a>)>,
    /// Each field's bytes over the batch's rows, and its bytes per row.
    fields: Vec<(&'a [u8], usize)>,
    final_state: Option<(&'a ArrayRef, &'a [u8], usize)>,
}

enum MetaArray<'a> {
    Str(&'a StringArray),
    Num(&'a Float64Array),
}

impl MetaArray<'_> {
    fn get(&self, r: usize) -> Option<MetaValue> {
        match self {
            MetaArray::Str(a) => a.is_valid(r).then(|| MetaValue::Str(a.value(r).to_owned())),
            MetaArray::Num(a) => a.is_valid(r).then(|| MetaValue::Num(a.value(r))),
        }
    }

    fn same(&self, r: usize, v: &Option<MetaValue>) -> bool {
        match (self, v) {
            (MetaArray::Str(a), Some(MetaValue::Str(s))) => a.is_valid(r) && a.value(r) == s,
            (MetaArray::Num(a), Some(MetaValue::Num(x))) => {
                a.is_valid(r) && a.value(r).to_bits() == x.to_bits()
            }
            (MetaArray::Str(a), None) => a.is_null(r),
            (MetaArray::Num(a), None) => a.is_null(r),
            _ => false,
        }
    }
}

impl<'a> View<'a> {
    fn new(
        cursor: &'a Cursor,
        batch: &'a RecordBatch,
        fields: &[Field],
        state: Option<usize>,
    ) -> Result<View<'a>> {
        let (path, c) = (cursor.path.as_path(), &cursor.columns);
        let col = |i: usize| batch.column(i);
        let required = |i: usize, name: &str| {
            if col(i).null_count() > 0 {
                Err(corrupt(path, &format!("column '{name}' has nulls")))
            } else {
                Ok(col(i))
            }
        };
        let typed = || internal(path);
        let meta = c
            .meta
            .iter()
            .map(|(key, i, kind)| {
                let a = match kind {
                    MetaKind::String => col(*i).as_string_opt::<i32>().map(MetaArray::Str),
                    MetaKind::Number => col(*i)
                        .as_primitive_opt::<Float64Type>()
                        .map(MetaArray::Num),
                };
                a.map(|a| (key.as_str(), a))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(typed)?;
        let rows = batch.num_rows();
        let fields_bytes = c
            .fields
            .iter()
            .zip(fields)
            .map(|(&i, f)| {
                Ok((
                    values(required(i, &f.name)?, f, rows, true, path)?,
                    f.row_bytes(),
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let final_state = match (c.final_state, state) {
            (Some(i), Some(s)) => Some((
                col(i),
                values(col(i), &fields[s], rows, false, path)?,
                fields[s].row_bytes(),
            )),
            _ => None,
        };
        Ok(View {
            path,
            offset: cursor.offset,
            ids: required(c.id, ID)?
                .as_string_opt::<i32>()
                .ok_or_else(typed)?,
            kinds: required(c.kind, KIND)?
                .as_string_opt::<i32>()
                .ok_or_else(typed)?,
            steps: required(c.step, STEP)?
                .as_primitive_opt::<Int32Type>()
                .ok_or_else(typed)?,
            times: required(c.time, TIME)?
                .as_primitive_opt::<Float64Type>()
                .ok_or_else(typed)?,
            terminated: col(c.terminated).as_boolean_opt().ok_or_else(typed)?,
            meta,
            fields: fields_bytes,
            final_state,
        })
    }

    fn bad(&self, r: usize, why: &str) -> Error {
        corrupt(self.path, &format!("row {}: {why}", self.offset + r))
    }

    /// An item that starts at row `r` (its step 0).
    fn start(&self, r: usize, partition: &[(String, MetaValue)]) -> Result<Open> {
        let kind = ItemKind::parse(self.kinds.value(r)).ok_or_else(|| {
            self.bad(
                r,
                &format!(
                    "kind '{}' is neither 'episode' nor 'record'",
                    self.kinds.value(r)
                ),
            )
        })?;
        let mut meta = partition.to_vec();
        let mut cols = Vec::with_capacity(self.meta.len());
        for (key, m) in &self.meta {
            let v = m.get(r);
            if let Some(v) = &v {
                meta.push(((*key).to_owned(), v.clone()));
            }
            cols.push(v);
        }
        Ok(Open {
            info: ItemInfo {
                kind,
                id: self.ids.value(r).to_owned(),
                time: self.times.value(r),
                rows: 0,
                terminated: self.terminated.is_null(r) || self.terminated.value(r),
                has_final: false,
                meta,
            },
            meta: cols,
            final_state: None,
        })
    }

    /// Checks that row `r` (step `step`) continues `open`.
    fn next_row(&self, open: &Open, r: usize, step: i32) -> Result<()> {
        let it = &open.info;
        let id = self.ids.value(r);
        if id != it.id {
            return Err(self.bad(r, &format!("step {step} of '{id}' follows the rows of '{}' (an item's rows are consecutive, from step 0)", it.id)));
        }
        if usize::try_from(step).ok() != Some(it.rows) {
            return Err(self.bad(
                r,
                &format!("'{id}' has step {step} after step {}", it.rows - 1),
            ));
        }
        if it.kind == ItemKind::Record {
            return Err(self.bad(r, &format!("record '{id}' has more than one row")));
        }
        let same = self.kinds.value(r) == it.kind.name()
            && self.times.value(r).to_bits() == it.time.to_bits()
            && (self.terminated.is_null(r) || self.terminated.value(r)) == it.terminated
            && self
                .meta
                .iter()
                .zip(&open.meta)
                .all(|((_, m), v)| m.same(r, v));
        if !same {
            return Err(self.bad(r, &format!("the item columns (kind, time, terminated, meta) of '{id}' differ between its rows")));
        }
        if open.final_state.is_some() {
            return Err(self.bad(
                r,
                &format!("final_state is set on a row of '{id}' that is not its last"),
            ));
        }
        Ok(())
    }

    /// Takes row `r` into the open item (its steps into the page when `keep`).
    fn take(&self, open: &mut Open, r: usize, page: &mut ImportPage, keep: bool) -> Result<()> {
        if keep {
            for ((bytes, rb), out) in self.fields.iter().zip(&mut page.fields) {
                out.extend_from_slice(&bytes[r * rb..(r + 1) * rb]);
                page.bytes += rb;
            }
        }
        if let Some((array, bytes, rb)) = self.final_state {
            if array.is_valid(r) {
                if open.info.kind == ItemKind::Record {
                    return Err(
                        self.bad(r, &format!("record '{}' has a final_state", open.info.id))
                    );
                }
                page.bytes += rb;
                open.final_state = Some(if keep {
                    bytes[r * rb..(r + 1) * rb].to_vec()
                } else {
                    Vec::new()
                });
            }
        }
        open.info.rows += 1;
        Ok(())
    }
}

/// The bytes of a field's values over the `rows` rows of `array` (its primitive, or
/// the primitive items of its fixed-size list). `whole`: refuse null items (a field's
/// column); `final_state`'s null rows read back as null items, and are never taken.
fn values<'a>(
    array: &'a ArrayRef,
    f: &Field,
    rows: usize,
    whole: bool,
    path: &Path,
) -> Result<&'a [u8]> {
    let Some(dtype) = f.dtype() else {
        return Err(internal(path));
    };
    let items: &dyn Array = match array.as_fixed_size_list_opt() {
        Some(list) => {
            if whole && list.values().null_count() > 0 {
                return Err(corrupt(
                    path,
                    &format!("column '{}' has null elements", f.name),
                ));
            }
            list.values().as_ref()
        }
        None => array.as_ref(),
    };
    let bytes = primitive_bytes(items, dtype).ok_or_else(|| internal(path))?;
    if bytes.len() != rows * f.row_bytes() {
        return Err(internal(path));
    }
    Ok(bytes)
}

/// The value bytes of a primitive array of `dtype`.
fn primitive_bytes(a: &dyn Array, dtype: Dtype) -> Option<&[u8]> {
    use arrow_array::types as t;
    Some(match dtype {
        Dtype::Float32 => a
            .as_primitive_opt::<t::Float32Type>()?
            .values()
            .inner()
            .as_slice(),
        Dtype::Float64 => a
            .as_primitive_opt::<t::Float64Type>()?
            .values()
            .inner()
            .as_slice(),
        Dtype::Int8 => a
            .as_primitive_opt::<t::Int8Type>()?
            .values()
            .inner()
            .as_slice(),
        Dtype::Int16 => a
            .as_primitive_opt::<t::Int16Type>()?
            .values()
            .inner()
            .as_slice(),
        Dtype::Int32 => a
            .as_primitive_opt::<t::Int32Type>()?
            .values()
            .inner()
            .as_slice(),
        Dtype::Uint8 => a
            .as_primitive_opt::<t::UInt8Type>()?
            .values()
            .inner()
            .as_slice(),
        Dtype::Uint16 => a
            .as_primitive_opt::<t::UInt16Type>()?
            .values()
            .inner()
            .as_slice(),
        Dtype::Uint32 => a
            .as_primitive_opt::<t::UInt32Type>()?
            .values()
            .inner()
            .as_slice(),
    })
}

fn internal(path: &Path) -> Error {
    Error::new(
        ErrorCode::Internal,
        format!(
            "{}: a column's type changed after its check",
            path.display()
        ),
    )
}

/// `EXPBUF_CORRUPT_STATE` naming the file.
fn corrupt(path: &Path, why: &str) -> Error {
    Error::new(
        ErrorCode::CorruptState,
        format!("{}: {why}", path.display()),
    )
}

fn mismatch(path: &Path, why: &str) -> Error {
    Error::new(
        ErrorCode::SchemaMismatch,
        format!("{}: {why}", path.display()),
    )
}

/// Collects the `.parquet` files under `dir` (sorted), with their partition
/// directories. Names starting with `.` or `_` are skipped, as pyarrow and Spark skip
/// them (`_SUCCESS`, `_common_metadata`, hidden files).
fn walk(dir: &Path, dirs: &mut Vec<(String, String)>, out: &mut Vec<DatasetFile>) -> Result<()> {
    if dirs.len() > MAX_DEPTH {
        return Err(mismatch(
            dir,
            &format!("more than {MAX_DEPTH} levels of partitions"),
        ));
    }
    let mut entries = fs::read_dir(dir)
        .map_err(|e| Error::io(dir, "list", &e))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io(dir, "list", &e))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Some(name) = e.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let kind = e
            .file_type()
            .map_err(|err| Error::io(&path, "stat", &err))?;
        // A symlinked directory is not followed (no loops); a symlinked file is read.
        if kind.is_dir() {
            let what = path.display().to_string();
            let Some(kv) = parse_segment(&name, &what)? else {
                return Err(mismatch(
                    &path,
                    "a directory that is not a key=value partition",
                ));
            };
            dirs.push(kv);
            walk(&path, dirs, out)?;
            dirs.pop();
        } else if name.ends_with(".parquet") && path.is_file() {
            out.push(DatasetFile {
                path,
                dirs: dirs.clone(),
            });
        }
    }
    Ok(())
}

impl Cursor {
    /// Opens a file and checks it against the pool's fields. Without `steps` the
    /// fields' columns are not decoded (checking reads every other column).
    fn open(
        file: &DatasetFile,
        fields: &[Field],
        state: Option<usize>,
        steps: bool,
    ) -> Result<Cursor> {
        let path = &file.path;
        let f = File::open(path).map_err(|e| Error::io(path, "open", &e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| corrupt(path, &format!("not a readable Parquet file ({e})")))?;
        let text = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|k| k.key == METADATA_KEY))
            .and_then(|k| k.value.clone())
            .ok_or_else(|| {
                mismatch(
                    path,
                    &format!("no '{METADATA_KEY}' key-value metadata (importParquet reads datasets that exportParquet wrote)"),
                )
            })?;
        let meta: DatasetMeta = serde_json::from_str(&text).map_err(|e| {
            corrupt(
                path,
                &format!("the '{METADATA_KEY}' metadata is not valid ({e})"),
            )
        })?;
        if meta.format != FORMAT || meta.version != VERSION {
            return Err(corrupt(
                path,
                &format!(
                    "format {} version {} (this build reads {FORMAT} version {VERSION})",
                    meta.format, meta.version
                ),
            ));
        }
        for m in &meta.fields {
            if !fields.iter().any(|f| f.name == m.name) {
                return Err(mismatch(
                    path,
                    &format!(
                        "column '{}' is a field of the dataset but not of the pool",
                        m.name
                    ),
                ));
            }
        }
        let columns: Vec<_> = meta.columns().cloned().collect();
        let want = file_schema(fields, &columns)?;
        let have = builder.schema().clone();
        for w in want.fields() {
            let Ok(h) = have.field_with_name(w.name()) else {
                return Err(mismatch(path, &format!("column '{}' is missing", w.name())));
            };
            if !same_type(h.data_type(), w.data_type()) {
                return Err(mismatch(
                    path,
                    &format!(
                        "column '{}' is {} in the dataset, {} for the pool",
                        w.name(),
                        describe_type(h.data_type()),
                        describe_type(w.data_type())
                    ),
                ));
            }
        }
        for h in have.fields() {
            if want.field_with_name(h.name()).is_err() {
                return Err(mismatch(
                    path,
                    &format!(
                        "column '{}' is not one of the dataset's columns (the item columns, the meta columns its metadata lists, the pool's fields)",
                        h.name()
                    ),
                ));
            }
        }
        for f in fields {
            let (Some(m), FieldKind::Typed { dtype, shape, .. }) =
                (meta.fields.iter().find(|m| m.name == f.name), &f.kind)
            else {
                continue;
            };
            if m.dtype != dtype.name() || &m.shape != shape {
                return Err(mismatch(
                    path,
                    &format!(
                        "column '{}' is {}{:?} in the dataset, {}{:?} in the pool",
                        f.name,
                        m.dtype,
                        m.shape,
                        dtype.name(),
                        shape
                    ),
                ));
            }
        }
        let keys: Vec<&str> = file.dirs.iter().map(|(k, _)| k.as_str()).collect();
        if keys
            != meta
                .partition_by
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        {
            return Err(mismatch(
                path,
                &format!(
                    "its directories name the partition keys [{}], its metadata [{}]",
                    keys.join(", "),
                    meta.partition_by.join(", ")
                ),
            ));
        }
        let partition = file
            .dirs
            .iter()
            .map(|(k, v)| {
                let kind = meta.kind_of(k).unwrap_or(MetaKind::String);
                Ok((
                    k.clone(),
                    MetaValue::from_path(v, kind, &path.display().to_string())?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        // The columns decoded, in file order (as the reader gives them).
        let read: Vec<usize> = (0..have.fields().len())
            .filter(|&i| steps || !fields.iter().any(|f| f.name == *have.field(i).name()))
            .collect();
        let at = |name: &str| {
            let i = have.index_of(name).map_err(|_| internal(path))?;
            read.iter()
                .position(|&r| r == i)
                .ok_or_else(|| internal(path))
        };
        let cols = Columns {
            id: at(ID)?,
            kind: at(KIND)?,
            step: at(STEP)?,
            time: at(TIME)?,
            terminated: at(TERMINATED)?,
            final_state: state.map(|_| at(FINAL_STATE)).transpose()?,
            fields: if steps {
                fields.iter().map(|f| at(&f.name)).collect::<Result<_>>()?
            } else {
                Vec::new()
            },
            meta: columns
                .iter()
                .map(|c| Ok((c.key.clone(), at(&c.key)?, c.kind)))
                .collect::<Result<_>>()?,
        };
        let mask = ProjectionMask::roots(builder.parquet_schema(), read.iter().copied());
        let reader = builder
            .with_projection(mask)
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| corrupt(path, &format!("unreadable ({e})")))?;
        Ok(Cursor {
            path: path.clone(),
            reader,
            columns: cols,
            partition,
            batch: None,
            row: 0,
            offset: 0,
        })
    }
}
