//! The crate's error type.

/// Errors of the finality gadget.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The voting engine refused something (a block that is not a descendant of a base).
    #[error("grandpa: {0}")]
    Grandpa(#[from] finality_grandpa::Error),
    /// The chain refused or failed an operation (finalize, lookups).
    #[error("chain: {0}")]
    Chain(String),
    /// The auxiliary storage failed, or holds data that does not decode.
    #[error("voter state storage: {0}")]
    Storage(String),
    /// The authority set is empty or its weights overflow.
    #[error("invalid authority set: {0}")]
    InvalidAuthorities(String),
    /// Bytes from a peer or from storage did not decode.
    #[error("decoding failed: {0}")]
    Decode(String),
    /// A justification failed verification.
    #[error("invalid justification: {0}")]
    InvalidJustification(String),
    /// Voting would break a safety rule (e.g. a second different vote in a round).
    #[error("safety violation refused: {0}")]
    Safety(String),
}
