//! Finality: one atomic commit that marks a block final, stores its justification, discards
//! the forks that do not descend from it, prunes states leaving the window, and moves the best
//! chain onto the finalized block when it was on another fork.

use super::{import::write_route, Client};
use crate::{
    api::{ChainApi, ChainError, ChainEvent, ChainResult, Hash},
    db::{meta_keys, number_key, Column, Transaction},
    pruning::{self, FinalityStep},
};
use codec::{Decode, Encode};
use std::collections::HashMap;
use subtensor_runtime::BlockNumber;

/// See [`crate::ChainWrite::finalize`].
pub(super) fn finalize(
    client: &Client,
    hash: Hash,
    justification: Option<Vec<u8>>,
) -> ChainResult<()> {
    let _guard = client.write_lock.lock();
    let header = client
        .header(hash)?
        .ok_or_else(|| ChainError::Finality(format!("unknown block {hash:?}")))?;
    let info = client.info();
    if header.number <= info.finalized_number {
        return if client.hash(header.number)? == Some(hash) {
            Ok(())
        } else {
            Err(ChainError::Finality(format!(
                "block #{} {hash:?} conflicts with the finalized chain",
                header.number
            )))
        };
    }
    let old_tree = client.tree.read().clone();
    if !old_tree.contains(&hash) {
        return Err(ChainError::Finality(format!(
            "block #{} {hash:?} does not descend from the last finalized block",
            header.number
        )));
    }
    let mut tree = old_tree.clone();
    let (newly_final, discarded) = tree
        .finalize(hash)
        .ok_or_else(|| ChainError::Finality(format!("block {hash:?} left the tree")))?;

    // The best block stays if it descends from the finalized one (it is still the highest
    // leaf, first seen among equals); otherwise the best descendant of the finalized block.
    let new_best = if tree.contains(&info.best_hash) {
        (info.best_hash, info.best_number)
    } else {
        tree.best()
    };
    let route = if new_best.0 == info.best_hash {
        None
    } else {
        Some(old_tree.route(info.best_hash, new_best.0).ok_or_else(|| {
            ChainError::Database(format!("no route from the best block to {:?}", new_best.0))
        })?)
    };

    let mut tx = Transaction::new();
    if let Some(route) = &route {
        write_route(&mut tx, route, new_best.1, info.best_number);
        tx.set(Column::Meta, meta_keys::BEST.to_vec(), new_best.0.as_bytes().to_vec());
    }
    tx.set(Column::Meta, meta_keys::FINALIZED.to_vec(), hash.as_bytes().to_vec());
    if let Some(justification) = justification {
        tx.set(Column::Meta, meta_keys::justification(hash.as_bytes()), justification);
    }
    let leaves: Vec<Hash> = tree.leaves().iter().map(|(leaf, _)| *leaf).collect();
    tx.set(Column::Meta, meta_keys::LEAVES.to_vec(), leaves.encode());
    // Discarded blocks lose their states now; their headers and bodies stay until the next
    // finalization, so that whoever follows the reorg this may cause (the transaction pool puts
    // the retracted blocks' transactions back) can still read them.
    if let Some(raw) = client.db.get(Column::Meta, meta_keys::DISCARDED_BODIES)? {
        let previous: Vec<Hash> = Decode::decode(&mut &raw[..])
            .map_err(|e| ChainError::Database(format!("corrupt discarded list: {e}")))?;
        for fork in previous {
            tx.remove(Column::Headers, fork.as_bytes().to_vec());
            tx.remove(Column::Bodies, fork.as_bytes().to_vec());
        }
    }
    let discarded_hashes: Vec<Hash> = discarded.iter().map(|(hash, _)| *hash).collect();
    tx.set(Column::Meta, meta_keys::DISCARDED_BODIES.to_vec(), discarded_hashes.encode());
    let final_path: HashMap<BlockNumber, Hash> =
        newly_final.iter().map(|(hash, number)| (*number, *hash)).collect();
    let canonical = |number: BlockNumber| -> ChainResult<Hash> {
        if let Some(hash) = final_path.get(&number) {
            return Ok(*hash);
        }
        match client.db.get(Column::NumberToHash, &number_key(number))? {
            Some(raw) if raw.len() == 32 => Ok(Hash::from_slice(&raw)),
            _ => Err(ChainError::Database(format!("no finalized block #{number} indexed"))),
        }
    };
    let new_pruned_below = pruning::on_finalize(
        client.db.as_ref(),
        &mut tx,
        client.config.pruning,
        FinalityStep { finalized: header.number, newly_final: &newly_final, discarded: &discarded },
        canonical,
        client.pruned_below(),
    )?;
    client.db.commit(tx)?;

    *client.tree.write() = tree;
    *client.pruned_below.write() = new_pruned_below;
    {
        let mut info = client.info.write();
        info.finalized_hash = hash;
        info.finalized_number = header.number;
        info.best_hash = new_best.0;
        info.best_number = new_best.1;
    }
    if !discarded.is_empty() {
        log::info!(
            target: "chain",
            "finalized #{} {hash:?}: {} blocks of abandoned forks discarded",
            header.number,
            discarded.len()
        );
    }
    if let Some(route) = route {
        if !route.retracted.is_empty() {
            client.count_reorg();
        }
        log::info!(
            target: "chain",
            "♻️  reorg of depth {} at #{} onto the finalized chain: {:?} -> {:?} (#{})",
            route.retracted.len(),
            route.common.1,
            info.best_hash,
            new_best.0,
            new_best.1,
        );
        if let Some(best_header) = client.header(new_best.0)? {
            client.send(ChainEvent::NewBest {
                hash: new_best.0,
                header: best_header,
                retracted: route.retracted.iter().map(|(h, _)| *h).collect(),
                enacted: route.enacted.iter().map(|(h, _)| *h).collect(),
            });
        }
    }
    client.send(ChainEvent::Finalized { hash, header });
    Ok(())
}
