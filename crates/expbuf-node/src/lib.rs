//! expbuf-node: the napi-rs binding of expbuf-core. Thin classes that translate JS
//! arguments into core calls; no rule of the pipeline lives here.

pub mod buffer;
mod columns;
mod error;
pub mod queue;
mod registry;
mod schema;
pub mod state;
