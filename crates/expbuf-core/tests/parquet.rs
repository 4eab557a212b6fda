//! Parquet datasets: export then import gives the items back; bad datasets are refused
//! with the documented codes before anything is read into a page. (The interop tests
//! with pyarrow and DuckDB live in `__test__/parquet.test.ts`.)

use expbuf_core::parquet::{Exporter, ImportPage, Importer, ItemInfo, ItemKind, MetaValue};
use expbuf_core::{Dtype, ErrorCode, Field, Schema};
use std::path::Path;

/// `{ state: float32[2, 2], reward: float32 }`.
fn schema() -> Schema {
    Schema::new(vec![
        Field::typed("state", Dtype::Float32, &[2, 2]).expect("field"),
        Field::typed("reward", Dtype::Float32, &[]).expect("field"),
    ])
    .expect("schema")
}

fn episode(id: &str, rows: usize, vehicle: &str, extra: Option<f64>) -> ItemInfo {
    let mut meta = vec![("vehicle".to_owned(), MetaValue::Str(vehicle.to_owned()))];
    if let Some(x) = extra {
        meta.push(("driver".to_owned(), MetaValue::Num(x)));
    }
    ItemInfo {
        kind: ItemKind::Episode,
        id: id.to_owned(),
        time: 1000.25,
        rows,
        terminated: rows.is_multiple_of(2),
        has_final: true,
        meta,
    }
}

/// Steps of `items`: state = [k, k+1, k+2, k+3] at the k-th row overall, reward = k.
fn columns(items: &[ItemInfo], first: usize) -> (Vec<u8>, Vec<u8>) {
    let rows: usize = items.iter().map(|i| i.rows).sum();
    let (mut s, mut r) = (Vec::new(), Vec::new());
    for k in first..first + rows {
        for j in 0..4 {
            s.extend_from_slice(&((k + j) as f32).to_le_bytes());
        }
        r.extend_from_slice(&(k as f32).to_le_bytes());
    }
    (s, r)
}

fn export(dir: &Path, pages: &[Vec<ItemInfo>], partition_by: &[&str]) -> expbuf_core::Result<()> {
    let keys: Vec<String> = partition_by.iter().map(|s| (*s).to_owned()).collect();
    let mut ex = Exporter::new(dir, &schema(), &keys)?;
    let mut first = 0;
    for items in pages {
        let (s, r) = columns(items, first);
        first += items.iter().map(|i| i.rows).sum::<usize>();
        // Per field, one slice per item.
        let (mut ss, mut rs, mut at) = (Vec::new(), Vec::new(), 0);
        for it in items {
            ss.push(&s[at * 16..(at + it.rows) * 16]);
            rs.push(&r[at * 4..(at + it.rows) * 4]);
            at += it.rows;
        }
        let finals: Vec<Vec<u8>> = items
            .iter()
            .filter(|i| i.has_final)
            .map(|i| vec![i.rows as u8; 16])
            .collect();
        let finals: Vec<&[u8]> = finals.iter().map(Vec::as_slice).collect();
        let page = ex.page(items, &[ss, rs], &finals)?;
        ex.write(page)?;
    }
    ex.finish()?;
    Ok(())
}

