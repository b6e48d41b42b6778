//! State pruning: which historical states stay readable, and how the trie nodes of the others
//! are freed — with forks.
//!
//! Every trie node is stored once under its hash with a reference count (parity-db's
//! reference-counted column). A block's import adds one reference per node its state
//! transition creates, and writes the block's [`Journal`] ([`Column::Journal`], keyed by block
//! hash): the references it added and the references of its parent's state it dropped. Nothing
//! is released at import: the states of every unfinalized block, on every fork, stay readable.
//!
//! Pruning happens only when finality moves, in the finalization's atomic commit:
//! - every block that does not descend from the newly finalized block is discarded: the
//!   references its import added are released and its journal deleted (its dropped references
//!   were never applied);
//! - under [`Pruning::KeepLast`]`(n)`, the states of finalized blocks more than `n - 1` below the
//!   finalized block are released: for each block `b` whose parent's state leaves the window,
//!   the references `b` dropped are released and `b`'s journal deleted;
//! - under [`Pruning::Archive`], finalized blocks' journals are deleted (their dropped
//!   references are never released).
//!
//! A node is deleted when its count reaches zero: when no kept state and no pending journal
//! references it. Readers of a state that gets pruned while they read it get
//! [`crate::ChainError::StatePruned`]. The lowest block number whose state is kept is stored as
//! [`meta_keys::PRUNED_BELOW`]; reads below it fail with [`crate::ChainError::StatePruned`].

use crate::{
    api::{ChainError, ChainResult, Hash},
    db::{meta_keys, Column, Database, Transaction},
    state::NodeChanges,
};
use codec::{Decode, Encode};
use sp_core::H256;
use subtensor_runtime::BlockNumber;

/// The trie node references one block's import added and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct Journal {
    /// References added (a hash once per reference).
    pub inserted: Vec<H256>,
    /// References of the parent's state the block's state no longer uses.
    pub removed: Vec<H256>,
}

impl Journal {
    /// The journal of a block whose state transition is `changes`.
    pub fn of(changes: &NodeChanges) -> Self {
        let mut inserted = Vec::new();
        for (hash, _, count) in &changes.inserted {
            for _ in 0..*count {
                inserted.push(*hash);
            }
        }
        Self { inserted, removed: changes.removed.clone() }
    }
}

/// Add block `hash`'s journal to `tx` (at import).
pub fn on_import(tx: &mut Transaction, hash: Hash, changes: &NodeChanges) {
    tx.set(Column::Journal, hash.as_bytes().to_vec(), Journal::of(changes).encode());
}

fn read_journal(db: &dyn Database, hash: &Hash) -> ChainResult<Option<Journal>> {
    match db.get(Column::Journal, hash.as_bytes())? {
        Some(raw) => Journal::decode(&mut &raw[..])
            .map(Some)
            .map_err(|e| ChainError::Database(format!("journal of block {hash:?}: {e}"))),
        None => Ok(None),
    }
}

/// One move of finality, as pruning sees it.
#[derive(Debug, Clone, Copy)]
pub struct FinalityStep<'a> {
    /// The number of the newly finalized block.
    pub finalized: BlockNumber,
    /// The blocks that became final, lowest first.
    pub newly_final: &'a [(Hash, BlockNumber)],
    /// The blocks dropped because they do not descend from the finalized block.
    pub discarded: &'a [(Hash, BlockNumber)],
}

/// Add to `tx` the pruning work of `step`, given `canonical(n)` the hash of finalized block `n`
/// and `pruned_below` the current bound. Returns the new bound.
pub fn on_finalize(
    db: &dyn Database,
    tx: &mut Transaction,
    mode: Pruning,
    step: FinalityStep<'_>,
    canonical: impl Fn(BlockNumber) -> ChainResult<Hash>,
    pruned_below: BlockNumber,
) -> ChainResult<BlockNumber> {
    let FinalityStep { finalized, newly_final, discarded } = step;
    for (hash, _) in discarded {
        if let Some(journal) = read_journal(db, hash)? {
            for node in journal.inserted {
                tx.remove(Column::TrieNodes, node.as_bytes().to_vec());
            }
            tx.remove(Column::Journal, hash.as_bytes().to_vec());
        }
    }
    if mode == Pruning::Archive {
        for (hash, _) in newly_final {
            tx.remove(Column::Journal, hash.as_bytes().to_vec());
        }
        return Ok(pruned_below);
    }
    let new_pruned_below = mode.kept_from(finalized, pruned_below);
    let mut block = pruned_below.saturating_add(1);
    while block <= new_pruned_below {
        let hash = canonical(block)?;
        if let Some(journal) = read_journal(db, &hash)? {
            for node in journal.removed {
                tx.remove(Column::TrieNodes, node.as_bytes().to_vec());
            }
            tx.remove(Column::Journal, hash.as_bytes().to_vec());
        }
        block = block.saturating_add(1);
    }
    if new_pruned_below != pruned_below {
        tx.set(Column::Meta, meta_keys::PRUNED_BELOW.to_vec(), new_pruned_below.encode());
    }
    Ok(new_pruned_below)
}

/// Which historical states are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Encode, Decode)]
pub enum Pruning {
    /// Keep the state of every block.
    #[default]
    Archive,
    /// Keep the states of the last `n` finalized blocks (at least 1: the finalized block's),
    /// and of every unfinalized block.
    KeepLast(u32),
}

impl Pruning {
    /// Whether `stored` (the mode a database was created with) may be reopened as `self`:
    /// archive stays archive; a `KeepLast` window may change size.
    pub fn compatible_with(self, stored: Pruning) -> bool {
        matches!(
            (self, stored),
            (Pruning::Archive, Pruning::Archive) | (Pruning::KeepLast(_), Pruning::KeepLast(_))
        )
    }

    /// The lowest block number whose state is kept once block `finalized` is final, given that
    /// states below `pruned_below` are gone already.
    pub fn kept_from(self, finalized: BlockNumber, pruned_below: BlockNumber) -> BlockNumber {
        match self {
            Pruning::Archive => pruned_below,
            Pruning::KeepLast(n) => {
                let window = n.max(1);
                finalized.saturating_add(1).saturating_sub(window).max(pruned_below)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_finalized_block() {
        let keep2 = Pruning::KeepLast(2);
        assert_eq!(keep2.kept_from(0, 0), 0);
        assert_eq!(keep2.kept_from(1, 0), 0);
        assert_eq!(keep2.kept_from(2, 0), 1);
        assert_eq!(keep2.kept_from(10, 3), 9);
        assert_eq!(Pruning::KeepLast(0).kept_from(5, 0), 5);
        assert_eq!(Pruning::Archive.kept_from(100, 0), 0);
        assert!(keep2.compatible_with(Pruning::KeepLast(7)));
        assert!(!keep2.compatible_with(Pruning::Archive));
    }
}
