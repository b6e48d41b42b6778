//! # AdminUtils pallet
//!
//! The reference chain's `AdminUtils` calls, under its names, call indices and parameter names,
//! for the parameters this chain has: `sudo_set_tempo(netuid, tempo)`,
//! `sudo_set_weights_set_rate_limit(netuid, weights_set_rate_limit)`, and so on, one per
//! subnet [`Hyperparameter`] (except `EmissionShare`, which the reference lacks) and one per
//! [`GlobalParameter`] the reference can set (all but `ServingAllowsLoopback` and
//! `GridSpecRateLimit`, which it lacks). Clients built for the reference chain, such as
//! `btcli sudo set --param tempo`, find the calls they compose.
//!
//! ## Design
//!
//! The pallet holds no storage. Each call builds the typed parameter and forwards to the
//! subtensor pallet's setter, the one behind `SubtensorModule::set_hyperparameter` and
//! `set_global_parameter`, so the checks, the errors and the events are those of the subtensor
//! pallet:
//!
//! - **Origin.** A subnet parameter may be set by root, or by the subnet owner unless the
//!   subtensor pallet keeps it root-only ([`Hyperparameter::root_only`]); the owner's signature is
//!   refused with `BadOrigin` there, and with `SubtensorModule.NotSubnetOwner` for a subnet it
//!   does not own. Two calls are stricter than `set_hyperparameter`, to match the reference:
//!   `sudo_set_min_difficulty` and `sudo_set_network_registration_allowed` take root only.
//!   Chain-wide parameters take root. btcli sends the root-only ones through `Sudo.sudo`.
//! - **Errors** are the subtensor pallet's (`SubnetNotExists`, `NotSubnetOwner`,
//!   `InvalidHyperparameterValue`), forwarded as they are; this pallet declares none.
//! - **Events** are the subtensor pallet's `HyperparameterSet` and `GlobalParameterSet`.
//! - **Weights** are those of `set_hyperparameter` and `set_global_parameter`, whose benchmarks
//!   measure the same setters.
//!
//! Where the reference's own value rules differ (it caps an owner's `bonds_moving_average` at
//! 975,000, refuses an owner's negative sigmoid steepness, and its
//! `sudo_set_network_pow_registration_allowed` now always fails), this pallet follows the
//! subtensor pallet, this chain's one source of truth. `sudo_set_scaling_law_power` (11) and
//! `sudo_set_max_weight_limit` (12) keep the indices of reference releases that still had them.
//!
//! The runtime places the pallet at index 19, the reference's.
//!
//! [`Hyperparameter`]: pallet_subtensor::Hyperparameter
//! [`Hyperparameter::root_only`]: pallet_subtensor::Hyperparameter::root_only
//! [`GlobalParameter`]: pallet_subtensor::GlobalParameter
#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

#[cfg(test)]
mod tests;

