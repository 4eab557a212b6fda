//! expbuf-core: typed columnar replay buffers, the collector queue and sampling.
//!
//! Pure Rust, no napi: every rule of the data pipeline lives here once, and the
//! binding (`expbuf-node`) only translates between JS values and these types.
//!
//! Where a rule lives:
//! - `schema`, `dtype`: field declarations and their checks; `input`: options and
//!   arguments as the caller gave them; `limits`: every size an argument can choose;
//!   `defaults`: every default value;
//! - `buffer`, `policy`, `storage`, `sampling`, `rng`: the three buffer kinds;
//! - `ring`, `queue`, `user`, `timestamps`: collectors → queue → `DataUser.update()`;
//! - `replay`: episodes, n-step returns, priorities, sequences, the rate limiter;
//! - `counters`: what JS reads without a call;
//! - `state`: saved state on disk, and durable writes;
//! - `parquet`: a pool's items as a Parquet dataset, and back.

pub mod alloc;
pub mod buffer;
pub mod counters;
pub mod defaults;
pub mod dtype;
pub mod error;
pub mod input;
pub mod limits;
pub mod parquet;
pub mod policy;
pub mod prefetch;
pub mod process;
pub mod queue;
pub mod replay;
pub mod ring;
pub mod rng;
pub mod rows;
pub mod sampling;
pub mod schema;
pub mod state;
pub mod storage;
pub mod timestamps;
pub mod user;

pub use buffer::Buffer;
pub use dtype::Dtype;
pub use error::{Error, ErrorCode, Result};
pub use limits::{checked_rows, MAX_ROWS};
pub use policy::{replace_probability_from_survival_length, Policy};
pub use queue::{Queue, Sink};
pub use replay::{Replay, ReplayConfig};
pub use ring::Ring;
pub use rng::Rng;
pub use rows::{AnyColumn, AnyColumnRef, Columns, RowsRef};
pub use schema::{Field, FieldKind, Schema};
pub use timestamps::TimestampLog;
pub use user::User;
