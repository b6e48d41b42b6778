//! Catching up with peers that are rounds ahead, and answering peers that are behind.
//!
//! A peer's neighbour packet (or a vote of a round too far ahead) showing it in a later round of
//! our set, or in our round when we have been stuck there for a while, makes us ask it
//! ([`CatchUpRequest`] with our round, rate-limited per peer, at most one request per peer in
//! flight, so every peer gets asked in turn). The answer carries its last completed round (a
//! `finality_grandpa::CatchUp`: enough prevotes and precommits to complete it) and the votes it
//! saw in our round: votes gossiped while we had no link to it (gossip never replays them) reach
//! us this way. A catch-up for a round after ours goes to the voter's global input (the voter
//! jumps to the next round); one for our round and the round votes go to the round like
//! gossiped votes. Every signature is checked first; a bad one gets the peer reported.
//!
//! The request also names the blocks that votes we hold point at but that we do not know (a
//! fork we never synced, typically the losing side's after a partition); the answer carries
//! their headers down to the responder's finalized block, which the [`VoteTree`] keeps so that
//! those votes count.
//!
//! [`VoteTree`]: crate::chain::VoteTree

use crate::{
    chain::FinalityChain as _,
    gossip::check_vote,
    router::{commit_blocks_known, SignedMsg},
    shared::Shared,
    wire::{
        decode_all, CatchUpRequest, CatchUpResponse, GossipMessage, MAX_CATCH_UP_HEADERS,
        MAX_MISSING_BLOCKS,
    },
    LOG_TARGET,
};
use codec::Encode;
use finality_grandpa::{
    voter::{Callback, CommunicationIn},
    Message, SignedMessage,
};
use parking_lot::Mutex;
use sp_consensus_grandpa::{CatchUp, RoundNumber, SetId};
use sp_core::H256;
use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};
use subtensor_network_api::{IncomingRequest, Misbehaviour, PeerId, Protocol, Topic};

/// The most peers whose views and request times are remembered.
const MAX_PEERS: usize = 1024;
/// How long to wait for a catch-up answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The most catch-up requests awaiting their answers at once.
const MAX_IN_FLIGHT: usize = 8;

/// Where a peer said it is.
#[derive(Debug, Clone, Copy)]
struct PeerView {
    set_id: SetId,
    round: RoundNumber,
}

/// Peers' views and the catch-up rate limits.
pub(crate) struct CatchUpTracker {
    views: HashMap<PeerId, PeerView>,
    last_request: HashMap<PeerId, Instant>,
    /// The peers asked whose answer has not come yet (one request per peer at a time: a peer
    /// that does not answer never keeps us from asking the others).
    in_flight: Arc<Mutex<HashSet<PeerId>>>,
}

