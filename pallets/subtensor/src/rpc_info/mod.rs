//! Views for the runtime APIs: neurons and subnets in the reference chain's layouts
//! ([`NeuronInfo`], [`NeuronInfoLite`], [`SubnetInfo`], [`SubnetInfov2`], [`SubnetHyperparams`]),
//! built from storage; and, in the submodules, the dTAO-shaped views the Python SDK 10 and
//! btcli 9 read.
//!
//! # The stable-mechanism presentation
//!
//! The reference chain is dTAO: each subnet has its own token (alpha), a TAO/alpha pool, and
//! stake per (hotkey, coldkey, netuid) in alpha. This chain is classic: one TAO stake per
//! (hotkey, coldkey), valid on every subnet the hotkey is registered on. The dTAO-shaped views
//! present every subnet the way the reference presents a *stable mechanism* (mechanism 0)
//! subnet, whose alpha is TAO: price exactly 1 TAO, swaps 1:1 with no fee, "alpha stake" = the
//! classic stake. Per-netuid queries answer the (global) classic stake on any subnet; list views
//! report each (hotkey, coldkey) once, under the hotkey's *home netuid* (the lowest netuid it is
//! registered on, else the lowest existing subnet), so their sums are the classic totals.
//!
//! - `get_subnet_state`: in [`subnet_state`].
//! - `get_dynamic_info`, `get_all_dynamic_info`: in [`dynamic_info`].
//! - `get_metagraph`, `get_mechagraph`, `get_selective_*`, `get_all_*`: in [`metagraph`].
//! - `StakeInfoRuntimeApi`: in [`stake_info`].
//! - `DelegateInfoRuntimeApi`: in [`delegate_info`].
//! - `SwapRuntimeApi`: in [`swap`].

pub mod delegate_info;
pub mod dynamic_info;
pub mod metagraph;
pub mod stake_info;
pub mod subnet_state;
pub mod swap;

use crate::*;
use alloc::{collections::BTreeMap, vec::Vec};
use codec::Compact;
use subtensor_primitives::{
    NeuronInfo, NeuronInfoLite, SubnetHyperparams, SubnetHyperparamsV2, SubnetInfo, SubnetInfov2,
};

/// Entry `uid` of a per-UID vector, or the default.
fn at<V: Copy + Default>(vec: &[V], uid: u16) -> V {
    vec.get(usize::from(uid)).copied().unwrap_or_default()
}

/// The per-UID vectors of a subnet, read once. Building the neurons of a whole subnet reads
/// each vector once instead of once per UID, which made `neurons` quadratic in the subnet size
/// (4096 UIDs: ~45,000 reads of 8-32 KiB vectors, a third of a second).
#[derive(Default)]
struct UidColumns {
    active: UidVec<bool>,
    rank: UidVec<u16>,
    emission: UidVec<u64>,
    incentive: UidVec<u16>,
    consensus: UidVec<u16>,
    trust: UidVec<u16>,
    validator_trust: UidVec<u16>,
    dividends: UidVec<u16>,
    last_update: UidVec<u64>,
    validator_permit: UidVec<bool>,
    pruning_score: UidVec<u16>,
}

impl UidColumns {
    fn load<T: Config>(netuid: NetUid) -> Self {
        Self {
            active: Active::<T>::get(netuid),
            rank: Rank::<T>::get(netuid),
            emission: Emission::<T>::get(netuid),
            incentive: Incentive::<T>::get(netuid),
            consensus: Consensus::<T>::get(netuid),
            trust: Trust::<T>::get(netuid),
            validator_trust: ValidatorTrust::<T>::get(netuid),
            dividends: Dividends::<T>::get(netuid),
            last_update: LastUpdate::<T>::get(netuid),
            validator_permit: ValidatorPermit::<T>::get(netuid),
            pruning_score: PruningScores::<T>::get(netuid),
        }
    }
}

impl<T: Config> Pallet<T> {
    /// The lite neuron at `(netuid, uid)`, if any.
    pub fn neuron_lite(netuid: NetUid, uid: u16) -> Option<NeuronInfoLite<T::AccountId>> {
        Self::neuron_lite_from(netuid, uid, &UidColumns::load::<T>(netuid))
    }

