//! The gadget's configuration: the authority set, the local key and the timings.

use crate::Error;
use finality_grandpa::voter_set::VoterSet;
use sp_consensus_grandpa::{AuthorityId, AuthorityList, SetId};
use sp_core::ed25519;
use std::time::Duration;

/// A GRANDPA authority set: who votes, with what weight, under which set id.
///
/// Only set 0 given at start is supported for now; a set change would install a new
/// `AuthoritySet` with the next id (messages and persisted state carry the id already).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthoritySet {
    /// The set id (0 for the genesis set).
    pub set_id: SetId,
    /// The authorities and their weights.
    pub authorities: AuthorityList,
}

impl AuthoritySet {
    /// The genesis set (id 0) of `authorities`.
    pub fn genesis(authorities: AuthorityList) -> Self {
        AuthoritySet { set_id: 0, authorities }
    }

    /// The set as the voting engine's `VoterSet`; an error when it is empty (no non-zero
    /// weight) or its total weight overflows.
    pub fn voter_set(&self) -> Result<VoterSet<AuthorityId>, Error> {
        voter_set(&self.authorities)
    }
}

/// The voting engine's `VoterSet` of an authority list.
pub(crate) fn voter_set(
    authorities: &[(AuthorityId, u64)],
) -> Result<VoterSet<AuthorityId>, Error> {
    VoterSet::new(authorities.iter().cloned()).ok_or_else(|| {
        Error::InvalidAuthorities("no authority with a non-zero weight, or weights overflow".into())
    })
}

/// Configuration of [`crate::start`].
#[derive(Clone)]
pub struct FinalityConfig {
    /// The authority set voting.
    pub authority_set: AuthoritySet,
    /// The local GRANDPA key (ed25519). Without one, or with one not in the set, the node is an
    /// observer: it follows rounds and commits and finalizes, but never votes.
    pub local_key: Option<ed25519::Pair>,
    /// The gossip time estimate T: a round prevotes after 2T and precommits after 4T (Substrate
    /// uses 1 s with 6 s blocks; a third of the slot is a reasonable choice).
    pub gossip_duration: Duration,
    /// How often our neighbour packet (round, set id, finalized number) is published.
    pub neighbor_interval: Duration,
    /// The least time between two catch-up requests to the same peer.
    pub catch_up_interval: Duration,
    /// After this long in the same round, ask a peer in that round for the round's votes (lost
    /// gossip).
    pub stuck_round_after: Duration,
    /// Log "finality stalled" when nothing was finalized for this long while the best block is
    /// ahead of the finalized one (repeated every such period).
    pub stall_warning_after: Duration,
    /// Delay before restarting the voter after an error.
    pub restart_delay: Duration,
    /// A name for log lines (e.g. the node name); may be empty.
    pub name: String,
}

impl FinalityConfig {
    /// A configuration with Substrate-like timings derived from `gossip_duration`.
    pub fn new(
        authority_set: AuthoritySet,
        local_key: Option<ed25519::Pair>,
        gossip_duration: Duration,
    ) -> Self {
        FinalityConfig {
            authority_set,
            local_key,
            gossip_duration,
            neighbor_interval: gossip_duration.saturating_mul(2),
            catch_up_interval: gossip_duration.saturating_mul(5),
            stuck_round_after: gossip_duration.saturating_mul(10),
            stall_warning_after: gossip_duration.saturating_mul(30),
            restart_delay: gossip_duration.saturating_mul(2),
            name: String::new(),
        }
    }
}

impl std::fmt::Debug for FinalityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use sp_core::Pair as _;
        f.debug_struct("FinalityConfig")
            .field("authority_set", &self.authority_set)
            .field("local_key", &self.local_key.as_ref().map(|p| p.public()))
            .field("gossip_duration", &self.gossip_duration)
            .field("neighbor_interval", &self.neighbor_interval)
            .field("catch_up_interval", &self.catch_up_interval)
            .field("stuck_round_after", &self.stuck_round_after)
            .field("stall_warning_after", &self.stall_warning_after)
            .field("restart_delay", &self.restart_delay)
            .field("name", &self.name)
            .finish()
    }
}
