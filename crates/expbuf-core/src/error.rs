//! Error codes shared by every layer: the binding maps them 1:1 to the JS `code`.

use std::fmt;

/// What went wrong, as the stable string code of DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    MissingField,
    UnknownField,
    BadValue,
    InvalidArgument,
    Empty,
    AlreadyAcquired,
    NotFound,
    Closed,
    CorruptState,
    SchemaMismatch,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MissingField => "EXPBUF_MISSING_FIELD",
            ErrorCode::UnknownField => "EXPBUF_UNKNOWN_FIELD",
            ErrorCode::BadValue => "EXPBUF_BAD_VALUE",
            ErrorCode::InvalidArgument => "EXPBUF_INVALID_ARGUMENT",
            ErrorCode::Empty => "EXPBUF_EMPTY",
            ErrorCode::AlreadyAcquired => "EXPBUF_ALREADY_ACQUIRED",
            ErrorCode::NotFound => "EXPBUF_NOT_FOUND",
            ErrorCode::Closed => "EXPBUF_CLOSED",
            ErrorCode::CorruptState => "EXPBUF_CORRUPT_STATE",
            ErrorCode::SchemaMismatch => "EXPBUF_SCHEMA_MISMATCH",
        }
    }
}

/// An error with its code and a message that names the field or argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidArgument, message)
    }

    pub fn bad_value(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::BadValue, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
