//! The peer-to-peer network as the rest of the node sees it.
//!
//! The node's block sync, transaction propagation and GRANDPA finality talk to peers only
//! through [`NetworkService`]; the libp2p implementation lives in `subtensor-network`, and tests
//! may use any other implementation. The network carries opaque bytes: it knows topics and
//! protocols by name, not blocks or votes. What a message means, and whether a peer misbehaved
//! by sending it, is decided by the consumer, which tells the network through
//! [`NetworkService::validate`] and [`NetworkService::report`].
//!
//! # Wire protocols
//!
//! Every protocol name is prefixed with the chain's protocol id (the genesis hash in hex, see
//! [`protocol_id`]), so nodes of different chains never exchange messages:
//!
//! | kind | name | payload |
//! |---|---|---|
//! | gossip | `/<id>/block-announces/1` | [`Topic::BlockAnnounces`] |
//! | gossip | `/<id>/transactions/1` | [`Topic::Transactions`] |
//! | gossip | `/<id>/grandpa/1` | [`Topic::Grandpa`] |
//! | request | `/<id>/sync/1` | [`Protocol::Blocks`] |
//! | request | `/<id>/status/1` | [`Protocol::Status`] |
//! | request | `/<id>/grandpa-catch-up/1` | [`Protocol::GrandpaCatchUp`] |

use serde::{Deserialize, Serialize};
use std::{fmt, time::Duration};
use tokio::sync::{broadcast, mpsc, oneshot};

/// A peer's identity: the base58 text of its libp2p peer id (`12D3KooW…` for ed25519 keys).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PeerId(pub String);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The protocol id of a chain: the lower-case hex of its genesis hash, without `0x`.
pub fn protocol_id(genesis_hash: &[u8]) -> String {
    genesis_hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A gossip topic (libp2p gossipsub).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    /// Announcements of new blocks (headers). A node forwards an announcement only after it
    /// imported the block, so that whoever hears it from that node can fetch the body there.
    BlockAnnounces,
    /// Transactions entering the pool.
    Transactions,
    /// GRANDPA votes, commits and neighbour packets.
    Grandpa,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 3] = [Topic::BlockAnnounces, Topic::Transactions, Topic::Grandpa];

    /// The topic's wire name for the chain with protocol id `id`.
    pub fn name(self, id: &str) -> String {
        match self {
            Topic::BlockAnnounces => format!("/{id}/block-announces/1"),
            Topic::Transactions => format!("/{id}/transactions/1"),
            Topic::Grandpa => format!("/{id}/grandpa/1"),
        }
    }
}

/// A request-response protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// Block download: ranges of headers, bodies and justifications.
    Blocks,
    /// A peer's chain status (genesis, best and finalized heads, role).
    Status,
    /// GRANDPA catch-up: the votes of a completed round.
    GrandpaCatchUp,
}

impl Protocol {
    /// Every protocol.
    pub const ALL: [Protocol; 3] = [Protocol::Blocks, Protocol::Status, Protocol::GrandpaCatchUp];

    /// The protocol's wire name for the chain with protocol id `id`.
    pub fn name(self, id: &str) -> String {
        match self {
            Protocol::Blocks => format!("/{id}/sync/1"),
            Protocol::Status => format!("/{id}/status/1"),
            Protocol::GrandpaCatchUp => format!("/{id}/grandpa-catch-up/1"),
        }
    }

    /// The largest request accepted on this protocol, in bytes.
    pub fn max_request_bytes(self) -> usize {
        match self {
            Protocol::Blocks | Protocol::Status | Protocol::GrandpaCatchUp => 64 * 1024,
        }
    }

    /// The largest response accepted on this protocol, in bytes (Substrate's 16 MiB for
    /// blocks).
    pub fn max_response_bytes(self) -> usize {
        match self {
            Protocol::Blocks => 16 * 1024 * 1024,
            Protocol::Status => 64 * 1024,
            Protocol::GrandpaCatchUp => 4 * 1024 * 1024,
        }
    }
}

/// The id gossipsub gives a message (a hash of its contents), used to report its validity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageId(pub Vec<u8>);

/// A gossip message received from a peer.
#[derive(Debug, Clone)]
pub struct GossipMessage {
    /// Its topic.
    pub topic: Topic,
    /// Its id, for [`NetworkService::validate`].
    pub id: MessageId,
    /// The peer that forwarded it to us.
    pub source: PeerId,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// What the consumer of a gossip message decided about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptance {
    /// Valid: forward it to other peers.
    Accept,
    /// Invalid: do not forward, and penalise the peer that sent it.
    Reject,
    /// Not forwarded, peer not penalised (duplicate, stale, not checkable yet).
    Ignore,
}

/// A request received from a peer; answer it through [`IncomingRequest::respond`].
#[derive(Debug)]
pub struct IncomingRequest {
    /// The peer asking.
    pub peer: PeerId,
    /// The protocol it asked on.
    pub protocol: Protocol,
    /// The request's bytes.
    pub data: Vec<u8>,
    /// Where the answer goes; dropping it without sending refuses the request.
    pub respond: oneshot::Sender<Vec<u8>>,
}

/// Why an outgoing request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The peer is not connected.
    #[error("peer not connected")]
    NotConnected,
    /// No answer within the protocol's timeout.
    #[error("request timed out")]
    Timeout,
    /// The peer refused or closed the stream without an answer.
    #[error("request refused by the peer")]
    Refused,
    /// The answer exceeded [`Protocol::max_response_bytes`].
    #[error("response too large")]
    TooLarge,
    /// The connection failed.
    #[error("connection failed: {0}")]
    Connection(String),
    /// The network service is shutting down.
    #[error("network service stopped")]
    Shutdown,
}

