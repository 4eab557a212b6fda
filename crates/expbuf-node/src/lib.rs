//! expbuf-node: the napi-rs binding of expbuf-core. Thin classes that translate JS
//! arguments into core calls; no rule of the pipeline lives here.

mod buffer;
mod columns;
mod error;
mod queue;
mod schema;