    fn neuron_lite_from(
        netuid: NetUid,
        uid: u16,
        columns: &UidColumns,
    ) -> Option<NeuronInfoLite<T::AccountId>> {
        let hotkey = Keys::<T>::get(netuid, uid)?;
        let coldkey = Owner::<T>::get(&hotkey)?;
        // Stake entries are never zero and add up to `TotalHotkeyStake` (the pallet's
        // invariants): an unstaked hotkey, most miners, costs one read instead of a prefix
        // iteration of the trie.
        let stake = if TotalHotkeyStake::<T>::get(&hotkey) == 0 {
            Vec::new()
        } else {
            Stake::<T>::iter_prefix(&hotkey).map(|(c, s)| (c, Compact(s))).collect()
        };
        Some(NeuronInfoLite {
            axon_info: Axons::<T>::get(netuid, &hotkey).unwrap_or_default(),
            prometheus_info: Prometheus::<T>::get(netuid, &hotkey).unwrap_or_default(),
            hotkey,
            coldkey,
            uid,
            netuid,
            active: at(&columns.active, uid),
            stake,
            rank: at(&columns.rank, uid),
            emission: at(&columns.emission, uid),
            incentive: at(&columns.incentive, uid),
            consensus: at(&columns.consensus, uid),
            trust: at(&columns.trust, uid),
            validator_trust: at(&columns.validator_trust, uid),
            dividends: at(&columns.dividends, uid),
            last_update: at(&columns.last_update, uid),
            validator_permit: at(&columns.validator_permit, uid),
            pruning_score: at(&columns.pruning_score, uid),
        })
    }

    /// The full neuron (with weights and bonds) at `(netuid, uid)`, if any.
    pub fn neuron(netuid: NetUid, uid: u16) -> Option<NeuronInfo<T::AccountId>> {
        Self::neuron_from(netuid, uid, &UidColumns::load::<T>(netuid))
    }

    fn neuron_from(
        netuid: NetUid,
        uid: u16,
        columns: &UidColumns,
    ) -> Option<NeuronInfo<T::AccountId>> {
        let lite = Self::neuron_lite_from(netuid, uid, columns)?;
        let compact_row = |row: SparseRow| -> Vec<(Compact<u16>, Compact<u16>)> {
            row.into_iter().map(|(d, v)| (Compact(d), Compact(v))).collect()
        };
        let weights = compact_row(Weights::<T>::get(netuid, uid));
        let bonds = compact_row(Bonds::<T>::get(netuid, uid));
        Some(NeuronInfo::from_lite(lite, weights, bonds))
    }

    /// Every lite neuron of `netuid`, in UID order (empty for an unknown subnet).
    pub fn neurons_lite(netuid: NetUid) -> Vec<NeuronInfoLite<T::AccountId>> {
        let columns = UidColumns::load::<T>(netuid);
        (0..SubnetworkN::<T>::get(netuid))
            .filter_map(|uid| Self::neuron_lite_from(netuid, uid, &columns))
            .collect()
    }

    /// Every full neuron of `netuid`, in UID order (empty for an unknown subnet).
    pub fn neurons(netuid: NetUid) -> Vec<NeuronInfo<T::AccountId>> {
        let columns = UidColumns::load::<T>(netuid);
        (0..SubnetworkN::<T>::get(netuid))
            .filter_map(|uid| Self::neuron_from(netuid, uid, &columns))
            .collect()
    }

    /// The subnet summary of `netuid`, if it exists.
    pub fn subnet_info(netuid: NetUid) -> Option<SubnetInfo<T::AccountId>> {
        if !NetworksAdded::<T>::get(netuid) {
            return None;
        }
        let now = Self::current_block();
        Some(SubnetInfo {
            netuid,
            rho: Rho::<T>::get(netuid),
            kappa: Kappa::<T>::get(netuid),
            difficulty: Difficulty::<T>::get(netuid),
            immunity_period: ImmunityPeriod::<T>::get(netuid),
            max_allowed_validators: MaxAllowedValidators::<T>::get(netuid),
            min_allowed_weights: MinAllowedWeights::<T>::get(netuid),
            max_weights_limit: MaxWeightsLimit::<T>::get(netuid),
            scaling_law_power: ScalingLawPower::<T>::get(netuid),
            subnetwork_n: SubnetworkN::<T>::get(netuid),
            max_allowed_uids: MaxAllowedUids::<T>::get(netuid),
            blocks_since_last_step: now.saturating_sub(LastStepBlock::<T>::get(netuid)),
            tempo: Tempo::<T>::get(netuid),
            network_modality: 0,
            network_connect: Vec::new(),
            emission_values: Self::expected_emission_per_block(netuid),
            burn: Burn::<T>::get(netuid),
            owner: SubnetOwner::<T>::get(netuid)?,
        })
    }

    /// The summary of every existing subnet in netuid order (each `Some`; the `Option` is the
    /// reference chain's return type).
    pub fn subnets_info() -> Vec<Option<SubnetInfo<T::AccountId>>> {
        Self::subnets().into_iter().map(Self::subnet_info).collect()
    }

