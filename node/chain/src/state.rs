//! Merkle state over the database: a [`sp_state_machine::TrieBackend`] (Blake2-256, trie layout
//! V1) whose nodes come from [`Column::TrieNodes`], at any stored state root.
//!
//! Nodes are stored under their hash alone (no trie-position prefix): identical nodes at
//! different positions or in different states share one reference-counted entry. A shared
//! [`SharedTrieCache`] keeps hot nodes and values in memory across blocks; since nodes are
//! content-addressed, a cached node is valid for every state that contains it.

use crate::{
    api::ChainResult,
    db::{Column, Database, Transaction},
};
use sp_core::{storage::StateVersion, H256};
use sp_runtime::traits::BlakeTwo256;
use sp_state_machine::{BackendTransaction, TrieBackend, TrieBackendBuilder, TrieBackendStorage};
use sp_trie::{
    cache::{CacheSize, LocalTrieCache, SharedTrieCache},
    DBValue,
};
use std::{collections::HashMap, sync::Arc};

/// The trie-node column seen as the storage of a trie backend.
#[derive(Clone)]
pub struct TrieStorage {
    db: Arc<dyn Database>,
}

impl TrieStorage {
    /// Read trie nodes from `db`.
    pub fn new(db: Arc<dyn Database>) -> Self {
        Self { db }
    }
}

impl TrieBackendStorage<BlakeTwo256> for TrieStorage {
    fn get(&self, key: &H256, _prefix: (&[u8], Option<u8>)) -> Result<Option<DBValue>, String> {
        self.db.get(Column::TrieNodes, key.as_bytes()).map_err(|e| e.to_string())
    }
}

/// The state of one block: a trie backend over the database.
pub type State = TrieBackend<TrieStorage, BlakeTwo256>;

/// Opens states, all sharing one node and value cache.
#[derive(Clone)]
pub struct StateFactory {
    storage: TrieStorage,
    cache: SharedTrieCache<BlakeTwo256>,
}

impl StateFactory {
    /// States over `db` with a shared cache of at most `cache_bytes` bytes.
    pub fn new(db: Arc<dyn Database>, cache_bytes: usize) -> Self {
        Self {
            storage: TrieStorage::new(db),
            cache: SharedTrieCache::new(CacheSize::new(cache_bytes), None),
        }
    }

    /// The state with root `root`, for reads and calls whose results are not committed (the
    /// local cache is bounded).
    pub fn at(&self, root: H256) -> State {
        self.build(root, self.cache.local_cache_untrusted())
    }

    /// The state with root `root`, for block building and import (the local cache may grow with
    /// the block and is merged into the shared cache when the state is dropped).
    pub fn at_trusted(&self, root: H256) -> State {
        self.build(root, self.cache.local_cache_trusted())
    }

    fn build(&self, root: H256, cache: LocalTrieCache<BlakeTwo256>) -> State {
        TrieBackendBuilder::new(self.storage.clone(), root).with_cache(cache).build()
    }
}

/// The trie-node writes of one state transition, keyed by node hash.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NodeChanges {
    /// New node references: hash, value and how many times it is referenced anew.
    pub inserted: Vec<(H256, Vec<u8>, u32)>,
    /// Dropped node references (with multiplicity): nodes of the parent state that the new
    /// state no longer uses at some position.
    pub removed: Vec<H256>,
}

impl NodeChanges {
    /// Split a trie backend transaction (prefixed keys with signed reference counts) into
    /// insertions and removals by node hash.
    pub fn from_transaction(mut transaction: BackendTransaction<BlakeTwo256>) -> Self {
        let mut inserted: HashMap<H256, (Vec<u8>, u32)> = HashMap::new();
        let mut removed = Vec::new();
        for (key, (value, rc)) in transaction.drain() {
            // A prefixed key is the trie-position prefix followed by the 32-byte node hash.
            let Some(start) = key.len().checked_sub(32) else { continue };
            let Some(hash_bytes) = key.get(start..) else { continue };
            let hash = H256::from_slice(hash_bytes);
            if rc > 0 {
                let entry = inserted.entry(hash).or_insert_with(|| (value, 0));
                entry.1 = entry.1.saturating_add(rc.unsigned_abs());
            } else if rc < 0 {
                for _ in 0..rc.unsigned_abs() {
                    removed.push(hash);
                }
            }
        }
        let mut inserted: Vec<_> = inserted.into_iter().map(|(h, (v, n))| (h, v, n)).collect();
        inserted.sort_by_key(|(h, _, _)| *h);
        removed.sort();
        Self { inserted, removed }
    }

    /// Add the insertions to `tx` (one `Set` per new reference).
    pub fn write_insertions(&self, tx: &mut Transaction) {
        for (hash, value, count) in &self.inserted {
            for _ in 0..*count {
                tx.set(Column::TrieNodes, hash.as_bytes().to_vec(), value.clone());
            }
        }
    }
}

/// The trie version of the state, from the runtime's `system_version` (V1 for version 1).
pub fn state_version() -> StateVersion {
    subtensor_runtime::VERSION.state_version()
}

/// Read the value at `key` of `state`.
pub fn read(state: &State, key: &[u8]) -> ChainResult<Option<Vec<u8>>> {
    use sp_state_machine::Backend;
    state.storage(key).map_err(crate::api::ChainError::Database)
}
