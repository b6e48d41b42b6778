//! Weights: `set_weights` with every check of the reference chain, and commit-reveal.
//!
//! A row is stored sorted by destination UID and max-upscaled, so that its largest value is
//! 65535 (`w * 65535 / max`, rounded half up). Commit-reveal hides a validator's weights for
//! [`RevealPeriodEpochs`] epochs, so that others cannot copy them before consensus forms.

use crate::*;
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{ensure, pallet_prelude::DispatchResult, traits::ConstU32, BoundedVec};
use sp_core::H256;
use sp_runtime::traits::{BlakeTwo256, Hash};
use sp_runtime::DispatchError;

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
            // (v * 65535 + max / 2) / max, exactly: v and max are u16, nothing overflows.
            let scaled = u64::from(v)
                .saturating_mul(131_070)
                .saturating_add(max)
                .checked_div(max.saturating_mul(2))
                .unwrap_or(0);
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
    values
        .iter()
        .map(|&v| u64::from(v).saturating_mul(65535).checked_div(sum).unwrap_or(0) as u16)
        .max()
        .unwrap_or(0)
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
            tempo => {
                block.saturating_add(u64::from(netuid.0)).checked_div(u64::from(tempo)).unwrap_or(0)
            }
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

    /// Whether `set_weights` by `hotkey` would succeed now: every check of
    /// [`Self::do_set_weights`], without writing (pool-time validation).
    pub fn validate_set_weights(
        hotkey: &T::AccountId,
        netuid: NetUid,
        uids: &[u16],
        values: &[u16],
        version_key: u64,
    ) -> DispatchResult {
        ensure!(!CommitRevealWeightsEnabled::<T>::get(netuid), Error::<T>::CommitRevealEnabled);
        Self::check_weights(hotkey, netuid, uids, values, version_key, true).map(|_| ())
    }

    /// Every check of a weight vector, in the reference chain's order, without writing; returns
    /// the hotkey's UID and the current block. Shared by dispatch and pool validation.
    fn check_weights(
        hotkey: &T::AccountId,
        netuid: NetUid,
        uids: &[u16],
        values: &[u16],
        version_key: u64,
        rate_limited: bool,
    ) -> Result<(u16, u64), DispatchError> {
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
        ensure!(sorted.windows(2).all(|w| w.first() != w.last()), Error::<T>::DuplicateUids);
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
        Ok((uid, now))
    }

    /// Validate a weight vector and store it.
    fn check_and_store_weights(
        hotkey: &T::AccountId,
        netuid: NetUid,
        uids: &[u16],
        values: &[u16],
        version_key: u64,
        rate_limited: bool,
    ) -> DispatchResult {
        let (uid, now) =
            Self::check_weights(hotkey, netuid, uids, values, version_key, rate_limited)?;
        let upscaled = max_upscale(values);
        let mut row: Vec<(u16, u16)> = uids.iter().copied().zip(upscaled).collect();
        row.sort_unstable_by_key(|(dest, _)| *dest);
        let row: SparseRow =
            BoundedVec::try_from(row).map_err(|_| Error::<T>::UidsLengthExceedUidsInSubNet)?;
        let previous = Weights::<T>::decode_len(netuid, uid).unwrap_or(0);
        let entries = row.len();
        Weights::<T>::insert(netuid, uid, row);
        subnets::uids::count_entries::<WeightEntries<T>>(netuid, previous, entries);
        subnets::uids::set_uid_value::<LastUpdate<T>, _>(netuid, uid, now);
        Self::deposit_event(Event::WeightsSet { netuid, uid });
        Ok(())
    }

    /// `commit_weights` for `hotkey`.
    pub fn do_commit_weights(hotkey: &T::AccountId, netuid: NetUid, hash: H256) -> DispatchResult {
        Self::check_commit_preconditions(hotkey, netuid)?;
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

    /// The checks of `commit_weights` that precede its write.
    fn check_commit_preconditions(hotkey: &T::AccountId, netuid: NetUid) -> DispatchResult {
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        ensure!(CommitRevealWeightsEnabled::<T>::get(netuid), Error::<T>::CommitRevealDisabled);
        ensure!(Uids::<T>::contains_key(netuid, hotkey), Error::<T>::HotKeyNotRegisteredInSubNet);
        Ok(())
    }

    /// Whether `commit_weights` by `hotkey` would succeed now (pool-time validation): the
    /// subnet uses commit-reveal, the hotkey is registered, and it holds fewer than
    /// [`MAX_UNREVEALED_COMMITS`] unexpired commitments.
    pub fn validate_commit_weights(hotkey: &T::AccountId, netuid: NetUid) -> DispatchResult {
        Self::check_commit_preconditions(hotkey, netuid)?;
        let epoch = Self::epoch_index(netuid, Self::current_block());
        let live = WeightCommits::<T>::get(netuid, hotkey)
            .iter()
            .filter(|c| c.reveal_epoch >= epoch)
            .count();
        ensure!((live as u32) < MAX_UNREVEALED_COMMITS, Error::<T>::TooManyUnrevealedCommits);
        Ok(())
    }

    /// The commitment that a reveal opens: the hotkey's commitments and the position of the
    /// matching one, after checking the subnet, the hash and the reveal epoch.
    fn find_reveal(
        hotkey: &T::AccountId,
        netuid: NetUid,
        uids: &[u16],
        values: &[u16],
        salt: &[u16],
        version_key: u64,
    ) -> Result<(Vec<WeightCommit>, usize, u64, H256), DispatchError> {
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        ensure!(CommitRevealWeightsEnabled::<T>::get(netuid), Error::<T>::CommitRevealDisabled);
        let hash = commit_hash(hotkey, netuid, uids, values, salt, version_key);
        let epoch = Self::epoch_index(netuid, Self::current_block());
        let commits = WeightCommits::<T>::get(netuid, hotkey).into_inner();
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
        Ok((commits, position, epoch, hash))
    }

    /// Whether `reveal_weights` by `hotkey` would succeed now: every check of
    /// [`Self::do_reveal_weights`], without writing (pool-time validation).
    pub fn validate_reveal_weights(
        hotkey: &T::AccountId,
        netuid: NetUid,
        uids: &[u16],
        values: &[u16],
        salt: &[u16],
        version_key: u64,
    ) -> DispatchResult {
        Self::find_reveal(hotkey, netuid, uids, values, salt, version_key)?;
        Self::check_weights(hotkey, netuid, uids, values, version_key, false).map(|_| ())
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
        let (mut commits, position, epoch, hash) =
            Self::find_reveal(hotkey, netuid, &uids, &values, &salt, version_key)?;
        commits.remove(position);
        commits.retain(|c| c.reveal_epoch >= epoch);
        if commits.is_empty() {
            WeightCommits::<T>::remove(netuid, hotkey);
        } else {
            let bounded: BoundedVec<WeightCommit, ConstU32<MAX_UNREVEALED_COMMITS>> =
                BoundedVec::truncate_from(commits);
            WeightCommits::<T>::insert(netuid, hotkey, bounded);
        }
        Self::check_and_store_weights(hotkey, netuid, &uids, &values, version_key, false)?;
        Self::deposit_event(Event::WeightsRevealed { netuid, hotkey: hotkey.clone(), hash });
        Ok(())
    }
}
