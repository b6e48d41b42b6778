//! State pruning: which historical states stay readable, and how the trie nodes of the others
//! are freed.
//!
//! Every trie node is stored once under its hash with a reference count (parity-db's
//! reference-counted column). A block's import adds one reference per node its state
//! transition creates. The references it drops (nodes of the parent state that the new state
//! no longer uses) are not released at once: under [`Pruning::KeepLast`] they are written to the
//! block's journal entry ([`Column::Journal`], keyed by block number). When the state of block
//! `b - 1` leaves the window of the last `n` states, the journal of block `b` is applied (each
//! hash dereferenced once) and deleted, in the same atomic commit as the import that moved the
//! window (with `n = 1` a block's own dropped references are released at its import, without
//! a journal entry). A node is deleted when no kept state and no pending journal references it.
//! Pruning follows the best chain only; readers of a state that gets pruned while they read it
//! get [`crate::ChainError::StatePruned`].
//! Under [`Pruning::Archive`] dropped references are simply never released.
//!
//! The lowest block number whose state is kept is stored as [`meta_keys::PRUNED_BELOW`]; reads
//! below it fail with [`crate::ChainError::StatePruned`].

use crate::{
    api::{ChainError, ChainResult},
    db::{meta_keys, number_key, Column, Database, Transaction},
};
use codec::{Decode, Encode};
use sp_core::H256;
use subtensor_runtime::BlockNumber;

/// Which historical states are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Encode, Decode)]
pub enum Pruning {
    /// Keep the state of every block.
    #[default]
    Archive,
    /// Keep the states of the last `n` blocks (at least 1: the best block's).
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

    /// The lowest block number whose state is kept once block `best` is imported, given that
    /// states below `pruned_below` are gone already.
    pub fn kept_from(self, best: BlockNumber, pruned_below: BlockNumber) -> BlockNumber {
        match self {
            Pruning::Archive => pruned_below,
            Pruning::KeepLast(n) => {
                let window = n.max(1);
                best.saturating_add(1).saturating_sub(window).max(pruned_below)
            }
        }
    }
}

/// Add to `tx` the pruning work of importing block `number`, whose state transition dropped
/// the node references `removed`, given that states below `pruned_below` are gone already:
/// release the states that leave the window (apply and delete the journals of blocks
/// `pruned_below + 1 ..= new bound`; the journal of `number` itself, when the window is one
/// state, is applied directly), journal `removed` if the parent state stays, and record the new
/// bound. Returns the new bound. In archive mode nothing is written.
pub fn on_import(
    db: &dyn Database,
    tx: &mut Transaction,
    mode: Pruning,
    number: BlockNumber,
    removed: &[H256],
    pruned_below: BlockNumber,
) -> ChainResult<BlockNumber> {
    if mode == Pruning::Archive {
        return Ok(pruned_below);
    }
    let new_pruned_below = mode.kept_from(number, pruned_below);
    let mut block = pruned_below.saturating_add(1);
    while block <= new_pruned_below {
        if block == number {
            for hash in removed {
                tx.remove(Column::TrieNodes, hash.as_bytes().to_vec());
            }
        } else {
            let key = number_key(block);
            if let Some(raw) = db.get(Column::Journal, &key)? {
                let journal = Vec::<H256>::decode(&mut &raw[..])
                    .map_err(|e| ChainError::Database(format!("journal of block {block}: {e}")))?;
                for hash in journal {
                    tx.remove(Column::TrieNodes, hash.as_bytes().to_vec());
                }
                tx.remove(Column::Journal, key.to_vec());
            }
        }
        block = block.saturating_add(1);
    }
    if new_pruned_below < number {
        tx.set(Column::Journal, number_key(number).to_vec(), removed.to_vec().encode());
    }
    if new_pruned_below != pruned_below {
        tx.set(Column::Meta, meta_keys::PRUNED_BELOW.to_vec(), new_pruned_below.encode());
    }
    Ok(new_pruned_below)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_best_block() {
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
