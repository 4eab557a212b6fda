//! The TS union of error codes (`ts/error-codes.ts`) is generated from `ErrorCode`:
//! this test fails when the two differ, and `EXPBUF_BLESS=1 cargo test` rewrites it.

use expbuf_core::ErrorCode;

fn generated() -> String {
    let mut s = String::from(
        "// Generated from ErrorCode in crates/expbuf-core/src/error.rs; the core's test\n\
         // tests/error_codes.rs checks that this file matches (EXPBUF_BLESS=1 rewrites it).\n\n\
         /** The `code` of every error expbuf throws; the message names the field or argument. */\n\
         export type ErrorCode =\n",
    );
    let n = ErrorCode::ALL.len();
    for (i, c) in ErrorCode::ALL.iter().enumerate() {
        s.push_str(&format!("  /** {} */\n", c.doc()));
        s.push_str(&format!(
            "  | '{}'{}\n",
            c.as_str(),
            if i + 1 == n { ";" } else { "" }
        ));
    }
    s.push_str("\n/** Every code, in the core's order. */\nexport const ERROR_CODES: readonly ErrorCode[] = [\n");
    for c in ErrorCode::ALL {
        s.push_str(&format!("  '{}',\n", c.as_str()));
    }
    s.push_str("];\n");
    s
}

#[test]
fn ts_union_matches_the_rust_enum() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ts/error-codes.ts");
    let want = generated();
    if std::env::var_os("EXPBUF_BLESS").is_some() {
        std::fs::write(path, &want).expect("write ts/error-codes.ts");
    }
    let have = std::fs::read_to_string(path).expect("read ts/error-codes.ts");
    assert!(have == want, "ts/error-codes.ts is stale; run EXPBUF_BLESS=1 cargo test -p expbuf-core --test error_codes\n{want}");
}
