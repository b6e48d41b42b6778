//! `get_metagraph`, `get_mechagraph`, `get_all_metagraphs`, `get_all_mechagraphs`,
//! `get_selective_metagraph` and `get_selective_mechagraph`: a whole subnet in one value
//! ([`Metagraph`], [`SelectiveMetagraph`]).
//!
//! Every subnet has exactly one mechanism here, mechanism 0, whose storage index is the netuid;
//! the `*mechagraph` calls answer `None` for any other mechanism id.
//!
//! Classic quantities in dTAO-shaped fields (besides those of [`super::subnet_state`] and
//! [`super::dynamic_info`], which the metagraph repeats):
//! - `identities` is `None` for every UID and `commitments` is empty (neither is stored).
//! - `tao_dividends_per_hotkey` and `alpha_dividends_per_hotkey` are empty: there is no root
//!   network, and the epoch stores each UID's total emission (`emission`), not its dividend
//!   part.
//! - `validators` lists the UIDs holding a validator permit, in UID order.
//! - `subnet_emission` is 0, as on the reference (deprecated there).

use super::{
    at,
    dynamic_info::{pool_reserve, subnet_name, unit_price, SUBNET_SYMBOL},
    subnet_state::column,
    EmissionRates, UidColumns,
};
use crate::*;
use alloc::{vec, vec::Vec};
use codec::Compact;
use subtensor_primitives::{
    compact_bytes, ChainIdentityV2, Metagraph, SelectiveMetagraph, SELECTIVE_METAGRAPH_FIELDS,
};

/// The metagraph indexes this module treats specially: positions in
/// [`SELECTIVE_METAGRAPH_FIELDS`] (a test pins them to the names).
pub(crate) mod index {
    /// `alpha_in`, first of the pool terms (12 ..= 14), which need the subnet's total stake.
    pub(crate) const ALPHA_IN: usize = 12;
    /// `tao_in`, last of the pool terms.
    pub(crate) const TAO_IN: usize = 14;
    /// `hotkeys`, first of the per-UID vectors (52 ..= 71).
    pub(crate) const HOTKEYS: usize = 52;
    /// `axons`: one read per UID.
    pub(crate) const AXONS: usize = 55;
    /// `block_at_registration`: one read per UID.
    pub(crate) const BLOCK_AT_REGISTRATION: usize = 66;
    /// `alpha_stake`, first of the stake vectors (67 ..= 69): one read per UID.
    pub(crate) const ALPHA_STAKE: usize = 67;
    /// `total_stake`, last of the stake vectors.
    pub(crate) const TOTAL_STAKE: usize = 69;
    /// `alpha_dividends_per_hotkey`, last of the per-UID vectors.
    pub(crate) const ALPHA_DIVIDENDS_PER_HOTKEY: usize = 71;
    /// `validators`, only in the selective metagraph.
    pub(crate) const VALIDATORS: usize = 72;
    /// `commitments`, only in the selective metagraph.
    pub(crate) const COMMITMENTS: usize = 73;
}

/// The only mechanism of every subnet.
const MAIN_MECHANISM: u8 = 0;

impl<T: Config> Pallet<T> {
    /// The full metagraph of `netuid`, if it exists.
    pub fn metagraph(netuid: NetUid) -> Option<Metagraph<T::AccountId>> {
        let rates = EmissionRates::load::<T>(&Self::subnets());
        Self::metagraph_for(netuid, &rates, &|_| true)
    }

    /// The full metagraph of every existing subnet, in netuid order.
    pub fn all_metagraphs() -> Vec<Option<Metagraph<T::AccountId>>> {
        let subnets = Self::subnets();
        let rates = EmissionRates::load::<T>(&subnets);
        subnets.into_iter().map(|netuid| Self::metagraph_for(netuid, &rates, &|_| true)).collect()
    }

    /// The full metagraph of mechanism `mecid` of `netuid`: the subnet's metagraph for
    /// mechanism 0, `None` for any other.
    pub fn mechagraph(netuid: NetUid, mecid: u8) -> Option<Metagraph<T::AccountId>> {
        if mecid != MAIN_MECHANISM {
            return None;
        }
        Self::metagraph(netuid)
    }

