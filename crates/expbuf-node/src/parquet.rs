//! Parquet datasets: the export writer and the import reader as native objects. The
//! layout and every check live in `expbuf_core::parquet`; the Parquet encoding and
//! decoding runs on libuv's thread pool.

use crate::ffi::{Cx, Native, Val};
use expbuf_core::input::Value;
use expbuf_core::parquet::{
    partition_keys, ExportTotals, Exporter, ImportPage, ImportTotals, Importer, ItemInfo,
};
use expbuf_core::{checked_rows, Error, Result, Schema};
use napi::sys::napi_type_tag;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;

/// An export under way; `None` once finished or aborted.
pub struct ExportObj(Arc<Mutex<Option<Exporter>>>);

impl Native for ExportObj {
    const TAG: napi_type_tag = napi_type_tag {
        lower: 0x6578_7062_7566_0008,
        upper: 0x7c2e_95d1_48a3_b06f,
    };
    const WHAT: &'static str = "parquet export";
}

/// An import under way; `None` once closed.
pub struct ImportObj(Arc<Mutex<Option<Importer>>>);

impl Native for ImportObj {
    const TAG: napi_type_tag = napi_type_tag {
        lower: 0x6578_7062_7566_0009,
        upper: 0x1f87_c36a_e259_4d0b,
    };
    const WHAT: &'static str = "parquet import";
}

/// `parquetExportBegin(dir, fields, partitionBy)`: stages a new dataset directory.
fn export_begin(cx: &mut Cx) -> Result<Val> {
    let dir = PathBuf::from(cx.str(0, "dir")?);
    let schema = Schema::parse(&cx.value(1)?)?;
    let keys = partition_keys(&cx.value(2)?)?;
    let ex = Exporter::new(&dir, &schema, &keys)?;
    cx.external(ExportObj(Arc::new(Mutex::new(Some(ex)))))
}

/// `parquetExportWrite(writer, items, columns, finals)`: checks and copies a page on
/// this thread (`columns`: per field, one typed array per item), encodes and writes it
/// on the pool.
fn export_write(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<ExportObj>(0)?.0.clone();
    let items = ItemInfo::parse_list(&cx.value(1)?)?;
    let columns = cx.typed_lists(2, "columns")?;
    let finals = cx.typed_list(3, "finals")?;
    let page = {
        let mut guard = shared.lock();
        let Some(ex) = guard.as_mut() else {
            return Err(Error::closed("parquet export"));
        };
        let cols: Vec<Vec<&[u8]>> = columns
            .iter()
            .map(|c| c.iter().map(|t| t.bytes).collect())
            .collect();
        let fins: Vec<&[u8]> = finals.iter().map(|t| t.bytes).collect();
        ex.page(&items, &cols, &fins)?
    };
    cx.promise(
        move || match shared.lock().as_mut() {
            Some(ex) => ex.write(page),
            None => Err(Error::closed("parquet export")),
        },
        |cx, ()| Ok(cx.undefined()),
    )
}

/// `parquetExportFinish(writer)`: finishes the files and renames the dataset into place.
fn export_finish(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<ExportObj>(0)?.0.clone();
    cx.promise(
        move || match shared.lock().take() {
            // On failure the exporter is dropped here, which removes the staged files.
            Some(mut ex) => ex.finish(),
            None => Err(Error::closed("parquet export")),
        },
        |cx, t: ExportTotals| {
            cx.object(&[
                ("files", cx.number(t.files as f64)?),
                ("items", cx.number(t.items as f64)?),
                ("rows", cx.number(t.rows as f64)?),
                ("bytes", cx.number(t.bytes as f64)?),
            ])
        },
    )
}

/// `parquetExportAbort(writer)`: drops an export and its staged files.
fn export_abort(cx: &mut Cx) -> Result<Val> {
    drop(cx.obj::<ExportObj>(0)?.0.lock().take());
    Ok(cx.undefined())
}

/// `parquetImportOpen(dir, fields)`: lists the dataset and reads every file once,
/// checking it; resolves to `{ reader, files, items, rows }`.
fn import_open(cx: &mut Cx) -> Result<Val> {
    let dir = PathBuf::from(cx.str(0, "dir")?);
    let schema = Schema::parse(&cx.value(1)?)?;
    cx.promise(
        move || {
            let mut im = Importer::open(&dir, &schema)?;
            let totals = im.check()?;
            Ok((im, totals))
        },
        |cx, (im, t): (Importer, ImportTotals)| {
            cx.object(&[
                (
                    "reader",
                    cx.external(ImportObj(Arc::new(Mutex::new(Some(im)))))?,
                ),
                ("files", cx.number(t.files as f64)?),
                ("items", cx.number(t.items as f64)?),
                ("rows", cx.number(t.rows as f64)?),
            ])
        },
    )
}

/// `parquetImportNext(reader, pageSize)`: the next page `{ items, columns, finals }` of
/// at most `pageSize` whole items, or null at the end.
fn import_next(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<ImportObj>(0)?.0.clone();
    let n = checked_rows(cx.f64(1, "pageSize")?, "pageSize")?;
    cx.promise(
        move || match shared.lock().as_mut() {
            Some(im) => im.next_page(n),
            None => Err(Error::closed("parquet import")),
        },
        |cx, page: Option<ImportPage>| {
            let Some(p) = page else {
                return cx.js_value(&Value::Null);
            };
            let items = Value::Array(p.items.iter().map(ItemInfo::to_value).collect());
            let columns = p
                .fields
                .iter()
                .map(|b| cx.array_buffer_from(b))
                .collect::<Result<Vec<_>>>()?;
            cx.object(&[
                ("items", cx.js_value(&items)?),
                ("columns", cx.array(&columns)?),
                ("finals", cx.array_buffer_from(&p.finals)?),
            ])
        },
    )
}

/// `parquetImportClose(reader)`: closes an import's files.
fn import_close(cx: &mut Cx) -> Result<Val> {
    drop(cx.obj::<ImportObj>(0)?.0.lock().take());
    Ok(cx.undefined())
}

pub const EXPORTS: &[(&str, crate::ffi::Export)] = &[
    ("parquetExportBegin", export_begin),
    ("parquetExportWrite", export_write),
    ("parquetExportFinish", export_finish),
    ("parquetExportAbort", export_abort),
    ("parquetImportOpen", import_open),
    ("parquetImportNext", import_next),
    ("parquetImportClose", import_close),
];
