//! The state the benchmarks run on: a Merkle trie in memory that the runtime's benchmarking
//! host functions control, as Substrate's `BenchmarkingState` does for its database.
//!
//! - `commit_db` writes the pending changes into the trie (so that the benchmarked call reads
//!   its inputs from the trie, not from the in-memory overlay) and counts the keys written;
//! - `wipe_db` goes back to the genesis state;
//! - every key read through the backend and every key committed is tracked, so that
//!   `read_write_count` reports the distinct keys the benchmarked code read and wrote
//!   (repeated accesses separately), minus the whitelisted keys.
//!
//! Trie nodes are kept by hash alone (they are content-addressed); nodes added after genesis
//! are dropped again by `wipe_db`. There is no trie cache: every read walks the trie, the worst
//! case of a node whose cache is cold.

use sp_core::{
    storage::{ChildInfo, TrackedStorageKey},
    H256,
};
use sp_runtime::{traits::BlakeTwo256, StateVersion};
use sp_state_machine::{
    Backend, BackendTransaction, ChildStorageCollection, IterArgs, StorageCollection,
    StorageIterator, StorageKey, StorageValue, TrieBackend, TrieBackendBuilder, TrieBackendStorage,
    UsageInfo,
};
use sp_trie::{DBValue, MerkleValue};
use std::{
    cell::{Cell, RefCell},
    collections::{BTreeMap, HashMap, HashSet},
    rc::Rc,
    sync::{Arc, RwLock},
};
use subtensor_chain::state::NodeChanges;

/// Trie nodes by hash.
#[derive(Clone, Default)]
pub(super) struct NodeStore {
    nodes: Arc<RwLock<HashMap<H256, Vec<u8>>>>,
}

impl NodeStore {
    fn insert(&self, hash: H256, node: Vec<u8>) {
        let mut nodes = self.nodes.write().unwrap_or_else(|e| e.into_inner());
        nodes.insert(hash, node);
    }

    fn remove(&self, hash: &H256) {
        let mut nodes = self.nodes.write().unwrap_or_else(|e| e.into_inner());
        nodes.remove(hash);
    }
}

impl TrieBackendStorage<BlakeTwo256> for NodeStore {
    fn get(&self, key: &H256, _prefix: (&[u8], Option<u8>)) -> Result<Option<DBValue>, String> {
        let nodes = self.nodes.read().unwrap_or_else(|e| e.into_inner());
        Ok(nodes.get(key).cloned())
    }
}

/// The trie backend at one root.
type Trie = TrieBackend<NodeStore, BlakeTwo256>;

/// Reads and writes of one key since the last reset.
#[derive(Debug, Clone, Copy, Default)]
struct Access {
    reads: u32,
    writes: u32,
    whitelisted: bool,
}

/// Accesses by (child trie, key); `None` is the main trie.
#[derive(Debug, Default)]
struct Tracker {
    keys: BTreeMap<(Option<Vec<u8>>, Vec<u8>), Access>,
}

impl Tracker {
    fn reset(&mut self, whitelist: &[TrackedStorageKey]) {
        self.keys.clear();
        for key in whitelist {
            let access = Access { whitelisted: true, ..Default::default() };
            self.keys.insert((key.child_trie_key.clone(), key.key.clone()), access);
        }
    }

    fn read(&mut self, child: Option<&[u8]>, key: &[u8]) {
        let access = self.keys.entry((child.map(<[u8]>::to_vec), key.to_vec())).or_default();
        access.reads = access.reads.saturating_add(1);
    }

    fn write(&mut self, child: Option<&[u8]>, key: &[u8]) {
        let access = self.keys.entry((child.map(<[u8]>::to_vec), key.to_vec())).or_default();
        access.writes = access.writes.saturating_add(1);
    }
}

/// The benchmark state: see the module documentation.
pub(super) struct BenchState {
    store: NodeStore,
    genesis_root: H256,
    genesis_nodes: HashSet<H256>,
    added_nodes: RefCell<HashSet<H256>>,
    root: Cell<H256>,
    trie: RefCell<Trie>,
    tracker: Rc<RefCell<Tracker>>,
    whitelist: RefCell<Vec<TrackedStorageKey>>,
}

impl std::fmt::Debug for BenchState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BenchState at {:?}", self.root.get())
    }
}

impl BenchState {
    /// The state of `genesis` (its trie nodes and root, as `subtensor_chain::genesis` builds
    /// them).
    pub(super) fn new(genesis_root: H256, genesis: &NodeChanges) -> Self {
        let store = NodeStore::default();
        let mut genesis_nodes = HashSet::new();
        for (hash, node, _) in &genesis.inserted {
            store.insert(*hash, node.clone());
            genesis_nodes.insert(*hash);
        }
        let trie = TrieBackendBuilder::new(store.clone(), genesis_root).build();
        Self {
            store,
            genesis_root,
            genesis_nodes,
            added_nodes: RefCell::new(HashSet::new()),
            root: Cell::new(genesis_root),
            trie: RefCell::new(trie),
            tracker: Rc::new(RefCell::new(Tracker::default())),
            whitelist: RefCell::new(Vec::new()),
        }
    }

