//! Storage invariants, checked by `try_state` and after every unit test.
//!
//! - Totals equal the sums they summarise: [`TotalStake`] = Σ [`Stake`] = Σ
//!   [`TotalHotkeyStake`] = Σ [`TotalColdkeyStake`]; [`TotalSubnetLocked`] = Σ [`SubnetLocked`];
//!   [`TotalPendingEmission`] = Σ [`PendingEmission`]; [`TotalNetworks`] = number of subnets.
//! - Issuance never exceeds 21M TAO.
//! - UID maps agree: for every subnet, `Keys` and `Uids` are inverse bijections over
//!   `0..SubnetworkN`, every member has `IsNetworkMember` and an `Owner`, and every per-UID
//!   vector has exactly `SubnetworkN` entries.
//! - Reference-chain views ([`crate::compat`]): [`MechanismCountCurrent`], [`SubnetEmaTaoFlow`]
//!   and [`BlocksSinceLastStep`] hold an entry for exactly the existing subnets, and
//!   [`OwnedHotkeys`] is the inverse of [`Owner`] (each owned hotkey listed once, under its
//!   owner).
//! - Grid specs ([`crate::subnets::grid`]): [`GridSpecs`] and [`GridSpecLastSet`] hold entries
//!   of existing subnets only, and every stored spec passes [`GridSpec::validate`], set at a
//!   block no later than the last set.
//!
//! The checks read all of the pallet's storage once (linear), so they are for tests and
//! try-runtime, never for block execution.

use crate::*;
use alloc::collections::BTreeMap;
use sp_runtime::TryRuntimeError;

macro_rules! check {
    ($cond:expr, $msg:expr) => {
        if !$cond {
            log::error!(target: "subtensor::invariants", "{}", $msg);
            return Err(TryRuntimeError::Other($msg));
        }
    };
}

impl<T: Config> Pallet<T> {
    /// Check every invariant of the module documentation.
    pub fn do_try_state() -> Result<(), TryRuntimeError> {
        Self::check_stake_totals()?;
        Self::check_subnet_totals()?;
        check!(
            Self::total_issuance() <= subtensor_primitives::MAX_SUPPLY,
            "total issuance exceeds 21M TAO"
        );
        for netuid in Self::subnets() {
            Self::check_uids(netuid)?;
        }
        Self::check_reference_views()?;
        Self::check_grid_specs()?;
        Ok(())
    }

    fn check_grid_specs() -> Result<(), TryRuntimeError> {
        for (netuid, record) in GridSpecs::<T>::iter() {
            check!(NetworksAdded::<T>::get(netuid), "a grid spec is held for a removed subnet");
            check!(record.spec.validate().is_ok(), "a stored grid spec is invalid");
            check!(
                GridSpecLastSet::<T>::get(netuid).is_some_and(|last| record.set_at_block <= last),
                "a grid spec has no GridSpecLastSet at or after its block"
            );
        }
        for netuid in GridSpecLastSet::<T>::iter_keys() {
            check!(NetworksAdded::<T>::get(netuid), "GridSpecLastSet is held for a removed subnet");
        }
        Ok(())
    }

    fn check_reference_views() -> Result<(), TryRuntimeError> {
        use codec::Encode;
        let subnets = Self::subnets();
        let keyed_by_subnet = |keys: alloc::vec::Vec<NetUid>| {
            let mut keys = keys;
            keys.sort();
            keys == subnets
        };
        check!(
            keyed_by_subnet(MechanismCountCurrent::<T>::iter_keys().collect()),
            "MechanismCountCurrent is not keyed by exactly the subnets"
        );
        check!(
            keyed_by_subnet(SubnetEmaTaoFlow::<T>::iter_keys().collect()),
            "SubnetEmaTaoFlow is not keyed by exactly the subnets"
        );
        check!(
            keyed_by_subnet(BlocksSinceLastStep::<T>::iter_keys().collect()),
            "BlocksSinceLastStep is not keyed by exactly the subnets"
        );
        let mut owned = 0usize;
        for (coldkey, hotkeys) in OwnedHotkeys::<T>::iter() {
            for hotkey in &hotkeys {
                check!(
                    Owner::<T>::get(hotkey).as_ref() == Some(&coldkey),
                    "OwnedHotkeys lists a hotkey under a coldkey that does not own it"
                );
            }
            let mut distinct: alloc::vec::Vec<alloc::vec::Vec<u8>> =
                hotkeys.iter().map(|h| h.encode()).collect();
            distinct.sort();
            distinct.dedup();
            check!(distinct.len() == hotkeys.len(), "OwnedHotkeys lists a hotkey twice");
            owned = owned.saturating_add(hotkeys.len());
        }
        check!(
            owned == Owner::<T>::iter_keys().count(),
            "OwnedHotkeys misses a hotkey that has an owner"
        );
        Ok(())
    }

