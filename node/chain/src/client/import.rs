//! Block import.
//!
//! Import checks, in order: the block is new, its parent is known and is the last finalized
//! block or descends from it, its number follows the parent's, the seal of the slot's author and
//! the slot (see [`crate::consensus`]), the timestamp inherent agrees with the slot, and the
//! extrinsics root matches the body — all cheap, before any execution. It then executes the
//! block with `Core_execute_block` on the parent state with the seal stripped (the runtime
//! asserts the state and extrinsics roots; a panic refuses the block) — unless this client
//! built the block itself, in which case the trie changes computed while building are reused.
//! Trie nodes, journal, header, body, leaves and — when the block becomes the best one (it is
//! higher than the best block) — the rewritten number index along the reorg route and the best
//! head are written in ONE atomic commit; then [`ChainEvent::Imported`] and, if the best block
//! changed, [`ChainEvent::NewBest`] are broadcast.

use super::Client;
use crate::{
    api::{ChainApi, ChainError, ChainEvent, ChainResult, Hash, ImportOutcome},
    consensus,
    db::{meta_keys, number_key, Column, Transaction},
    executor::{self, Overlay},
    pruning,
    state::{state_version, NodeChanges},
    tree::Route,
};
use codec::Encode;
use sp_runtime::{
    generic::Preamble,
    traits::{BlakeTwo256, Hash as HashT},
};
use subtensor_runtime::{Block, BlockNumber, Header, RuntimeCall, UncheckedExtrinsic};

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

/// See [`crate::ChainWrite::import_block`]; `authored_slot` for blocks this node sealed.
pub(super) fn import_block(
    client: &Client,
    block: Block,
    authored_slot: Option<u64>,
) -> ChainResult<ImportOutcome> {
    let _guard = client.write_lock.lock();
    let hash = block.header.hash();
    if client.header(hash)?.is_some() {
        return Ok(ImportOutcome::AlreadyKnown(hash));
    }
    let parent_hash = block.header.parent_hash;
    let parent = client.header(parent_hash)?.ok_or(ChainError::UnknownParent(parent_hash))?;
    if !client.tree.read().contains(&parent_hash) {
        return Err(ChainError::BelowFinality(parent_hash));
    }
    let number = block.header.number;
    if Some(number) != parent.number.checked_add(1) {
        return Err(ChainError::InvalidBlock(format!(
            "number {number} does not follow the parent's {}",
            parent.number
        )));
    }
    let unsealed = consensus::verify_and_strip(&block.header, &parent, &client.config.authorities)?;
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
    commit(client, hash, block.header, unsealed_block.extrinsics, changes, authored_slot)
}

/// Write `route`'s new best chain into the number index of `tx`: the enacted blocks, and the
/// removal of entries above `new_best` up to `old_best_number`.
pub(super) fn write_route(
    tx: &mut Transaction,
    route: &Route,
    new_best: BlockNumber,
    old_best_number: BlockNumber,
) {
    for (hash, number) in &route.enacted {
        tx.set(Column::NumberToHash, number_key(*number).to_vec(), hash.as_bytes().to_vec());
    }
    let mut above = new_best.saturating_add(1);
    while above <= old_best_number {
        tx.remove(Column::NumberToHash, number_key(above).to_vec());
        above = above.saturating_add(1);
    }
}

/// Write an imported block in one atomic commit, with the best-chain switch it causes.
fn commit(
    client: &Client,
    hash: Hash,
    header: Header,
    extrinsics: Vec<UncheckedExtrinsic>,
    changes: NodeChanges,
    authored_slot: Option<u64>,
) -> ChainResult<ImportOutcome> {
    let number = header.number;
    let parent_hash = header.parent_hash;
    let info = client.info();
    let mut tx = Transaction::new();
    changes.write_insertions(&mut tx);
    pruning::on_import(&mut tx, hash, &changes);
    let key = hash.as_bytes().to_vec();
    tx.set(Column::Headers, key.clone(), header.encode());
    tx.set(Column::Bodies, key.clone(), extrinsics.encode());

    // The new leaf is appended; it is the best block iff it is higher than the best block
    // (ties go to the block seen first).
    let best = number > info.best_number;
    let route = {
        let tree = client.tree.read();
        let mut leaves: Vec<Hash> =
            tree.leaves().iter().map(|(leaf, _)| *leaf).filter(|l| *l != parent_hash).collect();
        leaves.push(hash);
        tx.set(Column::Meta, meta_keys::LEAVES.to_vec(), leaves.encode());
        if best {
            let mut route = tree.route(info.best_hash, parent_hash).ok_or_else(|| {
                ChainError::Database(format!("no route from the best block to {parent_hash:?}"))
            })?;
            route.enacted.push((hash, number));
            write_route(&mut tx, &route, number, info.best_number);
            tx.set(Column::Meta, meta_keys::BEST.to_vec(), key);
            Some(route)
        } else {
            None
        }
    };
    if let Some(slot) = authored_slot {
        tx.set(Column::Meta, meta_keys::LAST_AUTHORED_SLOT.to_vec(), slot.encode());
    }
    client.db.commit(tx)?;

    client.tree.write().insert(hash, number, parent_hash);
    if best {
        let mut info = client.info.write();
        info.best_hash = hash;
        info.best_number = number;
    }
    client.send(ChainEvent::Imported { hash, header: header.clone() });
    if let Some(route) = route {
        let retracted: Vec<Hash> = route.retracted.iter().map(|(h, _)| *h).collect();
        if !retracted.is_empty() {
            client.count_reorg();
            log::info!(
                target: "chain",
                "♻️  reorg of depth {} at #{}: {:?} -> {:?} (#{number})",
                retracted.len(),
                route.common.1,
                info.best_hash,
                hash,
            );
        }
        let enacted = route.enacted.iter().map(|(h, _)| *h).collect();
        log::debug!(target: "chain", "imported #{number} {hash:?} (best)");
        client.send(ChainEvent::NewBest { hash, header, retracted, enacted });
    } else {
        log::debug!(target: "chain", "imported #{number} {hash:?} (fork)");
    }
    Ok(ImportOutcome::Imported { hash, number, best })
}