fn import_all(dir: &Path) -> expbuf_core::Result<Vec<ImportPage>> {
    let mut im = Importer::open(dir, &schema())?;
    im.check()?;
    let mut pages = Vec::new();
    while let Some(p) = im.next_page(2)? {
        pages.push(p);
    }
    Ok(pages)
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in walk(dir) {
        if e.extension().is_some_and(|x| x == "parquet") {
            out.push(e);
        }
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn export_then_import_gives_the_items_back_with_new_meta_columns_widened() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("ds");
    // The second page brings a meta key the first lacked: the first page's files get it.
    let pages = vec![
        vec![episode("a", 3, "v1", None), episode("b", 2, "../x", None)],
        vec![episode("c", 4, "v1", Some(7.0))],
    ];
    export(&dir, &pages, &["vehicle"]).expect("export");
    let names: Vec<String> = files(&dir)
        .iter()
        .map(|p| p.strip_prefix(&dir).expect("inside").display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "vehicle=..%2Fx/part-00000.parquet",
            "vehicle=v1/part-00000.parquet",
            "vehicle=v1/part-00001.parquet"
        ]
    );
    assert!(
        !tmp.path().read_dir().expect("ls").any(|e| e
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .contains(".expbuf-tmp-")),
        "no staging directory left"
    );
    let got = import_all(&dir).expect("import");
    let items: Vec<&ItemInfo> = got.iter().flat_map(|p| &p.items).collect();
    let mut ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["a", "b", "c"]);
    let c = items.iter().find(|i| i.id == "c").expect("c");
    assert_eq!(c.rows, 4);
    assert!(c.terminated && c.has_final);
    assert!(c.meta.contains(&("driver".to_owned(), MetaValue::Num(7.0))));
    let b = items.iter().find(|i| i.id == "b").expect("b");
    assert_eq!(
        b.meta,
        vec![("vehicle".to_owned(), MetaValue::Str("../x".to_owned()))]
    );
    assert!(b.terminated);
    assert!(!items.iter().find(|i| i.id == "a").expect("a").terminated);
    // b's page: its rows are rows 3..5 of the export, its final state [2; 16].
    let page = got
        .iter()
        .find(|p| p.items.iter().any(|i| i.id == "b"))
        .expect("page");
    let at = page.items.iter().position(|i| i.id == "b").expect("b");
    let before: usize = page.items[..at].iter().map(|i| i.rows).sum();
    let reward = &page.fields[1][before * 4..(before + 2) * 4];
    assert_eq!(reward, [3f32.to_le_bytes(), 4f32.to_le_bytes()].concat());
    let finals_before = page.items[..at].iter().filter(|i| i.has_final).count();
    assert_eq!(
        &page.finals[finals_before * 16..(finals_before + 1) * 16],
        [2u8; 16]
    );
}

#[test]
fn refuses_an_existing_target_a_missing_partition_key_and_mixed_meta_types() {
    let tmp = tempfile::tempdir().expect("tmp");
    let e = Exporter::new(tmp.path(), &schema(), &[])
        .err()
        .expect("exists");
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(e.message.contains("already exists"), "{}", e.message);

    let dir = tmp.path().join("ds");
    let mut lacking = episode("a", 1, "v1", None);
    lacking.meta.clear();
    let e = export(&dir, &[vec![lacking]], &["vehicle"]).expect_err("no key");
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(
        e.message.contains("has no meta key 'vehicle'"),
        "{}",
        e.message
    );
    assert!(!dir.exists());

    let mut number = episode("b", 1, "v1", None);
    number.meta[0].1 = MetaValue::Num(3.0);
    let e = export(&dir, &[vec![episode("a", 1, "v1", None), number]], &[]).expect_err("mixed");
    assert_eq!(e.code, ErrorCode::SchemaMismatch);
    assert!(e.message.contains("meta key 'vehicle'"), "{}", e.message);
    assert_eq!(
        std::fs::read_dir(tmp.path()).expect("ls").count(),
        0,
        "nothing left"
    );
}

#[test]
fn refuses_a_truncated_file_naming_it_and_another_schema() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("ds");
    export(&dir, &[vec![episode("a", 3, "v1", None)]], &["vehicle"]).expect("export");

    let other = Schema::new(vec![
        Field::typed("state", Dtype::Float32, &[4]).expect("field"),
        Field::typed("reward", Dtype::Float32, &[]).expect("field"),
    ])
    .expect("schema");
    let e = Importer::open(&dir, &other)
        .and_then(|mut im| im.check())
        .expect_err("shape");
    assert_eq!(e.code, ErrorCode::SchemaMismatch);
    assert!(e.message.contains("column 'state'"), "{}", e.message);

    let f = &files(&dir)[0];
    let bytes = std::fs::read(f).expect("read");
    std::fs::write(f, &bytes[..bytes.len() / 2]).expect("truncate");
    let e = import_all(&dir).expect_err("truncated");
    assert_eq!(e.code, ErrorCode::CorruptState);
    assert!(e.message.contains("part-00000.parquet"), "{}", e.message);
}

#[test]
fn an_empty_export_is_one_file_of_no_rows() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("ds");
    export(&dir, &[], &["vehicle"]).expect("export");
    assert_eq!(files(&dir).len(), 1);
    assert!(import_all(&dir).expect("import").is_empty());
}
