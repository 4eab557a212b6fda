//! Rows across the boundary: column arguments in, output ArrayBuffers out, and the
//! views JS gets over native memory (counters, rings).

use crate::ffi::{Cx, Elem, Typed, Val};
use expbuf_core::counters::Counters;
use expbuf_core::input::whole_in;
use expbuf_core::{AnyColumn, AnyColumnRef, Error, Result, Ring, RowsRef, Schema};
use std::sync::Arc;

/// `any` columns given as two arrays: serialized bytes and `rows + 1` u32 offsets each.
pub struct AnyInput<'a> {
    bytes: Vec<Typed<'a>>,
    offsets: Vec<Typed<'a>>,
}

impl<'a> AnyInput<'a> {
    /// Reads arguments `at` (bytes[]) and `at + 1` (offsets[]); absent means none.
    pub fn read(cx: &'a Cx, at: usize) -> Result<AnyInput<'a>> {
        if cx.is_nullish(at) {
            return Ok(AnyInput {
                bytes: Vec::new(),
                offsets: Vec::new(),
            });
        }
        let bytes = cx.typed_list(at, "anyBytes")?;
        let offsets = cx.typed_list(at + 1, "anyOffsets")?;
        if bytes.len() != offsets.len() || offsets.iter().any(|o| o.elem != Elem::U32) {
            return Err(Error::invalid_argument(
                "anyOffsets: one Uint32Array per any column",
            ));
        }
        Ok(AnyInput { bytes, offsets })
    }

    pub fn refs(&self) -> Vec<AnyColumnRef<'a>> {
        self.bytes
            .iter()
            .zip(&self.offsets)
            .map(|(b, o)| AnyColumnRef {
                bytes: b.bytes,
                offsets: u32s(o.bytes),
            })
            .collect()
    }
}

/// Rows given as arguments `at..`: `rows, typed[], anyBytes[], anyOffsets[]` and, when
/// `with_times`, a Float64Array of collect times after them.
pub struct Input<'a> {
    rows: usize,
    typed: Vec<Typed<'a>>,
    any: AnyInput<'a>,
    times: Option<Typed<'a>>,
}

