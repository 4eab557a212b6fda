//! Element types of typed fields.

use crate::error::{Error, Result};

/// The element type of a typed field, named as numpy and JS TypedArrays name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dtype {
    Float32,
    Float64,
    Int8,
    Int16,
    Int32,
    Uint8,
    Uint16,
    Uint32,
}

impl Dtype {
    pub const ALL: [Dtype; 8] = [
        Dtype::Float32,
        Dtype::Float64,
        Dtype::Int8,
        Dtype::Int16,
        Dtype::Int32,
        Dtype::Uint8,
        Dtype::Uint16,
        Dtype::Uint32,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dtype::Float32 => "float32",
            Dtype::Float64 => "float64",
            Dtype::Int8 => "int8",
            Dtype::Int16 => "int16",
            Dtype::Int32 => "int32",
            Dtype::Uint8 => "uint8",
            Dtype::Uint16 => "uint16",
            Dtype::Uint32 => "uint32",
        }
    }

    /// Bytes of one element.
    pub fn size(self) -> usize {
        match self {
            Dtype::Int8 | Dtype::Uint8 => 1,
            Dtype::Int16 | Dtype::Uint16 => 2,
            Dtype::Float32 | Dtype::Int32 | Dtype::Uint32 => 4,
            Dtype::Float64 => 8,
        }
    }

    /// The dtype names, comma-separated, for messages.
    pub fn names() -> String {
        Dtype::ALL.map(Dtype::name).join(", ")
    }

    /// Parses a dtype name; `field` names the field in the error.
    pub fn parse(name: &str, field: &str) -> Result<Dtype> {
        Dtype::ALL
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "field '{field}': unknown dtype '{name}' (expected one of {})",
                    Dtype::names()
                ))
            })
    }

    /// Whether values of this dtype are integers.
    pub fn is_integer(self) -> bool {
        !matches!(self, Dtype::Float32 | Dtype::Float64)
    }
}
