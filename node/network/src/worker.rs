//! The task that owns the swarm: it runs the commands of the handle and reacts to the swarm's
//! events.

use crate::{
    behaviour::{identify_protocol_version, Behaviour, BehaviourEvent, REQUEST_TIMEOUT},
    codec::is_too_large,
    config::NetworkConfig,
    error::Error,
    gate::Ban,
    metrics,
    rate_limit::RequestBudget,
    service::{BanSnapshot, PeerSnapshot, Shared},
    LOG_TARGET,
};
use futures::{future::BoxFuture, stream::FuturesUnordered, FutureExt, StreamExt};
use libp2p::{
    core::ConnectedPoint,
    gossipsub::{self, IdentTopic, MessageAcceptance, TopicHash},
    identify, mdns, ping,
    request_response::{self, OutboundFailure, OutboundRequestId, ResponseChannel},
    swarm::{
        dial_opts::{DialOpts, PeerCondition},
        SwarmEvent,
    },
    Multiaddr, PeerId, StreamProtocol, Swarm,
};
use serde_json::json;
use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::{Duration, Instant},
};
use subtensor_network_api::{
    Acceptance, GossipMessage, IncomingRequest, MessageId, Misbehaviour, PeerEvent, Protocol,
    RequestError, Topic,
};
use tokio::sync::{mpsc, oneshot};

/// How often the housekeeping runs (bans, dials, discovery).
const TICK: Duration = Duration::from_secs(1);
/// How long a connection may stay without identify telling us its chain.
const IDENTIFY_TIMEOUT: Duration = Duration::from_secs(30);
/// The first wait before redialling a reserved peer; it doubles after each failure.
const RESERVED_BACKOFF_MIN: Duration = Duration::from_secs(1);
/// The longest wait before redialling a reserved peer.
const RESERVED_BACKOFF_MAX: Duration = Duration::from_secs(60);
/// The least time between two dials of the same non-reserved peer.
const DIAL_BACKOFF: Duration = Duration::from_secs(10);
/// The longest wait between two random Kademlia walks.
const WALK_DELAY_MAX: Duration = Duration::from_secs(60);
/// The most outgoing requests waiting for an answer.
const MAX_PENDING_REQUESTS: usize = 4096;
/// The most listen addresses of one peer taken from identify.
const MAX_ADDRESSES_PER_PEER: usize = 16;
/// Gossip messages of one peer rejected by the consumer (while connected) before it is banned.
const MAX_REJECTED_MESSAGES: u32 = 16;

/// What the handle asks of the task.
pub(crate) enum Command {
    /// Publish a gossip message.
    Publish { topic: Topic, data: Vec<u8> },
    /// The verdict on a received gossip message.
    Validate { id: gossipsub::MessageId, source: PeerId, acceptance: Acceptance },
    /// Send a request.
    Request {
        peer: PeerId,
        protocol: Protocol,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, RequestError>>,
    },
    /// Disconnect and ban a peer.
    Report { peer: PeerId, misbehaviour: Misbehaviour },
    /// Add a reserved peer.
    AddReserved { peer: PeerId, address: Multiaddr },
    /// Remove a reserved peer.
    RemoveReserved { peer: PeerId },
}

/// A connected peer.
struct PeerState {
    /// The endpoint of its first connection.
    endpoint: ConnectedPoint,
    /// Whether it dialled us.
    inbound: bool,
    /// Whether identify confirmed it is of our chain.
    confirmed: bool,
    /// When it connected.
    since: Instant,
    /// Its identify agent version.
    agent_version: String,
    /// Its inbound request budget.
    budget: RequestBudget,
    /// How many of the gossip messages it sent were rejected.
    rejected: u32,
}

/// A reserved peer.
struct Reserved {
    addresses: Vec<Multiaddr>,
    next_dial: Instant,
    backoff: Duration,
}

