//! Device names on the command line and in configs.

use crate::{ModelError, Result};
use tch::Device;

/// Parses a device name: `cpu`, `cuda` (the first GPU), `cuda:N`, or `auto` (the first GPU if
/// libtorch sees one, else the CPU). Asking for a GPU that is not there is an error.
pub fn parse_device(s: &str) -> Result<Device> {
    let name = s.trim().to_ascii_lowercase();
    let index = match name.as_str() {
        "cpu" => return Ok(Device::Cpu),
        "auto" => return Ok(Device::cuda_if_available()),
        "cuda" | "gpu" => 0,
        other => match other.strip_prefix("cuda:") {
            Some(n) => n.parse::<usize>().map_err(|_| {
                ModelError::Device(format!("{s:?}: expected cuda:N with N a GPU index"))
            })?,
            None => {
                return Err(ModelError::Device(format!(
                    "unknown device {s:?} (expected cpu, cuda, cuda:N or auto)"
                )))
            }
        },
    };
    let count = usize::try_from(tch::Cuda::device_count()).unwrap_or(0);
    if index >= count {
        return Err(ModelError::Device(format!(
            "{s:?} is not available: libtorch sees {count} CUDA device(s)"
        )));
    }
    Ok(Device::Cuda(index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_device("cpu").ok(), Some(Device::Cpu));
        assert_eq!(parse_device(" CPU ").ok(), Some(Device::Cpu));
        assert!(parse_device("tpu").is_err());
        assert!(parse_device("cuda:x").is_err());
        assert!(parse_device("auto").is_ok());
        if tch::Cuda::device_count() == 0 {
            assert!(parse_device("cuda").is_err());
            assert!(parse_device("cuda:0").is_err());
        }
    }
}
