//! Reading and writing the `.safetensors` format (little-endian tensors behind a JSON header).
//!
//! Written by hand rather than through `tch` so that the header can carry `__metadata__`
//! (`{"format": "pt"}`, which `transformers` looks for, and our checkpoint's step) and so that
//! every malformed file is an error naming the file and tensor, never a panic.

use crate::{ModelError, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// The tensors and metadata of one file, tensors on the CPU in their stored dtype.
pub(crate) struct SafeTensorsFile {
    /// Name to tensor, sorted by name.
    pub tensors: BTreeMap<String, Tensor>,
    /// The `__metadata__` strings.
    pub metadata: BTreeMap<String, String>,
}

fn dtype_kind(dtype: &str) -> Option<Kind> {
    Some(match dtype {
        "F32" => Kind::Float,
        "F16" => Kind::Half,
        "BF16" => Kind::BFloat16,
        "F64" => Kind::Double,
        "I64" => Kind::Int64,
        "I32" => Kind::Int,
        "I16" => Kind::Int16,
        "I8" => Kind::Int8,
        "U8" => Kind::Uint8,
        "BOOL" => Kind::Bool,
        _ => return None,
    })
}

fn kind_dtype(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Float => "F32",
        Kind::Half => "F16",
        Kind::BFloat16 => "BF16",
        Kind::Double => "F64",
        Kind::Int64 => "I64",
        Kind::Int => "I32",
        Kind::Int16 => "I16",
        Kind::Int8 => "I8",
        Kind::Uint8 => "U8",
        Kind::Bool => "BOOL",
        _ => return None,
    })
}

/// Reads a `.safetensors` file.
pub(crate) fn read(path: &Path) -> Result<SafeTensorsFile> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    parse(&bytes).map_err(|msg| ModelError::Weights(format!("{}: {msg}", path.display())))
}

fn parse(bytes: &[u8]) -> std::result::Result<SafeTensorsFile, String> {
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or("not a safetensors file (shorter than its 8-byte header length)")?;
    let header_len =
        usize::try_from(u64::from_le_bytes(len_bytes)).map_err(|_| "header length too large")?;
    let data_start = header_len.checked_add(8).ok_or("header length too large")?;
    let header = bytes.get(8..data_start).ok_or_else(|| {
        format!("not a safetensors file (header of {header_len} bytes past the end)")
    })?;
    let header: Map<String, Value> = serde_json::from_slice(header)
        .map_err(|e| format!("not a safetensors file (bad JSON header: {e})"))?;
    let data = bytes.get(data_start..).unwrap_or_default();
    let mut out = SafeTensorsFile { tensors: BTreeMap::new(), metadata: BTreeMap::new() };
    for (name, entry) in header {
        if name == "__metadata__" {
            if let Value::Object(meta) = entry {
                for (k, v) in meta {
                    if let Value::String(s) = v {
                        out.metadata.insert(k, s);
                    }
                }
            }
            continue;
        }
        let dtype = entry
            .get("dtype")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("tensor {name}: no dtype"))?;
        let kind =
            dtype_kind(dtype).ok_or_else(|| format!("tensor {name}: unsupported dtype {dtype}"))?;
        let shape: Vec<i64> = entry
            .get("shape")
            .and_then(Value::as_array)
            .and_then(|dims| {
                dims.iter().map(|d| d.as_i64().filter(|d| *d >= 0)).collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| format!("tensor {name}: bad shape"))?;
        let offsets: Vec<usize> = entry
            .get("data_offsets")
            .and_then(Value::as_array)
            .and_then(|o| {
                o.iter()
                    .map(|x| x.as_u64().and_then(|x| usize::try_from(x).ok()))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| format!("tensor {name}: bad data_offsets"))?;
        let [begin, end] = offsets[..] else {
            return Err(format!("tensor {name}: data_offsets must hold two numbers"));
        };
        let numel = shape
            .iter()
            .try_fold(1usize, |acc, d| usize::try_from(*d).ok().and_then(|d| acc.checked_mul(d)));
        let want = numel
            .and_then(|n| n.checked_mul(kind.elt_size_in_bytes()))
            .ok_or_else(|| format!("tensor {name}: shape {shape:?} too large"))?;
        if end < begin || end.wrapping_sub(begin) != want {
            return Err(format!(
                "tensor {name}: {} data bytes for shape {shape:?} of {dtype}",
                end.wrapping_sub(begin)
            ));
        }
        let raw = data.get(begin..end).ok_or_else(|| {
            format!("tensor {name}: data {begin}..{end} past the end of the file")
        })?;
        let tensor = Tensor::f_from_data_size(raw, &shape, kind)
            .map_err(|e| format!("tensor {name}: {e}"))?;
        out.tensors.insert(name, tensor);
    }
    Ok(out)
}

/// Serialises `tensors` (any device; copied to the CPU) with `metadata` into safetensors bytes.
pub(crate) fn serialize(
    tensors: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    let mut header = Map::new();
    if !metadata.is_empty() {
        let meta: Map<String, Value> =
            metadata.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        header.insert("__metadata__".to_owned(), Value::Object(meta));
    }
    let mut blobs: Vec<Vec<u8>> = Vec::with_capacity(tensors.len());
    let mut offset = 0usize;
    for (name, tensor) in tensors {
        let dtype = kind_dtype(tensor.kind()).ok_or_else(|| {
            ModelError::Weights(format!("tensor {name}: cannot store kind {:?}", tensor.kind()))
        })?;
        let cpu = tensor.f_to_device(Device::Cpu)?.f_contiguous()?;
        let numel = cpu.numel();
        let nbytes = numel
            .checked_mul(cpu.kind().elt_size_in_bytes())
            .ok_or_else(|| ModelError::Weights(format!("tensor {name}: too large")))?;
        let mut blob = vec![0u8; nbytes];
        cpu.f_copy_data_u8(&mut blob, numel)?;
        let end = offset
            .checked_add(nbytes)
            .ok_or_else(|| ModelError::Weights("weights too large".into()))?;
        header.insert(
            name.clone(),
            serde_json::json!({ "dtype": dtype, "shape": cpu.size(), "data_offsets": [offset, end] }),
        );
        offset = end;
        blobs.push(blob);
    }
    let mut header_bytes = serde_json::to_vec(&Value::Object(header))
        .map_err(|e| ModelError::Weights(format!("header: {e}")))?;
    while header_bytes.len() % 8 != 0 {
        header_bytes.push(b' ');
    }
    let total = offset.saturating_add(header_bytes.len()).saturating_add(8);
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(header_bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(&header_bytes);
    for blob in blobs {
        out.extend_from_slice(&blob);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let a = Tensor::from_slice(&[1.5f32, -2.0, 3.25, 0.0, 7.0, 8.0]).reshape([2, 3]);
        let b = Tensor::from_slice(&[4i64, 5, 6]);
        let meta = BTreeMap::from([("format".to_owned(), "pt".to_owned())]);
        let bytes =
            serialize(&[("a".into(), a.shallow_clone()), ("b".into(), b.shallow_clone())], &meta)
                .unwrap();
        let file = parse(&bytes).unwrap();
        assert_eq!(file.metadata.get("format").map(String::as_str), Some("pt"));
        assert!(file.tensors.get("a").unwrap().equal(&a));
        assert!(file.tensors.get("b").unwrap().equal(&b));
        assert!(parse(&bytes[..bytes.len() - 4]).is_err());
        assert!(parse(&bytes[..5]).is_err());
        assert!(parse(b"\xff\xff\xff\xff\x00\x00\x00\x00{}").is_err());
    }
}
