//! Gossip validation: what a node forwards, drops and reports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

mod common;

use codec::Encode;
use common::{id, key, wait_until, Testbed};
use finality_grandpa::{CompactCommit, Message, Precommit, Prevote, SignedMessage};
use sp_consensus_grandpa::{localized_payload, AuthoritySignature};
use sp_core::{ed25519, Pair as _};
use std::time::Duration;
use subtensor_finality::{wire::GossipMessage, FinalityChain, Header};
use subtensor_network_api::{Acceptance, MessageId, Misbehaviour, PeerId, Topic};

fn signed(
    pair: &ed25519::Pair,
    round: u64,
    set_id: u64,
    message: Message<sp_core::H256, u32>,
) -> sp_consensus_grandpa::SignedMessage<Header> {
    let signature =
        AuthoritySignature::from(pair.sign(&localized_payload(round, set_id, &message)));
    SignedMessage { message, signature, id: id(pair) }
}

fn vote(round: u64, set_id: u64, message: sp_consensus_grandpa::SignedMessage<Header>) -> Vec<u8> {
    GossipMessage::Vote { round, set_id, message }.encode()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_gossip_is_rejected_and_reported_good_gossip_is_accepted() {
    let mut bed = Testbed::new(4, vec![]);
    bed.grow(3);
    bed.start(0);
    let node = bed.nodes[0].peer();
    let handle = bed.nodes[0].handle.clone().unwrap();
    assert!(wait_until(Duration::from_secs(5), || handle.current_round() >= 1).await);
    let (hash, number) = bed.nodes[0].chain.best();
    let prevote = Message::Prevote(Prevote { target_hash: hash, target_number: number });

    let verdict = |bed: &Testbed, id: &MessageId| {
        bed.network
            .verdicts()
            .into_iter()
            .find(|(validator, mid, _, _)| *validator == node && mid == id)
            .map(|(_, _, _, acceptance)| acceptance)
    };
    let reported = |bed: &Testbed, peer: &PeerId| {
        bed.network
            .reports()
            .into_iter()
            .filter(|(_, p, _)| p == peer)
            .map(|(_, _, m)| m)
            .collect::<Vec<_>>()
    };
    async fn verdict_of(
        bed: &Testbed,
        from: &str,
        data: Vec<u8>,
        verdict: &impl Fn(&Testbed, &MessageId) -> Option<Acceptance>,
    ) -> Acceptance {
        let id = bed.network.inject_gossip(
            &PeerId(from.into()),
            &bed.nodes[0].peer(),
            Topic::Grandpa,
            data,
        );
        assert!(
            wait_until(Duration::from_secs(5), || verdict(bed, &id).is_some()).await,
            "no verdict"
        );
        verdict(bed, &id).unwrap()
    }

    // Garbage: rejected, peer reported for a bad message.
    assert_eq!(verdict_of(&bed, "garbage", vec![7, 1, 2, 3], &verdict).await, Acceptance::Reject);
    assert!(matches!(reported(&bed, &PeerId("garbage".into()))[..], [Misbehaviour::BadMessage(_)]));

    // Trailing bytes after a valid message: rejected.
    let mut data = vote(1, 0, signed(&key(1), 1, 0, prevote.clone()));
    data.push(0);
    assert_eq!(verdict_of(&bed, "trailing", data, &verdict).await, Acceptance::Reject);

    // A bad signature (signed for another round): rejected, reported as invalid finality.
    let data = vote(1, 0, signed(&key(1), 2, 0, prevote.clone()));
    assert_eq!(verdict_of(&bed, "forger", data, &verdict).await, Acceptance::Reject);
    assert!(matches!(
        reported(&bed, &PeerId("forger".into()))[..],
        [Misbehaviour::InvalidFinality(_)]
    ));

    // A corrupted signature: rejected.
    let mut message = signed(&key(2), 1, 0, prevote.clone());
    let mut bytes = message.signature.encode();
    bytes[0] ^= 1;
    message.signature = codec::Decode::decode(&mut &bytes[..]).unwrap();
    assert_eq!(
        verdict_of(&bed, "flipper", vote(1, 0, message), &verdict).await,
        Acceptance::Reject
    );

    // A well-signed vote by a key outside the set: rejected.
    let data = vote(1, 0, signed(&key(7), 1, 0, prevote.clone()));
    assert_eq!(verdict_of(&bed, "outsider", data, &verdict).await, Acceptance::Reject);
    assert_eq!(reported(&bed, &PeerId("outsider".into())).len(), 1);

    // A valid vote of the current round: accepted, nobody reported.
    let round = handle.current_round();
    let data = vote(round, 0, signed(&key(1), round, 0, prevote.clone()));
    assert_eq!(verdict_of(&bed, "honest", data, &verdict).await, Acceptance::Accept);
    assert!(reported(&bed, &PeerId("honest".into())).is_empty());

    // Another set, a stale round, a round far ahead: ignored, not reported.
    let data = vote(round, 5, signed(&key(1), round, 5, prevote.clone()));
    assert_eq!(verdict_of(&bed, "other-set", data, &verdict).await, Acceptance::Ignore);
    let far = round + 50;
    let data = vote(far, 0, signed(&key(1), far, 0, prevote.clone()));
    assert_eq!(verdict_of(&bed, "ahead", data, &verdict).await, Acceptance::Ignore);
    assert!(reported(&bed, &PeerId("ahead".into())).is_empty());
    let later = handle.current_round();
    if later >= 3 {
        let data = vote(later - 3, 0, signed(&key(1), later - 3, 0, prevote.clone()));
        assert_eq!(verdict_of(&bed, "stale", data, &verdict).await, Acceptance::Ignore);
    }

    // Neighbour packets are never forwarded.
    let data = GossipMessage::Neighbor { round: 1, set_id: 0, finalized: 0, nonce: 1 }.encode();
    assert_eq!(verdict_of(&bed, "neighbor", data, &verdict).await, Acceptance::Ignore);

    // A commit with too little weight (one precommit of four): rejected and reported.
    let precommit = Precommit { target_hash: hash, target_number: number };
    let one = signed(&key(1), 1, 0, Message::Precommit(precommit.clone()));
    let commit = CompactCommit {
        target_hash: hash,
        target_number: number,
        precommits: vec![precommit.clone()],
        auth_data: vec![(one.signature.clone(), one.id.clone())],
    };
    let data = GossipMessage::Commit { round: 1, set_id: 0, commit }.encode();
    assert_eq!(verdict_of(&bed, "weak-commit", data, &verdict).await, Acceptance::Reject);
    assert_eq!(reported(&bed, &PeerId("weak-commit".into())).len(), 1);

    // A valid commit (3 of 4) for the best block: accepted, and the node finalizes from it.
    let signers = [1u8, 2, 3].map(|i| signed(&key(i), 1, 0, Message::Precommit(precommit.clone())));
    let commit = CompactCommit {
        target_hash: hash,
        target_number: number,
        precommits: vec![precommit.clone(); 3],
        auth_data: signers.iter().map(|s| (s.signature.clone(), s.id.clone())).collect(),
    };
    let data = GossipMessage::Commit { round: 1, set_id: 0, commit }.encode();
    assert_eq!(verdict_of(&bed, "committer", data, &verdict).await, Acceptance::Accept);
    let chain = bed.nodes[0].chain.clone();
    assert!(wait_until(Duration::from_secs(5), || chain.finalized().1 == number).await);
    assert!(reported(&bed, &PeerId("committer".into())).is_empty());

    bed.shutdown().await;
}
