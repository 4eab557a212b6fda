//! The fields of a buffer: typed columns of fixed element count, or `any` values
//! that arrive already serialized.

use crate::dtype::Dtype;
use crate::error::{Error, Result};

/// Largest element count of one typed field per row; bounds a row at a few MiB so that
/// size arithmetic never overflows.
pub const MAX_FIELD_ELEMENTS: usize = 1 << 24;

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
        })
    }

    pub fn any(name: &str) -> Field {
        Field {
            name: name.to_owned(),
            kind: FieldKind::Any,
        }
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
        for (i, f) in fields.iter().enumerate() {
            if f.name.is_empty() {
                return Err(Error::invalid_argument("fields: a field name is empty"));
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

    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Typed fields, in field order.
    pub fn typed_fields(&self) -> impl Iterator<Item = &Field> {
        self.typed.iter().map(|&i| &self.fields[i])
    }

    /// `any` fields, in field order.
    pub fn any_fields(&self) -> impl Iterator<Item = &Field> {
        self.any.iter().map(|&i| &self.fields[i])
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
}