    fn reopen(&self) {
        *self.trie.borrow_mut() =
            TrieBackendBuilder::new(self.store.clone(), self.root.get()).build();
    }

    fn read(&self, child: Option<&[u8]>, key: &[u8]) {
        self.tracker.borrow_mut().read(child, key);
    }

    fn reset_tracker(&self) {
        self.tracker.borrow_mut().reset(&self.whitelist.borrow());
    }
}

/// A raw iterator of [`BenchState`]: the trie's, counting every key it yields as read.
pub(super) struct RawIter {
    inner: <Trie as Backend<BlakeTwo256>>::RawIter,
    child: Option<Vec<u8>>,
    tracker: Rc<RefCell<Tracker>>,
}

impl StorageIterator<BlakeTwo256> for RawIter {
    type Backend = BenchState;
    type Error = String;

    fn next_key(&mut self, backend: &BenchState) -> Option<Result<StorageKey, String>> {
        let next = self.inner.next_key(&backend.trie.borrow());
        if let Some(Ok(key)) = &next {
            self.tracker.borrow_mut().read(self.child.as_deref(), key);
        }
        next
    }

    fn next_pair(
        &mut self,
        backend: &BenchState,
    ) -> Option<Result<(StorageKey, StorageValue), String>> {
        let next = self.inner.next_pair(&backend.trie.borrow());
        if let Some(Ok((key, _))) = &next {
            self.tracker.borrow_mut().read(self.child.as_deref(), key);
        }
        next
    }

    fn was_complete(&self) -> bool {
        self.inner.was_complete()
    }
}

impl Backend<BlakeTwo256> for BenchState {
    type Error = String;
    type TrieBackendStorage = NodeStore;
    type RawIter = RawIter;

    fn storage(&self, key: &[u8]) -> Result<Option<StorageValue>, String> {
        self.read(None, key);
        self.trie.borrow().storage(key)
    }

    fn storage_hash(&self, key: &[u8]) -> Result<Option<H256>, String> {
        self.read(None, key);
        self.trie.borrow().storage_hash(key)
    }

    fn closest_merkle_value(&self, key: &[u8]) -> Result<Option<MerkleValue<H256>>, String> {
        self.read(None, key);
        self.trie.borrow().closest_merkle_value(key)
    }

    fn child_closest_merkle_value(
        &self,
        child_info: &ChildInfo,
        key: &[u8],
    ) -> Result<Option<MerkleValue<H256>>, String> {
        self.read(Some(child_info.storage_key()), key);
        self.trie.borrow().child_closest_merkle_value(child_info, key)
    }

    fn child_storage(
        &self,
        child_info: &ChildInfo,
        key: &[u8],
    ) -> Result<Option<StorageValue>, String> {
        self.read(Some(child_info.storage_key()), key);
        self.trie.borrow().child_storage(child_info, key)
    }

    fn child_storage_hash(
        &self,
        child_info: &ChildInfo,
        key: &[u8],
    ) -> Result<Option<H256>, String> {
        self.read(Some(child_info.storage_key()), key);
        self.trie.borrow().child_storage_hash(child_info, key)
    }

    fn exists_storage(&self, key: &[u8]) -> Result<bool, String> {
        self.read(None, key);
        self.trie.borrow().exists_storage(key)
    }

    fn exists_child_storage(&self, child_info: &ChildInfo, key: &[u8]) -> Result<bool, String> {
        self.read(Some(child_info.storage_key()), key);
        self.trie.borrow().exists_child_storage(child_info, key)
    }

    fn next_storage_key(&self, key: &[u8]) -> Result<Option<StorageKey>, String> {
        self.read(None, key);
        self.trie.borrow().next_storage_key(key)
    }

    fn next_child_storage_key(
        &self,
        child_info: &ChildInfo,
        key: &[u8],
    ) -> Result<Option<StorageKey>, String> {
        self.read(Some(child_info.storage_key()), key);
        self.trie.borrow().next_child_storage_key(child_info, key)
    }

