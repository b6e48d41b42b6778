//! GRANDPA finality for the subtensor node.
//!
//! The voting itself is the `finality-grandpa` crate (the engine Substrate's GRANDPA runs on);
//! messages and justifications use `sp-consensus-grandpa`'s types and signing payloads, so they
//! are byte-compatible with Substrate's. This crate supplies the rest:
//!
//! - [`chain`]: the [`FinalityChain`] trait the node implements for its chain engine.
//! - [`config`]: the authority set, the local key and timings ([`FinalityConfig`]).
//! - `environment`: the engine's `Environment` (block tree walks, round data, timers, vote
//!   persistence before sending, finalization with a justification).
//! - [`wire`]: the gossip and catch-up wire formats.
//! - `gossip`, `catch_up`, `router`: validating gossip before it is forwarded, catching up with
//!   peers ahead of us, answering those behind, and routing messages to the voter (waiting for
//!   blocks not imported yet).
//! - [`persistence`]: the voter state in auxiliary storage (restart without equivocating).
//! - [`justification`]: building and [`verify_justification`].
//! - [`start`] and the [`FinalityHandle`] (round state, justification stream, finality proofs).
//! - `test_utils` (feature `test-utils`): an in-memory chain and network for tests.
//!
//! A node without a key, or whose key is not in the authority set, is an observer: it follows
//! the rounds and commits and finalizes, but never votes.
//!
//! Logs go to the `grandpa` target.

#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod chain;
pub mod config;
pub mod justification;
pub mod persistence;
pub mod wire;

mod catch_up;
mod environment;
mod error;
mod gossip;
mod handle;
mod router;
mod service;
mod shared;

#[cfg(feature = "test-utils")]
pub mod test_utils;

pub use chain::FinalityChain;
pub use config::{AuthoritySet, FinalityConfig};
pub use error::Error;
pub use handle::FinalityHandle;
pub use justification::{single_authority_justification, verify_justification};
pub use service::start;
pub use sp_consensus_grandpa::{AuthorityId, AuthorityList, GrandpaJustification};

/// The block header: `sp_runtime::generic::Header<u32, BlakeTwo256>`, the same type as
/// `subtensor_runtime::Header` (named here so this crate does not build the runtime).
pub type Header = sp_runtime::generic::Header<u32, sp_runtime::traits::BlakeTwo256>;

/// The log target of this crate.
pub const LOG_TARGET: &str = "grandpa";
