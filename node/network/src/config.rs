//! What the network is started with.

use crate::node_key::NodeKey;
use libp2p::{multiaddr::Protocol as AddrProtocol, Multiaddr};

/// The default TCP port, as Substrate's.
pub const DEFAULT_PORT: u16 = 30333;

/// The network's configuration.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// The chain's protocol id: the hex of its genesis hash
    /// ([`subtensor_network_api::protocol_id`]). Prefixes every protocol name.
    pub protocol_id: String,
    /// The node's identity.
    pub node_key: NodeKey,
    /// The addresses to listen on.
    pub listen_addresses: Vec<Multiaddr>,
    /// Addresses under which other nodes can reach us (announced through identify).
    pub public_addresses: Vec<Multiaddr>,
    /// Nodes dialled at start to join the network, each `…/p2p/<peer id>`.
    pub boot_nodes: Vec<Multiaddr>,
    /// Peers always kept connected, each `…/p2p/<peer id>`; exempt from the peer limits.
    pub reserved_nodes: Vec<Multiaddr>,
    /// Connect only to reserved peers.
    pub reserved_only: bool,
    /// The most non-reserved peers that may dial us.
    pub in_peers: u32,
    /// The most non-reserved peers we dial.
    pub out_peers: u32,
    /// Discover peers on the local network with mDNS.
    pub mdns: bool,
    /// Our agent version for identify, e.g. `subtensor-node/0.1.0`.
    pub client_version: String,
}

impl NetworkConfig {
    /// The defaults for the chain `protocol_id`: listen on port 30333 of every IPv4 and IPv6
    /// interface, 32 inbound and 8 outbound peers, no boot or reserved nodes, no mDNS.
    pub fn new(protocol_id: impl Into<String>, node_key: NodeKey) -> Self {
        NetworkConfig {
            protocol_id: protocol_id.into(),
            node_key,
            listen_addresses: vec![
                tcp_listen_address(true, DEFAULT_PORT),
                tcp_listen_address(false, DEFAULT_PORT),
            ],
            public_addresses: Vec::new(),
            boot_nodes: Vec::new(),
            reserved_nodes: Vec::new(),
            reserved_only: false,
            in_peers: 32,
            out_peers: 8,
            mdns: false,
            client_version: format!("subtensor-node/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// `/ip4/0.0.0.0/tcp/<port>` (`ipv4`) or `/ip6/::/tcp/<port>`.
pub fn tcp_listen_address(ipv4: bool, port: u16) -> Multiaddr {
    let ip = if ipv4 {
        AddrProtocol::Ip4(std::net::Ipv4Addr::UNSPECIFIED)
    } else {
        AddrProtocol::Ip6(std::net::Ipv6Addr::UNSPECIFIED)
    };
    Multiaddr::empty().with(ip).with(AddrProtocol::Tcp(port))
}
