//! [`SubnetInfo`], [`SubnetInfov2`], [`SubnetHyperparams`] and [`SubnetHyperparamsV2`]: a
//! subnet's summary and its tunable parameters, returned by `SubnetInfoRuntimeApi`.

use crate::{NetUid, SubnetIdentityV3};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use scale_info::TypeInfo;
use substrate_fixed::types::I32F32;

/// Summary of a subnet (`get_subnet_info`, `get_subnets_info`); the reference's v1 layout.
///
/// `network_modality`, `network_connect` and `emission_values` are deprecated on the reference
/// and always 0 / empty / 0 there; they stay for layout compatibility.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct SubnetInfo<AccountId> {
    /// The subnet.
    #[codec(compact)]
    pub netuid: NetUid,
    /// Yuma `rho` hyperparameter.
    #[codec(compact)]
    pub rho: u16,
    /// Yuma `kappa`: consensus majority threshold, fraction of `u16::MAX`.
    #[codec(compact)]
    pub kappa: u16,
    /// Current proof-of-work difficulty.
    #[codec(compact)]
    pub difficulty: u64,
    /// Blocks during which a new neuron cannot be pruned.
    #[codec(compact)]
    pub immunity_period: u16,
    /// Maximum number of validator permits.
    #[codec(compact)]
    pub max_allowed_validators: u16,
    /// Minimum number of weights a validator must set.
    #[codec(compact)]
    pub min_allowed_weights: u16,
    /// Maximum weight a validator may give one UID, fraction of `u16::MAX`.
    #[codec(compact)]
    pub max_weights_limit: u16,
    /// Scaling-law power hyperparameter (legacy, reported as stored).
    #[codec(compact)]
    pub scaling_law_power: u16,
    /// Number of registered UIDs.
    #[codec(compact)]
    pub subnetwork_n: u16,
    /// Maximum number of UIDs.
    #[codec(compact)]
    pub max_allowed_uids: u16,
    /// Blocks since the subnet's last epoch.
    #[codec(compact)]
    pub blocks_since_last_step: u64,
    /// Blocks between epochs.
    #[codec(compact)]
    pub tempo: u16,
    /// Deprecated: always 0.
    #[codec(compact)]
    pub network_modality: u16,
    /// Deprecated: always empty; `[netuid, requirement]` pairs (plain `u16`, not compact).
    pub network_connect: Vec<[u16; 2]>,
    /// Deprecated: always 0 on the reference.
    #[codec(compact)]
    pub emission_values: u64,
    /// Current burn registration cost, in rao.
    #[codec(compact)]
    pub burn: u64,
    /// Owner (coldkey) of the subnet.
    pub owner: AccountId,
}

/// Summary of a subnet, v2 (`get_subnet_info_v2`, `get_subnets_info_v2`; what SDK 10's
/// `get_subnet_info` and `get_all_subnets_info` call): the [`SubnetInfo`] fields in the same order,
/// with `emission_values` renamed `emission_value`, then the subnet's identity.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct SubnetInfov2<AccountId> {
    /// The subnet.
    #[codec(compact)]
    pub netuid: NetUid,
    /// Yuma `rho` hyperparameter.
    #[codec(compact)]
    pub rho: u16,
    /// Yuma `kappa`: consensus majority threshold, fraction of `u16::MAX`.
    #[codec(compact)]
    pub kappa: u16,
    /// Current proof-of-work difficulty.
    #[codec(compact)]
    pub difficulty: u64,
    /// Blocks during which a new neuron cannot be pruned.
    #[codec(compact)]
    pub immunity_period: u16,
    /// Maximum number of validator permits.
    #[codec(compact)]
    pub max_allowed_validators: u16,
    /// Minimum number of weights a validator must set.
    #[codec(compact)]
    pub min_allowed_weights: u16,
    /// Maximum weight a validator may give one UID, fraction of `u16::MAX`.
    #[codec(compact)]
    pub max_weights_limit: u16,
    /// Scaling-law power hyperparameter (legacy, reported as stored).
    #[codec(compact)]
    pub scaling_law_power: u16,
    /// Number of registered UIDs.
    #[codec(compact)]
    pub subnetwork_n: u16,
    /// Maximum number of UIDs.
    #[codec(compact)]
    pub max_allowed_uids: u16,
    /// Blocks since the subnet's last epoch.
    #[codec(compact)]
    pub blocks_since_last_step: u64,
    /// Blocks between epochs.
    #[codec(compact)]
    pub tempo: u16,
    /// Deprecated: always 0.
    #[codec(compact)]
    pub network_modality: u16,
    /// Deprecated: always empty.
    pub network_connect: Vec<[u16; 2]>,
    /// The rao per block the subnet receives (as `emission_values` in [`SubnetInfo`]).
    #[codec(compact)]
    pub emission_value: u64,
    /// Current burn registration cost, in rao.
    #[codec(compact)]
    pub burn: u64,
    /// Owner (coldkey) of the subnet.
    pub owner: AccountId,
    /// Identity of the subnet. On this chain: always `None` (no identities are stored).
    pub identity: Option<SubnetIdentityV3>,
}

