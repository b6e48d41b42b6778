//! Errors of the RPC layer and their JSON-RPC codes.
//!
//! | code | when |
//! |---|---|
//! | -32602 | invalid params: bad hex, bad hash, bad SS58 address, `count` over 1000, undecodable extrinsic given to `payment_queryInfo` |
//! | -32603 | internal: database errors, runtime output that does not decode, a failed background task |
//! | -32000 | [`codes::UNKNOWN_BLOCK`]: the `at` block is unknown (where Substrate errors instead of returning `null`) |
//! | -32001 | [`codes::STATE_PRUNED`]: the block is known but its state was pruned |
//! | -32002 | [`codes::RUNTIME_CALL`]: the runtime has no such entry point, or failed; the message is Substrate's (`Client error: Execution failed: Other: Exported method X is not found`), which clients match on |
//! | -32003 | [`codes::INVALID_BLOCK`]: a block failed verification |
//! | 1001–1019 | the transaction pool's rejections, with Substrate's author codes, messages and data (see [`subtensor_txpool::PoolError::rpc_code`]) |

use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use subtensor_chain::ChainError;
use subtensor_txpool::{invalid_transaction_text, PoolError};

/// The application error codes of this server (JSON-RPC's -32000..-32099 range).
pub mod codes {
    /// Invalid method parameters (JSON-RPC standard).
    pub const INVALID_PARAMS: i32 = -32602;
    /// Internal error (JSON-RPC standard).
    pub const INTERNAL: i32 = -32603;
    /// The block named by `at` is unknown.
    pub const UNKNOWN_BLOCK: i32 = -32000;
    /// The block is known but its state was pruned.
    pub const STATE_PRUNED: i32 = -32001;
    /// A runtime call failed or named no runtime entry point.
    pub const RUNTIME_CALL: i32 = -32002;
    /// A block failed verification.
    pub const INVALID_BLOCK: i32 = -32003;
}

/// Errors of the RPC layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// A parameter could not be used (bad hex, out-of-range number, bad address, ...).
    #[error("{0}")]
    InvalidParams(String),
    /// The chain engine failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The transaction pool refused a transaction.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// Something that should not fail did (bad runtime output, a crashed task).
    #[error("{0}")]
    Internal(String),
    /// The server could not start.
    #[error("server error: {0}")]
    Server(String),
    /// An unsafe method (one that changes the node's configuration) called on a node that does
    /// not expose unsafe methods (`--rpc-methods safe`, or `auto` with an external interface).
    #[error("RPC call is unsafe to be called externally")]
    UnsafeCall,
}

/// The result type of the RPC layer.
pub type RpcResult<T> = Result<T, RpcError>;

impl From<RpcError> for ErrorObjectOwned {
    fn from(e: RpcError) -> Self {
        match e {
            RpcError::InvalidParams(msg) => {
                ErrorObject::owned(codes::INVALID_PARAMS, msg, None::<()>)
            }
            RpcError::Chain(e) => chain_error(e),
            RpcError::Pool(e) => pool_error(e),
            RpcError::Internal(msg) | RpcError::Server(msg) => {
                ErrorObject::owned(codes::INTERNAL, msg, None::<()>)
            }
            // Substrate answers unsafe calls on a safe node with "Method not found".
            RpcError::UnsafeCall => ErrorObject::owned(
                jsonrpsee::types::error::METHOD_NOT_FOUND_CODE,
                RpcError::UnsafeCall.to_string(),
                None::<()>,
            ),
        }
    }
}

