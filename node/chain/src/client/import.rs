//! Block import and finality.
//!
//! Import checks, in order: the block is new, its parent is the best block, its number follows
//! the parent's, the authority's seal and the slot (see [`crate::consensus`]), the timestamp
//! inherent agrees with the slot, and the extrinsics root matches the body. It then executes the
//! block with `Core_execute_block` on the parent state with the seal stripped (the runtime
//! asserts the state and extrinsics roots; a panic refuses the block) — unless this client
//! built the block itself, in which case the trie changes computed while building are reused.
//! Trie nodes, pruning journal, header, body, number index and best head are written in ONE
//! atomic commit; then [`ChainEvent::NewBest`] is broadcast.

use super::Client;
use crate::{
    api::{ChainApi, ChainError, ChainEvent, ChainResult, Hash, ImportOutcome},
    consensus,
    db::{meta_keys, number_key, Column, Transaction},
    executor::{self, Overlay},
    pruning,
    state::{state_version, NodeChanges},
};
use codec::Encode;
use sp_runtime::{
    generic::Preamble,
    traits::{BlakeTwo256, Hash as HashT},
};
use subtensor_runtime::{Block, Header, RuntimeCall, UncheckedExtrinsic};

/// The timestamp set by the block's (bare) timestamp inherent.
fn timestamp_of(extrinsics: &[UncheckedExtrinsic]) -> ChainResult<u64> {
    let mut found = extrinsics.iter().filter_map(|xt| match (&xt.preamble, &xt.function) {
        (Preamble::Bare(_), RuntimeCall::Timestamp(pallet_timestamp::Call::set { now })) => {
            Some(*now)
        }
        _ => None,
    });
    match (found.next(), found.next()) {
        (Some(now), None) => Ok(now),
        _ => Err(ChainError::InvalidBlock("expected exactly one timestamp inherent".into())),
    }
}

/// The extrinsics root of a body, as frame-system computes it (its trie version follows the
/// runtime's `system_version`: V0 for versions 0 and 1).
pub(crate) fn extrinsics_root(extrinsics: &[UncheckedExtrinsic]) -> Hash {
    BlakeTwo256::ordered_trie_root(
        extrinsics.iter().map(Encode::encode).collect(),
        subtensor_runtime::VERSION.extrinsics_root_state_version(),
    )
}

/// Execute `block` (unsealed header) on the state of `parent` and return its trie changes.
fn execute(
    client: &Client,
    parent_hash: Hash,
    parent: &Header,
    block: &Block,
) -> ChainResult<NodeChanges> {
    let state = client.state_of(parent_hash, parent, true)?;
    let mut overlay = Overlay::default();
    executor::call(&state, &mut overlay, "Core_execute_block", &block.encode()).map_err(
        |e| match e {
            ChainError::Execution(message) => ChainError::InvalidBlock(message),
            other => other,
        },
    )?;
    let changes = overlay
        .drain_storage_changes(&state, state_version())
        .map_err(|e| ChainError::Execution(format!("collecting state changes: {e}")))?;
    if changes.transaction_storage_root != block.header.state_root {
        return Err(ChainError::InvalidBlock(format!(
            "state root mismatch: header {:?}, executed {:?}",
            block.header.state_root, changes.transaction_storage_root
        )));
    }
    Ok(NodeChanges::from_transaction(changes.transaction))
}

