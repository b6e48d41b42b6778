//! Validating GRANDPA gossip before it is forwarded, and routing what passes.

use crate::{
    catch_up::CatchUpTracker,
    router::{RoundWindow, SignedMsg},
    shared::Shared,
    wire::{decode_all, GossipMessage},
    LOG_TARGET,
};
use finality_grandpa::{
    voter::{Callback, CommitProcessingOutcome},
    Message,
};
use sp_consensus_grandpa::{
    check_message_signature, AuthorityId, CompactCommit, RoundNumber, SetId,
};
use std::{collections::BTreeSet, sync::Arc};
use subtensor_network_api::{Acceptance, GossipMessage as NetMessage, Misbehaviour, PeerId};

/// Whether `signed` is a vote of a member of the set with a valid signature for `round`.
pub(crate) fn check_vote(
    shared: &Shared,
    round: RoundNumber,
    set_id: SetId,
    signed: &SignedMsg,
) -> Result<(), String> {
    check_signed(shared, round, set_id, &signed.message, &signed.id, &signed.signature)
}

fn check_signed(
    shared: &Shared,
    round: RoundNumber,
    set_id: SetId,
    message: &Message<sp_core::H256, u32>,
    id: &AuthorityId,
    signature: &sp_consensus_grandpa::AuthoritySignature,
) -> Result<(), String> {
    if !shared.voters.contains(id) {
        return Err(format!("vote by {id}, not an authority of set {set_id}"));
    }
    if !check_message_signature(message, id, signature, round, set_id).is_valid() {
        return Err(format!("bad signature by {id} in round {round}"));
    }
    Ok(())
}

/// Check a compact commit: one signature per precommit, each by a member with a valid
/// signature, and the signers' weight at least the threshold.
pub(crate) fn check_commit(
    shared: &Shared,
    round: RoundNumber,
    set_id: SetId,
    commit: &CompactCommit<crate::Header>,
) -> Result<(), String> {
    if commit.precommits.len() != commit.auth_data.len() {
        return Err("commit with as many signatures as precommits".into());
    }
    let mut signers = BTreeSet::new();
    let mut weight = 0u64;
    for (precommit, (signature, id)) in commit.precommits.iter().zip(&commit.auth_data) {
        let message = Message::Precommit(precommit.clone());
        check_signed(shared, round, set_id, &message, id, signature)?;
        if signers.insert(id.clone()) {
            let voter_weight = shared.voters.get(id).map(|info| info.weight().get()).unwrap_or(0);
            weight = weight.saturating_add(voter_weight);
        }
    }
    if weight < shared.voters.threshold().get() {
        return Err(format!(
            "commit for #{} with weight {weight} below the threshold",
            commit.target_number
        ));
    }
    Ok(())
}

/// Validate one gossip message, route it if valid, and tell the network the verdict.
pub(crate) fn on_gossip(shared: &Arc<Shared>, tracker: &mut CatchUpTracker, message: NetMessage) {
    let NetMessage { id, source, data, .. } = message;
    let verdict = match decode_all::<GossipMessage>(&data) {
        Err(e) => Err(Misbehaviour::BadMessage(format!("undecodable GRANDPA gossip: {e}"))),
        Ok(GossipMessage::Vote { round, set_id, message }) => {
            on_vote(shared, tracker, &source, round, set_id, message)
        }
        Ok(GossipMessage::Commit { round, set_id, commit }) => {
            on_commit(shared, &source, round, set_id, commit)
        }
        Ok(GossipMessage::Neighbor { round, set_id, finalized, .. }) => {
            tracker.on_neighbor(shared, &source, round, set_id, finalized);
            Ok(Acceptance::Ignore)
        }
    };
    match verdict {
        Ok(acceptance) => shared.network.validate(id, source, acceptance),
        Err(misbehaviour) => {
            log::debug!(
                target: LOG_TARGET,
                "{}rejecting gossip from {source}: {misbehaviour}",
                shared.name()
            );
            shared.network.validate(id, source.clone(), Acceptance::Reject);
            shared.network.report(source, misbehaviour);
        }
    }
}

fn on_vote(
    shared: &Arc<Shared>,
    tracker: &mut CatchUpTracker,
    source: &PeerId,
    round: RoundNumber,
    set_id: SetId,
    message: SignedMsg,
) -> Result<Acceptance, Misbehaviour> {
    if set_id != shared.set_id() {
        return Ok(Acceptance::Ignore);
    }
    check_vote(shared, round, set_id, &message).map_err(Misbehaviour::InvalidFinality)?;
    let window = shared.router.lock().window(round);
    match window {
        RoundWindow::Stale => Ok(Acceptance::Ignore),
        RoundWindow::Future => {
            tracker.request_catch_up(shared, source.clone());
            Ok(Acceptance::Ignore)
        }
        RoundWindow::Live => {
            shared.router.lock().route_vote(&shared.tree, round, message);
            Ok(Acceptance::Accept)
        }
    }
}

fn on_commit(
    shared: &Arc<Shared>,
    source: &PeerId,
    round: RoundNumber,
    set_id: SetId,
    commit: CompactCommit<crate::Header>,
) -> Result<Acceptance, Misbehaviour> {
    if set_id != shared.set_id() {
        return Ok(Acceptance::Ignore);
    }
    check_commit(shared, round, set_id, &commit).map_err(Misbehaviour::InvalidFinality)?;
    if commit.target_number <= shared.chain.finalized().1 {
        return Ok(Acceptance::Ignore);
    }
    let network = shared.network.clone();
    let peer = source.clone();
    let callback = Callback::Work(Box::new(move |outcome| {
        if let CommitProcessingOutcome::Bad(bad) = outcome {
            network.report(
                peer.clone(),
                Misbehaviour::InvalidFinality(format!(
                    "commit failed validation ({} precommits)",
                    bad.num_precommits()
                )),
            );
        }
    }));
    shared.router.lock().route_commit(&*shared.chain, round, commit, callback);
    Ok(Acceptance::Accept)
}
