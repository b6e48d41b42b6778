//! The node's ed25519 identity, stored and parsed as Substrate does.

use crate::error::Error;
use libp2p::identity::{ed25519, Keypair};
use std::{
    fmt,
    io::Write,
    path::{Path, PathBuf},
};
use subtensor_network_api::PeerId;

/// The length of an ed25519 secret key.
const SECRET_LEN: usize = 32;

/// The node's ed25519 key pair; its public key is the node's peer id (`12D3KooW…`).
///
/// The same 32-byte secret gives the same peer id as Substrate's `--node-key`.
#[derive(Clone)]
pub struct NodeKey {
    keypair: ed25519::Keypair,
}

impl NodeKey {
    /// A new random key.
    pub fn generate() -> Self {
        NodeKey { keypair: ed25519::Keypair::generate() }
    }

    /// The key with the given 32-byte secret.
    pub fn from_secret(secret: [u8; SECRET_LEN]) -> Result<Self, Error> {
        let mut bytes = secret;
        let secret = ed25519::SecretKey::try_from_bytes(&mut bytes)
            .map_err(|e| Error::InvalidNodeKey(e.to_string()))?;
        Ok(NodeKey { keypair: ed25519::Keypair::from(secret) })
    }

    /// The key whose secret is the 64 hex digits `hex` (an optional `0x` prefix allowed), as
    /// Substrate's `--node-key`.
    pub fn from_hex(hex: &str) -> Result<Self, Error> {
        let digits = hex.trim();
        let digits = digits.strip_prefix("0x").unwrap_or(digits);
        let mut secret = [0u8; SECRET_LEN];
        hex::decode_to_slice(digits, &mut secret).map_err(|e| {
            Error::InvalidNodeKey(format!("expected 64 hex digits (a 32-byte secret): {e}"))
        })?;
        Self::from_secret(secret)
    }

    /// The secret as 64 lower-case hex digits (no `0x`).
    pub fn to_hex(&self) -> String {
        hex::encode(self.keypair.secret().as_ref())
    }

    /// The secret's 32 bytes.
    pub fn secret_bytes(&self) -> [u8; SECRET_LEN] {
        let mut out = [0u8; SECRET_LEN];
        out.copy_from_slice(self.keypair.secret().as_ref());
        out
    }

    /// Reads a key file: the 32 raw secret bytes (as Substrate writes `secret_ed25519`), or
    /// 64 hex digits.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|source| file_error(path, source))?;
        if let Ok(secret) = <[u8; SECRET_LEN]>::try_from(bytes.as_slice()) {
            return Self::from_secret(secret);
        }
        match std::str::from_utf8(&bytes) {
            Ok(text) => Self::from_hex(text)
                .map_err(|e| Error::InvalidNodeKey(format!("{}: {e}", path.display()))),
            Err(_) => Err(Error::InvalidNodeKey(format!(
                "{}: {} bytes, expected 32 raw bytes or 64 hex digits",
                path.display(),
                bytes.len()
            ))),
        }
    }

    /// Reads the key file at `path`, or, when there is none, generates a key and stores it
    /// there (parent folders created, 32 raw bytes, mode 0600, written atomically).
    pub fn load_or_generate(path: &Path) -> Result<Self, Error> {
        match std::fs::metadata(path) {
            Ok(_) => Self::load(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                key.save(path)?;
                Ok(key)
            }
            Err(source) => Err(file_error(path, source)),
        }
    }

    /// Writes the secret's 32 raw bytes to `path` atomically (a temporary file renamed over
    /// it), with mode 0600, creating the parent folders.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|source| file_error(&dir, source))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let written =
            write_private(&tmp, &self.secret_bytes()).and_then(|()| std::fs::rename(&tmp, path));
        if let Err(source) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(file_error(path, source));
        }
        if let Ok(dir) = std::fs::File::open(&dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// The peer id of this key (`12D3KooW…`).
    pub fn peer_id(&self) -> PeerId {
        PeerId(self.libp2p_peer_id().to_base58())
    }

    /// The libp2p peer id of this key.
    pub(crate) fn libp2p_peer_id(&self) -> libp2p::PeerId {
        self.to_keypair().public().to_peer_id()
    }

    /// The libp2p identity.
    pub(crate) fn to_keypair(&self) -> Keypair {
        Keypair::from(self.keypair.clone())
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("NodeKey").field("peer_id", &self.peer_id().0).finish()
    }
}

fn file_error(path: &Path, source: std::io::Error) -> Error {
    Error::NodeKeyFile { path: path.to_path_buf(), source }
}

/// Creates (or truncates) `path` readable by its owner only and writes `bytes` durably.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn substrate_peer_id_of_a_known_secret() {
        // `--node-key 0000…0001`, the key of Substrate's documented local boot node.
        let key =
            NodeKey::from_hex("0000000000000000000000000000000000000000000000000000000000000001")
                .unwrap();
        assert_eq!(key.peer_id().0, "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp");
    }
}
