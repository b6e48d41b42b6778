//! The voter's persistent state in the chain's auxiliary storage.
//!
//! One key, [`VOTER_STATE_KEY`], holds the SCALE-encoded [`VoterPersistentState`]: the set, the
//! last completed round (number, state, base, votes — what a restarted voter resumes from) and
//! the votes we cast in rounds after it. A vote is written (and the write is durable) before it
//! is signed and sent, and a restarted voter re-sends the recorded vote instead of a different
//! one, so a node never equivocates across restarts.

use crate::{chain::FinalityChain, config::AuthoritySet, wire::decode_all, Error, Header};
use codec::{Decode, Encode};
use finality_grandpa::round::State as RoundState;
use sp_consensus_grandpa::{
    AuthorityList, Precommit, Prevote, PrimaryPropose, RoundNumber, SetId, SignedMessage,
};
use sp_core::H256;

type Message = finality_grandpa::Message<H256, u32>;

/// The auxiliary-storage key of the voter state.
pub const VOTER_STATE_KEY: &[u8] = b"grandpa_voter_state";

/// The version of the stored layout.
const VERSION: u8 = 1;

/// A completed round, as the voter needs it to resume.
#[derive(Debug, Clone, PartialEq, Encode, Decode)]
pub(crate) struct CompletedRound {
    /// The round number (0: the set's genesis, no votes).
    pub(crate) number: RoundNumber,
    /// Its state (prevote-GHOST, finalized, estimate, completable).
    pub(crate) state: RoundState<H256, u32>,
    /// Its base block.
    pub(crate) base: (H256, u32),
    /// The votes seen in it.
    pub(crate) votes: Vec<SignedMessage<Header>>,
}

/// What we voted in a round.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub(crate) struct HasVoted {
    /// Our primary proposal, if any.
    pub(crate) propose: Option<PrimaryPropose<Header>>,
    /// Our prevote, if any.
    pub(crate) prevote: Option<Prevote<Header>>,
    /// Our precommit, if any.
    pub(crate) precommit: Option<Precommit<Header>>,
}

/// Everything stored under [`VOTER_STATE_KEY`].
#[derive(Debug, Clone, PartialEq, Encode, Decode)]
pub(crate) struct VoterPersistentState {
    /// Layout version ([`VERSION`]).
    pub(crate) version: u8,
    /// The authority set id.
    pub(crate) set_id: SetId,
    /// The authorities of the set.
    pub(crate) authorities: AuthorityList,
    /// The last completed round.
    pub(crate) last_completed: CompletedRound,
    /// Our votes in rounds after the last completed one.
    pub(crate) voted: Vec<(RoundNumber, HasVoted)>,
}

impl VoterPersistentState {
    /// The state of a set that has not voted yet: round 0 completed at `base`.
    pub(crate) fn genesis(set: &AuthoritySet, base: (H256, u32)) -> Self {
        VoterPersistentState {
            version: VERSION,
            set_id: set.set_id,
            authorities: set.authorities.clone(),
            last_completed: CompletedRound {
                number: 0,
                state: RoundState::genesis(base),
                base,
                votes: Vec::new(),
            },
            voted: Vec::new(),
        }
    }

    /// Load the stored state of `set`, or the genesis state of `set` at the chain's finalized
    /// block when none is stored or the stored one belongs to another set.
    pub(crate) fn load(chain: &dyn FinalityChain, set: &AuthoritySet) -> Result<Self, Error> {
        if let Some(bytes) = chain.aux_get(VOTER_STATE_KEY) {
            let state: VoterPersistentState = decode_all(&bytes)
                .map_err(|e| Error::Storage(format!("stored voter state: {e}")))?;
            if state.version != VERSION {
                return Err(Error::Storage(format!(
                    "stored voter state has version {}, expected {VERSION}",
                    state.version
                )));
            }
            if state.set_id == set.set_id {
                return Ok(state);
            }
            log::info!(
                target: crate::LOG_TARGET,
                "stored voter state is for set {}, starting set {} afresh",
                state.set_id,
                set.set_id
            );
        }
        Ok(Self::genesis(set, chain.finalized()))
    }

    /// Write the state (durable when it returns `Ok`).
    pub(crate) fn save(&self, chain: &dyn FinalityChain) -> Result<(), Error> {
        chain.aux_put(VOTER_STATE_KEY, &self.encode()).map_err(Error::Storage)
    }

    /// Our votes in `round`.
    pub(crate) fn voted(&self, round: RoundNumber) -> Option<&HasVoted> {
        self.voted.iter().find(|(r, _)| *r == round).map(|(_, v)| v)
    }

