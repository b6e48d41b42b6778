//! A validated transaction as the pool keeps it.

use crate::{Tag, TxHash};
use sp_runtime::transaction_validity::{TransactionPriority, TransactionSource};
use subtensor_runtime::UncheckedExtrinsic;

/// A transaction in the pool with what the runtime said about it at its last validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolTransaction {
    /// blake2_256 of [`Self::data`]: the hash clients get from `author_submitExtrinsic`.
    pub hash: TxHash,
    /// The SCALE encoding as submitted (with its compact length prefix).
    pub data: Vec<u8>,
    /// The decoded extrinsic.
    pub extrinsic: UncheckedExtrinsic,
    /// Where it came from.
    pub source: TransactionSource,
    /// Priority from the runtime; higher goes first.
    pub priority: TransactionPriority,
    /// Tags that must be provided (by the chain or by other ready transactions) before it can
    /// be included.
    pub requires: Vec<Tag>,
    /// Tags it provides once included (e.g. `(account, nonce)`); unique in the pool.
    pub provides: Vec<Tag>,
    /// Number of blocks it stays valid for, from its last validation.
    pub longevity: u64,
    /// Whether it may be gossiped (kept for completeness; this node has no network).
    pub propagate: bool,
    /// Order of arrival; ties in priority go to the older transaction.
    pub(crate) insertion_id: u64,
}

impl PoolTransaction {
    /// Length of the encoded transaction in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the encoding is empty (never true for a decodable extrinsic).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}
