//! Why the pool refused a transaction.
//!
//! The variants follow Substrate's `sc_transaction_pool_api::error::Error`, so that the RPC
//! layer can give clients the same JSON-RPC error codes and texts a Substrate node gives
//! (`subtensor-rpc` does the mapping; see [`PoolError::rpc_code`]).

use crate::TxHash;
use sp_runtime::transaction_validity::{InvalidTransaction, UnknownTransaction};

/// Errors of the transaction pool.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The bytes are not an extrinsic of this runtime (SCALE decoding failed).
    #[error("Extrinsic has invalid format: {0}")]
    BadFormat(String),
    /// The runtime declared the transaction invalid.
    #[error("Invalid Transaction: {}", invalid_transaction_text(.0))]
    InvalidTransaction(InvalidTransaction),
    /// The runtime could not tell whether the transaction is valid.
    #[error("Unknown Transaction Validity: {0:?}")]
    UnknownTransaction(UnknownTransaction),
    /// The transaction was recently found invalid or included, and is banned for a while.
    #[error("Transaction is temporarily banned")]
    TemporarilyBanned,
    /// The transaction is already in the pool.
    #[error("Transaction Already Imported: {0:?}")]
    AlreadyImported(TxHash),
    /// Pooled transactions provide some of the same tags (e.g. the same nonce, or the same
    /// one-per-hotkey tag of a fee-free call) with at least the same priority, added up: the
    /// pooled ones stay (Substrate's rule; an equal priority never replaces).
    #[error("Priority is too low: ({old} vs {new})")]
    TooLowPriority {
        /// Priority of the pooled transactions providing the same tags, added up.
        old: u64,
        /// Priority of the rejected transaction.
        new: u64,
    },
    /// The pool is full and the transaction was the worst one in it.
    #[error("Immediately Dropped")]
    ImmediatelyDropped,
    /// The runtime declared the transaction valid but gave it no `provides` tag.
    #[error("No tags provided")]
    NoTagsProvided,
    /// Validation itself failed: the runtime call errored or returned undecodable bytes.
    #[error("Verification Error: {0}")]
    Verification(String),
}

impl PoolError {
    /// The JSON-RPC error code a Substrate node returns for this error (`author_*` methods).
    pub fn rpc_code(&self) -> i32 {
        match self {
            PoolError::BadFormat(_) => 1001,
            PoolError::Verification(_) => 1002,
            PoolError::InvalidTransaction(_) => 1010,
            PoolError::UnknownTransaction(_) => 1011,
            PoolError::TemporarilyBanned => 1012,
            PoolError::AlreadyImported(_) => 1013,
            PoolError::TooLowPriority { .. } => 1014,
            PoolError::ImmediatelyDropped => 1016,
            PoolError::NoTagsProvided => 1019,
        }
    }
}

/// The text Substrate puts in the `data` field of a 1010 error: sp_runtime's description of the
/// variant (`"Transaction has a bad signature"`, `"Transaction is outdated"`, ...), or
/// `"Custom error: N"` for a runtime-specific code.
pub fn invalid_transaction_text(e: &InvalidTransaction) -> String {
    match e {
        InvalidTransaction::Custom(code) => format!("Custom error: {code}"),
        other => {
            let text: &'static str = (*other).into();
            text.to_owned()
        }
    }
}

/// The result type of the pool.
pub type PoolResult<T> = Result<T, PoolError>;
