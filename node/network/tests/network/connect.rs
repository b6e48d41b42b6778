//! Discovery, the chain check, robustness and the network state.

use crate::common::{config, start_node, wait_until, within, WAIT};
use std::time::Duration;
use subtensor_network::NetworkService;
use subtensor_network_api::{PeerEvent, Topic};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// B and C know only A (their boot node), yet all three end up connected to each other through
/// Kademlia, and A reports both as they join.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_find_each_other_through_boot_nodes() {
    let a = start_node(config("chain3")).await;
    let mut a_events = a.peer_events();
    let mut cb = config("chain3");
    cb.boot_nodes = vec![a.multiaddr()];
    let b = start_node(cb).await;
    let mut cc = config("chain3");
    cc.boot_nodes = vec![a.multiaddr()];
    let c = start_node(cc).await;

    let all_connected = wait_until(WAIT, || {
        a.connected_peers().len() == 2
            && b.connected_peers().len() == 2
            && c.connected_peers().len() == 2
    })
    .await;
    assert!(
        all_connected,
        "a: {:?}\nb: {:?}\nc: {:?}",
        a.connected_peers(),
        b.connected_peers(),
        c.connected_peers()
    );
    assert!(b.is_connected_to(&c) && c.is_connected_to(&b));

    let mut joined = Vec::new();
    while joined.len() < 2 {
        match within(WAIT, "peer events", a_events.recv()).await.unwrap() {
            PeerEvent::Connected { peer, inbound } => {
                assert!(inbound, "B and C dialled A");
                joined.push(peer);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    joined.sort();
    let mut expected = vec![b.id(), c.id()];
    expected.sort();
    assert_eq!(joined, expected);

    // connected_peers is sorted by peer id and describes the connection.
    let peers = a.connected_peers();
    assert!(peers.windows(2).all(|w| w[0].peer_id < w[1].peer_id));
    assert!(peers
        .iter()
        .all(|p| p.inbound && !p.reserved && p.address.starts_with("/ip4/127.0.0.1/tcp/")));
    assert_eq!(a.metrics().snapshot().peers, 2);

    // A disconnect is reported too.
    drop(c);
    let left = within(WAIT, "the disconnect", async {
        loop {
            if let PeerEvent::Disconnected { peer } = a_events.recv().await.unwrap() {
                return peer;
            }
        }
    })
    .await;
    assert_eq!(left.0, expected.iter().find(|p| **p != b.id()).unwrap().0);
    assert!(wait_until(WAIT, || a.connected_peers().len() == 1).await);
}

/// A node of another chain (another protocol id) is refused: identify tells the chains apart,
/// the peer is banned, and it never shows as connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_of_another_chain_never_becomes_a_peer() {
    let ours = start_node(config("chain-one")).await;
    let mut events = ours.peer_events();
    let mut theirs_config = config("chain-two");
    theirs_config.boot_nodes = vec![ours.multiaddr()];
    let theirs = start_node(theirs_config).await;

    // Whichever side hears the other's identify first bans it and disconnects (the other side
    // may see only the disconnect).
    let banned = wait_until(WAIT, || {
        ours.metrics().snapshot().bans_total + theirs.metrics().snapshot().bans_total >= 1
    })
    .await;
    assert!(banned, "the chain mismatch was not detected");
    assert!(ours.metrics().snapshot().connections_opened_total >= 1, "they did connect at first");
    // Give a wrongly accepted peer time to show up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(ours.connected_peers().is_empty());
    assert!(theirs.connected_peers().is_empty());
    assert!(matches!(events.try_recv(), Err(tokio::sync::broadcast::error::TryRecvError::Empty)));
    let (banner, banned) =
        if ours.metrics().snapshot().bans_total >= 1 { (&ours, &theirs) } else { (&theirs, &ours) };
    let state = banner.network_state();
    let bans = state["bannedPeers"].as_array().unwrap();
    assert_eq!(bans.len(), 1);
    assert_eq!(bans[0]["peerId"], banned.id().0);
    assert_eq!(bans[0]["reason"], "peer of another chain");
    assert!(bans[0]["remainingSecs"].as_u64().unwrap() > 3500);
}

/// Garbage on the TCP port fails that connection only: the node keeps serving peers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_tcp_port_does_not_kill_the_service() {
    let a = start_node(config("garbage")).await;
    let port = a.address().split('/').nth(4).and_then(|p| p.parse::<u16>().ok()).expect("tcp port");
    for garbage in [
        vec![0xffu8; 4096],
        b"\x13/multistream/1.0.0\n\x07/bogus\n".to_vec(),
        b"\x13/multistream/1.0.0\n\x07/noise\n\xff\xff\xff".to_vec(),
        (0..=255u8).cycle().take(70_000).collect(),
    ] {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let _ = stream.write_all(&garbage).await;
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut sink)).await;
    }
    // Half-open connections that say nothing.
    let _idle = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();

    let mut cb = config("garbage");
    cb.boot_nodes = vec![a.multiaddr()];
    let b = start_node(cb).await;
    assert!(wait_until(WAIT, || a.is_connected_to(&b) && b.is_connected_to(&a)).await);
}

