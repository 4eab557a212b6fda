mod common;

use common::{as_ref, rows, schema, xs};
use expbuf_core::state::{load_buffer, read_manifest, save_buffer, Target};
use expbuf_core::{Buffer, Dtype, ErrorCode, Field, Policy, RowsRef, Schema};
use std::fs;
use std::path::Path;
use std::sync::Arc;

fn kinds() -> Vec<Policy> {
    vec![
        Policy::Sequential,
        Policy::random_replacement(0.6).expect("p"),
        Policy::Reservoir,
    ]
}

fn target(b: &Buffer) -> Target<'_> {
    Target {
        schema: b.schema(),
        kind: b.policy().kind(),
        max_size: b.max_size(),
    }
}

/// A buffer of `policy` after `n` rows 0..n.
fn filled(policy: Policy, max: usize, n: i32) -> Buffer {
    let mut b = Buffer::new(schema(), policy, max, 42).expect("buffer");
    b.extend(&as_ref(&rows(&(0..n).collect::<Vec<_>>())))
        .expect("add");
    b
}

#[test]
fn round_trip_then_behaves_as_the_never_saved_twin() {
    let dir = tempfile::tempdir().expect("tmp");
    for policy in kinds() {
        // empty, partly filled, exactly full, and wrapped several times
        for n in [0, 3, 8, 29] {
            let path = dir.path().join(format!("{}-{n}", policy.kind()));
            let mut twin = filled(policy, 8, n);
            save_buffer(&twin, &path).expect("save");
            let mut loaded = load_buffer(&path, &target(&twin)).expect("load");
            assert_eq!(
                xs(&loaded.get_data().expect("d")),
                xs(&twin.get_data().expect("d"))
            );
            assert_eq!(loaded.total_added(), twin.total_added());
            for b in [&mut twin, &mut loaded] {
                b.extend(&as_ref(&rows(&(100..113).collect::<Vec<_>>())))
                    .expect("add");
            }
            assert_eq!(
                xs(&loaded.get_data().expect("d")),
                xs(&twin.get_data().expect("d")),
                "{policy:?} n={n}"
            );
            if n > 0 {
                assert_eq!(
                    xs(&loaded.sample(20, true).expect("s")),
                    xs(&twin.sample(20, true).expect("s"))
                );
            }
        }
    }
}

#[test]
fn saving_again_replaces_the_state_whole() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("s");
    save_buffer(&filled(Policy::Sequential, 8, 3), &path).expect("save");
    save_buffer(&filled(Policy::Sequential, 8, 20), &path).expect("save");
    let b = load_buffer(&path, &target(&filled(Policy::Sequential, 8, 0))).expect("load");
    assert_eq!(xs(&b.get_data().expect("d")), (12..20).collect::<Vec<_>>());
    // No temporary siblings are left behind.
    assert_eq!(fs::read_dir(dir.path()).expect("ls").count(), 1);
}

#[test]
fn a_smaller_max_size_keeps_the_newest_rows() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("s");
    save_buffer(&filled(Policy::Sequential, 10, 25), &path).expect("save");
    let small = filled(Policy::Sequential, 4, 0);
    let b = load_buffer(&path, &target(&small)).expect("load");
    assert_eq!(xs(&b.get_data().expect("d")), vec![21, 22, 23, 24]);
    assert_eq!(b.max_size(), 4);
}

#[test]
fn files_are_numpy_with_rows_oldest_first() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("s");
    save_buffer(&filled(Policy::Sequential, 5, 7), &path).expect("save");
    let m = read_manifest(&path).expect("manifest");
    assert_eq!(m.rows, 5);
    let x = fs::read(path.join(m.fields[0].file.as_ref().expect("file"))).expect("read");
    let header = String::from_utf8_lossy(&x[10..x.len().min(128)]).to_string();
    assert!(
        header.contains("'descr': '<i4'") && header.contains("'shape': (5,)"),
        "{header}"
    );
    let start = x.len() - 20;
    let vals: Vec<i32> = x[start..]
        .chunks(4)
        .map(|c| i32::from_le_bytes(c.try_into().expect("4")))
        .collect();
    assert_eq!(vals, vec![2, 3, 4, 5, 6]);
}

/// Replaces `from` by `to` in file `col` of state `p`, fixing its checksum in the
/// manifest so that only the header check can catch it.
fn replace_in_header(p: &Path, col: &str, from: &[u8], to: &[u8]) {
    let mut b = fs::read(p.join(col)).expect("r");
    let at = b
        .windows(from.len())
        .position(|w| w == from)
        .expect("present");
    b[at..at + to.len()].copy_from_slice(to);
    fs::write(p.join(col), &b).expect("w");
    let mut m = read_manifest(p).expect("m");
    for f in &mut m.files {
        if f.name == col {
            f.crc32 = crc32fast::hash(&b);
        }
    }
    fs::write(
        p.join("manifest.json"),
        serde_json::to_vec(&m).expect("json"),
    )
    .expect("w");
}

