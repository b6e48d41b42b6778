//! # Subtensor runtime
//!
//! The state transition function of the chain: FRAME's System, Timestamp, Aura, Grandpa,
//! Balances, TransactionPayment, Utility and Sudo, plus the [`pallet_subtensor`] market and two
//! pallets that present it to the reference chain's clients: [`pallet_admin_utils`] (the
//! reference's `sudo_set_*` calls, forwarding to the market's parameter setters) and
//! [`pallet_subtensor_swap`] (the reference's `Swap.AlphaSqrtPrice`, 1.0 for every subnet).
//!
//! The block authorities live on chain, as on the reference chain: `Aura.Authorities` (sr25519,
//! in slot order) and `Grandpa.Authorities` (ed25519, weighted), set in genesis and served by
//! `AuraApi_authorities` and `GrandpaApi_grandpa_authorities`. The node reads them from the
//! genesis state through those APIs.
//!
//! The runtime is compiled natively into the node (no WASM build is possible on our machines),
//! but the node reaches it only through the runtime API entry points that
//! [`sp_api::impl_runtime_apis!`] generates (`api::dispatch(method, scale_args)`), exactly the
//! calls a Substrate client makes over `state_call`. Its types follow mainnet Bittensor:
//! AccountId32 with sr25519 `MultiSignature`, `MultiAddress`, nonce u32, block number u32,
//! balance u64 in rao (9 decimals, token TAO), SS58 prefix 42, v4 signed extrinsics with the
//! standard transaction extensions in the standard order (see [`TxExtension`]).
//!
//! Modules: [`configs`] (pallet parameters), [`check_nonce`] (nonce check that lets key-only
//! hotkeys send fee-free calls), [`genesis_config_presets`] (`dev` and `local`, and genesis
//! storage from a preset patch), `signing` (signing extrinsics off chain, with `std`), and the
//! runtime API implementations in `apis`.
#![cfg_attr(not(feature = "std"), no_std)]
#![recursion_limit = "256"]
// `construct_runtime!` generates undocumented public items (the `Runtime` struct, call and event
// enums); every item written by hand here is documented.
#![allow(missing_docs)]

extern crate alloc;

mod apis;
pub mod check_nonce;
pub mod configs;
pub mod genesis_config_presets;
pub mod metadata;
#[cfg(feature = "std")]
pub mod signing;

#[cfg(feature = "std")]
pub use apis::api;
pub use apis::RUNTIME_API_VERSIONS;

use sp_runtime::{generic, traits::BlakeTwo256};
use sp_version::RuntimeVersion;

pub use pallet_admin_utils;
pub use pallet_aura;
pub use pallet_grandpa;
pub use pallet_subtensor;
pub use pallet_subtensor_swap;
/// The Aura authority key: sr25519.
pub use sp_consensus_aura::sr25519::AuthorityId as AuraId;
/// The GRANDPA authority key: ed25519.
pub use sp_consensus_grandpa::AuthorityId as GrandpaId;
pub use subtensor_primitives::{
    AccountId, Balance, BlockNumber, Hash, NetUid, Nonce, Signature, RAO_PER_TAO, SS58_PREFIX,
    TOKEN_DECIMALS, TOKEN_SYMBOL,
};

/// The runtime version. Bump `spec_version` whenever calls, storage or metadata change:
/// clients cache metadata per spec version, and this runtime cannot be upgraded on chain.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
    spec_name: alloc::borrow::Cow::Borrowed("node-subtensor"),
    impl_name: alloc::borrow::Cow::Borrowed("subtensor-rs"),
    authoring_version: 1,
    spec_version: 106,
    impl_version: 1,
    apis: RUNTIME_API_VERSIONS,
    transaction_version: 2,
    system_version: 1,
};

/// Milliseconds per block on mainnet-like chains (12 s).
pub const MILLISECS_PER_BLOCK: u64 = 12_000;

/// The address format of extrinsics.
pub type Address = sp_runtime::MultiAddress<AccountId, ()>;

