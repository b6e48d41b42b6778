//! `bt.Tensor`: JSON `{"buffer", "dtype", "shape"}` whose `buffer` is standard base64 of a
//! msgpack-numpy map (`nd: true, type: "<f4", kind: b"", shape: [..], data: <raw LE bytes>`,
//! keys as msgpack *bin*).
//!
//! Supported dtypes: `float32`, `float16` (converted to/from `f32`) and `int64`; `torch.`
//! prefixes are accepted on input. Decoding checks that the JSON shape, the msgpack shape and
//! the data length agree; a mismatch is an [`AxonError::Invalid`], never a panic.

use crate::{AxonError, Result};
use base64::{engine::general_purpose::STANDARD, Engine};
use serde::{Deserialize, Serialize};

/// Most elements one tensor may hold (bounds allocations from hostile input).
pub const MAX_ELEMENTS: usize = 1 << 26;

/// A serialised `bt.Tensor` as it appears in synapse JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tensor {
    /// Base64 of the msgpack-numpy encoding.
    pub buffer: String,
    /// `str(dtype)`, e.g. `"float32"` or `"torch.int64"`.
    pub dtype: String,
    /// The shape; a 0-d tensor has `[0]`.
    pub shape: Vec<i64>,
}

/// Element types this crate reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE half precision (`<f2`), exposed as `f32`.
    F16,
    /// IEEE single precision (`<f4`).
    F32,
    /// Signed 64-bit integer (`<i8`).
    I64,
}

impl Dtype {
    /// The `bt.Tensor` dtype string (`float32`, …).
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F16 => "float16",
            Dtype::F32 => "float32",
            Dtype::I64 => "int64",
        }
    }

    /// The numpy `dtype.str` (`<f4`, …).
    pub fn numpy(self) -> &'static str {
        match self {
            Dtype::F16 => "<f2",
            Dtype::F32 => "<f4",
            Dtype::I64 => "<i8",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::F16 => 2,
            Dtype::F32 => 4,
            Dtype::I64 => 8,
        }
    }

    /// Parses a `bt.Tensor` dtype string, with or without `torch.`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.strip_prefix("torch.").unwrap_or(s) {
            "float16" => Ok(Dtype::F16),
            "float32" => Ok(Dtype::F32),
            "int64" => Ok(Dtype::I64),
            other => Err(AxonError::Invalid(format!("unsupported dtype {other:?}"))),
        }
    }
}

/// Decoded tensor data.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    /// `float16` or `float32` values, as `f32`.
    F32(Vec<f32>),
    /// `int64` values.
    I64(Vec<i64>),
}

fn element_count(shape: &[usize]) -> Result<usize> {
    let n = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| AxonError::Invalid("shape overflows".to_owned()))?;
    if n > MAX_ELEMENTS {
        return Err(AxonError::Invalid(format!("tensor has {n} elements, limit {MAX_ELEMENTS}")));
    }
    Ok(n)
}

fn encode(dtype: Dtype, shape: &[usize], n: usize, data: Vec<u8>) -> Result<Tensor> {
    if element_count(shape)? != n {
        return Err(AxonError::Invalid(format!("{n} values do not fill shape {shape:?}")));
    }
    let mut buf = Vec::with_capacity(data.len().saturating_add(64));
    let io = |e: rmp::encode::ValueWriteError| AxonError::Invalid(e.to_string());
    rmp::encode::write_map_len(&mut buf, 5).map_err(io)?;
    rmp::encode::write_bin(&mut buf, b"nd").map_err(io)?;
    rmp::encode::write_bool(&mut buf, true).map_err(|e| AxonError::Invalid(e.to_string()))?;
    rmp::encode::write_bin(&mut buf, b"type").map_err(io)?;
    rmp::encode::write_str(&mut buf, dtype.numpy()).map_err(io)?;
    rmp::encode::write_bin(&mut buf, b"kind").map_err(io)?;
    rmp::encode::write_bin(&mut buf, b"").map_err(io)?;
    rmp::encode::write_bin(&mut buf, b"shape").map_err(io)?;
    let len = u32::try_from(shape.len()).map_err(|_| AxonError::Invalid("rank".to_owned()))?;
    rmp::encode::write_array_len(&mut buf, len).map_err(io)?;
    for &d in shape {
        rmp::encode::write_uint(&mut buf, d as u64).map_err(io)?;
    }
    rmp::encode::write_bin(&mut buf, b"data").map_err(io)?;
    rmp::encode::write_bin(&mut buf, &data).map_err(io)?;
    let json_shape =
        if shape.is_empty() { vec![0] } else { shape.iter().map(|&d| d as i64).collect() };
    Ok(Tensor { buffer: STANDARD.encode(buf), dtype: dtype.name().to_owned(), shape: json_shape })
}

