//! `get_dynamic_info` and `get_all_dynamic_info`: a subnet's pool summary ([`DynamicInfo`]),
//! what the SDK's `subnet()`/`all_subnets()` and btcli's subnet and stake tables read.
//!
//! Classic quantities in dTAO-shaped fields (the stable-mechanism presentation):
//! - `tao_in`, `alpha_in` and `alpha_out` are the subnet's total stake (its hotkeys'
//!   `TotalHotkeyStake` summed), floored at 1 rao, so the price `tao_in / alpha_in` is 1.
//! - `emission` and `tao_in_emission` are the subnet's TAO per block from the block reward;
//!   `alpha_in_emission` and `alpha_out_emission` are 0 (no subnet token is minted).
//! - `pending_alpha_emission` is the TAO waiting in `PendingEmission` for the next epoch;
//!   `pending_root_emission` is 0 (no root network).
//! - `moving_price` is exactly 1.0, `subnet_volume` 0, `token_symbol` `τ` (alpha is TAO).
//! - `subnet_name` is `subnet <netuid>` and `subnet_identity` `None` (no identities stored).
//! - The root network, netuid 0, is listed first although it is not a subnet here (the classic
//!   chain reserves netuid 0 and has no root weights): the reference always lists it and btcli's
//!   `subnets list` looks for it. It is empty: no neurons, no emission, owned by the all-zero
//!   account, named `root`, reserves of 1 rao.

use super::{EmissionRates, UidKeys};
use crate::*;
use alloc::{format, vec::Vec};
use codec::Decode;
use sp_runtime::traits::TrailingZeroInput;
use substrate_fixed::types::I96F32;
use subtensor_primitives::{compact_bytes, DynamicInfo};

/// The token symbol of every subnet: `τ`, since a subnet's "alpha" is TAO here.
pub const SUBNET_SYMBOL: &str = "τ";

/// The display name of `netuid` (no identities are stored): `subnet <netuid>`.
pub(crate) fn subnet_name(netuid: NetUid) -> Vec<u8> {
    format!("subnet {netuid}").into_bytes()
}

/// The pool reserve standing for a subnet whose hotkeys hold `stakes`: their sum, at least
/// 1 rao (clients divide `tao_in / alpha_in` when they cannot read the price).
pub(crate) fn pool_reserve(stakes: &[u64]) -> u64 {
    stakes.iter().fold(0u64, |a, s| a.saturating_add(*s)).max(1)
}

/// The stable mechanism's price and moving price: exactly 1.0.
pub(crate) fn unit_price() -> I96F32 {
    I96F32::from_num(1)
}

impl<T: Config> Pallet<T> {
    /// The pool summary of `netuid`, if it exists.
    pub fn dynamic_info(netuid: NetUid) -> Option<DynamicInfo<T::AccountId>> {
        if netuid.is_root() {
            return Self::root_dynamic_info();
        }
        let subnets = Self::subnets();
        Self::dynamic_info_with(netuid, &EmissionRates::load::<T>(&subnets))
    }

    /// The pool summary of the root network and every existing subnet, in netuid order (each
    /// `Some`).
    pub fn all_dynamic_info() -> Vec<Option<DynamicInfo<T::AccountId>>> {
        let subnets = Self::subnets();
        let rates = EmissionRates::load::<T>(&subnets);
        core::iter::once(Self::root_dynamic_info())
            .chain(subnets.into_iter().map(|netuid| Self::dynamic_info_with(netuid, &rates)))
            .collect()
    }

    /// The empty root network's entry (see the module documentation).
    fn root_dynamic_info() -> Option<DynamicInfo<T::AccountId>> {
        let nobody = T::AccountId::decode(&mut TrailingZeroInput::zeroes()).ok()?;
        let netuid = NetUid::ROOT;
        let last_step = LastStepBlock::<T>::get(netuid);
        Some(DynamicInfo {
            netuid,
            owner_hotkey: nobody.clone(),
            owner_coldkey: nobody,
            subnet_name: compact_bytes(b"root"),
            token_symbol: compact_bytes(SUBNET_SYMBOL.as_bytes()),
            tempo: Tempo::<T>::get(netuid),
            last_step,
            blocks_since_last_step: Self::current_block().saturating_sub(last_step),
            emission: 0,
            alpha_in: 1,
            alpha_out: 1,
            tao_in: 1,
            alpha_out_emission: 0,
            alpha_in_emission: 0,
            tao_in_emission: 0,
            pending_alpha_emission: 0,
            pending_root_emission: 0,
            subnet_volume: 0,
            network_registered_at: 0,
            subnet_identity: None,
            moving_price: unit_price(),
        })
    }

    fn dynamic_info_with(
        netuid: NetUid,
        rates: &EmissionRates,
    ) -> Option<DynamicInfo<T::AccountId>> {
        if !NetworksAdded::<T>::get(netuid) {
            return None;
        }
        let keys: Vec<UidKeys<T::AccountId>> = Self::uid_keys(netuid);
        let reserve = pool_reserve(&Self::hotkey_stakes(&keys));
        let emission = rates.per_block::<T>(netuid);
        let last_step = LastStepBlock::<T>::get(netuid);
        Some(DynamicInfo {
            netuid,
            owner_hotkey: SubnetOwnerHotkey::<T>::get(netuid)?,
            owner_coldkey: SubnetOwner::<T>::get(netuid)?,
            subnet_name: compact_bytes(&subnet_name(netuid)),
            token_symbol: compact_bytes(SUBNET_SYMBOL.as_bytes()),
            tempo: Tempo::<T>::get(netuid),
            last_step,
            blocks_since_last_step: Self::current_block().saturating_sub(last_step),
            emission,
            alpha_in: reserve,
            alpha_out: reserve,
            tao_in: reserve,
            alpha_out_emission: 0,
            alpha_in_emission: 0,
            tao_in_emission: emission,
            pending_alpha_emission: PendingEmission::<T>::get(netuid),
            pending_root_emission: 0,
            subnet_volume: 0,
            network_registered_at: Self::network_registered_at(netuid),
            subnet_identity: None,
            moving_price: unit_price(),
        })
    }
}