/// See [`crate::ChainWrite::import_block`].
pub(super) fn import_block(client: &Client, block: Block) -> ChainResult<ImportOutcome> {
    let _guard = client.write_lock.lock();
    let hash = block.header.hash();
    if client.header(hash)?.is_some() {
        return Ok(ImportOutcome::AlreadyKnown(hash));
    }
    let parent_hash = block.header.parent_hash;
    let parent = client.header(parent_hash)?.ok_or(ChainError::UnknownParent(parent_hash))?;
    let info = client.info();
    if parent_hash != info.best_hash {
        return Err(ChainError::NotOnBestChain(parent_hash));
    }
    let number = block.header.number;
    if Some(number) != parent.number.checked_add(1) {
        return Err(ChainError::InvalidBlock(format!(
            "number {number} does not follow the parent's {}",
            parent.number
        )));
    }
    let unsealed = consensus::verify_and_strip(&block.header, &parent, &client.config.authority)?;
    let slot = consensus::slot_of(&unsealed)?
        .ok_or_else(|| ChainError::InvalidBlock("missing Aura pre-runtime digest".into()))?;
    let timestamp = timestamp_of(&block.extrinsics)?;
    if consensus::slot_at(timestamp, client.config.slot_duration_ms) != slot {
        return Err(ChainError::InvalidBlock(format!(
            "timestamp {timestamp} is not in slot {slot}"
        )));
    }
    if extrinsics_root(&block.extrinsics) != unsealed.extrinsics_root {
        return Err(ChainError::InvalidBlock("extrinsics root mismatch".into()));
    }

    let pre_hash = unsealed.hash();
    let prepared = {
        let mut cache = client.prepared.lock();
        cache.iter().position(|p| p.pre_hash == pre_hash).and_then(|i| cache.remove(i))
    };
    let unsealed_block = Block { header: unsealed, extrinsics: block.extrinsics };
    let changes = match prepared {
        Some(prepared) => prepared.changes,
        None => execute(client, parent_hash, &parent, &unsealed_block)?,
    };
    commit(client, hash, block.header, unsealed_block.extrinsics, changes)
}

/// Write an imported block in one atomic commit and make it the best block.
fn commit(
    client: &Client,
    hash: Hash,
    header: Header,
    extrinsics: Vec<UncheckedExtrinsic>,
    changes: NodeChanges,
) -> ChainResult<ImportOutcome> {
    let number = header.number;
    let mut tx = Transaction::new();
    changes.write_insertions(&mut tx);
    let new_pruned_below = pruning::on_import(
        client.db.as_ref(),
        &mut tx,
        client.config.pruning,
        number,
        &changes.removed,
        client.pruned_below(),
    )?;
    let key = hash.as_bytes().to_vec();
    tx.set(Column::Headers, key.clone(), header.encode());
    tx.set(Column::Bodies, key.clone(), extrinsics.encode());
    tx.set(Column::NumberToHash, number_key(number).to_vec(), key.clone());
    tx.set(Column::Meta, meta_keys::BEST.to_vec(), key);
    client.db.commit(tx)?;

    *client.pruned_below.write() = new_pruned_below;
    {
        let mut info = client.info.write();
        info.best_hash = hash;
        info.best_number = number;
    }
    log::debug!(target: "chain", "imported #{number} {hash:?}");
    client.send(ChainEvent::NewBest { hash, header });
    Ok(ImportOutcome::Imported { hash, number })
}

/// See [`crate::ChainWrite::finalize`].
pub(super) fn finalize(client: &Client, hash: Hash) -> ChainResult<()> {
    let _guard = client.write_lock.lock();
    let header = client
        .header(hash)?
        .ok_or_else(|| ChainError::Finality(format!("unknown block {hash:?}")))?;
    let info = client.info();
    if client.hash(header.number)? != Some(hash) {
        return Err(ChainError::Finality(format!(
            "block #{} {hash:?} is not on the best chain",
            header.number
        )));
    }
    if header.number <= info.finalized_number {
        return Ok(());
    }
    let mut tx = Transaction::new();
    tx.set(Column::Meta, meta_keys::FINALIZED.to_vec(), hash.as_bytes().to_vec());
    client.db.commit(tx)?;
    {
        let mut info = client.info.write();
        info.finalized_hash = hash;
        info.finalized_number = header.number;
    }
    client.send(ChainEvent::Finalized { hash, header });
    Ok(())
}
