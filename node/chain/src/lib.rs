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
//! - [`consensus`]: Aura-style slots, seal and seal verification for one authority.
//! - [`client`]: the [`Client`]; building follows the block-builder API (initialize, timestamp
//!   inherent, one storage transaction per extrinsic, finalize); import re-executes with
//!   `Core_execute_block` and writes everything in one commit.
//! - [`pruning`]: archive or keep-last-n states, via a per-block journal of released trie nodes.
//! - [`verify`]: re-execute the whole stored chain in memory (crash-safety checks).
//!
//! It does not do networking, transaction pooling, or timing of block production (the node's
//! authoring loop decides when to build and which candidates to offer). Forks are not
//! supported: the single authority extends its own best block, and a block must extend the best
//! block to be imported.

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
pub mod verify;

pub use api::{
    BuiltBlock, ChainApi, ChainError, ChainEvent, ChainInfo, ChainResult, ChainWrite, Hash,
    ImportOutcome, PANICKED_EXTRINSIC,
};
pub use client::{Client, ClientConfig};
pub use db::{memory::MemoryDb, parity::ParityDb, Database};
pub use pruning::Pruning;
pub use verify::{verify_chain, VerifyReport};
