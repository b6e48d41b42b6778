//! Range sync: catch up with a peer whose best block is ahead of ours.
//!
//! One sync job at a time, towards one target (a peer and its best block):
//!
//! 1. **Common ancestor**: the highest block of the target's best chain that we know, by binary
//!    search on block numbers between our finalized block (the floor, assumed common) and the
//!    target; each probe asks the target for its block at that height. The first probe is at
//!    our best height, which settles the usual case (we are behind on the same chain) at once.
//! 2. **Download**: ascending ranges of up to `max_blocks_per_request` blocks from the ancestor
//!    up to the target, several in flight at once: a range goes to the target or to any peer
//!    whose finalized block is at or above the range's end (every honest peer agrees on
//!    finalized blocks); a range that fails (timeout, error, bad response) is retried from
//!    another eligible peer, and the job fails when none is left. Answers may come back out of
//!    order; they are handed in order to the one bounded import queue, at most
//!    [`MAX_RANGES_AHEAD`] ranges ahead of it.
//! 3. **Import**: the import worker imports each batch in order; an invalid block gets its
//!    sender reported and ends the job (the next job searches the ancestor again).
//!
//! Nothing is stored besides the chain itself: after a crash the node resumes from its stored
//! best block.

use crate::{
    error::{SyncError, SyncResult},
    import::{BatchOutcome, ImportBatch},
    requests,
    service::Ctx,
    wire::{BlockData, BlockRequest, Direction, FromBlock},
};
use futures::{
    future::BoxFuture, stream::FuturesOrdered, stream::FuturesUnordered, FutureExt, StreamExt,
};
use std::{
    collections::{BTreeMap, HashSet, VecDeque},
    sync::Arc,
};
use subtensor_chain::{ChainError, Hash};
use subtensor_network_api::{Misbehaviour, NetworkService, PeerId};
use subtensor_runtime::BlockNumber;
use tokio::sync::{mpsc, oneshot};

/// How many ranges may be downloaded (or downloading) ahead of the import queue.
pub(crate) const MAX_RANGES_AHEAD: usize = 8;

/// What a sync job catches up with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The peer.
    pub peer: PeerId,
    /// Its best block.
    pub hash: Hash,
    /// Its number.
    pub number: BlockNumber,
}

/// A range of block numbers to download.
#[derive(Debug, Clone)]
struct Range {
    start: BlockNumber,
    count: u32,
    /// Peers that failed to deliver it.
    tried: Vec<PeerId>,
}

impl Range {
    fn end(&self) -> BlockNumber {
        self.start.saturating_add(self.count.saturating_sub(1))
    }
}

/// Whether we know block `hash`.
fn known(ctx: &Ctx, hash: Hash) -> SyncResult<bool> {
    Ok(ctx.chain.header(hash)?.is_some())
}

/// Report `peer` if `error` shows it broke the protocol.
fn report_if_bad(network: &dyn NetworkService, peer: &PeerId, error: &SyncError) {
    if let SyncError::Decode(why) = error {
        network.report(peer.clone(), Misbehaviour::BadMessage(why.clone()));
    }
}

/// The number of the highest block of `target`'s best chain that we know.
pub(crate) async fn common_ancestor(ctx: &Ctx, target: &Target) -> SyncResult<BlockNumber> {
    let info = ctx.chain.info();
    let timeout = ctx.config.request_timeout;
    let network = ctx.network.as_ref();
    // Invariant: `lo` is known (the floor: our finalized block), `hi` is not.
    let mut lo = info.finalized_number;
    let mut hi = target.number;
    if hi <= lo {
        return Err(SyncError::BadResponse(format!(
            "target #{} is not above our finalized #{lo}",
            target.number
        )));
    }
    let mut probe = info.best_number.min(hi.saturating_sub(1));
    while probe > lo && probe < hi {
        let hash = requests::hash_at(network, &target.peer, probe, timeout)
            .await
            .inspect_err(|e| report_if_bad(network, &target.peer, e))?
            .ok_or_else(|| {
                SyncError::BadResponse(format!("the target has no block at #{probe}"))
            })?;
        if known(ctx, hash)? {
            lo = probe;
        } else {
            hi = probe;
        }
        // Midpoint of (lo, hi); equals lo when they are adjacent, which ends the loop.
        probe = lo.saturating_add(hi.saturating_sub(lo) / 2);
    }
    log::debug!(target: "sync", "common ancestor with {} is #{lo}", target.peer);
    Ok(lo)
}