    fn check_stake_totals() -> Result<(), TryRuntimeError> {
        let mut per_hotkey: BTreeMap<alloc::vec::Vec<u8>, u64> = BTreeMap::new();
        let mut per_coldkey: BTreeMap<alloc::vec::Vec<u8>, u64> = BTreeMap::new();
        let mut total = 0u64;
        for (hotkey, coldkey, stake) in Stake::<T>::iter() {
            use codec::Encode;
            let hot = per_hotkey.entry(hotkey.encode()).or_default();
            *hot = hot.saturating_add(stake);
            let cold = per_coldkey.entry(coldkey.encode()).or_default();
            *cold = cold.saturating_add(stake);
            total = total.saturating_add(stake);
        }
        check!(total == TotalStake::<T>::get(), "TotalStake differs from the sum of Stake");
        let hot_ok = TotalHotkeyStake::<T>::iter().all(|(hk, s)| {
            use codec::Encode;
            per_hotkey.get(&hk.encode()).copied().unwrap_or(0) == s
        }) && TotalHotkeyStake::<T>::iter().count() == per_hotkey.len();
        check!(hot_ok, "TotalHotkeyStake differs from the sum of Stake per hotkey");
        let cold_ok = TotalColdkeyStake::<T>::iter().all(|(ck, s)| {
            use codec::Encode;
            per_coldkey.get(&ck.encode()).copied().unwrap_or(0) == s
        }) && TotalColdkeyStake::<T>::iter().count() == per_coldkey.len();
        check!(cold_ok, "TotalColdkeyStake differs from the sum of Stake per coldkey");
        Ok(())
    }

    fn check_subnet_totals() -> Result<(), TryRuntimeError> {
        let locked: u64 = SubnetLocked::<T>::iter_values().sum();
        check!(locked == TotalSubnetLocked::<T>::get(), "TotalSubnetLocked differs from the sum");
        let pending: u64 = PendingEmission::<T>::iter_values().sum();
        check!(
            pending == TotalPendingEmission::<T>::get(),
            "TotalPendingEmission differs from the sum"
        );
        check!(
            Self::subnets().len() == usize::from(TotalNetworks::<T>::get()),
            "TotalNetworks differs from the number of subnets"
        );
        for netuid in SubnetLocked::<T>::iter_keys() {
            check!(NetworksAdded::<T>::get(netuid), "a lock is held for a removed subnet");
        }
        Ok(())
    }

    fn check_uids(netuid: NetUid) -> Result<(), TryRuntimeError> {
        let n = SubnetworkN::<T>::get(netuid);
        check!(SubnetOwner::<T>::contains_key(netuid), "a subnet has no owner");
        check!(
            Keys::<T>::iter_prefix(netuid).count() == usize::from(n),
            "Keys count != SubnetworkN"
        );
        check!(
            Uids::<T>::iter_prefix(netuid).count() == usize::from(n),
            "Uids count != SubnetworkN"
        );
        for (uid, hotkey) in Keys::<T>::iter_prefix(netuid) {
            check!(uid < n, "a key sits at a UID past SubnetworkN");
            check!(Uids::<T>::get(netuid, &hotkey) == Some(uid), "Uids does not invert Keys");
            check!(IsNetworkMember::<T>::get(&hotkey, netuid), "a member lacks IsNetworkMember");
            check!(Owner::<T>::contains_key(&hotkey), "a registered hotkey has no owner");
        }
        let n = usize::from(n);
        let lengths = [
            LastUpdate::<T>::get(netuid).len(),
            Active::<T>::get(netuid).len(),
            Rank::<T>::get(netuid).len(),
            Trust::<T>::get(netuid).len(),
            Consensus::<T>::get(netuid).len(),
            Incentive::<T>::get(netuid).len(),
            Dividends::<T>::get(netuid).len(),
            ValidatorTrust::<T>::get(netuid).len(),
            ValidatorPermit::<T>::get(netuid).len(),
            Emission::<T>::get(netuid).len(),
            PruningScores::<T>::get(netuid).len(),
            StakeWeight::<T>::get(netuid).len(),
        ];
        check!(lengths.iter().all(|l| *l == n), "a per-UID vector length differs from SubnetworkN");
        let weights = Weights::<T>::iter_prefix_values(netuid).map(|r| r.len()).sum::<usize>();
        check!(
            weights == WeightEntries::<T>::get(netuid) as usize,
            "WeightEntries differs from the stored weight entries"
        );
        let bonds = Bonds::<T>::iter_prefix_values(netuid).map(|r| r.len()).sum::<usize>();
        check!(
            bonds == BondEntries::<T>::get(netuid) as usize,
            "BondEntries differs from the stored bond entries"
        );
        Ok(())
    }
}
