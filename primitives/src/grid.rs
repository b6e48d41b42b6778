//! Grid specs: the one model every miner of a *grid subnet* serves.
//!
//! A grid subnet is a homogeneous inference grid: its owner names one model, by digest, and one
//! sampler, and every miner serves exactly that model with exactly that sampler, so a validator
//! can re-run the model and check each sampled token. The owner commits a [`GridSpec`] with the
//! subtensor pallet's `set_grid_spec` call; the chain stores it as a [`GridSpecRecord`] (the
//! spec and the block it was set at), serves it through `GridSpecRuntimeApi_get_grid_spec` and
//! the node's `subtensor_getGridSpec` and `subtensor_getMetagraph` (field `grid`), and removes
//! it with `clear_grid_spec` or when the subnet is dissolved. A subnet without a spec is an
//! ordinary subnet.
//!
//! [`GridSpec::validate`] holds every rule a spec must satisfy; the pallet refuses a spec that
//! fails it (each [`GridSpecError`] is a pallet error of the same name) and clients run it
//! before sending.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt;
use scale_info::TypeInfo;
use sp_core::{bounded::BoundedVec, ConstU32};

/// The longest model name, in bytes of UTF-8.
pub const GRID_MODEL_NAME_MAX_BYTES: u32 = 64;

/// A model's display name: UTF-8, at most [`GRID_MODEL_NAME_MAX_BYTES`] bytes.
pub type GridModelName = BoundedVec<u8, ConstU32<GRID_MODEL_NAME_MAX_BYTES>>;

/// The grid sampler versions the chain accepts. Version 1 is the position-keyed ChaCha20
/// Gumbel-max sampler of `subtensor_model::grid` (`GRID_SAMPLER_VERSION`); a new version is
/// added here, with a runtime upgrade, once miners and validators implement it.
pub const SUPPORTED_GRID_SAMPLER_VERSIONS: &[u32] = &[1];

/// The largest context (prompt plus generated tokens) a spec may declare: 1,048,576 tokens.
pub const MAX_GRID_CONTEXT: u32 = 1 << 20;

/// What a grid subnet serves: the model (by digest, with a display name), the sampler version
/// and the request limits. SCALE: 32 + 4 + 4 + 4 bytes, then the name as a length-prefixed
/// byte string.
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct GridSpec {
    /// SHA-256 of the model's files, as computed by `subtensor_model::grid::model_digest`:
    /// one digest over `config.json`, `model.safetensors` and `tokenizer.json`. Miners and
    /// validators load a model only if its digest equals this one.
    pub model_sha256: [u8; 32],
    /// The grid sampler version requests are sampled and verified with; one of
    /// [`SUPPORTED_GRID_SAMPLER_VERSIONS`].
    pub sampler_version: u32,
    /// The most tokens one request may ask the miner to generate (at least 1).
    pub max_new_tokens: u32,
    /// The most tokens of prompt plus generated output one request may span: more than
    /// `max_new_tokens`, at most [`MAX_GRID_CONTEXT`].
    pub max_context: u32,
    /// The model's display name (UTF-8), for people; the digest is what binds.
    pub model_name: GridModelName,
}

/// A subnet's grid spec as stored: the spec and the block it was set at.
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct GridSpecRecord {
    /// The spec.
    pub spec: GridSpec,
    /// The block whose extrinsic set it.
    pub set_at_block: u64,
}

/// Why a [`GridSpec`] is refused. The subtensor pallet has an error of each name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GridSpecError {
    /// The model digest is all zeros (never the SHA-256 of real files: the digest was not
    /// filled in).
    GridModelDigestZero,
    /// The sampler version is not in [`SUPPORTED_GRID_SAMPLER_VERSIONS`].
    GridSamplerVersionUnsupported,
    /// `max_new_tokens` is 0.
    GridMaxNewTokensZero,
    /// `max_context` is not above `max_new_tokens` (no room for a prompt token).
    GridContextTooShort,
    /// `max_context` exceeds [`MAX_GRID_CONTEXT`].
    GridContextTooLong,
    /// The model name is not UTF-8.
    GridModelNameNotUtf8,
}

impl fmt::Display for GridSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GridModelDigestZero => write!(f, "the model SHA-256 is all zeros"),
            Self::GridSamplerVersionUnsupported => write!(
                f,
                "unsupported sampler version (supported: {:?})",
                SUPPORTED_GRID_SAMPLER_VERSIONS
            ),
            Self::GridMaxNewTokensZero => write!(f, "max new tokens must be at least 1"),
            Self::GridContextTooShort => {
                write!(f, "max context must exceed max new tokens (room for a prompt)")
            }
            Self::GridContextTooLong => write!(f, "max context exceeds {MAX_GRID_CONTEXT} tokens"),
            Self::GridModelNameNotUtf8 => write!(f, "the model name is not UTF-8"),
        }
    }
}

