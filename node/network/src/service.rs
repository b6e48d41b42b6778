//! The handle the node holds: [`Network`], its [`NetworkService`] implementation, and [`start`].

use crate::{
    behaviour::Behaviour,
    config::NetworkConfig,
    error::Error,
    metrics::{self, NetworkMetrics},
    worker::{Command, Worker},
    LOG_TARGET,
};
use libp2p::{multiaddr::Protocol as AddrProtocol, noise, tcp, yamux, Multiaddr, SwarmBuilder};
use parking_lot::Mutex;
use serde_json::json;
use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::{Duration, Instant},
};
use subtensor_network_api::{
    Acceptance, ConnectedPeer, GossipMessage, IncomingRequest, MessageId, Misbehaviour,
    NetworkError, NetworkService, PeerEvent, PeerId, Protocol, RequestError, Topic,
};
use tokio::sync::{broadcast, mpsc, oneshot};

/// The queue of each gossip subscriber.
const GOSSIP_QUEUE: usize = 1024;
/// The queue of each request handler.
const REQUEST_QUEUE: usize = 256;
/// The queue of commands (publish, validate, request) to the network task.
const COMMAND_QUEUE: usize = 8192;
/// The queue of peer events per receiver.
const PEER_EVENT_QUEUE: usize = 256;

/// A connected peer as the handle shows it.
#[derive(Debug, Clone)]
pub(crate) struct PeerSnapshot {
    /// What [`NetworkService::connected_peers`] returns.
    pub(crate) peer: ConnectedPeer,
    /// The connection's endpoint, as JSON for the network state.
    pub(crate) endpoint: serde_json::Value,
    /// Its identify agent version.
    pub(crate) agent_version: String,
    /// When it connected.
    pub(crate) since: Instant,
}

/// A ban as the handle shows it.
#[derive(Debug, Clone)]
pub(crate) struct BanSnapshot {
    /// The banned peer.
    pub(crate) peer_id: String,
    /// Why.
    pub(crate) reason: String,
    /// Until when.
    pub(crate) until: Instant,
}

/// State shared by the handle and the network task; the task writes, the handle reads.
pub(crate) struct Shared {
    /// Our peer id.
    pub(crate) local_peer_id: libp2p::PeerId,
    /// The addresses we listen on (without `/p2p/`).
    pub(crate) listen_addresses: Mutex<Vec<Multiaddr>>,
    /// The addresses others may reach us at.
    pub(crate) external_addresses: Mutex<Vec<Multiaddr>>,
    /// The connected peers of this chain, by peer id text.
    pub(crate) peers: Mutex<BTreeMap<String, PeerSnapshot>>,
    /// The reserved peers and their addresses.
    pub(crate) reserved: Mutex<BTreeMap<libp2p::PeerId, Vec<Multiaddr>>>,
    /// The bans in force.
    pub(crate) banned: Mutex<Vec<BanSnapshot>>,
    /// The gossip subscriber of each topic.
    pub(crate) gossip: Mutex<HashMap<Topic, mpsc::Sender<GossipMessage>>>,
    /// The request handler of each protocol.
    pub(crate) handlers: Mutex<HashMap<Protocol, mpsc::Sender<IncomingRequest>>>,
    /// Peer joins and leaves.
    pub(crate) peer_events: broadcast::Sender<PeerEvent>,
    /// The counters.
    pub(crate) metrics: NetworkMetrics,
    /// The configured limits, for the network state.
    pub(crate) limits: (u32, u32, bool),
}

/// The running network: a handle to the task that owns the libp2p swarm.
///
/// The task stops when the last clone of the `Arc<Network>` is dropped.
pub struct Network {
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
    control: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network").field("local_peer_id", &self.shared.local_peer_id).finish()
    }
}

