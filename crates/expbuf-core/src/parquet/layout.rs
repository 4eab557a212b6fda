//! The dataset's columns and metadata (see `mod.rs`): built here once, for the writer
//! and for the reader's checks; and the items as the TS layer describes them.

use crate::dtype::Dtype;
use crate::error::{Error, ErrorCode, Result};
use crate::input::{expected, Value};
use crate::schema::{Field, FieldKind};
use arrow_schema::{DataType, Field as ArrowField, Schema as ArrowSchema, SchemaRef};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The key of the key-value metadata entry that describes the dataset.
pub const METADATA_KEY: &str = "expbuf";
pub const FORMAT: &str = "expbuf-parquet";
pub const VERSION: u32 = 1;

pub const ID: &str = "id";
pub const KIND: &str = "kind";
pub const STEP: &str = "step";
pub const TIME: &str = "time";
pub const TERMINATED: &str = "terminated";
pub const FINAL_STATE: &str = "final_state";
/// Column names that neither a field nor a meta key may take.
pub const RESERVED: [&str; 6] = [ID, KIND, STEP, TIME, TERMINATED, FINAL_STATE];
/// The field whose spec a final state has (as the pool's rules say).
pub const STATE_FIELD: &str = "state";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Episode,
    Record,
}

impl ItemKind {
    pub fn name(self) -> &'static str {
        match self {
            ItemKind::Episode => "episode",
            ItemKind::Record => "record",
        }
    }

    pub fn parse(s: &str) -> Option<ItemKind> {
        match s {
            "episode" => Some(ItemKind::Episode),
            "record" => Some(ItemKind::Record),
            _ => None,
        }
    }
}

/// The type of a meta column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetaKind {
    String,
    Number,
}

impl MetaKind {
    pub fn name(self) -> &'static str {
        match self {
            MetaKind::String => "a string",
            MetaKind::Number => "a number",
        }
    }

    pub fn arrow(self) -> DataType {
        match self {
            MetaKind::String => DataType::Utf8,
            MetaKind::Number => DataType::Float64,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    Str(String),
    Num(f64),
}

impl MetaValue {
    pub fn kind(&self) -> MetaKind {
        match self {
            MetaValue::Str(_) => MetaKind::String,
            MetaValue::Num(_) => MetaKind::Number,
        }
    }

    /// The value as a partition directory holds it (before escaping).
    pub fn path_text(&self) -> String {
        match self {
            MetaValue::Str(s) => s.clone(),
            MetaValue::Num(n) => crate::input::number(*n),
        }
    }

    /// A partition directory's (unescaped) text as a value of `kind`.
    pub fn from_path(text: &str, kind: MetaKind, what: &str) -> Result<MetaValue> {
        match kind {
            MetaKind::String => Ok(MetaValue::Str(text.to_owned())),
            MetaKind::Number => match text.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(MetaValue::Num(n)),
                _ => Err(Error::new(
                    ErrorCode::SchemaMismatch,
                    format!("{what}: '{text}' is not a number, but the dataset's metadata says the key holds numbers"),
                )),
            },
        }
    }
}

/// What the dataset holds of an item besides its steps: the pool's item summary.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemInfo {
    pub kind: ItemKind,
    pub id: String,
    pub time: f64,
    pub rows: usize,
    /// An episode's end (true for records, where it means nothing).
    pub terminated: bool,
    pub has_final: bool,
    /// In the order the item gave its keys.
    pub meta: Vec<(String, MetaValue)>,
}

