//! The fields of a buffer: typed columns of fixed element count, or `any` values that
//! arrive already serialized. Parsing and checking a field declaration happens here
//! only; the TS layer builds its typed views from what `Schema::to_value` returns.

use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::input::{expected, Value};

/// Largest element count of one typed field per row; bounds a row at a few MiB so that
/// size arithmetic never overflows.
pub const MAX_FIELD_ELEMENTS: usize = 1 << 24;

/// Most fields one schema declares.
pub const MAX_FIELDS: usize = 256;

/// How a field stores its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// `elements` values of `dtype` per row (`elements` = product of `shape`).
    Typed {
        dtype: Dtype,
        shape: Vec<usize>,
        elements: usize,
    },
    /// One opaque serialized value per row.
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
    /// A 0/1 field that also takes `true`/`false` (a replay step's `terminated`).
    pub flag: bool,
    /// The value a step may leave out (a replay step's `truncated`, `env`).
    pub default: Option<u32>,
}

impl Field {
    pub fn typed(name: &str, dtype: Dtype, shape: &[usize]) -> Result<Field> {
        let mut elements: usize = 1;
        for &d in shape {
            if d == 0 {
                return Err(Error::invalid_argument(format!(
                    "field '{name}': shape {shape:?} has a zero dimension"
                )));
            }
            elements = elements.saturating_mul(d);
        }
        if elements > MAX_FIELD_ELEMENTS {
            return Err(Error::invalid_argument(format!(
                "field '{name}': shape {shape:?} has {elements} elements, more than {MAX_FIELD_ELEMENTS}"
            )));
        }
        Ok(Field {
            name: name.to_owned(),
            kind: FieldKind::Typed {
                dtype,
                shape: shape.to_vec(),
                elements,
            },
            flag: false,
            default: None,
        })
    }

    pub fn any(name: &str) -> Field {
        Field {
            name: name.to_owned(),
            kind: FieldKind::Any,
            flag: false,
            default: None,
        }
    }

    /// This field as a 0/1 flag that takes booleans.
    pub fn as_flag(mut self) -> Field {
        self.flag = true;
        self
    }

    /// This field with a value a step may leave out.
    pub fn with_default(mut self, value: u32) -> Field {
        self.default = Some(value);
        self
    }

    /// Bytes one row of this field takes in a typed column (0 for `any`).
    pub fn row_bytes(&self) -> usize {
        match &self.kind {
            FieldKind::Typed {
                dtype, elements, ..
            } => dtype.size() * elements,
            FieldKind::Any => 0,
        }
    }

    /// The dtype of a typed field.
    pub fn dtype(&self) -> Option<Dtype> {
        match &self.kind {
            FieldKind::Typed { dtype, .. } => Some(*dtype),
            FieldKind::Any => None,
        }
    }

    /// Elements per row of a typed field (0 for `any`).
    pub fn elements(&self) -> usize {
        match &self.kind {
            FieldKind::Typed { elements, .. } => *elements,
            FieldKind::Any => 0,
        }
    }

    /// `name: dtype[shape]` or `name: any`.
    pub fn describe(&self) -> String {
        match &self.kind {
            FieldKind::Typed { dtype, shape, .. } => {
                format!("{}: {}{:?}", self.name, dtype.name(), shape)
            }
            FieldKind::Any => format!("{}: any", self.name),
        }
    }

    /// Parses one field declaration: `'any'`, a dtype name, or `{ dtype, shape? }`.
    fn parse(name: &str, spec: &Value) -> Result<Field> {
        let bad = || {
            Error::invalid_argument(format!(
                "field '{name}': expected 'any', a dtype ({}) or {{ dtype, shape }}, got {}",
                Dtype::names(),
                spec.describe()
            ))
        };
        match spec {
            Value::String(s) if s == "any" => Ok(Field::any(name)),
            Value::String(s) => Field::typed(name, Dtype::parse(s, name)?, &[]),
            Value::Object(entries) => {
                let mut dtype = None;
                let mut shape = None;
                for (k, v) in entries {
                    match k.as_str() {
                        "dtype" => dtype = Some(v),
                        "shape" => shape = Some(v),
                        other => {
                            return Err(Error::invalid_argument(format!(
                            "field '{name}': unknown key '{other}' (a field is {{ dtype, shape }})"
                        )))
                        }
                    }
                }
                let dtype = match dtype {
                    Some(Value::String(s)) if s != "any" => Dtype::parse(s, name)?,
                    _ => return Err(bad()),
                };
                let dims = match shape {
                    None | Some(Value::Undefined) => Vec::new(),
                    Some(Value::Array(dims)) => dims
                        .iter()
                        .enumerate()
                        .map(|(i, d)| dimension(name, i, d))
                        .collect::<Result<Vec<_>>>()?,
                    Some(other) => {
                        return Err(expected(
                            &format!("field '{name}': shape"),
                            "an array of positive integers",
                            other,
                        ))
                    }
                };
                Field::typed(name, dtype, &dims)
            }
            _ => Err(bad()),
        }
    }
}

