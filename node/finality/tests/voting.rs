//! Multi-node GRANDPA scenarios on the in-memory network: 4 voters finalize, tolerate one
//! offline voter, stall with two and resume when they return, a late node catches up, votes
//! cast while offline (or, in a partition, on a fork the other side never imports) still count
//! once the links are back, observers finalize without voting, and a restarted voter never
//! signs a second vote.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

mod common;

use codec::Decode;
use common::{id_of, wait_until, Testbed, GOSSIP};
use finality_grandpa::Message;
use sp_runtime::traits::Header as _;
use std::time::Duration;
use subtensor_finality::{
    verify_justification,
    wire::{FinalityProof, GossipMessage},
    FinalityChain, GrandpaJustification, Header,
};
use subtensor_network_api::Topic;

const TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_voters_finalize_what_the_chain_grows_to() {
    let mut bed = Testbed::new(4, vec![]);
    bed.grow(10);
    bed.start_all();
    let all = [0, 1, 2, 3];
    assert!(bed.wait_finalized(&all, 10, TIMEOUT).await, "finalized {:?}", bed.finalized(&all));

    let mut stream = bed.nodes[1].handle.as_ref().unwrap().justifications();
    bed.grow(5);
    assert!(bed.wait_finalized(&all, 15, TIMEOUT).await, "finalized {:?}", bed.finalized(&all));

    // Every node's justification of its finalized block verifies.
    for node in &bed.nodes {
        let (hash, number) = node.chain.finalized();
        let justification = node.chain.justification(hash).expect("justification stored");
        let decoded = verify_justification(&justification, (hash, number), 0, &bed.set.authorities)
            .expect("valid justification");
        assert_eq!(decoded.commit.target_number, 15);
    }

    // The justification stream carried what node 1 finalized.
    let encoded = tokio::time::timeout(Duration::from_secs(5), stream.recv())
        .await
        .expect("a justification")
        .expect("stream open");
    let justification = GrandpaJustification::<Header>::decode(&mut &encoded[..]).unwrap();
    let target = (justification.commit.target_hash, justification.commit.target_number);
    assert!(target.1 > 10);
    verify_justification(&encoded, target, 0, &bed.set.authorities).unwrap();

    // grandpa_roundState shape.
    let state = bed.nodes[0].handle.as_ref().unwrap().round_state().expect("voter running");
    assert_eq!(state["setId"], 0);
    assert!(state["best"]["round"].as_u64().unwrap() >= 1);
    assert_eq!(state["best"]["totalWeight"], 4);
    assert_eq!(state["best"]["thresholdWeight"], 3);
    assert!(state["best"]["prevotes"]["missing"].is_array());
    assert!(state["best"]["precommits"]["currentWeight"].is_u64());
    assert!(state["background"].is_array());

    // grandpa_proveFinality: a proof for block 3 carries a justification of a block >= 3.
    let proof = bed.nodes[2].handle.as_ref().unwrap().prove_finality(3).expect("proof");
    let proof = FinalityProof::decode(&mut &proof[..]).unwrap();
    let header = bed.nodes[2].chain.header(proof.block).unwrap();
    assert!(*header.number() >= 3);
    assert_eq!(proof.unknown_headers.len() as u32, *header.number() - 3);
    verify_justification(&proof.justification, id_of(&header), 0, &bed.set.authorities).unwrap();
    assert!(bed.nodes[2].handle.as_ref().unwrap().prove_finality(100).is_none());

    bed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_four_offline_finality_continues_and_a_late_node_catches_up() {
    let mut bed = Testbed::new(4, vec![]);
    bed.network.set_online(&bed.nodes[3].peer(), false);
    for i in 0..3 {
        bed.start(i);
    }
    bed.grow(6);
    let live = [0, 1, 2];
    assert!(bed.wait_finalized(&live, 6, TIMEOUT).await, "finalized {:?}", bed.finalized(&live));

    // Let the others run ahead by several rounds, then start the fourth: it catches up.
    let h0 = bed.nodes[0].handle.clone().unwrap();
    assert!(wait_until(TIMEOUT, || h0.current_round() >= 8).await);
    bed.start(3);
    let h3 = bed.nodes[3].handle.clone().unwrap();
    assert!(
        wait_until(TIMEOUT, || h3.current_round() + 1 >= h0.current_round()
            && h3.current_round() > 3)
        .await,
        "late node in round {}, others in {}",
        h3.current_round(),
        h0.current_round()
    );
    bed.grow(4);
    let all = [0, 1, 2, 3];
    assert!(bed.wait_finalized(&all, 10, TIMEOUT).await, "finalized {:?}", bed.finalized(&all));
    bed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_four_offline_finality_stalls_then_resumes() {
    let mut bed = Testbed::new(4, vec![]);
    bed.start_all();
    bed.grow(5);
    let all = [0, 1, 2, 3];
    assert!(bed.wait_finalized(&all, 5, TIMEOUT).await, "finalized {:?}", bed.finalized(&all));

    bed.stop(2).await;
    bed.stop(3).await;
    bed.grow(5);
    tokio::time::sleep(GOSSIP * 20).await;
    assert_eq!(bed.finalized(&[0, 1]), vec![5, 5], "finality must stall with 2 of 4 voters");

    bed.start(2);
    bed.start(3);
    assert!(bed.wait_finalized(&all, 10, TIMEOUT).await, "finalized {:?}", bed.finalized(&all));
    bed.grow(2);
    assert!(bed.wait_finalized(&all, 12, TIMEOUT).await, "finalized {:?}", bed.finalized(&all));
    bed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observers_finalize_without_voting() {
    // Node 4 has no key, node 5 a key outside the set.
    let mut bed = Testbed::new(4, vec![None, Some(common::key(9))]);
    bed.start_all();
    bed.grow(8);
    let all = [0, 1, 2, 3, 4, 5];
    assert!(bed.wait_finalized(&all, 8, TIMEOUT).await, "finalized {:?}", bed.finalized(&all));
    for i in [4, 5] {
        assert!(bed.nodes[i].handle.as_ref().unwrap().local_id().is_none());
        let (hash, number) = bed.nodes[i].chain.finalized();
        let justification = bed.nodes[i].chain.justification(hash).unwrap();
        verify_justification(&justification, (hash, number), 0, &bed.set.authorities).unwrap();
    }
    // Observers publish neighbour packets only.
    for (publisher, topic, data) in bed.network.published() {
        if topic == Topic::Grandpa
            && (publisher == bed.nodes[4].peer() || publisher == bed.nodes[5].peer())
        {
            let message = GossipMessage::decode(&mut &data[..]).unwrap();
            assert!(matches!(message, GossipMessage::Neighbor { .. }), "observer sent {message:?}");
        }
    }
    bed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_voter_does_not_vote_differently_in_a_round_it_voted_in() {
    // Only node 0 of 4 runs: its round 1 can never complete, so it stays in round 1.
    let mut bed = Testbed::new(4, vec![]);
    let chain = bed.nodes[0].chain.clone();
    let genesis = chain.genesis();
    let fork_a = chain.extend(genesis, 3, 0);
    let a3 = id_of(fork_a.last().unwrap());
    let peer = bed.nodes[0].peer();
    let prevotes = |bed: &Testbed| {
        bed.network
            .published()
            .into_iter()
            .filter(|(publisher, _, _)| *publisher == peer)
            .filter_map(|(_, _, data)| match GossipMessage::decode(&mut &data[..]) {
                Ok(GossipMessage::Vote { round: 1, message, .. }) => match message.message {
                    Message::Prevote(prevote) => Some((prevote, message.signature)),
                    _ => None,
                },
                _ => None,
            })
            .collect::<Vec<_>>()
    };

    bed.start(0);
    assert!(wait_until(TIMEOUT, || !prevotes(&bed).is_empty()).await, "no prevote sent");
    let first = prevotes(&bed)[0].clone();
    assert_eq!((first.0.target_hash, first.0.target_number), a3);
    bed.stop(0).await;

    // A longer fork appears: a fresh voter would now prevote its head.
    let fork_b = chain.extend(genesis, 6, 1);
    assert_eq!(chain.best(), id_of(fork_b.last().unwrap()));
    bed.start(0);
    assert!(wait_until(TIMEOUT, || prevotes(&bed).len() >= 2).await, "no prevote after restart");
    tokio::time::sleep(GOSSIP * 6).await;
    for (prevote, signature) in prevotes(&bed) {
        assert_eq!((prevote.target_hash, prevote.target_number), a3, "equivocated after restart");
        assert_eq!(signature, first.1);
    }
    bed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_vote_is_sent_unless_it_was_persisted_first() {
    let mut bed = Testbed::new(4, vec![]);
    bed.grow(3);
    let chain = bed.nodes[0].chain.clone();
    chain.fail_aux_writes(true);
    bed.start(0);
    let peer = bed.nodes[0].peer();
    let votes = |bed: &Testbed| {
        bed.network
            .published()
            .into_iter()
            .filter(|(publisher, _, data)| {
                *publisher == peer
                    && matches!(
                        GossipMessage::decode(&mut &data[..]),
                        Ok(GossipMessage::Vote { .. })
                    )
            })
            .count()
    };
    // The voter keeps failing (and restarting) at its first vote: nothing goes out.
    tokio::time::sleep(GOSSIP * 12).await;
    assert_eq!(votes(&bed), 0, "a vote was sent without being persisted");
    chain.fail_aux_writes(false);
    assert!(wait_until(TIMEOUT, || votes(&bed) > 0).await, "no vote once storage works");
    bed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_published_while_offline_count_once_peers_connect() {
    // Every voter enters round 1 and votes with no peer at all (gossip never replays): once
    // connected, the round must still complete.
    let mut bed = Testbed::new(4, vec![]);
    bed.grow(3);
    bed.start_all();
    for node in &bed.nodes {
        bed.network.set_online(&node.peer(), false);
    }
    let all = [0, 1, 2, 3];
    let published_votes = |bed: &Testbed, i: usize| {
        let peer = bed.nodes[i].peer();
        bed.network
            .published()
            .into_iter()
            .filter(|(publisher, _, data)| {
                *publisher == peer
                    && matches!(
                        GossipMessage::decode(&mut &data[..]),
                        Ok(GossipMessage::Vote { round: 1, .. })
                    )
            })
            .count()
    };
    assert!(
        wait_until(TIMEOUT, || all.iter().all(|i| published_votes(&bed, *i) > 0)).await,
        "every voter prevotes in round 1 while offline"
    );
    tokio::time::sleep(GOSSIP * 10).await;
    assert_eq!(bed.finalized(&all), vec![0, 0, 0, 0]);

    for node in &bed.nodes {
        bed.network.set_online(&node.peer(), true);
    }
    assert!(bed.wait_finalized(&all, 3, TIMEOUT).await, "finalized {:?}", bed.finalized(&all));
    bed.grow(2);
    assert!(bed.wait_finalized(&all, 5, TIMEOUT).await, "finalized {:?}", bed.finalized(&all));
    bed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_heals_although_one_side_voted_on_a_fork_the_other_never_imports() {
    // Nodes 0 and 1 build a short fork, nodes 2 and 3 a longer one, each side cut off from
    // the other: both sides vote in round 1 for their own fork and cannot complete it.
    let mut bed = Testbed::new(4, vec![]);
    bed.grow(2);
    let base = bed.nodes[0].chain.best();
    let short = bed.nodes[0].chain.extend(base, 2, 1);
    bed.nodes[1].chain.import_all(&short).unwrap();
    let long = bed.nodes[2].chain.extend(base, 6, 2);
    bed.nodes[3].chain.import_all(&long).unwrap();
    bed.start_all();
    let (left, right) = ([0, 1], [2, 3]);
    for a in left {
        for b in right {
            bed.network.disconnect(&bed.nodes[a].peer(), &bed.nodes[b].peer());
        }
    }
    let all = [0, 1, 2, 3];
    tokio::time::sleep(GOSSIP * 20).await;
    assert_eq!(bed.finalized(&all), vec![0, 0, 0, 0], "a 2/2 partition cannot finalize");

    // Heal: the short side syncs the long fork (and reorgs onto it); the long side never
    // imports the short fork, yet must count the votes cast for it.
    for i in left {
        bed.nodes[i].chain.import_all(&long).unwrap();
    }
    for a in left {
        for b in right {
            bed.network.connect(&bed.nodes[a].peer(), &bed.nodes[b].peer());
        }
    }
    assert!(bed.wait_finalized(&all, 8, TIMEOUT).await, "finalized {:?}", bed.finalized(&all));
    let short_tip = short.last().unwrap().hash();
    for i in right {
        assert!(bed.nodes[i].chain.header(short_tip).is_none(), "the short fork was imported");
    }
    bed.shutdown().await;
}
