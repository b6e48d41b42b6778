//! # Subtensor pallet
//!
//! The on-chain market of a Bittensor network, with classic Bittensor economics: one TAO stake per
//! (hotkey, coldkey) pair, no subnet tokens.
//!
//! ## Overview
//!
//! - **Subnets** ([`subnets::network`]): a coldkey locks a cost (doubling after each registration,
//!   decaying linearly back to a minimum) to create a subnet; the lock is refunded when the subnet
//!   is dissolved. Each subnet has hyperparameters ([`subnets::hyperparams`]), set by root or by
//!   the subnet owner according to the reference chain's split.
//! - **Neurons** ([`subnets::registration`], [`subnets::uids`]): hotkeys register on a subnet by
//!   burning TAO or by proof of work, get a UID, and replace the lowest-scoring non-immune UID once
//!   the subnet is full.
//! - **Stake** ([`staking`]): coldkeys stake TAO on hotkeys; validators take a delegate cut of
//!   their dividends and share the rest with their nominators pro rata.
//! - **Weights** ([`subnets::weights`]): validators write their judgement of miners as weights,
//!   directly or through commit-reveal.
//! - **Serving** ([`subnets::serving`]): neurons publish their axon and Prometheus endpoints.
//! - **Grid specs** ([`subnets::grid`]): the owner of a *grid subnet* commits the one model
//!   (by SHA-256), sampler version and request limits its miners serve; miners and validators
//!   read it from chain.
//! - **Fee-free calls** ([`transaction_extension`]): weights, serving and proof-of-work
//!   registration cost nothing, so the runtime's transaction extension runs their checks when a
//!   transaction is validated: one that would fail never enters the pool or a block.
//! - **Reference-chain views** ([`compat`]): the mechanism-era calls (`set_mechanism_weights`,
//!   `add_stake_limit`, ...) and storage items (`MechanismCountCurrent`, `OwnedHotkeys`, ...)
//!   that the reference chain's clients use, answered as the reference answers for a
//!   stable-mechanism subnet: mechanism 0 only, alpha priced at 1 TAO, classic stake.
//! - **Emission** ([`coinbase`]): every block mints `1 TAO / 2^halvings` (capped at 21M TAO) and
//!   splits it among subnets; every `tempo` blocks a subnet runs Yuma consensus ([`epoch`]) and
//!   pays out what accumulated.
//!
//! ## Design
//!
//! This file holds declarations only: config, storage, events, errors and calls. Every call
//! checks its origin and forwards to a `do_*` function in the module of its concern. Yuma
//! consensus is a pure function over plain vectors in [`epoch`]; [`coinbase::epoch_io`] reads its input
//! from storage and writes its output back.
//!
//! Arithmetic on balances is saturating or checked; consensus uses fixed point only; state
//! transitions never depend on hash-map iteration order.
//!
//! ## Terms
//!
//! - *rao*: the smallest unit, 1 TAO = 10^9 rao. Every balance here is in rao.
//! - *hotkey*: the key a neuron operates with (signs weights, serves the axon).
//! - *coldkey*: the key that owns hotkeys and funds (registers, stakes).
//! - *tempo*: the number of blocks between two epochs of a subnet.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use subtensor_primitives::{
    AxonInfo, GridSpec, GridSpecRecord, MechId, NetUid, OnSubnetChange, PrometheusInfo,
};

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
pub mod coinbase;
pub mod compat;
pub mod epoch;
pub mod invariants;
pub mod rpc_info;
pub mod staking;
pub mod subnets;
pub mod transaction_extension;
pub mod weights;

pub use compat::RootClaimTypeEnum;
pub use subnets::hyperparams::{GlobalParameter, Hyperparameter};
pub use transaction_extension::{SubtensorTransactionExtension, WrapsCalls};
pub use weights::WeightInfo;

#[cfg(test)]
mod tests;

/// The largest number of UIDs a subnet can ever hold (`MaxAllowedUids` is settable up to this).
pub const MAX_UIDS_LIMIT: u16 = 4096;

/// The bound of every per-UID vector in storage.
pub type MaxUids = frame_support::traits::ConstU32<4096>;

/// The largest number of unrevealed weight commits a hotkey may hold on one subnet.
pub const MAX_UNREVEALED_COMMITS: u32 = 10;

/// One row of a sparse weight or bond matrix: `(destination uid, u16 value)`.
pub type SparseRow = frame_support::BoundedVec<(u16, u16), MaxUids>;

/// A per-UID vector of a subnet.
pub type UidVec<V> = frame_support::BoundedVec<V, MaxUids>;

/// A weight commitment of commit-reveal.
#[derive(
    codec::Encode,
    codec::Decode,
    codec::DecodeWithMemTracking,
    codec::MaxEncodedLen,
    scale_info::TypeInfo,
    Clone,
    PartialEq,
    Eq,
    Debug,
)]
pub struct WeightCommit {
    /// `BlakeTwo256(hotkey, netuid, uids, values, salt, version_key)`, SCALE encoded.
    pub hash: sp_core::H256,
    /// The block the commitment was made in.
    pub commit_block: u64,
    /// The epoch index in which it must be revealed.
    pub reveal_epoch: u64,
}

// frame's pallet macros expand to `expect` calls (storage and pallet info code) and to call
// constructors with the reference's parameter lists; `expect`s written here carry a `qed` proof.
#[allow(clippy::expect_used, clippy::too_many_arguments)]
#[frame_support::pallet]
pub mod pallet {
    use super::*;
    use alloc::vec::Vec;
    use frame_support::{
        pallet_prelude::*,
        traits::{fungible, ConstBool, ConstU16, ConstU64},
    };
    use frame_system::pallet_prelude::*;
    use sp_core::H256;

    /// The in-code storage version.
    const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

    #[pallet::pallet]
    #[pallet::storage_version(STORAGE_VERSION)]
    pub struct Pallet<T>(_);

    /// Configuration of the pallet.
    #[pallet::config]
    pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
        /// The TAO currency. Stake, locks and pending emission are held by this pallet outside the
        /// currency (burned in, minted out), so the chain's total issuance is the currency's
        /// issuance plus [`TotalStake`], [`TotalSubnetLocked`] and [`TotalPendingEmission`].
        type Currency: fungible::Mutate<Self::AccountId, Balance = u64>;

        /// Weights of this pallet's calls.
        type WeightInfo: WeightInfo;