impl Field {
    /// A field from `Schema::to_value`'s form: `{ name, dtype?, shape? }`.
    fn parse_described(entries: &[(String, Value)]) -> Result<Field> {
        let get = |k: &str| entries.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        let Some(Value::String(name)) = get("name") else {
            return Err(Error::invalid_argument(
                "fields: a field description needs a name",
            ));
        };
        match get("dtype") {
            None | Some(Value::Undefined) => Ok(Field::any(name)),
            Some(dtype) => {
                let spec = Value::Object(vec![
                    ("dtype".to_owned(), dtype.clone()),
                    (
                        "shape".to_owned(),
                        get("shape").cloned().unwrap_or(Value::Undefined),
                    ),
                ]);
                let mut field = Field::parse(name, &spec)?;
                // A described step field keeps what makes it a flag or optional.
                if let Some(Value::Bool(true)) = get("flag") {
                    field = field.as_flag();
                }
                match get("default") {
                    None | Some(Value::Undefined) => {}
                    Some(Value::Number(d)) if crate::input::whole_in(*d, 0.0..=u32::MAX as f64) => {
                        field = field.with_default(*d as u32);
                    }
                    Some(other) => {
                        return Err(expected(
                            &format!("field '{name}'.default"),
                            "an integer in [0, 2^32)",
                            other,
                        ))
                    }
                }
                Ok(field)
            }
        }
    }
}

fn dimension(name: &str, i: usize, d: &Value) -> Result<usize> {
    match d {
        Value::Number(n) if n.fract() == 0.0 && *n >= 1.0 && *n <= MAX_FIELD_ELEMENTS as f64 => {
            Ok(*n as usize)
        }
        other => Err(Error::invalid_argument(format!(
            "field '{name}': shape[{i}] must be a positive integer (at most {MAX_FIELD_ELEMENTS}), got {}",
            other.describe()
        ))),
    }
}

/// An ordered set of uniquely named fields. Typed and `any` fields are numbered
/// separately: column data is passed as one list of typed columns and one list of
/// `any` columns, each in field order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    fields: Vec<Field>,
    typed: Vec<usize>,
    any: Vec<usize>,
}

impl Schema {
    pub fn new(fields: Vec<Field>) -> Result<Schema> {
        if fields.is_empty() {
            return Err(Error::invalid_argument(
                "fields: a buffer needs at least one field",
            ));
        }
        if fields.len() > MAX_FIELDS {
            return Err(Error::invalid_argument(format!(
                "fields: {} fields, more than {MAX_FIELDS}",
                fields.len()
            )));
        }
        for (i, f) in fields.iter().enumerate() {
            if f.name.is_empty() {
                return Err(Error::invalid_argument(format!(
                    "fields[{i}]: a field name is empty"
                )));
            }
            if fields[..i].iter().any(|g| g.name == f.name) {
                return Err(Error::invalid_argument(format!(
                    "fields: '{}' is declared twice",
                    f.name
                )));
            }
        }
        let typed = (0..fields.len())
            .filter(|&i| matches!(fields[i].kind, FieldKind::Typed { .. }))
            .collect();
        let any = (0..fields.len())
            .filter(|&i| matches!(fields[i].kind, FieldKind::Any))
            .collect();
        Ok(Schema { fields, typed, any })
    }

    /// Parses field names (every field `any`), a schema object of field specs, or the
    /// list `to_value` gives (`[{ name, dtype?, shape? }]`, as the TS layer hands a
    /// buffer's fields back to make its queue).
    pub fn parse(input: &Value) -> Result<Schema> {
        let fields = match input {
            Value::Array(names) => names
                .iter()
                .enumerate()
                .map(|(i, n)| match n {
                    Value::String(s) if !s.is_empty() => Ok(Field::any(s)),
                    Value::Object(entries) => Field::parse_described(entries),
                    other => Err(expected(
                        &format!("fields[{i}]"),
                        "a non-empty field name",
                        other,
                    )),
                })
                .collect::<Result<Vec<_>>>()?,
            Value::Object(entries) => entries
                .iter()
                .map(|(name, spec)| Field::parse(name, spec))
                .collect::<Result<Vec<_>>>()?,
            other => {
                return Err(expected(
                    "fields",
                    "an array of names or a schema object",
                    other,
                ))
            }
        };
        Schema::new(fields)
    }

    /// The fields as the TS layer reads them: `[{ name, dtype?, shape }]` in order.
    pub fn to_value(&self) -> Value {
        Value::Array(
            self.fields
                .iter()
                .map(|f| {
                    let mut entries = vec![("name".to_owned(), Value::String(f.name.clone()))];
                    if let FieldKind::Typed { dtype, shape, .. } = &f.kind {
                        entries.push(("dtype".to_owned(), Value::String(dtype.name().into())));
                        entries.push((
                            "shape".to_owned(),
                            Value::Array(shape.iter().map(|&d| Value::Number(d as f64)).collect()),
                        ));
                    }
                    if f.flag {
                        entries.push(("flag".to_owned(), Value::Bool(true)));
                    }
                    if let Some(d) = f.default {
                        entries.push(("default".to_owned(), Value::Number(d as f64)));
                    }
                    Value::Object(entries)
                })
                .collect(),
        )
    }

    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Typed fields, in field order.
    pub fn typed_fields(&self) -> impl Iterator<Item = &Field> {
        self.typed.iter().map(|&i| &self.fields[i])
    }

