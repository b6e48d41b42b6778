//! What the finality gadget needs from the chain engine, and the block-tree walks built on it.

use crate::Header;
use parking_lot::Mutex;
use sp_core::H256;
use sp_runtime::traits::Header as _;
use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
};
use tokio::sync::broadcast;

/// The chain as the finality gadget sees it. The node implements it for its chain engine; the
/// `test-utils` feature has an in-memory implementation.
///
/// Every method returns at once (no waiting on the network); reads may take the engine's locks.
pub trait FinalityChain: Send + Sync + 'static {
    /// The header of a known block.
    fn header(&self, hash: H256) -> Option<Header>;

    /// The hash of the block with `number` on the best (canonical) chain, if there is one.
    fn canonical_hash(&self, number: u32) -> Option<H256>;

    /// The best block (hash, number).
    fn best(&self) -> (H256, u32);

    /// The last finalized block (hash, number).
    fn finalized(&self) -> (H256, u32);

    /// The head of the best (longest) chain among the known blocks that descend from `base`
    /// (`base` itself if it is a leaf); `None` if `base` is unknown.
    fn best_chain_containing(&self, base: H256) -> Option<(H256, u32)>;

    /// Finalize `hash` and its ancestors, storing `justification` (a SCALE-encoded
    /// `sp_consensus_grandpa::GrandpaJustification<Header>`) with it, atomically. Must refuse a
    /// block that does not descend from the last finalized block.
    fn finalize(&self, hash: H256, justification: Vec<u8>) -> Result<(), String>;

    /// The justification stored with a finalized block, if any.
    fn justification(&self, hash: H256) -> Option<Vec<u8>>;

    /// Read the voter's persistent state from auxiliary key-value storage.
    fn aux_get(&self, key: &[u8]) -> Option<Vec<u8>>;

    /// Write the voter's persistent state; the write is durable when this returns `Ok`.
    fn aux_put(&self, key: &[u8], value: &[u8]) -> Result<(), String>;

    /// Notifications of each newly imported block (hash, number) from now on.
    fn imported(&self) -> broadcast::Receiver<(H256, u32)>;
}

/// The ancestry of `block` down to, but not including, `base`, newest first, starting with
/// `block`'s parent (the contract of `finality_grandpa::Chain::ancestry`). `None` when `block`
/// is not a strict descendant of `base` or a header on the way is unknown.
pub(crate) fn ancestry(chain: &dyn FinalityChain, base: H256, block: H256) -> Option<Vec<H256>> {
    if base == block {
        return None;
    }
    let base_number = *chain.header(base)?.number();
    let mut current = chain.header(block)?;
    let mut route = Vec::new();
    loop {
        let parent = *current.parent_hash();
        if parent == base {
            return Some(route);
        }
        if *current.number() <= base_number.saturating_add(1) {
            return None;
        }
        route.push(parent);
        current = chain.header(parent)?;
    }
}

/// Whether `block` is `base` or one of its descendants.
pub(crate) fn is_equal_or_descendant(chain: &dyn FinalityChain, base: H256, block: H256) -> bool {
    base == block || ancestry(chain, base, block).is_some()
}

/// The most headers of blocks we have not imported kept for vote ancestry.
const MAX_FOREIGN_HEADERS: usize = 4096;
/// The longest header chain walked from a vote target down to a block we know.
const MAX_FOREIGN_ROUTE: usize = 1024;
/// The most unknown voted-for blocks remembered besides those of waiting votes.
const MAX_WANTED: usize = 64;

/// The block tree the votes are counted on: the chain's blocks, plus the headers of blocks we
/// have not imported that peers' votes point at (peers send them with their catch-up answers).
///
/// Votes can only be counted once their target's ancestry is known. After a partition, the
/// side whose fork lost never sends its fork's blocks to the winning side (the sync only
/// follows longer chains), yet the votes that side cast during the partition point into that
/// fork, and a round that needs them could never complete. Headers are enough to count them:
/// each is bound to its hash (and so to the signed vote naming it), and finality only ever
/// finalizes blocks the chain has (see `environment::finalize`).
pub(crate) struct VoteTree {
    chain: Arc<dyn FinalityChain>,
    foreign: Mutex<HashMap<H256, Header>>,
    /// Blocks voted for that we do not know, besides the targets of the votes waiting in the
    /// router (those of catch-ups), oldest first.
    wanted: Mutex<VecDeque<H256>>,
}