/// A finished download: the range, who was asked, and what came back.
type Download = (Range, PeerId, SyncResult<Vec<BlockData>>);
/// A finished batch import: who sent the batch and its outcome.
type Imported = (PeerId, Result<BatchOutcome, oneshot::error::RecvError>);

/// Catch up with `target`: find the common ancestor, download and import up to the target.
pub(crate) async fn run(
    ctx: Arc<Ctx>,
    import: mpsc::Sender<ImportBatch>,
    target: Target,
) -> SyncResult<()> {
    let common = common_ancestor(&ctx, &target).await?;
    log::info!(
        target: "sync",
        "syncing #{}..=#{} from {}",
        common.saturating_add(1),
        target.number,
        target.peer
    );
    let per_request =
        ctx.config.max_blocks_per_request.clamp(1, crate::wire::MAX_BLOCKS_PER_REQUEST);
    let end = target.number;
    let mut next_start = common.saturating_add(1);
    let mut next_queued = next_start;
    let mut imported_to = common;
    let mut retries: VecDeque<Range> = VecDeque::new();
    let mut turn = 0usize;
    let mut busy: HashSet<PeerId> = HashSet::new();
    let mut ready: BTreeMap<BlockNumber, (PeerId, Vec<BlockData>)> = BTreeMap::new();
    let mut downloads: FuturesUnordered<BoxFuture<'static, Download>> = FuturesUnordered::new();
    let mut imports: FuturesOrdered<BoxFuture<'static, Imported>> = FuturesOrdered::new();

    while imported_to < end {
        // Start downloads while peers and room allow.
        while downloads.len() < ctx.config.max_parallel_downloads.max(1)
            && downloads.len().saturating_add(ready.len()) < MAX_RANGES_AHEAD
        {
            let range = match retries.pop_front() {
                Some(range) => range,
                None if next_start <= end => {
                    let count = per_request.min(end.saturating_sub(next_start).saturating_add(1));
                    let range = Range { start: next_start, count, tried: Vec::new() };
                    next_start = next_start.saturating_add(count);
                    range
                }
                None => break,
            };
            turn = turn.wrapping_add(1);
            match choose_peer(&ctx, &target, &range, &busy, turn) {
                Choice::Peer(peer) => {
                    busy.insert(peer.clone());
                    downloads.push(download(ctx.clone(), peer, range));
                }
                Choice::Wait => {
                    retries.push_front(range);
                    break;
                }
                Choice::NoneLeft => {
                    return Err(SyncError::BadResponse(format!(
                        "no peer delivered #{}..=#{}",
                        range.start,
                        range.end()
                    )));
                }
            }
        }
        let next_ready = ready.contains_key(&next_queued);
        tokio::select! {
            Some((mut range, peer, result)) = downloads.next() => {
                busy.remove(&peer);
                let checked = result.and_then(|blocks| {
                    requests::check_ascending(&blocks, range.start, range.count).map(|()| blocks)
                });
                match checked {
                    Ok(blocks) => {
                        let got = u32::try_from(blocks.len()).unwrap_or(range.count);
                        if got < range.count {
                            // Cut by the response size limit: ask the rest again.
                            retries.push_front(Range {
                                start: range.start.saturating_add(got),
                                count: range.count.saturating_sub(got),
                                tried: Vec::new(),
                            });
                        }
                        ready.insert(range.start, (peer, blocks));
                    }
                    Err(e) => {
                        log::debug!(
                            target: "sync",
                            "#{}..=#{} from {peer} failed: {e}",
                            range.start,
                            range.end()
                        );
                        report_if_bad(ctx.network.as_ref(), &peer, &e);
                        range.tried.push(peer);
                        retries.push_front(range);
                    }
                }
            }
            permit = import.reserve(), if next_ready => {
                let permit = permit.map_err(|_| SyncError::Shutdown)?;
                if let Some((origin, blocks)) = ready.remove(&next_queued) {
                    let count = u32::try_from(blocks.len()).unwrap_or(u32::MAX);
                    next_queued = next_queued.saturating_add(count);
                    let (reply, outcome) = oneshot::channel();
                    permit.send(ImportBatch { origin: origin.clone(), blocks, reply });
                    imports.push_back(async move { (origin, outcome.await) }.boxed());
                }
            }
            Some((origin, outcome)) = imports.next() => {
                match outcome.map_err(|_| SyncError::Shutdown)? {
                    BatchOutcome::Done { last: Some((_, number)) } => imported_to = imported_to.max(number),
                    BatchOutcome::Done { last: None } => {}
                    BatchOutcome::Future { number } => {
                        return Err(SyncError::BadResponse(format!(
                            "block #{number} from {origin} is from a future slot"
                        )));
                    }
                    BatchOutcome::Failed { number, error } => {
                        if let ChainError::InvalidBlock(why) = &error {
                            log::info!(target: "sync", "invalid block #{number} from {origin}: {why}");
                            ctx.network.report(origin, Misbehaviour::InvalidBlock(why.clone()));
                        } else {
                            log::debug!(target: "sync", "block #{number} from {origin} not imported: {error}");
                        }
                        return Err(error.into());
                    }
                }
            }
            else => return Err(SyncError::Task("range sync stalled".into())),
        }
    }
    log::info!(target: "sync", "synced up to #{end} with {}", target.peer);
    Ok(())
}