/// Starts the network: builds the swarm, listens, dials the boot and reserved nodes, and spawns
/// the task that runs it. Must be called from within a Tokio runtime.
///
/// Returns the handle and the task; the task ends when the handle is dropped.
pub fn start(config: NetworkConfig) -> Result<(Arc<Network>, tokio::task::JoinHandle<()>), Error> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| Error::InvalidConfig("start must be called within a Tokio runtime".into()))?;
    if config.protocol_id.is_empty() {
        return Err(Error::InvalidConfig("empty protocol id".into()));
    }
    let boot_nodes = peer_addresses(&config.boot_nodes)?;
    let reserved = peer_addresses(&config.reserved_nodes)?;

    let keypair = config.node_key.to_keypair();
    let local_peer_id = keypair.public().to_peer_id();
    let behaviour = Behaviour::new(&config, &keypair)?;
    let mut swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| Error::Transport(e.to_string()))?
        .with_dns()
        .map_err(|e| Error::Transport(format!("DNS: {e}")))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| Error::Transport(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::MAX))
        .build();

    log::info!(target: LOG_TARGET, "🏷  Local node identity is: {local_peer_id}");

    let mut listening = 0usize;
    let mut last_failure = None;
    for address in &config.listen_addresses {
        if let Err(e) = probe_port(address) {
            log::warn!(target: LOG_TARGET, "Cannot listen on {address}: {e}");
            last_failure = Some((address.to_string(), e.to_string()));
            continue;
        }
        match swarm.listen_on(address.clone()) {
            Ok(_) => listening = listening.saturating_add(1),
            Err(e) => {
                log::warn!(target: LOG_TARGET, "Cannot listen on {address}: {e}");
                last_failure = Some((address.to_string(), e.to_string()));
            }
        }
    }
    if listening == 0 {
        if let Some((address, why)) = last_failure {
            return Err(Error::Listen(address, why));
        }
    }
    for address in &config.public_addresses {
        swarm.add_external_address(address.clone());
    }

    let (peer_events, _) = broadcast::channel(PEER_EVENT_QUEUE);
    let shared = Arc::new(Shared {
        local_peer_id,
        listen_addresses: Mutex::new(Vec::new()),
        external_addresses: Mutex::new(swarm.external_addresses().cloned().collect()),
        peers: Mutex::new(BTreeMap::new()),
        reserved: Mutex::new(BTreeMap::new()),
        banned: Mutex::new(Vec::new()),
        gossip: Mutex::new(HashMap::new()),
        handlers: Mutex::new(HashMap::new()),
        peer_events,
        metrics: NetworkMetrics::default(),
        limits: (config.in_peers, config.out_peers, config.reserved_only),
    });
    for (peer, address) in &reserved {
        shared.reserved.lock().entry(*peer).or_default().push(address.clone());
    }

    let (commands, command_rx) = mpsc::channel(COMMAND_QUEUE);
    let (control, control_rx) = mpsc::unbounded_channel();
    let worker =
        Worker::new(swarm, shared.clone(), command_rx, control_rx, &config, boot_nodes, reserved)?;
    let task = runtime.spawn(worker.run());
    Ok((Arc::new(Network { shared, commands, control }), task))
}

impl Network {
    /// The network's counters.
    pub fn metrics(&self) -> &NetworkMetrics {
        &self.shared.metrics
    }

    fn control(&self, command: Command) -> Result<(), NetworkError> {
        self.control.send(command).map_err(|_| NetworkError::Shutdown)
    }
}

impl NetworkService for Network {
    fn local_peer_id(&self) -> PeerId {
        PeerId(self.shared.local_peer_id.to_base58())
    }

    fn listen_addresses(&self) -> Vec<String> {
        let local = self.shared.local_peer_id;
        self.shared
            .listen_addresses
            .lock()
            .iter()
            .map(|address| address.clone().with(AddrProtocol::P2p(local)).to_string())
            .collect()
    }

    fn connected_peers(&self) -> Vec<ConnectedPeer> {
        self.shared.peers.lock().values().map(|snapshot| snapshot.peer.clone()).collect()
    }

