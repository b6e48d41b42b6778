//! The chain engine of the subtensor node.
//!
//! It owns the database, the Merkle state, native runtime execution, block building, block
//! import and finality. Everything else in the node (RPC, transaction pool, authoring loop,
//! `import-blocks`) sees it through the traits in [`api`]: [`ChainApi`] (reads, state queries,
//! runtime calls, events) and [`ChainWrite`] (build, import, finalize), both implemented by
//! [`Client`].
//!
//! # Architecture
//!
//! - [`db`]: a key-value trait with named columns and atomic commits; parity-db on disk, a map
//!   in memory for tests. The layout (columns, keys, values) is documented there.
//! - [`state`]: a `sp_state_machine::TrieBackend` (Blake2-256, layout V1) reading
//!   reference-counted trie nodes from the database, with a shared node/value cache.
//! - [`executor`]: runs `subtensor_runtime::api::dispatch` natively inside
//!   `sp_state_machine::Ext` over a state and an overlay, catching runtime panics.
//! - [`genesis`]: block 0 and its state from a genesis `Storage`.
//! - [`consensus`]: Aura slots (round-robin authorities), seal and seal verification.
//! - [`tree`]: the unfinalized blocks above the last finalized one, and fork choice (the
//!   longest chain containing the finalized block, first seen among equals).
//! - [`client`]: the [`Client`]; building follows the block-builder API (initialize, timestamp
//!   inherent, one storage transaction per extrinsic, finalize); import re-executes with
//!   `Core_execute_block` and writes everything (reorgs included) in one commit; finality is its
//!   own commit (justification, discarded forks, pruning, a reorg onto the finalized block).
//! - [`pruning`]: archive or keep-last-n finalized states, via per-block journals of added and
//!   released trie nodes; only below finality.
//! - [`verify`]: re-execute the whole stored chain in memory (crash-safety checks).
//!
//! It does not do networking, transaction pooling, or timing of block production (the node's
//! authoring loop decides when to build and which candidates to offer), nor finality voting
//! (GRANDPA decides what to finalize). Any block whose parent is known and descends from the
//! last finalized block is imported; states of all unfinalized forks coexist in the
//! content-addressed trie, so a reorg only rewrites the number index and the best pointer.

// Unit tests may unwrap; the library itself is checked without this (plain `cargo clippy`).
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod api;
pub mod client;
pub mod consensus;
pub mod db;
pub mod executor;
pub mod genesis;
pub mod pruning;
pub mod state;
pub mod tree;
pub mod verify;

pub use api::{
    BuiltBlock, ChainApi, ChainError, ChainEvent, ChainInfo, ChainResult, ChainWrite, Hash,
    ImportOutcome, PANICKED_EXTRINSIC,
};
pub use client::{Client, ClientConfig};
pub use db::{memory::MemoryDb, parity::ParityDb, Database};
pub use pruning::Pruning;
pub use verify::{verify_chain, VerifyReport};
