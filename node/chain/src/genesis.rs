//! Block 0: the genesis state trie and header built from a genesis [`Storage`] (which the node
//! derives from a chain spec's `RuntimeGenesisConfig` with `BuildStorage`).
//!
//! The genesis header has number 0, the zero parent hash, the real state root, the extrinsics
//! root of an empty body (the empty ordered trie root, V1) and an empty digest.

use crate::{
    api::{ChainError, ChainResult, Hash},
    db::{meta_keys, number_key, Column, Transaction},
    state::{state_version, NodeChanges},
    Pruning,
};
use codec::Encode;
use sp_core::storage::{StateVersion, Storage};
use sp_runtime::traits::{BlakeTwo256, Hash as HashT, Header as HeaderT};
use sp_state_machine::Backend;
use subtensor_runtime::{Header, UncheckedExtrinsic};

/// The genesis block and its state, ready to be written.
#[derive(Debug, Clone)]
pub struct Genesis {
    /// The genesis header.
    pub header: Header,
    /// Its hash.
    pub hash: Hash,
    /// The trie nodes of the genesis state.
    pub nodes: NodeChanges,
}

/// The extrinsics root of an empty body.
pub fn empty_extrinsics_root() -> Hash {
    BlakeTwo256::ordered_trie_root(Vec::new(), StateVersion::V1)
}

/// Build the genesis trie and header from `storage` (top trie and default child tries).
pub fn build(storage: &Storage) -> Genesis {
    let backend = sp_state_machine::new_in_mem::<BlakeTwo256>();
    let delta = storage.top.iter().map(|(k, v)| (&k[..], Some(&v[..])));
    let child_deltas = storage
        .children_default
        .values()
        .map(|child| (&child.child_info, child.data.iter().map(|(k, v)| (&k[..], Some(&v[..])))));
    let (state_root, transaction) = backend.full_storage_root(delta, child_deltas, state_version());
    let header =
        Header::new(0, empty_extrinsics_root(), state_root, Hash::zero(), Default::default());
    let hash = header.hash();
    Genesis { header, hash, nodes: NodeChanges::from_transaction(transaction) }
}

/// The transaction that writes `genesis` into an empty database: its trie nodes, header, empty
/// body, number index, the heads (best = finalized = genesis, the only leaf), the pruning
/// settings, the slot duration and the database format version.
pub fn write(genesis: &Genesis, pruning: Pruning, slot_duration_ms: u64) -> Transaction {
    let mut tx = Transaction::new();
    genesis.nodes.write_insertions(&mut tx);
    let hash = genesis.hash.as_bytes().to_vec();
    tx.set(Column::Headers, hash.clone(), genesis.header.encode());
    tx.set(Column::Bodies, hash.clone(), Vec::<UncheckedExtrinsic>::new().encode());
    tx.set(Column::NumberToHash, number_key(0).to_vec(), hash.clone());
    tx.set(Column::Meta, meta_keys::GENESIS.to_vec(), hash.clone());
    tx.set(Column::Meta, meta_keys::BEST.to_vec(), hash.clone());
    tx.set(Column::Meta, meta_keys::FINALIZED.to_vec(), hash);
    tx.set(Column::Meta, meta_keys::PRUNING.to_vec(), pruning.encode());
    tx.set(Column::Meta, meta_keys::PRUNED_BELOW.to_vec(), 0u32.encode());
    tx.set(Column::Meta, meta_keys::LEAVES.to_vec(), vec![genesis.hash].encode());
    tx.set(Column::Meta, meta_keys::SLOT_DURATION.to_vec(), slot_duration_ms.encode());
    tx.set(Column::Meta, meta_keys::DB_VERSION.to_vec(), crate::db::DB_VERSION.encode());
    tx
}

/// Check that a database whose genesis hash is `stored` holds the chain of `genesis`.
pub fn check(stored: Hash, genesis: &Genesis) -> ChainResult<()> {
    if stored == genesis.hash {
        Ok(())
    } else {
        Err(ChainError::GenesisMismatch { stored, expected: genesis.hash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_extrinsics_root_is_the_well_known_one() {
        assert_eq!(
            format!("{:?}", empty_extrinsics_root()),
            "0x03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314"
        );
    }

    #[test]
    fn genesis_depends_on_the_storage() {
        let mut storage = Storage::default();
        storage.top.insert(b"a".to_vec(), vec![1; 40]);
        let one = build(&storage);
        storage.top.insert(b"b".to_vec(), vec![2]);
        let two = build(&storage);
        assert_ne!(one.hash, two.hash);
        assert_eq!(one.header.number, 0);
        assert_eq!(one.header.parent_hash, Hash::zero());
        // A 40-byte value is a separate value node in layout V1.
        assert!(one.nodes.inserted.len() >= 2);
        assert!(one.nodes.removed.is_empty());
    }
}
