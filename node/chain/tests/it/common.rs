//! Shared helpers: the dev genesis, signing, and a chain that authors blocks.

use codec::Decode;
use sp_core::{sr25519, Pair, H256};
use sp_genesis_builder::DEV_RUNTIME_PRESET;
use sp_keyring::Sr25519Keyring;
use std::sync::Arc;
use subtensor_chain::{
    BuiltBlock, ChainApi, ChainWrite, Client, ClientConfig, Database, Hash, ImportOutcome, Pruning,
};
use subtensor_runtime::*;

/// Slot duration of the test chains.
pub(crate) const SLOT_MS: u64 = 1_000;

/// The genesis storage of the runtime's `dev` preset.
pub(crate) fn dev_storage() -> sp_core::storage::Storage {
    genesis_config_presets::preset_storage(DEV_RUNTIME_PRESET).expect("dev preset builds")
}

/// The block authority of the test chains.
pub(crate) fn authority() -> sr25519::Pair {
    Sr25519Keyring::Alice.pair()
}

/// The test configuration.
pub(crate) fn config(pruning: Pruning) -> ClientConfig {
    ClientConfig {
        authorities: vec![authority().public()],
        slot_duration_ms: SLOT_MS,
        pruning,
        trie_cache_bytes: 16 * 1024 * 1024,
    }
}

/// `call` signed by `pair` with `nonce`, immortal, for the chain with `genesis`.
pub(crate) fn signed(
    pair: &sr25519::Pair,
    call: RuntimeCall,
    nonce: Nonce,
    genesis: H256,
) -> UncheckedExtrinsic {
    signing::sign_extrinsic(pair, call, nonce, 0, &signing::SigningContext::immortal(genesis))
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

/// [`author`], then finalize the new block.
pub(crate) fn author_final(client: &Client, candidates: &[UncheckedExtrinsic]) -> Hash {
    let (_, _, hash) = author(client, candidates);
    client.finalize(hash, None).unwrap();
    hash
}

/// The built block sealed by the authority.
pub(crate) fn seal(built: &BuiltBlock) -> Block {
    Block {
        header: subtensor_chain::consensus::seal(built.block.header.clone(), &authority()),
        extrinsics: built.block.extrinsics.clone(),
    }
}
