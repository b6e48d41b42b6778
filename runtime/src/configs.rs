//! Parameters of every pallet in the runtime.

use crate::*;
use frame_support::{
    derive_impl,
    dispatch::DispatchClass,
    parameter_types,
    traits::{ConstU32, ConstU64, ConstU8},
    weights::{
        constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
        IdentityFee, Weight,
    },
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_runtime::{traits::One, Perbill};

/// Normal transactions may fill 75% of a block; the rest is kept for operational ones.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// The least balance an account must hold to exist (rao).
pub const EXISTENTIAL_DEPOSIT: Balance = 500;

parameter_types! {
    /// The runtime version, for `CheckSpecVersion` and `CheckTxVersion`.
    pub const Version: RuntimeVersion = VERSION;
    /// 4 s of execution per block (as the reference chain), 75% for normal transactions.
    pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
        Weight::from_parts(4u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
        NORMAL_DISPATCH_RATIO,
    );
    /// 10 MiB blocks, 75% for normal transactions.
    pub RuntimeBlockLength: BlockLength =
        BlockLength::builder()
            .max_length(10 * 1024 * 1024)
            .modify_max_length_for_class(DispatchClass::Normal, |max| {
                *max = NORMAL_DISPATCH_RATIO * *max
            })
            .build();
    /// The fee multiplier (constant: no congestion pricing).
    pub FeeMultiplier: Multiplier = Multiplier::one();
}

/// The slot duration (milliseconds) that Aura's `SlotDuration` constant (in the metadata) and
/// `AuraApi_slot_duration` report: [`MILLISECS_PER_BLOCK`], mainnet's 12 s.
///
/// It is informational only, and a constant (not storage-backed) so that the metadata is the
/// same on every chain and needs no state. The node's configured slot duration governs: the
/// chain spec's `slotDurationMs` (1 s on `dev`), or `--sealing MS` on dev and local chains, which
/// changes slots without changing the genesis. The node itself checks that a block's timestamp
/// lies in the slot of its Aura pre-runtime digest and that slots increase; the runtime does not
/// tie the timestamp to the slot (Timestamp's `OnTimestampSet` is `()`, not Aura).
pub type AuraSlotDuration = ConstU64<MILLISECS_PER_BLOCK>;

/// The most authorities Aura and GRANDPA hold.
pub const MAX_AUTHORITIES: u32 = 32;

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
    type Block = Block;
    type BlockWeights = RuntimeBlockWeights;
    type BlockLength = RuntimeBlockLength;
    type AccountId = AccountId;
    type Nonce = Nonce;
    type Hash = Hash;
    type Lookup = sp_runtime::traits::AccountIdLookup<AccountId, ()>;
    type BlockHashCount = ConstU32<4096>;
    /// The node stores state in ParityDB, so reads and writes are priced with FRAME's ParityDB
    /// figures (8 µs a read, 50 µs a write) rather than RocksDB's (25 µs, 100 µs).
    type DbWeight = ParityDbWeight;
    type Version = Version;
    type AccountData = pallet_balances::AccountData<Balance>;
    type SS58Prefix = ConstU16Prefix;
    type MaxConsumers = ConstU32<16>;
}

/// The SS58 prefix as the `Get<u16>` frame-system wants.
pub type ConstU16Prefix = frame_support::traits::ConstU16<{ subtensor_primitives::SS58_PREFIX }>;

impl pallet_timestamp::Config for Runtime {
    type Moment = u64;
    type OnTimestampSet = ();
    /// Blocks may be sealed as fast as the node likes (instant sealing on dev chains); the node
    /// keeps timestamps strictly increasing.
    type MinimumPeriod = ConstU64<1>;
    type WeightInfo = ();
}

impl pallet_aura::Config for Runtime {
    type AuthorityId = AuraId;
    type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
    type DisabledValidators = ();
    /// One block per slot. `on_initialize` asserts that the slot of the Aura pre-runtime digest
    /// exceeds `CurrentSlot` (the parent's slot); the node refuses, before executing, a block
    /// whose slot does not exceed its parent's.
    type AllowMultipleBlocksPerSlot = frame_support::traits::ConstBool<false>;
    /// Reported by the metadata and `AuraApi_slot_duration` only; see [`AuraSlotDuration`].
    type SlotDuration = AuraSlotDuration;
}

impl pallet_grandpa::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type WeightInfo = ();
    type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
    type MaxNominators = ConstU32<0>;
    type MaxSetIdSessionEntries = ConstU64<0>;
    /// No sessions: equivocation reports cannot be built or decoded.
    type KeyOwnerProof = sp_core::Void;
    type EquivocationReportSystem = ();
}

impl pallet_balances::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type RuntimeHoldReason = RuntimeHoldReason;
    type RuntimeFreezeReason = RuntimeFreezeReason;
    type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
    type Balance = Balance;
    type DustRemoval = ();
    type ExistentialDeposit = ConstU64<EXISTENTIAL_DEPOSIT>;
    type AccountStore = System;
    type ReserveIdentifier = [u8; 8];
    type FreezeIdentifier = RuntimeFreezeReason;
    type MaxLocks = ConstU32<50>;
    type MaxReserves = ConstU32<50>;
    type MaxFreezes = ConstU32<0>;
    type DoneSlashHandler = ();
}

impl pallet_transaction_payment::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    /// Fees are burned.
    type OnChargeTransaction = FungibleAdapter<Balances, ()>;
    /// One rao per nanosecond of execution (a 1 ms call costs 0.001 TAO).
    type WeightToFee = WeightToFee;
    type LengthToFee = IdentityFee<Balance>;
    type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
    type OperationalFeeMultiplier = ConstU8<5>;
    type WeightInfo = ();
}

impl pallet_utility::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type RuntimeCall = RuntimeCall;
    type PalletsOrigin = OriginCaller;
    type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type RuntimeCall = RuntimeCall;
    type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

impl pallet_subtensor::Config for Runtime {
    type Currency = Balances;
    type WeightInfo = pallet_subtensor::weights::SubstrateWeight<Runtime>;
    /// The `Swap` shim prices every subnet's alpha at 1.0 from creation to dissolution.
    type SubnetLifecycle = Swap;
}

/// The reference's `sudo_set_*` calls, forwarding to the subtensor pallet's parameter setters.
impl pallet_admin_utils::Config for Runtime {}

/// The reference's `Swap.AlphaSqrtPrice`, kept at 1.0 for every subnet.
impl pallet_subtensor_swap::Config for Runtime {}

/// Fee of a weight: one rao per 1,000 units of ref-time (one rao per nanosecond).
pub struct WeightToFee;

impl frame_support::weights::WeightToFeePolynomial for WeightToFee {
    type Balance = Balance;
    fn polynomial() -> frame_support::weights::WeightToFeeCoefficients<Balance> {
        smallvec::smallvec![frame_support::weights::WeightToFeeCoefficient {
            coeff_integer: 0,
            coeff_frac: Perbill::from_rational(1u32, 1_000u32),
            negative: false,
            degree: 1,
        }]
    }
}
