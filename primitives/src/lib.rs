//! Types shared by the subtensor chain, its runtime APIs, its clients and the off-chain neurons.
//!
//! This crate owns:
//! - the chain's base types and token constants ([`AccountId`], [`Balance`] in rao,
//!   [`RAO_PER_TAO`], [`MAX_SUPPLY`], [`SS58_PREFIX`], ...) in [`types`];
//! - typed identifiers ([`NetUid`], [`Uid`]) in [`ids`];
//! - the endpoint records a neuron serves ([`AxonInfo`], [`PrometheusInfo`]) with the
//!   reference chain's IP encoding and validation rules, in [`axon`];
//! - the return types of the neuron and subnet runtime APIs ([`NeuronInfo`], [`NeuronInfoLite`],
//!   [`SubnetInfo`], [`SubnetHyperparams`], [`SubnetHyperparamsV2`]) in [`info`], laid out field
//!   for field and `Compact` for `Compact` like the reference chain (opentensor/subtensor), so the
//!   Python SDK, btcli and `bt_decode` decode them unchanged. Byte-fixture tests pin every layout.
//!
//! It holds no storage, no pallet logic and no runtime: it builds `no_std` (default feature `std`
//! off) for the runtime, and with `std` it adds serde support for clients.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod axon;
pub mod ids;
pub mod info;
pub mod types;

pub use axon::{
    ip_from_u128, ip_to_u128, is_loopback_or_unspecified, is_valid_ip_address, is_valid_ip_type,
    AxonInfo, PrometheusInfo, IP_TYPE_V4, IP_TYPE_V6,
};
pub use ids::{NetUid, Uid};
pub use info::{NeuronInfo, NeuronInfoLite, SubnetHyperparams, SubnetHyperparamsV2, SubnetInfo};
pub use types::*;