    fn storage_root<'a>(
        &self,
        delta: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
        state_version: StateVersion,
    ) -> (H256, BackendTransaction<BlakeTwo256>) {
        self.trie.borrow().storage_root(delta, state_version)
    }

    fn child_storage_root<'a>(
        &self,
        child_info: &ChildInfo,
        delta: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
        state_version: StateVersion,
    ) -> (H256, bool, BackendTransaction<BlakeTwo256>) {
        self.trie.borrow().child_storage_root(child_info, delta, state_version)
    }

    fn raw_iter(&self, args: IterArgs) -> Result<RawIter, String> {
        let child = args.child_info.as_ref().map(|c| c.storage_key().to_vec());
        let inner = self.trie.borrow().raw_iter(args)?;
        Ok(RawIter { inner, child, tracker: self.tracker.clone() })
    }

    fn register_overlay_stats(&self, _stats: &sp_state_machine::StateMachineStats) {}

    fn usage_info(&self) -> UsageInfo {
        UsageInfo::empty()
    }

    fn commit(
        &self,
        root: H256,
        transaction: BackendTransaction<BlakeTwo256>,
        main_storage_changes: StorageCollection,
        child_storage_changes: ChildStorageCollection,
    ) -> Result<(), String> {
        // Nodes the new root no longer uses stay until the next wipe: states are addressed by
        // their root, and memory is bounded by one benchmark run.
        let changes = NodeChanges::from_transaction(transaction);
        let mut added = self.added_nodes.borrow_mut();
        for (hash, node, _) in changes.inserted {
            if !self.genesis_nodes.contains(&hash) {
                added.insert(hash);
            }
            self.store.insert(hash, node);
        }
        let mut tracker = self.tracker.borrow_mut();
        for (key, _) in &main_storage_changes {
            tracker.write(None, key);
        }
        for (child, changes) in &child_storage_changes {
            for (key, _) in changes {
                tracker.write(Some(child), key);
            }
        }
        self.root.set(root);
        self.reopen();
        Ok(())
    }

    fn wipe(&self) -> Result<(), String> {
        for hash in self.added_nodes.borrow_mut().drain() {
            self.store.remove(&hash);
        }
        self.root.set(self.genesis_root);
        self.reopen();
        self.reset_tracker();
        Ok(())
    }

    fn read_write_count(&self) -> (u32, u32, u32, u32) {
        let (mut reads, mut repeat_reads, mut writes, mut repeat_writes) = (0u32, 0u32, 0u32, 0u32);
        for access in self.tracker.borrow().keys.values().filter(|a| !a.whitelisted) {
            if access.reads > 0 {
                reads = reads.saturating_add(1);
                repeat_reads = repeat_reads.saturating_add(access.reads.saturating_sub(1));
            }
            if access.writes > 0 {
                writes = writes.saturating_add(1);
                repeat_writes = repeat_writes.saturating_add(access.writes.saturating_sub(1));
            }
        }
        (reads, repeat_reads, writes, repeat_writes)
    }

    fn reset_read_write_count(&self) {
        self.reset_tracker();
    }

    fn get_whitelist(&self) -> Vec<TrackedStorageKey> {
        self.whitelist.borrow().clone()
    }

    fn set_whitelist(&self, whitelist: Vec<TrackedStorageKey>) {
        *self.whitelist.borrow_mut() = whitelist;
    }

    fn proof_size(&self) -> Option<u32> {
        None
    }

    fn get_read_and_written_keys(&self) -> Vec<(Vec<u8>, u32, u32, bool)> {
        // Per storage item (the first 32 bytes of the key): distinct keys read and written.
        let mut items: BTreeMap<Vec<u8>, (u32, u32)> = BTreeMap::new();
        for ((child, key), access) in &self.tracker.borrow().keys {
            if access.whitelisted || child.is_some() {
                continue;
            }
            let prefix = key.get(..32).unwrap_or(key).to_vec();
            let item = items.entry(prefix).or_default();
            item.0 = item.0.saturating_add(u32::from(access.reads > 0));
            item.1 = item.1.saturating_add(u32::from(access.writes > 0));
        }
        items.into_iter().map(|(prefix, (r, w))| (prefix, r, w, false)).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn state() -> BenchState {
        let mut storage = sp_core::storage::Storage::default();
        storage.top.insert(b"a".to_vec(), b"1".to_vec());
        storage.top.insert(b"b".to_vec(), b"2".to_vec());
        let genesis = subtensor_chain::genesis::build(&storage);
        BenchState::new(genesis.header.state_root, &genesis.nodes)
    }

    #[test]
    fn commits_count_and_wipe_back_to_genesis() {
        let state = state();
        assert_eq!(state.storage(b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(state.storage(b"a").unwrap(), Some(b"1".to_vec()));
        let (root, tx) =
            state.storage_root([(&b"c"[..], Some(&b"3"[..]))].into_iter(), StateVersion::V1);
        state.commit(root, tx, vec![(b"c".to_vec(), Some(b"3".to_vec()))], vec![]).unwrap();
        assert_eq!(state.storage(b"c").unwrap(), Some(b"3".to_vec()));
        // "a" read twice, "c" written then read.
        assert_eq!(state.read_write_count(), (2, 1, 1, 0));
        state.set_whitelist(vec![TrackedStorageKey::new(b"a".to_vec())]);
        state.wipe().unwrap();
        assert_eq!(state.storage(b"c").unwrap(), None);
        assert_eq!(state.storage(b"a").unwrap(), Some(b"1".to_vec()));
        // The whitelisted key does not count.
        assert_eq!(state.read_write_count(), (1, 0, 0, 0));
        assert_eq!(state.keys(Default::default()).unwrap().count(), 2);
        assert_eq!(state.read_write_count(), (2, 0, 0, 0));
    }
}
