//! The crate's error type.

use std::path::PathBuf;

/// Why the network could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node key file could not be read or written.
    #[error("node key file {path}: {source}")]
    NodeKeyFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A node key is not a valid ed25519 secret (32 bytes, raw or hex).
    #[error("invalid node key: {0}")]
    InvalidNodeKey(String),
    /// A configured address cannot be used (for example a boot node without `/p2p/<peer id>`).
    #[error("invalid address {0}: {1}")]
    InvalidAddress(String, String),
    /// The configuration is inconsistent.
    #[error("invalid network configuration: {0}")]
    InvalidConfig(String),
    /// The transport could not be built.
    #[error("cannot build the transport: {0}")]
    Transport(String),
    /// None of the listen addresses could be listened on.
    #[error("cannot listen on {0}: {1}")]
    Listen(String, String),
}
