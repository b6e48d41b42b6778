//! The bytes exchanged with peers (all SCALE).
//!
//! # Gossip (`Topic::Grandpa`): [`GossipMessage`]
//!
//! | index | variant | fields | verdict |
//! |---|---|---|---|
//! | 0 | `Vote` | `round: u64, set_id: u64, message: SignedMessage<Header>` | Accept when the signer is in the set, the signature over `localized_payload(round, set_id, message)` is valid and the round is within [our round − 1, our round + 1]; Reject + report on a bad signature or an unknown signer; Ignore when stale, another set, or too far ahead (then catch up) |
//! | 1 | `Commit` | `round: u64, set_id: u64, commit: CompactCommit<Header>` | Accept when every precommit is signed by a distinct-or-repeated member with a valid signature and the signers' weight reaches the threshold; Reject + report otherwise; Ignore when stale (target not above our finalized number) or another set |
//! | 2 | `Neighbor` | `round: u64, set_id: u64, finalized: u32, nonce: u64` (nonce: strictly increasing per sender, so repeated packets are not dropped as duplicates by content-addressed gossip) | never forwarded (Ignore): tells its direct source where the peer is |
//!
//! `SignedMessage` is `finality_grandpa::SignedMessage { message: Message (0 Prevote, 1
//! Precommit, 2 PrimaryPropose; each {target_hash: H256, target_number: u32}), signature:
//! ed25519 [u8; 64], id: ed25519 public [u8; 32] }`; `CompactCommit` is `{target_hash,
//! target_number, precommits: Vec<Precommit>, auth_data: Vec<(signature, id)>}` — Substrate's
//! types, so votes and justifications are byte-compatible with Substrate GRANDPA.
//!
//! # Catch-up (`Protocol::GrandpaCatchUp`)
//!
//! Request [`CatchUpRequest`] `{set_id: u64, round: u64, missing: Vec<H256>}` (the asker's
//! current round, and the blocks its votes point at that it does not know); response
//! [`CatchUpResponse`] `{set_id: u64, catch_up: Option<CatchUp<Header>>, round: u64,
//! round_votes: Vec<SignedMessage<Header>>, headers: Vec<Header>}`: the responder's last
//! completed round (when it is not below the asked round), the votes it has seen in the asked
//! round, and the headers from each missing block down to its finalized block (at most
//! [`MAX_CATCH_UP_HEADERS`]), so that the asker can count votes for blocks it never imported.

use crate::Header;
use codec::{Decode, DecodeAll, Encode};
use sp_consensus_grandpa::{CatchUp, CompactCommit, RoundNumber, SetId, SignedMessage};
use sp_core::H256;

/// A message on the GRANDPA gossip topic.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum GossipMessage {
    /// A signed prevote, precommit or primary proposal.
    #[codec(index = 0)]
    Vote {
        /// The round voted in.
        round: RoundNumber,
        /// The authority set id.
        set_id: SetId,
        /// The vote and its signature.
        message: SignedMessage<Header>,
    },
    /// A commit: precommits justifying the finality of a block in a round.
    #[codec(index = 1)]
    Commit {
        /// The round committed.
        round: RoundNumber,
        /// The authority set id.
        set_id: SetId,
        /// The commit.
        commit: CompactCommit<Header>,
    },
    /// Where the sender is: its round, set and finalized number.
    #[codec(index = 2)]
    Neighbor {
        /// The sender's current round.
        round: RoundNumber,
        /// The sender's authority set id.
        set_id: SetId,
        /// The sender's finalized block number.
        finalized: u32,
        /// Strictly increasing per sender (it starts at the sender's clock in milliseconds):
        /// gossip message ids are hashes of the contents, so without it a repeated packet
        /// would be dropped as a duplicate.
        nonce: u64,
    },
}

/// The most headers in a [`CatchUpResponse`].
pub const MAX_CATCH_UP_HEADERS: usize = 2048;

/// The most block hashes in [`CatchUpRequest::missing`].
pub const MAX_MISSING_BLOCKS: usize = 32;

/// A catch-up request: "I am in `round` of set `set_id`", and the voted-for blocks the asker
/// does not know.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct CatchUpRequest {
    /// The asker's authority set id.
    pub set_id: SetId,
    /// The asker's current round.
    pub round: RoundNumber,
    /// Blocks that votes the asker holds point at but that it does not know (at most
    /// [`MAX_MISSING_BLOCKS`]): the responder sends the headers from each down to its
    /// finalized block, when it knows them.
    pub missing: Vec<H256>,
}

/// The answer to a [`CatchUpRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct CatchUpResponse {
    /// The responder's authority set id.
    pub set_id: SetId,
    /// The responder's last completed round, if it is not below the asked round.
    pub catch_up: Option<CatchUp<Header>>,
    /// The round `round_votes` belong to (the asked round).
    pub round: RoundNumber,
    /// The votes the responder has seen in the asked round.
    pub round_votes: Vec<SignedMessage<Header>>,
    /// The headers from each block of the request's `missing` down to the responder's
    /// finalized block (at most [`MAX_CATCH_UP_HEADERS`]): the asker may lack the blocks of a
    /// fork that votes point into (one it never synced, e.g. the losing side's after a
    /// partition), and cannot count a vote without its target's ancestry.
    pub headers: Vec<Header>,
}

/// A finality proof for `grandpa_proveFinality`, laid out like Substrate's: the block a
/// justification finalizes, the justification, and the headers after the asked block up to
/// and including that block.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct FinalityProof {
    /// The block the justification finalizes.
    pub block: H256,
    /// The SCALE-encoded `GrandpaJustification<Header>`.
    pub justification: Vec<u8>,
    /// The headers after the asked block up to and including `block`.
    pub unknown_headers: Vec<Header>,
}

/// Decode `T` from all of `bytes` (trailing bytes are an error).
pub(crate) fn decode_all<T: Decode>(mut bytes: &[u8]) -> Result<T, crate::Error> {
    T::decode_all(&mut bytes).map_err(|e| crate::Error::Decode(e.to_string()))
}
