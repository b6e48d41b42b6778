//! Subnet hyperparameters and chain-wide parameters: one typed call each.
//!
//! [`Hyperparameter`] carries the parameter and its new value, so one call sets any of them and
//! the event says exactly what changed. Who may set what follows the reference chain: the subnet
//! owner tunes how its subnet scores and registers; root keeps the parameters that change the
//! network's economics or cost (tempo, kappa, validator count, registration rates).

use crate::*;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{ensure, pallet_prelude::DispatchResult};
use scale_info::TypeInfo;

/// A subnet hyperparameter with its new value.
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub enum Hyperparameter {
    /// [`Tempo`]: blocks between epochs, 1..=65535. Root only.
    Tempo(u16),
    /// [`Kappa`]: consensus quantile. Root only.
    Kappa(u16),
    /// [`MaxAllowedValidators`]: validator permits, at most [`MaxAllowedUids`]. Root only.
    MaxAllowedValidators(u16),
    /// [`WeightsSetRateLimit`]: blocks between weight updates. Root only.
    WeightsSetRateLimit(u64),
    /// [`AdjustmentInterval`]: blocks between retargets, non-zero. Root only.
    AdjustmentInterval(u16),
    /// [`TargetRegistrationsPerInterval`]: non-zero. Root only.
    TargetRegistrationsPerInterval(u16),
    /// [`MaxRegistrationsPerBlock`]. Root only.
    MaxRegistrationsPerBlock(u16),
    /// [`Difficulty`], within its bounds. Root only.
    Difficulty(u64),
    /// [`EmissionShare`]: the subnet's weight in the emission split. Root only.
    EmissionShare(u64),
    /// [`Rho`] (legacy, reported only).
    Rho(u16),
    /// [`ImmunityPeriod`].
    ImmunityPeriod(u16),
    /// [`ActivityCutoff`].
    ActivityCutoff(u16),
    /// [`MaxAllowedUids`]: at least the current UID count, at most 4096.
    MaxAllowedUids(u16),
    /// [`MinAllowedWeights`].
    MinAllowedWeights(u16),
    /// [`MaxWeightsLimit`].
    MaxWeightsLimit(u16),
    /// [`WeightsVersionKey`].
    WeightsVersionKey(u64),
    /// [`BondsMovingAverage`], at most 1,000,000.
    BondsMovingAverage(u64),
    /// [`BondsPenalty`].
    BondsPenalty(u16),
    /// [`Yuma3On`].
    Yuma3Enabled(bool),
    /// [`LiquidAlphaOn`].
    LiquidAlphaEnabled(bool),
    /// [`AlphaValues`]: `(low, high)` with `0 < low <= high`.
    AlphaValues(u16, u16),
    /// [`AlphaSigmoidSteepness`].
    AlphaSigmoidSteepness(i16),
    /// [`MinBurn`], at most [`MaxBurn`].
    MinBurn(u64),
    /// [`MaxBurn`], at least [`MinBurn`].
    MaxBurn(u64),
    /// [`MinDifficulty`], at most [`MaxDifficulty`].
    MinDifficulty(u64),
    /// [`MaxDifficulty`], at least [`MinDifficulty`].
    MaxDifficulty(u64),
    /// [`AdjustmentAlpha`].
    AdjustmentAlpha(u64),
    /// [`ServingRateLimit`].
    ServingRateLimit(u64),
    /// [`NetworkRegistrationAllowed`].
    RegistrationAllowed(bool),
    /// [`NetworkPowRegistrationAllowed`].
    PowRegistrationAllowed(bool),
    /// [`CommitRevealWeightsEnabled`].
    CommitRevealEnabled(bool),
    /// [`RevealPeriodEpochs`], non-zero.
    RevealPeriodEpochs(u64),
    /// [`ScalingLawPower`] (x100), at most 100.
    ScalingLawPower(u16),
}

impl Hyperparameter {
    /// Whether only root may set this parameter (otherwise the subnet owner may too).
    pub fn root_only(&self) -> bool {
        use Hyperparameter::*;
        matches!(
            self,
            Tempo(_)
                | Kappa(_)
                | MaxAllowedValidators(_)
                | WeightsSetRateLimit(_)
                | AdjustmentInterval(_)
                | TargetRegistrationsPerInterval(_)
                | MaxRegistrationsPerBlock(_)
                | Difficulty(_)
                | EmissionShare(_)
        )
    }
}

