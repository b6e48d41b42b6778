//! Block authoring: Aura slots shared by the chain's authorities.
//!
//! With [`Sealing::Interval`] the interval is the slot duration: at each slot boundary, if this
//! node's key is the slot's author (`authorities[slot % n]`), the node is not far behind its
//! peers, and it has not authored in this slot before (the last authored slot is stored with
//! each authored block, so this holds across restarts), it builds a block on the best block
//! from the pool's ready transactions, seals it, imports it and announces it.
//! [`Sealing::Instant`] (a block as soon as a transaction is ready) is for single-authority
//! development chains.
//!
//! When the chain has a single authority and runs no finality gadget, the author finalizes its
//! own blocks a moment after import, so that clients see the `inBlock` status of their
//! transactions before `finalized` (polkadot.js drops `inBlock` otherwise).

use super::Metrics;
use sp_core::{sr25519, Pair};
use std::{fmt, sync::Arc, time::Duration};
use subtensor_chain::{consensus, ChainApi, ChainWrite, Client};
use subtensor_runtime::{Block, Header, UncheckedExtrinsic};
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

/// What the author needs besides the chain and the pool.
pub(super) struct Author {
    /// The authority's Aura key.
    pub key: sr25519::Pair,
    /// When to author.
    pub sealing: Sealing,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Called with each authored block's header after its import (block announcement).
    pub announce: Arc<dyn Fn(&Header) + Send + Sync>,
    /// Whether the node is far behind its peers (authoring pauses meanwhile).
    pub major_syncing: Arc<dyn Fn() -> bool + Send + Sync>,
    /// Finalize authored blocks a moment after import (single authority, no finality gadget),
    /// with a justification signed by this GRANDPA key when the chain has one, so that full
    /// nodes finalize the blocks too.
    pub self_finalize: bool,
    /// The GRANDPA key of a single-authority chain (see `self_finalize`).
    pub finality_key: Option<sp_core::ed25519::Pair>,
}

/// Milliseconds until the start of the slot after the one containing `now_ms`.
fn until_next_slot(now_ms: u64, slot_ms: u64) -> Duration {
    let into = now_ms.checked_rem(slot_ms).unwrap_or(0);
    Duration::from_millis(slot_ms.saturating_sub(into).max(1))
}

/// Author blocks until the task is cancelled.
pub(super) async fn run(client: Arc<Client>, pool: Arc<Pool>, author: Author) {
    let author = Arc::new(author);
    let mut ready = pool.ready_notifications();
    let slot_ms = client.config().slot_duration_ms.max(1);
    let mut last_slot = client.last_authored_slot().ok().flatten().unwrap_or(0);
    loop {
        let slot = match &author.sealing {
            Sealing::Interval(_) => {
                tokio::time::sleep(until_next_slot(now_ms(), slot_ms)).await;
                let slot = consensus::slot_at(now_ms(), slot_ms);
                let ours = consensus::slot_author(slot, &client.config().authorities)
                    == Some(&author.key.public());
                if !ours || slot <= last_slot {
                    continue;
                }
                if (author.major_syncing)() {
                    log::debug!(target: "author", "slot {slot}: not authoring while syncing");
                    continue;
                }
                Some(slot)
            }
            Sealing::Instant | Sealing::Manual => {
                if pool.status().ready == 0 {
                    // Wait for a transaction to become ready; a lagged receiver just retries.
                    let _ = ready.recv().await;
                }
                None
            }
        };
        let (client_, pool_, author_) = (client.clone(), pool.clone(), author.clone());
        let authored =
            tokio::task::spawn_blocking(move || author_one(&client_, &pool_, &author_, slot)).await;
        match authored {
            Ok(Ok((hash, header, slot))) => {
                last_slot = slot;
                (author.announce)(&header);
                if author.self_finalize {
                    let client = client.clone();
                    let justification = author.finality_key.as_ref().map(|key| {
                        // A one-voter GRANDPA justification; the block number serves as the
                        // round (it only grows).
                        subtensor_finality::single_authority_justification(
                            key,
                            0,
                            u64::from(header.number),
                            hash,
                            header.number,
                        )
                    });
                    tokio::spawn(async move {
                        tokio::time::sleep(FINALITY_DELAY).await;
                        if let Err(e) = client.finalize(hash, justification) {
                            log::debug!(target: "author", "not finalizing {hash:?}: {e}");
                        }
                    });
                }
            }
            Ok(Err(e)) => {
                log::error!(target: "author", "block authoring failed: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => log::error!(target: "author", "block authoring task failed: {e}"),
        }
    }
}

/// Build, seal and import one block on the best block (in `slot`, or for instant sealing in the
/// first slot after the parent's), then tell the pool which of its transactions were included.
/// Returns the block's hash, header and slot.
fn author_one(
    client: &Client,
    pool: &Pool,
    author: &Author,
    slot: Option<u64>,
) -> subtensor_chain::ChainResult<(subtensor_chain::Hash, Header, u64)> {
    let started = std::time::Instant::now();
    let info = client.info();
    let parent = client.expect_header(info.best_hash)?;
    let slot_ms = client.config().slot_duration_ms.max(1);
    let next_slot_start = consensus::slot_of(&parent)?
        .map(|slot| slot.saturating_add(1).saturating_mul(slot_ms))
        .unwrap_or(0);
    let timestamp = match slot {
        // Within the slot: now, unless the clock already moved past it.
        Some(slot) => now_ms().clamp(
            slot.saturating_mul(slot_ms),
            slot.saturating_add(1).saturating_mul(slot_ms).saturating_sub(1),
        ),
        None => now_ms().max(next_slot_start),
    };
    let slot = consensus::slot_at(timestamp, slot_ms);
    if timestamp < next_slot_start {
        return Err(subtensor_chain::ChainError::InvalidBlock(format!(
            "the best block #{} is from slot {} or later; not authoring in slot {slot}",
            parent.number,
            next_slot_start.checked_div(slot_ms).unwrap_or(0)
        )));
    }

    let candidates: Vec<_> = pool.ready().take(MAX_CANDIDATES).collect();
    let extrinsics: Vec<UncheckedExtrinsic> =
        candidates.iter().map(|tx| tx.extrinsic.clone()).collect();
    // Building may take half the slot; the rest is for sealing, importing and for other nodes
    // to import the block before the next slot.
    let deadline = started + Duration::from_millis(slot_ms / 2);
    let built = client.build_block_until(info.best_hash, timestamp, &extrinsics, Some(deadline))?;
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
        header: consensus::seal(built.block.header, &author.key),
        extrinsics: built.block.extrinsics,
    };
    let header = block.header.clone();
    let number = block.header.number;
    let count = block.extrinsics.len();
    let outcome = client.import_authored_block(block, slot)?;
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
    author.metrics.observe_block(elapsed);
    log::info!(
        target: "author",
        "✨ authored #{number} ({hash:?}) in slot {slot} with {} transactions in {} ms",
        count.saturating_sub(1),
        elapsed.as_millis()
    );
    Ok((hash, header, slot))
}