    /// `any` fields, in field order.
    pub fn any_fields(&self) -> impl Iterator<Item = &Field> {
        self.any.iter().map(|&i| &self.fields[i])
    }

    /// The position of field `name` among the typed fields.
    pub fn typed_index(&self, name: &str) -> Option<usize> {
        self.typed_fields().position(|f| f.name == name)
    }

    pub fn typed_count(&self) -> usize {
        self.typed.len()
    }

    pub fn any_count(&self) -> usize {
        self.any.len()
    }

    /// Bytes of one row over all typed fields.
    pub fn typed_row_bytes(&self) -> usize {
        self.typed_fields().map(Field::row_bytes).sum()
    }

    /// `a: float32[4], b: any` — for messages.
    pub fn describe(&self) -> String {
        self.fields
            .iter()
            .map(Field::describe)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `SchemaMismatch` naming `what` (e.g. "the state") unless `other` has the same
    /// fields: names, dtypes and shapes, in order. How a step may give a field (a flag's
    /// booleans, an optional field's default) is not compared: it is not part of the
    /// stored rows, and a saved state's manifest does not record it.
    pub fn expect_same(&self, other: &Schema, what: &str, ours: &str) -> Result<()> {
        let same = self.fields.len() == other.fields.len()
            && self
                .fields
                .iter()
                .zip(&other.fields)
                .all(|(a, b)| a.name == b.name && a.kind == b.kind);
        if same {
            return Ok(());
        }
        Err(Error::new(
            crate::ErrorCode::SchemaMismatch,
            format!(
                "fields: {what} has [{}], {ours} [{}]",
                other.describe(),
                self.describe()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(entries: Vec<(&str, Value)>) -> Value {
        Value::object(&entries)
    }

    fn s(x: &str) -> Value {
        Value::String(x.to_owned())
    }

    #[test]
    fn parses_names_and_specs_in_order() {
        let names = Schema::parse(&Value::Array(vec![s("a"), s("b")])).expect("names");
        assert_eq!(names.any_count(), 2);
        let spec = obj(vec![
            (
                "obs",
                obj(vec![
                    ("dtype", s("float32")),
                    (
                        "shape",
                        Value::Array(vec![Value::Number(2.0), Value::Number(3.0)]),
                    ),
                ]),
            ),
            ("action", s("int32")),
            ("note", s("any")),
        ]);
        let schema = Schema::parse(&spec).expect("schema");
        assert_eq!(
            schema.describe(),
            "obs: float32[2, 3], action: int32[], note: any"
        );
        assert_eq!(schema.typed_row_bytes(), 6 * 4 + 4);
        assert_eq!(
            Schema::parse(&schema.to_value()).expect("round trip"),
            schema
        );
    }

    #[test]
    fn messages_name_the_field_and_the_fault() {
        let msg = |v: Value| Schema::parse(&v).expect_err("bad").message;
        assert_eq!(
            msg(obj(vec![(
                "x",
                obj(vec![
                    ("dtype", s("int8")),
                    ("shape", Value::Array(vec![Value::Number(0.0)]))
                ])
            )])),
            "field 'x': shape[0] must be a positive integer (at most 16777216), got number 0"
        );
        assert!(msg(obj(vec![("x", s("float16"))])).contains("unknown dtype 'float16'"));
        assert!(msg(obj(vec![("", s("int8"))])).contains("fields[0]: a field name is empty"));
        assert!(msg(Value::Array(vec![s("x"), s("x")])).contains("'x' is declared twice"));
        assert!(msg(Value::Array(vec![])).contains("at least one field"));
        assert!(msg(obj(vec![(
            "x",
            obj(vec![("dtype", s("int8")), ("shap", Value::Null)])
        )]))
        .contains("unknown key 'shap'"));
    }

    #[test]
    fn same_fields_whatever_marks_flags_and_defaults() {
        let plain = |name: &str| Field::typed(name, Dtype::Uint8, &[]).expect("field");
        let stored = Schema::new(vec![plain("terminated"), plain("env")]).expect("schema");
        let step = Schema::new(vec![plain("terminated").as_flag(), plain("env")]).expect("schema");
        step.expect_same(&stored, "the state", "the user")
            .expect("same rows");
        let other = Schema::new(vec![plain("terminated"), plain("envs")]).expect("schema");
        let err = step
            .expect_same(&other, "the state", "the user")
            .expect_err("renamed");
        assert_eq!(err.code, crate::ErrorCode::SchemaMismatch);
    }
}