/// The block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// The transaction extensions, in the standard order that Python clients hard-code: the
/// explicit data of a signed extrinsic is era, compact nonce, compact tip and the metadata-hash
/// mode byte; the implicit data is spec version, transaction version, genesis hash, era birth
/// hash and the (absent) metadata hash. `SubtensorTransactionExtension` (the reference chain's
/// name and place, after the payment) carries no data: it validates the subtensor pallet's
/// fee-free calls before they enter the pool or a block (transaction version 2 added it).
pub type TxExtension = (
    frame_system::CheckNonZeroSender<Runtime>,
    frame_system::CheckSpecVersion<Runtime>,
    frame_system::CheckTxVersion<Runtime>,
    frame_system::CheckGenesis<Runtime>,
    frame_system::CheckEra<Runtime>,
    check_nonce::CheckNonce<Runtime>,
    frame_system::CheckWeight<Runtime>,
    pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
    pallet_subtensor::SubtensorTransactionExtension<Runtime>,
    frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
);

/// An extrinsic as it appears in a block.
pub type UncheckedExtrinsic =
    generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload a signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// A block of this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// Executes blocks and transactions.
pub type Executive = frame_executive::Executive<
    Runtime,
    Block,
    frame_system::ChainContext<Runtime>,
    Runtime,
    AllPalletsWithSystem,
>;

/// The calls that `utility` dispatches on a signer's behalf, so that the subtensor extension
/// can refuse fee-free calls hidden in them.
impl pallet_subtensor::WrapsCalls for RuntimeCall {
    fn wrapped_calls(&self) -> alloc::vec::Vec<&Self> {
        use pallet_sudo::Call as SudoCall;
        use pallet_utility::Call as UtilityCall;
        match self {
            RuntimeCall::Utility(
                UtilityCall::batch { calls }
                | UtilityCall::batch_all { calls }
                | UtilityCall::force_batch { calls },
            ) => calls.iter().collect(),
            RuntimeCall::Utility(UtilityCall::if_else { main, fallback }) => {
                alloc::vec![main.as_ref(), fallback.as_ref()]
            }
            RuntimeCall::Utility(
                UtilityCall::as_derivative { call, .. }
                | UtilityCall::dispatch_as { call, .. }
                | UtilityCall::dispatch_as_fallible { call, .. }
                | UtilityCall::with_weight { call, .. },
            )
            | RuntimeCall::Sudo(
                SudoCall::sudo { call }
                | SudoCall::sudo_unchecked_weight { call, .. }
                | SudoCall::sudo_as { call, .. },
            ) => alloc::vec![call.as_ref()],
            _ => alloc::vec::Vec::new(),
        }
    }
}

/// Opaque types for the node, which need not know the runtime's call type.
pub mod opaque {
    use super::*;
    /// An opaque extrinsic.
    pub type UncheckedExtrinsic = sp_runtime::OpaqueExtrinsic;
    /// An opaque block.
    pub type Block = generic::Block<Header, UncheckedExtrinsic>;
}

// The pallets and their indices (those of the reference chain): System 0 (accounts, blocks,
// events), Timestamp 2 (the timestamp inherent), Aura 3 (block authorities, current slot),
// Grandpa 4 (finality authorities), Balances 5 (TAO), TransactionPayment 6 (fees),
// SubtensorModule 7 (the market), Utility 11 (batches), Sudo 12 (the root key of dev chains),
// AdminUtils 19 (the reference's `sudo_set_*` parameter calls), Swap 28 (the reference's alpha
// prices, constant here).
frame_support::construct_runtime!(
    pub enum Runtime {
        System: frame_system = 0,
        Timestamp: pallet_timestamp = 2,
        Aura: pallet_aura = 3,
        Grandpa: pallet_grandpa = 4,
        Balances: pallet_balances = 5,
        TransactionPayment: pallet_transaction_payment = 6,
        SubtensorModule: pallet_subtensor = 7,
        Utility: pallet_utility = 11,
        Sudo: pallet_sudo = 12,
        AdminUtils: pallet_admin_utils = 19,
        Swap: pallet_subtensor_swap = 28,
    }
);