fn expect_code(path: &Path, t: &Target<'_>, code: ErrorCode, names: &str) {
    let e = load_buffer(path, t).expect_err("must fail");
    assert_eq!(e.code, code, "{}", e.message);
    assert!(
        e.message.contains(names),
        "message '{}' should name '{names}'",
        e.message
    );
}

#[test]
fn every_kind_of_damage_is_refused_with_its_code() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = dir.path().join("good");
    let reference = filled(Policy::Reservoir, 8, 20);
    save_buffer(&reference, &good).expect("save");
    let t = target(&reference);
    let m = read_manifest(&good).expect("manifest");
    let col = m.fields[1].file.clone().expect("file");
    let damaged = |name: &str, f: &dyn Fn(&Path)| {
        let p = dir.path().join(name);
        fs::create_dir_all(&p).expect("mkdir");
        for e in fs::read_dir(&good).expect("ls") {
            let e = e.expect("entry");
            fs::copy(e.path(), p.join(e.file_name())).expect("copy");
        }
        f(&p);
        p
    };
    expect_code(
        &dir.path().join("absent"),
        &t,
        ErrorCode::CorruptState,
        "no such state directory",
    );
    let p = damaged("no-manifest", &|p| {
        fs::remove_file(p.join("manifest.json")).expect("rm")
    });
    expect_code(&p, &t, ErrorCode::CorruptState, "manifest.json");
    let p = damaged("not-json", &|p| {
        fs::write(p.join("manifest.json"), b"{ nope").expect("w")
    });
    expect_code(&p, &t, ErrorCode::CorruptState, "manifest.json");
    let p = damaged("version", &|p| {
        let s = fs::read_to_string(p.join("manifest.json"))
            .expect("r")
            .replace("\"version\": 1", "\"version\": 99");
        fs::write(p.join("manifest.json"), s).expect("w");
    });
    expect_code(&p, &t, ErrorCode::CorruptState, "version 99");
    let p = damaged("missing-col", &|p| {
        fs::remove_file(p.join(&col)).expect("rm")
    });
    expect_code(&p, &t, ErrorCode::CorruptState, &col);
    let p = damaged("truncated", &|p| {
        let b = fs::read(p.join(&col)).expect("r");
        fs::write(p.join(&col), &b[..b.len() - 3]).expect("w");
    });
    expect_code(&p, &t, ErrorCode::CorruptState, &col);
    let p = damaged("longer", &|p| {
        let mut b = fs::read(p.join(&col)).expect("r");
        b.extend_from_slice(&[0, 0, 0, 0]);
        fs::write(p.join(&col), b).expect("w");
    });
    expect_code(&p, &t, ErrorCode::CorruptState, &col);
    let p = damaged("flipped", &|p| {
        let mut b = fs::read(p.join(&col)).expect("r");
        let i = b.len() - 5;
        b[i] ^= 0x10;
        fs::write(p.join(&col), b).expect("w");
    });
    expect_code(&p, &t, ErrorCode::CorruptState, "checksum");
    let p = damaged("any-flipped", &|p| {
        let mut b = fs::read(p.join("any.bin")).expect("r");
        b[3] ^= 1;
        fs::write(p.join("any.bin"), b).expect("w");
    });
    expect_code(&p, &t, ErrorCode::CorruptState, "any.bin");
    // Wrong headers with matching checksums: the file is rewritten and so is its entry.
    let p = damaged("header", &|p| replace_in_header(p, &col, b"<f4", b"<f8"));
    expect_code(&p, &t, ErrorCode::CorruptState, "<f8");
    let p = damaged("shape", &|p| replace_in_header(p, &col, b"(8, ", b"(9, "));
    expect_code(&p, &t, ErrorCode::CorruptState, "(9, 2)");
    let other = Buffer::new(schema(), Policy::Sequential, 8, 1).expect("b");
    expect_code(&good, &target(&other), ErrorCode::SchemaMismatch, "kind");
    let p = damaged("x.expbuf-tmp-1-0", &|_| {});
    expect_code(&p, &t, ErrorCode::CorruptState, "half-written");
}