    /// Record that we vote `message` in `round`, unless we already cast a vote of that kind
    /// there. Returns whether the state changed (and must be saved).
    pub(crate) fn note_vote(&mut self, round: RoundNumber, message: &Message) -> bool {
        if round <= self.last_completed.number {
            return false;
        }
        let index = match self.voted.iter().position(|(r, _)| *r == round) {
            Some(index) => index,
            None => {
                self.voted.push((round, HasVoted::default()));
                self.voted.len().saturating_sub(1)
            }
        };
        let Some((_, has_voted)) = self.voted.get_mut(index) else { return false };
        match message {
            Message::PrimaryPropose(p) if has_voted.propose.is_none() => {
                has_voted.propose = Some(p.clone())
            }
            Message::Prevote(p) if has_voted.prevote.is_none() => {
                has_voted.prevote = Some(p.clone())
            }
            Message::Precommit(p) if has_voted.precommit.is_none() => {
                has_voted.precommit = Some(p.clone())
            }
            _ => return false,
        }
        true
    }

    /// The vote to actually send for `message` in `round`: the one recorded earlier for that
    /// kind of vote if any (after a restart the voter may pick another target), else `message`.
    pub(crate) fn vote_to_send(&self, round: RoundNumber, message: Message) -> Message {
        let Some(has_voted) = self.voted(round) else { return message };
        match message {
            Message::PrimaryPropose(p) => {
                Message::PrimaryPropose(has_voted.propose.clone().unwrap_or(p))
            }
            Message::Prevote(p) => Message::Prevote(has_voted.prevote.clone().unwrap_or(p)),
            Message::Precommit(p) => Message::Precommit(has_voted.precommit.clone().unwrap_or(p)),
        }
    }

    /// Note a completed (or concluded) round; older rounds are forgotten. Returns whether the
    /// state changed.
    pub(crate) fn note_completed(&mut self, round: CompletedRound) -> bool {
        if round.number < self.last_completed.number {
            return false;
        }
        if round == self.last_completed {
            return false;
        }
        let number = round.number;
        self.last_completed = round;
        self.voted.retain(|(r, _)| *r > number);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use finality_grandpa::{Precommit, Prevote};

    fn state() -> VoterPersistentState {
        VoterPersistentState::genesis(&AuthoritySet::genesis(Vec::new()), (H256::zero(), 0))
    }

    fn prevote(n: u8) -> Message {
        Message::Prevote(Prevote { target_hash: H256::repeat_byte(n), target_number: n.into() })
    }

    #[test]
    fn the_first_vote_of_a_kind_in_a_round_sticks() {
        let mut s = state();
        assert!(s.note_vote(1, &prevote(1)));
        assert!(!s.note_vote(1, &prevote(2)), "a second prevote must not replace the first");
        assert_eq!(s.vote_to_send(1, prevote(2)), prevote(1));
        // Another kind, another round: recorded independently.
        let precommit =
            Message::Precommit(Precommit { target_hash: H256::zero(), target_number: 0 });
        assert!(s.note_vote(1, &precommit));
        assert!(s.note_vote(2, &prevote(2)));
        assert_eq!(s.vote_to_send(2, prevote(3)), prevote(2));
        assert_eq!(s.vote_to_send(3, prevote(3)), prevote(3));
        // Survives encoding.
        let decoded: VoterPersistentState = decode_all(&s.encode()).unwrap();
        assert_eq!(decoded, s);
    }

    #[test]
    fn completing_a_round_forgets_older_votes() {
        let mut s = state();
        s.note_vote(1, &prevote(1));
        s.note_vote(2, &prevote(2));
        let completed = CompletedRound {
            number: 1,
            state: RoundState::genesis((H256::zero(), 0)),
            base: (H256::zero(), 0),
            votes: Vec::new(),
        };
        assert!(s.note_completed(completed.clone()));
        assert!(!s.note_completed(completed), "no change, nothing to save");
        assert!(s.voted(1).is_none());
        assert!(s.voted(2).is_some());
        // Votes in completed rounds are not recorded any more; older completions are ignored.
        assert!(!s.note_vote(1, &prevote(5)));
        let older = CompletedRound {
            number: 0,
            state: RoundState::genesis((H256::zero(), 0)),
            base: (H256::zero(), 0),
            votes: Vec::new(),
        };
        assert!(!s.note_completed(older));
        assert_eq!(s.last_completed.number, 1);
    }
}
