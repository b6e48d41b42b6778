//! Weights: `set_weights` with every check of the reference chain, and commit-reveal.
//!
//! A row is stored sorted by destination UID and max-upscaled, so that its largest value is
//! 65535 (`w * 65535 / max`, rounded half up). Commit-reveal hides a validator's weights for
//! [`RevealPeriodEpochs`] epochs, so that others cannot copy them before consensus forms.

use crate::*;
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{ensure, pallet_prelude::DispatchResult, BoundedVec};
use sp_core::H256;
use sp_runtime::traits::{BlakeTwo256, Hash};

/// Max-upscale `values` so that the largest becomes 65535, rounding half up; all zeros stay
/// zeros.
pub fn max_upscale(values: &[u16]) -> Vec<u16> {
    let max = values.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return values.to_vec();
    }
    let max = u64::from(max);
    values
        .iter()
        .map(|&v| {
            let scaled = (u64::from(v) * 2 * 65535 + max) / (2 * max);
            scaled.min(65535) as u16
        })
        .collect()
}

/// The largest of `values` after normalising them to sum 65535 (floor), as `MaxWeightsLimit`
/// is checked.
pub fn max_normalized(values: &[u16]) -> u16 {
    let sum: u64 = values.iter().map(|&v| u64::from(v)).sum();
    if sum == 0 {
        return 0;
    }
    values.iter().map(|&v| (u64::from(v) * 65535 / sum) as u16).max().unwrap_or(0)
}

/// The commitment to a weight reveal: `BlakeTwo256(SCALE(hotkey, netuid, uids, values, salt,
/// version_key))`.
pub fn commit_hash<AccountId: Encode>(
    hotkey: &AccountId,
    netuid: NetUid,
    uids: &[u16],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
) -> H256 {
    BlakeTwo256::hash_of(&(hotkey, netuid, uids, values, salt, version_key))
}

impl<T: Config> Pallet<T> {
    /// The epoch index of `block` on `netuid`: it increments at each of the subnet's epochs.
    pub fn epoch_index(netuid: NetUid, block: u64) -> u64 {
        match Tempo::<T>::get(netuid) {
            0 => 0,
            tempo => block.saturating_add(u64::from(netuid.0)) / u64::from(tempo),
        }
    }

    /// `set_weights` for `hotkey`.
    pub fn do_set_weights(
        hotkey: &T::AccountId,
        netuid: NetUid,
        uids: Vec<u16>,
        values: Vec<u16>,
        version_key: u64,
    ) -> DispatchResult {
        ensure!(!CommitRevealWeightsEnabled::<T>::get(netuid), Error::<T>::CommitRevealEnabled);
        Self::check_and_store_weights(hotkey, netuid, &uids, &values, version_key, true)
    }

    /// Validate a weight vector in the reference chain's order and store it.
    fn check_and_store_weights(
        hotkey: &T::AccountId,
        netuid: NetUid,
        uids: &[u16],
        values: &[u16],
        version_key: u64,
        rate_limited: bool,
    ) -> DispatchResult {
        ensure!(uids.len() == values.len(), Error::<T>::WeightVecNotEqualSize);
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        let n = SubnetworkN::<T>::get(netuid);
        ensure!(uids.len() <= usize::from(n), Error::<T>::UidsLengthExceedUidsInSubNet);
        let uid = Uids::<T>::get(netuid, hotkey).ok_or(Error::<T>::HotKeyNotRegisteredInSubNet)?;
        let is_owner = SubnetOwnerHotkey::<T>::get(netuid).as_ref() == Some(hotkey);
        ensure!(
            is_owner || TotalHotkeyStake::<T>::get(hotkey) >= StakeThreshold::<T>::get(),
            Error::<T>::NotEnoughStakeToSetWeights
        );
        let network_key = WeightsVersionKey::<T>::get(netuid);
        ensure!(
            network_key == 0 || version_key >= network_key,
            Error::<T>::IncorrectWeightVersionKey
        );
        let now = Self::current_block();
        if rate_limited {
            let last = LastUpdate::<T>::get(netuid).get(usize::from(uid)).copied().unwrap_or(0);
            ensure!(
                last == 0 || now.saturating_sub(last) >= WeightsSetRateLimit::<T>::get(netuid),
                Error::<T>::SettingWeightsTooFast
            );
        }
        let is_self_weight = uids.len() == 1 && uids.first() == Some(&uid);
        let permitted =
            ValidatorPermit::<T>::get(netuid).get(usize::from(uid)).copied().unwrap_or(false);
        ensure!(is_self_weight || is_owner || permitted, Error::<T>::NeuronNoValidatorPermit);
        let mut sorted: Vec<u16> = uids.to_vec();
        sorted.sort_unstable();
        ensure!(sorted.windows(2).all(|w| w[0] != w[1]), Error::<T>::DuplicateUids);
        ensure!(uids.iter().all(|&u| u < n), Error::<T>::UidVecContainInvalidOne);
        if !is_self_weight {
            let min = MinAllowedWeights::<T>::get(netuid).min(n);
            ensure!(uids.len() >= usize::from(min), Error::<T>::WeightVecLengthIsLow);
            let limit = MaxWeightsLimit::<T>::get(netuid);
            ensure!(
                limit == u16::MAX || max_normalized(values) <= limit,
                Error::<T>::MaxWeightExceeded
            );
        }
        let upscaled = max_upscale(values);
        let mut row: Vec<(u16, u16)> = uids.iter().copied().zip(upscaled).collect();
        row.sort_unstable_by_key(|(dest, _)| *dest);
        let row: SparseRow =
            BoundedVec::try_from(row).map_err(|_| Error::<T>::UidsLengthExceedUidsInSubNet)?;
        Weights::<T>::insert(netuid, uid, row);
        subnets::uids::set_uid_value::<LastUpdate<T>, _>(netuid, uid, now);
        Self::deposit_event(Event::WeightsSet { netuid, uid });
        Ok(())
    }