#[test]
fn user_state_round_trip_queued_rows_log_and_cursor() {
    use expbuf_core::state::{read_user, write_user};
    use expbuf_core::user::SavedUser;
    let dir = tempfile::tempdir().expect("tmp");
    let saved = SavedUser {
        queued: rows(&[7, 8, 9]),
        log: vec![1.5, 2.5, 3.25],
        cursor: 41,
    };
    write_user(dir.path(), &schema(), &saved).expect("write");
    let back = read_user(dir.path(), &schema()).expect("read");
    assert_eq!(xs(&back.queued), vec![7, 8, 9]);
    assert_eq!(back.queued.timestamps, vec![7.0, 8.0, 9.0]);
    assert_eq!(back.log, saved.log);
    assert_eq!(back.cursor, 41);
    // A flipped byte in the log is refused.
    let p = dir.path().join("log.npy");
    let mut b = fs::read(&p).expect("r");
    let i = b.len() - 1;
    b[i] ^= 4;
    fs::write(&p, b).expect("w");
    assert_eq!(
        read_user(dir.path(), &schema()).expect_err("flip").code,
        ErrorCode::CorruptState
    );
}

/// Rewrites `manifest.json` of the state in `dir` through `edit`.
fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let p = dir.join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_slice(&fs::read(&p).expect("read")).expect("json");
    edit(&mut m);
    fs::write(&p, serde_json::to_vec(&m).expect("json")).expect("write");
}

#[test]
fn a_typed_field_without_a_file_is_corrupt_not_skipped() {
    // Two typed fields of the same row size: skipping the first would load the
    // second's column into it with every checksum passing.
    let s = Arc::new(
        Schema::new(vec![
            Field::typed("a", Dtype::Int32, &[]).expect("a"),
            Field::typed("b", Dtype::Int32, &[]).expect("b"),
        ])
        .expect("schema"),
    );
    let mut buf = Buffer::new(s.clone(), Policy::Sequential, 4, 1).expect("buffer");
    let a: Vec<u8> = [1i32, 2].iter().flat_map(|x| x.to_le_bytes()).collect();
    let b: Vec<u8> = [5i32, 6].iter().flat_map(|x| x.to_le_bytes()).collect();
    buf.extend(&RowsRef {
        rows: 2,
        typed: vec![&a, &b],
        any: vec![],
        timestamps: None,
    })
    .expect("add");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("state");
    save_buffer(&buf, &path).expect("save");
    edit_manifest(&path, |m| {
        m["fields"][0]
            .as_object_mut()
            .expect("field")
            .remove("file");
    });
    let t = Target {
        schema: &s,
        kind: "sequential",
        max_size: 4,
    };
    let e = load_buffer(&path, &t).expect_err("no file");
    assert_eq!(e.code, ErrorCode::CorruptState);
    assert!(e.message.contains("field 'a': no file"), "{}", e.message);
}

#[test]
fn hostile_sizes_in_a_manifest_fail_before_allocating() {
    use expbuf_core::state::read_user;
    use expbuf_core::user::SavedUser;
    let dir = tempfile::tempdir().expect("tmp");
    let saved = SavedUser {
        queued: rows(&[1, 2]),
        log: vec![1.0],
        cursor: 0,
    };
    expbuf_core::state::write_user(dir.path(), &schema(), &saved).expect("write");
    // Claims of 2^31 - 1 rows and a log as long: the files are a few bytes, so each
    // claim must be refused by its size check, not by an allocation of gigabytes.
    edit_manifest(dir.path(), |m| m["rows"] = serde_json::json!(2147483647));
    let e = read_user(dir.path(), &schema()).expect_err("rows");
    assert_eq!(e.code, ErrorCode::CorruptState);
    write_user_again(dir.path(), &saved);
    edit_manifest(dir.path(), |m| m["logRows"] = serde_json::json!(2147483647));
    let e = read_user(dir.path(), &schema()).expect_err("log rows");
    assert_eq!(e.code, ErrorCode::CorruptState);
    assert!(e.message.contains("log.npy"), "{}", e.message);
    write_user_again(dir.path(), &saved);
    edit_manifest(dir.path(), |m| {
        for f in m["files"].as_array_mut().expect("files") {
            if f["name"] == "any.bin" {
                f["bytes"] = serde_json::json!(1u64 << 40);
            }
        }
    });
    let e = read_user(dir.path(), &schema()).expect_err("any bytes");
    assert_eq!(e.code, ErrorCode::CorruptState);
}

fn write_user_again(dir: &Path, saved: &expbuf_core::user::SavedUser) {
    for e in fs::read_dir(dir).expect("dir") {
        fs::remove_file(e.expect("entry").path()).expect("rm");
    }
    expbuf_core::state::write_user(dir, &schema(), saved).expect("write");
}
