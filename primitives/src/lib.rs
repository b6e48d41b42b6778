//! Types shared by the subtensor chain, its runtime APIs, its clients and the off-chain neurons.
//!
//! This crate owns:
//! - the chain's base types and token constants ([`AccountId`], [`Balance`] in rao,
//!   [`RAO_PER_TAO`], [`MAX_SUPPLY`], [`SS58_PREFIX`], ...) in [`types`];
//! - typed identifiers ([`NetUid`], [`Uid`], [`MechId`]) in [`ids`];
//! - the [`OnSubnetChange`] hooks through which other pallets follow subnet creation and
//!   dissolution, in [`lifecycle`];
//! - the grid spec of a homogeneous inference subnet ([`GridSpec`], [`GridSpecRecord`]) and its
//!   validation rules, in [`grid`];
//! - the endpoint records a neuron serves ([`AxonInfo`], [`PrometheusInfo`]) with the
//!   reference chain's IP encoding and validation rules, in [`axon`];
//! - the return types of the neuron and subnet runtime APIs ([`NeuronInfo`], [`NeuronInfoLite`],
//!   [`SubnetInfo`], [`SubnetHyperparams`], [`SubnetHyperparamsV2`]) in [`info`], laid out field
//!   for field and `Compact` for `Compact` like the reference chain (opentensor/subtensor), so the
//!   Python SDK, btcli and `bt_decode` decode them unchanged. Byte-fixture tests pin every layout;
//! - the dTAO-shaped views SDK 10 and btcli 9 read ([`SubnetState`], [`DynamicInfo`],
//!   [`Metagraph`], [`SelectiveMetagraph`], [`SubnetInfov2`], [`StakeInfo`], [`DelegateInfo`],
//!   [`SimSwapResult`], [`SubnetPrice`]), with the reference's field names, filled by this classic
//!   chain as the reference fills a stable-mechanism subnet (see [`info`]).
//!
//! It holds no storage, no pallet logic and no runtime: it builds `no_std` (default feature `std`
//! off) for the runtime, and with `std` it adds serde support for clients.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod axon;
pub mod grid;
pub mod ids;
pub mod info;
pub mod lifecycle;
pub mod types;

pub use axon::{
    ip_from_u128, ip_to_u128, is_loopback_or_unspecified, is_valid_ip_address, is_valid_ip_type,
    AxonInfo, PrometheusInfo, IP_TYPE_V4, IP_TYPE_V6,
};
pub use grid::{
    GridModelName, GridSpec, GridSpecError, GridSpecRecord, GRID_MODEL_NAME_MAX_BYTES,
    MAX_GRID_CONTEXT, SUPPORTED_GRID_SAMPLER_VERSIONS,
};
pub use ids::{MechId, NetUid, Uid, MAIN_MECHANISM};
pub use info::{
    compact_bytes, ChainIdentityV2, ColdkeyStakeInfo, DelegateInfo, DelegatedInfo, DynamicInfo,
    Metagraph, NeuronInfo, NeuronInfoLite, SelectiveMetagraph, SimSwapResult, StakeInfo,
    SubnetHyperparams, SubnetHyperparamsV2, SubnetIdentityV3, SubnetInfo, SubnetInfov2,
    SubnetPrice, SubnetState, SELECTIVE_METAGRAPH_FIELDS, STABLE_ALPHA_PRICE,
};
pub use lifecycle::OnSubnetChange;
pub use types::*;
