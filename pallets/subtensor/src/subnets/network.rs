//! Subnet creation (`register_network`) and dissolution (`dissolve_network`).
//!
//! The lock cost doubles with each registration and decays linearly, by the last cost per
//! [`NetworkLockReductionInterval`] blocks, down to [`NetworkMinLockCost`]. The lock leaves the
//! owner's free balance and is held by the pallet ([`SubnetLocked`]) until the subnet is
//! dissolved, when it is refunded.

use crate::*;
use frame_support::{
    ensure,
    pallet_prelude::DispatchResult,
    traits::{
        fungible::{Inspect, Mutate},
        tokens::{Fortitude, Precision, Preservation},
    },
};

impl<T: Config> Pallet<T> {
    /// The rao a subnet registration locks now.
    pub fn network_lock_cost() -> u64 {
        let last = NetworkLastLockCost::<T>::get();
        let min = NetworkMinLockCost::<T>::get();
        let elapsed = Self::current_block().saturating_sub(NetworkLastRegistered::<T>::get());
        let interval = NetworkLockReductionInterval::<T>::get().max(1);
        let reduction = u128::from(last)
            .saturating_mul(u128::from(elapsed))
            .checked_div(u128::from(interval))
            .unwrap_or(0)
            .min(u128::from(u64::MAX)) as u64;
        last.saturating_mul(2).saturating_sub(reduction).max(min)
    }

    /// The smallest unused non-root netuid, if any.
    fn next_netuid() -> Option<NetUid> {
        (1..=u16::MAX).map(NetUid).find(|n| !NetworksAdded::<T>::get(*n))
    }

    /// Create a subnet for `coldkey`, locking the current lock cost.
    pub fn do_register_network(coldkey: &T::AccountId, hotkey: &T::AccountId) -> DispatchResult {
        ensure!(
            TotalNetworks::<T>::get() < SubnetLimit::<T>::get(),
            Error::<T>::SubnetLimitReached
        );
        let now = Self::current_block();
        let last = NetworkLastRegistered::<T>::get();
        let rate_limit = NetworkRateLimit::<T>::get();
        ensure!(
            last == 0 || now.saturating_sub(last) >= rate_limit,
            Error::<T>::NetworkTxRateLimitExceeded
        );
        Self::ensure_hotkey_owner_or_free(hotkey, coldkey)?;
        let cost = Self::network_lock_cost();
        let available =
            T::Currency::reducible_balance(coldkey, Preservation::Expendable, Fortitude::Polite);
        ensure!(available >= cost, Error::<T>::NotEnoughBalanceToLock);
        let netuid = Self::next_netuid().ok_or(Error::<T>::SubnetLimitReached)?;
        T::Currency::burn_from(
            coldkey,
            cost,
            Preservation::Expendable,
            Precision::Exact,
            Fortitude::Polite,
        )
        .map_err(|_| Error::<T>::NotEnoughBalanceToLock)?;
        NetworkLastLockCost::<T>::put(cost);
        NetworkLastRegistered::<T>::put(now);
        Self::init_subnet(netuid, coldkey, hotkey, cost, now)?;
        Self::deposit_event(Event::NetworkAdded { netuid, owner: coldkey.clone(), lock: cost });
        Ok(())
    }

    /// Create the storage of a new subnet holding `lock` rao, with `owner_hotkey` as UID 0.
    pub(crate) fn init_subnet(
        netuid: NetUid,
        owner: &T::AccountId,
        owner_hotkey: &T::AccountId,
        lock: u64,
        now: u64,
    ) -> DispatchResult {
        Self::ensure_hotkey_owner_or_free(owner_hotkey, owner)?;
        NetworksAdded::<T>::insert(netuid, true);
        TotalNetworks::<T>::mutate(|n| *n = n.saturating_add(1));
        SubnetOwner::<T>::insert(netuid, owner);
        SubnetOwnerHotkey::<T>::insert(netuid, owner_hotkey);
        SubnetLocked::<T>::insert(netuid, lock);
        TotalSubnetLocked::<T>::mutate(|t| *t = t.saturating_add(lock));
        LastAdjustmentBlock::<T>::insert(netuid, now);
        LastStepBlock::<T>::insert(netuid, now);
        Self::register_neuron(netuid, owner_hotkey, owner)?;
        Self::init_reference_views(netuid, now);
        Ok(())
    }

    /// Dissolve `netuid`; `who` is the signer (must own the subnet) or `None` for root.
    pub fn do_dissolve_network(who: Option<&T::AccountId>, netuid: NetUid) -> DispatchResult {
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        let owner = SubnetOwner::<T>::get(netuid).ok_or(Error::<T>::SubnetNotExists)?;
        if let Some(who) = who {
            ensure!(*who == owner, Error::<T>::NotSubnetOwner);
        }
        let refund = SubnetLocked::<T>::take(netuid);
        if refund > 0 {
            T::Currency::mint_into(&owner, refund)
                .map_err(|_| Error::<T>::AmountBelowExistentialDeposit)?;
        }
        TotalSubnetLocked::<T>::mutate(|t| *t = t.saturating_sub(refund));
        // Pending emission of a dissolved subnet is burned: issuance falls, to be minted again.
        let pending = PendingEmission::<T>::take(netuid);
        TotalPendingEmission::<T>::mutate(|t| *t = t.saturating_sub(pending));
        Self::remove_subnet_storage(netuid);
        TotalNetworks::<T>::mutate(|n| *n = n.saturating_sub(1));
        Self::deposit_event(Event::NetworkRemoved { netuid, refund });
        Ok(())
    }