impl Tensor {
    /// Encodes `float32` values of the given C-order shape.
    pub fn from_f32(values: &[f32], shape: &[usize]) -> Result<Self> {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        encode(Dtype::F32, shape, values.len(), data)
    }

    /// Encodes values as `float16` (round to nearest even).
    pub fn from_f32_as_f16(values: &[f32], shape: &[usize]) -> Result<Self> {
        let data = values.iter().flat_map(|&v| f32_to_f16(v).to_le_bytes()).collect();
        encode(Dtype::F16, shape, values.len(), data)
    }

    /// Encodes `int64` values of the given C-order shape.
    pub fn from_i64(values: &[i64], shape: &[usize]) -> Result<Self> {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        encode(Dtype::I64, shape, values.len(), data)
    }

    /// The declared shape as `usize`s (`[0]` means a 0-d tensor, returned as `[]`).
    pub fn dims(&self) -> Result<Vec<usize>> {
        if self.shape == [0] {
            return Ok(Vec::new());
        }
        self.shape
            .iter()
            .map(|&d| {
                usize::try_from(d).map_err(|_| AxonError::Invalid(format!("negative dim {d}")))
            })
            .collect()
    }

    /// Decodes the buffer, checking it against `dtype` and `shape`.
    pub fn decode(&self) -> Result<(Vec<usize>, TensorData)> {
        let dtype = Dtype::parse(&self.dtype)?;
        let dims = self.dims()?;
        let n = element_count(&dims)?;
        let raw = STANDARD
            .decode(self.buffer.as_bytes())
            .map_err(|e| AxonError::Invalid(format!("buffer is not base64: {e}")))?;
        let nd = msgpack_numpy::parse(&raw)?;
        if nd.type_str != dtype.numpy() {
            return Err(AxonError::Invalid(format!(
                "buffer holds {} but dtype says {}",
                nd.type_str, self.dtype
            )));
        }
        if nd.shape != dims && !(self.shape == [0] && nd.shape.is_empty()) {
            return Err(AxonError::Invalid(format!(
                "buffer shape {:?} differs from declared shape {:?}",
                nd.shape, self.shape
            )));
        }
        let want = n
            .checked_mul(dtype.size())
            .ok_or_else(|| AxonError::Invalid("shape overflows".to_owned()))?;
        if nd.data.len() != want {
            return Err(AxonError::Invalid(format!(
                "buffer holds {} bytes, shape {:?} needs {want}",
                nd.data.len(),
                self.shape
            )));
        }
        let data = match dtype {
            Dtype::F32 => TensorData::F32(
                nd.data
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4])))
                    .collect(),
            ),
            Dtype::F16 => TensorData::F32(
                nd.data
                    .chunks_exact(2)
                    .map(|c| f16_to_f32(u16::from_le_bytes(c.try_into().unwrap_or([0; 2]))))
                    .collect(),
            ),
            Dtype::I64 => TensorData::I64(
                nd.data
                    .chunks_exact(8)
                    .map(|c| {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(c);
                        i64::from_le_bytes(b)
                    })
                    .collect(),
            ),
        };
        Ok((dims, data))
    }

    /// Decodes a float tensor (`float16`/`float32`).
    pub fn to_f32(&self) -> Result<(Vec<usize>, Vec<f32>)> {
        match self.decode()? {
            (dims, TensorData::F32(v)) => Ok((dims, v)),
            _ => Err(AxonError::Invalid(format!("expected a float tensor, got {}", self.dtype))),
        }
    }

    /// Decodes a float tensor and rejects NaN and infinities.
    pub fn to_finite_f32(&self) -> Result<(Vec<usize>, Vec<f32>)> {
        let (dims, v) = self.to_f32()?;
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(AxonError::Invalid(format!("non-finite value at index {i}")));
        }
        Ok((dims, v))
    }

    /// Decodes an `int64` tensor.
    pub fn to_i64(&self) -> Result<(Vec<usize>, Vec<i64>)> {
        match self.decode()? {
            (dims, TensorData::I64(v)) => Ok((dims, v)),
            _ => Err(AxonError::Invalid(format!("expected an int64 tensor, got {}", self.dtype))),
        }
    }

    /// Python `str()` of the model_dump dict, as hashed for `computed_body_hash`:
    /// `{'buffer': '…', 'dtype': 'float32', 'shape': [2, 2]}`.
    pub fn python_repr(&self) -> String {
        let shape: Vec<String> = self.shape.iter().map(i64::to_string).collect();
        format!(
            "{{'buffer': '{}', 'dtype': '{}', 'shape': [{}]}}",
            self.buffer,
            self.dtype,
            shape.join(", ")
        )
    }
}

