//! The libp2p implementation of the node's peer-to-peer network ([`NetworkService`]).
//!
//! [`start`] builds a libp2p swarm (TCP + noise + yamux) from a [`NetworkConfig`] and spawns the
//! task that owns it; the returned [`Network`] implements [`NetworkService`] by sending commands
//! to that task or reading snapshots of its state, so every method returns at once.
//!
//! Behaviours: identify (protocol version `/subtensor/<protocol id>/1`; a peer of another chain
//! is disconnected and banned), ping, Kademlia discovery (`/<protocol id>/kad`), mDNS (optional),
//! gossipsub for the [`Topic`](subtensor_network_api::Topic)s (messages are forwarded only after
//! [`NetworkService::validate`] accepted them), request-response for the
//! [`Protocol`](subtensor_network_api::Protocol)s with size limits enforced while reading, and a
//! gate enforcing bans, reserved peers and the peer limits.

mod behaviour;
mod codec;
mod config;
mod error;
mod gate;
mod metrics;
mod node_key;
mod rate_limit;
mod service;
mod worker;

pub use config::{tcp_listen_address, NetworkConfig, DEFAULT_PORT};
pub use error::Error;
pub use libp2p::Multiaddr;
pub use metrics::{MetricsSnapshot, NetworkMetrics};
pub use node_key::NodeKey;
pub use service::{start, Network};
pub use subtensor_network_api::NetworkService;

/// The log target of this crate.
pub(crate) const LOG_TARGET: &str = "network";
