//! An in-memory block tree implementing [`FinalityChain`].

use crate::{FinalityChain, Header};
use parking_lot::Mutex;
use sp_core::H256;
use sp_runtime::{traits::Header as _, Digest};
use std::collections::HashMap;
use tokio::sync::broadcast;

/// A child of `parent` (hash, number); `fork` makes siblings differ (it is the state root's
/// first byte and the extrinsics root's last byte).
pub fn header_on(parent: (H256, u32), fork: u8) -> Header {
    let mut state_root = [0u8; 32];
    state_root[0] = fork;
    let mut extrinsics_root = [0u8; 32];
    extrinsics_root[31] = fork;
    Header::new(
        parent.1.saturating_add(1),
        H256(extrinsics_root),
        H256(state_root),
        parent.0,
        Digest::default(),
    )
}

#[derive(Default)]
struct Inner {
    headers: HashMap<H256, Header>,
    children: HashMap<H256, Vec<H256>>,
    best: (H256, u32),
    finalized: (H256, u32),
    justifications: HashMap<H256, Vec<u8>>,
    aux: HashMap<Vec<u8>, Vec<u8>>,
    fail_aux_writes: bool,
}

impl Inner {
    fn is_descendant_or_equal(&self, base: H256, mut block: H256) -> bool {
        let Some(base_number) = self.headers.get(&base).map(|h| *h.number()) else {
            return false;
        };
        loop {
            if block == base {
                return true;
            }
            match self.headers.get(&block) {
                Some(header) if *header.number() > base_number => block = *header.parent_hash(),
                _ => return false,
            }
        }
    }

    /// The longest chain under `base`; ties go to the first imported child.
    fn best_under(&self, base: H256) -> Option<(H256, u32)> {
        let header = self.headers.get(&base)?;
        let mut best = (base, *header.number());
        let mut stack = vec![base];
        while let Some(hash) = stack.pop() {
            if let Some(header) = self.headers.get(&hash) {
                if *header.number() > best.1 {
                    best = (hash, *header.number());
                }
            }
            stack.extend(self.children.get(&hash).into_iter().flatten().rev());
        }
        Some(best)
    }
}

/// A fork-aware in-memory chain: blocks are headers, the best block is the head of the longest
/// chain containing the finalized block, and auxiliary storage is a map that lives as long as
/// the chain (so a voter restarted on the same chain sees its persisted state).
pub struct InMemoryChain {
    inner: Mutex<Inner>,
    imported: broadcast::Sender<(H256, u32)>,
}

impl std::fmt::Debug for InMemoryChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.inner.lock();
        f.debug_struct("InMemoryChain")
            .field("blocks", &inner.headers.len())
            .field("best", &inner.best)
            .field("finalized", &inner.finalized)
            .finish()
    }
}

impl Default for InMemoryChain {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryChain {
    /// A chain with only the genesis block (the same genesis in every instance).
    pub fn new() -> Self {
        let genesis = Header::new(0, H256::zero(), H256::zero(), H256::zero(), Digest::default());
        let hash = genesis.hash();
        let mut inner = Inner { best: (hash, 0), finalized: (hash, 0), ..Default::default() };
        inner.headers.insert(hash, genesis);
        let (imported, _) = broadcast::channel(1024);
        InMemoryChain { inner: Mutex::new(inner), imported }
    }

    /// The genesis block (hash, 0).
    pub fn genesis(&self) -> (H256, u32) {
        let inner = self.inner.lock();
        inner
            .headers
            .values()
            .find(|h| *h.number() == 0)
            .map(|h| (h.hash(), 0))
            .unwrap_or((H256::zero(), 0))
    }

    /// Import a header whose parent is known (importing a known one is a no-op).
    pub fn import(&self, header: Header) -> Result<(), String> {
        let hash = header.hash();
        let number = *header.number();
        {
            let mut inner = self.inner.lock();
            if inner.headers.contains_key(&hash) {
                return Ok(());
            }
            let parent = *header.parent_hash();
            match inner.headers.get(&parent) {
                Some(p) if p.number().saturating_add(1) == number => {}
                Some(_) => return Err(format!("block #{number} has a wrong number")),
                None => return Err(format!("unknown parent {parent:?}")),
            }
            inner.headers.insert(hash, header);
            inner.children.entry(parent).or_default().push(hash);
            let finalized = inner.finalized.0;
            if number > inner.best.1 && inner.is_descendant_or_equal(finalized, hash) {
                inner.best = (hash, number);
            }
        }
        let _ = self.imported.send((hash, number));
        Ok(())
    }

    /// Import a chain of headers in order.
    pub fn import_all(&self, headers: &[Header]) -> Result<(), String> {
        headers.iter().try_for_each(|h| self.import(h.clone()))
    }

    /// Build `count` blocks on `parent` (fork tag `fork`), import them and return them.
    pub fn extend(&self, parent: (H256, u32), count: u32, fork: u8) -> Vec<Header> {
        let mut parent = parent;
        let mut built = Vec::new();
        for _ in 0..count {
            let header = header_on(parent, fork);
            parent = (header.hash(), *header.number());
            let _ = self.import(header.clone());
            built.push(header);
        }
        built
    }

    /// Make every later auxiliary write fail (or succeed again).
    pub fn fail_aux_writes(&self, fail: bool) {
        self.inner.lock().fail_aux_writes = fail;
    }

    /// The number of stored justifications.
    pub fn justification_count(&self) -> usize {
        self.inner.lock().justifications.len()
    }
}

impl FinalityChain for InMemoryChain {
    fn header(&self, hash: H256) -> Option<Header> {
        self.inner.lock().headers.get(&hash).cloned()
    }

    fn canonical_hash(&self, number: u32) -> Option<H256> {
        let inner = self.inner.lock();
        let mut hash = inner.best.0;
        loop {
            let header = inner.headers.get(&hash)?;
            if *header.number() == number {
                return Some(hash);
            }
            if *header.number() < number {
                return None;
            }
            hash = *header.parent_hash();
        }
    }

    fn best(&self) -> (H256, u32) {
        self.inner.lock().best
    }

    fn finalized(&self) -> (H256, u32) {
        self.inner.lock().finalized
    }

    fn best_chain_containing(&self, base: H256) -> Option<(H256, u32)> {
        self.inner.lock().best_under(base)
    }

    fn finalize(&self, hash: H256, justification: Vec<u8>) -> Result<(), String> {
        let mut inner = self.inner.lock();
        let number = *inner.headers.get(&hash).ok_or("unknown block")?.number();
        let finalized = inner.finalized.0;
        if !inner.is_descendant_or_equal(finalized, hash) {
            return Err(format!("#{number} does not descend from the finalized block"));
        }
        inner.finalized = (hash, number);
        inner.justifications.insert(hash, justification);
        let best = inner.best.0;
        if !inner.is_descendant_or_equal(hash, best) {
            inner.best = inner.best_under(hash).unwrap_or((hash, number));
        }
        Ok(())
    }

    fn justification(&self, hash: H256) -> Option<Vec<u8>> {
        self.inner.lock().justifications.get(&hash).cloned()
    }

    fn aux_get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.inner.lock().aux.get(key).cloned()
    }

    fn aux_put(&self, key: &[u8], value: &[u8]) -> Result<(), String> {
        let mut inner = self.inner.lock();
        if inner.fail_aux_writes {
            return Err("aux writes disabled".into());
        }
        inner.aux.insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn imported(&self) -> broadcast::Receiver<(H256, u32)> {
        self.imported.subscribe()
    }
}