/// IEEE 754 binary16 → binary32.
// Bit arithmetic on masked fields: every operand is bounded by its mask, nothing overflows.
#[allow(clippy::arithmetic_side_effects)]
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: normalise.
            let mut e: i32 = 113; // 127 - 15 + 1
            let mut m = m;
            while m & 0x400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | ((e as u32) << 23) | ((m & 0x3ff) << 13)
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 112) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// IEEE 754 binary32 → binary16, rounding to nearest even; overflow gives infinity.
// Bit arithmetic on masked fields: every operand is bounded by its mask, nothing overflows.
#[allow(clippy::arithmetic_side_effects)]
pub fn f32_to_f16(f: f32) -> u16 {
    let x = f.to_bits();
    let sign = ((x >> 16) & 0x8000) as u16;
    let exp = ((x >> 23) & 0xff) as i32;
    let man = x & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = 1u32 << (shift - 1);
        let rem = m & ((1u32 << shift) - 1);
        let mut r = m >> shift;
        if rem > half || (rem == half && r & 1 == 1) {
            r += 1;
        }
        return sign | r as u16;
    }
    let mut r = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1fff;
    if rem > 0x1000 || (rem == 0x1000 && r & 1 == 1) {
        r += 1; // May carry into the exponent, which is correct (up to infinity).
    }
    sign | r as u16
}

/// A minimal msgpack reader for the msgpack-numpy map.
mod msgpack_numpy {
    use crate::{AxonError, Result};

    /// The fields of an encoded ndarray.
    pub(super) struct NdArray {
        pub(super) type_str: String,
        pub(super) shape: Vec<usize>,
        pub(super) data: Vec<u8>,
    }

    enum Value {
        Nil,
        Bool(bool),
        Int(i128),
        Bytes(Vec<u8>),
        Array(Vec<Value>),
        Other,
    }