    fn peer_events(&self) -> broadcast::Receiver<PeerEvent> {
        self.shared.peer_events.subscribe()
    }

    fn subscribe(&self, topic: Topic) -> mpsc::Receiver<GossipMessage> {
        let (sender, receiver) = mpsc::channel(GOSSIP_QUEUE);
        self.shared.gossip.lock().insert(topic, sender);
        receiver
    }

    fn publish(&self, topic: Topic, data: Vec<u8>) {
        if let Err(e) = self.commands.try_send(Command::Publish { topic, data }) {
            if matches!(e, mpsc::error::TrySendError::Full(_)) {
                metrics::inc(&self.shared.metrics.gossip_publish_failed_total);
                log::warn!(target: LOG_TARGET, "Network command queue full: {topic:?} message dropped");
            }
        }
    }

    fn validate(&self, id: MessageId, source: PeerId, acceptance: Acceptance) {
        let Ok(source) = source.0.parse::<libp2p::PeerId>() else {
            log::debug!(target: LOG_TARGET, "Verdict for a message of an invalid peer id {source}");
            return;
        };
        let command =
            Command::Validate { id: libp2p::gossipsub::MessageId(id.0), source, acceptance };
        if let Err(mpsc::error::TrySendError::Full(_)) = self.commands.try_send(command) {
            log::warn!(target: LOG_TARGET, "Network command queue full: message verdict dropped");
        }
    }

    fn handle_requests(&self, protocol: Protocol) -> mpsc::Receiver<IncomingRequest> {
        let (sender, receiver) = mpsc::channel(REQUEST_QUEUE);
        self.shared.handlers.lock().insert(protocol, sender);
        receiver
    }