impl<AccountId> SubnetInfov2<AccountId> {
    /// `v1` with its identity.
    pub fn from_v1(v1: SubnetInfo<AccountId>, identity: Option<SubnetIdentityV3>) -> Self {
        SubnetInfov2 {
            netuid: v1.netuid,
            rho: v1.rho,
            kappa: v1.kappa,
            difficulty: v1.difficulty,
            immunity_period: v1.immunity_period,
            max_allowed_validators: v1.max_allowed_validators,
            min_allowed_weights: v1.min_allowed_weights,
            max_weights_limit: v1.max_weights_limit,
            scaling_law_power: v1.scaling_law_power,
            subnetwork_n: v1.subnetwork_n,
            max_allowed_uids: v1.max_allowed_uids,
            blocks_since_last_step: v1.blocks_since_last_step,
            tempo: v1.tempo,
            network_modality: v1.network_modality,
            network_connect: v1.network_connect,
            emission_value: v1.emission_values,
            burn: v1.burn,
            owner: v1.owner,
            identity,
        }
    }
}

/// Fixed-shape hyperparameters of a subnet (`get_subnet_hyperparams`); the reference's v1 layout.
///
/// Used by SDK ≤ 9.x and by `bt_decode`'s `SubnetHyperparameters`; SDK 10 asks for
/// [`SubnetHyperparamsV2`] instead.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct SubnetHyperparams {
    /// Yuma `rho`.
    #[codec(compact)]
    pub rho: u16,
    /// Yuma `kappa`, fraction of `u16::MAX`.
    #[codec(compact)]
    pub kappa: u16,
    /// Blocks during which a new neuron cannot be pruned.
    #[codec(compact)]
    pub immunity_period: u16,
    /// Minimum number of weights a validator must set.
    #[codec(compact)]
    pub min_allowed_weights: u16,
    /// Maximum weight per UID, fraction of `u16::MAX`.
    #[codec(compact)]
    pub max_weights_limit: u16,
    /// Blocks between epochs.
    #[codec(compact)]
    pub tempo: u16,
    /// Lower bound of the proof-of-work difficulty.
    #[codec(compact)]
    pub min_difficulty: u64,
    /// Upper bound of the proof-of-work difficulty.
    #[codec(compact)]
    pub max_difficulty: u64,
    /// Minimum `version_key` accepted with weights.
    #[codec(compact)]
    pub weights_version: u64,
    /// Blocks a neuron must wait between two weight submissions.
    #[codec(compact)]
    pub weights_rate_limit: u64,
    /// Blocks between registration-cost adjustments.
    #[codec(compact)]
    pub adjustment_interval: u16,
    /// Blocks without a weight update after which a neuron counts as inactive. `u64` as on the
    /// current reference (classic releases had `Compact<u16>`: same bytes for any value ≤ 65535).
    #[codec(compact)]
    pub activity_cutoff: u64,
    /// Whether registration is open.
    pub registration_allowed: bool,
    /// Target registrations per adjustment interval.
    #[codec(compact)]
    pub target_regs_per_interval: u16,
    /// Lower bound of the burn cost, in rao.
    #[codec(compact)]
    pub min_burn: u64,
    /// Upper bound of the burn cost, in rao.
    #[codec(compact)]
    pub max_burn: u64,
    /// Bond moving-average factor (per million).
    #[codec(compact)]
    pub bonds_moving_avg: u64,
    /// Maximum registrations per block.
    #[codec(compact)]
    pub max_regs_per_block: u16,
    /// Blocks a neuron must wait between two `serve_axon` calls.
    #[codec(compact)]
    pub serving_rate_limit: u64,
    /// Maximum number of validator permits.
    #[codec(compact)]
    pub max_validators: u16,
    /// Smoothing factor of registration-cost adjustments, fraction of `u64::MAX`.
    #[codec(compact)]
    pub adjustment_alpha: u64,
    /// Current proof-of-work difficulty.
    #[codec(compact)]
    pub difficulty: u64,
    /// Commit-reveal period, in epochs (named `commit_reveal_weights_interval` in classic
    /// releases; same position and encoding).
    #[codec(compact)]
    pub commit_reveal_period: u64,
    /// Whether weights must go through commit-reveal.
    pub commit_reveal_weights_enabled: bool,
    /// Liquid-alpha upper bound, fraction of `u16::MAX`.
    #[codec(compact)]
    pub alpha_high: u16,
    /// Liquid-alpha lower bound, fraction of `u16::MAX`.
    #[codec(compact)]
    pub alpha_low: u16,
    /// Whether liquid alpha is on.
    pub liquid_alpha_enabled: bool,
}