    /// Remove every storage item of `netuid`.
    fn remove_subnet_storage(netuid: NetUid) {
        let n = SubnetworkN::<T>::get(netuid);
        for uid in 0..n {
            if let Some(hotkey) = Keys::<T>::get(netuid, uid) {
                IsNetworkMember::<T>::remove(&hotkey, netuid);
            }
        }
        // Every prefix below is bounded by the subnet's UID count, at most 4096 entries.
        let _ = Keys::<T>::clear_prefix(netuid, u32::MAX, None);
        let _ = Uids::<T>::clear_prefix(netuid, u32::MAX, None);
        let _ = BlockAtRegistration::<T>::clear_prefix(netuid, u32::MAX, None);
        let _ = Weights::<T>::clear_prefix(netuid, u32::MAX, None);
        let _ = Bonds::<T>::clear_prefix(netuid, u32::MAX, None);
        WeightEntries::<T>::remove(netuid);
        BondEntries::<T>::remove(netuid);
        let _ = Axons::<T>::clear_prefix(netuid, u32::MAX, None);
        let _ = Prometheus::<T>::clear_prefix(netuid, u32::MAX, None);
        let _ = WeightCommits::<T>::clear_prefix(netuid, u32::MAX, None);

        NetworksAdded::<T>::remove(netuid);
        SubnetOwner::<T>::remove(netuid);
        SubnetOwnerHotkey::<T>::remove(netuid);
        SubnetworkN::<T>::remove(netuid);
        EmissionShare::<T>::remove(netuid);
        LastStepBlock::<T>::remove(netuid);
        LastAdjustmentBlock::<T>::remove(netuid);
        RegistrationsThisBlock::<T>::remove(netuid);
        RegistrationsThisInterval::<T>::remove(netuid);
        PowRegistrationsThisInterval::<T>::remove(netuid);
        BurnRegistrationsThisInterval::<T>::remove(netuid);

        LastUpdate::<T>::remove(netuid);
        Active::<T>::remove(netuid);
        Rank::<T>::remove(netuid);
        Trust::<T>::remove(netuid);
        Consensus::<T>::remove(netuid);
        Incentive::<T>::remove(netuid);
        Dividends::<T>::remove(netuid);
        ValidatorTrust::<T>::remove(netuid);
        ValidatorPermit::<T>::remove(netuid);
        Emission::<T>::remove(netuid);
        PruningScores::<T>::remove(netuid);
        StakeWeight::<T>::remove(netuid);

        Tempo::<T>::remove(netuid);
        Kappa::<T>::remove(netuid);
        Rho::<T>::remove(netuid);
        ImmunityPeriod::<T>::remove(netuid);
        ActivityCutoff::<T>::remove(netuid);
        MaxAllowedUids::<T>::remove(netuid);
        MaxAllowedValidators::<T>::remove(netuid);
        MinAllowedWeights::<T>::remove(netuid);
        MaxWeightsLimit::<T>::remove(netuid);
        WeightsSetRateLimit::<T>::remove(netuid);
        WeightsVersionKey::<T>::remove(netuid);
        BondsMovingAverage::<T>::remove(netuid);
        BondsPenalty::<T>::remove(netuid);
        Yuma3On::<T>::remove(netuid);
        LiquidAlphaOn::<T>::remove(netuid);
        AlphaValues::<T>::remove(netuid);
        AlphaSigmoidSteepness::<T>::remove(netuid);
        Burn::<T>::remove(netuid);
        MinBurn::<T>::remove(netuid);
        MaxBurn::<T>::remove(netuid);
        Difficulty::<T>::remove(netuid);
        MinDifficulty::<T>::remove(netuid);
        MaxDifficulty::<T>::remove(netuid);
        TargetRegistrationsPerInterval::<T>::remove(netuid);
        AdjustmentInterval::<T>::remove(netuid);
        AdjustmentAlpha::<T>::remove(netuid);
        MaxRegistrationsPerBlock::<T>::remove(netuid);
        NetworkRegistrationAllowed::<T>::remove(netuid);
        NetworkPowRegistrationAllowed::<T>::remove(netuid);
        ServingRateLimit::<T>::remove(netuid);
        CommitRevealWeightsEnabled::<T>::remove(netuid);
        RevealPeriodEpochs::<T>::remove(netuid);
        ScalingLawPower::<T>::remove(netuid);

        Self::remove_grid_spec(netuid);
        Self::remove_reference_views(netuid);
    }
}