    /// `commit_weights` for `hotkey`.
    pub fn do_commit_weights(hotkey: &T::AccountId, netuid: NetUid, hash: H256) -> DispatchResult {
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        ensure!(CommitRevealWeightsEnabled::<T>::get(netuid), Error::<T>::CommitRevealDisabled);
        ensure!(Uids::<T>::contains_key(netuid, hotkey), Error::<T>::HotKeyNotRegisteredInSubNet);
        let now = Self::current_block();
        let epoch = Self::epoch_index(netuid, now);
        let reveal_epoch = epoch.saturating_add(RevealPeriodEpochs::<T>::get(netuid));
        WeightCommits::<T>::try_mutate(netuid, hotkey, |commits| -> DispatchResult {
            commits.retain(|c| c.reveal_epoch >= epoch);
            commits
                .try_push(WeightCommit { hash, commit_block: now, reveal_epoch })
                .map_err(|_| Error::<T>::TooManyUnrevealedCommits)?;
            Ok(())
        })?;
        Self::deposit_event(Event::WeightsCommitted { netuid, hotkey: hotkey.clone(), hash });
        Ok(())
    }

    /// `reveal_weights` for `hotkey`.
    pub fn do_reveal_weights(
        hotkey: &T::AccountId,
        netuid: NetUid,
        uids: Vec<u16>,
        values: Vec<u16>,
        salt: Vec<u16>,
        version_key: u64,
    ) -> DispatchResult {
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        ensure!(CommitRevealWeightsEnabled::<T>::get(netuid), Error::<T>::CommitRevealDisabled);
        let hash = commit_hash(hotkey, netuid, &uids, &values, &salt, version_key);
        let epoch = Self::epoch_index(netuid, Self::current_block());
        let mut commits = WeightCommits::<T>::get(netuid, hotkey);
        // The same hash may be committed again before an earlier commitment expired: reveal the
        // oldest unexpired one, and report expiry only when every match has expired.
        let position = commits
            .iter()
            .position(|c| c.hash == hash && c.reveal_epoch >= epoch)
            .or_else(|| commits.iter().position(|c| c.hash == hash))
            .ok_or(Error::<T>::InvalidRevealCommitHashNotMatch)?;
        let reveal_epoch = commits.get(position).map(|c| c.reveal_epoch).unwrap_or_default();
        ensure!(epoch >= reveal_epoch, Error::<T>::RevealTooEarly);
        ensure!(epoch == reveal_epoch, Error::<T>::ExpiredWeightCommit);
        commits.remove(position);
        commits.retain(|c| c.reveal_epoch >= epoch);
        if commits.is_empty() {
            WeightCommits::<T>::remove(netuid, hotkey);
        } else {
            WeightCommits::<T>::insert(netuid, hotkey, commits);
        }
        Self::check_and_store_weights(hotkey, netuid, &uids, &values, version_key, false)?;
        Self::deposit_event(Event::WeightsRevealed { netuid, hotkey: hotkey.clone(), hash });
        Ok(())
    }
}
