//! Routing verified messages to the voter: votes to the round they belong to (buffered for
//! rounds about to start, replayed when a restarted voter reopens a round), commits and
//! catch-ups to the voter's global input, and everything whose blocks are not imported yet to
//! a bounded waiting queue that is retried on each imported block.

use crate::{FinalityChain, Header};
use finality_grandpa::voter::{Callback, CommitProcessingOutcome, CommunicationIn};
use futures::channel::mpsc::UnboundedSender;
use sp_consensus_grandpa::{
    AuthorityId, AuthoritySignature, CompactCommit, RoundNumber, SignedMessage,
};
use sp_core::H256;
use std::{
    collections::{BTreeMap, VecDeque},
    time::{Duration, Instant},
};

/// A signed vote.
pub(crate) type SignedMsg = SignedMessage<Header>;
/// An item of the voter's global input.
pub(crate) type GlobalIn = CommunicationIn<H256, u32, AuthoritySignature, AuthorityId>;

/// Rounds before ours whose votes we still take (background rounds concluding).
pub(crate) const PAST_ROUNDS: u64 = 1;
/// Rounds after ours whose votes we take and buffer (peers slightly ahead).
pub(crate) const FUTURE_ROUNDS: u64 = 1;
/// Rounds before ours whose votes we keep to answer catch-up requests.
const KEPT_PAST_ROUNDS: u64 = 2;
/// The most messages waiting for their blocks.
const MAX_WAITING: usize = 1024;

/// Where a round stands relative to ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoundWindow {
    /// Too old to matter.
    Stale,
    /// Within the window.
    Live,
    /// Too far ahead: we are behind and should catch up.
    Future,
}

/// Something verified that waits until its blocks are imported.
enum Waiting {
    Vote {
        round: RoundNumber,
        message: SignedMsg,
    },
    Commit {
        round: RoundNumber,
        commit: CompactCommit<Header>,
        callback: Callback<CommitProcessingOutcome>,
    },
}

/// The routing table; see the module docs.
pub(crate) struct Router {
    current_round: RoundNumber,
    round_started: Instant,
    rounds: BTreeMap<RoundNumber, UnboundedSender<SignedMsg>>,
    votes: BTreeMap<RoundNumber, Vec<SignedMsg>>,
    waiting: VecDeque<Waiting>,
    global: Option<UnboundedSender<GlobalIn>>,
    max_votes_per_round: usize,
    /// A new voter instance has not opened a round yet.
    fresh: bool,
}

fn known(chain: &dyn FinalityChain, hash: H256) -> bool {
    chain.header(hash).is_some()
}

impl Router {
    /// A router for a set of `voters` authorities.
    pub(crate) fn new(voters: usize) -> Self {
        Router {
            current_round: 0,
            round_started: Instant::now(),
            rounds: BTreeMap::new(),
            votes: BTreeMap::new(),
            waiting: VecDeque::new(),
            global: None,
            // A proposal, a prevote and a precommit per voter, and one equivocation of each.
            max_votes_per_round: voters.saturating_mul(6),
            fresh: true,
        }
    }

    /// The voter's current (best) round.
    pub(crate) fn current_round(&self) -> RoundNumber {
        self.current_round
    }

    /// How long the voter has been in its current round.
    pub(crate) fn round_age(&self) -> Duration {
        self.round_started.elapsed()
    }

    /// Where `round` stands relative to ours.
    pub(crate) fn window(&self, round: RoundNumber) -> RoundWindow {
        if round.saturating_add(PAST_ROUNDS) < self.current_round {
            RoundWindow::Stale
        } else if round > self.current_round.saturating_add(FUTURE_ROUNDS) {
            RoundWindow::Future
        } else {
            RoundWindow::Live
        }
    }

    /// A new voter instance starts: forget the old one's channels.
    pub(crate) fn reset(&mut self, global: UnboundedSender<GlobalIn>) {
        self.rounds.clear();
        self.fresh = true;
        self.global = Some(global);
    }

