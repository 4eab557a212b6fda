//! expbuf-core: typed columnar replay buffers, the collector queue and sampling.
//!
//! Pure Rust, no napi: every rule of the data pipeline lives here once, and the
//! binding (`expbuf-node`) only translates between JS values and these types.

pub mod alloc;
pub mod buffer;
pub mod dtype;
pub mod error;
pub mod policy;
pub mod queue;
pub mod rng;
pub mod rows;
pub mod sampling;
pub mod schema;
pub mod state;
pub mod storage;
pub mod timestamps;

pub use buffer::{checked_size, Buffer, MAX_ROWS};
pub use dtype::Dtype;
pub use error::{Error, ErrorCode, Result};
pub use policy::{replace_probability_from_survival_length, Policy};
pub use queue::{Drained, RowQueue};
pub use rng::Rng;
pub use rows::{AnyColumn, AnyColumnRef, Columns, RowsRef};
pub use schema::{Field, FieldKind, Schema};
pub use timestamps::TimestampLog;
