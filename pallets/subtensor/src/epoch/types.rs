//! Plain data types of the epoch: its parameters, its input (everything the chain holds for one
//! subnet when the epoch runs) and its output (everything the epoch computes and the chain stores).
//!
//! The types carry no storage handles and no `T: Config`; the storage glue fills an
//! [`EpochInput`] from the pallet's maps, calls [`super::run_epoch`] and writes the
//! [`EpochOutput`] back.

use alloc::vec::Vec;
use substrate_fixed::types::I32F32;

/// Subnet hyperparameters and block context of one epoch, exactly as stored on chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochParams {
    /// Block at which the epoch runs.
    pub current_block: u64,
    /// Subnet tempo in blocks.
    pub tempo: u16,
    /// Block of the previous successful epoch of this subnet (0 = never), used for the
    /// "registered since the last epoch" bond mask.
    pub last_step_block: u64,
    /// Number of blocks after its last weight update a uid still counts as active.
    pub activity_cutoff: u64,
    /// Consensus majority as a u16 proportion (32767 ≈ 0.5).
    pub kappa: u16,
    /// Bond moving average per 1e6 (900_000 → EMA alpha 0.1).
    pub bonds_moving_average: u64,
    /// Bonds penalty as a u16 proportion (65535 = bonds use fully clipped weights).
    pub bonds_penalty: u16,
    /// Number of validator permits handed out (top-k of stake).
    pub max_allowed_validators: u16,
    /// Raw stake (rao) below which a uid's stake counts as zero; the owner is exempt.
    pub stake_threshold: u64,
    /// Uid of the subnet owner's hotkey, if registered: keeps its self weight and always holds
    /// a validator permit.
    pub owner_uid: Option<u16>,
    /// Yuma-3 bonds (per-entry EMA on weights) instead of the classic column-normalised bonds.
    pub yuma3: bool,
    /// Liquid alpha (per-entry sigmoid EMA factor); only used with `yuma3`.
    pub liquid_alpha: bool,
    /// Lower liquid-alpha bound as a u16 proportion.
    pub alpha_low: u16,
    /// Upper liquid-alpha bound as a u16 proportion.
    pub alpha_high: u16,
    /// Steepness of the liquid-alpha sigmoid (divided by 100 inside the sigmoid).
    pub alpha_sigmoid_steepness: i16,
}

/// Everything the epoch reads for one subnet. Index `i` of every per-uid vector (and row `i` of
/// `weights` / `bonds`) belongs to uid `i`.
///
/// Vectors of unequal length are tolerated: the subnet size is the longest of them and missing
/// values count as zero / `false` / empty. Row entries pointing at a uid outside the subnet are
/// ignored; rows are read in uid order and a duplicated uid keeps its last value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochInput {
    /// Raw stake weight per uid (rao).
    pub stake: Vec<u64>,
    /// Stored `Weights` rows: `(uid, u16 weight)`, as `set_weights` stores them (max-upscaled).
    pub weights: Vec<Vec<(u16, u16)>>,
    /// Stored `Bonds` rows from the previous epoch: `(uid, u16 bond)`.
    pub bonds: Vec<Vec<(u16, u16)>>,
    /// Block of each uid's last weight update.
    pub last_update: Vec<u64>,
    /// Block at which each uid was (last) registered.
    pub block_at_registration: Vec<u64>,
    /// Validator permits stored by the previous epoch (these mask this epoch's weights).
    pub validator_permit: Vec<bool>,
    /// Commit-reveal: `Some` when commit-reveal is enabled, holding per uid the block of its
    /// earliest unexpired commit (`None` = no live commit). Weights of a uid whose commit block
    /// is older than a miner's registration are masked for that miner.
    pub commit_block: Option<Vec<Option<u64>>>,
    /// Emission distributed by this epoch (rao).
    pub rao_emission: u64,
    /// Hyperparameters and block context.
    pub params: EpochParams,
}

/// Everything the epoch computes. All per-uid vectors have the subnet size `n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochOutput {
    /// `last_update + activity_cutoff >= current_block`.
    pub active: Vec<bool>,
    /// Permits for the next epoch: top-k of this epoch's (thresholded) stake, plus the owner.
    pub new_validator_permit: Vec<bool>,
    /// The previous permits as applied by this epoch (the owner forced to `true`).
    pub validator_permit_used: Vec<bool>,
    /// Normalised (thresholded) stake.
    pub stake: Vec<I32F32>,
    /// Normalised stake of active uids holding a (previous) permit.
    pub active_stake: Vec<I32F32>,
    /// Stake-weighted kappa-median of each uid's column of weights.
    pub consensus: Vec<I32F32>,
    /// Sum of a validator's consensus-clipped weights.
    pub validator_trust: Vec<I32F32>,
    /// Normalised clipped rank of each uid.
    pub incentive: Vec<I32F32>,
    /// Legacy rank; identical to `incentive`.
    pub rank: Vec<I32F32>,
    /// Legacy server trust: clipped rank over unclipped rank (0 where the latter is 0).
    pub trust: Vec<I32F32>,
    /// Normalised dividends of each validator.
    pub dividends: Vec<I32F32>,
    /// Server share of the emission: `incentive / (Σ incentive + Σ dividends)`.
    pub normalized_server_emission: Vec<I32F32>,
    /// Validator share of the emission: `dividends / (Σ incentive + Σ dividends)`.
    pub normalized_validator_emission: Vec<I32F32>,
    /// `normalise(incentive + dividends)` (or the stake fallback when both are zero).
    pub normalized_combined_emission: Vec<I32F32>,
    /// Server emission in rao.
    pub server_emission: Vec<u64>,
    /// Validator emission in rao.
    pub validator_emission: Vec<u64>,
    /// Combined emission in rao (what the chain stores in `Emission`).
    pub emission: Vec<u64>,
    /// New bonds as fixed-point proportions, one sparse row per uid (classic: column
    /// max-upscaled; Yuma-3: raw EMA values).
    pub bonds: Vec<Vec<(u16, I32F32)>>,
    /// The u16 `Bonds` rows to store: `bonds` as u16 for uids with a new permit, empty otherwise.
    pub bonds_stored: Vec<Vec<(u16, u16)>>,
    /// Pruning scores: `normalized_combined_emission` max-upscaled to u16.
    pub pruning_scores: Vec<u16>,
}

impl EpochOutput {
    /// Converts a proportion vector to the u16 form the chain stores (`floor(x * 65535)`,
    /// saturating), e.g. `EpochOutput::u16_of(&out.incentive)`.
    pub fn u16_of(v: &[I32F32]) -> Vec<u16> {
        v.iter().map(|x| super::math::to_u16(*x)).collect()
    }
}
