//! Error codes shared by every layer, and errors that carry one.
//!
//! The codes are listed once, here. The binding passes `as_str()` through as the JS
//! error's `code`, and `ts/error-codes.ts` (the TS union) is checked against this list
//! by `tests/error_codes.rs`, so the layers cannot drift.

use std::fmt;

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal,)*) => {
        /// What went wrong, as a stable string code (the list JS sees: `ts/error-codes.ts`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as JS sees it (`EXPBUF_…`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// One line saying when the code is used (for generated docs).
            pub fn doc(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => concat!($($doc),*).trim_ascii(),)*
                }
            }
        }
    };
}

codes! {
    /// A step or batch lacks a declared field.
    MissingField = "EXPBUF_MISSING_FIELD",
    /// A step or batch has a field the schema does not declare.
    UnknownField = "EXPBUF_UNKNOWN_FIELD",
    /// A value has the wrong type, is out of its dtype's range, or has the wrong element count.
    BadValue = "EXPBUF_BAD_VALUE",
    /// An argument or option is wrong: its type, its range, or an unknown option key.
    InvalidArgument = "EXPBUF_INVALID_ARGUMENT",
    /// Sampling from a buffer that holds nothing sampleable.
    Empty = "EXPBUF_EMPTY",
    /// A data collector acquired a second time.
    AlreadyAcquired = "EXPBUF_ALREADY_ACQUIRED",
    /// A name (collector, user, id) that does not exist.
    NotFound = "EXPBUF_NOT_FOUND",
    /// A call on an object that was closed.
    Closed = "EXPBUF_CLOSED",
    /// A saved state or pool file that fails its checks.
    CorruptState = "EXPBUF_CORRUPT_STATE",
    /// A state, pool or dataset made for other fields or another kind.
    SchemaMismatch = "EXPBUF_SCHEMA_MISMATCH",
    /// A sample the rate limiter does not allow yet.
    RateLimited = "EXPBUF_RATE_LIMITED",
    /// A pool or state that another live process holds.
    Locked = "EXPBUF_LOCKED",
    /// A file system or server failure; the OS error or the server's message is the cause.
    Io = "EXPBUF_IO",
    /// A bug in expbuf (a panic caught at the boundary); please report it.
    Internal = "EXPBUF_INTERNAL",
}

/// The operating-system error behind an `Io` error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsCause {
    /// The raw OS error number (errno on Unix), when there is one.
    pub errno: Option<i32>,
    /// The OS's own description.
    pub message: String,
}

/// An error with its code, a message that names the field or argument, and for I/O
/// failures the OS error that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    pub cause: Option<OsCause>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            cause: None,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidArgument, message)
    }

    pub fn bad_value(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::BadValue, message)
    }

    pub fn closed(what: &str) -> Self {
        Error::new(ErrorCode::Closed, format!("{what}: closed"))
    }

    /// An I/O failure on `path` while doing `what`, with the OS error as its cause.
    pub fn io(path: &std::path::Path, what: &str, e: &std::io::Error) -> Self {
        Error {
            code: ErrorCode::Io,
            message: format!("{}: {what} failed: {e}", path.display()),
            cause: Some(OsCause {
                errno: e.raw_os_error(),
                message: e.to_string(),
            }),
        }
    }

    /// The same error with `prefix: ` before its message (to say where it happened).
    pub fn within(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
