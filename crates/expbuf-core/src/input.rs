//! Input as the caller gave it: a small dynamic value that the binding builds from a JS
//! value, so that every check of a schema, an option or an argument, and its message,
//! lives here once.

use crate::error::{Error, Result};

/// A JS value, as far as expbuf reads options and schemas.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    /// Own enumerable properties, in the order JS enumerates them.
    Object(Vec<(String, Value)>),
    /// Anything else (a function, a symbol, a typed array, a bigint), by its kind.
    Other(&'static str),
}

impl Value {
    /// An object of `entries` (how Rust code and tests build option values).
    pub fn object(entries: &[(&str, Value)]) -> Value {
        Value::Object(
            entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    /// A short description for error messages ("the string \"64\"", "number NaN").
    pub fn describe(&self) -> String {
        match self {
            Value::Undefined => "undefined".to_owned(),
            Value::Null => "null".to_owned(),
            Value::Bool(b) => format!("boolean {b}"),
            Value::Number(n) => format!("number {}", number(*n)),
            Value::String(s) => {
                let short: String = s.chars().take(20).collect();
                let tail = if s.chars().count() > 20 { "…" } else { "" };
                format!("the string {:?}", format!("{short}{tail}"))
            }
            Value::Array(a) => format!("an array of {} elements", a.len()),
            Value::Object(_) => "an object".to_owned(),
            Value::Other(kind) => format!("a {kind}"),
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Value::Undefined)
    }
}

/// Largest integer a JS number holds exactly, plus one (2^53).
pub const SAFE_LIMIT: f64 = 9_007_199_254_740_992.0;

/// Whether `value` is a whole number within `range` (NaN and infinities never are).
pub fn whole_in(value: f64, range: std::ops::RangeInclusive<f64>) -> bool {
    value.fract() == 0.0 && range.contains(&value)
}

/// A number as JS prints it (`Infinity`, `NaN`, `3`, `2.5`).
pub fn number(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_owned()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        format!("{n}")
    }
}

/// Reads an options object: refuses keys outside `known` (naming the key and listing
/// the known ones) and gives typed accessors whose errors name `what.key`.
pub struct Options<'a> {
    what: &'a str,
    entries: &'a [(String, Value)],
}

const NO_ENTRIES: &[(String, Value)] = &[];

impl<'a> Options<'a> {
    /// `value` absent means no options. `what` names the object in messages
    /// (e.g. "options", "priority").
    pub fn new(value: &'a Value, what: &'a str, known: &[&str]) -> Result<Options<'a>> {
        let entries = match value {
            Value::Undefined => NO_ENTRIES,
            Value::Object(entries) => entries.as_slice(),
            other => {
                return Err(Error::invalid_argument(format!(
                    "{what}: expected an object, got {}",
                    other.describe()
                )))
            }
        };
        if let Some((key, _)) = entries.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            return Err(Error::invalid_argument(format!(
                "{what}: unknown option '{key}' (known options: {})",
                known.join(", ")
            )));
        }
        Ok(Options { what, entries })
    }

    /// The value of `key`; `Undefined` when absent (an explicit `undefined` counts as absent).
    pub fn get(&self, key: &str) -> &'a Value {
        const UNDEFINED: &Value = &Value::Undefined;
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map_or(UNDEFINED, |(_, v)| v)
    }

    /// The name `what.key`, for messages.
    pub fn name(&self, key: &str) -> String {
        format!("{}.{key}", self.what)
    }

    pub fn number(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            Value::Undefined => Ok(None),
            Value::Number(n) => Ok(Some(*n)),
            other => Err(expected(&self.name(key), "a number", other)),
        }
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            Value::Undefined => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            other => Err(expected(&self.name(key), "a boolean", other)),
        }
    }

    pub fn string(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            Value::Undefined => Ok(None),
            Value::String(s) => Ok(Some(s.as_str())),
            other => Err(expected(&self.name(key), "a string", other)),
        }
    }

    /// A nested options object.
    pub fn object(&self, key: &str) -> Option<&'a Value> {
        match self.get(key) {
            Value::Undefined => None,
            v => Some(v),
        }
    }
}

/// "`name`: expected `want`, got `got`".
pub fn expected(name: &str, want: &str, got: &Value) -> Error {
    Error::invalid_argument(format!("{name}: expected {want}, got {}", got.describe()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(entries: &[(&str, Value)]) -> Value {
        Value::object(entries)
    }

    #[test]
    fn unknown_keys_are_named_with_the_known_ones() {
        let v = obj(&[("sed", Value::Number(1.0))]);
        let e = Options::new(&v, "options", &["seed", "replaceProbability"])
            .err()
            .expect("refused");
        assert_eq!(
            e.message,
            "options: unknown option 'sed' (known options: seed, replaceProbability)"
        );
    }

    #[test]
    fn typed_accessors_name_the_key_and_describe_the_value() {
        let v = obj(&[
            ("seed", Value::String("1".into())),
            ("replacement", Value::Undefined),
        ]);
        let o = Options::new(&v, "options", &["seed", "replacement"]).expect("ok");
        let e = o.number("seed").expect_err("string");
        assert_eq!(
            e.message,
            "options.seed: expected a number, got the string \"1\""
        );
        assert_eq!(o.bool("replacement").expect("absent"), None);
        assert!(Options::new(&Value::Number(3.0), "options", &[]).is_err());
        assert!(Options::new(&Value::Undefined, "options", &[]).is_ok());
    }

    #[test]
    fn describe_prints_numbers_as_js_does() {
        assert_eq!(Value::Number(f64::INFINITY).describe(), "number Infinity");
        assert_eq!(Value::Number(f64::NAN).describe(), "number NaN");
        assert_eq!(Value::Number(3.0).describe(), "number 3");
        assert_eq!(
            Value::String("x".repeat(30)).describe(),
            format!("the string \"{}…\"", "x".repeat(20))
        );
    }
}