/// A consumer's answer to an incoming request (or its absence).
struct Answer {
    protocol: Protocol,
    peer: PeerId,
    channel: ResponseChannel<Vec<u8>>,
    response: Option<Vec<u8>>,
}

type Reply = oneshot::Sender<Result<Vec<u8>, RequestError>>;

/// The network task.
pub(crate) struct Worker {
    swarm: Swarm<Behaviour>,
    shared: Arc<Shared>,
    commands: mpsc::Receiver<Command>,
    control: mpsc::UnboundedReceiver<Command>,
    protocol_version: String,
    /// Our chain's request-response protocols (named after its protocol id).
    chain_protocols: Vec<StreamProtocol>,
    kad_protocol: Option<StreamProtocol>,
    topics: HashMap<TopicHash, Topic>,
    peers: HashMap<PeerId, PeerState>,
    pending_requests: HashMap<(Protocol, OutboundRequestId), Reply>,
    answering: FuturesUnordered<BoxFuture<'static, Answer>>,
    reserved: HashMap<PeerId, Reserved>,
    boot_nodes: Vec<(PeerId, Multiaddr)>,
    last_dial: HashMap<PeerId, Instant>,
    next_walk: Instant,
    walk_delay: Duration,
    out_peers: usize,
}

impl Worker {
    /// The task for `swarm`; subscribes to the topics and starts dialling.
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        shared: Arc<Shared>,
        commands: mpsc::Receiver<Command>,
        control: mpsc::UnboundedReceiver<Command>,
        config: &NetworkConfig,
        boot_nodes: Vec<(PeerId, Multiaddr)>,
        reserved: Vec<(PeerId, Multiaddr)>,
    ) -> Result<Self, Error> {
        let now = Instant::now();
        let mut worker = Worker {
            swarm,
            shared,
            commands,
            control,
            protocol_version: identify_protocol_version(&config.protocol_id),
            chain_protocols: [Protocol::Status, Protocol::Blocks, Protocol::GrandpaCatchUp]
                .into_iter()
                .filter_map(|p| StreamProtocol::try_from_owned(p.name(&config.protocol_id)).ok())
                .collect(),
            kad_protocol: StreamProtocol::try_from_owned(format!("/{}/kad", config.protocol_id))
                .ok(),
            topics: HashMap::new(),
            peers: HashMap::new(),
            pending_requests: HashMap::new(),
            answering: FuturesUnordered::new(),
            reserved: HashMap::new(),
            boot_nodes,
            last_dial: HashMap::new(),
            next_walk: now,
            walk_delay: TICK,
            out_peers: usize::try_from(config.out_peers).unwrap_or(usize::MAX),
        };
        for topic in Topic::ALL {
            let ident = IdentTopic::new(topic.name(&config.protocol_id));
            worker
                .swarm
                .behaviour_mut()
                .gossipsub
                .subscribe(&ident)
                .map_err(|e| Error::InvalidConfig(format!("gossip topic {topic:?}: {e}")))?;
            worker.topics.insert(ident.hash(), topic);
        }
        for (peer, address) in reserved {
            worker.add_reserved(peer, address, now);
        }
        let boot_nodes = worker.boot_nodes.clone();
        for (peer, address) in boot_nodes {
            worker.swarm.behaviour_mut().kad.add_address(&peer, address.clone());
            worker.swarm.add_peer_address(peer, address.clone());
            if !worker.swarm.behaviour().gate.reserved_only() {
                worker.dial(peer, vec![address], now);
            }
        }
        if !worker.boot_nodes.is_empty() {
            let _ = worker.swarm.behaviour_mut().kad.bootstrap();
        }
        Ok(worker)
    }

    /// Runs until the handle is dropped.
    pub(crate) async fn run(mut self) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.control.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                command = self.commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                Some(answer) = self.answering.next(), if !self.answering.is_empty() => {
                    self.on_answer(answer)
                }
                _ = tick.tick() => self.on_tick(),
            }
        }
        log::info!(target: LOG_TARGET, "Network stopped");
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { topic, data } => self.publish(topic, data),
            Command::Validate { id, source, acceptance } => {
                let verdict = match acceptance {
                    Acceptance::Accept => MessageAcceptance::Accept,
                    Acceptance::Reject => MessageAcceptance::Reject,
                    Acceptance::Ignore => MessageAcceptance::Ignore,
                };
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&id, &source, verdict);
                if acceptance == Acceptance::Reject {
                    self.penalise_rejected(source);
                }
            }
            Command::Request { peer, protocol, data, reply } => {
                self.send_request(peer, protocol, data, reply)
            }
            Command::Report { peer, misbehaviour } => self.ban(peer, &misbehaviour),
            Command::AddReserved { peer, address } => {
                log::info!(target: LOG_TARGET, "Reserved peer added: {peer} at {address}");
                self.add_reserved(peer, address, Instant::now());
                self.publish_peers();
            }
            Command::RemoveReserved { peer } => {
                log::info!(target: LOG_TARGET, "Reserved peer removed: {peer}");
                self.reserved.remove(&peer);
                let gate = &mut self.swarm.behaviour_mut().gate;
                gate.set_reserved(peer, false);
                if gate.reserved_only() && self.swarm.is_connected(&peer) {
                    let _ = self.swarm.disconnect_peer_id(peer);
                }
                self.publish_peers();
            }
        }
    }

    fn publish(&mut self, topic: Topic, data: Vec<u8>) {
        let Some(hash) = self.topic_hash(topic) else { return };
        let m = &self.shared.metrics;
        match self.swarm.behaviour_mut().gossipsub.publish(hash, data) {
            Ok(_) => metrics::inc(&m.gossip_published_total),
            Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {
                metrics::inc(&m.gossip_published_total);
                log::trace!(target: LOG_TARGET, "Published on {topic:?} with no peer to send to");
            }
            Err(gossipsub::PublishError::Duplicate) => {
                log::debug!(target: LOG_TARGET, "Not publishing a duplicate {topic:?} message");
            }
            Err(e) => {
                metrics::inc(&m.gossip_publish_failed_total);
                log::warn!(target: LOG_TARGET, "Cannot publish a {topic:?} message: {e}");
            }
        }
    }

    fn topic_hash(&self, topic: Topic) -> Option<TopicHash> {
        self.topics.iter().find(|(_, t)| **t == topic).map(|(hash, _)| hash.clone())
    }

    fn send_request(&mut self, peer: PeerId, protocol: Protocol, data: Vec<u8>, reply: Reply) {
        let m = &self.shared.metrics;
        let failure = if !self.peers.get(&peer).is_some_and(|state| state.confirmed) {
            Some(RequestError::NotConnected)
        } else if data.len() > protocol.max_request_bytes() {
            log::debug!(
                target: LOG_TARGET,
                "Not sending a {protocol:?} request of {} bytes: above the limit",
                data.len()
            );
            Some(RequestError::Refused)
        } else if self.pending_requests.len() >= MAX_PENDING_REQUESTS {
            Some(RequestError::Connection("too many requests waiting for answers".into()))
        } else {
            None
        };
        if let Some(error) = failure {
            metrics::inc(&m.requests_failed_total);
            let _ = reply.send(Err(error));
            return;
        }
        metrics::inc(&m.requests_out_total);
        let id = self.swarm.behaviour_mut().requests(protocol).send_request(&peer, data);
        self.pending_requests.insert((protocol, id), reply);
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, num_established, .. } => {
                metrics::inc(&self.shared.metrics.connections_opened_total);
                if num_established.get() == 1 {
                    log::debug!(
                        target: LOG_TARGET,
                        "Connection with {peer_id} at {} ({}); waiting for identify",
                        endpoint.get_remote_address(),
                        if endpoint.is_dialer() { "outbound" } else { "inbound" },
                    );
                    let now = Instant::now();
                    self.peers.insert(
                        peer_id,
                        PeerState {
                            inbound: !endpoint.is_dialer(),
                            endpoint,
                            confirmed: false,
                            since: now,
                            agent_version: String::new(),
                            budget: RequestBudget::new(now),
                            rejected: 0,
                        },
                    );
                }
                if let Some(reserved) = self.reserved.get_mut(&peer_id) {
                    reserved.backoff = RESERVED_BACKOFF_MIN;
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established, cause, .. } => {
                metrics::inc(&self.shared.metrics.connections_closed_total);
                if num_established > 0 {
                    return;
                }
                if let Some(state) = self.peers.remove(&peer_id) {
                    if state.confirmed {
                        self.publish_peers();
                        log::info!(
                            target: LOG_TARGET,
                            "Disconnected from {peer_id} ({} peers)",
                            self.confirmed_count()
                        );
                        log::debug!(target: LOG_TARGET, "Disconnect cause for {peer_id}: {cause:?}");
                        let _ = self
                            .shared
                            .peer_events
                            .send(PeerEvent::Disconnected { peer: api_peer(&peer_id) });
                    }
                }
                if let Some(reserved) = self.reserved.get_mut(&peer_id) {
                    reserved.next_dial =
                        Instant::now().checked_add(reserved.backoff).unwrap_or_else(Instant::now);
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                log::debug!(target: LOG_TARGET, "Dial of {peer_id:?} failed: {error}");
                if let Some(reserved) = peer_id.and_then(|p| self.reserved.get_mut(&p)) {
                    let now = Instant::now();
                    reserved.next_dial = now.checked_add(reserved.backoff).unwrap_or(now);
                    reserved.backoff = reserved.backoff.saturating_mul(2).min(RESERVED_BACKOFF_MAX);
                }
            }
            SwarmEvent::IncomingConnectionError { send_back_addr, error, peer_id, .. } => {
                log::debug!(
                    target: LOG_TARGET,
                    "Incoming connection from {send_back_addr} ({peer_id:?}) failed: {error}"
                );
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                log::info!(
                    target: LOG_TARGET,
                    "Listening on {address}/p2p/{}",
                    self.shared.local_peer_id
                );
                let mut listen = self.shared.listen_addresses.lock();
                if !listen.contains(&address) {
                    listen.push(address);
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                log::info!(target: LOG_TARGET, "No longer listening on {address}");
                self.shared.listen_addresses.lock().retain(|a| *a != address);
            }
            SwarmEvent::ListenerClosed { addresses, reason, .. } => {
                log::warn!(target: LOG_TARGET, "Listener on {addresses:?} closed: {reason:?}");
                self.shared.listen_addresses.lock().retain(|a| !addresses.contains(a));
            }
            SwarmEvent::ListenerError { error, .. } => {
                log::warn!(target: LOG_TARGET, "Listener error: {error}");
            }
            SwarmEvent::ExternalAddrConfirmed { address } => {
                log::info!(target: LOG_TARGET, "🔍 External address: {address}");
                self.publish_external_addresses();
            }
            SwarmEvent::ExternalAddrExpired { .. } => self.publish_external_addresses(),
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Gate(never) => match never {},
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                self.on_identified(peer_id, info)
            }
            BehaviourEvent::Identify(identify::Event::Error { peer_id, error, .. }) => {
                log::debug!(target: LOG_TARGET, "Identify with {peer_id} failed: {error}");
            }
            BehaviourEvent::Identify(_) => {}
            BehaviourEvent::Ping(ping::Event {
                result: Err(ping::Failure::Unsupported), ..
            }) => {}
            BehaviourEvent::Ping(ping::Event { peer, connection, result: Err(error) }) => {
                log::debug!(target: LOG_TARGET, "Ping of {peer} failed: {error}; closing");
                self.swarm.close_connection(connection);
            }
            BehaviourEvent::Ping(_) => {}
            BehaviourEvent::Kad(event) => {
                log::trace!(target: LOG_TARGET, "Kademlia: {event:?}");
            }
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, address) in found {
                    log::debug!(target: LOG_TARGET, "mDNS discovered {peer} at {address}");
                    self.swarm.behaviour_mut().kad.add_address(&peer, address);
                }
            }
            BehaviourEvent::Mdns(mdns::Event::Expired(_)) => {}
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.on_gossip(propagation_source, message_id, message),
            BehaviourEvent::Gossipsub(event) => {
                log::trace!(target: LOG_TARGET, "Gossipsub: {event:?}");
            }
            BehaviourEvent::Blocks(event) => self.on_request_event(Protocol::Blocks, event),
            BehaviourEvent::Status(event) => self.on_request_event(Protocol::Status, event),
            BehaviourEvent::CatchUp(event) => {
                self.on_request_event(Protocol::GrandpaCatchUp, event)
            }
        }
    }

    fn on_identified(&mut self, peer: PeerId, info: identify::Info) {
        if info.protocol_version != self.protocol_version {
            // Our chain's request protocols are named after its genesis: a peer that speaks
            // one of them is of our chain whatever its identify says, and one that announces
            // no protocol version tells nothing. Only a peer that announces another chain and
            // speaks none of ours is banned as of another chain.
            let speaks_ours = self.chain_protocols.iter().any(|p| info.protocols.contains(p));
            log::debug!(
                target: LOG_TARGET,
                "{peer} runs {:?} ({}), we run {:?}{}",
                info.protocol_version,
                info.agent_version,
                self.protocol_version,
                if speaks_ours { ", yet it speaks our chain's protocols" } else { "" }
            );
            if !speaks_ours {
                if !info.protocol_version.is_empty() {
                    self.ban(peer, &Misbehaviour::WrongChain);
                }
                // Unconfirmed: disconnected after IDENTIFY_TIMEOUT unless a later identify
                // confirms it.
                return;
            }
        }
        let speaks_kad = self.kad_protocol.as_ref().is_some_and(|kad| info.protocols.contains(kad));
        if speaks_kad {
            for address in info.listen_addrs.into_iter().take(MAX_ADDRESSES_PER_PEER) {
                if is_dialable(&address) {
                    self.swarm.behaviour_mut().kad.add_address(&peer, address);
                }
            }
        }
        let Some(state) = self.peers.get_mut(&peer) else { return };
        state.agent_version = info.agent_version;
        if state.confirmed {
            return;
        }
        state.confirmed = true;
        let inbound = state.inbound;
        let address = state.endpoint.get_remote_address().clone();
        let agent = state.agent_version.clone();
        self.publish_peers();
        log::info!(
            target: LOG_TARGET,
            "Connected to {peer} ({} peers)",
            self.confirmed_count()
        );
        log::debug!(
            target: LOG_TARGET,
            "Peer {peer}: {agent} at {address} ({})",
            if inbound { "inbound" } else { "outbound" }
        );
        let _ =
            self.shared.peer_events.send(PeerEvent::Connected { peer: api_peer(&peer), inbound });
    }

    fn on_gossip(&mut self, source: PeerId, id: gossipsub::MessageId, message: gossipsub::Message) {
        let m = &self.shared.metrics;
        metrics::inc(&m.gossip_received_total);
        let topic = self.topics.get(&message.topic).copied();
        let subscriber = topic.and_then(|topic| self.shared.gossip.lock().get(&topic).cloned());
        let delivered = match (topic, subscriber) {
            (Some(topic), Some(subscriber)) => {
                let gossip = GossipMessage {
                    topic,
                    id: MessageId(id.0.clone()),
                    source: api_peer(&source),
                    data: message.data,
                };
                match subscriber.try_send(gossip) {
                    Ok(()) => true,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        log::debug!(target: LOG_TARGET, "{topic:?} queue full: message dropped");
                        false
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                }
            }
            _ => false,
        };
        if !delivered {
            metrics::inc(&m.gossip_dropped_total);
            self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                &id,
                &source,
                MessageAcceptance::Ignore,
            );
        }
    }

    fn on_request_event(
        &mut self,
        protocol: Protocol,
        event: request_response::Event<Vec<u8>, Vec<u8>>,
    ) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => {
                    self.on_inbound_request(protocol, peer, request, channel)
                }
                request_response::Message::Response { request_id, response } => {
                    if let Some(reply) = self.pending_requests.remove(&(protocol, request_id)) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            request_response::Event::OutboundFailure { peer, request_id, error, .. } => {
                metrics::inc(&self.shared.metrics.requests_failed_total);
                log::debug!(target: LOG_TARGET, "{protocol:?} request to {peer} failed: {error}");
                let error = match error {
                    OutboundFailure::DialFailure => RequestError::NotConnected,
                    OutboundFailure::Timeout => RequestError::Timeout,
                    OutboundFailure::UnsupportedProtocols => RequestError::Refused,
                    OutboundFailure::ConnectionClosed => {
                        RequestError::Connection("connection closed".into())
                    }
                    OutboundFailure::Io(e) if is_too_large(&e) => RequestError::TooLarge,
                    OutboundFailure::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                        RequestError::Refused
                    }
                    OutboundFailure::Io(e) => RequestError::Connection(e.to_string()),
                };
                if let Some(reply) = self.pending_requests.remove(&(protocol, request_id)) {
                    let _ = reply.send(Err(error));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                log::debug!(target: LOG_TARGET, "{protocol:?} request from {peer} failed: {error}");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_inbound_request(
        &mut self,
        protocol: Protocol,
        peer: PeerId,
        data: Vec<u8>,
        channel: ResponseChannel<Vec<u8>>,
    ) {
        let m = &self.shared.metrics;
        metrics::inc(&m.requests_in_total);
        let now = Instant::now();
        let allowed = self.peers.get_mut(&peer).is_some_and(|state| state.budget.try_start(now));
        if !allowed {
            metrics::inc(&m.requests_refused_total);
            log::debug!(target: LOG_TARGET, "Refused a {protocol:?} request of {peer}: over its limit");
            return;
        }
        let handler = self.shared.handlers.lock().get(&protocol).cloned();
        let (respond, answer) = oneshot::channel();
        let request = IncomingRequest { peer: api_peer(&peer), protocol, data, respond };
        let queued = handler.is_some_and(|handler| handler.try_send(request).is_ok());
        if !queued {
            metrics::inc(&m.requests_refused_total);
            log::debug!(
                target: LOG_TARGET,
                "Refused a {protocol:?} request of {peer}: no handler or its queue is full"
            );
            if let Some(state) = self.peers.get_mut(&peer) {
                state.budget.finish();
            }
            return;
        }
        self.answering.push(
            async move {
                let response =
                    tokio::time::timeout(REQUEST_TIMEOUT, answer).await.ok().and_then(Result::ok);
                Answer { protocol, peer, channel, response }
            }
            .boxed(),
        );
    }

    fn on_answer(&mut self, answer: Answer) {
        if let Some(state) = self.peers.get_mut(&answer.peer) {
            state.budget.finish();
        }
        match answer.response {
            Some(response) => {
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .requests(answer.protocol)
                    .send_response(answer.channel, response);
            }
            None => {
                metrics::inc(&self.shared.metrics.requests_refused_total);
                // Dropping the channel refuses the request.
            }
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let unbanned = self.swarm.behaviour_mut().gate.expire_bans(now);
        if !unbanned.is_empty() {
            for (peer, ban) in unbanned {
                log::info!(target: LOG_TARGET, "Ban of {peer} lifted (was: {})", ban.reason);
            }
            self.publish_bans();
        }

        let silent: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, state)| {
                !state.confirmed && now.saturating_duration_since(state.since) > IDENTIFY_TIMEOUT
            })
            .map(|(peer, _)| *peer)
            .collect();
        for peer in silent {
            log::debug!(target: LOG_TARGET, "{peer} did not identify itself; disconnecting");
            let _ = self.swarm.disconnect_peer_id(peer);
        }

        self.dial_reserved(now);
        if self.swarm.behaviour().gate.wants_outbound() {
            self.discover(now);
        }
        self.last_dial.retain(|_, at| now.saturating_duration_since(*at) < DIAL_BACKOFF);
    }

    fn dial_reserved(&mut self, now: Instant) {
        let due: Vec<(PeerId, Vec<Multiaddr>)> = self
            .reserved
            .iter()
            .filter(|(peer, reserved)| reserved.next_dial <= now && !self.swarm.is_connected(peer))
            .map(|(peer, reserved)| (*peer, reserved.addresses.clone()))
            .collect();
        for (peer, addresses) in due {
            if self.swarm.behaviour().gate.is_banned(&peer, now) {
                continue;
            }
            if let Some(reserved) = self.reserved.get_mut(&peer) {
                // Pushed further on a failure; a success resets the backoff.
                reserved.next_dial = now.checked_add(reserved.backoff).unwrap_or(now);
            }
            self.dial(peer, addresses, now);
        }
    }

    /// Random walks and dials of known peers while below the outbound limit.
    fn discover(&mut self, now: Instant) {
        if now >= self.next_walk {
            self.swarm.behaviour_mut().kad.get_closest_peers(PeerId::random());
            self.walk_delay = self.walk_delay.saturating_mul(2).min(WALK_DELAY_MAX);
            self.next_walk = now.checked_add(self.walk_delay).unwrap_or(now);
        }
        let (_, outbound) = self.swarm.behaviour().gate.counts();
        let mut budget = self.out_peers.saturating_sub(outbound);
        if budget == 0 {
            return;
        }
        let mut candidates: Vec<(PeerId, Vec<Multiaddr>)> =
            self.boot_nodes.iter().map(|(peer, address)| (*peer, vec![address.clone()])).collect();
        for bucket in self.swarm.behaviour_mut().kad.kbuckets() {
            for entry in bucket.iter() {
                let addresses = entry.node.value.iter().cloned().collect();
                candidates.push((*entry.node.key.preimage(), addresses));
            }
        }
        for (peer, addresses) in candidates {
            if budget == 0 {
                break;
            }
            if peer == self.shared.local_peer_id
                || self.swarm.is_connected(&peer)
                || self.last_dial.contains_key(&peer)
                || self.reserved.contains_key(&peer)
                || self.swarm.behaviour().gate.is_banned(&peer, now)
            {
                continue;
            }
            self.dial(peer, addresses, now);
            budget = budget.saturating_sub(1);
        }
    }

    fn dial(&mut self, peer: PeerId, addresses: Vec<Multiaddr>, now: Instant) {
        self.last_dial.insert(peer, now);
        let opts = DialOpts::peer_id(peer)
            .addresses(addresses)
            .extend_addresses_through_behaviour()
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        if let Err(e) = self.swarm.dial(opts) {
            log::debug!(target: LOG_TARGET, "Cannot dial {peer}: {e}");
        }
    }

    fn add_reserved(&mut self, peer: PeerId, address: Multiaddr, now: Instant) {
        self.swarm.behaviour_mut().gate.set_reserved(peer, true);
        self.swarm.add_peer_address(peer, address.clone());
        let entry = self.reserved.entry(peer).or_insert_with(|| Reserved {
            addresses: Vec::new(),
            next_dial: now,
            backoff: RESERVED_BACKOFF_MIN,
        });
        if !entry.addresses.contains(&address) {
            entry.addresses.push(address);
        }
        entry.next_dial = now;
        entry.backoff = RESERVED_BACKOFF_MIN;
        self.dial_reserved(now);
    }

    /// Counts a rejected gossip message against `peer`; too many get it banned.
    fn penalise_rejected(&mut self, peer: PeerId) {
        let Some(state) = self.peers.get_mut(&peer) else { return };
        state.rejected = state.rejected.saturating_add(1);
        log::debug!(target: LOG_TARGET, "Gossip message of {peer} rejected ({})", state.rejected);
        if state.rejected >= MAX_REJECTED_MESSAGES {
            let why = format!("{} invalid gossip messages", state.rejected);
            self.ban(peer, &Misbehaviour::BadMessage(why));
        }
    }

    /// Disconnects and bans `peer`.
    fn ban(&mut self, peer: PeerId, misbehaviour: &Misbehaviour) {
        let now = Instant::now();
        let duration = misbehaviour.ban_duration();
        let reason = misbehaviour.to_string();
        log::warn!(
            target: LOG_TARGET,
            "🚫 Banning {peer} for {}s: {reason}",
            duration.as_secs()
        );
        metrics::inc(&self.shared.metrics.bans_total);
        let behaviour = self.swarm.behaviour_mut();
        behaviour.gate.ban(peer, Ban { until: now.checked_add(duration).unwrap_or(now), reason });
        behaviour.kad.remove_peer(&peer);
        let _ = self.swarm.disconnect_peer_id(peer);
        self.publish_bans();
    }

    fn confirmed_count(&self) -> usize {
        self.peers.values().filter(|state| state.confirmed).count()
    }

    /// Refreshes the handle's view of the connected peers.
    fn publish_peers(&self) {
        let gate = &self.swarm.behaviour().gate;
        let peers: BTreeMap<String, PeerSnapshot> = self
            .peers
            .iter()
            .filter(|(_, state)| state.confirmed)
            .map(|(peer, state)| {
                let id = api_peer(peer);
                let endpoint = match &state.endpoint {
                    ConnectedPoint::Dialer { address, .. } => {
                        json!({ "dialing": address.to_string() })
                    }
                    ConnectedPoint::Listener { local_addr, send_back_addr } => json!({
                        "listening": {
                            "localAddr": local_addr.to_string(),
                            "sendBackAddr": send_back_addr.to_string(),
                        }
                    }),
                };
                let snapshot = PeerSnapshot {
                    peer: subtensor_network_api::ConnectedPeer {
                        peer_id: id.clone(),
                        address: state.endpoint.get_remote_address().to_string(),
                        inbound: state.inbound,
                        reserved: gate.is_reserved(peer),
                    },
                    endpoint,
                    agent_version: state.agent_version.clone(),
                    since: state.since,
                };
                (id.0, snapshot)
            })
            .collect();
        metrics::set(&self.shared.metrics.peers, peers.len());
        *self.shared.peers.lock() = peers;
    }

    fn publish_bans(&self) {
        let bans: Vec<BanSnapshot> = self
            .swarm
            .behaviour()
            .gate
            .bans()
            .map(|(peer, ban)| BanSnapshot {
                peer_id: peer.to_base58(),
                reason: ban.reason.clone(),
                until: ban.until,
            })
            .collect();
        metrics::set(&self.shared.metrics.banned_peers, bans.len());
        *self.shared.banned.lock() = bans;
    }

    fn publish_external_addresses(&self) {
        *self.shared.external_addresses.lock() = self.swarm.external_addresses().cloned().collect();
    }
}

/// The API form of a peer id.
fn api_peer(peer: &PeerId) -> subtensor_network_api::PeerId {
    subtensor_network_api::PeerId(peer.to_base58())
}

/// Whether an address learnt from a peer can be dialled (not an unspecified IP).
fn is_dialable(address: &Multiaddr) -> bool {
    use libp2p::multiaddr::Protocol as P;
    address.iter().all(|part| match part {
        P::Ip4(ip) => !ip.is_unspecified(),
        P::Ip6(ip) => !ip.is_unspecified(),
        _ => true,
    })
}
