//! The node binary's error type.

use std::path::PathBuf;

/// Errors of the node binary.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The chain spec could not be read or is malformed.
    #[error("chain spec {path}: {reason}")]
    ChainSpec {
        /// Where it was read from (or the built-in name).
        path: PathBuf,
        /// Why it failed.
        reason: String,
    },
    /// The genesis state could not be built from the chain spec.
    #[error("genesis: {0}")]
    Genesis(String),
    /// A command-line value is invalid.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An input/output operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The JSON-RPC server failed.
    #[error("RPC: {0}")]
    Rpc(String),
    /// The peer-to-peer network could not start.
    #[error("network: {0}")]
    Network(String),
    /// The chain engine failed.
    #[error(transparent)]
    Chain(#[from] subtensor_chain::ChainError),
}

/// The result type of the node binary.
pub type NodeResult<T> = Result<T, NodeError>;

impl NodeError {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}