// frame's pallet macros expand to `expect` calls (in storage and pallet info code).
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
    use frame_support::pallet_prelude::*;
    use frame_system::pallet_prelude::*;
    use pallet_subtensor::{GlobalParameter, Hyperparameter, WeightInfo as _};
    use subtensor_primitives::NetUid;

    /// The pallet.
    #[pallet::pallet]
    pub struct Pallet<T>(_);

    /// Configuration of the pallet: the subtensor pallet it forwards to.
    #[pallet::config]
    pub trait Config: frame_system::Config + pallet_subtensor::Config {}

    impl<T: Config> Pallet<T> {
        /// Set `value` on `netuid` as `who` (`None`: root) through the subtensor pallet.
        fn set(
            who: Option<&T::AccountId>,
            netuid: NetUid,
            value: Hyperparameter,
        ) -> DispatchResult {
            pallet_subtensor::Pallet::<T>::do_set_hyperparameter(who, netuid, value)
        }

        /// Set the chain-wide `value` (the caller checked root) through the subtensor pallet.
        fn set_global(value: GlobalParameter) -> DispatchResult {
            pallet_subtensor::Pallet::<T>::do_set_global_parameter(value)
        }
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Set the largest delegate take (u16 proportion; the reference's default take)
        /// ([`GlobalParameter::MaxDelegateTake`]).
        ///
        /// Origin: root.
        #[pallet::call_index(1)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_global_parameter())]
        pub fn sudo_set_default_take(origin: OriginFor<T>, default_take: u16) -> DispatchResult {
            ensure_root(origin)?;
            Self::set_global(GlobalParameter::MaxDelegateTake(default_take))
        }

        /// Set the minimum blocks between two axon updates of a neuron of `netuid`
        /// ([`Hyperparameter::ServingRateLimit`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(3)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_serving_rate_limit(
            origin: OriginFor<T>,
            netuid: NetUid,
            serving_rate_limit: u64,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::ServingRateLimit(serving_rate_limit))
        }

        /// Set the lower bound of the proof-of-work difficulty of `netuid`
        /// ([`Hyperparameter::MinDifficulty`]).
        ///
        /// Origin: root, as on the reference chain (stricter than `set_hyperparameter`, which also
        /// lets the subnet owner set it).
        #[pallet::call_index(4)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_min_difficulty(
            origin: OriginFor<T>,
            netuid: NetUid,
            min_difficulty: u64,
        ) -> DispatchResult {
            ensure_root(origin)?;
            Self::set(None, netuid, Hyperparameter::MinDifficulty(min_difficulty))
        }

        /// Set the upper bound of the proof-of-work difficulty of `netuid`
        /// ([`Hyperparameter::MaxDifficulty`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(5)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_max_difficulty(
            origin: OriginFor<T>,
            netuid: NetUid,
            max_difficulty: u64,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::MaxDifficulty(max_difficulty))
        }

        /// Set the smallest weights version key accepted of `netuid`
        /// ([`Hyperparameter::WeightsVersionKey`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(6)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_weights_version_key(
            origin: OriginFor<T>,
            netuid: NetUid,
            weights_version_key: u64,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::WeightsVersionKey(weights_version_key))
        }

        /// Set the minimum blocks between two weight updates of a neuron of `netuid`
        /// ([`Hyperparameter::WeightsSetRateLimit`]).
        ///
        /// Origin: root.
        #[pallet::call_index(7)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_weights_set_rate_limit(
            origin: OriginFor<T>,
            netuid: NetUid,
            weights_set_rate_limit: u64,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(
                who.as_ref(),
                netuid,
                Hyperparameter::WeightsSetRateLimit(weights_set_rate_limit),
            )
        }

        /// Set the blocks between two retargets of burn and difficulty of `netuid`
        /// ([`Hyperparameter::AdjustmentInterval`]).
        ///
        /// Origin: root.
        #[pallet::call_index(8)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_adjustment_interval(
            origin: OriginFor<T>,
            netuid: NetUid,
            adjustment_interval: u16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::AdjustmentInterval(adjustment_interval))
        }

        /// Set the smoothing of burn and difficulty retargets of `netuid`
        /// ([`Hyperparameter::AdjustmentAlpha`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(9)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_adjustment_alpha(
            origin: OriginFor<T>,
            netuid: NetUid,
            adjustment_alpha: u64,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::AdjustmentAlpha(adjustment_alpha))
        }

        /// Set the validators' scaling-law power (x100) of `netuid`
        /// ([`Hyperparameter::ScalingLawPower`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(11)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_scaling_law_power(
            origin: OriginFor<T>,
            netuid: NetUid,
            scaling_law_power: u16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::ScalingLawPower(scaling_law_power))
        }

        /// Set the largest normalised weight one destination may get of `netuid`
        /// ([`Hyperparameter::MaxWeightsLimit`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(12)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_max_weight_limit(
            origin: OriginFor<T>,
            netuid: NetUid,
            max_weight_limit: u16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::MaxWeightsLimit(max_weight_limit))
        }

        /// Set the blocks after registration during which a neuron cannot be pruned of `netuid`
        /// ([`Hyperparameter::ImmunityPeriod`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(13)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_immunity_period(
            origin: OriginFor<T>,
            netuid: NetUid,
            immunity_period: u16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::ImmunityPeriod(immunity_period))
        }

        /// Set the fewest weights a weight vector must carry of `netuid`
        /// ([`Hyperparameter::MinAllowedWeights`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(14)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_min_allowed_weights(
            origin: OriginFor<T>,
            netuid: NetUid,
            min_allowed_weights: u16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::MinAllowedWeights(min_allowed_weights))
        }

        /// Set the largest number of UIDs of `netuid` ([`Hyperparameter::MaxAllowedUids`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(15)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_max_allowed_uids(
            origin: OriginFor<T>,
            netuid: NetUid,
            max_allowed_uids: u16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::MaxAllowedUids(max_allowed_uids))
        }

        /// Set the consensus quantile of `netuid` ([`Hyperparameter::Kappa`]).
        ///
        /// Origin: root.
        #[pallet::call_index(16)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_kappa(origin: OriginFor<T>, netuid: NetUid, kappa: u16) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::Kappa(kappa))
        }

        /// Set the legacy rho of `netuid` ([`Hyperparameter::Rho`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(17)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_rho(origin: OriginFor<T>, netuid: NetUid, rho: u16) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::Rho(rho))
        }

        /// Set the blocks without a weight update after which a neuron is inactive of `netuid`
        /// ([`Hyperparameter::ActivityCutoff`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(18)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_activity_cutoff(
            origin: OriginFor<T>,
            netuid: NetUid,
            activity_cutoff: u16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::ActivityCutoff(activity_cutoff))
        }

        /// Set whether the subnet accepts registrations of `netuid`
        /// ([`Hyperparameter::RegistrationAllowed`]).
        ///
        /// Origin: root, as on the reference chain (stricter than `set_hyperparameter`, which also
        /// lets the subnet owner set it).
        #[pallet::call_index(19)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_network_registration_allowed(
            origin: OriginFor<T>,
            netuid: NetUid,
            registration_allowed: bool,
        ) -> DispatchResult {
            ensure_root(origin)?;
            Self::set(None, netuid, Hyperparameter::RegistrationAllowed(registration_allowed))
        }

        /// Set whether the subnet accepts proof-of-work registrations of `netuid`
        /// ([`Hyperparameter::PowRegistrationAllowed`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(20)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_network_pow_registration_allowed(
            origin: OriginFor<T>,
            netuid: NetUid,
            registration_allowed: bool,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(
                who.as_ref(),
                netuid,
                Hyperparameter::PowRegistrationAllowed(registration_allowed),
            )
        }

        /// Set the registrations per adjustment interval that burn and difficulty retarget toward
        /// of `netuid` ([`Hyperparameter::TargetRegistrationsPerInterval`]).
        ///
        /// Origin: root.
        #[pallet::call_index(21)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_target_registrations_per_interval(
            origin: OriginFor<T>,
            netuid: NetUid,
            target_registrations_per_interval: u16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(
                who.as_ref(),
                netuid,
                Hyperparameter::TargetRegistrationsPerInterval(target_registrations_per_interval),
            )
        }

        /// Set the lower bound of the registration burn (rao) of `netuid`
        /// ([`Hyperparameter::MinBurn`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(22)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_min_burn(
            origin: OriginFor<T>,
            netuid: NetUid,
            min_burn: u64,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::MinBurn(min_burn))
        }

        /// Set the upper bound of the registration burn (rao) of `netuid`
        /// ([`Hyperparameter::MaxBurn`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(23)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_max_burn(
            origin: OriginFor<T>,
            netuid: NetUid,
            max_burn: u64,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::MaxBurn(max_burn))
        }

        /// Set the proof-of-work difficulty of `netuid` ([`Hyperparameter::Difficulty`]).
        ///
        /// Origin: root.
        #[pallet::call_index(24)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_difficulty(
            origin: OriginFor<T>,
            netuid: NetUid,
            difficulty: u64,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::Difficulty(difficulty))
        }

        /// Set the number of validator permits of `netuid`
        /// ([`Hyperparameter::MaxAllowedValidators`]).
        ///
        /// Origin: root.
        #[pallet::call_index(25)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_max_allowed_validators(
            origin: OriginFor<T>,
            netuid: NetUid,
            max_allowed_validators: u16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(
                who.as_ref(),
                netuid,
                Hyperparameter::MaxAllowedValidators(max_allowed_validators),
            )
        }

        /// Set the bond EMA smoothing (per 1,000,000) of `netuid`
        /// ([`Hyperparameter::BondsMovingAverage`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(26)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_bonds_moving_average(
            origin: OriginFor<T>,
            netuid: NetUid,
            bonds_moving_average: u64,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(
                who.as_ref(),
                netuid,
                Hyperparameter::BondsMovingAverage(bonds_moving_average),
            )
        }

        /// Set the most registrations in one block of `netuid`
        /// ([`Hyperparameter::MaxRegistrationsPerBlock`]).
        ///
        /// Origin: root.
        #[pallet::call_index(27)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_max_registrations_per_block(
            origin: OriginFor<T>,
            netuid: NetUid,
            max_registrations_per_block: u16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(
                who.as_ref(),
                netuid,
                Hyperparameter::MaxRegistrationsPerBlock(max_registrations_per_block),
            )
        }

        /// Set the subnet owner's cut of each epoch's emission (u16 proportion)
        /// ([`GlobalParameter::SubnetOwnerCut`]).
        ///
        /// Origin: root.
        #[pallet::call_index(28)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_global_parameter())]
        pub fn sudo_set_subnet_owner_cut(
            origin: OriginFor<T>,
            subnet_owner_cut: u16,
        ) -> DispatchResult {
            ensure_root(origin)?;
            Self::set_global(GlobalParameter::SubnetOwnerCut(subnet_owner_cut))
        }

        /// Set the minimum blocks between two subnet registrations
        /// ([`GlobalParameter::NetworkRateLimit`]).
        ///
        /// Origin: root.
        #[pallet::call_index(29)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_global_parameter())]
        pub fn sudo_set_network_rate_limit(
            origin: OriginFor<T>,
            rate_limit: u64,
        ) -> DispatchResult {
            ensure_root(origin)?;
            Self::set_global(GlobalParameter::NetworkRateLimit(rate_limit))
        }

        /// Set the blocks between two epochs of `netuid` ([`Hyperparameter::Tempo`]).
        ///
        /// Origin: root.
        #[pallet::call_index(30)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_tempo(origin: OriginFor<T>, netuid: NetUid, tempo: u16) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::Tempo(tempo))
        }

        /// Set the floor of the subnet lock cost (rao) ([`GlobalParameter::NetworkMinLockCost`]).
        ///
        /// Origin: root.
        #[pallet::call_index(36)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_global_parameter())]
        pub fn sudo_set_network_min_lock_cost(
            origin: OriginFor<T>,
            lock_cost: u64,
        ) -> DispatchResult {
            ensure_root(origin)?;
            Self::set_global(GlobalParameter::NetworkMinLockCost(lock_cost))
        }

        /// Set the largest number of subnets ([`GlobalParameter::SubnetLimit`]).
        ///
        /// Origin: root.
        #[pallet::call_index(37)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_global_parameter())]
        pub fn sudo_set_subnet_limit(origin: OriginFor<T>, max_subnets: u16) -> DispatchResult {
            ensure_root(origin)?;
            Self::set_global(GlobalParameter::SubnetLimit(max_subnets))
        }

        /// Set the blocks over which the subnet lock cost decays by the last cost
        /// ([`GlobalParameter::NetworkLockReductionInterval`]).
        ///
        /// Origin: root.
        #[pallet::call_index(38)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_global_parameter())]
        pub fn sudo_set_lock_reduction_interval(
            origin: OriginFor<T>,
            interval: u64,
        ) -> DispatchResult {
            ensure_root(origin)?;
            Self::set_global(GlobalParameter::NetworkLockReductionInterval(interval))
        }

        /// Set the stake (rao) below which a hotkey may not set weights
        /// ([`GlobalParameter::StakeThreshold`]).
        ///
        /// Origin: root.
        #[pallet::call_index(42)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_global_parameter())]
        pub fn sudo_set_stake_threshold(origin: OriginFor<T>, min_stake: u64) -> DispatchResult {
            ensure_root(origin)?;
            Self::set_global(GlobalParameter::StakeThreshold(min_stake))
        }

        /// Set whether weights go through commit-reveal of `netuid`
        /// ([`Hyperparameter::CommitRevealEnabled`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(49)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_commit_reveal_weights_enabled(
            origin: OriginFor<T>,
            netuid: NetUid,
            enabled: bool,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::CommitRevealEnabled(enabled))
        }

        /// Set whether Yuma-3 uses liquid alpha of `netuid`
        /// ([`Hyperparameter::LiquidAlphaEnabled`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(50)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_liquid_alpha_enabled(
            origin: OriginFor<T>,
            netuid: NetUid,
            enabled: bool,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::LiquidAlphaEnabled(enabled))
        }

        /// Set the liquid alpha bounds of `netuid` ([`Hyperparameter::AlphaValues`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(51)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_alpha_values(
            origin: OriginFor<T>,
            netuid: NetUid,
            alpha_low: u16,
            alpha_high: u16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::AlphaValues(alpha_low, alpha_high))
        }

        /// Set the epochs after its commit in which a weight commitment is revealed of `netuid`
        /// ([`Hyperparameter::RevealPeriodEpochs`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(57)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_commit_reveal_weights_interval(
            origin: OriginFor<T>,
            netuid: NetUid,
            interval: u64,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::RevealPeriodEpochs(interval))
        }

        /// Set how far bonds follow clipped weights of `netuid` ([`Hyperparameter::BondsPenalty`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(60)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_bonds_penalty(
            origin: OriginFor<T>,
            netuid: NetUid,
            bonds_penalty: u16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::BondsPenalty(bonds_penalty))
        }

        /// Set the steepness of the liquid alpha sigmoid of `netuid`
        /// ([`Hyperparameter::AlphaSigmoidSteepness`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(68)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_alpha_sigmoid_steepness(
            origin: OriginFor<T>,
            netuid: NetUid,
            steepness: i16,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::AlphaSigmoidSteepness(steepness))
        }

        /// Set whether the subnet runs Yuma-3 of `netuid` ([`Hyperparameter::Yuma3Enabled`]).
        ///
        /// Origin: root or the subnet owner.
        #[pallet::call_index(69)]
        #[pallet::weight(<T as pallet_subtensor::Config>::WeightInfo::set_hyperparameter())]
        pub fn sudo_set_yuma3_enabled(
            origin: OriginFor<T>,
            netuid: NetUid,
            enabled: bool,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::set(who.as_ref(), netuid, Hyperparameter::Yuma3Enabled(enabled))
        }
    }
}
