//! Field declarations as the TS layer passes them.

use crate::error::{to_js, Result};
use expbuf_core::{Dtype, Field, Schema};
use napi_derive::napi;
use std::sync::Arc;

/// One field: `dtype` absent means an `any` field (serialized values).
#[napi(object)]
pub struct FieldDecl {
    pub name: String,
    pub dtype: Option<String>,
    pub shape: Option<Vec<u32>>,
}

pub fn to_schema(fields: &[FieldDecl]) -> Result<Arc<Schema>> {
    let fields = fields
        .iter()
        .map(|f| match &f.dtype {
            None => Ok(Field::any(&f.name)),
            Some(d) => {
                let dtype = Dtype::parse(d, &f.name)?;
                let shape: Vec<usize> = f
                    .shape
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .map(|&d| d as usize)
                    .collect();
                Field::typed(&f.name, dtype, &shape)
            }
        })
        .collect::<expbuf_core::Result<Vec<_>>>()
        .map_err(to_js)?;
    Ok(Arc::new(Schema::new(fields).map_err(to_js)?))
}