    struct Reader<'a> {
        buf: &'a [u8],
        depth: usize,
    }

    fn bad(what: &str) -> AxonError {
        AxonError::Invalid(format!("malformed msgpack-numpy buffer: {what}"))
    }

    impl<'a> Reader<'a> {
        fn take(&mut self, n: usize) -> Result<&'a [u8]> {
            if self.buf.len() < n {
                return Err(bad("truncated"));
            }
            let (head, rest) = self.buf.split_at(n);
            self.buf = rest;
            Ok(head)
        }
        fn byte(&mut self) -> Result<u8> {
            self.take(1)?.first().copied().ok_or_else(|| bad("truncated"))
        }
        fn uint(&mut self, n: usize) -> Result<u64> {
            Ok(self.take(n)?.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        }
        fn len(&mut self, n: usize) -> Result<usize> {
            usize::try_from(self.uint(n)?).map_err(|_| bad("length"))
        }
        fn bytes(&mut self, n: usize) -> Result<Value> {
            Ok(Value::Bytes(self.take(n)?.to_vec()))
        }
        fn array(&mut self, n: usize) -> Result<Value> {
            if n > self.buf.len() {
                return Err(bad("array longer than buffer"));
            }
            (0..n).map(|_| self.value()).collect::<Result<Vec<_>>>().map(Value::Array)
        }
        fn skip_map(&mut self, n: usize) -> Result<Value> {
            for _ in 0..n.saturating_mul(2) {
                self.value()?;
            }
            Ok(Value::Other)
        }
        fn value(&mut self) -> Result<Value> {
            self.depth = self.depth.saturating_add(1);
            if self.depth > 32 {
                return Err(bad("nested too deep"));
            }
            let m = self.byte()?;
            let v = match m {
                0x00..=0x7f => Value::Int(i128::from(m)),
                0xe0..=0xff => Value::Int(i128::from(m as i8)),
                0x80..=0x8f => self.skip_map(usize::from(m & 0x0f))?,
                0x90..=0x9f => self.array(usize::from(m & 0x0f))?,
                0xa0..=0xbf => self.bytes(usize::from(m & 0x1f))?,
                0xc0 => Value::Nil,
                0xc2 => Value::Bool(false),
                0xc3 => Value::Bool(true),
                0xc4 | 0xd9 => {
                    let n = self.len(1)?;
                    self.bytes(n)?
                }
                0xc5 | 0xda => {
                    let n = self.len(2)?;
                    self.bytes(n)?
                }
                0xc6 | 0xdb => {
                    let n = self.len(4)?;
                    self.bytes(n)?
                }
                0xcc => Value::Int(i128::from(self.uint(1)?)),
                0xcd => Value::Int(i128::from(self.uint(2)?)),
                0xce => Value::Int(i128::from(self.uint(4)?)),
                0xcf => Value::Int(i128::from(self.uint(8)?)),
                0xd0 => Value::Int(i128::from(self.uint(1)? as u8 as i8)),
                0xd1 => Value::Int(i128::from(self.uint(2)? as u16 as i16)),
                0xd2 => Value::Int(i128::from(self.uint(4)? as u32 as i32)),
                0xd3 => Value::Int(i128::from(self.uint(8)? as i64)),
                0xca => {
                    self.take(4)?;
                    Value::Other
                }
                0xcb => {
                    self.take(8)?;
                    Value::Other
                }
                0xdc => {
                    let n = self.len(2)?;
                    self.array(n)?
                }
                0xdd => {
                    let n = self.len(4)?;
                    self.array(n)?
                }
                0xde => {
                    let n = self.len(2)?;
                    self.skip_map(n)?
                }
                0xdf => {
                    let n = self.len(4)?;
                    self.skip_map(n)?
                }
                _ => return Err(bad("unsupported msgpack type")),
            };
            self.depth = self.depth.saturating_sub(1);
            Ok(v)
        }
    }

    /// Parses the top-level ndarray map; keys may be bin or str.
    pub(super) fn parse(buf: &[u8]) -> Result<NdArray> {
        let mut r = Reader { buf, depth: 0 };
        let m = r.byte()?;
        let n = match m {
            0x80..=0x8f => usize::from(m & 0x0f),
            0xde => r.len(2)?,
            0xdf => r.len(4)?,
            _ => return Err(bad("not a map")),
        };
        let (mut nd, mut type_str, mut shape, mut data) = (None, None, None, None);
        for _ in 0..n {
            let Value::Bytes(key) = r.value()? else { return Err(bad("non-string key")) };
            let value = r.value()?;
            match (key.as_slice(), value) {
                (b"nd", Value::Bool(b)) => nd = Some(b),
                (b"type", Value::Bytes(t)) => {
                    type_str = Some(String::from_utf8(t).map_err(|_| bad("type not UTF-8"))?)
                }
                (b"shape", Value::Array(items)) => {
                    let dims = items
                        .into_iter()
                        .map(|v| match v {
                            Value::Int(i) => usize::try_from(i).map_err(|_| bad("negative dim")),
                            _ => Err(bad("shape entry not an integer")),
                        })
                        .collect::<Result<Vec<_>>>()?;
                    shape = Some(dims);
                }
                (b"data", Value::Bytes(d)) => data = Some(d),
                (b"kind", _) => {}
                (b"nd" | b"type" | b"shape" | b"data", Value::Nil | Value::Other | _) => {
                    return Err(bad("field of the wrong type"))
                }
                _ => {}
            }
        }
        if nd != Some(true) {
            return Err(bad("not an ndarray (nd != true)"));
        }
        Ok(NdArray {
            type_str: type_str.ok_or_else(|| bad("no type"))?,
            shape: shape.ok_or_else(|| bad("no shape"))?,
            data: data.ok_or_else(|| bad("no data"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_bytes() {
        let t = Tensor::from_f32(&[1.5, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
        let raw = STANDARD.decode(&t.buffer).unwrap();
        let expected_head = hex::decode(
            "85c4026e64c3c40474797065a33c6634c4046b696e64c400c40573686170659202 02c40464617461c410"
                .replace(' ', ""),
        )
        .unwrap();
        assert_eq!(&raw[..expected_head.len()], &expected_head[..]);
        assert_eq!(&raw[expected_head.len()..expected_head.len() + 4], &1.5f32.to_le_bytes());
        assert_eq!(t.dtype, "float32");
        assert_eq!(t.shape, vec![2, 2]);
        assert_eq!(t.to_f32().unwrap(), (vec![2, 2], vec![1.5, 2.0, 3.0, 4.0]));
    }

    #[test]
    fn round_trips() {
        let t = Tensor::from_i64(&[1, -2, 3], &[1, 3]).unwrap();
        assert_eq!(t.to_i64().unwrap(), (vec![1, 3], vec![1, -2, 3]));
        let h = Tensor::from_f32_as_f16(&[0.5, -2.0, 65504.0, 1e-7], &[4]).unwrap();
        let (_, v) = h.to_f32().unwrap();
        assert_eq!(&v[..3], &[0.5, -2.0, 65504.0]);
        assert!((v[3] - 1e-7).abs() < 1e-7);
        assert!(t.to_f32().is_err());
    }

    #[test]
    fn shape_mismatches_are_errors() {
        assert!(Tensor::from_f32(&[1.0, 2.0, 3.0], &[2, 2]).is_err());
        let mut t = Tensor::from_f32(&[1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
        t.shape = vec![4, 1];
        assert!(t.decode().is_err());
        t.shape = vec![-1, 4];
        assert!(t.decode().is_err());
        t.shape = vec![i64::MAX, i64::MAX];
        assert!(t.decode().is_err());
        t.shape = vec![2, 2];
        t.buffer = "!!".into();
        assert!(t.decode().is_err());
        t.buffer = STANDARD.encode([0x85, 0xc4]);
        assert!(t.decode().is_err());
    }

    #[test]
    fn nan_rejected_when_finite_required() {
        let t = Tensor::from_f32(&[1.0, f32::NAN], &[2]).unwrap();
        assert!(t.to_f32().is_ok());
        assert!(t.to_finite_f32().is_err());
    }

    #[test]
    fn python_repr_format() {
        let t = Tensor { buffer: "QQ==".into(), dtype: "int64".into(), shape: vec![2, 3] };
        assert_eq!(t.python_repr(), "{'buffer': 'QQ==', 'dtype': 'int64', 'shape': [2, 3]}");
    }
}
