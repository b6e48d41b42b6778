//! Building, sealing and importing blocks; following nodes; full blocks; finality.

use crate::common::*;
use codec::Decode;
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie};
use sp_runtime::transaction_validity::{InvalidTransaction, TransactionValidityError};
use std::sync::Arc;
use subtensor_chain::{
    ChainApi, ChainError, ChainEvent, ChainWrite, ImportOutcome, MemoryDb, Pruning,
};
use subtensor_runtime::{genesis_config_presets::DEV_ENDOWMENT, RuntimeCall, RAO_PER_TAO};

#[test]
fn a_signed_transfer_is_built_sealed_and_imported() {
    let client = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    let mut events = client.subscribe();

    let good = transfer(Alice, Bob, 5, 0, genesis);
    let stale = transfer(Charlie, Bob, 1, 0, genesis);
    let (built, block, hash) = author(&client, &[good, stale.clone()]);
    assert_eq!(built.included, vec![0, 1]);
    assert!(built.rejected.is_empty());
    // Timestamp inherent + two transfers.
    assert_eq!(block.extrinsics.len(), 3);

    let info = client.info();
    assert_eq!((info.best_number, info.best_hash), (1, hash));
    assert_eq!(client.hash(1).unwrap(), Some(hash));
    assert_eq!(client.block(hash).unwrap().unwrap(), block);
    assert_eq!(free_balance(&client, hash, Bob), DEV_ENDOWMENT + 6 * RAO_PER_TAO);
    // Historical state: genesis is untouched.
    assert_eq!(free_balance(&client, genesis, Bob), DEV_ENDOWMENT);
    assert!(
        matches!(events.try_recv().unwrap(), ChainEvent::Imported { hash: h, .. } if h == hash)
    );
    match events.try_recv().unwrap() {
        ChainEvent::NewBest { hash: h, header, .. } => {
            assert_eq!(h, hash);
            assert_eq!(header, block.header);
        }
        other => panic!("{other:?}"),
    }

    // Replaying Charlie's nonce 0 is now stale: refused, rolled back, reported.
    let (built, _, hash2) = author(&client, &[stale, transfer(Alice, Bob, 1, 1, genesis)]);
    assert_eq!(built.included, vec![1]);
    assert_eq!(
        built.rejected,
        vec![(0, TransactionValidityError::Invalid(InvalidTransaction::Stale))]
    );
    assert_eq!(free_balance(&client, hash2, Bob), DEV_ENDOWMENT + 7 * RAO_PER_TAO);

    // Importing the same block again changes nothing.
    assert_eq!(client.import_block(block).unwrap(), ImportOutcome::AlreadyKnown(hash));
    let report = client.verify_chain(&dev_storage()).unwrap();
    assert_eq!((report.best_number, report.best_hash), (2, hash2));
}

#[test]
fn a_following_node_re_executes_and_reaches_the_same_state() {
    let author_node = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let follower = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = author_node.info().genesis_hash;
    assert_eq!(follower.info().genesis_hash, genesis);
    for nonce in 0..3 {
        let (_, block, hash) = author(&author_node, &[transfer(Alice, Bob, 1, nonce, genesis)]);
        assert_eq!(
            follower.import_block(block).unwrap(),
            ImportOutcome::Imported { hash, number: nonce + 1, best: true }
        );
        assert_eq!(
            follower.header(hash).unwrap().unwrap().state_root,
            author_node.header(hash).unwrap().unwrap().state_root
        );
    }
    assert_eq!(follower.info(), author_node.info());
    let best = follower.info().best_hash;
    assert_eq!(free_balance(&follower, best, Bob), DEV_ENDOWMENT + 3 * RAO_PER_TAO);
}

#[test]
fn a_full_block_leaves_the_rest_for_later() {
    let client = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    // Normal extrinsics may fill 75% of 10 MiB: 1 MiB remarks, at most 7 fit.
    let remarks: Vec<_> = (0..10)
        .map(|nonce| {
            let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![7; 1 << 20] });
            signed(&Alice.pair(), call, nonce, genesis)
        })
        .collect();
    let (built, _, _) = author(&client, &remarks);
    assert!(!built.included.is_empty());
    assert!(built.rejected.is_empty());
    let first_left = built.included.len();
    assert_eq!(built.included, (0..first_left).collect::<Vec<_>>());
    assert_eq!(built.not_included, (first_left..10).collect::<Vec<_>>());
    assert!(first_left < 10);
    // The rest goes into the next block.
    let (built, _, _) = author(&client, &remarks[first_left..]);
    assert!(!built.included.is_empty());
    assert!(built.rejected.is_empty());
}

#[test]
fn finality_follows_requests_and_is_broadcast() {
    let client = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    let (_, _, one) = author(&client, &[]);
    let (_, _, two) = author(&client, &[]);
    let mut events = client.subscribe();
    assert_eq!(client.info().finalized_hash, genesis);

    client.finalize(one, None).unwrap();
    let info = client.info();
    assert_eq!((info.finalized_number, info.finalized_hash), (1, one));
    match events.try_recv().unwrap() {
        ChainEvent::Finalized { hash, header } => {
            assert_eq!(hash, one);
            assert_eq!(header.number, 1);
        }
        other => panic!("{other:?}"),
    }
    // Going back is a no-op, an unknown block an error.
    client.finalize(genesis, None).unwrap();
    assert_eq!(client.info().finalized_hash, one);
    assert!(events.try_recv().is_err());
    assert!(matches!(
        client.finalize(sp_core::H256::repeat_byte(3), None),
        Err(ChainError::Finality(_))
    ));
    client.finalize(two, None).unwrap();
    assert_eq!(client.info().finalized_number, 2);
    assert!(matches!(events.try_recv().unwrap(), ChainEvent::Finalized { .. }));
}

#[test]
fn runtime_api_calls_answer_at_any_block() {
    let client = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    author(&client, &[transfer(Alice, Bob, 1, 0, genesis)]);
    let best = client.info().best_hash;
    let version = client.runtime_version(best).unwrap();
    assert_eq!(version.spec_name, "node-subtensor");
    let alice = Alice.to_account_id();
    let nonce = |at| {
        let raw = client
            .call(at, "AccountNonceApi_account_nonce", &codec::Encode::encode(&alice))
            .unwrap();
        u32::decode(&mut &raw[..]).unwrap()
    };
    assert_eq!(nonce(genesis), 0);
    assert_eq!(nonce(best), 1);
}

#[test]
fn candidates_after_the_building_deadline_are_left_for_a_later_block() {
    let client = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    let candidates = [transfer(Alice, Bob, 1, 0, genesis), transfer(Alice, Bob, 1, 1, genesis)];
    // A deadline already passed: the block holds the inherents only, and both candidates wait.
    let passed = std::time::Instant::now();
    let built = client
        .build_block_until(
            client.info().best_hash,
            next_timestamp(&client),
            &candidates,
            Some(passed),
        )
        .unwrap();
    assert!(built.included.is_empty());
    assert!(built.rejected.is_empty());
    assert_eq!(built.not_included, vec![0, 1]);
    assert_eq!(built.block.extrinsics.len(), 1);
    // A deadline far away changes nothing.
    let later = std::time::Instant::now() + std::time::Duration::from_secs(3600);
    let built = client
        .build_block_until(
            client.info().best_hash,
            next_timestamp(&client),
            &candidates,
            Some(later),
        )
        .unwrap();
    assert_eq!(built.included, vec![0, 1]);
}