impl VoteTree {
    pub(crate) fn new(chain: Arc<dyn FinalityChain>) -> Self {
        VoteTree { chain, foreign: Mutex::new(HashMap::new()), wanted: Mutex::new(VecDeque::new()) }
    }

    /// Remember that votes point at `hash`, if we do not know it.
    pub(crate) fn want(&self, hash: H256) {
        if self.header(hash).is_some() {
            return;
        }
        let mut wanted = self.wanted.lock();
        if !wanted.contains(&hash) {
            if wanted.len() >= MAX_WANTED {
                wanted.pop_front();
            }
            wanted.push_back(hash);
        }
    }

    /// Of `candidates` and the blocks remembered by [`Self::want`], at most `max` that we still
    /// do not know.
    pub(crate) fn unknown(&self, candidates: Vec<H256>, max: usize) -> Vec<H256> {
        let remembered: Vec<H256> = {
            let mut wanted = self.wanted.lock();
            wanted.retain(|hash| self.header(*hash).is_none());
            wanted.iter().copied().collect()
        };
        let mut seen = HashSet::new();
        candidates
            .into_iter()
            .chain(remembered)
            .filter(|hash| seen.insert(*hash) && self.header(*hash).is_none())
            .take(max)
            .collect()
    }

    /// Keep the headers of `headers` that link a block of `targets` we do not know to a block
    /// we know; returns how many were added.
    pub(crate) fn add_foreign(
        &self,
        headers: &[Header],
        targets: impl IntoIterator<Item = H256>,
    ) -> usize {
        if headers.is_empty() {
            return 0;
        }
        let finalized = self.chain.finalized().1;
        let batch: HashMap<H256, &Header> = headers.iter().map(|h| (h.hash(), h)).collect();
        let mut added = 0usize;
        for target in targets {
            let mut route = Vec::new();
            let mut current = target;
            let connected = loop {
                if self.header(current).is_some() {
                    break true;
                }
                let Some(header) = batch.get(&current) else { break false };
                if *header.number() <= finalized || route.len() >= MAX_FOREIGN_ROUTE {
                    break false;
                }
                route.push(*header);
                current = *header.parent_hash();
            };
            if !connected || route.is_empty() {
                continue;
            }
            let mut foreign = self.foreign.lock();
            foreign.retain(|_, header| *header.number() > finalized);
            for header in route {
                if foreign.len() >= MAX_FOREIGN_HEADERS {
                    break;
                }
                if foreign.insert(header.hash(), header.clone()).is_none() {
                    added = added.saturating_add(1);
                }
            }
        }
        added
    }

    /// The headers from each of `targets` down to (not including) our finalized block, at
    /// most `max` in all: what a peer needs to count votes for those targets.
    pub(crate) fn routes_to_finalized(
        &self,
        targets: impl IntoIterator<Item = H256>,
        max: usize,
    ) -> Vec<Header> {
        let finalized = self.chain.finalized().1;
        let mut seen = HashSet::new();
        let mut headers = Vec::new();
        for target in targets {
            let mut current = target;
            while headers.len() < max && seen.insert(current) {
                let Some(header) = self.header(current) else { break };
                if *header.number() <= finalized {
                    break;
                }
                current = *header.parent_hash();
                headers.push(header);
            }
        }
        headers
    }
}

impl FinalityChain for VoteTree {
    fn header(&self, hash: H256) -> Option<Header> {
        self.chain.header(hash).or_else(|| self.foreign.lock().get(&hash).cloned())
    }

    fn canonical_hash(&self, number: u32) -> Option<H256> {
        self.chain.canonical_hash(number)
    }

    fn best(&self) -> (H256, u32) {
        self.chain.best()
    }

    fn finalized(&self) -> (H256, u32) {
        self.chain.finalized()
    }

    fn best_chain_containing(&self, base: H256) -> Option<(H256, u32)> {
        self.chain.best_chain_containing(base)
    }

    fn finalize(&self, hash: H256, justification: Vec<u8>) -> Result<(), String> {
        self.chain.finalize(hash, justification)
    }

    fn justification(&self, hash: H256) -> Option<Vec<u8>> {
        self.chain.justification(hash)
    }

    fn aux_get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.chain.aux_get(key)
    }

    fn aux_put(&self, key: &[u8], value: &[u8]) -> Result<(), String> {
        self.chain.aux_put(key, value)
    }

    fn imported(&self) -> broadcast::Receiver<(H256, u32)> {
        self.chain.imported()
    }
}
