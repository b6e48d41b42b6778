//! Block authoring as the single authority: on every tick (or as soon as a transaction is ready
//! with instant sealing) build a block on the best block from the pool's ready transactions,
//! seal it, import it, and finalize it a moment later.
//!
//! Finality follows the best block with a short delay, so that clients see the `inBlock`
//! status of their transactions before `finalized` (polkadot.js drops `inBlock` otherwise).

use super::Metrics;
use sp_core::sr25519;
use std::{fmt, sync::Arc, time::Duration};
use subtensor_chain::{consensus, ChainApi, ChainWrite, Client};
use subtensor_runtime::{Block, UncheckedExtrinsic};
use subtensor_txpool::Pool;

/// How long after import a block is finalized.
pub(super) const FINALITY_DELAY: Duration = Duration::from_millis(300);

/// The most pool transactions offered to one block.
const MAX_CANDIDATES: usize = 20_000;

/// When blocks are produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sealing {
    /// One block every interval, with or without transactions.
    Interval(Duration),
    /// A block as soon as transactions are ready.
    Instant,
    /// No blocks.
    Manual,
}

impl fmt::Display for Sealing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sealing::Interval(d) => write!(f, "every {} ms", d.as_millis()),
            Sealing::Instant => f.write_str("instant"),
            Sealing::Manual => f.write_str("manual"),
        }
    }
}

impl std::str::FromStr for Sealing {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "instant" => Ok(Sealing::Instant),
            "manual" => Ok(Sealing::Manual),
            ms => match ms.parse::<u64>() {
                Ok(0) | Err(_) => Err(format!(
                    "--sealing must be a block time in ms (> 0), instant or manual, not {ms:?}"
                )),
                Ok(ms) => Ok(Sealing::Interval(Duration::from_millis(ms))),
            },
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Author blocks until the task is cancelled.
pub(super) async fn run(
    client: Arc<Client>,
    pool: Arc<Pool>,
    key: sr25519::Pair,
    sealing: Sealing,
    metrics: Arc<Metrics>,
) {
    let mut ready = pool.ready_notifications();
    let mut ticker = match &sealing {
        Sealing::Interval(d) => {
            let mut t = tokio::time::interval(*d);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            Some(t)
        }
        _ => None,
    };
    loop {
        match &mut ticker {
            Some(t) => {
                t.tick().await;
            }
            None => {
                if pool.status().ready == 0 {
                    // Wait for a transaction to become ready; a lagged receiver just retries.
                    let _ = ready.recv().await;
                }
            }
        }
        let (client_, pool_, key_, metrics_) =
            (client.clone(), pool.clone(), key.clone(), metrics.clone());
        let authored =
            tokio::task::spawn_blocking(move || author_one(&client_, &pool_, &key_, &metrics_))
                .await;
        match authored {
            Ok(Ok(hash)) => {
                let client = client.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(FINALITY_DELAY).await;
                    if let Err(e) = client.finalize(hash) {
                        log::debug!(target: "author", "not finalizing {hash:?}: {e}");
                    }
                });
            }
            Ok(Err(e)) => {
                log::error!(target: "author", "block authoring failed: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => log::error!(target: "author", "block authoring task failed: {e}"),
        }
    }
}

/// Build, seal and import one block on the best block, then tell the pool which of its
/// transactions were included. Returns the block's hash.
fn author_one(
    client: &Client,
    pool: &Pool,
    key: &sr25519::Pair,
    metrics: &Metrics,
) -> subtensor_chain::ChainResult<subtensor_chain::Hash> {
    let started = std::time::Instant::now();
    let info = client.info();
    let parent = client.expect_header(info.best_hash)?;
    let slot_ms = client.config().slot_duration_ms.max(1);
    let next_slot_start = consensus::slot_of(&parent)?
        .map(|slot| slot.saturating_add(1).saturating_mul(slot_ms))
        .unwrap_or(0);
    let timestamp = now_ms().max(next_slot_start);

    let candidates: Vec<_> = pool.ready().take(MAX_CANDIDATES).collect();
    let extrinsics: Vec<UncheckedExtrinsic> =
        candidates.iter().map(|tx| tx.extrinsic.clone()).collect();
    let built = client.build_block(info.best_hash, timestamp, &extrinsics)?;
    let invalid: Vec<_> = built
        .rejected
        .iter()
        .filter_map(|(index, _)| candidates.get(*index).map(|tx| tx.hash))
        .collect();
    if !invalid.is_empty() {
        log::debug!(target: "author", "dropping {} invalid transactions", invalid.len());
        pool.remove_invalid(&invalid);
    }
    let block = Block {
        header: consensus::seal(built.block.header, key),
        extrinsics: built.block.extrinsics,
    };
    let number = block.header.number;
    let count = block.extrinsics.len();
    let outcome = client.import_block(block)?;
    let hash = match outcome {
        subtensor_chain::ImportOutcome::Imported { hash, .. } => hash,
        subtensor_chain::ImportOutcome::AlreadyKnown(hash) => hash,
    };
    let included: Vec<_> = built
        .included
        .iter()
        .filter_map(|index| candidates.get(*index).map(|tx| tx.hash))
        .collect();
    pool.on_block_imported(hash, &included);
    let elapsed = started.elapsed();
    metrics.observe_block(elapsed);
    log::info!(
        target: "author",
        "✨ imported #{number} ({hash:?}) with {} transactions in {} ms",
        count.saturating_sub(1),
        elapsed.as_millis()
    );
    Ok(hash)
}
