//! numpy's `.npy` format, version 1.0: magic, a Python-literal header padded to a
//! multiple of 64 bytes, then the raw little-endian C-order data.

use crate::dtype::Dtype;

const MAGIC: &[u8] = b"\x93NUMPY\x01\x00";

pub fn descr(d: Dtype) -> &'static str {
    match d {
        Dtype::Float32 => "<f4",
        Dtype::Float64 => "<f8",
        Dtype::Int8 => "|i1",
        Dtype::Int16 => "<i2",
        Dtype::Int32 => "<i4",
        Dtype::Uint8 => "|u1",
        Dtype::Uint16 => "<u2",
        Dtype::Uint32 => "<u4",
    }
}

/// The header (magic through padding) for an array of `dtype` and `shape`.
pub fn header(dtype: Dtype, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
        descr(dtype),
        tuple
    );
    // magic (8) + length (2) + dict + padding + '\n' is a multiple of 64.
    let total = (MAGIC.len() + 2 + dict.len() + 1).next_multiple_of(64);
    let pad = total - (MAGIC.len() + 2 + dict.len() + 1);
    dict.push_str(&" ".repeat(pad));
    dict.push('\n');
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// Checks that `bytes` begins with exactly the header `header(dtype, shape)` would
/// write; returns its length. Any other header (dtype, order, shape) is refused.
pub fn check_header(bytes: &[u8], dtype: Dtype, shape: &[usize]) -> Result<usize, String> {
    let want = header(dtype, shape);
    if bytes.len() < want.len() {
        return Err("shorter than its header".to_owned());
    }
    if !bytes.starts_with(MAGIC) {
        return Err("not a .npy file (bad magic)".to_owned());
    }
    if bytes[..want.len()] != want[..] {
        let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let got = String::from_utf8_lossy(&bytes[10..(10 + len).min(bytes.len())]);
        return Err(format!(
            "header {} does not match the manifest's dtype {} and shape {:?}",
            got.trim_end(),
            descr(dtype),
            shape
        ));
    }
    Ok(want.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_padded_to_64_and_round_trips() {
        for shape in [vec![0usize], vec![5], vec![1000, 64], vec![3, 2, 2]] {
            let h = header(Dtype::Float32, &shape);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(*h.last().expect("newline"), b'\n');
            assert_eq!(check_header(&h, Dtype::Float32, &shape), Ok(h.len()));
            assert!(check_header(&h, Dtype::Float64, &shape).is_err());
        }
        let h = header(Dtype::Int32, &[7]);
        assert!(String::from_utf8_lossy(&h).contains("'shape': (7,)"));
    }
}
