//! Building and signing extrinsics outside the runtime: for clients, tests and benchmarks.
//!
//! A signature covers the call, the explicit data of the transaction extensions (era, nonce,
//! tip, metadata-hash mode) and their implicit data (spec and transaction version, genesis
//! hash, the hash of the era's birth block, no metadata hash), exactly as Substrate clients
//! sign; payloads over 256 bytes are signed by their Blake2-256 hash.

use crate::*;
use codec::Encode;
use sp_core::{sr25519, Pair};
use sp_runtime::generic::Era;

/// The transaction extensions of a signed extrinsic with `nonce`, `era` and `tip` (rao).
pub fn tx_extension(nonce: Nonce, era: Era, tip: Balance) -> TxExtension {
    (
        frame_system::CheckNonZeroSender::new(),
        frame_system::CheckSpecVersion::new(),
        frame_system::CheckTxVersion::new(),
        frame_system::CheckGenesis::new(),
        frame_system::CheckEra::from(era),
        check_nonce::CheckNonce::from(nonce),
        frame_system::CheckWeight::new(),
        pallet_transaction_payment::ChargeTransactionPayment::from(tip),
        pallet_subtensor::SubtensorTransactionExtension::new(),
        frame_metadata_hash_extension::CheckMetadataHash::new(false),
    )
}

/// What a signed extrinsic commits to besides its call and explicit data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningContext {
    /// The chain's genesis hash (`chain_getBlockHash(0)`).
    pub genesis_hash: Hash,
    /// The era: `Era::Immortal`, or mortal from a recent block.
    pub era: Era,
    /// The hash of the era's birth block (the genesis hash for an immortal era).
    pub era_block_hash: Hash,
}

impl SigningContext {
    /// An immortal signing context for the chain with `genesis_hash`.
    pub fn immortal(genesis_hash: Hash) -> Self {
        Self { genesis_hash, era: Era::Immortal, era_block_hash: genesis_hash }
    }
}

/// `call` signed by `pair` with `nonce` and `tip`, under `context`.
pub fn sign_extrinsic(
    pair: &sr25519::Pair,
    call: RuntimeCall,
    nonce: Nonce,
    tip: Balance,
    context: &SigningContext,
) -> UncheckedExtrinsic {
    let extension = tx_extension(nonce, context.era, tip);
    let implicit = (
        (),
        VERSION.spec_version,
        VERSION.transaction_version,
        context.genesis_hash,
        context.era_block_hash,
        (),
        (),
        (),
        (),
        None,
    );
    let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
    let signature = payload.using_encoded(|bytes| pair.sign(bytes));
    UncheckedExtrinsic::new_signed(
        call,
        Address::Id(AccountId::from(pair.public())),
        Signature::Sr25519(signature),
        extension,
    )
}
