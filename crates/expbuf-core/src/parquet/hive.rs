//! Hive's escaping of partition directory names (`FileUtils.escapePathName`): the
//! characters that could end, split or confuse a path segment become `%XX`, so that a
//! meta value never becomes a path. pyarrow (`segment_encoding='uri'`), Dask and Spark
//! undo it when they read the partition values.

use crate::error::{Error, ErrorCode, Result};

/// Hive's name for the partition of an empty (or null) value.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Whether Hive escapes `c` in a path name. Hive's set, plus NUL, which it omits
/// (no file name can hold it).
fn escaped(c: char) -> bool {
    matches!(
        c,
        '\0'..='\u{1f}'
            | '"'
            | '#'
            | '%'
            | '\''
            | '*'
            | '/'
            | ':'
            | '='
            | '?'
            | '\\'
            | '\u{7f}'
            | '{'
            | '['
            | ']'
            | '^'
    )
}

/// `s` as Hive writes it in a directory name; the empty string is
/// `__HIVE_DEFAULT_PARTITION__`.
pub fn escape(s: &str) -> String {
    if s.is_empty() {
        return DEFAULT_PARTITION.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if escaped(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Undoes [`escape`]; `what` names the directory in the error.
pub fn unescape(s: &str, what: &str) -> Result<String> {
    if s == DEFAULT_PARTITION {
        return Ok(String::new());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(b) = hex else {
                return Err(bad(what, "a '%' not followed by two hex digits"));
            };
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad(what, "escapes that are not UTF-8"))
}

fn bad(what: &str, why: &str) -> Error {
    Error::new(
        ErrorCode::SchemaMismatch,
        format!("{what}: not a partition directory name ({why})"),
    )
}

/// The directory name `key=value` of one partition.
pub fn segment(key: &str, value: &str) -> String {
    format!("{}={}", escape(key), escape(value))
}

/// `(key, value)` of a directory name `key=value`, unescaped; `None` when it is not
/// of that form.
pub fn parse_segment(name: &str, what: &str) -> Result<Option<(String, String)>> {
    let Some((k, v)) = name.split_once('=') else {
        return Ok(None);
    };
    Ok(Some((unescape(k, what)?, unescape(v, what)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_hive_and_round_trips() {
        assert_eq!(escape("v1"), "v1");
        assert_eq!(escape("../../etc"), "..%2F..%2Fetc");
        assert_eq!(escape("a=b/c%d"), "a%3Db%2Fc%25d");
        assert_eq!(escape("nul\0x"), "nul%00x");
        assert_eq!(escape(""), DEFAULT_PARTITION);
        assert_eq!(escape("ü ok"), "ü ok");
        for s in [
            "",
            "..",
            ".",
            "a/b",
            "%41",
            "x=y",
            "é\u{1}",
            "C:\\win",
            "?*[]^{}#'\"",
        ] {
            assert_eq!(unescape(&escape(s), "d").expect("round trip"), s);
            assert!(!escape(s).contains('/'));
            assert!(!escape(s).contains('\0'));
        }
        assert_eq!(segment("v=x", ".."), "v%3Dx=..");
        assert_eq!(
            parse_segment("v%3Dx=..", "d").expect("ok"),
            Some(("v=x".to_owned(), "..".to_owned()))
        );
        assert_eq!(parse_segment("plain", "d").expect("ok"), None);
        assert!(unescape("%zz", "d").is_err());
        assert!(unescape("%C3", "d").is_err());
    }
}
