//! `KeepLast(n)` pruning: old states become unreadable, recent ones stay, and the node column
//! holds exactly the nodes of the kept states.

use crate::common::*;
use parking_lot::Mutex;
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Alice, Bob};
use sp_runtime::traits::BlakeTwo256;
use sp_state_machine::{Backend, TrieBackendBuilder, TrieBackendStorage};
use std::{collections::BTreeSet, sync::Arc};
use subtensor_chain::{
    db::{Column, Database},
    ChainApi, ChainError, ChainWrite, MemoryDb, Pruning,
};
use subtensor_runtime::{genesis_config_presets::DEV_ENDOWMENT, RAO_PER_TAO};

/// Trie storage that records every node read.
struct Recording {
    db: Arc<MemoryDb>,
    seen: Mutex<BTreeSet<Vec<u8>>>,
}

impl TrieBackendStorage<BlakeTwo256> for Recording {
    fn get(&self, key: &H256, _prefix: (&[u8], Option<u8>)) -> Result<Option<Vec<u8>>, String> {
        self.seen.lock().insert(key.as_bytes().to_vec());
        self.db.get(Column::TrieNodes, key.as_bytes()).map_err(|e| e.to_string())
    }
}

/// Every node reachable from `roots` (walking all keys and values), read from `db`.
pub(crate) fn reachable(db: &Arc<MemoryDb>, roots: &[H256]) -> BTreeSet<Vec<u8>> {
    let storage = Recording { db: db.clone(), seen: Mutex::new(BTreeSet::new()) };
    for root in roots {
        let backend = TrieBackendBuilder::new(&storage, *root).build();
        for pair in backend.pairs(Default::default()).unwrap() {
            pair.unwrap();
        }
    }
    storage.seen.into_inner()
}

#[test]
fn keep_last_two_prunes_old_states_and_leaks_no_node() {
    let db = Arc::new(MemoryDb::new());
    let client = open(db.clone(), Pruning::KeepLast(2));
    let genesis = client.info().genesis_hash;
    let mut hashes = vec![genesis];
    for nonce in 0..6 {
        hashes.push(author(&client, &[transfer(Alice, Bob, 1, nonce, genesis)]).2);
        // Nothing is pruned above finality.
        let stored_before: BTreeSet<Vec<u8>> = db.keys(Column::TrieNodes).into_iter().collect();
        let all_states: Vec<H256> =
            hashes.iter().map(|h| client.header(*h).unwrap().unwrap().state_root).collect();
        if nonce == 0 {
            assert_eq!(reachable(&db, &all_states), stored_before);
        }
        client.finalize(*hashes.last().unwrap(), None).unwrap();

        // Exactly the nodes of the kept states are stored.
        let best = client.info().best_number as usize;
        let kept: Vec<H256> = hashes[best.saturating_sub(1)..=best]
            .iter()
            .map(|h| client.header(*h).unwrap().unwrap().state_root)
            .collect();
        let stored: BTreeSet<Vec<u8>> = db.keys(Column::TrieNodes).into_iter().collect();
        assert_eq!(reachable(&db, &kept), stored, "after block {best}");
    }
    assert_eq!(client.pruned_below(), 5);
    for hash in &hashes[..5] {
        assert_eq!(client.storage(*hash, b"x").unwrap_err(), ChainError::StatePruned(*hash));
        assert!(matches!(client.call(*hash, "Core_version", &[]), Err(ChainError::StatePruned(_))));
        // Headers and bodies stay.
        assert!(client.block(*hash).unwrap().is_some());
    }
    assert_eq!(free_balance(&client, hashes[5], Bob), DEV_ENDOWMENT + 5 * RAO_PER_TAO);
    assert_eq!(free_balance(&client, hashes[6], Bob), DEV_ENDOWMENT + 6 * RAO_PER_TAO);
    // Only the journal of block 6 (which releases state 5's nodes) remains.
    assert_eq!(db.keys(Column::Journal), vec![hashes[6].as_bytes().to_vec()]);

    // Reopening with a wider window keeps working; the chain still verifies from genesis.
    drop(client);
    let client = open(db.clone(), Pruning::KeepLast(3));
    let (_, _, seventh) = author(&client, &[transfer(Alice, Bob, 1, 6, genesis)]);
    client.finalize(seventh, None).unwrap();
    assert_eq!(client.pruned_below(), 5);
    client.verify_chain(&dev_storage()).unwrap();
    // And a narrower one catches up at the next import.
    drop(client);
    let client = open(db.clone(), Pruning::KeepLast(1));
    let (_, _, last) = author(&client, &[transfer(Alice, Bob, 1, 7, genesis)]);
    client.finalize(last, None).unwrap();
    assert_eq!(client.pruned_below(), 8);
    let root = client.header(last).unwrap().unwrap().state_root;
    let stored: BTreeSet<Vec<u8>> = db.keys(Column::TrieNodes).into_iter().collect();
    assert_eq!(reachable(&db, &[root]), stored);
}