    /// The hyperparameters of `netuid`, if it exists.
    pub fn subnet_hyperparams(netuid: NetUid) -> Option<SubnetHyperparams> {
        if !NetworksAdded::<T>::get(netuid) {
            return None;
        }
        let (alpha_low, alpha_high) = AlphaValues::<T>::get(netuid);
        Some(SubnetHyperparams {
            rho: Rho::<T>::get(netuid),
            kappa: Kappa::<T>::get(netuid),
            immunity_period: ImmunityPeriod::<T>::get(netuid),
            min_allowed_weights: MinAllowedWeights::<T>::get(netuid),
            max_weights_limit: MaxWeightsLimit::<T>::get(netuid),
            tempo: Tempo::<T>::get(netuid),
            min_difficulty: MinDifficulty::<T>::get(netuid),
            max_difficulty: MaxDifficulty::<T>::get(netuid),
            weights_version: WeightsVersionKey::<T>::get(netuid),
            weights_rate_limit: WeightsSetRateLimit::<T>::get(netuid),
            adjustment_interval: AdjustmentInterval::<T>::get(netuid),
            activity_cutoff: u64::from(ActivityCutoff::<T>::get(netuid)),
            registration_allowed: NetworkRegistrationAllowed::<T>::get(netuid),
            target_regs_per_interval: TargetRegistrationsPerInterval::<T>::get(netuid),
            min_burn: MinBurn::<T>::get(netuid),
            max_burn: MaxBurn::<T>::get(netuid),
            bonds_moving_avg: BondsMovingAverage::<T>::get(netuid),
            max_regs_per_block: MaxRegistrationsPerBlock::<T>::get(netuid),
            serving_rate_limit: ServingRateLimit::<T>::get(netuid),
            max_validators: MaxAllowedValidators::<T>::get(netuid),
            adjustment_alpha: AdjustmentAlpha::<T>::get(netuid),
            difficulty: Difficulty::<T>::get(netuid),
            commit_reveal_period: RevealPeriodEpochs::<T>::get(netuid),
            commit_reveal_weights_enabled: CommitRevealWeightsEnabled::<T>::get(netuid),
            alpha_high,
            alpha_low,
            liquid_alpha_enabled: LiquidAlphaOn::<T>::get(netuid),
        })
    }

    /// The v2 hyperparameters of `netuid` (v1 plus the sigmoid steepness and the Yuma version),
    /// if it exists. This chain has no subnet tokens, so transfers are always enabled and user
    /// liquidity never is; bonds are never reset.
    pub fn subnet_hyperparams_v2(netuid: NetUid) -> Option<SubnetHyperparamsV2> {
        let v1 = Self::subnet_hyperparams(netuid)?;
        let steepness =
            substrate_fixed::types::I32F32::from_num(AlphaSigmoidSteepness::<T>::get(netuid));
        let yuma_version = if Yuma3On::<T>::get(netuid) { 3 } else { 2 };
        Some(SubnetHyperparamsV2::from_v1(v1, steepness, yuma_version, true, true, false, false))
    }

    /// The rao per block `netuid` currently receives from the block reward.
    pub fn expected_emission_per_block(netuid: NetUid) -> u64 {
        EmissionRates::load::<T>(&Self::subnets()).per_block::<T>(netuid)
    }

    /// The v2 summary of `netuid` (v1 with `emission_value` and the identity, which is always
    /// `None` here: no identities are stored), if it exists.
    pub fn subnet_info_v2(netuid: NetUid) -> Option<SubnetInfov2<T::AccountId>> {
        Self::subnet_info(netuid).map(|v1| SubnetInfov2::from_v1(v1, None))
    }

    /// The v2 summary of every existing subnet, in netuid order.
    pub fn subnets_info_v2() -> Vec<Option<SubnetInfov2<T::AccountId>>> {
        Self::subnets().into_iter().map(Self::subnet_info_v2).collect()
    }

    /// The registered UIDs of `netuid` in UID order, with their hotkey and its owner; UIDs
    /// without both (none, by the pallet's invariants) are left out, as in [`Self::neurons_lite`],
    /// so every per-UID vector built over this list stays aligned with `hotkeys`.
    pub(crate) fn uid_keys(netuid: NetUid) -> Vec<UidKeys<T::AccountId>> {
        (0..SubnetworkN::<T>::get(netuid))
            .filter_map(|uid| {
                let hotkey = Keys::<T>::get(netuid, uid)?;
                let coldkey = Owner::<T>::get(&hotkey)?;
                Some(UidKeys { uid, hotkey, coldkey })
            })
            .collect()
    }

