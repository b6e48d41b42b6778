//! # subtensor-client
//!
//! An async client of a subtensor node over WebSocket JSON-RPC (jsonrpsee, tokio), shared by
//! the `stcli` command line, miners and validators.
//!
//! It owns:
//! - [`Rpc`] ([`rpc`]): the Substrate JSON-RPC methods it uses, typed;
//! - [`Client`] ([`client`]): a connection checked against this build's runtime, with typed
//!   storage reads (keys and defaults from the runtime's own storage types) and runtime-API
//!   calls at any block;
//! - [`tx`]: submission of extrinsics signed with the runtime's own types
//!   (`subtensor_runtime::signing`); nonces (the node's `system_accountNextIndex` plus a local
//!   counter for transactions in flight); waiting for inclusion or finality; the outcome read
//!   from the block's events, with pallet errors decoded by name ([`metadata`]);
//! - [`calls`]: builders of the calls wallets, miners and validators send;
//! - [`queries`]: balances, subnets, hyperparameters, grid specs, the metagraph, stake,
//!   registration terms;
//! - [`pow`]: the multi-threaded proof-of-work registration solver;
//! - [`register`]: registration by burn or by proof of work that follows the chain.
//!
//! It does not hold keys on disk (see `subtensor-wallet`), prompt, or print.

pub mod calls;
pub mod client;
mod error;
pub mod metadata;
pub mod pow;
pub mod queries;
pub mod register;
pub mod rpc;
pub mod tx;

pub use client::{Client, DEFAULT_ENDPOINT};
pub use error::{ClientError, Result};
pub use queries::{neuron_stake, Balances, Metagraph};
pub use rpc::Rpc;
pub use tx::{Receipt, Wait};

/// The pallet's types (hyperparameters, events, errors).
pub use pallet_subtensor;
/// Shared chain types (`NeuronInfoLite`, `SubnetInfo`, `AxonInfo`, ...).
pub use subtensor_primitives as primitives;
/// The runtime this client speaks, with its call, event and storage types.
pub use subtensor_runtime as runtime;
