//! Block announcements: check the header, fetch the block from whoever forwarded the
//! announcement, import it, and only then let gossip forward the announcement.
//!
//! | case | verdict |
//! |---|---|
//! | undecodable | Reject |
//! | already known, at or below finality, or being fetched | Ignore |
//! | parent unknown | Ignore, and the sync targets the source |
//! | header without a valid slot digest | Reject, source reported |
//! | slot too far in the future | Ignore, the block is fetched and imported when its slot comes |
//! | fetched and imported (by us or, meanwhile, by the range sync) | Accept |
//! | refused by import as invalid (seal, execution) | Reject, source reported |
//! | anything else (fetch failed, no free slot...) | Ignore |

use crate::{
    import::import_one,
    requests,
    service::Ctx,
    wire::{decode_message, BlockAnnounce, BlockRequest, Direction, FromBlock},
};
use parking_lot::Mutex;
use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};
use subtensor_chain::{consensus, ChainError, Hash, ImportOutcome};
use subtensor_network_api::{Acceptance, GossipMessage, MessageId, Misbehaviour, PeerId};
use subtensor_runtime::Header;
use tokio::sync::{mpsc, Semaphore};

/// How many announced blocks are fetched from one peer at once (further ones are ignored).
pub(crate) const MAX_FETCHES_PER_PEER: usize = 4;

/// A block announced too early, waiting for its slot.
#[derive(Debug)]
struct Deferred {
    header: Header,
    source: PeerId,
}

/// The announcement side of the sync, driven by the sync's main task.
pub(crate) struct Announcements {
    ctx: Arc<Ctx>,
    /// Blocks being fetched or imported, with the peer asked (shared with their tasks).
    in_flight: Arc<Mutex<HashMap<Hash, PeerId>>>,
    /// Bounds the concurrent fetches.
    permits: Arc<Semaphore>,
    /// Future blocks, oldest first (bounded).
    deferred: VecDeque<Deferred>,
    /// Where the tasks ask the sync to target a peer whose block has an unknown parent.
    sync_with: mpsc::Sender<PeerId>,
}

impl Announcements {
    pub(crate) fn new(ctx: Arc<Ctx>, sync_with: mpsc::Sender<PeerId>) -> Self {
        let permits = Arc::new(Semaphore::new(ctx.config.max_concurrent_announces));
        Self {
            ctx,
            in_flight: Arc::new(Mutex::new(HashMap::new())),
            permits,
            deferred: VecDeque::new(),
            sync_with,
        }
    }

    fn verdict(&self, message: &GossipMessage, acceptance: Acceptance) {
        self.ctx.network.validate(message.id.clone(), message.source.clone(), acceptance);
    }

    /// Handle one received announcement; returns the peer to sync from when the block's parent
    /// is unknown.
    pub(crate) fn on_message(&mut self, message: GossipMessage) -> Option<PeerId> {
        let announce: BlockAnnounce = match decode_message(&message.data) {
            Ok(announce) => announce,
            Err(e) => {
                log::debug!(target: "sync", "bad announcement from {}: {e}", message.source);
                self.verdict(&message, Acceptance::Reject);
                return None;
            }
        };
        let header = announce.header;
        let hash = header.hash();
        let number = header.number;
        // A claim is believed only with its slot author's seal (anyone can announce anything).
        let authorities = &self.ctx.config.authorities;
        let sealed = authorities.is_empty() || consensus::check_seal(&header, authorities).is_ok();
        if announce.best && sealed {
            self.ctx.status.note_peer_best(&message.source, hash, number);
        }
        let chain = &self.ctx.chain;
        let known = |h: Hash| matches!(chain.header(h), Ok(Some(_)));
        if number <= chain.info().finalized_number
            || known(hash)
            || self.in_flight.lock().contains_key(&hash)
        {
            self.verdict(&message, Acceptance::Ignore);
            return None;
        }
        if !known(header.parent_hash) {
            log::debug!(
                target: "sync",
                "announced #{number} {hash:?} from {} has an unknown parent",
                message.source
            );
            if !sealed {
                // Not sealed by its slot's author: a lie or garbage; never forwarded.
                self.verdict(&message, Acceptance::Reject);
                return None;
            }
            // The source imported the block: its chain reaches it.
            self.ctx.status.note_peer_best(&message.source, hash, number);
            self.verdict(&message, Acceptance::Ignore);
            return Some(message.source);
        }
        let now = (self.ctx.config.clock)();
        match consensus::is_future(&header, self.ctx.config.slot_duration_ms, now) {
            Err(e) => {
                self.verdict(&message, Acceptance::Reject);
                self.ctx.network.report(message.source, Misbehaviour::InvalidBlock(e.to_string()));
                None
            }
            Ok(true) => {
                log::debug!(target: "sync", "announced #{number} {hash:?} is early: deferred");
                self.verdict(&message, Acceptance::Ignore);
                if self.deferred.iter().all(|d| d.header.hash() != hash) {
                    if self.deferred.len() >= self.ctx.config.max_deferred_blocks {
                        self.deferred.pop_front();
                    }
                    self.deferred.push_back(Deferred { header, source: message.source });
                }
                None
            }
            Ok(false) => {
                self.fetch_and_import(header, message.source, Some(message.id));
                None
            }
        }
    }

