//! The model's identity in a grid spec: a SHA-256 digest over its three files (the contract
//! is documented on [`model_digest`]).

use crate::model::{CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE};
use crate::{ModelError, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// Domain-separation prefix of the model digest (version 1).
pub const GRID_MODEL_DOMAIN: &[u8] = b"subtensor-grid-model-v1";

/// The files of a model directory the digest covers, in hashing order.
pub const GRID_MODEL_FILES: [&str; 3] = [CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE];

/// Bytes read per chunk when hashing a file.
const CHUNK: usize = 1 << 20;

/// A model directory's digest ([`model_digest`]) and the digests of the files it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelDigest {
    /// The model digest (see [`model_digest`]).
    pub model_sha256: [u8; 32],
    /// SHA-256 of each file of [`GRID_MODEL_FILES`], in that order.
    pub files: Vec<(&'static str, [u8; 32])>,
}

impl ModelDigest {
    /// Hashes the files of the model directory `dir`. A missing file is an error naming it.
    pub fn of_dir(dir: &Path) -> Result<Self> {
        let mut outer = Sha256::new();
        outer.update(GRID_MODEL_DOMAIN);
        let mut files = Vec::with_capacity(GRID_MODEL_FILES.len());
        for name in GRID_MODEL_FILES {
            let path = dir.join(name);
            if !path.is_file() {
                return Err(ModelError::io(
                    &path,
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!(
                            "missing {name}: the grid model digest covers {}",
                            GRID_MODEL_FILES.join(", ")
                        ),
                    ),
                ));
            }
            let digest = file_sha256(&path)?;
            outer.update(digest);
            files.push((name, digest));
        }
        Ok(Self { model_sha256: outer.finalize().into(), files })
    }

    /// The model digest in lower-case hex.
    pub fn hex(&self) -> String {
        hex::encode(self.model_sha256)
    }
}

/// SHA-256 of a file's bytes, read in 1 MiB chunks (a large weights file is never held in
/// memory whole).
pub fn file_sha256(path: &Path) -> Result<[u8; 32]> {
    let mut file = std::fs::File::open(path).map_err(|e| ModelError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ModelError::io(path, e)),
        };
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hasher.finalize().into())
}

/// The model digest of the model directory `dir`: the model's identity in a grid spec.
///
/// # Contract, version 1 ([`GRID_MODEL_DOMAIN`])
///
/// ```text
/// model_sha256 = SHA-256( b"subtensor-grid-model-v1"
///                         ‖ SHA-256(bytes of config.json)
///                         ‖ SHA-256(bytes of model.safetensors)
///                         ‖ SHA-256(bytes of tokenizer.json) )
/// ```
///
/// The domain tag is the 23 ASCII bytes shown (no terminator, no length prefix), followed by
/// three 32-byte file digests in exactly this order ([`GRID_MODEL_FILES`]), so the hash input
/// is 119 bytes. Each file digest is over the file's bytes exactly as stored (no parsing, no
/// normalisation of JSON whitespace): anyone can check it with `sha256sum`. All three files
/// must be present; other files in the directory (checkpoints, reports) are not covered.
pub fn model_digest(dir: &Path) -> Result<[u8; 32]> {
    Ok(ModelDigest::of_dir(dir)?.model_sha256)
}

/// [`model_digest`] in lower-case hex (64 characters).
pub fn model_digest_hex(dir: &Path) -> Result<String> {
    Ok(ModelDigest::of_dir(dir)?.hex())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::*;

    fn write_model(dir: &Path, config: &[u8], weights: &[u8], tokenizer: &[u8]) {
        std::fs::write(dir.join(CONFIG_FILE), config).unwrap();
        std::fs::write(dir.join(WEIGHTS_FILE), weights).unwrap();
        std::fs::write(dir.join(TOKENIZER_FILE), tokenizer).unwrap();
    }

    #[test]
    fn grid_digest_contract_vector() {
        // Cross-checked with Python: h = lambda b: hashlib.sha256(b).digest();
        // hashlib.sha256(b"subtensor-grid-model-v1" + h(b"a") + h(b"b") + h(b"c")).hexdigest()
        let dir = tempfile::tempdir().unwrap();
        write_model(dir.path(), b"a", b"b", b"c");
        let d = ModelDigest::of_dir(dir.path()).unwrap();
        assert_eq!(
            hex::encode(d.files[0].1),
            "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
        );
        assert_eq!(d.files.iter().map(|f| f.0).collect::<Vec<_>>(), GRID_MODEL_FILES);
        assert_eq!(d.hex(), PINNED_ABC);
        assert_eq!(model_digest_hex(dir.path()).unwrap(), PINNED_ABC);
        let mut by_hand = Sha256::new();
        by_hand.update(GRID_MODEL_DOMAIN);
        for (_, f) in &d.files {
            by_hand.update(f);
        }
        assert_eq!(model_digest(dir.path()).unwrap(), <[u8; 32]>::from(by_hand.finalize()));
    }

    /// The model digest of config.json = "a", model.safetensors = "b", tokenizer.json = "c".
    const PINNED_ABC: &str = "b2d3a4cb470d467189d49eb8fd3d3f5e56c7aa5649b846556540fca7ea6ce163";

    #[test]
    fn grid_digest_tracks_every_file() {
        let dir = tempfile::tempdir().unwrap();
        // A weights file larger than a chunk, so hashing streams over several reads.
        let weights: Vec<u8> = (0..(CHUNK * 5 / 2)).map(|i| (i % 251) as u8).collect();
        write_model(dir.path(), b"{}", &weights, b"{\"model\":{}}");
        let base = model_digest(dir.path()).unwrap();
        assert_eq!(model_digest(dir.path()).unwrap(), base, "stable");
        assert_eq!(
            file_sha256(&dir.path().join(WEIGHTS_FILE)).unwrap(),
            <[u8; 32]>::from(Sha256::digest(&weights))
        );
        // Other files are not covered.
        std::fs::write(dir.path().join("optimizer.safetensors"), b"x").unwrap();
        assert_eq!(model_digest(dir.path()).unwrap(), base);
        let mut seen = vec![base];
        for name in GRID_MODEL_FILES {
            let path = dir.path().join(name);
            let original = std::fs::read(&path).unwrap();
            let mut changed = original.clone();
            // One flipped bit, in the last chunk for the weights.
            let last = changed.len() - 1;
            changed[last] ^= 1;
            std::fs::write(&path, &changed).unwrap();
            let d = model_digest(dir.path()).unwrap();
            assert!(!seen.contains(&d), "changing {name} must change the digest");
            seen.push(d);
            std::fs::write(&path, &original).unwrap();
            assert_eq!(model_digest(dir.path()).unwrap(), base, "restoring {name}");
        }
        // Swapping two files' contents changes the digest too (the order is fixed).
        write_model(dir.path(), b"{\"model\":{}}", &weights, b"{}");
        assert_ne!(model_digest(dir.path()).unwrap(), base);
    }

    #[test]
    fn grid_digest_missing_tokenizer_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_model(dir.path(), b"{}", b"w", b"t");
        std::fs::remove_file(dir.path().join(TOKENIZER_FILE)).unwrap();
        let err = model_digest(dir.path()).unwrap_err().to_string();
        assert!(err.contains("tokenizer.json") && err.contains("missing"), "{err}");
        assert!(model_digest(&dir.path().join("nope")).is_err());
    }
}
