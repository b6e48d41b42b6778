//! The voting engine's `Environment` over the chain and the network.

use crate::{
    chain::{ancestry, is_equal_or_descendant},
    justification::build_justification,
    persistence::CompletedRound,
    router::SignedMsg,
    shared::Shared,
    wire::GossipMessage,
    Error, FinalityChain as _, Header, LOG_TARGET,
};
use codec::Encode;
use finality_grandpa::{
    round::State as RoundState,
    voter::{self, CommunicationOut, RoundData},
    Chain, Equivocation, HistoricalVotes, Message, Precommit, Prevote, PrimaryPropose,
};
use futures::{channel::mpsc, Future, Sink, Stream, StreamExt};
use sp_consensus_grandpa::{AuthorityId, AuthoritySignature, Commit, CompactCommit, RoundNumber};
use sp_core::H256;
use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant, SystemTime},
};
use subtensor_network_api::Topic;

/// A timer of the environment.
pub(crate) type Timer = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;
/// The incoming votes of a round.
pub(crate) type Incoming = Pin<Box<dyn Stream<Item = Result<SignedMsg, Error>> + Send>>;

/// The environment of one voter instance.
pub(crate) struct Environment {
    pub(crate) shared: Arc<Shared>,
}

fn timer(after: Duration) -> Timer {
    // The deadline is fixed now, when the round's timers are created: the voter polls the
    // precommit timer only after it prevoted, and a sleep created inside the future would only
    // start counting then (rounds took 6T instead of 4T).
    let sleep = tokio::time::sleep(after);
    Box::pin(async move {
        sleep.await;
        Ok(())
    })
}

impl Chain<H256, u32> for Environment {
    fn ancestry(&self, base: H256, block: H256) -> Result<Vec<H256>, finality_grandpa::Error> {
        ancestry(&self.shared.tree, base, block).ok_or(finality_grandpa::Error::NotDescendent)
    }
}

impl Environment {
    /// Record our vote before it is signed and sent (durably).
    fn note_vote(&self, round: RoundNumber, message: Message<H256, u32>) -> Result<(), Error> {
        let to_send = self.shared.record_vote(round, &message)?;
        if to_send != message {
            log::info!(
                target: LOG_TARGET,
                "{}already voted differently in round {round} before a restart: re-sending the \
                 recorded vote",
                self.shared.name()
            );
        }
        Ok(())
    }

    fn note_round(
        &self,
        round: RoundNumber,
        state: RoundState<H256, u32>,
        base: (H256, u32),
        votes: &HistoricalVotes<H256, u32, AuthoritySignature, AuthorityId>,
    ) -> Result<(), Error> {
        let completed = CompletedRound { number: round, state, base, votes: votes.seen().to_vec() };
        let mut persistent = self.shared.persistent.lock();
        let mut updated = persistent.clone();
        if updated.note_completed(completed) {
            updated.save(&*self.shared.chain)?;
            *persistent = updated;
        }
        Ok(())
    }
}

impl voter::Environment<H256, u32> for Environment {
    type Timer = Timer;
    type BestChain = Pin<Box<dyn Future<Output = Result<Option<(H256, u32)>, Error>> + Send>>;
    type Id = AuthorityId;
    type Signature = AuthoritySignature;
    type In = Incoming;
    type Out = Pin<Box<dyn Sink<Message<H256, u32>, Error = Error> + Send>>;
    type Error = Error;

    fn best_chain_containing(&self, base: H256) -> Self::BestChain {
        let chain = &self.shared.tree;
        let (finalized, _) = chain.finalized();
        let result = if is_equal_or_descendant(chain, finalized, base) {
            chain.best_chain_containing(base)
        } else if is_equal_or_descendant(chain, base, finalized) {
            // The chain finalized past the round's base (through a commit or sync): the best
            // chain containing the finalized block contains the base too.
            chain.best_chain_containing(finalized)
        } else {
            log::debug!(target: LOG_TARGET, "base {base:?} is not on the finalized chain");
            None
        };
        Box::pin(futures::future::ready(Ok(result)))
    }