impl CatchUpTracker {
    pub(crate) fn new() -> Self {
        CatchUpTracker {
            views: HashMap::new(),
            last_request: HashMap::new(),
            in_flight: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// A peer disconnected.
    pub(crate) fn forget(&mut self, peer: &PeerId) {
        self.views.remove(peer);
        self.last_request.remove(peer);
    }

    /// A neighbour packet from `peer` (its direct sender: neighbour packets are not forwarded).
    pub(crate) fn on_neighbor(
        &mut self,
        shared: &Arc<Shared>,
        peer: &PeerId,
        round: RoundNumber,
        set_id: SetId,
        _finalized: u32,
    ) {
        if self.views.len() >= MAX_PEERS && !self.views.contains_key(peer) {
            return;
        }
        self.views.insert(peer.clone(), PeerView { set_id, round });
        self.consider(shared, peer);
    }

    /// Periodic check: ask every peer ahead of us, or in our round when we are stuck there,
    /// (each at most once per `catch_up_interval`) for what it has.
    pub(crate) fn on_tick(&mut self, shared: &Arc<Shared>) {
        // The peers asked longest ago (or never) first.
        let mut peers: Vec<(Option<Instant>, PeerId)> = self
            .views
            .keys()
            .map(|peer| (self.last_request.get(peer).copied(), peer.clone()))
            .collect();
        peers.sort();
        for (_, peer) in peers {
            self.consider(shared, &peer);
        }
    }

    fn consider(&mut self, shared: &Arc<Shared>, peer: &PeerId) {
        let Some(view) = self.views.get(peer).copied() else { return };
        if view.set_id != shared.set_id() {
            return;
        }
        let (our_round, age) = {
            let router = shared.router.lock();
            (router.current_round(), router.round_age())
        };
        let ahead = view.round > our_round;
        let stuck = view.round == our_round && age >= shared.config.stuck_round_after;
        if ahead || stuck {
            self.request_catch_up(shared, peer.clone());
        }
    }

    /// Ask `peer` for a catch-up unless we asked it recently, its answer to an earlier
    /// request is still awaited, or too many requests are.
    pub(crate) fn request_catch_up(&mut self, shared: &Arc<Shared>, peer: PeerId) {
        let now = Instant::now();
        if let Some(last) = self.last_request.get(&peer) {
            if now.saturating_duration_since(*last) < shared.config.catch_up_interval {
                return;
            }
        }
        {
            let mut in_flight = self.in_flight.lock();
            if in_flight.len() >= MAX_IN_FLIGHT || !in_flight.insert(peer.clone()) {
                return;
            }
        }
        if self.last_request.len() >= MAX_PEERS {
            let interval = shared.config.catch_up_interval;
            self.last_request.retain(|_, t| now.saturating_duration_since(*t) < interval);
        }
        self.last_request.insert(peer.clone(), now);
        let (round, waiting) = {
            let router = shared.router.lock();
            (router.current_round(), router.waiting_targets())
        };
        let missing = shared.tree.unknown(waiting, MAX_MISSING_BLOCKS);
        log::debug!(
            target: LOG_TARGET,
            "{}asking {peer} for a catch-up from round {round}{}",
            shared.name(),
            if missing.is_empty() {
                String::new()
            } else {
                format!(" and the headers of {} blocks voted for", missing.len())
            }
        );
        let request = CatchUpRequest { set_id: shared.set_id(), round, missing: missing.clone() };
        let answer =
            shared.network.request(peer.clone(), Protocol::GrandpaCatchUp, request.encode());
        let shared = shared.clone();
        let in_flight = self.in_flight.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(REQUEST_TIMEOUT, answer).await {
                Ok(Ok(Ok(bytes))) => on_response(&shared, &peer, round, &missing, &bytes),
                Ok(Ok(Err(e))) => {
                    log::debug!(target: LOG_TARGET, "catch-up request to {peer} failed: {e}")
                }
                Ok(Err(_)) | Err(_) => {
                    log::debug!(target: LOG_TARGET, "catch-up request to {peer} got no answer")
                }
            }
            in_flight.lock().remove(&peer);
        });
    }
}

/// Check every signature of a catch-up.
fn check_catch_up(
    shared: &Shared,
    set_id: SetId,
    catch_up: &CatchUp<crate::Header>,
) -> Result<(), String> {
    let round = catch_up.round_number;
    for vote in &catch_up.prevotes {
        let signed = SignedMessage {
            message: Message::Prevote(vote.prevote.clone()),
            signature: vote.signature.clone(),
            id: vote.id.clone(),
        };
        check_vote(shared, round, set_id, &signed)?;
    }
    for vote in &catch_up.precommits {
        let signed = SignedMessage {
            message: Message::Precommit(vote.precommit.clone()),
            signature: vote.signature.clone(),
            id: vote.id.clone(),
        };
        check_vote(shared, round, set_id, &signed)?;
    }
    Ok(())
}

fn catch_up_votes(catch_up: &CatchUp<crate::Header>) -> Vec<SignedMsg> {
    let prevotes = catch_up.prevotes.iter().map(|v| SignedMessage {
        message: Message::Prevote(v.prevote.clone()),
        signature: v.signature.clone(),
        id: v.id.clone(),
    });
    let precommits = catch_up.precommits.iter().map(|v| SignedMessage {
        message: Message::Precommit(v.precommit.clone()),
        signature: v.signature.clone(),
        id: v.id.clone(),
    });
    prevotes.chain(precommits).collect()
}