    /// The metagraph fields of `netuid` at `metagraph_indexes` (`netuid` always; unknown indexes
    /// are ignored), if the subnet exists. Only the requested per-UID data is read.
    pub fn selective_metagraph(
        netuid: NetUid,
        metagraph_indexes: Vec<u16>,
    ) -> Option<SelectiveMetagraph<T::AccountId>> {
        let mut wanted = vec![false; SELECTIVE_METAGRAPH_FIELDS.len()];
        for i in metagraph_indexes {
            if let Some(slot) = wanted.get_mut(usize::from(i)) {
                *slot = true;
            }
        }
        let need = |i: usize| wanted.get(i).copied().unwrap_or(false);
        let rates = EmissionRates::load::<T>(&Self::subnets());
        let full = Self::metagraph_for(netuid, &rates, &need)?;
        let mut selective = SelectiveMetagraph::select(full, need);
        if need(index::VALIDATORS) {
            selective.validators = Some(Self::validator_uids(netuid));
        }
        if need(index::COMMITMENTS) {
            selective.commitments = Some(Vec::new());
        }
        Some(selective)
    }

    /// [`Self::selective_metagraph`] of mechanism `subid`: `None` unless it is 0.
    pub fn selective_mechagraph(
        netuid: NetUid,
        subid: u8,
        metagraph_indexes: Vec<u16>,
    ) -> Option<SelectiveMetagraph<T::AccountId>> {
        if subid != MAIN_MECHANISM {
            return None;
        }
        Self::selective_metagraph(netuid, metagraph_indexes)
    }

    /// The UIDs of `netuid` holding a validator permit, in UID order.
    fn validator_uids(netuid: NetUid) -> Vec<Compact<u16>> {
        let n = SubnetworkN::<T>::get(netuid);
        let permits = ValidatorPermit::<T>::get(netuid);
        (0..n).filter(|uid| at(&permits, *uid)).map(Compact).collect()
    }