impl<'a> Input<'a> {
    pub fn read(cx: &'a Cx, at: usize) -> Result<Input<'a>> {
        Input::read_with(cx, at, false)
    }

    pub fn read_with(cx: &'a Cx, at: usize, with_times: bool) -> Result<Input<'a>> {
        let n = cx.f64(at, "rows")?;
        if !whole_in(n, 0.0..=expbuf_core::MAX_ROWS as f64) {
            return Err(Error::invalid_argument(format!(
                "rows: {n} is not a row count"
            )));
        }
        let typed = cx.typed_list(at + 1, "typed")?;
        let any = AnyInput::read(cx, at + 2)?;
        let times = if with_times {
            let t = cx.typed(at + 4, "timestamps")?;
            if t.elem != Elem::F64 {
                return Err(Error::invalid_argument(
                    "timestamps: expected a Float64Array",
                ));
            }
            Some(t)
        } else {
            None
        };
        Ok(Input {
            rows: n as usize,
            typed,
            any,
            times,
        })
    }

    /// The rows as the core takes them (checked by the core's `validate`).
    pub fn rows(&self) -> RowsRef<'_> {
        RowsRef {
            rows: self.rows,
            typed: self.typed.iter().map(|t| t.bytes).collect(),
            any: self.any.refs(),
            timestamps: self.times.as_ref().map(|t| f64s(t.bytes)),
        }
    }
}

/// Bytes as u32 values; a misaligned view (impossible for a Uint32Array) reads as empty.
fn u32s(bytes: &[u8]) -> &[u32] {
    // SAFETY: u32 has no invalid bit patterns; only the aligned middle is used, and a
    // Uint32Array's bytes are 4-aligned, so nothing is lost.
    let (pre, mid, _) = unsafe { bytes.align_to::<u32>() };
    if pre.is_empty() {
        mid
    } else {
        &[]
    }
}

fn f64s(bytes: &[u8]) -> &[f64] {
    // SAFETY: as `u32s`, for a Float64Array's 8-aligned bytes.
    let (pre, mid, _) = unsafe { bytes.align_to::<f64>() };
    if pre.is_empty() {
        mid
    } else {
        &[]
    }
}

/// Output buffers: one ArrayBuffer per typed column (`sizes`, checked by the caller
/// against the call limit, allocated by V8 and filled in place by `fill`), then per
/// `any` field its bytes and u32 offsets, then `times` as f64 when given.
pub fn output(
    cx: &Cx,
    sizes: &[usize],
    fill: impl FnOnce(&mut [&mut [u8]]) -> Result<Vec<AnyColumn>>,
) -> Result<Val> {
    output_with(cx, sizes, None, fill)
}

pub fn output_with(
    cx: &Cx,
    sizes: &[usize],
    times: Option<&[f64]>,
    fill: impl FnOnce(&mut [&mut [u8]]) -> Result<Vec<AnyColumn>>,
) -> Result<Val> {
    let mut vals = Vec::with_capacity(sizes.len() + 3);
    let mut slices = Vec::with_capacity(sizes.len());
    for &n in sizes {
        let (v, bytes) = cx.array_buffer(n)?;
        vals.push(v);
        slices.push(bytes);
    }
    let any = fill(&mut slices)?;
    for col in any {
        vals.push(cx.array_buffer_from(&col.bytes)?);
        let offsets: Vec<u8> = col.offsets.iter().flat_map(|o| o.to_le_bytes()).collect();
        vals.push(cx.array_buffer_from(&offsets)?);
    }
    if let Some(t) = times {
        let bytes: Vec<u8> = t.iter().flat_map(|x| x.to_le_bytes()).collect();
        vals.push(cx.array_buffer_from(&bytes)?);
    }
    cx.array(&vals)
}

/// The row count of caller-owned output arrays (`sampleInto`): each must be of its
/// field's dtype and hold the same whole number of rows.
pub fn out_rows(schema: &Schema, out: &[(Elem, &mut [u8])]) -> Result<usize> {
    let mut rows = None;
    for (f, (elem, bytes)) in schema.typed_fields().zip(out) {
        let want = f.dtype().map(elem_of);
        if Some(*elem) != want {
            return Err(Error::invalid_argument(format!(
                "out.{}: expected a {}, got a {}",
                f.name,
                want.map_or("typed array", Elem::name),
                elem.name()
            )));
        }
        let rb = f.row_bytes();
        if bytes.len() % rb != 0 || bytes.is_empty() {
            return Err(Error::invalid_argument(format!(
                "out.{}: {} elements is not a positive whole number of rows of {}",
                f.name,
                bytes.len() / f.dtype().map_or(1, |d| d.size()),
                f.elements()
            )));
        }
        let n = bytes.len() / rb;
        match rows {
            None => rows = Some((n, f.name.clone())),
            Some((m, ref first)) if m != n => {
                return Err(Error::invalid_argument(format!(
                    "out.{}: {n} rows, but out.{first} holds {m}",
                    f.name
                )))
            }
            _ => {}
        }
    }
    rows.map(|(n, _)| n)
        .ok_or_else(|| Error::invalid_argument("out: this buffer has no typed fields"))
}

/// An ArrayBuffer over a counter block, keeping it alive.
pub fn counter_view(cx: &Cx, c: Arc<Counters>) -> Result<Val> {
    let ptr = c.as_ptr();
    // SAFETY: the block lives as long as the Arc the ArrayBuffer keeps; the core writes
    // it with atomic stores and JS only reads it.
    unsafe { cx.external_bytes(ptr, Counters::BYTES, c) }
}

/// What JS needs to write a ring: `{ memory, capacity, columns, timestamps }`.
pub fn ring_view(cx: &Cx, ring: &Arc<Ring>) -> Result<Val> {
    let (ptr, len) = ring.memory();
    // SAFETY: the ring's memory lives as long as the Arc the ArrayBuffer keeps. JS
    // writes only slots outside the published-and-not-taken range, the core reads only
    // inside it (the ring's protocol, ring.rs).
    let memory = unsafe { cx.external_bytes(ptr, len, ring.clone())? };
    let l = ring.layout();
    let columns = l
        .columns
        .iter()
        .map(|&o| cx.number(o as f64))
        .collect::<Result<Vec<_>>>()?;
    cx.object(&[
        ("memory", memory),
        ("capacity", cx.number(l.capacity as f64)?),
        ("columns", cx.array(&columns)?),
        ("timestamps", cx.number(l.timestamps as f64)?),
    ])
}

/// The element type a typed field's JS array has.
pub fn elem_of(dtype: expbuf_core::Dtype) -> Elem {
    use expbuf_core::Dtype as D;
    match dtype {
        D::Float32 => Elem::F32,
        D::Float64 => Elem::F64,
        D::Int8 => Elem::I8,
        D::Int16 => Elem::I16,
        D::Int32 => Elem::I32,
        D::Uint8 => Elem::U8,
        D::Uint16 => Elem::U16,
        D::Uint32 => Elem::U32,
    }
}
