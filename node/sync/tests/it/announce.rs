//! Block announcements: import before forwarding, bad seals, unknown parents, future slots.

use crate::common::*;
use codec::Encode;
use parking_lot::Mutex;
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};
use subtensor_chain::{ChainApi, Client};
use subtensor_network_api::{Acceptance, Misbehaviour, NetworkService, PeerId, Protocol, Topic};
use subtensor_sync::{
    server::local_status,
    testing::MemoryNetwork,
    wire::{decode_message, BlockAnnounce, BlockData, BlockResponse},
    Role,
};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announced_blocks_are_imported_before_they_are_forwarded() {
    // author - relay - leaf, in a line: the leaf hears of each block from the relay only.
    let network = MemoryNetwork::new();
    // No status refreshes: the blocks travel by announcement only.
    let mut quiet = config(Role::Full);
    quiet.status_interval = Duration::from_secs(3600);
    let author = start_with(&network, "author", new_client(1), quiet.clone());
    let relay = start_with(&network, "relay", new_client(1), quiet.clone());
    let leaf = start_with(&network, "leaf", new_client(1), quiet);
    let clients: HashMap<PeerId, Arc<Client>> =
        [&author, &relay, &leaf].iter().map(|n| (n.id.clone(), n.client.clone())).collect();
    let violations = Arc::new(Mutex::new(Vec::new()));
    let accepted = Arc::new(Mutex::new(Vec::new()));
    {
        let violations = violations.clone();
        let accepted = accepted.clone();
        network.set_verdict_hook(Arc::new(move |verdict, data| {
            if verdict.topic != Some(Topic::BlockAnnounces)
                || verdict.acceptance != Acceptance::Accept
            {
                return;
            }
            let announce: BlockAnnounce = decode_message(data).unwrap();
            let hash = announce.header.hash();
            let client = &clients[&verdict.node];
            if client.header(hash).unwrap().is_none() {
                violations
                    .lock()
                    .push(format!("{} accepted {hash:?} before importing it", verdict.node));
            }
            accepted.lock().push((verdict.node.clone(), announce.header.number));
        }));
    }
    network.connect(&author.id, &relay.id);
    network.connect(&relay.id, &leaf.id);
    wait_until("statuses", WAIT, || {
        relay.sync.status().peers().len() == 2 && leaf.sync.status().peers().len() == 1
    })
    .await;

    for number in 1..=3u32 {
        let block = extend(&author.client, 1).pop().unwrap();
        author.sync.announce(&block.header);
        let hash = block.header.hash();
        let deadline = std::time::Instant::now() + WAIT;
        while leaf.client.info().best_hash != hash {
            assert!(
                std::time::Instant::now() < deadline,
                "#{number} not imported by the leaf; relay best #{}; verdicts {:?}",
                relay.client.info().best_number,
                network.verdicts()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(relay.client.info().best_number, number);
    }
    assert!(violations.lock().is_empty(), "{:?}", violations.lock());
    let accepted = accepted.lock().clone();
    for number in 1..=3u32 {
        assert!(accepted.contains(&(relay.id.clone(), number)), "{accepted:?}");
        assert!(accepted.contains(&(leaf.id.clone(), number)), "{accepted:?}");
    }
    // The leaf fetched every block from the relay, never from the author it is not linked to.
    assert_eq!(network.request_count(&leaf.id, &author.id, Protocol::Blocks), 0);
    assert!(leaf.sync.status().blocks_imported_from_network() == 3);
    assert!(network.reports().is_empty(), "{:?}", network.reports());
}

/// A hand-driven peer serving statuses of `client` and the given blocks to block requests.
fn serve_blocks(
    network: &MemoryNetwork,
    name: &str,
    client: Arc<Client>,
    blocks: Vec<subtensor_runtime::Block>,
) -> Arc<subtensor_sync::testing::MemoryNode> {
    let node = network.add_node(name);
    let mut status_requests = node.handle_requests(Protocol::Status);
    let mut block_requests = node.handle_requests(Protocol::Blocks);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(request) = status_requests.recv() => {
                    let _ = request.respond.send(local_status(client.as_ref(), Role::Full).encode());
                }
                Some(request) = block_requests.recv() => {
                    let response = BlockResponse {
                        blocks: blocks
                            .iter()
                            .map(|b| BlockData { block: b.clone(), justification: None })
                            .collect(),
                    };
                    let _ = request.respond.send(response.encode());
                }
                else => break,
            }
        }
    });
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announced_block_with_a_bad_seal_is_rejected_and_its_sender_reported() {
    let network = MemoryNetwork::new();
    let follower = start(&network, "follower", new_client(1));
    // Slot 1 belongs to Alice (the only authority); Bob seals it.
    let evil_client = new_client(1);
    let genesis = evil_client.info().genesis_hash;
    let bob = authorities(2).pop().unwrap();
    let forged = block_on(&evil_client, genesis, 1, &bob);
    let evil = serve_blocks(&network, "evil", evil_client, vec![forged.clone()]);
    network.connect(&evil.id(), &follower.id);
    wait_until("the status", WAIT, || follower.sync.status().peers().len() == 1).await;

    evil.publish(Topic::BlockAnnounces, announcement(&forged.header));
    wait_until("the report", WAIT, || {
        network.reports().iter().any(|r| {
            r.reporter == follower.id
                && r.peer == evil.id()
                && matches!(r.misbehaviour, Misbehaviour::InvalidBlock(_))
        })
    })
    .await;
    let verdicts = network.verdicts();
    assert!(
        verdicts.iter().any(|v| v.node == follower.id && v.acceptance == Acceptance::Reject),
        "{verdicts:?}"
    );
    assert!(verdicts.iter().all(|v| v.acceptance != Acceptance::Accept));
    assert_eq!(follower.client.info().best_number, 0);
    assert!(follower.client.header(forged.header.hash()).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_announcements_are_rejected() {
    let network = MemoryNetwork::new();
    let follower = start(&network, "follower", new_client(1));
    let evil = network.add_node("evil");
    network.connect(&evil.id(), &follower.id);
    evil.publish(Topic::BlockAnnounces, vec![1, 2, 3]);
    wait_until("the verdict", WAIT, || {
        network
            .verdicts()
            .iter()
            .any(|v| v.node == follower.id && v.acceptance == Acceptance::Reject)
    })
    .await;
}

static CLOCK_MS: AtomicU64 = AtomicU64::new(0);

fn test_clock() -> u64 {
    CLOCK_MS.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_from_a_future_slot_waits_for_its_slot() {
    let network = MemoryNetwork::new();
    let author = start(&network, "author", new_client(1));
    let mut follower_config = config(Role::Full);
    follower_config.clock = test_clock;
    // The follower's clock is in slot 2: a block of slot 10 is early.
    CLOCK_MS.store(2 * SLOT_MS, Ordering::SeqCst);
    let follower = start_with(&network, "follower", new_client(1), follower_config);
    network.connect(&author.id, &follower.id);
    wait_until("the status", WAIT, || follower.sync.status().peers().len() == 1).await;

    let genesis = author.client.info().genesis_hash;
    let early = block_on(&author.client, genesis, 10, &author_of(10, 1));
    let hash = import(&author.client, early.clone());
    author.sync.announce(&early.header);
    wait_until("the verdict", WAIT, || {
        network
            .verdicts()
            .iter()
            .any(|v| v.node == follower.id && v.acceptance == Acceptance::Ignore)
    })
    .await;
    // Several ticks later it is still waiting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(follower.client.info().best_number, 0);

    CLOCK_MS.store(9 * SLOT_MS, Ordering::SeqCst);
    wait_until("the deferred import", WAIT, || follower.client.info().best_hash == hash).await;
    assert!(network.reports().is_empty(), "{:?}", network.reports());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_with_an_unknown_parent_triggers_a_sync() {
    let network = MemoryNetwork::new();
    let author = start(&network, "author", new_client(1));
    let follower = start(&network, "follower", new_client(1));
    network.connect(&author.id, &follower.id);
    wait_until("the status", WAIT, || follower.sync.status().peers().len() == 1).await;
    // Ten blocks the follower did not hear of, then an announcement of the eleventh.
    extend(&author.client, 10);
    let block = extend(&author.client, 1).pop().unwrap();
    author.sync.announce(&block.header);
    let hash = block.header.hash();
    wait_until("the sync", WAIT, || follower.client.info().best_hash == hash).await;
    assert_eq!(follower.sync.status().blocks_imported_from_network(), 11);
}