    /// The block at which `netuid` was created: the registration block of the owner's hotkey,
    /// which `init_subnet` registers as UID 0 and pruning never replaces (0 if it is gone).
    pub(crate) fn network_registered_at(netuid: NetUid) -> u64 {
        SubnetOwnerHotkey::<T>::get(netuid)
            .and_then(|hotkey| Uids::<T>::get(netuid, hotkey))
            .map_or(0, |uid| BlockAtRegistration::<T>::get(netuid, uid))
    }

    /// The existing subnets `hotkey` is registered on, ascending. `subnets` is
    /// [`Self::subnets`] (sorted).
    pub(crate) fn registered_netuids(hotkey: &T::AccountId, subnets: &[NetUid]) -> Vec<NetUid> {
        let mut netuids: Vec<NetUid> = IsNetworkMember::<T>::iter_prefix(hotkey)
            .filter(|(netuid, member)| *member && subnets.binary_search(netuid).is_ok())
            .map(|(netuid, _)| netuid)
            .collect();
        netuids.sort();
        netuids
    }
}

/// The *home netuid* of a hotkey whose lowest registration (on an existing subnet) is
/// `first_registered`: the netuid under which list views report its classic stake. That
/// registration, else the lowest existing subnet, else the root netuid 0 (only when no subnet
/// exists). `subnets` is [`Pallet::subnets`].
pub(crate) fn home(first_registered: Option<NetUid>, subnets: &[NetUid]) -> NetUid {
    first_registered.or(subnets.first().copied()).unwrap_or(NetUid::ROOT)
}

/// A registered UID with its hotkey and the hotkey's owner.
pub(crate) struct UidKeys<AccountId> {
    /// The UID.
    pub(crate) uid: u16,
    /// Its hotkey.
    pub(crate) hotkey: AccountId,
    /// The hotkey's owner.
    pub(crate) coldkey: AccountId,
}

/// The block reward and the sum of the subnets' emission shares, read once for many subnets.
pub(crate) struct EmissionRates {
    reward: u64,
    total_share: u64,
}

impl EmissionRates {
    /// Read for the existing `subnets`.
    pub(crate) fn load<T: Config>(subnets: &[NetUid]) -> Self {
        let total_share =
            subnets.iter().fold(0u64, |a, n| a.saturating_add(EmissionShare::<T>::get(n)));
        let reward = coinbase::block_emission::block_emission(Pallet::<T>::total_issuance());
        Self { reward, total_share }
    }

    /// The rao per block `netuid` receives.
    pub(crate) fn per_block<T: Config>(&self, netuid: NetUid) -> u64 {
        staking::mul_div(self.reward, EmissionShare::<T>::get(netuid), self.total_share)
    }
}

/// Where a hotkey is registered, with what its UID there earned and holds.
pub(crate) struct Registration {
    /// The subnet.
    pub(crate) netuid: NetUid,
    /// The hotkey's emission there at the last epoch, in rao.
    pub(crate) emission: u64,
    /// Whether it holds a validator permit there.
    pub(crate) validator_permit: bool,
    /// The subnet's tempo.
    pub(crate) tempo: u16,
}

/// Per-subnet vectors read at most once per runtime-API call, for views that visit many
/// hotkeys (each vector is up to 32 KiB).
#[derive(Default)]
pub(crate) struct SubnetCache {
    subnets: Vec<NetUid>,
    emission: BTreeMap<NetUid, UidVec<u64>>,
    permit: BTreeMap<NetUid, UidVec<bool>>,
}

impl SubnetCache {
    /// An empty cache over the existing subnets.
    pub(crate) fn new<T: Config>() -> Self {
        Self { subnets: Pallet::<T>::subnets(), ..Default::default() }
    }

    /// The existing subnets, ascending.
    pub(crate) fn subnets(&self) -> &[NetUid] {
        &self.subnets
    }

    /// The existing subnets `hotkey` is registered on, ascending, with its UID's emission and
    /// permit there.
    pub(crate) fn registrations<T: Config>(&mut self, hotkey: &T::AccountId) -> Vec<Registration> {
        let netuids = Pallet::<T>::registered_netuids(hotkey, &self.subnets);
        netuids
            .into_iter()
            .filter_map(|netuid| {
                let uid = Uids::<T>::get(netuid, hotkey)?;
                let emission =
                    self.emission.entry(netuid).or_insert_with(|| Emission::<T>::get(netuid));
                let emission = at(emission, uid);
                let permit =
                    self.permit.entry(netuid).or_insert_with(|| ValidatorPermit::<T>::get(netuid));
                let validator_permit = at(permit, uid);
                Some(Registration {
                    netuid,
                    emission,
                    validator_permit,
                    tempo: Tempo::<T>::get(netuid),
                })
            })
            .collect()
    }
}