impl ItemInfo {
    /// Parses item summaries as the TS layer gives them:
    /// `[{ kind, id, time, rows, terminated?, final?, meta }]`.
    pub fn parse_list(v: &Value) -> Result<Vec<ItemInfo>> {
        let Value::Array(items) = v else {
            return Err(expected("items", "an array of item summaries", v));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, it)| ItemInfo::parse(it, &format!("items[{i}]")))
            .collect()
    }

    fn parse(v: &Value, at: &str) -> Result<ItemInfo> {
        let Value::Object(entries) = v else {
            return Err(expected(at, "an item summary", v));
        };
        let get = |k: &str| {
            entries
                .iter()
                .find(|(key, _)| key == k)
                .map_or(&Value::Undefined, |(_, v)| v)
        };
        let name = |k: &str| format!("{at}.{k}");
        let kind = match get("kind") {
            Value::String(s) => ItemKind::parse(s),
            _ => None,
        }
        .ok_or_else(|| expected(&name("kind"), "'episode' or 'record'", get("kind")))?;
        let Value::String(id) = get("id") else {
            return Err(expected(&name("id"), "a string", get("id")));
        };
        let time = match get("time") {
            Value::Number(t) if t.is_finite() => *t,
            other => return Err(expected(&name("time"), "a finite number", other)),
        };
        let rows = match get("rows") {
            Value::Number(n) if crate::input::whole_in(*n, 1.0..=crate::MAX_ROWS as f64) => {
                *n as usize
            }
            other => return Err(expected(&name("rows"), "a positive row count", other)),
        };
        let flag = |k: &str, default: bool| match get(k) {
            Value::Undefined => Ok(default),
            Value::Bool(b) => Ok(*b),
            other => Err(expected(&name(k), "a boolean", other)),
        };
        let meta = match get("meta") {
            Value::Undefined => Vec::new(),
            Value::Object(kv) => kv
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), MetaValue::Str(s.clone()))),
                    Value::Number(n) if n.is_finite() => Ok((k.clone(), MetaValue::Num(*n))),
                    other => Err(expected(
                        &format!("{at}.meta.{k}"),
                        "a string or a finite number",
                        other,
                    )),
                })
                .collect::<Result<Vec<_>>>()?,
            other => return Err(expected(&name("meta"), "an object", other)),
        };
        if kind == ItemKind::Record && rows != 1 {
            return Err(Error::invalid_argument(format!(
                "{at}.rows: a record is one step, got {rows}"
            )));
        }
        Ok(ItemInfo {
            kind,
            id: id.clone(),
            time,
            rows,
            terminated: flag("terminated", true)?,
            has_final: flag("final", false)?,
            meta,
        })
    }

    /// The summary as the TS layer reads it (the form `parse` takes).
    pub fn to_value(&self) -> Value {
        let mut entries = vec![
            (
                "kind".to_owned(),
                Value::String(self.kind.name().to_owned()),
            ),
            ("id".to_owned(), Value::String(self.id.clone())),
            ("time".to_owned(), Value::Number(self.time)),
            ("rows".to_owned(), Value::Number(self.rows as f64)),
        ];
        if self.kind == ItemKind::Episode {
            entries.push(("terminated".to_owned(), Value::Bool(self.terminated)));
            entries.push(("final".to_owned(), Value::Bool(self.has_final)));
        }
        let meta = self
            .meta
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    MetaValue::Str(s) => Value::String(s.clone()),
                    MetaValue::Num(n) => Value::Number(*n),
                };
                (k.clone(), v)
            })
            .collect();
        entries.push(("meta".to_owned(), Value::Object(meta)));
        Value::Object(entries)
    }
}

/// A field as the metadata records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMeta {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<usize>,
}

/// A meta column: a key and its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaColumn {
    pub key: String,
    #[serde(rename = "type")]
    pub kind: MetaKind,
}

/// The key-value metadata `expbuf` of every file of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetMeta {
    pub format: String,
    pub version: u32,
    pub fields: Vec<FieldMeta>,
    /// The partition keys first (in `partition_by` order), then the file's meta
    /// columns in column order.
    pub meta: Vec<MetaColumn>,
    #[serde(rename = "partitionBy")]
    pub partition_by: Vec<String>,
}

