//! Refused blocks leave the chain unchanged; runtime panics are errors, not crashes.

use crate::common::*;
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Alice, Bob};
use std::sync::Arc;
use subtensor_chain::{
    consensus, ChainApi, ChainError, ChainWrite, ImportOutcome, MemoryDb, Pruning,
};
use subtensor_runtime::{genesis_config_presets::DEV_ENDOWMENT, Block, RAO_PER_TAO, VERSION};

/// Import must fail with `InvalidBlock` and leave heads and state as they were.
fn assert_refused(client: &subtensor_chain::Client, block: Block) {
    let before = client.info();
    let err = client.import_block(block.clone()).unwrap_err();
    assert!(matches!(err, ChainError::InvalidBlock(_)), "{err:?}");
    assert_eq!(client.info(), before);
    assert_eq!(client.header(block.header.hash()).unwrap(), None);
    assert_eq!(free_balance(client, before.best_hash, Bob), DEV_ENDOWMENT);
}

#[test]
fn blocks_with_bad_roots_seals_or_bodies_are_refused() {
    // A follower re-executes everything it imports (it built nothing itself).
    let builder = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let client = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    let built = builder
        .build_block(genesis, next_timestamp(&builder), &[transfer(Alice, Bob, 5, 0, genesis)])
        .unwrap();

    // Wrong state root, correctly sealed.
    let mut header = built.block.header.clone();
    header.state_root = H256::repeat_byte(0x42);
    let extrinsics = built.block.extrinsics.clone();
    assert_refused(
        &client,
        Block { header: consensus::seal(header, &authority()), extrinsics: extrinsics.clone() },
    );

    // Sealed by someone else.
    let bob = Bob.pair();
    assert_refused(
        &client,
        Block {
            header: consensus::seal(built.block.header.clone(), &bob),
            extrinsics: extrinsics.clone(),
        },
    );

    // Not sealed at all.
    assert_refused(&client, built.block.clone());

    // A body that does not match the extrinsics root.
    let mut sealed = seal(&built);
    sealed.extrinsics.truncate(1);
    assert_refused(&client, sealed);

    // A seal over a header whose slot does not match the timestamp inherent.
    let mut header = built.block.header.clone();
    header.digest.logs[0] = consensus::pre_digest(999_999);
    assert_refused(&client, Block { header: consensus::seal(header, &authority()), extrinsics });

    // The genuine block still imports, and then a block on an unknown parent is refused.
    let block = seal(&built);
    assert!(matches!(client.import_block(block.clone()).unwrap(), ImportOutcome::Imported { .. }));
    assert_eq!(
        free_balance(&client, client.info().best_hash, Bob),
        DEV_ENDOWMENT + 5 * RAO_PER_TAO
    );
    let mut orphan = block.header.clone();
    orphan.parent_hash = H256::repeat_byte(7);
    let orphan = Block { header: orphan, extrinsics: block.extrinsics.clone() };
    assert_eq!(
        client.import_block(orphan).unwrap_err(),
        ChainError::UnknownParent(H256::repeat_byte(7))
    );

    // Once the best block is final, a sibling of it (built on genesis) is below finality.
    client.finalize(client.info().best_hash, None).unwrap();
    let sibling = builder.build_block(genesis, next_timestamp(&builder) + 1_000, &[]).unwrap();
    assert_eq!(
        client.import_block(seal(&sibling)).unwrap_err(),
        ChainError::BelowFinality(genesis)
    );
}

#[test]
fn a_block_built_here_with_a_tampered_root_is_still_refused() {
    // The reuse of prepared changes is keyed by the unsealed header hash, so any change to
    // the header forces a re-execution.
    let client = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    let built = client
        .build_block(genesis, next_timestamp(&client), &[transfer(Alice, Bob, 5, 0, genesis)])
        .unwrap();
    let mut header = built.block.header.clone();
    header.state_root = H256::repeat_byte(1);
    assert_refused(
        &client,
        Block {
            header: consensus::seal(header, &authority()),
            extrinsics: built.block.extrinsics.clone(),
        },
    );
    assert!(matches!(client.import_block(seal(&built)).unwrap(), ImportOutcome::Imported { .. }));
}

#[test]
fn runtime_panics_and_unknown_methods_are_errors_and_the_client_keeps_working() {
    let client = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    // Undecodable input makes the generated dispatcher panic.
    let err = client.call(genesis, "Core_execute_block", &[1, 2, 3]).unwrap_err();
    assert!(matches!(err, ChainError::Execution(_)), "{err:?}");
    let err = client.call(genesis, "Nope_nothing", &[]).unwrap_err();
    assert_eq!(err.to_string(), "Exported method Nope_nothing is not found");
    // Building in the slot of the parent is refused before execution.
    let (_, block, one) = author(&client, &[]);
    let slot = consensus::slot_of(&block.header).unwrap().unwrap();
    let err = client.build_block(one, slot * SLOT_MS + 999, &[]).unwrap_err();
    assert!(matches!(err, ChainError::InvalidBlock(_)), "{err:?}");
    // Still fine.
    author(&client, &[transfer(Alice, Bob, 1, 0, genesis)]);
    assert_eq!(
        client.runtime_version(client.info().best_hash).unwrap().spec_version,
        VERSION.spec_version
    );
}