        /// Told when a subnet is created or dissolved (after this pallet's own storage of it
        /// was written or removed), so that other pallets keep per-subnet storage in step: the
        /// runtime's `Swap` shim writes `AlphaSqrtPrice`. `()` does nothing.
        type SubnetLifecycle: OnSubnetChange;
    }

    // ---------------------------------------------------------------------------------------
    // Emission and issuance
    // ---------------------------------------------------------------------------------------

    /// The chain's total TAO issuance in rao, as of the end of the last block's `on_initialize`:
    /// the currency's issuance plus stake, subnet locks and pending emission. Kept for clients;
    /// the pallet computes the live value with [`Pallet::total_issuance`].
    #[pallet::storage]
    pub type TotalIssuance<T> = StorageValue<_, u64, ValueQuery>;

    /// The emission (rao) minted in the current block.
    #[pallet::storage]
    pub type BlockEmission<T> = StorageValue<_, u64, ValueQuery>;

    /// Emission (rao) minted for a subnet and not yet distributed by its epoch.
    #[pallet::storage]
    pub type PendingEmission<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery>;

    /// The sum of [`PendingEmission`] over all subnets (rao).
    #[pallet::storage]
    pub type TotalPendingEmission<T> = StorageValue<_, u64, ValueQuery>;

    /// A subnet's share weight in the split of block emission among subnets (unitless; each subnet
    /// gets `share / sum of shares`). Equal by default; set by root.
    #[pallet::storage]
    pub type EmissionShare<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<1>>;

    /// The subnet owner's cut of each epoch's emission, as a u16 proportion (65535 = 100%).
    /// Default 11796 (18%).
    #[pallet::storage]
    pub type SubnetOwnerCut<T> = StorageValue<_, u16, ValueQuery, ConstU16<11796>>;

    // ---------------------------------------------------------------------------------------
    // Subnets
    // ---------------------------------------------------------------------------------------

    /// Whether a subnet exists.
    #[pallet::storage]
    pub type NetworksAdded<T> = StorageMap<_, Identity, NetUid, bool, ValueQuery>;

    /// The number of existing subnets.
    #[pallet::storage]
    pub type TotalNetworks<T> = StorageValue<_, u16, ValueQuery>;

    /// The largest number of subnets that may exist at once.
    #[pallet::storage]
    pub type SubnetLimit<T> = StorageValue<_, u16, ValueQuery, ConstU16<128>>;

    /// The coldkey that owns a subnet.
    #[pallet::storage]
    pub type SubnetOwner<T: Config> = StorageMap<_, Identity, NetUid, T::AccountId, OptionQuery>;

    /// The hotkey the subnet owner registered the subnet with (UID 0 at creation; exempt from
    /// pruning, and its self-weight counts in the epoch).
    #[pallet::storage]
    pub type SubnetOwnerHotkey<T: Config> =
        StorageMap<_, Identity, NetUid, T::AccountId, OptionQuery>;

    /// The rao a subnet's owner locked to create it; refunded on dissolve.
    #[pallet::storage]
    pub type SubnetLocked<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery>;

    /// The sum of [`SubnetLocked`] over all subnets (rao).
    #[pallet::storage]
    pub type TotalSubnetLocked<T> = StorageValue<_, u64, ValueQuery>;

    /// The lock cost (rao) paid by the last subnet registration.
    #[pallet::storage]
    pub type NetworkLastLockCost<T> =
        StorageValue<_, u64, ValueQuery, ConstU64<{ 1_000 * 1_000_000_000 }>>;

    /// The block of the last subnet registration.
    #[pallet::storage]
    pub type NetworkLastRegistered<T> = StorageValue<_, u64, ValueQuery>;

    /// The floor of the subnet lock cost (rao). Default 1,000 TAO.
    #[pallet::storage]
    pub type NetworkMinLockCost<T> =
        StorageValue<_, u64, ValueQuery, ConstU64<{ 1_000 * 1_000_000_000 }>>;

    /// The lock cost decays by the last lock cost every this many blocks (linearly), from twice
    /// the last cost down to [`NetworkMinLockCost`]. Default 14 days of 12 s blocks.
    #[pallet::storage]
    pub type NetworkLockReductionInterval<T> = StorageValue<_, u64, ValueQuery, ConstU64<100_800>>;

    /// Minimum blocks between two subnet registrations (0 = no limit).
    #[pallet::storage]
    pub type NetworkRateLimit<T> = StorageValue<_, u64, ValueQuery, ConstU64<0>>;

    /// Whether axons may announce loopback addresses (dev and local chains only).
    #[pallet::storage]
    pub type ServingAllowsLoopback<T> = StorageValue<_, bool, ValueQuery, ConstBool<false>>;

    /// Stake (rao) below which a hotkey counts as zero stake in the epoch and may not set weights;
    /// the subnet owner is exempt.
    #[pallet::storage]
    pub type StakeThreshold<T> = StorageValue<_, u64, ValueQuery, ConstU64<0>>;

    // ---------------------------------------------------------------------------------------
    // Hyperparameters (per subnet). See [`Hyperparameter`] for who may set each.
    // ---------------------------------------------------------------------------------------

    /// Blocks between two epochs of the subnet. Default 360.
    #[pallet::storage]
    pub type Tempo<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<360>>;

    /// The consensus quantile as a u16 proportion. Default 32767 (~0.5).
    #[pallet::storage]
    pub type Kappa<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<32767>>;

    /// Legacy `rho`, reported to clients; not used by the epoch. Default 10.
    #[pallet::storage]
    pub type Rho<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<10>>;

    /// Blocks after registration during which a neuron cannot be pruned. Default 4096.
    #[pallet::storage]
    pub type ImmunityPeriod<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<4096>>;

    /// Blocks after its last weight update after which a neuron counts as inactive. Default 5000.
    #[pallet::storage]
    pub type ActivityCutoff<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<5000>>;

    /// The largest number of UIDs the subnet holds. Default 256, settable up to 4096.
    #[pallet::storage]
    pub type MaxAllowedUids<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<256>>;

    /// The number of validator permits (top stake). Default 64.
    #[pallet::storage]
    pub type MaxAllowedValidators<T> =
        StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<64>>;

    /// The fewest weights a (non-self) weight vector must carry. Default 1.
    #[pallet::storage]
    pub type MinAllowedWeights<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<1>>;

    /// The largest normalised weight (u16 proportion of the row sum) one destination may get.
    /// Default 65535 (no limit).
    #[pallet::storage]
    pub type MaxWeightsLimit<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<65535>>;

    /// Minimum blocks between two weight updates of one neuron. Default 100.
    #[pallet::storage]
    pub type WeightsSetRateLimit<T> =
        StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<100>>;

    /// The smallest weights version key accepted (0 = any). Default 0.
    #[pallet::storage]
    pub type WeightsVersionKey<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<0>>;

    /// Bond EMA smoothing, per 1,000,000 (alpha = 1 - value / 1e6). Default 900,000.
    #[pallet::storage]
    pub type BondsMovingAverage<T> =
        StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<900_000>>;

    /// How far bonds follow clipped instead of raw weights, u16 proportion. Default 65535 (fully
    /// clipped).
    #[pallet::storage]
    pub type BondsPenalty<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<65535>>;

    /// Whether the subnet runs Yuma-3 (per-entry bond EMA) instead of classic Yuma.
    #[pallet::storage]
    pub type Yuma3On<T> = StorageMap<_, Identity, NetUid, bool, ValueQuery, ConstBool<false>>;

    /// Whether Yuma-3 uses liquid alpha (a per-entry sigmoid bond EMA rate).
    #[pallet::storage]
    pub type LiquidAlphaOn<T> = StorageMap<_, Identity, NetUid, bool, ValueQuery, ConstBool<false>>;

    /// The default liquid alpha bounds `(low, high)` as u16 proportions.
    #[pallet::type_value]
    pub fn DefaultAlphaValues() -> (u16, u16) {
        (45875, 58982)
    }

    /// Liquid alpha bounds `(low, high)` as u16 proportions. Default (45875, 58982).
    #[pallet::storage]
    pub type AlphaValues<T> =
        StorageMap<_, Identity, NetUid, (u16, u16), ValueQuery, DefaultAlphaValues>;

    /// Steepness of the liquid alpha sigmoid. Default 1000.
    #[pallet::storage]
    pub type AlphaSigmoidSteepness<T> =
        StorageMap<_, Identity, NetUid, i16, ValueQuery, frame_support::traits::ConstI16<1000>>;

    /// The current burn (rao) of a burned registration. Default 1 TAO.
    #[pallet::storage]
    pub type Burn<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<1_000_000_000>>;

    /// The lower bound of [`Burn`] (rao). Default 0.0005 TAO.
    #[pallet::storage]
    pub type MinBurn<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<500_000>>;

    /// The upper bound of [`Burn`] (rao). Default 100 TAO.
    #[pallet::storage]
    pub type MaxBurn<T> =
        StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<100_000_000_000>>;

    /// The current proof-of-work difficulty. Default 10,000,000.
    #[pallet::storage]
    pub type Difficulty<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<10_000_000>>;

    /// The lower bound of [`Difficulty`]. Default 1.
    #[pallet::storage]
    pub type MinDifficulty<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<1>>;

    /// The upper bound of [`Difficulty`]. Default `u64::MAX / 4`.
    #[pallet::storage]
    pub type MaxDifficulty<T> =
        StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<{ u64::MAX / 4 }>>;

    /// Registrations per adjustment interval that burn and difficulty retarget toward. Default 2.
    #[pallet::storage]
    pub type TargetRegistrationsPerInterval<T> =
        StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<2>>;

    /// Blocks between two retargets of burn and difficulty. Default 100.
    #[pallet::storage]
    pub type AdjustmentInterval<T> =
        StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<100>>;

    /// Retarget smoothing: the old value keeps `value / u64::MAX` of its weight. Default 0.
    #[pallet::storage]
    pub type AdjustmentAlpha<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<0>>;

    /// The most registrations the subnet takes in one block. Default 3.
    #[pallet::storage]
    pub type MaxRegistrationsPerBlock<T> =
        StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<3>>;

    /// Whether the subnet accepts registrations at all.
    #[pallet::storage]
    pub type NetworkRegistrationAllowed<T> =
        StorageMap<_, Identity, NetUid, bool, ValueQuery, ConstBool<true>>;

    /// Whether the subnet accepts proof-of-work registrations.
    #[pallet::storage]
    pub type NetworkPowRegistrationAllowed<T> =
        StorageMap<_, Identity, NetUid, bool, ValueQuery, ConstBool<true>>;

    /// Minimum blocks between two axon (or Prometheus) updates of one hotkey. Default 50.
    #[pallet::storage]
    pub type ServingRateLimit<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<50>>;

    /// Whether weights must go through commit-reveal on the subnet.
    #[pallet::storage]
    pub type CommitRevealWeightsEnabled<T> =
        StorageMap<_, Identity, NetUid, bool, ValueQuery, ConstBool<false>>;

    /// The number of epochs after its commit in which a weight commitment is revealed. Default 1.
    #[pallet::storage]
    pub type RevealPeriodEpochs<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery, ConstU64<1>>;

    /// The validators' scaling-law power (x100) that off-chain validators read. Default 50.
    #[pallet::storage]
    pub type ScalingLawPower<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery, ConstU16<50>>;

    // ---------------------------------------------------------------------------------------
    // Grid subnets (see [`subnets::grid`])
    // ---------------------------------------------------------------------------------------

    /// The grid spec of a grid subnet: the model every miner serves, its sampler version and
    /// request limits, with the block it was set at. Absent for an ordinary subnet.
    #[pallet::storage]
    pub type GridSpecs<T> = StorageMap<_, Identity, NetUid, GridSpecRecord, OptionQuery>;

    /// The block of the last [`Pallet::set_grid_spec`] on a subnet. Kept when the spec is
    /// cleared, so that clearing does not reset the rate limit.
    #[pallet::storage]
    pub type GridSpecLastSet<T> = StorageMap<_, Identity, NetUid, u64, OptionQuery>;

    /// Minimum blocks between two grid spec updates of one subnet by its owner (root is not
    /// limited). Default 100. Set by root ([`GlobalParameter::GridSpecRateLimit`]).
    #[pallet::storage]
    pub type GridSpecRateLimit<T> = StorageValue<_, u64, ValueQuery, ConstU64<100>>;

    // ---------------------------------------------------------------------------------------
    // Registration state
    // ---------------------------------------------------------------------------------------

    /// Registrations on the subnet in the current block.
    #[pallet::storage]
    pub type RegistrationsThisBlock<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery>;

    /// Registrations on the subnet in the current adjustment interval.
    #[pallet::storage]
    pub type RegistrationsThisInterval<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery>;

    /// Proof-of-work registrations in the current adjustment interval.
    #[pallet::storage]
    pub type PowRegistrationsThisInterval<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery>;

    /// Burned registrations in the current adjustment interval.
    #[pallet::storage]
    pub type BurnRegistrationsThisInterval<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery>;

    /// The block of the subnet's last burn and difficulty retarget.
    #[pallet::storage]
    pub type LastAdjustmentBlock<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery>;

    /// Proof-of-work seals already used, with the block they were used in.
    #[pallet::storage]
    pub type UsedWork<T> = StorageMap<_, Identity, H256, u64, OptionQuery>;

    // ---------------------------------------------------------------------------------------
    // Neurons
    // ---------------------------------------------------------------------------------------

    /// The number of UIDs on the subnet.
    #[pallet::storage]
    pub type SubnetworkN<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery>;

    /// The hotkey at `(netuid, uid)`.
    #[pallet::storage]
    pub type Keys<T: Config> =
        StorageDoubleMap<_, Identity, NetUid, Identity, u16, T::AccountId, OptionQuery>;

    /// The UID of a hotkey on a subnet.
    #[pallet::storage]
    pub type Uids<T: Config> =
        StorageDoubleMap<_, Identity, NetUid, Blake2_128Concat, T::AccountId, u16, OptionQuery>;

    /// Whether a hotkey is registered on a subnet.
    #[pallet::storage]
    pub type IsNetworkMember<T: Config> =
        StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Identity, NetUid, bool, ValueQuery>;

    /// The block at which the neuron at `(netuid, uid)` registered.
    #[pallet::storage]
    pub type BlockAtRegistration<T> =
        StorageDoubleMap<_, Identity, NetUid, Identity, u16, u64, ValueQuery>;

    /// The coldkey that owns a hotkey (set at its first registration, never moves).
    #[pallet::storage]
    pub type Owner<T: Config> =
        StorageMap<_, Blake2_128Concat, T::AccountId, T::AccountId, OptionQuery>;

    /// The axon a hotkey serves on a subnet.
    #[pallet::storage]
    pub type Axons<T: Config> = StorageDoubleMap<
        _,
        Identity,
        NetUid,
        Blake2_128Concat,
        T::AccountId,
        AxonInfo,
        OptionQuery,
    >;

    /// The Prometheus endpoint a hotkey serves on a subnet.
    #[pallet::storage]
    pub type Prometheus<T: Config> = StorageDoubleMap<
        _,
        Identity,
        NetUid,
        Blake2_128Concat,
        T::AccountId,
        PrometheusInfo,
        OptionQuery,
    >;

    /// The weight row of `(netuid, uid)`: `(destination uid, weight)` sorted by uid, max-upscaled
    /// so that the largest weight is 65535.
    #[pallet::storage]
    pub type Weights<T> =
        StorageDoubleMap<_, Identity, NetUid, Identity, u16, SparseRow, ValueQuery>;

    /// The bond row of `(netuid, uid)` as stored by the last epoch: `(miner uid, u16 bond)`.
    #[pallet::storage]
    pub type Bonds<T> = StorageDoubleMap<_, Identity, NetUid, Identity, u16, SparseRow, ValueQuery>;

    /// The number of weight entries stored for a subnet (the sum of its [`Weights`] rows'
    /// lengths), kept so that an epoch's cost is known before it runs.
    #[pallet::storage]
    pub type WeightEntries<T> = StorageMap<_, Identity, NetUid, u32, ValueQuery>;

    /// The number of bond entries stored for a subnet (the sum of its [`Bonds`] rows' lengths).
    #[pallet::storage]
    pub type BondEntries<T> = StorageMap<_, Identity, NetUid, u32, ValueQuery>;

    /// Subnets whose epoch came due but has not run yet, oldest first: an epoch waits here when
    /// the block's epoch budget is spent (see [`coinbase::run_coinbase`]).
    #[pallet::storage]
    pub type EpochQueue<T> = StorageValue<_, BoundedVec<NetUid, ConstU32<65536>>, ValueQuery>;

    /// Unrevealed weight commitments of a hotkey on a subnet, oldest first.
    #[pallet::storage]
    pub type WeightCommits<T: Config> = StorageDoubleMap<
        _,
        Identity,
        NetUid,
        Blake2_128Concat,
        T::AccountId,
        BoundedVec<WeightCommit, ConstU32<MAX_UNREVEALED_COMMITS>>,
        ValueQuery,
    >;

    /// Per-UID: the block of the neuron's last weight update.
    #[pallet::storage]
    pub type LastUpdate<T> = StorageMap<_, Identity, NetUid, UidVec<u64>, ValueQuery>;

    /// Per-UID: whether the neuron was active in the last epoch.
    #[pallet::storage]
    pub type Active<T> = StorageMap<_, Identity, NetUid, UidVec<bool>, ValueQuery>;

    /// Per-UID: legacy rank (equal to incentive), u16 proportion.
    #[pallet::storage]
    pub type Rank<T> = StorageMap<_, Identity, NetUid, UidVec<u16>, ValueQuery>;

    /// Per-UID: legacy trust (clipped over unclipped rank), u16 proportion.
    #[pallet::storage]
    pub type Trust<T> = StorageMap<_, Identity, NetUid, UidVec<u16>, ValueQuery>;

    /// Per-UID: consensus weight (stake-weighted median), u16 proportion.
    #[pallet::storage]
    pub type Consensus<T> = StorageMap<_, Identity, NetUid, UidVec<u16>, ValueQuery>;

    /// Per-UID: incentive (normalised clipped rank), u16 proportion.
    #[pallet::storage]
    pub type Incentive<T> = StorageMap<_, Identity, NetUid, UidVec<u16>, ValueQuery>;

    /// Per-UID: dividends, u16 proportion.
    #[pallet::storage]
    pub type Dividends<T> = StorageMap<_, Identity, NetUid, UidVec<u16>, ValueQuery>;

    /// Per-UID: validator trust (sum of clipped weights), u16 proportion.
    #[pallet::storage]
    pub type ValidatorTrust<T> = StorageMap<_, Identity, NetUid, UidVec<u16>, ValueQuery>;

    /// Per-UID: whether the neuron holds a validator permit (top stake at the last epoch).
    #[pallet::storage]
    pub type ValidatorPermit<T> = StorageMap<_, Identity, NetUid, UidVec<bool>, ValueQuery>;

    /// Per-UID: the rao the neuron earned in the last epoch.
    #[pallet::storage]
    pub type Emission<T> = StorageMap<_, Identity, NetUid, UidVec<u64>, ValueQuery>;

    /// Per-UID: pruning score (combined emission max-upscaled to u16); the lowest is replaced.
    #[pallet::storage]
    pub type PruningScores<T> = StorageMap<_, Identity, NetUid, UidVec<u16>, ValueQuery>;

    /// Per-UID: normalised stake weight in the last epoch, u16 proportion.
    #[pallet::storage]
    pub type StakeWeight<T> = StorageMap<_, Identity, NetUid, UidVec<u16>, ValueQuery>;

    /// The block of the subnet's last epoch.
    #[pallet::storage]
    pub type LastStepBlock<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery>;

    // ---------------------------------------------------------------------------------------
    // Stake
    // ---------------------------------------------------------------------------------------

    /// Stake (rao) of a coldkey on a hotkey.
    #[pallet::storage]
    pub type Stake<T: Config> = StorageDoubleMap<
        _,
        Blake2_128Concat,
        T::AccountId,
        Blake2_128Concat,
        T::AccountId,
        u64,
        ValueQuery,
    >;

    /// Total stake (rao) on a hotkey, over all its nominators.
    #[pallet::storage]
    pub type TotalHotkeyStake<T: Config> =
        StorageMap<_, Blake2_128Concat, T::AccountId, u64, ValueQuery>;

    /// Total stake (rao) a coldkey holds, over all hotkeys.
    #[pallet::storage]
    pub type TotalColdkeyStake<T: Config> =
        StorageMap<_, Blake2_128Concat, T::AccountId, u64, ValueQuery>;

    /// Total stake (rao) on the chain.
    #[pallet::storage]
    pub type TotalStake<T> = StorageValue<_, u64, ValueQuery>;

    /// A hotkey's delegate take: the u16 proportion of its dividends it keeps before sharing the
    /// rest with its nominators. Default 11796 (18%).
    #[pallet::storage]
    pub type Delegates<T: Config> =
        StorageMap<_, Blake2_128Concat, T::AccountId, u16, ValueQuery, ConstU16<11796>>;

    /// The largest delegate take, u16 proportion. Default 11796 (18%).
    #[pallet::storage]
    pub type MaxDelegateTake<T> = StorageValue<_, u16, ValueQuery, ConstU16<11796>>;

    // ---------------------------------------------------------------------------------------
    // Reference-chain views: what the reference chain's clients read (see [`compat`]), with the
    // reference's names, types and hashers.
    // ---------------------------------------------------------------------------------------

    /// The number of mechanisms of a subnet: 1 for every subnet (only mechanism 0 exists). An
    /// entry exists for every subnet, so that map queries list them all.
    #[pallet::storage]
    pub type MechanismCountCurrent<T> =
        StorageMap<_, Twox64Concat, NetUid, MechId, ValueQuery, frame_support::traits::ConstU8<1>>;

    /// `(block, EMA of the net TAO flow into the subnet in rao)`, the reference's input to its
    /// flow-based emission split: `(creation block, 0)` for every subnet, since classic emission
    /// does not follow stake flows. An entry exists for every subnet.
    #[pallet::storage]
    pub type SubnetEmaTaoFlow<T> =
        StorageMap<_, Identity, NetUid, (u64, substrate_fixed::types::I64F64), OptionQuery>;

    /// Blocks since the subnet's last epoch ([`LastStepBlock`]), as of the last block step (0 at
    /// creation). Written for every subnet by each block's step, after its epochs ran.
    #[pallet::storage]
    pub type BlocksSinceLastStep<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery>;

    /// The hotkeys a coldkey owns, in the order they got their owner: the inverse of [`Owner`].
    /// Unbounded, as on the reference chain: one entry per hotkey the coldkey ever registered.
    #[pallet::storage]
    #[pallet::unbounded]
    pub type OwnedHotkeys<T: Config> =
        StorageMap<_, Blake2_128Concat, T::AccountId, Vec<T::AccountId>, ValueQuery>;

    /// A coldkey's on-chain identity. This chain sets none: the map exists, empty, for clients
    /// that list it.
    #[pallet::storage]
    #[pallet::unbounded]
    pub type IdentitiesV2<T: Config> = StorageMap<
        _,
        Blake2_128Concat,
        T::AccountId,
        subtensor_primitives::ChainIdentityV2,
        OptionQuery,
    >;

    /// A coldkey's root-claim setting. This chain has no root network and sets none: the map
    /// exists, empty (every coldkey reads the default, `Swap`), for clients that list it.
    #[pallet::storage]
    #[pallet::unbounded]
    pub type RootClaimType<T: Config> =
        StorageMap<_, Blake2_128Concat, T::AccountId, RootClaimTypeEnum, ValueQuery>;

    // ---------------------------------------------------------------------------------------
    // Genesis
    // ---------------------------------------------------------------------------------------

    /// A subnet created at genesis.
    #[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
    pub struct GenesisSubnet<AccountId> {
        /// Its netuid (non-zero).
        pub netuid: u16,
        /// The owning coldkey.
        pub owner: AccountId,
        /// The owner's hotkey, registered as UID 0.
        pub owner_hotkey: AccountId,
        /// Its tempo, or the default when `None`.
        pub tempo: Option<u16>,
    }

    /// Genesis configuration.
    #[pallet::genesis_config]
    #[derive(frame_support::DefaultNoBound)]
    pub struct GenesisConfig<T: Config> {
        /// Subnets that exist from block 0 (created without a lock).
        pub subnets: Vec<GenesisSubnet<T::AccountId>>,
        /// Whether axons may announce loopback addresses (dev and local chains).
        pub serving_allows_loopback: bool,
        /// The floor of the subnet lock cost (rao); `None` keeps the default.
        pub network_min_lock_cost: Option<u64>,
    }

    #[pallet::genesis_build]
    impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
        fn build(&self) {
            ServingAllowsLoopback::<T>::put(self.serving_allows_loopback);
            if let Some(cost) = self.network_min_lock_cost {
                NetworkMinLockCost::<T>::put(cost);
                NetworkLastLockCost::<T>::put(cost);
            }
            for subnet in &self.subnets {
                let netuid = NetUid(subnet.netuid);
                assert!(netuid != NetUid::ROOT, "genesis subnet netuid must not be 0");
                assert!(!NetworksAdded::<T>::get(netuid), "genesis subnet {netuid} listed twice");
                Pallet::<T>::init_subnet(netuid, &subnet.owner, &subnet.owner_hotkey, 0, 0)
                    .expect("genesis subnets have distinct netuids and owner hotkeys; qed");
                if let Some(tempo) = subnet.tempo {
                    Tempo::<T>::insert(netuid, tempo);
                }
            }
            TotalIssuance::<T>::put(Pallet::<T>::total_issuance());
        }
    }

    // ---------------------------------------------------------------------------------------
    // Events and errors
    // ---------------------------------------------------------------------------------------

    /// Events of the pallet.
    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// A subnet was created.
        NetworkAdded {
            /// The new subnet.
            netuid: NetUid,
            /// Its owning coldkey.
            owner: T::AccountId,
            /// The rao locked.
            lock: u64,
        },
        /// A subnet was dissolved and its lock refunded.
        NetworkRemoved {
            /// The dissolved subnet.
            netuid: NetUid,
            /// The rao refunded to the owner.
            refund: u64,
        },
        /// A hotkey registered on a subnet.
        NeuronRegistered {
            /// The subnet.
            netuid: NetUid,
            /// Its UID.
            uid: u16,
            /// The hotkey.
            hotkey: T::AccountId,
        },
        /// A hotkey lost its UID to a new registration.
        NeuronDeregistered {
            /// The subnet.
            netuid: NetUid,
            /// The UID it held.
            uid: u16,
            /// The replaced hotkey.
            hotkey: T::AccountId,
        },
        /// A coldkey added stake to a hotkey.
        StakeAdded {
            /// The staking coldkey.
            coldkey: T::AccountId,
            /// The hotkey staked on.
            hotkey: T::AccountId,
            /// Rao added.
            amount: u64,
        },
        /// A coldkey removed stake from a hotkey.
        StakeRemoved {
            /// The unstaking coldkey.
            coldkey: T::AccountId,
            /// The hotkey unstaked from.
            hotkey: T::AccountId,
            /// Rao removed.
            amount: u64,
        },
        /// A hotkey changed its delegate take.
        DelegateTakeSet {
            /// The hotkey.
            hotkey: T::AccountId,
            /// The new take, u16 proportion.
            take: u16,
        },
        /// A neuron set its weights.
        WeightsSet {
            /// The subnet.
            netuid: NetUid,
            /// The neuron's UID.
            uid: u16,
        },
        /// A hotkey committed to weights.
        WeightsCommitted {
            /// The subnet.
            netuid: NetUid,
            /// The hotkey.
            hotkey: T::AccountId,
            /// The commitment.
            hash: H256,
        },
        /// A hotkey revealed committed weights.
        WeightsRevealed {
            /// The subnet.
            netuid: NetUid,
            /// The hotkey.
            hotkey: T::AccountId,
            /// The commitment it revealed.
            hash: H256,
        },
        /// A neuron published its axon.
        AxonServed {
            /// The subnet.
            netuid: NetUid,
            /// The hotkey.
            hotkey: T::AccountId,
        },
        /// A neuron published its Prometheus endpoint.
        PrometheusServed {
            /// The subnet.
            netuid: NetUid,
            /// The hotkey.
            hotkey: T::AccountId,
        },
        /// A subnet hyperparameter changed.
        HyperparameterSet {
            /// The subnet.
            netuid: NetUid,
            /// The parameter and its new value.
            value: Hyperparameter,
        },
        /// A chain-wide parameter changed.
        GlobalParameterSet {
            /// The parameter and its new value.
            value: GlobalParameter,
        },
        /// Registration retargeting moved a subnet's burn and difficulty.
        RegistrationTermsAdjusted {
            /// The subnet.
            netuid: NetUid,
            /// The new burn (rao).
            burn: u64,
            /// The new difficulty.
            difficulty: u64,
        },
        /// A subnet ran its epoch and paid out its pending emission.
        EpochCompleted {
            /// The subnet.
            netuid: NetUid,
            /// Rao paid to the subnet owner.
            owner_cut: u64,
            /// Rao paid to miners and validators (as stake).
            distributed: u64,
            /// Rao kept pending for the next epoch (rounding dust, or nobody to pay).
            carried: u64,
        },
        /// A subnet's grid spec was set (or replaced).
        GridSpecSet {
            /// The subnet.
            netuid: NetUid,
            /// The SHA-256 of the model its miners now serve.
            model_sha256: [u8; 32],
            /// The grid sampler version.
            sampler_version: u32,
        },
        /// A subnet's grid spec was removed: it is an ordinary subnet again.
        GridSpecCleared {
            /// The subnet.
            netuid: NetUid,
        },
    }

    /// Errors of the pallet.
    #[pallet::error]
    pub enum Error<T> {
        /// The subnet does not exist.
        SubnetNotExists,
        /// The operation is not allowed on the root netuid 0.
        RootNetUidNotAllowed,
        /// The subnet limit is reached.
        SubnetLimitReached,
        /// Subnets are registered faster than the network rate limit allows.
        NetworkTxRateLimitExceeded,
        /// The coldkey cannot pay the subnet lock cost.
        NotEnoughBalanceToLock,
        /// The signer is not the subnet owner.
        NotSubnetOwner,
        /// The hotkey is owned by another coldkey.
        NonAssociatedColdKey,
        /// The hotkey is already registered on this subnet.
        HotKeyAlreadyRegisteredInSubNet,
        /// The hotkey is not registered on this subnet.
        HotKeyNotRegisteredInSubNet,
        /// The hotkey has never registered anywhere.
        HotKeyAccountNotExists,
        /// The subnet does not accept registrations.
        SubNetRegistrationDisabled,
        /// The subnet does not accept proof-of-work registrations.
        PowRegistrationDisabled,
        /// The subnet already took its maximum registrations this block.
        TooManyRegistrationsThisBlock,
        /// The subnet already took three times its target registrations this interval.
        TooManyRegistrationsThisInterval,
        /// The coldkey cannot pay the registration burn.
        NotEnoughBalanceToBurn,
        /// The subnet is full and every UID is protected from pruning.
        NoNeuronToPrune,
        /// The proof-of-work block is in the future or more than 3 blocks old.
        InvalidWorkBlock,
        /// The work does not equal the seal of (block hash, hotkey, nonce).
        InvalidSeal,
        /// The seal does not meet the subnet difficulty.
        InvalidDifficulty,
        /// This seal was already used.
        WorkRepeated,
        /// Proof-of-work registrations must be signed by the hotkey or the coldkey.
        TransactorAccountShouldBeHotKey,
        /// The stake amount is zero.
        StakeAmountZero,
        /// The coldkey cannot pay the stake.
        NotEnoughBalanceToStake,
        /// The coldkey holds less stake on the hotkey than it tries to remove.
        NotEnoughStakeToWithdraw,
        /// Returning the stake would create an account below the existential deposit.
        AmountBelowExistentialDeposit,
        /// The take is above the maximum, or the call does not move it in its direction.
        InvalidTake,
        /// The uid and value vectors differ in length.
        WeightVecNotEqualSize,
        /// More weights than UIDs on the subnet.
        UidsLengthExceedUidsInSubNet,
        /// The hotkey's stake is below the stake threshold.
        NotEnoughStakeToSetWeights,
        /// The version key is below the subnet's weights version key.
        IncorrectWeightVersionKey,
        /// Weights were set again before the rate limit passed.
        SettingWeightsTooFast,
        /// Only validator-permit holders may set weights on others.
        NeuronNoValidatorPermit,
        /// The uid vector contains duplicates.
        DuplicateUids,
        /// The uid vector contains a UID that does not exist.
        UidVecContainInvalidOne,
        /// Fewer weights than the subnet's minimum.
        WeightVecLengthIsLow,
        /// A normalised weight exceeds the subnet's max weight limit.
        MaxWeightExceeded,
        /// The subnet requires commit-reveal; use `commit_weights`.
        CommitRevealEnabled,
        /// The subnet does not use commit-reveal.
        CommitRevealDisabled,
        /// The hotkey holds too many unrevealed commitments.
        TooManyUnrevealedCommits,
        /// No commitment matches the revealed weights.
        InvalidRevealCommitHashNotMatch,
        /// The commitment's reveal epoch has not come yet.
        RevealTooEarly,
        /// The commitment's reveal epoch has passed.
        ExpiredWeightCommit,
        /// The IP type is neither 4 nor 6.
        InvalidIpType,
        /// The IP address is not allowed (loopback, unspecified or broadcast).
        InvalidIpAddress,
        /// The port is 0.
        InvalidPort,
        /// The endpoint was updated before the serving rate limit passed.
        ServingRateLimitExceeded,
        /// The hyperparameter value is out of its range.
        InvalidHyperparameterValue,
        /// Arithmetic overflowed.
        ArithmeticOverflow,
        /// The subnet has no such mechanism: every subnet here has only mechanism 0.
        MechanismDoesNotExist,
        /// The limit price does not allow the trade: alpha is always priced at 1 TAO, so a stake
        /// limit must be at least 1e9 rao and an unstake limit at most 1e9 rao.
        SlippageTooHigh,
        /// The grid spec's model SHA-256 is all zeros (not filled in).
        GridModelDigestZero,
        /// The grid spec's sampler version is not one the chain supports.
        GridSamplerVersionUnsupported,
        /// The grid spec's max new tokens is 0.
        GridMaxNewTokensZero,
        /// The grid spec's max context does not exceed its max new tokens.
        GridContextTooShort,
        /// The grid spec's max context exceeds 1,048,576 tokens.
        GridContextTooLong,
        /// The grid spec's model name is not UTF-8.
        GridModelNameNotUtf8,
        /// The subnet's grid spec was set less than the grid spec rate limit ago.
        GridSpecRateLimitExceeded,
        /// The subnet has no grid spec.
        GridSpecNotSet,
    }

    // ---------------------------------------------------------------------------------------
    // Hooks
    // ---------------------------------------------------------------------------------------

    #[pallet::hooks]
    impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
        fn on_initialize(_n: BlockNumberFor<T>) -> Weight {
            Self::block_step()
        }

        fn integrity_test() {
            assert!(MAX_UIDS_LIMIT as u32 == <MaxUids as Get<u32>>::get());
        }

        #[cfg(feature = "try-runtime")]
        fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
            Self::do_try_state()
        }
    }

    // ---------------------------------------------------------------------------------------
    // Calls
    // ---------------------------------------------------------------------------------------

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Set the signing hotkey's weights on a subnet.
        ///
        /// Origin: the hotkey. `dests` are UIDs, `weights` their relative weights (any scale; the
        /// row is stored max-upscaled so its largest entry is 65535). `version_key` must be at
        /// least the subnet's [`WeightsVersionKey`] unless that is 0.
        ///
        /// Errors: [`Error::WeightVecNotEqualSize`], [`Error::SubnetNotExists`],
        /// [`Error::UidsLengthExceedUidsInSubNet`], [`Error::HotKeyNotRegisteredInSubNet`],
        /// [`Error::NotEnoughStakeToSetWeights`], [`Error::IncorrectWeightVersionKey`],
        /// [`Error::CommitRevealEnabled`], [`Error::SettingWeightsTooFast`],
        /// [`Error::NeuronNoValidatorPermit`], [`Error::DuplicateUids`],
        /// [`Error::UidVecContainInvalidOne`], [`Error::WeightVecLengthIsLow`],
        /// [`Error::MaxWeightExceeded`]. Event: [`Event::WeightsSet`]. Free of fees.
        #[pallet::call_index(0)]
        #[pallet::weight((T::WeightInfo::set_weights(dests.len() as u32), DispatchClass::Normal, Pays::No))]
        pub fn set_weights(
            origin: OriginFor<T>,
            netuid: NetUid,
            dests: Vec<u16>,
            weights: Vec<u16>,
            version_key: u64,
        ) -> DispatchResult {
            let hotkey = ensure_signed(origin)?;
            Self::do_set_weights(&hotkey, netuid, dests, weights, version_key)
        }

        /// Stake `amount_staked` rao of the signing coldkey's free balance on `hotkey`.
        ///
        /// Origin: the coldkey. The hotkey must have registered at least once.
        ///
        /// Errors: [`Error::StakeAmountZero`], [`Error::HotKeyAccountNotExists`],
        /// [`Error::NotEnoughBalanceToStake`]. Event: [`Event::StakeAdded`].
        #[pallet::call_index(2)]
        #[pallet::weight(T::WeightInfo::add_stake())]
        pub fn add_stake(
            origin: OriginFor<T>,
            hotkey: T::AccountId,
            amount_staked: u64,
        ) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            Self::do_add_stake(&coldkey, &hotkey, amount_staked)
        }

        /// Return `amount_unstaked` rao of the signing coldkey's stake on `hotkey` to its free
        /// balance.
        ///
        /// Origin: the coldkey.
        ///
        /// Errors: [`Error::StakeAmountZero`], [`Error::NotEnoughStakeToWithdraw`],
        /// [`Error::AmountBelowExistentialDeposit`]. Event: [`Event::StakeRemoved`].
        #[pallet::call_index(3)]
        #[pallet::weight(T::WeightInfo::remove_stake())]
        pub fn remove_stake(
            origin: OriginFor<T>,
            hotkey: T::AccountId,
            amount_unstaked: u64,
        ) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            Self::do_remove_stake(&coldkey, &hotkey, amount_unstaked)
        }

        /// Publish the signing hotkey's axon on a subnet.
        ///
        /// Origin: the hotkey, registered on `netuid`. `ip` is the address as u128 (IPv4 in the
        /// low 32 bits), `ip_type` 4 or 6, `port` non-zero. Loopback and unspecified addresses are
        /// refused unless [`ServingAllowsLoopback`] is set (dev chains).
        ///
        /// Errors: [`Error::HotKeyNotRegisteredInSubNet`], [`Error::InvalidIpType`],
        /// [`Error::InvalidIpAddress`], [`Error::InvalidPort`],
        /// [`Error::ServingRateLimitExceeded`]. Event: [`Event::AxonServed`]. Free of fees.
        #[pallet::call_index(4)]
        #[pallet::weight((T::WeightInfo::serve_axon(), DispatchClass::Normal, Pays::No))]
        pub fn serve_axon(
            origin: OriginFor<T>,
            netuid: NetUid,
            version: u32,
            ip: u128,
            port: u16,
            ip_type: u8,
            protocol: u8,
            placeholder1: u8,
            placeholder2: u8,
        ) -> DispatchResult {
            let hotkey = ensure_signed(origin)?;
            let axon = AxonInfo {
                block: 0,
                version,
                ip,
                port,
                ip_type,
                protocol,
                placeholder1,
                placeholder2,
            };
            Self::do_serve_axon(&hotkey, netuid, axon)
        }

        /// Publish the signing hotkey's Prometheus endpoint on a subnet.
        ///
        /// Origin: the hotkey. Same checks and rate limit as [`Pallet::serve_axon`].
        /// Event: [`Event::PrometheusServed`]. Free of fees.
        #[pallet::call_index(5)]
        #[pallet::weight((T::WeightInfo::serve_prometheus(), DispatchClass::Normal, Pays::No))]
        pub fn serve_prometheus(
            origin: OriginFor<T>,
            netuid: NetUid,
            version: u32,
            ip: u128,
            port: u16,
            ip_type: u8,
        ) -> DispatchResult {
            let hotkey = ensure_signed(origin)?;
            Self::do_serve_prometheus(
                &hotkey,
                netuid,
                PrometheusInfo { block: 0, version, ip, port, ip_type },
            )
        }

        /// Register `hotkey` on a subnet by proof of work.
        ///
        /// Origin: the hotkey itself or `coldkey` (the Python SDK signs with the coldkey, as the
        /// reference chain accepts). `work` must be the seal
        /// `keccak256(sha256(nonce_le ‖ keccak256(block_hash ‖ hotkey)))` of a block at most 3
        /// blocks old, meeting the subnet's [`Difficulty`]. The hotkey becomes owned by
        /// `coldkey` if it has no owner yet.
        ///
        /// The seal binds the hotkey, not the coldkey: a pending coldkey-signed registration of
        /// an unowned hotkey can be copied by anyone with their own coldkey, who would then own
        /// the hotkey. Register a hotkey that must not change hands while unowned by signing
        /// with the hotkey, or use [`Pallet::burned_register`].
        ///
        /// Errors: [`Error::TransactorAccountShouldBeHotKey`], [`Error::SubnetNotExists`],
        /// [`Error::SubNetRegistrationDisabled`], [`Error::PowRegistrationDisabled`],
        /// [`Error::TooManyRegistrationsThisBlock`], [`Error::TooManyRegistrationsThisInterval`],
        /// [`Error::HotKeyAlreadyRegisteredInSubNet`], [`Error::InvalidWorkBlock`],
        /// [`Error::InvalidSeal`], [`Error::InvalidDifficulty`], [`Error::WorkRepeated`],
        /// [`Error::NonAssociatedColdKey`], [`Error::NoNeuronToPrune`].
        /// Events: [`Event::NeuronRegistered`] (and [`Event::NeuronDeregistered`] on
        /// replacement). Free of fees: the work is the price.
        #[pallet::call_index(6)]
        #[pallet::weight((T::WeightInfo::register(), DispatchClass::Normal, Pays::No))]
        pub fn register(
            origin: OriginFor<T>,
            netuid: NetUid,
            block_number: u64,
            nonce: u64,
            work: Vec<u8>,
            hotkey: T::AccountId,
            coldkey: T::AccountId,
        ) -> DispatchResult {
            let signer = ensure_signed(origin)?;
            ensure!(
                signer == hotkey || signer == coldkey,
                Error::<T>::TransactorAccountShouldBeHotKey
            );
            Self::do_pow_register(netuid, block_number, nonce, &work, &hotkey, &coldkey)
        }

        /// Register `hotkey` on a subnet by burning the subnet's current [`Burn`].
        ///
        /// Origin: the coldkey that pays and owns (or will own) the hotkey.
        ///
        /// Errors: [`Error::SubnetNotExists`], [`Error::SubNetRegistrationDisabled`],
        /// [`Error::TooManyRegistrationsThisBlock`], [`Error::TooManyRegistrationsThisInterval`],
        /// [`Error::HotKeyAlreadyRegisteredInSubNet`], [`Error::NonAssociatedColdKey`],
        /// [`Error::NotEnoughBalanceToBurn`], [`Error::NoNeuronToPrune`].
        /// Events: [`Event::NeuronRegistered`] (and [`Event::NeuronDeregistered`]).
        #[pallet::call_index(7)]
        #[pallet::weight(T::WeightInfo::burned_register())]
        pub fn burned_register(
            origin: OriginFor<T>,
            netuid: NetUid,
            hotkey: T::AccountId,
        ) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            Self::do_burned_register(netuid, &coldkey, &hotkey)
        }

        /// Create a subnet owned by the signing coldkey, locking the current lock cost
        /// ([`Pallet::network_lock_cost`]); `hotkey` becomes its UID 0.
        ///
        /// Errors: [`Error::SubnetLimitReached`], [`Error::NetworkTxRateLimitExceeded`],
        /// [`Error::NonAssociatedColdKey`], [`Error::NotEnoughBalanceToLock`].
        /// Events: [`Event::NetworkAdded`], [`Event::NeuronRegistered`].
        #[pallet::call_index(59)]
        #[pallet::weight(T::WeightInfo::register_network())]
        pub fn register_network(origin: OriginFor<T>, hotkey: T::AccountId) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            Self::do_register_network(&coldkey, &hotkey)
        }

        /// Dissolve a subnet: remove its neurons, weights and parameters, burn its pending
        /// emission and refund the lock to the owner. Stake is untouched (it is global).
        ///
        /// Origin: root or the subnet owner.
        ///
        /// Weight: declared for a subnet of [`MAX_UIDS_LIMIT`] UIDs; the actual weight, by the
        /// subnet's UID count, is returned (and the fee refunded accordingly).
        ///
        /// Errors: [`Error::SubnetNotExists`], [`Error::NotSubnetOwner`].
        /// Event: [`Event::NetworkRemoved`].
        #[pallet::call_index(61)]
        #[pallet::weight(T::WeightInfo::dissolve_network(u32::from(MAX_UIDS_LIMIT)))]
        pub fn dissolve_network(
            origin: OriginFor<T>,
            netuid: NetUid,
        ) -> DispatchResultWithPostInfo {
            let who = ensure_signed_or_root(origin)?;
            let uids = SubnetworkN::<T>::get(netuid);
            Self::do_dissolve_network(who.as_ref(), netuid)?;
            Ok(Some(T::WeightInfo::dissolve_network(u32::from(uids))).into())
        }

        /// Lower the signing coldkey's hotkey's delegate take.
        ///
        /// Origin: the coldkey owning `hotkey`. `take` is a u16 proportion below the current one.
        ///
        /// Errors: [`Error::HotKeyAccountNotExists`], [`Error::NonAssociatedColdKey`],
        /// [`Error::InvalidTake`]. Event: [`Event::DelegateTakeSet`].
        #[pallet::call_index(65)]
        #[pallet::weight(T::WeightInfo::decrease_take())]
        pub fn decrease_take(
            origin: OriginFor<T>,
            hotkey: T::AccountId,
            take: u16,
        ) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            Self::do_set_take(&coldkey, &hotkey, take, false)
        }

        /// Raise the signing coldkey's hotkey's delegate take, up to [`MaxDelegateTake`].
        ///
        /// Origin: the coldkey owning `hotkey`.
        ///
        /// Errors: [`Error::HotKeyAccountNotExists`], [`Error::NonAssociatedColdKey`],
        /// [`Error::InvalidTake`]. Event: [`Event::DelegateTakeSet`].
        #[pallet::call_index(66)]
        #[pallet::weight(T::WeightInfo::increase_take())]
        pub fn increase_take(
            origin: OriginFor<T>,
            hotkey: T::AccountId,
            take: u16,
        ) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            Self::do_set_take(&coldkey, &hotkey, take, true)
        }

        /// Set one hyperparameter of a subnet.
        ///
        /// Origin: root for root-only parameters ([`Hyperparameter::root_only`]), otherwise root
        /// or the subnet owner.
        ///
        /// Errors: [`Error::SubnetNotExists`], [`Error::NotSubnetOwner`],
        /// [`Error::InvalidHyperparameterValue`]. Event: [`Event::HyperparameterSet`].
        #[pallet::call_index(70)]
        #[pallet::weight(T::WeightInfo::set_hyperparameter())]
        pub fn set_hyperparameter(
            origin: OriginFor<T>,
            netuid: NetUid,
            value: Hyperparameter,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::do_set_hyperparameter(who.as_ref(), netuid, value)
        }

        /// Set one chain-wide parameter.
        ///
        /// Origin: root.
        ///
        /// Errors: [`Error::InvalidHyperparameterValue`]. Event: [`Event::GlobalParameterSet`].
        #[pallet::call_index(71)]
        #[pallet::weight(T::WeightInfo::set_global_parameter())]
        pub fn set_global_parameter(
            origin: OriginFor<T>,
            value: GlobalParameter,
        ) -> DispatchResult {
            ensure_root(origin)?;
            Self::do_set_global_parameter(value)
        }

        /// Commit to weights on a subnet with commit-reveal enabled.
        ///
        /// Origin: the hotkey, registered on `netuid`. `commit_hash` is
        /// `BlakeTwo256(SCALE(hotkey, netuid, uids, values, salt, version_key))`; it must be
        /// revealed in the epoch [`RevealPeriodEpochs`] after the current one.
        ///
        /// Errors: [`Error::SubnetNotExists`], [`Error::CommitRevealDisabled`],
        /// [`Error::HotKeyNotRegisteredInSubNet`], [`Error::TooManyUnrevealedCommits`].
        /// Event: [`Event::WeightsCommitted`]. Free of fees.
        #[pallet::call_index(96)]
        #[pallet::weight((T::WeightInfo::commit_weights(), DispatchClass::Normal, Pays::No))]
        pub fn commit_weights(
            origin: OriginFor<T>,
            netuid: NetUid,
            commit_hash: H256,
        ) -> DispatchResult {
            let hotkey = ensure_signed(origin)?;
            Self::do_commit_weights(&hotkey, netuid, commit_hash)
        }

        /// Reveal committed weights; they are then checked and stored as by
        /// [`Pallet::set_weights`] (without its rate limit).
        ///
        /// Origin: the committing hotkey.
        ///
        /// Errors: [`Error::CommitRevealDisabled`], [`Error::InvalidRevealCommitHashNotMatch`],
        /// [`Error::RevealTooEarly`], [`Error::ExpiredWeightCommit`], and the errors of
        /// `set_weights`. Events: [`Event::WeightsRevealed`], [`Event::WeightsSet`]. Free of fees.
        #[pallet::call_index(97)]
        #[pallet::weight((T::WeightInfo::reveal_weights(uids.len() as u32), DispatchClass::Normal, Pays::No))]
        pub fn reveal_weights(
            origin: OriginFor<T>,
            netuid: NetUid,
            uids: Vec<u16>,
            values: Vec<u16>,
            salt: Vec<u16>,
            version_key: u64,
        ) -> DispatchResult {
            let hotkey = ensure_signed(origin)?;
            Self::do_reveal_weights(&hotkey, netuid, uids, values, salt, version_key)
        }

        /// Stake `amount_staked` rao of the signing coldkey's free balance on `hotkey`, if the
        /// price of `netuid`'s alpha does not exceed `limit_price` (rao per alpha).
        ///
        /// Origin: the coldkey. Alpha is always priced at 1 TAO (1e9 rao) here and stake is
        /// classic, so the whole amount is staked, as by [`Pallet::add_stake`], when
        /// `limit_price >= 1e9`, and nothing otherwise; `allow_partial` changes nothing, since a
        /// constant price fills all or nothing. `netuid` must exist (the stake itself is not
        /// bound to it).
        ///
        /// Errors: [`Error::SubnetNotExists`], [`Error::SlippageTooHigh`], and the errors of
        /// `add_stake`. Event: [`Event::StakeAdded`].
        #[pallet::call_index(88)]
        #[pallet::weight(T::WeightInfo::add_stake().saturating_add(T::DbWeight::get().reads(1)))]
        pub fn add_stake_limit(
            origin: OriginFor<T>,
            hotkey: T::AccountId,
            netuid: NetUid,
            amount_staked: u64,
            limit_price: u64,
            allow_partial: bool,
        ) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            Self::do_add_stake_limit(
                &coldkey,
                &hotkey,
                netuid,
                amount_staked,
                limit_price,
                allow_partial,
            )
        }

        /// Return `amount_unstaked` rao of the signing coldkey's stake on `hotkey` to its free
        /// balance, if the price of `netuid`'s alpha is at least `limit_price` (rao per alpha).
        ///
        /// Origin: the coldkey. The price is always 1e9 rao: the whole amount is unstaked, as by
        /// [`Pallet::remove_stake`], when `limit_price <= 1e9`, and nothing otherwise;
        /// `allow_partial` changes nothing. `netuid` must exist.
        ///
        /// Errors: [`Error::SubnetNotExists`], [`Error::SlippageTooHigh`], and the errors of
        /// `remove_stake`. Event: [`Event::StakeRemoved`].
        #[pallet::call_index(89)]
        #[pallet::weight(T::WeightInfo::remove_stake().saturating_add(T::DbWeight::get().reads(1)))]
        pub fn remove_stake_limit(
            origin: OriginFor<T>,
            hotkey: T::AccountId,
            netuid: NetUid,
            amount_unstaked: u64,
            limit_price: u64,
            allow_partial: bool,
        ) -> DispatchResult {
            let coldkey = ensure_signed(origin)?;
            Self::do_remove_stake_limit(
                &coldkey,
                &hotkey,
                netuid,
                amount_unstaked,
                limit_price,
                allow_partial,
            )
        }

        /// [`Pallet::commit_weights`] on mechanism `mecid` of a subnet (the reference's
        /// mechanism-era call, which the Python SDK sends).
        ///
        /// Origin: the hotkey. `mecid` must be 0, the only mechanism a subnet has here; the
        /// commitment is then exactly that of `commit_weights` (the reference hashes netuid
        /// `mecid * 4096 + netuid`, which is `netuid` for mechanism 0).
        ///
        /// Errors: [`Error::MechanismDoesNotExist`], and the errors of `commit_weights`.
        /// Event: [`Event::WeightsCommitted`]. Free of fees.
        #[pallet::call_index(115)]
        #[pallet::weight((T::WeightInfo::commit_weights(), DispatchClass::Normal, Pays::No))]
        pub fn commit_mechanism_weights(
            origin: OriginFor<T>,
            netuid: NetUid,
            mecid: MechId,
            commit_hash: H256,
        ) -> DispatchResult {
            let hotkey = ensure_signed(origin)?;
            Self::ensure_main_mechanism(mecid)?;
            Self::do_commit_weights(&hotkey, netuid, commit_hash)
        }

        /// [`Pallet::reveal_weights`] on mechanism `mecid` of a subnet.
        ///
        /// Origin: the committing hotkey. `mecid` must be 0.
        ///
        /// Errors: [`Error::MechanismDoesNotExist`], and the errors of `reveal_weights`.
        /// Events: [`Event::WeightsRevealed`], [`Event::WeightsSet`]. Free of fees.
        #[pallet::call_index(116)]
        #[pallet::weight((T::WeightInfo::reveal_weights(uids.len() as u32), DispatchClass::Normal, Pays::No))]
        pub fn reveal_mechanism_weights(
            origin: OriginFor<T>,
            netuid: NetUid,
            mecid: MechId,
            uids: Vec<u16>,
            values: Vec<u16>,
            salt: Vec<u16>,
            version_key: u64,
        ) -> DispatchResult {
            let hotkey = ensure_signed(origin)?;
            Self::ensure_main_mechanism(mecid)?;
            Self::do_reveal_weights(&hotkey, netuid, uids, values, salt, version_key)
        }

        /// [`Pallet::set_weights`] on mechanism `mecid` of a subnet (what the Python SDK 10 sends
        /// for `set_weights`).
        ///
        /// Origin: the hotkey. `mecid` must be 0; the weights are then set exactly as by
        /// `set_weights`.
        ///
        /// Errors: [`Error::MechanismDoesNotExist`], and the errors of `set_weights`.
        /// Event: [`Event::WeightsSet`]. Free of fees.
        #[pallet::call_index(119)]
        #[pallet::weight((T::WeightInfo::set_weights(dests.len() as u32), DispatchClass::Normal, Pays::No))]
        pub fn set_mechanism_weights(
            origin: OriginFor<T>,
            netuid: NetUid,
            mecid: MechId,
            dests: Vec<u16>,
            weights: Vec<u16>,
            version_key: u64,
        ) -> DispatchResult {
            let hotkey = ensure_signed(origin)?;
            Self::ensure_main_mechanism(mecid)?;
            Self::do_set_weights(&hotkey, netuid, dests, weights, version_key)
        }

        /// Make `netuid` a grid subnet, or replace its grid spec: every miner serves the model
        /// `spec` names, with its sampler version and limits (see [`subnets::grid`]).
        ///
        /// Origin: the subnet owner (at most once per [`GridSpecRateLimit`] blocks), or root
        /// (not rate limited). `spec` must pass [`GridSpec::validate`].
        ///
        /// Errors: [`Error::SubnetNotExists`], [`Error::NotSubnetOwner`],
        /// [`Error::GridModelDigestZero`], [`Error::GridSamplerVersionUnsupported`],
        /// [`Error::GridMaxNewTokensZero`], [`Error::GridContextTooShort`],
        /// [`Error::GridContextTooLong`], [`Error::GridModelNameNotUtf8`],
        /// [`Error::GridSpecRateLimitExceeded`]. Event: [`Event::GridSpecSet`].
        #[pallet::call_index(200)]
        #[pallet::weight(T::WeightInfo::set_grid_spec())]
        pub fn set_grid_spec(
            origin: OriginFor<T>,
            netuid: NetUid,
            spec: GridSpec,
        ) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::do_set_grid_spec(who.as_ref(), netuid, spec)
        }

        /// Remove the grid spec of `netuid`: it is an ordinary subnet again. Not rate limited
        /// (a spec can only be cleared once per set), and it does not reset the rate limit of
        /// [`Pallet::set_grid_spec`].
        ///
        /// Origin: the subnet owner, or root.
        ///
        /// Errors: [`Error::SubnetNotExists`], [`Error::NotSubnetOwner`],
        /// [`Error::GridSpecNotSet`]. Event: [`Event::GridSpecCleared`].
        #[pallet::call_index(201)]
        #[pallet::weight(T::WeightInfo::clear_grid_spec())]
        pub fn clear_grid_spec(origin: OriginFor<T>, netuid: NetUid) -> DispatchResult {
            let who = ensure_signed_or_root(origin)?;
            Self::do_clear_grid_spec(who.as_ref(), netuid)
        }
    }
}
