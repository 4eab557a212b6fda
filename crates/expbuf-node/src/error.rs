//! Maps core errors to JS errors whose `code` is the DESIGN.md code.

use napi::Status;

/// The `code` a thrown JS error carries.
pub struct Code(&'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

pub type JsError = napi::Error<Code>;
pub type Result<T> = napi::Result<T, Code>;

pub fn to_js(e: expbuf_core::Error) -> JsError {
    napi::Error::new(Code(e.code.as_str()), e.message)
}

/// For failures of napi itself (creating a JS value), which input cannot cause.
pub fn from_napi(e: napi::Error<Status>) -> JsError {
    napi::Error::new(Code("EXPBUF_INTERNAL"), e.reason.clone())
}

pub fn invalid(message: impl Into<String>) -> JsError {
    to_js(expbuf_core::Error::invalid_argument(message))
}

pub fn closed(message: String) -> JsError {
    napi::Error::new(Code("EXPBUF_CLOSED"), message)
}
