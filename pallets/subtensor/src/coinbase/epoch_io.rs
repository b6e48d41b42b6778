//! Storage glue of the epoch: read one subnet's [`EpochInput`] from storage and write the
//! [`EpochOutput`] back. The Yuma arithmetic itself lives in [`crate::epoch`].

use crate::{
    epoch::{EpochInput, EpochOutput, EpochParams},
    *,
};
use alloc::vec::Vec;
use frame_support::BoundedVec;

/// `vec` padded with defaults (or cut) to length `n`.
fn fit<V: Clone + Default>(vec: Vec<V>, n: usize) -> Vec<V> {
    let mut vec = vec;
    vec.resize(n, V::default());
    vec
}

/// A per-UID vector as the bounded storage type (entries past the bound are dropped).
fn bounded<V>(vec: Vec<V>) -> UidVec<V> {
    BoundedVec::truncate_from(vec)
}

impl<T: Config> Pallet<T> {
    /// The hotkey of every UID of `netuid`, in UID order.
    pub fn subnet_hotkeys(netuid: NetUid) -> Vec<Option<T::AccountId>> {
        (0..SubnetworkN::<T>::get(netuid)).map(|uid| Keys::<T>::get(netuid, uid)).collect()
    }

    /// Read the epoch input of `netuid` at block `now`, distributing `rao_emission`.
    pub fn epoch_input(netuid: NetUid, now: u64, rao_emission: u64) -> EpochInput {
        let hotkeys = Self::subnet_hotkeys(netuid);
        let n = hotkeys.len();
        let stake = hotkeys
            .iter()
            .map(|hk| hk.as_ref().map(TotalHotkeyStake::<T>::get).unwrap_or(0))
            .collect();
        let uids = 0..n as u16;
        let weights = uids.clone().map(|uid| Weights::<T>::get(netuid, uid).into_inner()).collect();
        let bonds = uids.clone().map(|uid| Bonds::<T>::get(netuid, uid).into_inner()).collect();
        let block_at_registration =
            uids.map(|uid| BlockAtRegistration::<T>::get(netuid, uid)).collect();
        let commit_block = CommitRevealWeightsEnabled::<T>::get(netuid).then(|| {
            let epoch = Self::epoch_index(netuid, now);
            hotkeys
                .iter()
                .map(|hk| {
                    let hk = hk.as_ref()?;
                    WeightCommits::<T>::get(netuid, hk)
                        .iter()
                        .filter(|c| c.reveal_epoch >= epoch)
                        .map(|c| c.commit_block)
                        .min()
                })
                .collect()
        });
        let owner_uid =
            SubnetOwnerHotkey::<T>::get(netuid).and_then(|hk| Uids::<T>::get(netuid, hk));
        let (alpha_low, alpha_high) = AlphaValues::<T>::get(netuid);
        EpochInput {
            stake,
            weights,
            bonds,
            last_update: fit(LastUpdate::<T>::get(netuid).into_inner(), n),
            block_at_registration,
            validator_permit: fit(ValidatorPermit::<T>::get(netuid).into_inner(), n),
            commit_block,
            rao_emission,
            params: EpochParams {
                current_block: now,
                tempo: Tempo::<T>::get(netuid),
                last_step_block: LastStepBlock::<T>::get(netuid),
                activity_cutoff: u64::from(ActivityCutoff::<T>::get(netuid)),
                kappa: Kappa::<T>::get(netuid),
                bonds_moving_average: BondsMovingAverage::<T>::get(netuid),
                bonds_penalty: BondsPenalty::<T>::get(netuid),
                max_allowed_validators: MaxAllowedValidators::<T>::get(netuid),
                stake_threshold: StakeThreshold::<T>::get(),
                owner_uid,
                yuma3: Yuma3On::<T>::get(netuid),
                liquid_alpha: LiquidAlphaOn::<T>::get(netuid),
                alpha_low,
                alpha_high,
                alpha_sigmoid_steepness: AlphaSigmoidSteepness::<T>::get(netuid),
            },
        }
    }

    /// Store the results of an epoch of `netuid`.
    pub fn store_epoch_output(netuid: NetUid, out: &EpochOutput) {
        let u16_of = EpochOutput::u16_of;
        Active::<T>::insert(netuid, bounded(out.active.clone()));
        StakeWeight::<T>::insert(netuid, bounded(u16_of(&out.stake)));
        Consensus::<T>::insert(netuid, bounded(u16_of(&out.consensus)));
        Incentive::<T>::insert(netuid, bounded(u16_of(&out.incentive)));
        Rank::<T>::insert(netuid, bounded(u16_of(&out.rank)));
        Trust::<T>::insert(netuid, bounded(u16_of(&out.trust)));
        Dividends::<T>::insert(netuid, bounded(u16_of(&out.dividends)));
        ValidatorTrust::<T>::insert(netuid, bounded(u16_of(&out.validator_trust)));
        ValidatorPermit::<T>::insert(netuid, bounded(out.new_validator_permit.clone()));
        Emission::<T>::insert(netuid, bounded(out.emission.clone()));
        PruningScores::<T>::insert(netuid, bounded(out.pruning_scores.clone()));
        let bonds = out.bonds_stored.iter().map(Vec::len).fold(0usize, usize::saturating_add);
        BondEntries::<T>::insert(netuid, u32::try_from(bonds).unwrap_or(u32::MAX));
        for (uid, row) in out.bonds_stored.iter().enumerate() {
            let Ok(uid) = u16::try_from(uid) else { break };
            if row.is_empty() {
                Bonds::<T>::remove(netuid, uid);
            } else {
                Bonds::<T>::insert(netuid, uid, BoundedVec::truncate_from(row.clone()));
            }
        }
    }
}
