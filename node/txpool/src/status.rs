//! What happens to a watched transaction: [`TxStatus`] events delivered through a [`Watcher`].

use crate::{BlockHash, TxHash};
use tokio::sync::mpsc;

/// One step in the life of a pooled transaction (Substrate's `TransactionStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    /// Waiting for a tag (e.g. an earlier nonce) before it can go into a block.
    Future,
    /// Can go into the next block.
    Ready,
    /// Included in this (best) block.
    InBlock(BlockHash),
    /// The block that included it left the best chain.
    Retracted(BlockHash),
    /// The block that included it was not finalized in time (or lost to a fork); final.
    FinalityTimeout(BlockHash),
    /// The block that included it was finalized; final.
    Finalized(BlockHash),
    /// Replaced by another transaction with the same tags and a higher priority; final.
    Usurped(TxHash),
    /// Removed because the pool was full; final.
    Dropped,
    /// Found invalid (on re-validation or while building a block); final.
    Invalid,
}

impl TxStatus {
    /// Whether no further status follows.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TxStatus::FinalityTimeout(_)
                | TxStatus::Finalized(_)
                | TxStatus::Usurped(_)
                | TxStatus::Dropped
                | TxStatus::Invalid
        )
    }
}

/// The status stream of one submitted transaction. The first item is `Ready` or `Future`; the
/// stream ends after a final status (see [`TxStatus::is_final`]).
#[derive(Debug)]
pub struct Watcher {
    hash: TxHash,
    receiver: mpsc::UnboundedReceiver<TxStatus>,
}

impl Watcher {
    pub(crate) fn new(hash: TxHash, receiver: mpsc::UnboundedReceiver<TxStatus>) -> Self {
        Self { hash, receiver }
    }

    /// Hash of the watched transaction.
    pub fn hash(&self) -> TxHash {
        self.hash
    }

    /// The next status; `None` once the pool will send nothing more.
    pub async fn next(&mut self) -> Option<TxStatus> {
        self.receiver.recv().await
    }

    /// The next status if one is already queued.
    pub fn try_next(&mut self) -> Option<TxStatus> {
        self.receiver.try_recv().ok()
    }
}