impl DatasetMeta {
    pub fn new(fields: &[Field], partitions: &[MetaColumn], columns: &[MetaColumn]) -> Self {
        DatasetMeta {
            format: FORMAT.to_owned(),
            version: VERSION,
            fields: fields
                .iter()
                .filter_map(|f| match &f.kind {
                    FieldKind::Typed { dtype, shape, .. } => Some(FieldMeta {
                        name: f.name.clone(),
                        dtype: dtype.name().to_owned(),
                        shape: shape.clone(),
                    }),
                    FieldKind::Any => None,
                })
                .collect(),
            meta: partitions.iter().chain(columns).cloned().collect(),
            partition_by: partitions.iter().map(|c| c.key.clone()).collect(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The meta columns stored in the files (those that are not partition keys).
    pub fn columns(&self) -> impl Iterator<Item = &MetaColumn> {
        self.meta
            .iter()
            .filter(|c| !self.partition_by.contains(&c.key))
    }

    /// The type of meta key `key`.
    pub fn kind_of(&self, key: &str) -> Option<MetaKind> {
        self.meta.iter().find(|c| c.key == key).map(|c| c.kind)
    }
}

/// The Arrow type of a dtype's elements.
pub fn element_type(dtype: Dtype) -> DataType {
    match dtype {
        Dtype::Float32 => DataType::Float32,
        Dtype::Float64 => DataType::Float64,
        Dtype::Int8 => DataType::Int8,
        Dtype::Int16 => DataType::Int16,
        Dtype::Int32 => DataType::Int32,
        Dtype::Uint8 => DataType::UInt8,
        Dtype::Uint16 => DataType::UInt16,
        Dtype::Uint32 => DataType::UInt32,
    }
}

/// The Arrow type of a field's column: the primitive for a scalar, a fixed-size list
/// of `prod(shape)` elements for a shaped field.
pub fn field_type(f: &Field) -> Result<DataType> {
    let FieldKind::Typed {
        dtype,
        shape,
        elements,
    } = &f.kind
    else {
        return Err(Error::invalid_argument(format!(
            "field '{}': a dataset holds typed fields only",
            f.name
        )));
    };
    let element = element_type(*dtype);
    if shape.is_empty() {
        return Ok(element);
    }
    let size = i32::try_from(*elements)
        .map_err(|_| Error::invalid_argument(format!("field '{}': too many elements", f.name)))?;
    Ok(DataType::FixedSizeList(
        Arc::new(ArrowField::new("item", element, false)),
        size,
    ))
}

/// The index of the typed `state` field among `fields`: a final state has its spec.
pub fn state_index(fields: &[Field]) -> Option<usize> {
    fields
        .iter()
        .position(|f| f.name == STATE_FIELD && f.dtype().is_some())
}

/// The columns of a file: `id, kind, step, time, <meta columns>, <fields>, terminated`
/// and, when the fields have a typed `state`, `final_state`.
pub fn file_schema(fields: &[Field], columns: &[MetaColumn]) -> Result<SchemaRef> {
    let mut out = vec![
        ArrowField::new(ID, DataType::Utf8, false),
        ArrowField::new(KIND, DataType::Utf8, false),
        ArrowField::new(STEP, DataType::Int32, false),
        ArrowField::new(TIME, DataType::Float64, false),
    ];
    for c in columns {
        out.push(ArrowField::new(&c.key, c.kind.arrow(), true));
    }
    for f in fields {
        out.push(ArrowField::new(&f.name, field_type(f)?, false));
    }
    out.push(ArrowField::new(TERMINATED, DataType::Boolean, true));
    if let Some(s) = state_index(fields) {
        out.push(ArrowField::new(FINAL_STATE, field_type(&fields[s])?, true));
    }
    Ok(Arc::new(ArrowSchema::new(out)))
}

/// Refuses a name that a dataset column already has; `what` says whose name it is.
pub fn check_name(name: &str, fields: &[Field], what: &str) -> Result<()> {
    let clash = if RESERVED.contains(&name) {
        Some(format!("the dataset's '{name}' column"))
    } else if fields.iter().any(|f| f.name == name) {
        Some(format!("the field '{name}'"))
    } else {
        None
    };
    match clash {
        Some(c) => Err(Error::new(
            ErrorCode::SchemaMismatch,
            format!("{what} '{name}' would be a column named like {c}; a Parquet dataset has one column per name"),
        )),
        None => Ok(()),
    }
}

/// Whether a file's column type is the layout's: the same type, with list items of the
/// same type and size whatever their name or nullability (pyarrow, for one, renames
/// them when it rewrites a file).
pub fn same_type(actual: &DataType, want: &DataType) -> bool {
    match (actual, want) {
        (DataType::FixedSizeList(a, n), DataType::FixedSizeList(b, m)) => {
            n == m && same_type(a.data_type(), b.data_type())
        }
        _ => actual == want,
    }
}

/// A column type as messages name it (`float32`, `fixed_size_list<float32>[64]`).
pub fn describe_type(t: &DataType) -> String {
    let dtype = Dtype::ALL.into_iter().find(|d| &element_type(*d) == t);
    match (t, dtype) {
        (_, Some(d)) => d.name().to_owned(),
        (DataType::FixedSizeList(item, n), _) => {
            format!("fixed_size_list<{}>[{n}]", describe_type(item.data_type()))
        }
        (DataType::Utf8, _) => "string".to_owned(),
        _ => format!("{t}").to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_the_fields_and_meta() {
        let fields = vec![
            Field::typed("state", Dtype::Float32, &[2, 3]).expect("f"),
            Field::typed("reward", Dtype::Float32, &[]).expect("f"),
        ];
        let meta = vec![MetaColumn {
            key: "driver".into(),
            kind: MetaKind::Number,
        }];
        let s = file_schema(&fields, &meta).expect("schema");
        let names: Vec<_> = s.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            [
                "id",
                "kind",
                "step",
                "time",
                "driver",
                "state",
                "reward",
                "terminated",
                "final_state"
            ]
        );
        assert_eq!(
            describe_type(s.field(5).data_type()),
            "fixed_size_list<float32>[6]"
        );
        assert!(check_name("time", &fields, "meta key").is_err());
        assert!(check_name("reward", &fields, "meta key").is_err());
        assert!(check_name("vehicle", &fields, "meta key").is_ok());
    }

    #[test]
    fn item_summaries_round_trip_through_values() {
        let it = ItemInfo {
            kind: ItemKind::Episode,
            id: "e1".into(),
            time: 1.5,
            rows: 3,
            terminated: false,
            has_final: true,
            meta: vec![
                ("v".into(), MetaValue::Str("a".into())),
                ("d".into(), MetaValue::Num(7.0)),
            ],
        };
        let parsed = ItemInfo::parse_list(&Value::Array(vec![it.to_value()])).expect("parse");
        assert_eq!(parsed, vec![it]);
    }
}
