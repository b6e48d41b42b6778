//! Gossip: delivery, and forwarding only after the consumer's verdict.

use crate::common::{config, start_node, wait_until, within, Node, WAIT};
use std::time::Duration;
use subtensor_network::NetworkService;
use subtensor_network_api::{Acceptance, GossipMessage, Topic};
use tokio::sync::mpsc;

const TOPIC: Topic = Topic::Transactions;

/// A — B — C in a line (reserved-only, B added A and C at run time): A's messages reach C only
/// through B, and only once B accepted them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_is_forwarded_only_after_accept() {
    let id = "gossip-line";
    let mut cb = config(id);
    cb.reserved_only = true;
    let b = start_node(cb).await;
    let mut ca = config(id);
    ca.reserved_only = true;
    ca.reserved_nodes = vec![b.multiaddr()];
    let a = start_node(ca).await;
    let mut cc = config(id);
    cc.reserved_only = true;
    cc.reserved_nodes = vec![b.multiaddr()];
    let c = start_node(cc).await;
    b.add_reserved_peer(&a.address()).unwrap();
    b.add_reserved_peer(&c.address()).unwrap();
    assert!(
        wait_until(WAIT, || b.is_connected_to(&a) && b.is_connected_to(&c)).await,
        "line not formed: {:?}",
        b.connected_peers()
    );
    assert!(!a.is_connected_to(&c) && !c.is_connected_to(&a));
    assert!(b.connected_peers().iter().all(|p| p.reserved));

    let mut at_b = b.subscribe(TOPIC);
    let mut at_c = c.subscribe(TOPIC);

    // Warm up until the meshes are formed: B accepts, C sees a message through B.
    let mut round = 0u32;
    within(WAIT, "a warm-up message at C", async {
        loop {
            round += 1;
            a.publish(TOPIC, format!("warm-up {round}").into_bytes());
            tokio::time::sleep(Duration::from_millis(200)).await;
            while let Ok(message) = at_b.try_recv() {
                b.validate(message.id, message.source, Acceptance::Accept);
            }
            if let Ok(message) = at_c.try_recv() {
                assert_eq!(message.source, b.id(), "C only hears B");
                assert!(message.data.starts_with(b"warm-up"));
                c.validate(message.id, message.source, Acceptance::Accept);
                break;
            }
        }
    })
    .await;
    // Let the last warm-up messages settle.
    tokio::time::sleep(Duration::from_millis(500)).await;
    accept_all(&b, &mut at_b);
    accept_all(&c, &mut at_c);

    // Held at B: C does not get it until B accepts.
    a.publish(TOPIC, b"held".to_vec());
    let held = next_with(&b, &mut at_b, b"held").await;
    assert_eq!(held.source, a.id());
    assert_eq!(held.topic, TOPIC);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!drain(&c, &mut at_c).iter().any(|m| m.data == b"held"), "forwarded before Accept");
    b.validate(held.id, held.source, Acceptance::Accept);
    next_with(&c, &mut at_c, b"held").await;

    // Rejected and ignored messages stop at B.
    a.publish(TOPIC, b"rejected".to_vec());
    let rejected = next_with(&b, &mut at_b, b"rejected").await;
    b.validate(rejected.id, rejected.source, Acceptance::Reject);
    a.publish(TOPIC, b"ignored".to_vec());
    let ignored = next_with(&b, &mut at_b, b"ignored").await;
    b.validate(ignored.id, ignored.source, Acceptance::Ignore);
    a.publish(TOPIC, b"after".to_vec());
    let after = next_with(&b, &mut at_b, b"after").await;
    b.validate(after.id, after.source, Acceptance::Accept);
    let mut seen_at_c = Vec::new();
    within(WAIT, "`after` at C", async {
        loop {
            let message = at_c.recv().await.unwrap();
            let done = message.data == b"after";
            seen_at_c.push(message.data);
            if done {
                break;
            }
        }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    seen_at_c.extend(drain(&c, &mut at_c).into_iter().map(|m| m.data));
    assert!(!seen_at_c.contains(&b"rejected".to_vec()), "a rejected message was forwarded");
    assert!(!seen_at_c.contains(&b"ignored".to_vec()), "an ignored message was forwarded");

    // The same payload published twice is one message.
    let received_before = b.metrics().snapshot().gossip_received_total;
    a.publish(TOPIC, b"after".to_vec());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(at_b.try_recv().is_err(), "a duplicate payload was delivered");
    assert_eq!(b.metrics().snapshot().gossip_received_total, received_before);
}

/// Without a subscriber, messages are dropped and counted, and the network carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_without_a_subscriber_are_dropped_and_counted() {
    let a = start_node(config("gossip-pair")).await;
    let mut cb = config("gossip-pair");
    cb.boot_nodes = vec![a.multiaddr()];
    let b = start_node(cb).await;
    assert!(wait_until(WAIT, || a.is_connected_to(&b) && b.is_connected_to(&a)).await);

    // B subscribes to Grandpa only; A publishes on both until B got a Grandpa message.
    let mut grandpa = b.subscribe(Topic::Grandpa);
    let mut round = 0u32;
    let message = within(WAIT, "a Grandpa message", async {
        loop {
            round += 1;
            a.publish(Topic::BlockAnnounces, format!("announce {round}").into_bytes());
            a.publish(Topic::Grandpa, format!("vote {round}").into_bytes());
            if let Ok(Some(message)) =
                tokio::time::timeout(Duration::from_millis(200), grandpa.recv()).await
            {
                return message;
            }
        }
    })
    .await;
    assert_eq!(message.topic, Topic::Grandpa);
    assert_eq!(message.source, a.id());
    assert!(wait_until(WAIT, || b.metrics().snapshot().gossip_dropped_total >= 1).await);
}