    fn round_data(&self, round: u64) -> RoundData<Self::Id, Self::Timer, Self::In, Self::Out> {
        let (tx, rx) = mpsc::unbounded();
        let changed = self.shared.router.lock().open_round(round, tx);
        if changed {
            log::debug!(target: LOG_TARGET, "{}entering round {round}", self.shared.name());
            self.shared.round_changed.notify_one();
        }
        let gossip = self.shared.config.gossip_duration;
        RoundData {
            voter_id: self.shared.local.as_ref().map(|local| local.id.clone()),
            prevote_timer: timer(gossip.saturating_mul(2)),
            precommit_timer: timer(gossip.saturating_mul(4)),
            incoming: Box::pin(rx.map(Ok)),
            outgoing: Box::pin(RoundOutgoing { shared: self.shared.clone(), round }),
        }
    }

    fn round_commit_timer(&self) -> Self::Timer {
        // A pseudo-random delay in [0, T) so that not every voter sends its commit at once.
        use std::hash::{BuildHasher, Hasher};
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(nanos);
        let millis = self.shared.config.gossip_duration.as_millis().max(1);
        let delay = u128::from(hasher.finish()).checked_rem(millis).unwrap_or(0);
        timer(Duration::from_millis(u64::try_from(delay).unwrap_or(0)))
    }

    fn proposed(&self, round: u64, propose: PrimaryPropose<H256, u32>) -> Result<(), Error> {
        self.note_vote(round, Message::PrimaryPropose(propose))
    }

    fn prevoted(&self, round: u64, prevote: Prevote<H256, u32>) -> Result<(), Error> {
        self.note_vote(round, Message::Prevote(prevote))
    }

    fn precommitted(&self, round: u64, precommit: Precommit<H256, u32>) -> Result<(), Error> {
        self.note_vote(round, Message::Precommit(precommit))
    }

    fn completed(
        &self,
        round: u64,
        state: RoundState<H256, u32>,
        base: (H256, u32),
        votes: &HistoricalVotes<H256, u32, AuthoritySignature, AuthorityId>,
    ) -> Result<(), Error> {
        log::debug!(
            target: LOG_TARGET,
            "{}round {round} completed: estimate {:?}, finalized {:?}",
            self.shared.name(),
            state.estimate,
            state.finalized
        );
        self.note_round(round, state, base, votes)
    }

    fn concluded(
        &self,
        round: u64,
        state: RoundState<H256, u32>,
        base: (H256, u32),
        votes: &HistoricalVotes<H256, u32, AuthoritySignature, AuthorityId>,
    ) -> Result<(), Error> {
        self.note_round(round, state, base, votes)
    }

    fn finalize_block(
        &self,
        hash: H256,
        number: u32,
        round: u64,
        commit: Commit<Header>,
    ) -> Result<(), Error> {
        finalize(&self.shared, hash, number, round, commit)
    }

    fn prevote_equivocation(
        &self,
        round: u64,
        equivocation: Equivocation<AuthorityId, Prevote<H256, u32>, AuthoritySignature>,
    ) {
        log::warn!(
            target: LOG_TARGET,
            "{}prevote equivocation by {} in round {round}: {:?} and {:?}",
            self.shared.name(),
            equivocation.identity,
            equivocation.first.0,
            equivocation.second.0
        );
    }

    fn precommit_equivocation(
        &self,
        round: u64,
        equivocation: Equivocation<AuthorityId, Precommit<H256, u32>, AuthoritySignature>,
    ) {
        log::warn!(
            target: LOG_TARGET,
            "{}precommit equivocation by {} in round {round}: {:?} and {:?}",
            self.shared.name(),
            equivocation.identity,
            equivocation.first.0,
            equivocation.second.0
        );
    }
}