    /// The voter opens `round` (its best round or a background one): replay the votes we have
    /// for it. Returns whether the voter's current round changed.
    pub(crate) fn open_round(
        &mut self,
        round: RoundNumber,
        tx: UnboundedSender<SignedMsg>,
    ) -> bool {
        for vote in self.votes.get(&round).into_iter().flatten() {
            let _ = tx.unbounded_send(vote.clone());
        }
        self.rounds.insert(round, tx);
        self.rounds.retain(|_, tx| !tx.is_closed());
        if round <= self.current_round && !self.fresh {
            return false;
        }
        self.fresh = false;
        self.current_round = round;
        self.round_started = Instant::now();
        let low = round.saturating_sub(KEPT_PAST_ROUNDS);
        let high = round.saturating_add(FUTURE_ROUNDS);
        self.votes.retain(|r, _| *r >= low && *r <= high);
        true
    }

    /// The targets of the votes waiting for their blocks, newest first.
    pub(crate) fn waiting_targets(&self) -> Vec<H256> {
        self.waiting
            .iter()
            .rev()
            .filter_map(|item| match item {
                Waiting::Vote { message, .. } => Some(*message.message.target().0),
                Waiting::Commit { .. } => None,
            })
            .collect()
    }

    /// The votes seen in `round`.
    pub(crate) fn round_votes(&self, round: RoundNumber) -> Vec<SignedMsg> {
        self.votes.get(&round).cloned().unwrap_or_default()
    }

    /// Hand a verified vote whose target block is known to its round.
    pub(crate) fn deliver_vote(&mut self, round: RoundNumber, message: SignedMsg) {
        if round.saturating_add(KEPT_PAST_ROUNDS) < self.current_round
            || round > self.current_round.saturating_add(FUTURE_ROUNDS)
        {
            return;
        }
        let votes = self.votes.entry(round).or_default();
        if votes.contains(&message) || votes.len() >= self.max_votes_per_round {
            return;
        }
        votes.push(message.clone());
        if let Some(tx) = self.rounds.get(&round) {
            if tx.unbounded_send(message).is_err() {
                self.rounds.remove(&round);
            }
        }
    }

    /// Route a verified vote: to its round when its target is known in `tree` (the chain and
    /// the headers of voted-for blocks not imported), else to the waiting queue.
    pub(crate) fn route_vote(
        &mut self,
        chain: &dyn FinalityChain,
        round: RoundNumber,
        message: SignedMsg,
    ) {
        if known(chain, message.message.target().0.to_owned()) {
            self.deliver_vote(round, message);
        } else {
            self.wait(Waiting::Vote { round, message });
        }
    }

    /// Route a verified commit to the voter once all its blocks are known.
    pub(crate) fn route_commit(
        &mut self,
        chain: &dyn FinalityChain,
        round: RoundNumber,
        commit: CompactCommit<Header>,
        callback: Callback<CommitProcessingOutcome>,
    ) {
        if commit_blocks_known(chain, &commit) {
            self.send_global(CommunicationIn::Commit(round, commit, callback));
        } else {
            self.wait(Waiting::Commit { round, commit, callback });
        }
    }

    /// Send an item to the voter's global input.
    pub(crate) fn send_global(&mut self, item: GlobalIn) {
        if let Some(global) = &self.global {
            if global.unbounded_send(item).is_err() {
                self.global = None;
            }
        }
    }

    fn wait(&mut self, item: Waiting) {
        if self.waiting.len() >= MAX_WAITING {
            self.waiting.pop_front();
        }
        self.waiting.push_back(item);
    }

    /// A block (or the header of a block voted for) became known: route what waited for it.
    /// Votes need their target's ancestry in `tree`; commits their blocks in `chain`.
    pub(crate) fn on_block_imported(
        &mut self,
        tree: &dyn FinalityChain,
        chain: &dyn FinalityChain,
    ) {
        let finalized = chain.finalized().1;
        for item in std::mem::take(&mut self.waiting) {
            match item {
                Waiting::Vote { round, message } => {
                    if round.saturating_add(KEPT_PAST_ROUNDS) < self.current_round {
                        continue;
                    }
                    self.route_vote(tree, round, message);
                }
                Waiting::Commit { round, commit, callback } => {
                    if commit.target_number <= finalized {
                        continue;
                    }
                    self.route_commit(chain, round, commit, callback);
                }
            }
        }
    }
}

/// Whether the target and every precommit target of `commit` are known.
pub(crate) fn commit_blocks_known(
    chain: &dyn FinalityChain,
    commit: &CompactCommit<Header>,
) -> bool {
    known(chain, commit.target_hash)
        && commit.precommits.iter().all(|p| known(chain, p.target_hash))
}
