//! `get_subnet_state`: a subnet's per-UID vectors ([`SubnetState`]), what the SDK's
//! `metagraph()` fills its stake tensors (`S`, `AS`, `TS`) from.
//!
//! Classic quantities in dTAO-shaped fields:
//! - `alpha_stake` is each hotkey's classic stake, `TotalHotkeyStake` (alpha is TAO here).
//! - `tao_stake` is 0 for every UID (no root network; the SDK would discount it by 0.18).
//! - `total_stake` equals `alpha_stake`, so the SDK's `metagraph.S` is the classic stake.
//! - `emission` and `emission_history` are TAO emission (the "alpha" unit is TAO).

use super::{at, UidColumns, UidKeys};
use crate::*;
use alloc::{collections::BTreeMap, vec, vec::Vec};
use codec::Compact;
use subtensor_primitives::SubnetState;

/// The entry of a per-UID storage vector at each UID of `keys`, compact.
pub(crate) fn column<V: Copy + Default, A>(keys: &[UidKeys<A>], values: &[V]) -> Vec<Compact<V>>
where
    Compact<V>: From<V>,
{
    keys.iter().map(|k| Compact::from(at(values, k.uid))).collect()
}

impl<T: Config> Pallet<T> {
    /// The per-UID state of `netuid`, if it exists.
    pub fn subnet_state(netuid: NetUid) -> Option<SubnetState<T::AccountId>> {
        if !NetworksAdded::<T>::get(netuid) {
            return None;
        }
        let keys = Self::uid_keys(netuid);
        let cols = UidColumns::load::<T>(netuid);
        let stake = Self::hotkey_stakes(&keys);
        let flags = |values: &UidVec<bool>| keys.iter().map(|k| at(values, k.uid)).collect();
        Some(SubnetState {
            netuid,
            active: flags(&cols.active),
            validator_permit: flags(&cols.validator_permit),
            pruning_score: column(&keys, &cols.pruning_score),
            last_update: column(&keys, &cols.last_update),
            emission: column(&keys, &cols.emission),
            dividends: column(&keys, &cols.dividends),
            incentives: column(&keys, &cols.incentive),
            consensus: column(&keys, &cols.consensus),
            trust: column(&keys, &cols.trust),
            rank: column(&keys, &cols.rank),
            block_at_registration: Self::registration_blocks(netuid, &keys),
            // Classic stake shown as the stable mechanism's alpha stake; no root (TAO) stake.
            alpha_stake: stake.iter().copied().map(Compact).collect(),
            tao_stake: vec![Compact(0); keys.len()],
            total_stake: stake.iter().copied().map(Compact).collect(),
            emission_history: Self::emission_history(netuid, &keys, &cols.emission),
            hotkeys: keys.iter().map(|k| k.hotkey.clone()).collect(),
            coldkeys: keys.into_iter().map(|k| k.coldkey).collect(),
        })
    }

    /// `TotalHotkeyStake` of each UID's hotkey, in rao.
    pub(crate) fn hotkey_stakes(keys: &[UidKeys<T::AccountId>]) -> Vec<u64> {
        keys.iter().map(|k| TotalHotkeyStake::<T>::get(&k.hotkey)).collect()
    }

    /// The block each UID registered at.
    pub(crate) fn registration_blocks(
        netuid: NetUid,
        keys: &[UidKeys<T::AccountId>],
    ) -> Vec<Compact<u64>> {
        keys.iter().map(|k| Compact(BlockAtRegistration::<T>::get(netuid, k.uid))).collect()
    }

    /// For each existing subnet in netuid order, the last-epoch emission there of each hotkey
    /// of `keys` (0 where it is not registered). `emission` is `netuid`'s own `Emission`.
    /// Reads each other subnet's keys once, not once per hotkey.
    fn emission_history(
        netuid: NetUid,
        keys: &[UidKeys<T::AccountId>],
        emission: &[u64],
    ) -> Vec<Vec<Compact<u64>>> {
        let position: BTreeMap<&T::AccountId, usize> =
            keys.iter().enumerate().map(|(i, k)| (&k.hotkey, i)).collect();
        Self::subnets()
            .into_iter()
            .map(|other| {
                if other == netuid {
                    return column(keys, emission);
                }
                let other_emission = Emission::<T>::get(other);
                let mut row = vec![Compact(0u64); keys.len()];
                for (uid, hotkey) in Keys::<T>::iter_prefix(other) {
                    if let Some(slot) = position.get(&hotkey).and_then(|&i| row.get_mut(i)) {
                        *slot = Compact(at(&other_emission, uid));
                    }
                }
                row
            })
            .collect()
    }
}
