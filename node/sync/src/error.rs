//! The errors of block sync.

use subtensor_chain::ChainError;
use subtensor_network_api::RequestError;

/// Errors of the sync service and of its exchanges with peers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// Bytes received from a peer (or read back) could not be decoded.
    #[error("decoding failed: {0}")]
    Decode(String),
    /// A request to a peer failed in the network.
    #[error("request failed: {0}")]
    Request(#[from] RequestError),
    /// A peer did not answer within the sync's own timeout.
    #[error("request timed out")]
    Timeout,
    /// A peer's answer decoded but breaks the protocol (wrong blocks, wrong order...).
    #[error("bad response: {0}")]
    BadResponse(String),
    /// The chain engine failed or refused a block.
    #[error("chain error: {0}")]
    Chain(#[from] ChainError),
    /// A thread or task could not be started, or stopped unexpectedly.
    #[error("task failed: {0}")]
    Task(String),
    /// The sync service is shutting down.
    #[error("sync service stopped")]
    Shutdown,
}

/// The result type of block sync.
pub type SyncResult<T> = Result<T, SyncError>;
