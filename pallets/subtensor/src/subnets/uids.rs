//! UID slots: appending a neuron, replacing the weakest one when the subnet is full, and the
//! per-UID vectors that follow every slot.

use crate::*;
use codec::FullCodec;
use frame_support::{ensure, pallet_prelude::DispatchResult};

/// Set entry `uid` of the per-UID vector `S[netuid]`, growing the vector with defaults if it is
/// shorter (it never grows past [`MaxUids`]).
pub(crate) fn set_uid_value<S, V>(netuid: NetUid, uid: u16, value: V)
where
    S: frame_support::storage::StorageMap<NetUid, UidVec<V>, Query = UidVec<V>>,
    V: FullCodec + Default + Clone,
{
    S::mutate(netuid, |vec| {
        let index = usize::from(uid);
        while vec.len() <= index {
            if vec.try_push(V::default()).is_err() {
                return;
            }
        }
        if let Some(slot) = vec.get_mut(index) {
            *slot = value;
        }
    });
}

/// Move a subnet's entry counter ([`WeightEntries`] or [`BondEntries`]) from a row of `before`
/// entries to one of `after`.
pub(crate) fn count_entries<Counter>(netuid: NetUid, before: usize, after: usize)
where
    Counter: frame_support::storage::StorageMap<NetUid, u32, Query = u32>,
{
    let before = u32::try_from(before).unwrap_or(u32::MAX);
    let after = u32::try_from(after).unwrap_or(u32::MAX);
    Counter::mutate(netuid, |count| {
        *count = count.saturating_sub(before).saturating_add(after);
    });
}

impl<T: Config> Pallet<T> {
    /// The current block number as u64.
    pub fn current_block() -> u64 {
        use sp_runtime::traits::UniqueSaturatedInto;
        frame_system::Pallet::<T>::block_number().unique_saturated_into()
    }

    /// Fail unless `hotkey` is unowned or owned by `coldkey`.
    pub(crate) fn ensure_hotkey_owner_or_free(
        hotkey: &T::AccountId,
        coldkey: &T::AccountId,
    ) -> DispatchResult {
        if let Some(owner) = Owner::<T>::get(hotkey) {
            ensure!(owner == *coldkey, Error::<T>::NonAssociatedColdKey);
        }
        Ok(())
    }

    /// Give `hotkey` a UID on `netuid`: the next free one, or the slot of the neuron to prune
    /// when the subnet is full. Records `coldkey` as the hotkey's owner if it has none.
    pub(crate) fn register_neuron(
        netuid: NetUid,
        hotkey: &T::AccountId,
        coldkey: &T::AccountId,
    ) -> Result<u16, sp_runtime::DispatchError> {
        ensure!(
            Uids::<T>::get(netuid, hotkey).is_none(),
            Error::<T>::HotKeyAlreadyRegisteredInSubNet
        );
        let now = Self::current_block();
        let n = SubnetworkN::<T>::get(netuid);
        let uid = if n < MaxAllowedUids::<T>::get(netuid).min(MAX_UIDS_LIMIT) {
            Self::append_neuron(netuid, hotkey, now);
            n
        } else {
            let uid = Self::neuron_to_prune(netuid).ok_or(Error::<T>::NoNeuronToPrune)?;
            Self::replace_neuron(netuid, uid, hotkey, now);
            uid
        };
        if !Owner::<T>::contains_key(hotkey) {
            Owner::<T>::insert(hotkey, coldkey);
            Self::record_owned_hotkey(coldkey, hotkey);
        }
        Self::deposit_event(Event::NeuronRegistered { netuid, uid, hotkey: hotkey.clone() });
        Ok(uid)
    }

    fn append_neuron(netuid: NetUid, hotkey: &T::AccountId, now: u64) {
        let uid = SubnetworkN::<T>::get(netuid);
        Self::bind_uid(netuid, uid, hotkey, now);
        Self::reset_uid_vectors(netuid, uid);
        SubnetworkN::<T>::insert(netuid, uid.saturating_add(1));
    }

