//! # subtensor-node
//!
//! The node of a Bittensor chain: it keeps the chain in a parity-db database, authors blocks
//! as the single authority of its chain spec, re-executes every block it imports, admits
//! transactions into a pool through the runtime, and serves Substrate JSON-RPC so that standard
//! clients (polkadot.js, substrate-interface, subxt, the Bittensor SDK) work unchanged.
//!
//! ## Architecture
//!
//! - [`subtensor_chain`] (crate `node/chain`): the engine — database, Merkle state, native
//!   runtime execution, block building and import — behind the `ChainApi` trait.
//! - `subtensor_txpool` (crate `node/txpool`): transaction admission and ordering.
//! - `subtensor_rpc` (crate `node/rpc`): the JSON-RPC namespaces.
//! - This crate: the command line ([`cli`], [`command`]), chain specs ([`chain_spec`]), and the
//!   service that wires engine, pool, authoring, RPC and metrics together.

pub mod chain_spec;
pub mod cli;
pub mod command;
pub mod error;
pub mod logging;
pub mod service;