impl GridSpec {
    /// Checks every rule of a spec: a non-zero digest, a supported sampler version,
    /// `1 <= max_new_tokens < max_context <= MAX_GRID_CONTEXT`, and a UTF-8 name (its length
    /// is bounded by its type). The first rule broken, in that order, is the error.
    pub fn validate(&self) -> Result<(), GridSpecError> {
        if self.model_sha256 == [0u8; 32] {
            return Err(GridSpecError::GridModelDigestZero);
        }
        if !SUPPORTED_GRID_SAMPLER_VERSIONS.contains(&self.sampler_version) {
            return Err(GridSpecError::GridSamplerVersionUnsupported);
        }
        if self.max_new_tokens == 0 {
            return Err(GridSpecError::GridMaxNewTokensZero);
        }
        if self.max_context <= self.max_new_tokens {
            return Err(GridSpecError::GridContextTooShort);
        }
        if self.max_context > MAX_GRID_CONTEXT {
            return Err(GridSpecError::GridContextTooLong);
        }
        if core::str::from_utf8(&self.model_name).is_err() {
            return Err(GridSpecError::GridModelNameNotUtf8);
        }
        Ok(())
    }

    /// The model name as text (`None` if it is not UTF-8, which a stored spec never is).
    pub fn model_name_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.model_name).ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::*;

    fn spec() -> GridSpec {
        GridSpec {
            model_sha256: [7; 32],
            sampler_version: 1,
            max_new_tokens: 64,
            max_context: 2048,
            model_name: GridModelName::truncate_from(b"tiny-gpt".to_vec()),
        }
    }

    #[test]
    fn a_sound_spec_validates() {
        assert_eq!(spec().validate(), Ok(()));
        assert_eq!(spec().model_name_str(), Some("tiny-gpt"));
        let edge = GridSpec { max_new_tokens: 1, max_context: 2, ..spec() };
        assert_eq!(edge.validate(), Ok(()));
        let widest = GridSpec { max_context: MAX_GRID_CONTEXT, ..spec() };
        assert_eq!(widest.validate(), Ok(()));
        let unnamed = GridSpec { model_name: GridModelName::default(), ..spec() };
        assert_eq!(unnamed.validate(), Ok(()));
    }

    #[test]
    fn each_broken_rule_has_its_error() {
        use GridSpecError::*;
        let cases = [
            (GridSpec { model_sha256: [0; 32], ..spec() }, GridModelDigestZero),
            (GridSpec { sampler_version: 0, ..spec() }, GridSamplerVersionUnsupported),
            (GridSpec { sampler_version: 2, ..spec() }, GridSamplerVersionUnsupported),
            (GridSpec { max_new_tokens: 0, ..spec() }, GridMaxNewTokensZero),
            (GridSpec { max_context: 64, ..spec() }, GridContextTooShort),
            (GridSpec { max_context: 10, ..spec() }, GridContextTooShort),
            (GridSpec { max_context: MAX_GRID_CONTEXT + 1, ..spec() }, GridContextTooLong),
            (
                GridSpec { model_name: GridModelName::truncate_from(vec![0xff, 0xfe]), ..spec() },
                GridModelNameNotUtf8,
            ),
        ];
        for (spec, error) in cases {
            assert_eq!(spec.validate(), Err(error), "{spec:?}");
            assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn the_encoding_is_fixed_fields_then_the_name() {
        let bytes = spec().encode();
        assert_eq!(bytes.len(), 32 + 4 + 4 + 4 + 1 + 8);
        assert_eq!(&bytes[..32], &[7u8; 32]);
        assert_eq!(&bytes[32..36], &1u32.to_le_bytes());
        assert_eq!(&bytes[36..40], &64u32.to_le_bytes());
        assert_eq!(&bytes[40..44], &2048u32.to_le_bytes());
        assert_eq!(bytes[44], 8 << 2);
        assert_eq!(&bytes[45..], b"tiny-gpt");
        let record = GridSpecRecord { spec: spec(), set_at_block: 9 };
        let encoded = record.encode();
        assert_eq!(&encoded[bytes.len()..], &9u64.to_le_bytes());
        assert_eq!(GridSpecRecord::decode(&mut &encoded[..]).unwrap(), record);
        // The length prefix of 64 takes two bytes of compact encoding.
        assert_eq!(GridSpec::max_encoded_len(), 44 + 2 + 64);
        // A name over the bound does not decode.
        let mut long = bytes[..44].to_vec();
        long.extend(vec![b'x'; 65].encode());
        assert!(GridSpec::decode(&mut &long[..]).is_err());
    }
}
