//! # Transaction pool of the subtensor node
//!
//! Owns the transactions waiting for a block. It does not build blocks, gossip or talk
//! JSON-RPC: the block builder reads [`Pool::ready`], the RPC server calls [`Pool::submit`] /
//! [`Pool::submit_and_watch`], and [`maintain`] (or the block builder) reports imported and
//! finalized blocks.
//!
//! ## Data flow
//!
//! 1. **Admission** ([`Pool::submit`]): the hash is blake2_256 of the submitted bytes; a hash
//!    already pooled is refused ([`PoolError::AlreadyImported`]), a banned one too
//!    ([`PoolError::TemporarilyBanned`]). The bytes must decode as the runtime's
//!    `UncheckedExtrinsic` ([`PoolError::BadFormat`]). The runtime's
//!    `TaggedTransactionQueue_validate_transaction` runs on the best block's state (through
//!    [`subtensor_chain::ChainApi::call`]) and answers priority, `requires` and `provides` tags
//!    and longevity, or why it is invalid ([`PoolError::InvalidTransaction`], which also bans
//!    the hash, or [`PoolError::UnknownTransaction`]).
//! 2. **Tags and queues**: tags are unique in the pool. As in Substrate, a new transaction
//!    providing tags that pooled ones provide replaces them only if its priority is strictly
//!    higher than theirs added up (they leave as `Usurped`); otherwise it is refused with
//!    [`PoolError::TooLowPriority`] and the pooled ones stay. So a tag such as the runtime's
//!    `("subtensor", call kind, hotkey)` for fee-free calls admits one pending transaction: a
//!    second one with the same priority is refused. A transaction is *ready* when every tag it
//!    requires is provided by a ready transaction (the runtime omits what the chain state
//!    already satisfies: for nonces, `(account, nonce - 1)` is required only while that nonce
//!    is not on chain); otherwise it waits in the *future* queue and is promoted once the
//!    missing tag arrives. Readiness is kept incrementally (each transaction counts its
//!    requirements not yet provided by a ready one; an index lists who waits for each tag), so
//!    a submission costs the runtime's validation plus what it touches, not the pool's size.
//! 3. **Limits** ([`PoolConfig`]): count and bytes per queue; over a limit the worst
//!    transactions leave (future first, lowest priority, newest) with `Dropped`; if that is the
//!    one being submitted, [`PoolError::ImmediatelyDropped`].
//! 4. **Block building** ([`Pool::ready`]): best first (priority, then age), never before the
//!    transactions whose tags it requires; [`ReadyIter::report_invalid`] skips dependents of a
//!    transaction that failed, [`Pool::remove_invalid`] drops and bans it.
//! 5. **Maintenance** ([`Pool::on_block_imported`]): included transactions leave with
//!    `InBlock` (and are banned, as in Substrate); stale ones (validated at block `n` with
//!    longevity `L`, once the best block is `n + L` or later: Substrate's `valid_till`) leave
//!    with `Invalid` and are banned; every other one is validated again on the new best state:
//!    invalid ones leave with `Invalid`, valid ones take their new tags and longevity (which
//!    promotes the next nonces). [`Pool::on_block_finalized`] sends `Finalized`.
//!
//! Every transaction can be watched ([`Watcher`], [`TxStatus`]). Errors carry the JSON-RPC codes
//! of Substrate's author API ([`PoolError::rpc_code`]).

mod config;
mod error;
mod maintain;
mod pool;
mod ready;
mod status;
mod transaction;

#[cfg(test)]
mod tests;

pub use config::{Limit, PoolConfig};
pub use error::{invalid_transaction_text, PoolError, PoolResult};
pub use maintain::{included_hashes, maintain};
pub use pool::{Pool, PoolStatus, VALIDATE_TRANSACTION};
pub use ready::ReadyIter;
pub use sp_runtime::transaction_validity::TransactionSource;
pub use status::{TxStatus, Watcher};
pub use transaction::PoolTransaction;

/// Hash of a transaction (blake2_256 of its encoding).
pub type TxHash = sp_core::H256;
/// Hash of a block.
pub type BlockHash = sp_core::H256;
/// A `requires`/`provides` tag.
pub type Tag = Vec<u8>;
