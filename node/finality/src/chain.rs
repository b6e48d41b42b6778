//! What the finality gadget needs from the chain engine, and the block-tree walks built on it.

use crate::Header;
use sp_core::H256;
use sp_runtime::traits::Header as _;
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
