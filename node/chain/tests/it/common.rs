//! Shared helpers: the dev genesis, signing, and a chain that authors blocks.

use codec::{Decode, Encode};
use sp_core::{sr25519, Pair, H256};
use sp_genesis_builder::DEV_RUNTIME_PRESET;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{generic::Era, BuildStorage};
use std::sync::Arc;
use subtensor_chain::{
    BuiltBlock, ChainApi, ChainWrite, Client, ClientConfig, Database, Hash, ImportOutcome, Pruning,
};
use subtensor_runtime::*;

/// Slot duration of the test chains.
pub(crate) const SLOT_MS: u64 = 1_000;

/// Merge JSON `patch` into `base` (objects recursively, everything else replaced).
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
    match (base, patch) {
        (serde_json::Value::Object(b), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, p) => *b = p,
    }
}

/// The genesis storage of the runtime's `dev` preset.
pub(crate) fn dev_storage() -> sp_core::storage::Storage {
    let patch = genesis_config_presets::get_preset(&DEV_RUNTIME_PRESET.into()).expect("dev preset");
    let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
    merge(&mut config, serde_json::from_slice(&patch).unwrap());
    let config: RuntimeGenesisConfig = serde_json::from_value(config).unwrap();
    config.build_storage().unwrap()
}

/// The block authority of the test chains.
pub(crate) fn authority() -> sr25519::Pair {
    Sr25519Keyring::Alice.pair()
}

/// The test configuration.
pub(crate) fn config(pruning: Pruning) -> ClientConfig {
    ClientConfig {
        authority: authority().public(),
        slot_duration_ms: SLOT_MS,
        pruning,
        trie_cache_bytes: 16 * 1024 * 1024,
    }
}

fn tx_extension(nonce: Nonce) -> TxExtension {
    (
        frame_system::CheckNonZeroSender::new(),
        frame_system::CheckSpecVersion::new(),
        frame_system::CheckTxVersion::new(),
        frame_system::CheckGenesis::new(),
        frame_system::CheckEra::from(Era::Immortal),
        check_nonce::CheckNonce::from(nonce),
        frame_system::CheckWeight::new(),
        pallet_transaction_payment::ChargeTransactionPayment::from(0),
        frame_metadata_hash_extension::CheckMetadataHash::new(false),
    )
}

/// `call` signed by `pair` with `nonce`, immortal, for the chain with `genesis`.
pub(crate) fn signed(
    pair: &sr25519::Pair,
    call: RuntimeCall,
    nonce: Nonce,
    genesis: H256,
) -> UncheckedExtrinsic {
    let ext = tx_extension(nonce);
    // Implicit data: spec version, tx version, genesis hash, era birth hash, no metadata hash.
    let implicit =
        (VERSION.spec_version, VERSION.transaction_version, genesis, genesis, None::<[u8; 32]>);
    let signature = (&call, &ext, implicit).using_encoded(|payload| {
        if payload.len() > 256 {
            pair.sign(&sp_io::hashing::blake2_256(payload))
        } else {
            pair.sign(payload)
        }
    });
    UncheckedExtrinsic::new_signed(
        call,
        Address::Id(AccountId::from(pair.public())),
        Signature::Sr25519(signature),
        ext,
    )
}

/// A transfer of `tao` TAO from `from` to `to`.
pub(crate) fn transfer(
    from: Sr25519Keyring,
    to: Sr25519Keyring,
    tao: u64,
    nonce: Nonce,
    genesis: H256,
) -> UncheckedExtrinsic {
    signed(
        &from.pair(),
        RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
            dest: Address::Id(to.to_account_id()),
            value: tao * RAO_PER_TAO,
        }),
        nonce,
        genesis,
    )
}

/// The storage key of `who`'s `System.Account` entry.
pub(crate) fn account_key(who: &AccountId) -> Vec<u8> {
    frame_system::Account::<Runtime>::hashed_key_for(who)
}

/// The prefix of all `System.Account` keys.
pub(crate) fn account_prefix() -> Vec<u8> {
    let mut key = sp_io::hashing::twox_128(b"System").to_vec();
    key.extend(sp_io::hashing::twox_128(b"Account"));
    key
}

/// The free balance of `who` after block `at`.
pub(crate) fn free_balance(client: &Client, at: Hash, who: Sr25519Keyring) -> Balance {
    let raw = client.storage(at, &account_key(&who.to_account_id())).unwrap().unwrap();
    frame_system::AccountInfo::<Nonce, pallet_balances::AccountData<Balance>>::decode(&mut &raw[..])
        .unwrap()
        .data
        .free
}

/// A client over `db` on the dev chain.
pub(crate) fn open(db: Arc<dyn Database>, pruning: Pruning) -> Arc<Client> {
    Client::open(db, &dev_storage(), config(pruning)).unwrap()
}

/// The timestamp of the next block on `client`'s best block: one slot later.
pub(crate) fn next_timestamp(client: &Client) -> u64 {
    let best = client.info().best_number;
    (u64::from(best) + 1) * SLOT_MS + 17
}

/// Build on the best block, seal and import; return the build report and the new hash.
pub(crate) fn author(
    client: &Client,
    candidates: &[UncheckedExtrinsic],
) -> (BuiltBlock, Block, Hash) {
    let parent = client.info().best_hash;
    let built = client.build_block(parent, next_timestamp(client), candidates).unwrap();
    let block = seal(&built);
    let outcome = client.import_block(block.clone()).unwrap();
    let hash = match outcome {
        ImportOutcome::Imported { hash, .. } => hash,
        other => panic!("not imported: {other:?}"),
    };
    (built, block, hash)
}

/// The built block sealed by the authority.
pub(crate) fn seal(built: &BuiltBlock) -> Block {
    Block {
        header: subtensor_chain::consensus::seal(built.block.header.clone(), &authority()),
        extrinsics: built.block.extrinsics.clone(),
    }
}