/// Finalize `hash` with the justification of `commit`, unless the chain is already past it.
pub(crate) fn finalize(
    shared: &Shared,
    hash: H256,
    number: u32,
    round: u64,
    commit: Commit<Header>,
) -> Result<(), Error> {
    let chain = &*shared.chain;
    let (_, finalized) = chain.finalized();
    if number <= finalized {
        log::debug!(
            target: LOG_TARGET,
            "{}not finalizing #{number} from round {round}: already finalized #{finalized}",
            shared.name()
        );
        return Ok(());
    }
    if chain.header(hash).is_none() {
        // Only its header is known (from votes of peers on a fork we did not import): leave it
        // to a later round or commit once the block is imported.
        log::debug!(
            target: LOG_TARGET,
            "{}not finalizing #{number} from round {round}: block not imported",
            shared.name()
        );
        return Ok(());
    }
    let justification = build_justification(&shared.tree, round, commit)?;
    let encoded = justification.encode();
    chain.finalize(hash, encoded.clone()).map_err(Error::Chain)?;
    log::info!(
        target: LOG_TARGET,
        "{}finalized #{number} ({hash:?}) in round {round}",
        shared.name()
    );
    *shared.progress.lock() =
        crate::shared::Progress { finalized: (number, Instant::now()), last_warning: None };
    let _ = shared.justifications.send(encoded);
    Ok(())
}

/// The compact form of a commit (the wire form).
pub(crate) fn compact(commit: &Commit<Header>) -> CompactCommit<Header> {
    finality_grandpa::CompactCommit {
        target_hash: commit.target_hash,
        target_number: commit.target_number,
        precommits: commit.precommits.iter().map(|p| p.precommit.clone()).collect(),
        auth_data: commit.precommits.iter().map(|p| (p.signature.clone(), p.id.clone())).collect(),
    }
}

/// The outgoing votes of a round: re-send a vote recorded before a restart instead of a new
/// one, sign, publish, and hand to our own round (the engine only counts incoming votes).
struct RoundOutgoing {
    shared: Arc<Shared>,
    round: RoundNumber,
}

impl RoundOutgoing {
    fn send(&self, message: Message<H256, u32>) -> Result<(), Error> {
        let shared = &*self.shared;
        let Some(local) = &shared.local else { return Ok(()) };
        // Normally recorded already by `prevoted`/`precommitted`/`proposed`.
        let message = shared.record_vote(self.round, &message)?;
        let signature = local.sign(self.round, shared.set_id(), &message);
        let signed = SignedMsg { message, signature, id: local.id.clone() };
        let gossip = GossipMessage::Vote {
            round: self.round,
            set_id: shared.set_id(),
            message: signed.clone(),
        };
        shared.network.publish(Topic::Grandpa, gossip.encode());
        shared.router.lock().deliver_vote(self.round, signed);
        Ok(())
    }
}

impl Sink<Message<H256, u32>> for RoundOutgoing {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: Message<H256, u32>) -> Result<(), Error> {
        self.send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }
}

/// The voter's outgoing commits: published by voters (observers only listen).
pub(crate) struct CommitOutgoing {
    pub(crate) shared: Arc<Shared>,
}

impl Sink<CommunicationOut<H256, u32, AuthoritySignature, AuthorityId>> for CommitOutgoing {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(
        self: Pin<&mut Self>,
        item: CommunicationOut<H256, u32, AuthoritySignature, AuthorityId>,
    ) -> Result<(), Error> {
        let CommunicationOut::Commit(round, commit) = item;
        if self.shared.local.is_none() {
            return Ok(());
        }
        log::debug!(
            target: LOG_TARGET,
            "{}sending commit for #{} of round {round}",
            self.shared.name(),
            commit.target_number
        );
        let gossip =
            GossipMessage::Commit { round, set_id: self.shared.set_id(), commit: compact(&commit) };
        self.shared.network.publish(Topic::Grandpa, gossip.encode());
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }
}

/// The voter's global input stream (commits and catch-ups).
pub(crate) type GlobalInStream =
    Pin<Box<dyn Stream<Item = Result<crate::router::GlobalIn, Error>> + Send>>;
/// The voter's global output (our commits).
pub(crate) type GlobalOutSink = Pin<
    Box<
        dyn Sink<CommunicationOut<H256, u32, AuthoritySignature, AuthorityId>, Error = Error>
            + Send,
    >,
>;
