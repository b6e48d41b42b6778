//! Keeping the pool in step with the chain: [`maintain`] follows [`ChainEvent`]s and calls
//! [`Pool::on_block_imported`] / [`Pool::on_block_finalized`].

use crate::{BlockHash, Pool, TxHash};
use codec::Encode;
use sp_crypto_hashing::blake2_256;
use std::sync::Arc;
use subtensor_chain::{ChainApi, ChainEvent};
use tokio::sync::broadcast::error::RecvError;

/// Hashes (blake2_256 of the encoding, as clients compute them) of the extrinsics of `block`;
/// empty if the block is unknown.
pub fn included_hashes(chain: &dyn ChainApi, block: BlockHash) -> Vec<TxHash> {
    match chain.block(block) {
        Ok(Some(block)) => {
            block.extrinsics.iter().map(|xt| TxHash::from(blake2_256(&xt.encode()))).collect()
        }
        _ => Vec::new(),
    }
}

/// The signed extrinsics of `block`, encoded; empty if the block is unknown. Inherents (bare
/// extrinsics) are left out: they never enter a pool.
pub(crate) fn signed_extrinsics(chain: &dyn ChainApi, block: BlockHash) -> Vec<Vec<u8>> {
    match chain.block(block) {
        Ok(Some(block)) => block
            .extrinsics
            .iter()
            .filter(|xt| !matches!(xt.preamble, sp_runtime::generic::Preamble::Bare(_)))
            .map(Encode::encode)
            .collect(),
        _ => Vec::new(),
    }
}

/// Follows the chain's events until their stream closes: on each best-chain change, the
/// transactions of retracted blocks (a reorg) go back into the pool
/// ([`Pool::resubmit_retracted`]) and each enacted block is processed with
/// [`Pool::on_block_imported`] (its extrinsics as the included set); each finalized block with
/// [`Pool::on_block_finalized`]. If events were missed, the current heads are processed.
///
/// Runs the pool's blocking work on tokio's blocking threads. A block the block builder
/// already reported is not processed twice.
pub async fn maintain(pool: Arc<Pool>) {
    let mut events = pool.chain().subscribe();
    loop {
        let (retracted, enacted, finalized) = match events.recv().await {
            Ok(ChainEvent::NewBest { hash, retracted, mut enacted, .. }) => {
                if enacted.is_empty() {
                    enacted.push(hash);
                }
                (retracted, enacted, None)
            }
            Ok(ChainEvent::Finalized { hash, .. }) => (Vec::new(), Vec::new(), Some(hash)),
            Ok(ChainEvent::Imported { .. }) => continue,
            Err(RecvError::Lagged(_)) => {
                let info = pool.chain().info();
                (Vec::new(), vec![info.best_hash], Some(info.finalized_hash))
            }
            Err(RecvError::Closed) => break,
        };
        let pool = pool.clone();
        let work = tokio::task::spawn_blocking(move || {
            for hash in retracted {
                let extrinsics = signed_extrinsics(pool.chain().as_ref(), hash);
                let readmitted = pool.resubmit_retracted(&extrinsics);
                if readmitted > 0 {
                    log::info!(
                        target: "txpool",
                        "{readmitted} transactions of retracted block {hash:?} back in the pool"
                    );
                }
            }
            for hash in enacted {
                let included = included_hashes(pool.chain().as_ref(), hash);
                pool.on_block_imported(hash, &included);
            }
            if let Some(hash) = finalized {
                pool.on_block_finalized(hash);
            }
        });
        // A panicking step leaves the pool consistent (every step works under its lock), so
        // maintenance goes on with the next event.
        if let Err(e) = work.await {
            log::error!(target: "txpool", "pool maintenance step failed: {e}");
        }
    }
}