fn chain_error(e: ChainError) -> ErrorObjectOwned {
    match e {
        ChainError::UnknownBlock(hash) => ErrorObject::owned(
            codes::UNKNOWN_BLOCK,
            format!("Client error: UnknownBlock: Header was not found in the database: {hash:?}"),
            None::<()>,
        ),
        ChainError::StatePruned(hash) => ErrorObject::owned(
            codes::STATE_PRUNED,
            format!("Client error: UnknownBlock: State already discarded for {hash:?}"),
            None::<()>,
        ),
        // The exact text ASI matches before falling back to `state_getMetadata`.
        ChainError::MethodNotFound(method) => ErrorObject::owned(
            codes::RUNTIME_CALL,
            format!("Client error: Execution failed: Other: Exported method {method} is not found"),
            None::<()>,
        ),
        ChainError::Execution(msg) => ErrorObject::owned(
            codes::RUNTIME_CALL,
            format!("Client error: Execution failed: {msg}"),
            None::<()>,
        ),
        ChainError::InvalidBlock(msg) => {
            ErrorObject::owned(codes::INVALID_BLOCK, format!("Invalid block: {msg}"), None::<()>)
        }
        // Decoding and database failures, and the write-path errors (which reads and runtime
        // calls do not produce).
        other => ErrorObject::owned(codes::INTERNAL, other.to_string(), None::<()>),
    }
}

/// Substrate's author error objects (`sc-rpc-api/src/author/error.rs`).
fn pool_error(e: PoolError) -> ErrorObjectOwned {
    let code = e.rpc_code();
    match e {
        PoolError::BadFormat(msg) => {
            ErrorObject::owned(code, format!("Extrinsic has invalid format: {msg}"), None::<()>)
        }
        PoolError::Verification(msg) => ErrorObject::owned(
            code,
            format!("Verification Error: {msg}"),
            Some(msg),
        ),
        PoolError::InvalidTransaction(invalid) => ErrorObject::owned(
            code,
            "Invalid Transaction",
            Some(invalid_transaction_text(&invalid)),
        ),
        PoolError::UnknownTransaction(unknown) => ErrorObject::owned(
            code,
            "Unknown Transaction Validity",
            Some(format!("{unknown:?}")),
        ),
        PoolError::TemporarilyBanned => {
            ErrorObject::owned(code, "Transaction is temporarily banned", None::<()>)
        }
        PoolError::AlreadyImported(hash) => {
            ErrorObject::owned(code, "Transaction Already Imported", Some(format!("{hash:?}")))
        }
        PoolError::TooLowPriority { old, new } => ErrorObject::owned(
            code,
            format!("Priority is too low: ({old} vs {new})"),
            Some("The transaction has too low priority to replace another transaction already in the pool."),
        ),
        PoolError::ImmediatelyDropped => ErrorObject::owned(
            code,
            "Immediately Dropped",
            Some("The transaction couldn't enter the pool because of the limit"),
        ),
        PoolError::NoTagsProvided => ErrorObject::owned(
            code,
            "No tags provided",
            Some("Transaction does not provide any tags, so the pool can't identify it"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sp_core::H256;
    use sp_runtime::transaction_validity::InvalidTransaction;

    #[test]
    fn codes_and_texts_match_substrate() {
        let e: ErrorObjectOwned =
            RpcError::Pool(PoolError::InvalidTransaction(InvalidTransaction::Stale)).into();
        assert_eq!(e.code(), 1010);
        assert_eq!(e.message(), "Invalid Transaction");
        assert_eq!(e.data().map(|d| d.get()), Some("\"Transaction is outdated\""));
        let e: ErrorObjectOwned = RpcError::Pool(PoolError::AlreadyImported(H256::zero())).into();
        assert_eq!(e.code(), 1013);
        let e: ErrorObjectOwned =
            RpcError::Chain(ChainError::MethodNotFound("Metadata_metadata_at_version".into()))
                .into();
        assert_eq!(e.code(), codes::RUNTIME_CALL);
        assert_eq!(
            e.message(),
            "Client error: Execution failed: Other: Exported method Metadata_metadata_at_version is not found"
        );
        let e: ErrorObjectOwned = RpcError::InvalidParams("bad".into()).into();
        assert_eq!(e.code(), -32602);
    }
}
