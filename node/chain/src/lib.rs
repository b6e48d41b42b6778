//! The chain engine of the subtensor node.
//!
//! [`api`] holds the interface every other part of the node uses ([`api::ChainApi`]); the
//! implementation behind it owns the database, the Merkle state, native runtime execution,
//! block building and import.

pub mod api;

pub use api::{ChainApi, ChainError, ChainEvent, ChainInfo, ChainResult};
