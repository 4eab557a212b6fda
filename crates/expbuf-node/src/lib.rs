//! expbuf-node: the Node-API binding of expbuf-core. Every export translates JS
//! arguments into core calls and core results (and errors) back; no rule of the
//! pipeline lives here. `ffi` holds the raw Node-API layer and all of its `unsafe`;
//! the other modules are one per concept, named as the TS layer names them.

mod buffer;
mod ffi;
mod meta;
mod parquet;
mod queue;
mod registry;
mod replay;
mod rows;
mod state;
mod user;

use napi::bindgen_prelude::{Env, Object, Result};
use napi::JsValue;
use napi_derive::napi;

/// Registers every export on the module object (napi-rs loads Node-API and calls this).
#[napi(module_exports)]
pub fn exports(exports: Object, env: Env) -> Result<()> {
    for list in [
        meta::EXPORTS,
        buffer::EXPORTS,
        queue::EXPORTS,
        replay::EXPORTS,
        user::EXPORTS,
        state::EXPORTS,
        parquet::EXPORTS,
    ] {
        ffi::register(env.raw(), exports.raw(), list)
            .map_err(|e| napi::Error::from_reason(e.to_string()))?;
    }
    Ok(())
}