/// Whom to ask for a range.
enum Choice {
    /// This peer.
    Peer(PeerId),
    /// Every eligible peer is busy: wait for one.
    Wait,
    /// Every eligible peer failed this range.
    NoneLeft,
}

/// A peer for `range`: an idle peer whose finalized block covers the range (spreading the load
/// away from the target), else the target.
fn choose_peer(
    ctx: &Ctx,
    target: &Target,
    range: &Range,
    busy: &HashSet<PeerId>,
    turn: usize,
) -> Choice {
    let mut eligible: Vec<PeerId> = ctx
        .status
        .peer_states()
        .into_iter()
        .filter(|(peer, state)| *peer != target.peer && state.finalized_number >= range.end())
        .map(|(peer, _)| peer)
        .collect();
    eligible.sort();
    eligible.push(target.peer.clone());
    let untried: Vec<&PeerId> = eligible.iter().filter(|p| !range.tried.contains(p)).collect();
    if untried.is_empty() {
        return Choice::NoneLeft;
    }
    // Spread ranges over peers: start the scan at a rotating position.
    let n = untried.len();
    (0..n)
        .filter_map(|i| untried.get(turn.wrapping_add(i).checked_rem(n).unwrap_or(0)))
        .find(|p| !busy.contains(**p))
        .map_or(Choice::Wait, |p| Choice::Peer((*p).clone()))
}

/// Download `range` from `peer`.
fn download(ctx: Arc<Ctx>, peer: PeerId, range: Range) -> BoxFuture<'static, Download> {
    async move {
        let request = BlockRequest {
            from: FromBlock::Number(range.start),
            direction: Direction::Ascending,
            max: range.count,
            justifications: true,
        };
        let result =
            requests::blocks(ctx.network.as_ref(), &peer, request, ctx.config.request_timeout)
                .await
                .map(|response| response.blocks);
        (range, peer, result)
    }
    .boxed()
}