/// Hyperparameters with the Yuma-version and subnet toggles (`get_subnet_hyperparams_v2`, which
/// SDK 10's `get_subnet_hyperparameters` calls): every [`SubnetHyperparams`] field in the same
/// order, then six more.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct SubnetHyperparamsV2 {
    /// Yuma `rho`.
    #[codec(compact)]
    pub rho: u16,
    /// Yuma `kappa`, fraction of `u16::MAX`.
    #[codec(compact)]
    pub kappa: u16,
    /// Blocks during which a new neuron cannot be pruned.
    #[codec(compact)]
    pub immunity_period: u16,
    /// Minimum number of weights a validator must set.
    #[codec(compact)]
    pub min_allowed_weights: u16,
    /// Maximum weight per UID, fraction of `u16::MAX`.
    #[codec(compact)]
    pub max_weights_limit: u16,
    /// Blocks between epochs.
    #[codec(compact)]
    pub tempo: u16,
    /// Lower bound of the proof-of-work difficulty.
    #[codec(compact)]
    pub min_difficulty: u64,
    /// Upper bound of the proof-of-work difficulty.
    #[codec(compact)]
    pub max_difficulty: u64,
    /// Minimum `version_key` accepted with weights.
    #[codec(compact)]
    pub weights_version: u64,
    /// Blocks a neuron must wait between two weight submissions.
    #[codec(compact)]
    pub weights_rate_limit: u64,
    /// Blocks between registration-cost adjustments.
    #[codec(compact)]
    pub adjustment_interval: u16,
    /// Blocks without a weight update after which a neuron counts as inactive.
    #[codec(compact)]
    pub activity_cutoff: u64,
    /// Whether registration is open.
    pub registration_allowed: bool,
    /// Target registrations per adjustment interval.
    #[codec(compact)]
    pub target_regs_per_interval: u16,
    /// Lower bound of the burn cost, in rao.
    #[codec(compact)]
    pub min_burn: u64,
    /// Upper bound of the burn cost, in rao.
    #[codec(compact)]
    pub max_burn: u64,
    /// Bond moving-average factor (per million).
    #[codec(compact)]
    pub bonds_moving_avg: u64,
    /// Maximum registrations per block.
    #[codec(compact)]
    pub max_regs_per_block: u16,
    /// Blocks a neuron must wait between two `serve_axon` calls.
    #[codec(compact)]
    pub serving_rate_limit: u64,
    /// Maximum number of validator permits.
    #[codec(compact)]
    pub max_validators: u16,
    /// Smoothing factor of registration-cost adjustments, fraction of `u64::MAX`.
    #[codec(compact)]
    pub adjustment_alpha: u64,
    /// Current proof-of-work difficulty.
    #[codec(compact)]
    pub difficulty: u64,
    /// Commit-reveal period, in epochs.
    #[codec(compact)]
    pub commit_reveal_period: u64,
    /// Whether weights must go through commit-reveal.
    pub commit_reveal_weights_enabled: bool,
    /// Liquid-alpha upper bound, fraction of `u16::MAX`.
    #[codec(compact)]
    pub alpha_high: u16,
    /// Liquid-alpha lower bound, fraction of `u16::MAX`.
    #[codec(compact)]
    pub alpha_low: u16,
    /// Whether liquid alpha is on.
    pub liquid_alpha_enabled: bool,
    /// Steepness of the liquid-alpha sigmoid (fixed point, 8 bytes: `i64` bits LE, 32 fraction bits).
    pub alpha_sigmoid_steepness: I32F32,
    /// Yuma version in use (2 = classic Yuma, 3 = Yuma-3).
    #[codec(compact)]
    pub yuma_version: u16,
    /// Whether the subnet has been started (it receives emission).
    pub subnet_is_active: bool,
    /// Whether stake transfers are enabled on the subnet.
    pub transfers_enabled: bool,
    /// Whether bond resets are enabled (the reference's `BondsResetOn`).
    pub bonds_reset_enabled: bool,
    /// Whether users may provide liquidity (always `false` on the reference).
    pub user_liquidity_enabled: bool,
}

