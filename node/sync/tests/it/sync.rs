//! Range sync: catching up with one or several peers, forks, justifications, wrong chains.

use crate::common::*;
use codec::Encode;
use sp_core::H256;
use std::time::{Duration, Instant};
use subtensor_chain::{ChainApi, ChainWrite};
use subtensor_network_api::{Misbehaviour, NetworkService, Protocol};
use subtensor_sync::{server::local_status, testing::MemoryNetwork, wire::Status, Role};

const LONG: Duration = Duration::from_secs(180);

/// The storage key of `System.Number`.
fn system_number_key() -> Vec<u8> {
    let mut key = sp_crypto_hashing::twox_128(b"System").to_vec();
    key.extend(sp_crypto_hashing::twox_128(b"Number"));
    key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_node_syncs_300_blocks_and_re_executes_them() {
    let full = client_with(300);
    let network = MemoryNetwork::new();
    let a = start(&network, "a", full);
    let b = start(&network, "b", new_client(1));
    network.connect(&b.id, &a.id);
    let target = a.client.info().best_hash;
    let t = Instant::now();
    wait_until("b to sync", LONG, || b.client.info().best_hash == target).await;
    eprintln!("synced 300 blocks in {:?}", t.elapsed());

    let header_a = a.client.header(target).unwrap().unwrap();
    let header_b = b.client.header(target).unwrap().unwrap();
    assert_eq!(header_a.state_root, header_b.state_root);
    // The state was computed by b (re-execution), not copied: it is readable there.
    let key = system_number_key();
    assert_eq!(b.client.storage(target, &key).unwrap(), Some(300u32.encode()));
    assert_eq!(b.client.info().best_number, 300);
    let status = b.sync.status();
    assert_eq!(status.blocks_imported_from_network(), 300);
    let state = status.state();
    assert_eq!((state.starting_block, state.current_block, state.highest_block), (0, 300, 300));
    assert!(!status.is_major_syncing());
    let peers = status.peers();
    assert_eq!(peers.len(), 1);
    assert_eq!((peers[0].peer_id.clone(), peers[0].best_number), (a.id.clone(), 300));
    // The ranges were at most 128 blocks: at least 3 block requests besides the ancestor search.
    assert!(network.request_count(&b.id, &a.id, Protocol::Blocks) >= 3);
    assert!(network.reports().is_empty(), "{:?}", network.reports());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_below_finality_come_from_several_peers() {
    // a and c hold the same 260 blocks, finalized; b downloads from both.
    let a_client = client_with(260);
    let c_client = client_with(260);
    let best = a_client.info().best_hash;
    a_client.finalize(best, None).unwrap();
    c_client.finalize(best, None).unwrap();

    let network = MemoryNetwork::new();
    let a = start(&network, "a", a_client);
    let c = start(&network, "c", c_client);
    let b = start(&network, "b", new_client(1));
    network.connect(&b.id, &a.id);
    network.connect(&b.id, &c.id);
    // Let both statuses arrive before the target's ranges are handed out.
    wait_until("b to know both peers", LONG, || b.sync.status().peers().len() == 2).await;
    wait_until("b to sync", LONG, || b.client.info().best_hash == best).await;
    let from_a = network.request_count(&b.id, &a.id, Protocol::Blocks);
    let from_c = network.request_count(&b.id, &c.id, Protocol::Blocks);
    assert!(from_a >= 1 && from_c >= 1, "requests to a: {from_a}, to c: {from_c}");
    assert_eq!(b.sync.status().blocks_imported_from_network(), 260);
    assert!(network.reports().is_empty(), "{:?}", network.reports());
    drop(c);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_converges_on_the_longest_fork() {
    // Alice's fork: 3 blocks in even slots; Bob's: 5 blocks in odd slots; both on genesis.
    let alice = new_client(2);
    let bob = new_client(2);
    let genesis = alice.info().genesis_hash;
    extend_from(&alice, genesis, 3, 2, 0);
    extend_from(&bob, genesis, 5, 2, 1);
    let network = MemoryNetwork::new();
    let a = start_with(&network, "alice", alice, config(Role::Authority));
    let b = start_with(&network, "bob", bob, config(Role::Authority));
    let f = start(&network, "follower", new_client(2));

    network.connect(&f.id, &a.id);
    let a_best = a.client.info().best_hash;
    wait_until("f to follow alice", LONG, || f.client.info().best_hash == a_best).await;
    assert_eq!(f.client.info().best_number, 3);

    network.connect(&f.id, &b.id);
    let b_best = b.client.info().best_hash;
    wait_until("f to switch to bob's fork", LONG, || f.client.info().best_hash == b_best).await;
    assert_eq!(f.client.info().best_number, 5);
    let mut leaves = f.client.leaves();
    leaves.sort();
    let mut expected = vec![a_best, b_best];
    expected.sort();
    assert_eq!(leaves, expected, "both forks are kept until finality");

    // Alice learns the longer fork from the follower's refreshed status, and reorgs too.
    wait_until("alice to reorg", LONG, || a.client.info().best_hash == b_best).await;
    assert!(network.reports().is_empty(), "{:?}", network.reports());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn justifications_that_verify_finalize_the_synced_blocks() {
    let a_client = new_client(1);
    let blocks = extend(&a_client, 20);
    let h10 = blocks[9].header.hash();
    let h20 = blocks[19].header.hash();
    a_client.finalize(h10, Some(GOOD_JUSTIFICATION.to_vec())).unwrap();
    a_client.finalize(h20, Some(GOOD_JUSTIFICATION.to_vec())).unwrap();

    let network = MemoryNetwork::new();
    let a = start(&network, "a", a_client);
    let b = start(&network, "b", new_client(1));
    let mut finalized = b.client.subscribe();
    network.connect(&b.id, &a.id);
    wait_until("b to finalize #20", LONG, || b.client.info().finalized_hash == h20).await;
    assert_eq!(b.client.justification(h10).unwrap(), Some(GOOD_JUSTIFICATION.to_vec()));
    assert_eq!(b.client.justification(h20).unwrap(), Some(GOOD_JUSTIFICATION.to_vec()));
    // In order: #10 first, then #20.
    let order: Vec<_> = std::iter::from_fn(|| finalized.try_recv().ok())
        .filter_map(|e| match e {
            subtensor_chain::ChainEvent::Finalized { header, .. } => Some(header.number),
            _ => None,
        })
        .collect();
    assert_eq!(order, vec![10, 20]);
    assert!(network.reports().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_justification_is_reported_and_not_used() {
    let a_client = new_client(1);
    let blocks = extend(&a_client, 3);
    let h2 = blocks[1].header.hash();
    a_client.finalize(h2, Some(b"forged".to_vec())).unwrap();
    let network = MemoryNetwork::new();
    let a = start(&network, "a", a_client);
    let b = start(&network, "b", new_client(1));
    network.connect(&b.id, &a.id);
    wait_until("b to report a", LONG, || {
        network.reports().iter().any(|r| {
            r.reporter == b.id
                && r.peer == a.id
                && matches!(r.misbehaviour, Misbehaviour::InvalidFinality(_))
        })
    })
    .await;
    assert_eq!(b.client.info().finalized_number, 0);
    assert!(b.client.header(h2).unwrap().is_some(), "the block itself is imported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_of_another_chain_is_reported() {
    let network = MemoryNetwork::new();
    let f = start(&network, "follower", new_client(1));
    // A hand-driven peer answering statuses with another genesis.
    let other = network.add_node("other");
    let mut status_requests = other.handle_requests(Protocol::Status);
    let theirs = local_status(f.client.as_ref(), Role::Full);
    tokio::spawn(async move {
        while let Some(request) = status_requests.recv().await {
            let status = Status { genesis_hash: H256::repeat_byte(7), ..theirs };
            let _ = request.respond.send(status.encode());
        }
    });
    network.connect(&other.id(), &f.id);
    wait_until("the report", LONG, || {
        network.reports().iter().any(|r| {
            r.reporter == f.id && r.peer == other.id() && r.misbehaviour == Misbehaviour::WrongChain
        })
    })
    .await;
    assert!(!network.is_connected(&f.id, &other.id()));
    assert!(f.sync.status().peers().is_empty());
}