/// The next message on `queue` whose data is `data`; others are accepted on the way.
async fn next_with(
    node: &Node,
    queue: &mut mpsc::Receiver<GossipMessage>,
    data: &[u8],
) -> GossipMessage {
    within(WAIT, &format!("{:?}", String::from_utf8_lossy(data)), async {
        loop {
            let message = queue.recv().await.unwrap();
            if message.data == data {
                return message;
            }
            node.validate(message.id, message.source, Acceptance::Accept);
        }
    })
    .await
}

/// Everything queued now, accepted.
fn drain(node: &Node, queue: &mut mpsc::Receiver<GossipMessage>) -> Vec<GossipMessage> {
    let mut out = Vec::new();
    while let Ok(message) = queue.try_recv() {
        node.validate(message.id.clone(), message.source.clone(), Acceptance::Accept);
        out.push(message);
    }
    out
}

fn accept_all(node: &Node, queue: &mut mpsc::Receiver<GossipMessage>) {
    drain(node, queue);
}

/// A peer whose messages keep being rejected is banned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_invalid_messages_is_banned() {
    let a = start_node(config("gossip-spam")).await;
    let mut cb = config("gossip-spam");
    cb.boot_nodes = vec![a.multiaddr()];
    let b = start_node(cb).await;
    assert!(wait_until(WAIT, || a.is_connected_to(&b) && b.is_connected_to(&a)).await);
    let mut at_b = b.subscribe(Topic::BlockAnnounces);
    let mut round = 0u32;
    within(WAIT, "the ban", async {
        while b.metrics().snapshot().bans_total == 0 {
            round += 1;
            a.publish(Topic::BlockAnnounces, format!("bad {round}").into_bytes());
            if let Ok(Some(message)) =
                tokio::time::timeout(Duration::from_millis(100), at_b.recv()).await
            {
                assert_eq!(message.source, a.id());
                b.validate(message.id, message.source, Acceptance::Reject);
            }
        }
    })
    .await;
    assert!(wait_until(WAIT, || !b.is_connected_to(&a)).await);
    let state = b.network_state();
    assert_eq!(state["bannedPeers"][0]["peerId"], a.id().0);
    assert!(state["bannedPeers"][0]["reason"].as_str().unwrap().contains("invalid gossip"));
}
