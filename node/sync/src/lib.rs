//! Block sync and propagation for the subtensor node.
//!
//! The [`SyncService`] talks to peers only through
//! [`subtensor_network_api::NetworkService`] and to the chain through
//! [`subtensor_chain::ChainWrite`]:
//!
//! - **Status handshake** ([`server`], [`wire::Status`]): on connection we ask the peer's
//!   status (genesis, role, best and finalized blocks); a peer of another genesis is reported
//!   as [`Misbehaviour::WrongChain`](subtensor_network_api::Misbehaviour::WrongChain). We keep
//!   each peer's best and finalized block ([`status`]), updated by its announcements.
//! - **Block requests** ([`server`], [`wire::BlockRequest`]): ranges of blocks by hash or number,
//!   ascending along the best chain or descending through parents, at most 128 blocks and
//!   16 MiB per answer, with justifications on demand.
//! - **Block announcements** (module `announce`): a header gossiped on
//!   [`Topic::BlockAnnounces`](subtensor_network_api::Topic::BlockAnnounces); the block is fetched
//!   from the forwarding peer and imported *before* the announcement is accepted (and so
//!   forwarded by gossip). Invalid blocks are rejected and their sender reported; blocks ahead
//!   of their slot wait for it; a block with an unknown parent makes its sender a sync target.
//! - **Range sync** (module `range`): when a peer's best block is ahead of ours and unknown to us,
//!   find the common ancestor by binary search, then download ranges from several peers at once
//!   into one bounded, ordered import queue consumed by one import thread (module `import`).
//! - **Justifications**: a block that comes with a justification that the node's
//!   [`JustificationVerifier`] (GRANDPA's) accepts is finalized with it after import.
//! - **Transactions** ([`transactions`]): gossiped transactions go to the pool as `External`;
//!   transactions that become ready and did not come from the network are published.
//! - **Status** ([`SyncStatus`], [`SyncStatusProvider`]): major-sync flag, `system_syncState`,
//!   `system_peers`, imported-block counter.
//!
//! Every queue fed by peers is bounded; nothing a peer sends can panic the node. Log target:
//! `sync`.

// Unit tests may unwrap; the library itself is checked without this.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

mod announce;
pub mod error;
mod import;
mod range;
mod requests;
pub mod server;
mod service;
pub mod status;
#[cfg(feature = "test-utils")]
pub mod testing;
pub mod transactions;
pub mod wire;

pub use error::{SyncError, SyncResult};
pub use service::{system_clock, SyncConfig, SyncService};
pub use status::{PeerInfo, PeerState, SyncState, SyncStatus, SyncStatusProvider};
pub use wire::Role;

use std::sync::Arc;
use subtensor_chain::Hash;
use subtensor_runtime::BlockNumber;

/// The chain as the sync uses it: reads, import and finality.
pub type Chain = Arc<dyn subtensor_chain::ChainWrite>;

/// Checks finality justifications that come with blocks (the node plugs GRANDPA's in).
pub trait JustificationVerifier: Send + Sync {
    /// Whether `justification` proves block `hash` #`number` final; why not otherwise.
    fn verify(&self, hash: Hash, number: BlockNumber, justification: &[u8]) -> Result<(), String>;
}