impl SubnetHyperparamsV2 {
    /// Extends v1 hyperparameters with the v2-only fields.
    #[allow(clippy::too_many_arguments)]
    pub fn from_v1(
        v1: SubnetHyperparams,
        alpha_sigmoid_steepness: I32F32,
        yuma_version: u16,
        subnet_is_active: bool,
        transfers_enabled: bool,
        bonds_reset_enabled: bool,
        user_liquidity_enabled: bool,
    ) -> Self {
        SubnetHyperparamsV2 {
            rho: v1.rho,
            kappa: v1.kappa,
            immunity_period: v1.immunity_period,
            min_allowed_weights: v1.min_allowed_weights,
            max_weights_limit: v1.max_weights_limit,
            tempo: v1.tempo,
            min_difficulty: v1.min_difficulty,
            max_difficulty: v1.max_difficulty,
            weights_version: v1.weights_version,
            weights_rate_limit: v1.weights_rate_limit,
            adjustment_interval: v1.adjustment_interval,
            activity_cutoff: v1.activity_cutoff,
            registration_allowed: v1.registration_allowed,
            target_regs_per_interval: v1.target_regs_per_interval,
            min_burn: v1.min_burn,
            max_burn: v1.max_burn,
            bonds_moving_avg: v1.bonds_moving_avg,
            max_regs_per_block: v1.max_regs_per_block,
            serving_rate_limit: v1.serving_rate_limit,
            max_validators: v1.max_validators,
            adjustment_alpha: v1.adjustment_alpha,
            difficulty: v1.difficulty,
            commit_reveal_period: v1.commit_reveal_period,
            commit_reveal_weights_enabled: v1.commit_reveal_weights_enabled,
            alpha_high: v1.alpha_high,
            alpha_low: v1.alpha_low,
            liquid_alpha_enabled: v1.liquid_alpha_enabled,
            alpha_sigmoid_steepness,
            yuma_version,
            subnet_is_active,
            transfers_enabled,
            bonds_reset_enabled,
            user_liquidity_enabled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountId;

    #[test]
    fn subnet_info_fixture() {
        let info = SubnetInfo {
            netuid: NetUid(1),
            rho: 10,
            kappa: 32_767,
            difficulty: 10_000_000,
            immunity_period: 4096,
            max_allowed_validators: 64,
            min_allowed_weights: 1,
            max_weights_limit: 65_535,
            scaling_law_power: 50,
            subnetwork_n: 256,
            max_allowed_uids: 4096,
            blocks_since_last_step: 5,
            tempo: 360,
            network_modality: 0,
            network_connect: vec![[1, 2]],
            emission_values: 0,
            burn: 1_000_000_000,
            owner: AccountId::new([0x33; 32]),
        };
        let fixture = [
            "04",                                                               // netuid: Compact(1)
            "28",                                                               // rho: Compact(10)
            "feff0100", // kappa: Compact(32767)
            "025a6202", // difficulty: Compact(10_000_000)
            "0140",     // immunity_period: Compact(4096)
            "0101",     // max_allowed_validators: Compact(64)
            "04",       // min_allowed_weights: Compact(1)
            "feff0300", // max_weights_limit: Compact(65535)
            "c8",       // scaling_law_power: Compact(50)
            "0104",     // subnetwork_n: Compact(256)
            "0140",     // max_allowed_uids: Compact(4096)
            "14",       // blocks_since_last_step: Compact(5)
            "a105",     // tempo: Compact(360)
            "00",       // network_modality: Compact(0)
            "04",       // network_connect: Vec length 1
            "01000200", //   [1u16, 2u16], plain little-endian
            "00",       // emission_values: Compact(0)
            "02286bee", // burn: Compact(1_000_000_000)
            "3333333333333333333333333333333333333333333333333333333333333333", // owner
        ]
        .concat();
        let bytes = info.encode();
        assert_eq!(hex::encode(&bytes), fixture);
        assert_eq!(SubnetInfo::<AccountId>::decode(&mut &bytes[..]), Ok(info.clone()));

        // `get_subnets_info` returns `Vec<Option<SubnetInfo>>`.
        let list = vec![Some(info), None];
        let bytes = list.encode();
        assert_eq!(bytes.get(..2), Some(&[0x08, 0x01][..])); // length 2, then Some
        assert_eq!(bytes.last(), Some(&0x00)); // ... and a final None
        assert_eq!(Vec::<Option<SubnetInfo<AccountId>>>::decode(&mut &bytes[..]), Ok(list));
    }

    fn sample_hyperparams() -> SubnetHyperparams {
        SubnetHyperparams {
            rho: 10,
            kappa: 32_767,
            immunity_period: 4096,
            min_allowed_weights: 1,
            max_weights_limit: 65_535,
            tempo: 360,
            min_difficulty: 10_000_000,
            max_difficulty: (1 << 62) - 1,
            weights_version: 0,
            weights_rate_limit: 100,
            adjustment_interval: 112,
            activity_cutoff: 5000,
            registration_allowed: true,
            target_regs_per_interval: 2,
            min_burn: 500_000,
            max_burn: 100_000_000_000,
            bonds_moving_avg: 900_000,
            max_regs_per_block: 1,
            serving_rate_limit: 50,
            max_validators: 64,
            adjustment_alpha: 58_000,
            difficulty: 10_000_000,
            commit_reveal_period: 1,
            commit_reveal_weights_enabled: false,
            alpha_high: 58_982,
            alpha_low: 45_875,
            liquid_alpha_enabled: true,
        }
    }

    /// The v1 bytes of [`sample_hyperparams`], which are also the start of the v2 bytes.
    const HYPERPARAMS_V1_FIXTURE: &[&str] = &[
        "28",                 // rho: Compact(10)
        "feff0100",           // kappa: Compact(32767)
        "0140",               // immunity_period: Compact(4096)
        "04",                 // min_allowed_weights: Compact(1)
        "feff0300",           // max_weights_limit: Compact(65535)
        "a105",               // tempo: Compact(360)
        "025a6202",           // min_difficulty: Compact(10_000_000)
        "13ffffffffffffff3f", // max_difficulty: Compact(2^62 - 1): big-integer mode, 8 bytes
        "00",                 // weights_version: Compact(0)
        "9101",               // weights_rate_limit: Compact(100)
        "c101",               // adjustment_interval: Compact(112)
        "214e",               // activity_cutoff: Compact(5000)
        "01",                 // registration_allowed: true
        "08",                 // target_regs_per_interval: Compact(2)
        "82841e00",           // min_burn: Compact(500_000)
        "0700e8764817",       // max_burn: Compact(100_000_000_000): big-integer mode, 5 bytes
        "82ee3600",           // bonds_moving_avg: Compact(900_000)
        "04",                 // max_regs_per_block: Compact(1)
        "c8",                 // serving_rate_limit: Compact(50)
        "0101",               // max_validators: Compact(64)
        "428a0300",           // adjustment_alpha: Compact(58000)
        "025a6202",           // difficulty: Compact(10_000_000)
        "04",                 // commit_reveal_period: Compact(1)
        "00",                 // commit_reveal_weights_enabled: false
        "9a990300",           // alpha_high: Compact(58982)
        "cecc0200",           // alpha_low: Compact(45875)
        "01",                 // liquid_alpha_enabled: true
    ];

    #[test]
    fn subnet_hyperparams_fixture() {
        let params = sample_hyperparams();
        let bytes = params.encode();
        assert_eq!(hex::encode(&bytes), HYPERPARAMS_V1_FIXTURE.concat());
        assert_eq!(SubnetHyperparams::decode(&mut &bytes[..]), Ok(params));
    }

    #[test]
    fn subnet_hyperparams_v2_fixture() {
        let params = SubnetHyperparamsV2::from_v1(
            sample_hyperparams(),
            I32F32::from_bits(-10_737_418_240), // -2.5
            2,
            true,
            true,
            false,
            false,
        );
        let tail = [
            "00000080fdffffff", // alpha_sigmoid_steepness: I32F32 bits, i64 LE (-2.5 * 2^32)
            "08",               // yuma_version: Compact(2)
            "01",               // subnet_is_active: true
            "01",               // transfers_enabled: true
            "00",               // bonds_reset_enabled: false
            "00",               // user_liquidity_enabled: false
        ];
        let fixture = [HYPERPARAMS_V1_FIXTURE, &tail[..]].concat().concat();
        let bytes = params.encode();
        assert_eq!(hex::encode(&bytes), fixture);
        assert_eq!(SubnetHyperparamsV2::decode(&mut &bytes[..]), Ok(params));
    }
}