    /// The metagraph of `netuid`, if it exists, reading per-UID data only for the indexes
    /// `need` selects (the other vectors are left empty).
    fn metagraph_for(
        netuid: NetUid,
        rates: &EmissionRates,
        need: &dyn Fn(usize) -> bool,
    ) -> Option<Metagraph<T::AccountId>> {
        if !NetworksAdded::<T>::get(netuid) {
            return None;
        }
        let pool = (index::ALPHA_IN..=index::TAO_IN).any(need);
        let stake_needed = pool || (index::ALPHA_STAKE..=index::TOTAL_STAKE).any(need);
        let per_uid =
            stake_needed || (index::HOTKEYS..=index::ALPHA_DIVIDENDS_PER_HOTKEY).any(need);
        let keys = if per_uid { Self::uid_keys(netuid) } else { Vec::new() };
        let cols = if per_uid { UidColumns::load::<T>(netuid) } else { UidColumns::default() };
        let stakes = if stake_needed { Self::hotkey_stakes(&keys) } else { Vec::new() };
        let stake_column: Vec<Compact<u64>> = stakes.iter().copied().map(Compact).collect();
        // The stable mechanism's pool: the subnet's total classic stake on both sides.
        let reserve = Compact(pool_reserve(&stakes));
        let emission = rates.per_block::<T>(netuid);
        let now = Self::current_block();
        let last_step = LastStepBlock::<T>::get(netuid);
        let (alpha_low, alpha_high) = AlphaValues::<T>::get(netuid);
        let flags = |values: &UidVec<bool>| keys.iter().map(|k| at(values, k.uid)).collect();
        let axons = if need(index::AXONS) {
            keys.iter().map(|k| Axons::<T>::get(netuid, &k.hotkey).unwrap_or_default()).collect()
        } else {
            Vec::new()
        };
        let block_at_registration = if need(index::BLOCK_AT_REGISTRATION) {
            Self::registration_blocks(netuid, &keys)
        } else {
            Vec::new()
        };
        Some(Metagraph {
            netuid,
            name: compact_bytes(&subnet_name(netuid)),
            symbol: compact_bytes(SUBNET_SYMBOL.as_bytes()),
            identity: None,
            network_registered_at: Compact(Self::network_registered_at(netuid)),
            owner_hotkey: SubnetOwnerHotkey::<T>::get(netuid)?,
            owner_coldkey: SubnetOwner::<T>::get(netuid)?,
            block: Compact(now),
            tempo: Compact(Tempo::<T>::get(netuid)),
            last_step: Compact(last_step),
            blocks_since_last_step: Compact(now.saturating_sub(last_step)),
            subnet_emission: Compact(0),
            alpha_in: reserve,
            alpha_out: reserve,
            tao_in: reserve,
            alpha_out_emission: Compact(0),
            alpha_in_emission: Compact(0),
            tao_in_emission: Compact(emission),
            pending_alpha_emission: Compact(PendingEmission::<T>::get(netuid)),
            pending_root_emission: Compact(0),
            subnet_volume: Compact(0),
            moving_price: unit_price(),
            rho: Compact(Rho::<T>::get(netuid)),
            kappa: Compact(Kappa::<T>::get(netuid)),
            min_allowed_weights: Compact(MinAllowedWeights::<T>::get(netuid)),
            max_weights_limit: Compact(MaxWeightsLimit::<T>::get(netuid)),
            weights_version: Compact(WeightsVersionKey::<T>::get(netuid)),
            weights_rate_limit: Compact(WeightsSetRateLimit::<T>::get(netuid)),
            activity_cutoff: Compact(u64::from(ActivityCutoff::<T>::get(netuid))),
            max_validators: Compact(MaxAllowedValidators::<T>::get(netuid)),
            num_uids: Compact(SubnetworkN::<T>::get(netuid)),
            max_uids: Compact(MaxAllowedUids::<T>::get(netuid)),
            burn: Compact(Burn::<T>::get(netuid)),
            difficulty: Compact(Difficulty::<T>::get(netuid)),
            registration_allowed: NetworkRegistrationAllowed::<T>::get(netuid),
            pow_registration_allowed: NetworkPowRegistrationAllowed::<T>::get(netuid),
            immunity_period: Compact(ImmunityPeriod::<T>::get(netuid)),
            min_difficulty: Compact(MinDifficulty::<T>::get(netuid)),
            max_difficulty: Compact(MaxDifficulty::<T>::get(netuid)),
            min_burn: Compact(MinBurn::<T>::get(netuid)),
            max_burn: Compact(MaxBurn::<T>::get(netuid)),
            adjustment_alpha: Compact(AdjustmentAlpha::<T>::get(netuid)),
            adjustment_interval: Compact(AdjustmentInterval::<T>::get(netuid)),
            target_regs_per_interval: Compact(TargetRegistrationsPerInterval::<T>::get(netuid)),
            max_regs_per_block: Compact(MaxRegistrationsPerBlock::<T>::get(netuid)),
            serving_rate_limit: Compact(ServingRateLimit::<T>::get(netuid)),
            commit_reveal_weights_enabled: CommitRevealWeightsEnabled::<T>::get(netuid),
            commit_reveal_period: Compact(RevealPeriodEpochs::<T>::get(netuid)),
            liquid_alpha_enabled: LiquidAlphaOn::<T>::get(netuid),
            alpha_high: Compact(alpha_high),
            alpha_low: Compact(alpha_low),
            bonds_moving_avg: Compact(BondsMovingAverage::<T>::get(netuid)),
            identities: vec![None::<ChainIdentityV2>; keys.len()],
            axons,
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
            block_at_registration,
            // Classic stake as the stable mechanism's alpha stake; no root (TAO) stake.
            alpha_stake: stake_column.clone(),
            tao_stake: vec![Compact(0); stake_column.len()],
            total_stake: stake_column,
            tao_dividends_per_hotkey: Vec::new(),
            alpha_dividends_per_hotkey: Vec::new(),
            hotkeys: keys.iter().map(|k| k.hotkey.clone()).collect(),
            coldkeys: keys.into_iter().map(|k| k.coldkey).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_indexes_name_the_right_fields() {
        let name = |i: usize| SELECTIVE_METAGRAPH_FIELDS.get(i).copied();
        assert_eq!(name(index::ALPHA_IN), Some("alpha_in"));
        assert_eq!(name(index::TAO_IN), Some("tao_in"));
        assert_eq!(name(index::HOTKEYS), Some("hotkeys"));
        assert_eq!(name(index::AXONS), Some("axons"));
        assert_eq!(name(index::BLOCK_AT_REGISTRATION), Some("block_at_registration"));
        assert_eq!(name(index::ALPHA_STAKE), Some("alpha_stake"));
        assert_eq!(name(index::TOTAL_STAKE), Some("total_stake"));
        assert_eq!(name(index::ALPHA_DIVIDENDS_PER_HOTKEY), Some("alpha_dividends_per_hotkey"));
        assert_eq!(name(index::VALIDATORS), Some("validators"));
        assert_eq!(name(index::COMMITMENTS), Some("commitments"));
    }
}
