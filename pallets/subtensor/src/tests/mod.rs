//! Tests of the pallet on a mock runtime, one module per concern. Every test goes through
//! [`mock::ExtBuilder::build_and_execute`], which checks the invariants and the conservation of
//! TAO afterwards.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod consensus;
mod emission;
mod grid;
mod hyperparams;
pub(crate) mod mock;
mod network;
mod pruning;
mod reference_views;
mod registration;
mod rpc_info;
mod rpc_info_sdk;
mod serving;
mod staking;
mod transaction_extension;
mod weights;