/// A chain-wide parameter with its new value. Root only.
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub enum GlobalParameter {
    /// [`SubnetLimit`], at least the current number of subnets.
    SubnetLimit(u16),
    /// [`NetworkMinLockCost`] (rao).
    NetworkMinLockCost(u64),
    /// [`NetworkLockReductionInterval`] (blocks), non-zero.
    NetworkLockReductionInterval(u64),
    /// [`NetworkRateLimit`] (blocks).
    NetworkRateLimit(u64),
    /// [`SubnetOwnerCut`] (u16 proportion).
    SubnetOwnerCut(u16),
    /// [`StakeThreshold`] (rao).
    StakeThreshold(u64),
    /// [`MaxDelegateTake`] (u16 proportion).
    MaxDelegateTake(u16),
    /// [`ServingAllowsLoopback`].
    ServingAllowsLoopback(bool),
    /// [`GridSpecRateLimit`] (blocks between two grid spec updates by a subnet owner).
    GridSpecRateLimit(u64),
}

impl<T: Config> Pallet<T> {
    /// Check the origin's right to set `value` on `netuid`, validate and store it.
    pub fn do_set_hyperparameter(
        who: Option<&T::AccountId>,
        netuid: NetUid,
        value: Hyperparameter,
    ) -> DispatchResult {
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        if let Some(who) = who {
            ensure!(!value.root_only(), sp_runtime::traits::BadOrigin);
            ensure!(
                SubnetOwner::<T>::get(netuid).as_ref() == Some(who),
                Error::<T>::NotSubnetOwner
            );
        }
        Self::apply_hyperparameter(netuid, &value)?;
        Self::deposit_event(Event::HyperparameterSet { netuid, value });
        Ok(())
    }