/// A peer joining or leaving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// A connection to a peer of this chain is established (the first one, if several).
    Connected {
        /// The peer.
        peer: PeerId,
        /// Whether the peer dialed us.
        inbound: bool,
    },
    /// The last connection to a peer closed.
    Disconnected {
        /// The peer.
        peer: PeerId,
    },
}

/// A connected peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedPeer {
    /// Its identity.
    pub peer_id: PeerId,
    /// The remote address of the connection.
    pub address: String,
    /// Whether the peer dialed us.
    pub inbound: bool,
    /// Whether it is a reserved peer.
    pub reserved: bool,
}

/// Misbehaviour of a peer, reported by a consumer; the network disconnects the peer and bans
/// it for [`Misbehaviour::ban_duration`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misbehaviour {
    /// It sent a block that failed verification (bad seal, bad execution, wrong author).
    InvalidBlock(String),
    /// It sent a message or response that does not decode or breaks the protocol.
    BadMessage(String),
    /// It sent an invalid GRANDPA vote or justification.
    InvalidFinality(String),
    /// It belongs to another chain.
    WrongChain,
}

impl Misbehaviour {
    /// How long the peer stays banned.
    pub fn ban_duration(&self) -> Duration {
        match self {
            Misbehaviour::InvalidBlock(_) | Misbehaviour::InvalidFinality(_) => {
                Duration::from_secs(300)
            }
            Misbehaviour::BadMessage(_) => Duration::from_secs(60),
            Misbehaviour::WrongChain => Duration::from_secs(3600),
        }
    }
}

impl fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misbehaviour::InvalidBlock(why) => write!(f, "invalid block: {why}"),
            Misbehaviour::BadMessage(why) => write!(f, "bad message: {why}"),
            Misbehaviour::InvalidFinality(why) => write!(f, "invalid finality message: {why}"),
            Misbehaviour::WrongChain => f.write_str("peer of another chain"),
        }
    }
}

/// Errors of the operator controls.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// A multiaddress could not be parsed or lacks the `/p2p/<peer id>` suffix.
    #[error("invalid multiaddress {0:?}: {1}")]
    InvalidAddress(String, String),
    /// A peer id could not be parsed.
    #[error("invalid peer id {0:?}")]
    InvalidPeerId(String),
    /// The network service is shutting down.
    #[error("network service stopped")]
    Shutdown,
}

/// The network as the node's services use it.
///
/// Every method returns at once; work is done by the network's own task. Channels handed out are
/// bounded: a consumer that falls behind loses gossip messages (they are counted and logged), and
/// incoming requests beyond its queue are refused, so a slow consumer never stalls the network.
pub trait NetworkService: Send + Sync + 'static {
    /// Our peer id.
    fn local_peer_id(&self) -> PeerId;

    /// The addresses we listen on, each with the `/p2p/<our peer id>` suffix.
    fn listen_addresses(&self) -> Vec<String>;

    /// The peers connected now (peers of this chain only), sorted by peer id.
    fn connected_peers(&self) -> Vec<ConnectedPeer>;

    /// Peers joining and leaving from now on.
    fn peer_events(&self) -> broadcast::Receiver<PeerEvent>;

    /// Gossip messages of `topic` from now on. One subscriber per topic: a second call replaces
    /// the first subscriber.
    fn subscribe(&self, topic: Topic) -> mpsc::Receiver<GossipMessage>;

    /// Publish `data` on `topic` to the peers (no error when nobody listens yet).
    fn publish(&self, topic: Topic, data: Vec<u8>);

    /// Tell the network what to do with a received message: forward it, drop it, or drop it
    /// and penalise its source. Messages left without a verdict are dropped after a while.
    fn validate(&self, id: MessageId, source: PeerId, acceptance: Acceptance);

    /// Requests of `protocol` from now on. One handler per protocol: a second call replaces the
    /// first. Requests arriving while there is no handler, or while its queue is full, are
    /// refused.
    fn handle_requests(&self, protocol: Protocol) -> mpsc::Receiver<IncomingRequest>;

    /// Send `data` to `peer` on `protocol`; the receiver yields its answer.
    fn request(
        &self,
        peer: PeerId,
        protocol: Protocol,
        data: Vec<u8>,
    ) -> oneshot::Receiver<Result<Vec<u8>, RequestError>>;

    /// Disconnect and ban `peer` for what it did.
    fn report(&self, peer: PeerId, misbehaviour: Misbehaviour);

    /// Add a reserved peer (`/ip4/…/tcp/…/p2p/12D3KooW…`): always connected, redialled when the
    /// connection drops, never subject to the peer limits.
    fn add_reserved_peer(&self, address: &str) -> Result<(), NetworkError>;

    /// Remove a reserved peer; in reserved-only mode it is disconnected.
    fn remove_reserved_peer(&self, peer: &str) -> Result<(), NetworkError>;

    /// The reserved peers.
    fn reserved_peers(&self) -> Vec<PeerId>;

    /// A JSON description of the network's state for `system_unstable_networkState`: peer id,
    /// listen and external addresses, connected peers with their endpoints, banned peers.
    fn network_state(&self) -> serde_json::Value;
}
