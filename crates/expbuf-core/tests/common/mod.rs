//! Helpers shared by the core integration tests.
#![allow(dead_code)]

use expbuf_core::{Columns, Dtype, Field, RowsRef, Schema};
use std::sync::Arc;

/// Schema `{ x: int32, v: float32[2], tag: any }`.
pub fn schema() -> Arc<Schema> {
    Arc::new(
        Schema::new(vec![
            Field::typed("x", Dtype::Int32, &[]).expect("field"),
            Field::typed("v", Dtype::Float32, &[2]).expect("field"),
            Field::any("tag"),
        ])
        .expect("schema"),
    )
}

/// Columns holding rows whose `x` are `xs`, `v` = [x, -x], tag = x as a decimal string.
pub fn rows(xs: &[i32]) -> Columns {
    let s = schema();
    let mut c = Columns::with_capacity(&s, xs.len()).expect("alloc");
    for &x in xs {
        c.typed[0].extend_from_slice(&x.to_le_bytes());
        c.typed[1].extend_from_slice(&(x as f32).to_le_bytes());
        c.typed[1].extend_from_slice(&(-x as f32).to_le_bytes());
        c.any[0]
            .push(x.to_string().as_bytes(), "tag")
            .expect("push");
    }
    c.rows = xs.len();
    c.timestamps = xs.iter().map(|&x| x as f64).collect();
    c
}

pub fn as_ref(c: &Columns) -> RowsRef<'_> {
    c.rows_from(&schema(), 0)
}

/// The `x` values of `c`, checking that `v` and `tag` belong to the same row.
pub fn xs(c: &Columns) -> Vec<i32> {
    (0..c.rows)
        .map(|r| {
            let x = i32::from_le_bytes(c.typed[0][r * 4..r * 4 + 4].try_into().expect("4"));
            let v0 = f32::from_le_bytes(c.typed[1][r * 8..r * 8 + 4].try_into().expect("4"));
            let v1 = f32::from_le_bytes(c.typed[1][r * 8 + 4..r * 8 + 8].try_into().expect("4"));
            assert_eq!((v0, v1), (x as f32, -x as f32), "torn row {r}");
            assert_eq!(
                c.any[0].as_ref().value(r),
                x.to_string().as_bytes(),
                "torn tag {r}"
            );
            x
        })
        .collect()
}
