//! Whole-chain verification: re-execute every stored block from genesis on a fresh in-memory
//! state and compare each stored header's state root. The node exposes it for crash-safety
//! checks: after any crash, the stored chain must still be exactly reproducible.

use crate::{
    api::{ChainError, ChainResult, Hash},
    consensus,
    db::{meta_keys, number_key, Column, Database},
    executor::{self, Overlay},
    genesis,
    state::state_version,
};
use codec::{Decode, Encode};
use sp_core::{sr25519, storage::Storage};
use sp_runtime::traits::BlakeTwo256;
use sp_state_machine::TrieBackend;
use sp_trie::PrefixedMemoryDB;
use subtensor_runtime::{Block, BlockNumber, Header, UncheckedExtrinsic};

/// What a successful verification covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyReport {
    /// The genesis hash.
    pub genesis_hash: Hash,
    /// The best block, the last one re-executed.
    pub best_hash: Hash,
    /// Its number (the number of blocks re-executed after genesis).
    pub best_number: BlockNumber,
}

fn corrupt(number: BlockNumber, what: impl std::fmt::Display) -> ChainError {
    ChainError::InvalidBlock(format!("stored block #{number}: {what}"))
}

fn get<T: Decode>(
    db: &dyn Database,
    col: Column,
    key: &[u8],
    number: BlockNumber,
) -> ChainResult<T> {
    let raw = db.get(col, key)?.ok_or_else(|| corrupt(number, format!("missing {col:?} entry")))?;
    T::decode(&mut &raw[..]).map_err(|e| corrupt(number, format!("undecodable {col:?}: {e}")))
}

fn hash_from(raw: Vec<u8>, number: BlockNumber) -> ChainResult<Hash> {
    if raw.len() == 32 {
        Ok(Hash::from_slice(&raw))
    } else {
        Err(corrupt(number, "malformed hash"))
    }
}

/// Re-execute every block of the canonical chain in `db` (genesis to best) starting from the
/// state built from `genesis`, checking the chain links, the seals of the slots' `authorities`,
/// and that each
/// execution reproduces the stored state root. Runs entirely in memory and never writes.
pub fn verify_chain(
    db: &dyn Database,
    genesis: &Storage,
    authorities: &[sr25519::Public],
) -> ChainResult<VerifyReport> {
    let expected = genesis::build(genesis);
    let stored_genesis = db
        .get(Column::NumberToHash, &number_key(0))?
        .ok_or_else(|| corrupt(0, "no genesis block"))?;
    genesis::check(hash_from(stored_genesis, 0)?, &expected)?;
    let best_hash = db
        .get(Column::Meta, meta_keys::BEST)?
        .ok_or_else(|| ChainError::Database("missing best head".into()))?;
    let best_hash = hash_from(best_hash, 0)?;
    let best: Header = get(db, Column::Headers, best_hash.as_bytes(), 0)?;

    let mut state: TrieBackend<PrefixedMemoryDB<BlakeTwo256>, BlakeTwo256> =
        (genesis.clone(), state_version()).into();
    if *state.root() != expected.header.state_root {
        return Err(corrupt(0, "genesis state root differs"));
    }
    let mut parent = expected.header;
    let mut parent_hash = expected.hash;
    for number in 1..=best.number {
        let hash = hash_from(
            db.get(Column::NumberToHash, &number_key(number))?
                .ok_or_else(|| corrupt(number, "missing from the number index"))?,
            number,
        )?;
        let header: Header = get(db, Column::Headers, hash.as_bytes(), number)?;
        if header.hash() != hash {
            return Err(corrupt(number, "header hash differs from its key"));
        }
        if header.parent_hash != parent_hash || header.number != number {
            return Err(corrupt(number, "does not link to the previous block"));
        }
        let extrinsics: Vec<UncheckedExtrinsic> = get(db, Column::Bodies, hash.as_bytes(), number)?;
        let unsealed = consensus::verify_and_strip(&header, &parent, authorities)
            .map_err(|e| corrupt(number, e))?;
        let block = Block { header: unsealed, extrinsics };
        let mut overlay = Overlay::default();
        executor::call(&state, &mut overlay, "Core_execute_block", &block.encode())
            .map_err(|e| corrupt(number, e))?;
        let changes = overlay
            .drain_storage_changes(&state, state_version())
            .map_err(|e| corrupt(number, e))?;
        if changes.transaction_storage_root != header.state_root {
            return Err(corrupt(number, "re-execution gives another state root"));
        }
        state.apply_transaction(changes.transaction_storage_root, changes.transaction);
        parent = header;
        parent_hash = hash;
    }
    if parent_hash != best_hash {
        return Err(ChainError::InvalidBlock("the best head is not on the indexed chain".into()));
    }
    Ok(VerifyReport { genesis_hash: expected.hash, best_hash, best_number: best.number })
}
