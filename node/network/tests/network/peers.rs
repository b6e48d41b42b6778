//! Bans, reserved peers and reserved-only mode.

use crate::common::{config, start_node, wait_until, within, WAIT};
use std::time::Duration;
use subtensor_network::NetworkService;
use subtensor_network_api::{Misbehaviour, NetworkError, PeerEvent};

/// `report` disconnects the peer and bans it: it cannot come back while banned, even when it
/// insists (as a reserved peer, redialling).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_disconnects_and_bans() {
    let a = start_node(config("bans")).await;
    let mut cb = config("bans");
    cb.boot_nodes = vec![a.multiaddr()];
    let b = start_node(cb).await;
    assert!(wait_until(WAIT, || a.is_connected_to(&b) && b.is_connected_to(&a)).await);
    let mut events = a.peer_events();

    a.report(b.id(), Misbehaviour::BadMessage("undecodable block response".into()));
    let event = within(WAIT, "the disconnect", events.recv()).await.unwrap();
    assert_eq!(event, PeerEvent::Disconnected { peer: b.id() });
    assert!(wait_until(WAIT, || !a.is_connected_to(&b) && !b.is_connected_to(&a)).await);

    // B keeps trying (reserved: redialled with a short backoff); A refuses it.
    b.add_reserved_peer(&a.address()).unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!a.is_connected_to(&b) && !b.is_connected_to(&a));

    let state = a.network_state();
    let bans = state["bannedPeers"].as_array().unwrap();
    assert_eq!(bans.len(), 1);
    assert_eq!(bans[0]["peerId"], b.id().0);
    assert_eq!(bans[0]["reason"], "bad message: undecodable block response");
    let remaining = bans[0]["remainingSecs"].as_u64().unwrap();
    assert!(remaining > 50 && remaining <= 60, "{remaining}");
    let metrics = a.metrics().snapshot();
    assert_eq!(metrics.bans_total, 1);
    assert_eq!(metrics.banned_peers, 1);
}

/// A reserved-only node refuses others until they are added as reserved peers at run time,
/// and drops them when removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_only_and_reserved_peers_at_run_time() {
    let mut cr = config("reserved");
    cr.reserved_only = true;
    let r = start_node(cr).await;
    let mut cn = config("reserved");
    cn.boot_nodes = vec![r.multiaddr()];
    let n = start_node(cn).await;

    // N dials R (its boot node) and is refused.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(r.connected_peers().is_empty() && n.connected_peers().is_empty());

    // Malformed reserved peers are refused.
    assert!(matches!(
        r.add_reserved_peer("/ip4/127.0.0.1/tcp/1"),
        Err(NetworkError::InvalidAddress(..))
    ));
    assert!(matches!(r.add_reserved_peer("not an address"), Err(NetworkError::InvalidAddress(..))));
    assert!(matches!(r.remove_reserved_peer("nope"), Err(NetworkError::InvalidPeerId(_))));

    r.add_reserved_peer(&n.address()).unwrap();
    assert_eq!(r.reserved_peers(), vec![n.id()]);
    assert!(wait_until(WAIT, || r.is_connected_to(&n) && n.is_connected_to(&r)).await);
    let peers = r.connected_peers();
    assert_eq!(peers.len(), 1);
    // Either dial may win: R dials its new reserved peer while N keeps redialling its boot
    // node R, which now accepts it. The connection is marked reserved either way.
    assert!(peers[0].reserved);
    assert_eq!(r.network_state()["connectedPeers"][&n.id().0]["reserved"], true);

    r.remove_reserved_peer(&n.id().0).unwrap();
    assert!(r.reserved_peers().is_empty());
    assert!(wait_until(WAIT, || !r.is_connected_to(&n) && !n.is_connected_to(&r)).await);
    // N's redials are refused again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(r.connected_peers().is_empty());
}

/// Reserved nodes from the configuration are dialled at start and redialled after they went
/// away; a node that is not reserved-only takes them beside its other peers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_nodes_are_redialled() {
    let target_config = config("redial");
    let target_key = target_config.node_key.clone();
    let target = start_node(target_config).await;
    let target_address = target.multiaddr();
    let mut cd = config("redial");
    cd.reserved_nodes = vec![target_address.clone()];
    let dialer = start_node(cd).await;
    assert!(wait_until(WAIT, || dialer.is_connected_to(&target)).await);
    assert!(dialer.connected_peers()[0].reserved);

    // The target restarts on the same port with the same key: the dialer comes back.
    let port: u16 = target.address().split('/').nth(4).unwrap().parse().unwrap();
    drop(target);
    assert!(wait_until(WAIT, || dialer.connected_peers().is_empty()).await);
    let mut again = config("redial");
    again.node_key = target_key;
    again.listen_addresses = vec![format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()];
    let target = start_node(again).await;
    assert!(wait_until(WAIT, || dialer.is_connected_to(&target)).await, "not redialled");
}

/// `in_peers` bounds the non-reserved peers that may dial us; reserved peers are exempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_limit_spares_reserved_peers() {
    let mut ca = config("limits");
    ca.in_peers = 1;
    let a = start_node(ca).await;
    let mut cb = config("limits");
    cb.boot_nodes = vec![a.multiaddr()];
    let b = start_node(cb).await;
    assert!(wait_until(WAIT, || a.is_connected_to(&b)).await);
    let mut cc = config("limits");
    cc.boot_nodes = vec![a.multiaddr()];
    let c = start_node(cc).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!a.is_connected_to(&c), "over the inbound limit");
    assert_eq!(a.connected_peers().len(), 1);

    // Reserved: exempt from the limit.
    a.add_reserved_peer(&c.address()).unwrap();
    assert!(wait_until(WAIT, || a.is_connected_to(&c)).await);
    assert!(a.is_connected_to(&b));
    assert_eq!(a.connected_peers().len(), 2);
}
