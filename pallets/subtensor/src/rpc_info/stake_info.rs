//! `StakeInfoRuntimeApi`: stake positions ([`StakeInfo`]).
//!
//! The reference keeps stake per (hotkey, coldkey, netuid), in each subnet's alpha. Here stake
//! is classic, one TAO amount per (hotkey, coldkey) (`Stake`), and counts on every subnet the
//! hotkey is registered on. So:
//! - `get_stake_info_for_hotkey_coldkey_netuid(h, c, n)` answers `Stake[h][c]` for any existing
//!   `n` (what the SDK's `add_stake`/`unstake` read before and after); `Some` with 0 for a
//!   missing subnet, since the reference always answers `Some`.
//! - `get_stake_info_for_coldkey(s)` report each (hotkey, coldkey) **once**, under the hotkey's
//!   home netuid (the lowest it is registered on, else the lowest existing subnet), so the sum
//!   of the list is the coldkey's classic total (btcli's balances are not multiplied).
//!
//! Classic quantities in dTAO-shaped fields: `stake` is TAO (alpha is TAO, price 1); `emission`
//! is the hotkey's last-epoch `Emission` (on the queried netuid, or summed over its subnets in
//! list views); `locked`, `tao_emission` and `drain` are 0.

use super::{home, SubnetCache};
use crate::*;
use alloc::{
    collections::{BTreeMap, BTreeSet},
    vec::Vec,
};
use subtensor_primitives::{ColdkeyStakeInfo, StakeInfo};

impl<T: Config> Pallet<T> {
    /// Every stake position of `coldkey`, one per hotkey, ordered by (netuid, hotkey).
    pub fn stake_info_for_coldkey(coldkey: T::AccountId) -> Vec<StakeInfo<T::AccountId>> {
        Self::stake_info_for_coldkeys(Vec::from([coldkey]))
            .into_iter()
            .next()
            .map(|(_, infos)| infos)
            .unwrap_or_default()
    }

    /// [`Self::stake_info_for_coldkey`] of each of `coldkeys`, in the order given.
    pub fn stake_info_for_coldkeys(
        coldkeys: Vec<T::AccountId>,
    ) -> Vec<ColdkeyStakeInfo<T::AccountId>> {
        let positions = Self::stake_positions(&coldkeys);
        let mut cache = SubnetCache::new::<T>();
        // (home netuid, emission summed over its subnets, registered anywhere) per hotkey.
        let mut profiles: BTreeMap<T::AccountId, (NetUid, u64, bool)> = BTreeMap::new();
        coldkeys
            .into_iter()
            .map(|coldkey| {
                let mut infos: Vec<StakeInfo<T::AccountId>> = positions
                    .get(&coldkey)
                    .into_iter()
                    .flatten()
                    .map(|(hotkey, stake)| {
                        let (netuid, emission, is_registered) =
                            *profiles.entry(hotkey.clone()).or_insert_with(|| {
                                let regs = cache.registrations::<T>(hotkey);
                                let emission =
                                    regs.iter().fold(0u64, |a, r| a.saturating_add(r.emission));
                                let first = regs.first().map(|r| r.netuid);
                                (home(first, cache.subnets()), emission, first.is_some())
                            });
                        StakeInfo {
                            hotkey: hotkey.clone(),
                            coldkey: coldkey.clone(),
                            netuid,
                            stake: *stake,
                            locked: 0,
                            emission,
                            tao_emission: 0,
                            drain: 0,
                            is_registered,
                        }
                    })
                    .collect();
                infos.sort_by(|a, b| (a.netuid, &a.hotkey).cmp(&(b.netuid, &b.hotkey)));
                (coldkey, infos)
            })
            .collect()
    }

    /// The stake of `coldkey` on `hotkey` reported on `netuid`: `Stake[hotkey][coldkey]` if the
    /// subnet exists, else 0 (always `Some`, as on the reference).
    pub fn stake_info_for_hotkey_coldkey_netuid(
        hotkey: T::AccountId,
        coldkey: T::AccountId,
        netuid: NetUid,
    ) -> Option<StakeInfo<T::AccountId>> {
        let exists = NetworksAdded::<T>::get(netuid);
        let stake = if exists { Stake::<T>::get(&hotkey, &coldkey) } else { 0 };
        let uid = Uids::<T>::get(netuid, &hotkey);
        let emission = uid.map_or(0, |uid| super::at(&Emission::<T>::get(netuid), uid));
        Some(StakeInfo {
            is_registered: exists && uid.is_some(),
            hotkey,
            coldkey,
            netuid,
            stake,
            locked: 0,
            emission,
            tao_emission: 0,
            drain: 0,
        })
    }

    /// The non-zero stakes `(hotkey, rao)` of each of `coldkeys`. `Stake` is keyed by hotkey
    /// first, so this scans it once for all of them (skipped when none of them has stake).
    pub(crate) fn stake_positions(
        coldkeys: &[T::AccountId],
    ) -> BTreeMap<T::AccountId, Vec<(T::AccountId, u64)>> {
        let wanted: BTreeSet<&T::AccountId> =
            coldkeys.iter().filter(|c| TotalColdkeyStake::<T>::get(*c) > 0).collect();
        let mut positions: BTreeMap<T::AccountId, Vec<(T::AccountId, u64)>> = BTreeMap::new();
        if wanted.is_empty() {
            return positions;
        }
        for (hotkey, coldkey, stake) in Stake::<T>::iter() {
            if stake > 0 && wanted.contains(&coldkey) {
                positions.entry(coldkey).or_default().push((hotkey, stake));
            }
        }
        positions
    }
}
