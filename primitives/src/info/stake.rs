//! [`StakeInfo`] and [`DelegateInfo`]: stake positions and delegates, returned by
//! `StakeInfoRuntimeApi` and `DelegateInfoRuntimeApi`.
//!
//! Field names and order follow the reference chain's `rpc_info/{stake_info,delegate_info}.rs`.
//! The reference keeps stake per (hotkey, coldkey, netuid) in subnet tokens; this chain keeps one
//! TAO stake per (hotkey, coldkey), valid on every subnet the hotkey is registered on. Views that
//! list stake report each (hotkey, coldkey) **once**, under the hotkey's *home netuid* (the lowest
//! netuid it is registered on, else the lowest existing subnet), so that sums over the list are
//! the classic totals.

use crate::NetUid;
use alloc::vec::Vec;
use codec::{Compact, Decode, Encode};
use scale_info::TypeInfo;

/// One stake position (`get_stake_info_for_coldkey(s)`, `get_stake_info_for_hotkey_coldkey_netuid`).
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct StakeInfo<AccountId> {
    /// Hotkey staked on.
    pub hotkey: AccountId,
    /// Coldkey that owns the stake.
    pub coldkey: AccountId,
    /// Subnet of the position. On this chain: the queried netuid for the per-netuid query; the
    /// hotkey's home netuid in list views (the stake itself is not per subnet).
    #[codec(compact)]
    pub netuid: NetUid,
    /// Stake in subnet tokens, in rao. On this chain: the classic TAO stake `Stake[hotkey][coldkey]`
    /// (the "alpha" unit is TAO, at price 1).
    #[codec(compact)]
    pub stake: u64,
    /// Locked stake. On this chain: 0 (no locks).
    #[codec(compact)]
    pub locked: u64,
    /// The hotkey's last-epoch emission, in rao. On this chain: its `Emission` on `netuid` for the
    /// per-netuid query, summed over every subnet it is registered on in list views.
    #[codec(compact)]
    pub emission: u64,
    /// Root (TAO) emission. On this chain: 0 (no root network).
    #[codec(compact)]
    pub tao_emission: u64,
    /// Drain. Always 0, as on the reference.
    #[codec(compact)]
    pub drain: u64,
    /// Whether the hotkey is registered on `netuid` (list views: on any subnet).
    pub is_registered: bool,
}

/// One answer of `get_delegated`: a delegate and the delegator's `(netuid, stake in rao)` on it.
pub type DelegatedInfo<AccountId> = (DelegateInfo<AccountId>, (Compact<NetUid>, Compact<u64>));

/// One answer of `get_stake_info_for_coldkeys`: a coldkey and its stake positions.
pub type ColdkeyStakeInfo<AccountId> = (AccountId, Vec<StakeInfo<AccountId>>);

/// A delegate: a hotkey that coldkeys can stake on (`get_delegates`, `get_delegate`,
/// `get_delegated`). On this chain every hotkey with an owner is one: `add_stake` accepts any of
/// them.
// The reference's field types are kept verbatim (metadata shows their names).
#[allow(clippy::type_complexity)]
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct DelegateInfo<AccountId> {
    /// The delegate's hotkey.
    pub delegate_ss58: AccountId,
    /// Share of its dividends the delegate keeps (fraction of `u16::MAX`).
    #[codec(compact)]
    pub take: u16,
    /// `(nominator coldkey, [(netuid, stake in rao)])`. On this chain: one entry per nominator,
    /// each with a single `(home netuid, Stake[hotkey][coldkey])` pair (the stake is not per
    /// subnet). Empty in `get_delegated`, as on the reference.
    pub nominators: Vec<(AccountId, Vec<(Compact<NetUid>, Compact<u64>)>)>,
    /// Coldkey owning the hotkey.
    pub owner_ss58: AccountId,
    /// Netuids the hotkey is registered on, ascending.
    pub registrations: Vec<Compact<NetUid>>,
    /// Netuids on which the hotkey holds a validator permit, ascending.
    pub validator_permits: Vec<Compact<NetUid>>,
    /// Estimated daily return per 1000 TAO staked, after the take, in rao (from the last
    /// epochs' emission at 7200 blocks a day).
    #[codec(compact)]
    pub return_per_1000: u64,
    /// Estimated daily emission of the hotkey over all its subnets, in rao.
    #[codec(compact)]
    pub total_daily_return: u64,
}