    fn request(
        &self,
        peer: PeerId,
        protocol: Protocol,
        data: Vec<u8>,
    ) -> oneshot::Receiver<Result<Vec<u8>, RequestError>> {
        let (reply, receiver) = oneshot::channel();
        let Ok(peer) = peer.0.parse::<libp2p::PeerId>() else {
            let _ = reply.send(Err(RequestError::NotConnected));
            return receiver;
        };
        match self.commands.try_send(Command::Request { peer, protocol, data, reply }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(Command::Request { reply, .. })) => {
                metrics::inc(&self.shared.metrics.requests_failed_total);
                let _ =
                    reply.send(Err(RequestError::Connection("network command queue full".into())));
            }
            Err(mpsc::error::TrySendError::Closed(Command::Request { reply, .. })) => {
                let _ = reply.send(Err(RequestError::Shutdown));
            }
            Err(_) => {}
        }
        receiver
    }

    fn report(&self, peer: PeerId, misbehaviour: Misbehaviour) {
        let Ok(peer) = peer.0.parse::<libp2p::PeerId>() else {
            log::debug!(target: LOG_TARGET, "Report about an invalid peer id {peer}");
            return;
        };
        let _ = self.control(Command::Report { peer, misbehaviour });
    }

    fn add_reserved_peer(&self, address: &str) -> Result<(), NetworkError> {
        let parsed: Multiaddr = address.parse().map_err(|e: libp2p::multiaddr::Error| {
            NetworkError::InvalidAddress(address.to_string(), e.to_string())
        })?;
        let (peer, address) = split_peer_address(&parsed).ok_or_else(|| {
            NetworkError::InvalidAddress(address.to_string(), "missing /p2p/<peer id>".into())
        })?;
        if peer == self.shared.local_peer_id {
            return Err(NetworkError::InvalidAddress(parsed.to_string(), "our own peer id".into()));
        }
        {
            let mut reserved = self.shared.reserved.lock();
            let addresses = reserved.entry(peer).or_default();
            if !addresses.contains(&address) {
                addresses.push(address.clone());
            }
        }
        self.control(Command::AddReserved { peer, address })
    }

    fn remove_reserved_peer(&self, peer: &str) -> Result<(), NetworkError> {
        let parsed = match peer.parse::<libp2p::PeerId>() {
            Ok(id) => id,
            Err(_) => peer
                .parse::<Multiaddr>()
                .ok()
                .and_then(|address| split_peer_address(&address))
                .map(|(id, _)| id)
                .ok_or_else(|| NetworkError::InvalidPeerId(peer.to_string()))?,
        };
        self.shared.reserved.lock().remove(&parsed);
        self.control(Command::RemoveReserved { peer: parsed })
    }

    fn reserved_peers(&self) -> Vec<PeerId> {
        self.shared.reserved.lock().keys().map(|peer| PeerId(peer.to_base58())).collect()
    }

    fn network_state(&self) -> serde_json::Value {
        let now = Instant::now();
        let connected: serde_json::Map<String, serde_json::Value> = self
            .shared
            .peers
            .lock()
            .iter()
            .map(|(id, snapshot)| {
                let value = json!({
                    "endpoint": snapshot.endpoint,
                    "address": snapshot.peer.address,
                    "inbound": snapshot.peer.inbound,
                    "reserved": snapshot.peer.reserved,
                    "agentVersion": snapshot.agent_version,
                    "connectedSecs": now.saturating_duration_since(snapshot.since).as_secs(),
                });
                (id.clone(), value)
            })
            .collect();
        let banned: Vec<serde_json::Value> = self
            .shared
            .banned
            .lock()
            .iter()
            .map(|ban| {
                json!({
                    "peerId": ban.peer_id,
                    "reason": ban.reason,
                    "remainingSecs": ban.until.saturating_duration_since(now).as_secs(),
                })
            })
            .collect();
        let external: Vec<String> =
            self.shared.external_addresses.lock().iter().map(ToString::to_string).collect();
        let reserved: Vec<String> = self.reserved_peers().into_iter().map(|peer| peer.0).collect();
        let (in_peers, out_peers, reserved_only) = self.shared.limits;
        json!({
            "peerId": self.local_peer_id().0,
            "listenedAddresses": self.listen_addresses(),
            "externalAddresses": external,
            "connectedPeers": connected,
            "reservedPeers": reserved,
            "reservedOnly": reserved_only,
            "peerLimits": { "in": in_peers, "out": out_peers },
            "bannedPeers": banned,
        })
    }
}

/// Fails when the TCP port of `address` is taken. libp2p listens with `SO_REUSEPORT`, so a
/// second node on the same port would otherwise start and silently share the port; a plain
/// bind (without it) detects that.
fn probe_port(address: &Multiaddr) -> std::io::Result<()> {
    let mut ip = None;
    let mut port = None;
    for part in address.iter() {
        match part {
            AddrProtocol::Ip4(v4) => ip = Some(std::net::IpAddr::V4(v4)),
            AddrProtocol::Ip6(v6) => ip = Some(std::net::IpAddr::V6(v6)),
            AddrProtocol::Tcp(p) => port = Some(p),
            _ => {}
        }
    }
    match (ip, port) {
        (Some(ip), Some(port)) if port != 0 => std::net::TcpListener::bind((ip, port)).map(drop),
        _ => Ok(()),
    }
}

/// Splits `…/p2p/<peer id>` into the peer id and the address before it.
pub(crate) fn split_peer_address(address: &Multiaddr) -> Option<(libp2p::PeerId, Multiaddr)> {
    let mut address = address.clone();
    match address.pop() {
        Some(AddrProtocol::P2p(peer)) => Some((peer, address)),
        _ => None,
    }
}

/// Splits each address, refusing those without `/p2p/<peer id>`.
fn peer_addresses(addresses: &[Multiaddr]) -> Result<Vec<(libp2p::PeerId, Multiaddr)>, Error> {
    addresses
        .iter()
        .map(|address| {
            split_peer_address(address).ok_or_else(|| {
                Error::InvalidAddress(address.to_string(), "missing /p2p/<peer id>".into())
            })
        })
        .collect()
}
