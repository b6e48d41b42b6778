//! State shared by the voter's environment, the network task and the handle.

use crate::{
    chain::VoteTree, config::FinalityConfig, persistence::VoterPersistentState, router::Router,
    FinalityChain,
};
use finality_grandpa::{voter::VoterState, voter_set::VoterSet};
use parking_lot::Mutex;
use sp_consensus_grandpa::{AuthorityId, AuthoritySignature, Message, RoundNumber, SetId};
use sp_core::{ed25519, Pair as _};
use std::{sync::Arc, time::Instant};
use subtensor_network_api::NetworkService;
use tokio::sync::{broadcast, Notify};

use crate::Header;

/// The local voting key, present only when it belongs to the authority set.
pub(crate) struct LocalKey {
    pub(crate) id: AuthorityId,
    pub(crate) pair: ed25519::Pair,
}

impl LocalKey {
    /// Sign `message` for `round` of `set_id` (Substrate's localized payload).
    pub(crate) fn sign(
        &self,
        round: RoundNumber,
        set_id: SetId,
        message: &Message<Header>,
    ) -> AuthoritySignature {
        let payload = sp_consensus_grandpa::localized_payload(round, set_id, message);
        AuthoritySignature::from(self.pair.sign(&payload))
    }
}

/// Finality progress, for the stall warning.
pub(crate) struct Progress {
    /// The last finalized number seen, and when it changed.
    pub(crate) finalized: (u32, Instant),
    /// When the stall warning was last logged.
    pub(crate) last_warning: Option<Instant>,
}

/// Everything the gadget's parts share.
pub(crate) struct Shared {
    /// The chain: the blocks we have (imported).
    pub(crate) chain: Arc<dyn FinalityChain>,
    /// The chain plus the headers of the blocks peers' votes point at that we have not
    /// imported: where votes are counted.
    pub(crate) tree: VoteTree,
    pub(crate) network: Arc<dyn NetworkService>,
    pub(crate) config: FinalityConfig,
    pub(crate) voters: VoterSet<AuthorityId>,
    pub(crate) local: Option<LocalKey>,
    pub(crate) persistent: Mutex<VoterPersistentState>,
    pub(crate) router: Mutex<Router>,
    pub(crate) justifications: broadcast::Sender<Vec<u8>>,
    pub(crate) voter_state: Mutex<Option<Box<dyn VoterState<AuthorityId> + Send + Sync>>>,
    /// Woken when the voter enters a new round (to publish our neighbour packet).
    pub(crate) round_changed: Notify,
    pub(crate) progress: Mutex<Progress>,
    /// The nonce of our last neighbour packet.
    pub(crate) neighbor_nonce: Mutex<u64>,
}

impl Shared {
    /// The authority set id.
    pub(crate) fn set_id(&self) -> SetId {
        self.config.authority_set.set_id
    }

    /// Record (durably) that we vote `message` in `round` unless a vote of that kind is
    /// recorded already, and return the vote to send: the recorded one. The in-memory state
    /// changes only once the write succeeded, so a failed write never lets a vote out.
    pub(crate) fn record_vote(
        &self,
        round: RoundNumber,
        message: &Message<Header>,
    ) -> Result<Message<Header>, crate::Error> {
        let mut state = self.persistent.lock();
        let mut updated = state.clone();
        if updated.note_vote(round, message) {
            updated.save(&*self.chain)?;
            *state = updated;
        }
        Ok(state.vote_to_send(round, message.clone()))
    }

    /// A prefix for log lines naming this node.
    pub(crate) fn name(&self) -> &str {
        &self.config.name
    }
}
