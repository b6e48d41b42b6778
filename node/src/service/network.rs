//! The node's peer-to-peer side: settings from the command line, starting the libp2p network,
//! and the view of it (with sync) that the RPC server gets.

use crate::error::{NodeError, NodeResult};
use std::{path::Path, str::FromStr, sync::Arc};
use subtensor_network::{Multiaddr, NetworkConfig, NodeKey};
use subtensor_network_api::NetworkService;

/// Resolved peer-to-peer settings.
#[derive(Debug, Clone)]
pub struct NetworkSettings {
    /// The node key.
    pub node_key: NodeKey,
    /// Listen addresses.
    pub listen: Vec<Multiaddr>,
    /// Whether an occupied default port may be replaced by an ephemeral one (development
    /// chains without an explicit `--port`, so that several nodes can run side by side).
    pub port_fallback: bool,
    /// Public addresses.
    pub public: Vec<Multiaddr>,
    /// Boot nodes (command line and chain spec).
    pub boot_nodes: Vec<Multiaddr>,
    /// Reserved nodes.
    pub reserved: Vec<Multiaddr>,
    /// Reserved peers only.
    pub reserved_only: bool,
    /// Inbound peer limit.
    pub in_peers: u32,
    /// Outbound peer limit.
    pub out_peers: u32,
    /// mDNS discovery.
    pub mdns: bool,
}

/// Parse multiaddresses given as `flag`.
pub fn multiaddrs(texts: &[String], flag: &str) -> NodeResult<Vec<Multiaddr>> {
    texts
        .iter()
        .map(|text| {
            Multiaddr::from_str(text).map_err(|e| {
                NodeError::InvalidArgument(format!("{flag}: invalid multiaddress {text:?}: {e}"))
            })
        })
        .collect()
}

/// The node key: `--node-key` hex, or the key file (generated on first start).
pub fn node_key(hex: Option<&str>, file: &Path) -> NodeResult<NodeKey> {
    match hex {
        Some(hex) => NodeKey::from_hex(hex)
            .map_err(|e| NodeError::InvalidArgument(format!("--node-key: {e}"))),
        None => NodeKey::load_or_generate(file)
            .map_err(|e| NodeError::InvalidArgument(format!("node key: {e}"))),
    }
}

/// Start the network of the chain with genesis `genesis_hash`.
pub fn start(
    settings: &NetworkSettings,
    genesis_hash: &[u8],
) -> NodeResult<(Arc<subtensor_network::Network>, tokio::task::JoinHandle<()>)> {
    let mut config = NetworkConfig::new(
        subtensor_network_api::protocol_id(genesis_hash),
        settings.node_key.clone(),
    );
    config.listen_addresses = settings.listen.clone();
    config.public_addresses = settings.public.clone();
    config.boot_nodes = settings.boot_nodes.clone();
    config.reserved_nodes = settings.reserved.clone();
    config.reserved_only = settings.reserved_only;
    config.in_peers = settings.in_peers;
    config.out_peers = settings.out_peers;
    config.mdns = settings.mdns;
    match subtensor_network::start(config.clone()) {
        Err(subtensor_network::Error::Listen(address, why)) if settings.port_fallback => {
            log::warn!(
                target: "node",
                "cannot listen on {address} ({why}); listening on an ephemeral port instead"
            );
            config.listen_addresses = vec![
                subtensor_network::tcp_listen_address(true, 0),
                subtensor_network::tcp_listen_address(false, 0),
            ];
            subtensor_network::start(config).map_err(|e| NodeError::Network(e.to_string()))
        }
        other => other.map_err(|e| NodeError::Network(e.to_string())),
    }
}

/// The network and the sync as the RPC server sees them.
pub struct NetworkRpc {
    /// The network.
    pub network: Arc<dyn NetworkService>,
    /// The sync's status.
    pub sync: Arc<dyn subtensor_sync::SyncStatusProvider>,
    /// Whether this node authors blocks.
    pub authority: bool,
    /// Whether the node should have peers (not a lone development node).
    pub should_have_peers: bool,
}

impl subtensor_rpc::NetworkRpcApi for NetworkRpc {
    fn local_peer_id(&self) -> String {
        self.network.local_peer_id().0
    }

    fn listen_addresses(&self) -> Vec<String> {
        self.network.listen_addresses()
    }

    fn peers(&self) -> Vec<subtensor_rpc::PeerInfo> {
        self.sync
            .peers()
            .into_iter()
            .map(|p| subtensor_rpc::PeerInfo {
                peer_id: p.peer_id.0,
                roles: match p.roles {
                    subtensor_sync::Role::Authority => "AUTHORITY".into(),
                    subtensor_sync::Role::Full => "FULL".into(),
                },
                best_hash: p.best_hash,
                best_number: p.best_number,
            })
            .collect()
    }

    fn peer_count(&self) -> usize {
        self.network.connected_peers().len()
    }

    fn is_major_syncing(&self) -> bool {
        self.sync.is_major_syncing()
    }

    fn should_have_peers(&self) -> bool {
        self.should_have_peers
    }

    fn sync_bounds(&self) -> (u32, u32) {
        let state = self.sync.state();
        (state.starting_block, state.highest_block)
    }

    fn network_state(&self) -> serde_json::Value {
        self.network.network_state()
    }

    fn add_reserved_peer(&self, address: &str) -> Result<(), String> {
        self.network.add_reserved_peer(address).map_err(|e| e.to_string())
    }

    fn remove_reserved_peer(&self, peer_id: &str) -> Result<(), String> {
        self.network.remove_reserved_peer(peer_id).map_err(|e| e.to_string())
    }

    fn reserved_peers(&self) -> Vec<String> {
        self.network.reserved_peers().into_iter().map(|p| p.0).collect()
    }

    fn roles(&self) -> Vec<String> {
        vec![if self.authority { "Authority".into() } else { "Full".into() }]
    }
}