    /// Whether the announced block `hash` is being fetched or imported.
    pub(crate) fn is_in_flight(&self, hash: &Hash) -> bool {
        self.in_flight.lock().contains_key(hash)
    }

    /// Import the deferred blocks whose slot has come.
    pub(crate) fn retry_deferred(&mut self) {
        if self.deferred.is_empty() {
            return;
        }
        let now = (self.ctx.config.clock)();
        let slot_ms = self.ctx.config.slot_duration_ms;
        let (due, waiting): (Vec<Deferred>, Vec<Deferred>) = self
            .deferred
            .drain(..)
            .partition(|d| !matches!(consensus::is_future(&d.header, slot_ms, now), Ok(true)));
        self.deferred = waiting.into();
        for Deferred { header, source } in due {
            self.fetch_and_import(header, source, None);
        }
    }

    /// Spawn the fetch and import of the announced `header` from `source`, and the verdict on
    /// `message` (none for a deferred block, whose announcement was already ignored).
    fn fetch_and_import(&self, header: Header, source: PeerId, message: Option<MessageId>) {
        let hash = header.hash();
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            log::debug!(target: "sync", "too many announced blocks in flight: {hash:?} ignored");
            if let Some(id) = message {
                self.ctx.network.validate(id, source, Acceptance::Ignore);
            }
            return;
        };
        {
            let mut in_flight = self.in_flight.lock();
            let from_source = in_flight.values().filter(|peer| **peer == source).count();
            if in_flight.contains_key(&hash) || from_source >= MAX_FETCHES_PER_PEER {
                drop(in_flight);
                if let Some(id) = message {
                    self.ctx.network.validate(id, source, Acceptance::Ignore);
                }
                return;
            }
            in_flight.insert(hash, source.clone());
        }
        let ctx = self.ctx.clone();
        let in_flight = self.in_flight.clone();
        let sync_with = self.sync_with.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let acceptance = fetch_and_import(&ctx, &header, &source, &sync_with).await;
            in_flight.lock().remove(&hash);
            if let Some(id) = message {
                ctx.network.validate(id, source, acceptance);
            }
        });
    }
}

/// Fetch block `header` from `source` and import it; the verdict on its announcement.
async fn fetch_and_import(
    ctx: &Arc<Ctx>,
    header: &Header,
    source: &PeerId,
    sync_with: &mpsc::Sender<PeerId>,
) -> Acceptance {
    let hash = header.hash();
    let number = header.number;
    let request = BlockRequest {
        from: FromBlock::Hash(hash),
        direction: Direction::Descending,
        max: 1,
        justifications: true,
    };
    let timeout = ctx.config.request_timeout;
    let mut response = match requests::blocks(ctx.network.as_ref(), source, request, timeout).await
    {
        Ok(response) => response,
        Err(crate::SyncError::Decode(e)) => {
            ctx.network.report(source.clone(), Misbehaviour::BadMessage(format!("blocks: {e}")));
            return Acceptance::Reject;
        }
        Err(e) => {
            log::debug!(target: "sync", "fetching announced #{number} from {source}: {e}");
            return Acceptance::Ignore;
        }
    };
    let data = match response.blocks.pop() {
        Some(data) if response.blocks.is_empty() && data.block.header == *header => data,
        _ => {
            log::debug!(target: "sync", "{source} did not send the announced #{number} {hash:?}");
            return Acceptance::Ignore;
        }
    };
    let chain = ctx.chain.clone();
    let verifier = ctx.verifier.clone();
    let status = ctx.status.clone();
    let imported =
        tokio::task::spawn_blocking(move || import_one(&chain, verifier.as_ref(), &status, data))
            .await;
    match imported {
        Ok(Ok((ImportOutcome::Imported { .. }, finality))) => {
            log::debug!(target: "sync", "imported announced #{number} {hash:?} from {source}");
            if let Err(why) = finality {
                ctx.network.report(source.clone(), Misbehaviour::InvalidFinality(why));
            }
            Acceptance::Accept
        }
        // Imported meanwhile by the range sync: valid all the same, and others may need it.
        Ok(Ok((ImportOutcome::AlreadyKnown(_), _))) => Acceptance::Accept,
        Ok(Err(ChainError::InvalidBlock(why))) => {
            log::info!(target: "sync", "invalid block #{number} {hash:?} from {source}: {why}");
            ctx.network.report(source.clone(), Misbehaviour::InvalidBlock(why));
            Acceptance::Reject
        }
        Ok(Err(ChainError::UnknownParent(_))) => {
            // Our chain moved (finality discarded the parent?) or the parent is being synced.
            let _ = sync_with.try_send(source.clone());
            Acceptance::Ignore
        }
        Ok(Err(e)) => {
            log::debug!(target: "sync", "announced #{number} {hash:?} not imported: {e}");
            Acceptance::Ignore
        }
        Err(e) => {
            log::warn!(target: "sync", "import task failed: {e}");
            Acceptance::Ignore
        }
    }
}