/// The network state names us, our addresses, our peers with their endpoints, and bans; a
/// publish with nobody to send to is not an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_state_and_a_lonely_publish() {
    let a = start_node(config("state")).await;
    a.publish(Topic::BlockAnnounces, b"nobody listens".to_vec());
    assert!(wait_until(WAIT, || a.metrics().snapshot().gossip_published_total == 1).await);

    let mut cb = config("state");
    cb.boot_nodes = vec![a.multiaddr()];
    let b = start_node(cb).await;
    assert!(wait_until(WAIT, || a.is_connected_to(&b) && b.is_connected_to(&a)).await);

    let state = a.network_state();
    assert_eq!(state["peerId"], a.id().0);
    let listened = state["listenedAddresses"].as_array().unwrap();
    assert_eq!(listened[0], a.address());
    assert!(a.address().ends_with(&format!("/p2p/{}", a.id())));
    assert!(state["externalAddresses"].is_array());
    let peer = &state["connectedPeers"][&b.id().0];
    assert!(peer["endpoint"]["listening"]["sendBackAddr"].is_string(), "{state}");
    assert_eq!(peer["reserved"], false);
    assert_eq!(peer["inbound"], true);
    assert_eq!(peer["agentVersion"], "subtensor-node-test/0");
    assert_eq!(state["bannedPeers"].as_array().unwrap().len(), 0);
    assert_eq!(state["peerLimits"]["in"], 32);

    let b_state = b.network_state();
    assert!(b_state["connectedPeers"][&a.id().0]["endpoint"]["dialing"].is_string());
}

/// Bad configurations are refused at start; public addresses are announced; dropping the
/// handle stops the task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_checks_its_configuration_and_stops_with_its_handle() {
    use subtensor_network::{start, Error};

    let a = start_node(config("config")).await;
    let mut no_peer_id = config("config");
    no_peer_id.boot_nodes = vec!["/ip4/127.0.0.1/tcp/30333".parse().unwrap()];
    assert!(matches!(start(no_peer_id), Err(Error::InvalidAddress(..))));
    let mut reserved_no_peer_id = config("config");
    reserved_no_peer_id.reserved_nodes = vec!["/ip4/127.0.0.1/tcp/30333".parse().unwrap()];
    assert!(matches!(start(reserved_no_peer_id), Err(Error::InvalidAddress(..))));

    let port = a.address().split('/').nth(4).unwrap().to_string();
    let mut taken = config("config");
    taken.listen_addresses = vec![format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()];
    assert!(matches!(start(taken), Err(Error::Listen(..))));
    assert!(matches!(start(config("")), Err(Error::InvalidConfig(_))));

    let mut public = config("config");
    public.public_addresses = vec!["/ip4/203.0.113.7/tcp/30333".parse().unwrap()];
    let (net, task) = start(public).unwrap();
    let state = net.network_state();
    assert_eq!(state["externalAddresses"][0], "/ip4/203.0.113.7/tcp/30333");
    drop(net);
    within(WAIT, "the task to stop", task).await.unwrap();
}
