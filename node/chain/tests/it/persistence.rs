//! The chain survives closing and reopening its parity-db database.

use crate::common::*;
use sp_keyring::Sr25519Keyring::{Alice, Bob};
use std::sync::Arc;
use subtensor_chain::{ChainApi, ChainError, Client, ParityDb, Pruning};
use subtensor_runtime::{genesis_config_presets::DEV_ENDOWMENT, RAO_PER_TAO};

#[test]
fn a_parity_db_chain_reopens_and_continues() {
    let dir = tempfile::tempdir().unwrap();
    let (info, genesis) = {
        let client = open(Arc::new(ParityDb::open(dir.path()).unwrap()), Pruning::Archive);
        let genesis = client.info().genesis_hash;
        for nonce in 0..3 {
            author(&client, &[transfer(Alice, Bob, 1, nonce, genesis)]);
        }
        client.verify_chain(&dev_storage()).unwrap();
        (client.info(), genesis)
    };
    assert_eq!(info.best_number, 3);

    let client = open(Arc::new(ParityDb::open(dir.path()).unwrap()), Pruning::Archive);
    assert_eq!(client.info(), info);
    assert_eq!(free_balance(&client, info.best_hash, Bob), DEV_ENDOWMENT + 3 * RAO_PER_TAO);
    for nonce in 3..5 {
        author(&client, &[transfer(Alice, Bob, 1, nonce, genesis)]);
    }
    let best = client.info().best_hash;
    assert_eq!(free_balance(&client, best, Bob), DEV_ENDOWMENT + 5 * RAO_PER_TAO);
    let report = client.verify_chain(&dev_storage()).unwrap();
    assert_eq!((report.best_number, report.best_hash), (5, best));
    drop(client);

    // Another chain spec, or another pruning kind, is refused.
    let mut other = dev_storage();
    other.top.insert(b"something".to_vec(), b"else".to_vec());
    let db = Arc::new(ParityDb::open(dir.path()).unwrap());
    let err = Client::open(db.clone(), &other, config(Pruning::Archive)).unwrap_err();
    assert!(matches!(err, ChainError::GenesisMismatch { stored, .. } if stored == genesis));
    let err = Client::open(db, &dev_storage(), config(Pruning::KeepLast(4))).unwrap_err();
    assert!(matches!(err, ChainError::Config(_)), "{err:?}");
}

/// Read every key and value of the state after `at` (fails if any trie node is missing).
fn read_everything(client: &Client, at: sp_core::H256) -> usize {
    let keys = client.storage_keys(at, &[], None, u32::MAX).unwrap();
    for key in &keys {
        assert!(client.storage(at, key).unwrap().is_some());
    }
    keys.len()
}

#[test]
fn a_pruned_parity_db_chain_keeps_recent_states_whole_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let mut hashes = Vec::new();
    let genesis = {
        let client = open(Arc::new(ParityDb::open(dir.path()).unwrap()), Pruning::KeepLast(2));
        let genesis = client.info().genesis_hash;
        hashes.push(genesis);
        for nonce in 0..4 {
            hashes.push(author_final(&client, &[transfer(Alice, Bob, 1, nonce, genesis)]));
        }
        genesis
    };
    let client = open(Arc::new(ParityDb::open(dir.path()).unwrap()), Pruning::KeepLast(2));
    for nonce in 4..6 {
        hashes.push(author_final(&client, &[transfer(Alice, Bob, 1, nonce, genesis)]));
    }
    for hash in &hashes[..5] {
        assert_eq!(client.storage(*hash, b"x").unwrap_err(), ChainError::StatePruned(*hash));
    }
    assert!(read_everything(&client, hashes[5]) > 10);
    assert!(read_everything(&client, hashes[6]) > 10);
    assert_eq!(free_balance(&client, hashes[6], Bob), DEV_ENDOWMENT + 6 * RAO_PER_TAO);
    client.verify_chain(&dev_storage()).unwrap();
}

#[test]
fn verify_chain_detects_a_tampered_body() {
    use codec::Encode;
    use subtensor_chain::db::{Column, Database, Transaction};
    let db = Arc::new(subtensor_chain::MemoryDb::new());
    let client = open(db.clone(), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    let (_, block, hash) = author(&client, &[transfer(Alice, Bob, 1, 0, genesis)]);
    author(&client, &[]);
    client.verify_chain(&dev_storage()).unwrap();

    let mut tx = Transaction::new();
    tx.set(Column::Bodies, hash.as_bytes().to_vec(), block.extrinsics[..1].to_vec().encode());
    db.commit(tx).unwrap();
    let err = client.verify_chain(&dev_storage()).unwrap_err();
    assert!(matches!(err, ChainError::InvalidBlock(ref m) if m.contains("#1")), "{err:?}");
}