    fn apply_hyperparameter(netuid: NetUid, value: &Hyperparameter) -> DispatchResult {
        use Hyperparameter as H;
        let invalid = Error::<T>::InvalidHyperparameterValue;
        match *value {
            H::Tempo(v) => {
                ensure!(v > 0, invalid);
                Tempo::<T>::insert(netuid, v)
            }
            H::Kappa(v) => Kappa::<T>::insert(netuid, v),
            H::MaxAllowedValidators(v) => {
                ensure!(v <= MaxAllowedUids::<T>::get(netuid), invalid);
                MaxAllowedValidators::<T>::insert(netuid, v)
            }
            H::WeightsSetRateLimit(v) => WeightsSetRateLimit::<T>::insert(netuid, v),
            H::AdjustmentInterval(v) => {
                ensure!(v > 0, invalid);
                AdjustmentInterval::<T>::insert(netuid, v)
            }
            H::TargetRegistrationsPerInterval(v) => {
                ensure!(v > 0, invalid);
                TargetRegistrationsPerInterval::<T>::insert(netuid, v)
            }
            H::MaxRegistrationsPerBlock(v) => MaxRegistrationsPerBlock::<T>::insert(netuid, v),
            H::Difficulty(v) => {
                ensure!(
                    v >= MinDifficulty::<T>::get(netuid) && v <= MaxDifficulty::<T>::get(netuid),
                    invalid
                );
                Difficulty::<T>::insert(netuid, v)
            }
            H::EmissionShare(v) => EmissionShare::<T>::insert(netuid, v),
            H::Rho(v) => Rho::<T>::insert(netuid, v),
            H::ImmunityPeriod(v) => ImmunityPeriod::<T>::insert(netuid, v),
            H::ActivityCutoff(v) => ActivityCutoff::<T>::insert(netuid, v),
            H::MaxAllowedUids(v) => {
                ensure!(
                    v <= MAX_UIDS_LIMIT && v >= SubnetworkN::<T>::get(netuid) && v > 0,
                    invalid
                );
                MaxAllowedUids::<T>::insert(netuid, v)
            }
            H::MinAllowedWeights(v) => MinAllowedWeights::<T>::insert(netuid, v),
            H::MaxWeightsLimit(v) => MaxWeightsLimit::<T>::insert(netuid, v),
            H::WeightsVersionKey(v) => WeightsVersionKey::<T>::insert(netuid, v),
            H::BondsMovingAverage(v) => {
                ensure!(v <= 1_000_000, invalid);
                BondsMovingAverage::<T>::insert(netuid, v)
            }
            H::BondsPenalty(v) => BondsPenalty::<T>::insert(netuid, v),
            H::Yuma3Enabled(v) => Yuma3On::<T>::insert(netuid, v),
            H::LiquidAlphaEnabled(v) => LiquidAlphaOn::<T>::insert(netuid, v),
            H::AlphaValues(low, high) => {
                ensure!(low > 0 && low <= high, invalid);
                AlphaValues::<T>::insert(netuid, (low, high))
            }
            H::AlphaSigmoidSteepness(v) => AlphaSigmoidSteepness::<T>::insert(netuid, v),
            H::MinBurn(v) => {
                ensure!(v <= MaxBurn::<T>::get(netuid), invalid);
                MinBurn::<T>::insert(netuid, v);
                Burn::<T>::mutate(netuid, |b| *b = (*b).max(v));
            }
            H::MaxBurn(v) => {
                ensure!(v >= MinBurn::<T>::get(netuid), invalid);
                MaxBurn::<T>::insert(netuid, v);
                Burn::<T>::mutate(netuid, |b| *b = (*b).min(v));
            }
            H::MinDifficulty(v) => {
                ensure!(v <= MaxDifficulty::<T>::get(netuid), invalid);
                MinDifficulty::<T>::insert(netuid, v);
                Difficulty::<T>::mutate(netuid, |d| *d = (*d).max(v));
            }
            H::MaxDifficulty(v) => {
                ensure!(v >= MinDifficulty::<T>::get(netuid), invalid);
                MaxDifficulty::<T>::insert(netuid, v);
                Difficulty::<T>::mutate(netuid, |d| *d = (*d).min(v));
            }
            H::AdjustmentAlpha(v) => AdjustmentAlpha::<T>::insert(netuid, v),
            H::ServingRateLimit(v) => ServingRateLimit::<T>::insert(netuid, v),
            H::RegistrationAllowed(v) => NetworkRegistrationAllowed::<T>::insert(netuid, v),
            H::PowRegistrationAllowed(v) => NetworkPowRegistrationAllowed::<T>::insert(netuid, v),
            H::CommitRevealEnabled(v) => CommitRevealWeightsEnabled::<T>::insert(netuid, v),
            H::RevealPeriodEpochs(v) => {
                ensure!(v > 0, invalid);
                RevealPeriodEpochs::<T>::insert(netuid, v)
            }
            H::ScalingLawPower(v) => {
                ensure!(v <= 100, invalid);
                ScalingLawPower::<T>::insert(netuid, v)
            }
        }
        Ok(())
    }

    /// Validate and store a chain-wide parameter (the caller checked root).
    pub fn do_set_global_parameter(value: GlobalParameter) -> DispatchResult {
        use GlobalParameter as G;
        let invalid = Error::<T>::InvalidHyperparameterValue;
        match value {
            G::SubnetLimit(v) => {
                ensure!(v >= TotalNetworks::<T>::get(), invalid);
                SubnetLimit::<T>::put(v)
            }
            G::NetworkMinLockCost(v) => NetworkMinLockCost::<T>::put(v),
            G::NetworkLockReductionInterval(v) => {
                ensure!(v > 0, invalid);
                NetworkLockReductionInterval::<T>::put(v)
            }
            G::NetworkRateLimit(v) => NetworkRateLimit::<T>::put(v),
            G::SubnetOwnerCut(v) => SubnetOwnerCut::<T>::put(v),
            G::StakeThreshold(v) => StakeThreshold::<T>::put(v),
            G::MaxDelegateTake(v) => MaxDelegateTake::<T>::put(v),
            G::ServingAllowsLoopback(v) => ServingAllowsLoopback::<T>::put(v),
            G::GridSpecRateLimit(v) => GridSpecRateLimit::<T>::put(v),
        }
        Self::deposit_event(Event::GlobalParameterSet { value });
        Ok(())
    }
}
