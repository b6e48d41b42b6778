//! Helpers: nodes on 127.0.0.1 with ephemeral ports, and polling with timeouts.

use std::{future::Future, sync::Arc, time::Duration};
use subtensor_network::{start, Multiaddr, Network, NetworkConfig, NetworkService, NodeKey};
use subtensor_network_api::PeerId;

/// How long the tests wait for something that should happen.
pub const WAIT: Duration = Duration::from_secs(30);

/// A running node; its task is stopped when dropped.
pub struct Node {
    pub net: Arc<Network>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::ops::Deref for Node {
    type Target = Network;
    fn deref(&self) -> &Network {
        &self.net
    }
}

impl Node {
    /// The node's first listen address, `/ip4/127.0.0.1/tcp/<port>/p2p/<id>`.
    pub fn address(&self) -> String {
        self.net.listen_addresses().into_iter().next().expect("listening")
    }

    /// The address as a multiaddr.
    pub fn multiaddr(&self) -> Multiaddr {
        self.address().parse().expect("valid address")
    }

    /// The node's peer id.
    pub fn id(&self) -> PeerId {
        self.net.local_peer_id()
    }

    /// Whether `other` is among this node's connected peers.
    pub fn is_connected_to(&self, other: &Node) -> bool {
        let id = other.id();
        self.net.connected_peers().iter().any(|peer| peer.peer_id == id)
    }
}

/// A configuration for the chain `protocol_id` listening on an ephemeral local port.
pub fn config(protocol_id: &str) -> NetworkConfig {
    let mut config = NetworkConfig::new(protocol_id, NodeKey::generate());
    config.listen_addresses = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid address")];
    config.client_version = "subtensor-node-test/0".into();
    config
}

/// Starts a node and waits until it listens.
pub async fn start_node(config: NetworkConfig) -> Node {
    let (net, task) = start(config).expect("network starts");
    let node = Node { net, task };
    assert!(wait_until(WAIT, || !node.net.listen_addresses().is_empty()).await, "never listened");
    node
}

/// Polls `condition` every 50 ms until it holds (true) or `timeout` passes (false).
pub async fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `future`, or a panic naming `what` after `timeout`.
pub async fn within<T>(timeout: Duration, what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(timeout, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}