    fn replace_neuron(netuid: NetUid, uid: u16, hotkey: &T::AccountId, now: u64) {
        if let Some(old) = Keys::<T>::get(netuid, uid) {
            Uids::<T>::remove(netuid, &old);
            IsNetworkMember::<T>::remove(&old, netuid);
            Axons::<T>::remove(netuid, &old);
            Prometheus::<T>::remove(netuid, &old);
            WeightCommits::<T>::remove(netuid, &old);
            Self::deposit_event(Event::NeuronDeregistered { netuid, uid, hotkey: old });
        }
        // Weights of others that point at this slot are masked by the epoch, since they are
        // older than the new registration; the slot's own rows are cleared here.
        let weights = Weights::<T>::take(netuid, uid).len();
        count_entries::<WeightEntries<T>>(netuid, weights, 0);
        let bonds = Bonds::<T>::take(netuid, uid).len();
        count_entries::<BondEntries<T>>(netuid, bonds, 0);
        Self::bind_uid(netuid, uid, hotkey, now);
        Self::reset_uid_vectors(netuid, uid);
    }

    fn bind_uid(netuid: NetUid, uid: u16, hotkey: &T::AccountId, now: u64) {
        Keys::<T>::insert(netuid, uid, hotkey);
        Uids::<T>::insert(netuid, hotkey, uid);
        IsNetworkMember::<T>::insert(hotkey, netuid, true);
        BlockAtRegistration::<T>::insert(netuid, uid, now);
    }

    fn reset_uid_vectors(netuid: NetUid, uid: u16) {
        set_uid_value::<LastUpdate<T>, _>(netuid, uid, 0u64);
        set_uid_value::<Active<T>, _>(netuid, uid, true);
        set_uid_value::<Rank<T>, _>(netuid, uid, 0u16);
        set_uid_value::<Trust<T>, _>(netuid, uid, 0u16);
        set_uid_value::<Consensus<T>, _>(netuid, uid, 0u16);
        set_uid_value::<Incentive<T>, _>(netuid, uid, 0u16);
        set_uid_value::<Dividends<T>, _>(netuid, uid, 0u16);
        set_uid_value::<ValidatorTrust<T>, _>(netuid, uid, 0u16);
        set_uid_value::<ValidatorPermit<T>, _>(netuid, uid, false);
        set_uid_value::<Emission<T>, _>(netuid, uid, 0u64);
        set_uid_value::<PruningScores<T>, _>(netuid, uid, 0u16);
        set_uid_value::<StakeWeight<T>, _>(netuid, uid, 0u16);
    }

    /// The UID a new registration replaces on a full subnet: the lowest pruning score among
    /// neurons past their immunity period (ties: earliest registration, then lowest UID); if all
    /// are immune, the same choice among the immune ones. The owner's hotkey is never pruned.
    pub fn neuron_to_prune(netuid: NetUid) -> Option<u16> {
        let n = SubnetworkN::<T>::get(netuid);
        let now = Self::current_block();
        let immunity = u64::from(ImmunityPeriod::<T>::get(netuid));
        let scores = PruningScores::<T>::get(netuid);
        let owner_uid =
            SubnetOwnerHotkey::<T>::get(netuid).and_then(|hk| Uids::<T>::get(netuid, hk));
        let mut best_mortal: Option<(u16, u64, u16)> = None;
        let mut best_immune: Option<(u16, u64, u16)> = None;
        for uid in 0..n {
            if Some(uid) == owner_uid {
                continue;
            }
            let registered = BlockAtRegistration::<T>::get(netuid, uid);
            let score = scores.get(usize::from(uid)).copied().unwrap_or_default();
            let key = (score, registered, uid);
            let slot = if now.saturating_sub(registered) < immunity {
                &mut best_immune
            } else {
                &mut best_mortal
            };
            if slot.is_none_or(|best| key < best) {
                *slot = Some(key);
            }
        }
        best_mortal.or(best_immune).map(|(_, _, uid)| uid)
    }
}