/// Handle the answer of `peer` to our request from `asked_round` (with the headers of
/// `missing`).
fn on_response(
    shared: &Arc<Shared>,
    peer: &PeerId,
    asked_round: RoundNumber,
    missing: &[H256],
    bytes: &[u8],
) {
    let report = |why: String| {
        log::debug!(target: LOG_TARGET, "{}bad catch-up from {peer}: {why}", shared.name());
        shared.network.report(peer.clone(), Misbehaviour::InvalidFinality(why));
    };
    let response: CatchUpResponse = match decode_all(bytes) {
        Ok(response) => response,
        Err(e) => {
            shared.network.report(peer.clone(), Misbehaviour::BadMessage(format!("catch-up: {e}")));
            return;
        }
    };
    if response.set_id != shared.set_id() {
        return;
    }
    if response.headers.len() > MAX_CATCH_UP_HEADERS {
        return report(format!("catch-up with {} headers", response.headers.len()));
    }
    if let Some(catch_up) = &response.catch_up {
        if let Err(why) = check_catch_up(shared, response.set_id, catch_up) {
            return report(why);
        }
    }
    let round_votes_valid = response.round == asked_round;
    if round_votes_valid {
        for vote in &response.round_votes {
            if let Err(why) = check_vote(shared, response.round, response.set_id, vote) {
                return report(why);
            }
        }
    }
    // Keep the headers that link the blocks we asked for to blocks we know.
    let added = shared.tree.add_foreign(&response.headers, missing.iter().copied());
    if added > 0 {
        log::debug!(
            target: LOG_TARGET,
            "{}{added} headers of blocks voted for but not imported, from {peer}",
            shared.name()
        );
        shared.router.lock().on_block_imported(&shared.tree, &*shared.chain);
    }
    if let Some(catch_up) = response.catch_up {
        let our_round = shared.router.lock().current_round();
        if catch_up.round_number > our_round {
            let tree = &shared.tree;
            let all_known = shared.chain.header(catch_up.base_hash).is_some()
                && catch_up.prevotes.iter().all(|v| tree.header(v.prevote.target_hash).is_some())
                && commit_blocks_known(
                    tree,
                    &finality_grandpa::CompactCommit {
                        target_hash: catch_up.base_hash,
                        target_number: catch_up.base_number,
                        precommits: catch_up
                            .precommits
                            .iter()
                            .map(|v| v.precommit.clone())
                            .collect(),
                        auth_data: Vec::new(),
                    },
                );
            if all_known {
                log::debug!(
                    target: LOG_TARGET,
                    "{}catching up to round {} from {peer}",
                    shared.name(),
                    catch_up.round_number
                );
                shared
                    .router
                    .lock()
                    .send_global(CommunicationIn::CatchUp(catch_up, Callback::Blank));
            } else {
                log::debug!(
                    target: LOG_TARGET,
                    "{}catch-up to round {} refers to blocks not imported yet",
                    shared.name(),
                    catch_up.round_number
                );
                // Ask for their headers next time.
                for vote in catch_up_votes(&catch_up) {
                    shared.tree.want(*vote.message.target().0);
                }
            }
        } else {
            let round = catch_up.round_number;
            let mut router = shared.router.lock();
            for vote in catch_up_votes(&catch_up) {
                router.route_vote(&shared.tree, round, vote);
            }
        }
    }
    if !round_votes_valid {
        return;
    }
    let mut router = shared.router.lock();
    for vote in response.round_votes {
        router.route_vote(&shared.tree, response.round, vote);
    }
}

/// Answer a catch-up request.
pub(crate) fn on_request(shared: &Arc<Shared>, request: IncomingRequest) {
    let IncomingRequest { peer, data, respond, .. } = request;
    let request: CatchUpRequest = match decode_all(&data) {
        Ok(request) => request,
        Err(e) => {
            shared.network.report(peer, Misbehaviour::BadMessage(format!("catch-up request: {e}")));
            return;
        }
    };
    let mut response = CatchUpResponse {
        set_id: shared.set_id(),
        catch_up: None,
        round: request.round,
        round_votes: Vec::new(),
        headers: Vec::new(),
    };
    if request.set_id == shared.set_id() {
        let last = shared.persistent.lock().last_completed.clone();
        if last.number > 0 && last.number >= request.round {
            let mut prevotes = Vec::new();
            let mut precommits = Vec::new();
            for vote in last.votes {
                match vote.message {
                    Message::Prevote(prevote) => prevotes.push(finality_grandpa::SignedPrevote {
                        prevote,
                        signature: vote.signature,
                        id: vote.id,
                    }),
                    Message::Precommit(precommit) => {
                        precommits.push(finality_grandpa::SignedPrecommit {
                            precommit,
                            signature: vote.signature,
                            id: vote.id,
                        })
                    }
                    Message::PrimaryPropose(_) => {}
                }
            }
            response.catch_up = Some(finality_grandpa::CatchUp {
                round_number: last.number,
                prevotes,
                precommits,
                base_hash: last.base.0,
                base_number: last.base.1,
            });
        }
        response.round_votes = shared.router.lock().round_votes(request.round);
        let missing = request.missing.into_iter().take(MAX_MISSING_BLOCKS);
        response.headers = shared.tree.routes_to_finalized(missing, MAX_CATCH_UP_HEADERS);
    }
    let _ = respond.send(response.encode());
}

/// Publish our neighbour packet.
pub(crate) fn publish_neighbor(shared: &Shared) {
    let round = shared.router.lock().current_round();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let nonce = {
        let mut last = shared.neighbor_nonce.lock();
        *last = now.max(last.saturating_add(1));
        *last
    };
    let packet = GossipMessage::Neighbor {
        round,
        set_id: shared.set_id(),
        finalized: shared.chain.finalized().1,
        nonce,
    };
    shared.network.publish(Topic::Grandpa, packet.encode());
}
