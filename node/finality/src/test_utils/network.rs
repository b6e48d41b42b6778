//! An in-process network of nodes implementing [`NetworkService`].
//!
//! Gossip behaves like gossipsub with a full mesh: a published message goes to every connected
//! online peer once (messages are identified by the Blake2-256 of topic and bytes, and a node
//! that saw an id never receives it again); a receiver's `Accept` forwards it to that node's
//! other peers, `Reject`/`Ignore` drop it. Requests go to the peer's handler and the answer
//! comes back (`NotConnected`, `Refused` or `TooLarge` otherwise). `report` only records (no
//! ban). Everything delivered, published, validated and reported is recorded for assertions.

use parking_lot::Mutex;
use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    sync::Arc,
};
use subtensor_network_api::{
    Acceptance, ConnectedPeer, GossipMessage, IncomingRequest, MessageId, Misbehaviour,
    NetworkError, NetworkService, PeerEvent, PeerId, Protocol, RequestError, Topic,
};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Capacity of each subscriber's gossip queue.
const GOSSIP_QUEUE: usize = 4096;
/// Capacity of each request handler's queue.
const REQUEST_QUEUE: usize = 256;

#[derive(Default)]
struct Node {
    online: bool,
    subscribers: HashMap<Topic, mpsc::Sender<GossipMessage>>,
    handlers: HashMap<Protocol, mpsc::Sender<IncomingRequest>>,
    events: Option<broadcast::Sender<PeerEvent>>,
    seen: HashSet<Vec<u8>>,
    pending: HashMap<Vec<u8>, (Topic, Vec<u8>)>,
}

#[derive(Default)]
struct Hub {
    nodes: BTreeMap<PeerId, Node>,
    links: BTreeSet<(PeerId, PeerId)>,
    reports: Vec<(PeerId, PeerId, Misbehaviour)>,
    verdicts: Vec<(PeerId, MessageId, PeerId, Acceptance)>,
    published: Vec<(PeerId, Topic, Vec<u8>)>,
}

fn link(a: &PeerId, b: &PeerId) -> (PeerId, PeerId) {
    if a <= b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}

impl Hub {
    fn peers_of(&self, id: &PeerId) -> Vec<PeerId> {
        self.links
            .iter()
            .filter_map(|(a, b)| {
                if a == id {
                    Some(b.clone())
                } else if b == id {
                    Some(a.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    fn event(&self, to: &PeerId, event: PeerEvent) {
        if let Some(events) = self.nodes.get(to).and_then(|n| n.events.as_ref()) {
            let _ = events.send(event);
        }
    }

    fn connect(&mut self, a: &PeerId, b: &PeerId) {
        if a == b || !self.links.insert(link(a, b)) {
            return;
        }
        self.event(a, PeerEvent::Connected { peer: b.clone(), inbound: false });
        self.event(b, PeerEvent::Connected { peer: a.clone(), inbound: true });
    }

    fn disconnect(&mut self, a: &PeerId, b: &PeerId) {
        if !self.links.remove(&link(a, b)) {
            return;
        }
        self.event(a, PeerEvent::Disconnected { peer: b.clone() });
        self.event(b, PeerEvent::Disconnected { peer: a.clone() });
    }

    /// Deliver a message from `from` to `to` (if linked... checked by the caller).
    fn deliver(&mut self, from: &PeerId, to: &PeerId, topic: Topic, id: &[u8], data: &[u8]) {
        let Some(node) = self.nodes.get_mut(to) else { return };
        if !node.online || !node.seen.insert(id.to_vec()) {
            return;
        }
        let Some(subscriber) = node.subscribers.get(&topic) else { return };
        let message = GossipMessage {
            topic,
            id: MessageId(id.to_vec()),
            source: from.clone(),
            data: data.to_vec(),
        };
        if subscriber.try_send(message).is_ok() {
            node.pending.insert(id.to_vec(), (topic, data.to_vec()));
        }
    }

    fn spread(
        &mut self,
        from: &PeerId,
        except: Option<&PeerId>,
        topic: Topic,
        id: &[u8],
        data: &[u8],
    ) {
        for peer in self.peers_of(from) {
            if Some(&peer) != except {
                self.deliver(from, &peer, topic, id, data);
            }
        }
    }
}

fn message_id(topic: Topic, data: &[u8]) -> Vec<u8> {
    let mut bytes = format!("{topic:?}").into_bytes();
    bytes.extend_from_slice(data);
    <sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(&bytes).0.to_vec()
}

/// The in-process network: create nodes with [`TestNetwork::add_node`].
#[derive(Clone, Default)]
pub struct TestNetwork {
    hub: Arc<Mutex<Hub>>,
}

impl std::fmt::Debug for TestNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hub = self.hub.lock();
        f.debug_struct("TestNetwork")
            .field("nodes", &hub.nodes.len())
            .field("links", &hub.links.len())
            .finish()
    }
}

impl TestNetwork {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an online node named `name` (its peer id), connected to every online node.
    pub fn add_node(&self, name: &str) -> Arc<TestNetworkNode> {
        let id = PeerId(name.to_string());
        {
            let mut hub = self.hub.lock();
            let (events, _) = broadcast::channel(1024);
            hub.nodes.insert(
                id.clone(),
                Node { online: true, events: Some(events), ..Default::default() },
            );
            let others: Vec<PeerId> = hub
                .nodes
                .iter()
                .filter(|(peer, node)| node.online && **peer != id)
                .map(|(peer, _)| peer.clone())
                .collect();
            for other in others {
                hub.connect(&id, &other);
            }
        }
        Arc::new(TestNetworkNode { hub: self.hub.clone(), id })
    }

    /// Take a node offline (disconnected from everyone, nothing delivered to or from it) or
    /// bring it back (connected to every online node).
    pub fn set_online(&self, peer: &PeerId, online: bool) {
        let mut hub = self.hub.lock();
        let others: Vec<PeerId> = hub
            .nodes
            .iter()
            .filter(|(id, node)| node.online && *id != peer)
            .map(|(id, _)| id.clone())
            .collect();
        if let Some(node) = hub.nodes.get_mut(peer) {
            node.online = online;
            node.pending.clear();
        }
        for other in others {
            if online {
                hub.connect(peer, &other);
            } else {
                hub.disconnect(peer, &other);
            }
        }
    }

    /// Connect two nodes.
    pub fn connect(&self, a: &PeerId, b: &PeerId) {
        self.hub.lock().connect(a, b);
    }

    /// Disconnect two nodes.
    pub fn disconnect(&self, a: &PeerId, b: &PeerId) {
        self.hub.lock().disconnect(a, b);
    }

    /// Deliver `data` on `topic` to `to` as if `from` (any peer id, not necessarily a node)
    /// had sent it; returns the message id.
    pub fn inject_gossip(
        &self,
        from: &PeerId,
        to: &PeerId,
        topic: Topic,
        data: Vec<u8>,
    ) -> MessageId {
        let id = message_id(topic, &data);
        self.hub.lock().deliver(from, to, topic, &id, &data);
        MessageId(id)
    }

    /// Every report so far: (reporter, reported peer, why).
    pub fn reports(&self) -> Vec<(PeerId, PeerId, Misbehaviour)> {
        self.hub.lock().reports.clone()
    }

    /// Every verdict so far: (validating node, message id, source, acceptance).
    pub fn verdicts(&self) -> Vec<(PeerId, MessageId, PeerId, Acceptance)> {
        self.hub.lock().verdicts.clone()
    }

    /// Every publication so far: (publisher, topic, bytes).
    pub fn published(&self) -> Vec<(PeerId, Topic, Vec<u8>)> {
        self.hub.lock().published.clone()
    }
}

/// One node's view of a [`TestNetwork`].
pub struct TestNetworkNode {
    hub: Arc<Mutex<Hub>>,
    id: PeerId,
}

impl std::fmt::Debug for TestNetworkNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestNetworkNode").field("id", &self.id).finish()
    }
}

impl NetworkService for TestNetworkNode {
    fn local_peer_id(&self) -> PeerId {
        self.id.clone()
    }

    fn listen_addresses(&self) -> Vec<String> {
        vec![format!("/memory/0/p2p/{}", self.id)]
    }

    fn connected_peers(&self) -> Vec<ConnectedPeer> {
        let hub = self.hub.lock();
        let mut peers: Vec<ConnectedPeer> = hub
            .peers_of(&self.id)
            .into_iter()
            .map(|peer| ConnectedPeer {
                address: format!("/memory/0/p2p/{peer}"),
                peer_id: peer,
                inbound: false,
                reserved: false,
            })
            .collect();
        peers.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
        peers
    }

    fn peer_events(&self) -> broadcast::Receiver<PeerEvent> {
        let mut hub = self.hub.lock();
        let node = hub.nodes.entry(self.id.clone()).or_default();
        node.events.get_or_insert_with(|| broadcast::channel(1024).0).subscribe()
    }

    fn subscribe(&self, topic: Topic) -> mpsc::Receiver<GossipMessage> {
        let (tx, rx) = mpsc::channel(GOSSIP_QUEUE);
        self.hub.lock().nodes.entry(self.id.clone()).or_default().subscribers.insert(topic, tx);
        rx
    }

    fn publish(&self, topic: Topic, data: Vec<u8>) {
        let mut hub = self.hub.lock();
        hub.published.push((self.id.clone(), topic, data.clone()));
        let online = hub.nodes.get(&self.id).is_some_and(|n| n.online);
        if !online {
            return;
        }
        let id = message_id(topic, &data);
        if let Some(node) = hub.nodes.get_mut(&self.id) {
            node.seen.insert(id.clone());
        }
        hub.spread(&self.id, None, topic, &id, &data);
    }

    fn validate(&self, id: MessageId, source: PeerId, acceptance: Acceptance) {
        let mut hub = self.hub.lock();
        hub.verdicts.push((self.id.clone(), id.clone(), source.clone(), acceptance));
        let pending = hub.nodes.get_mut(&self.id).and_then(|n| n.pending.remove(&id.0));
        if let (Some((topic, data)), Acceptance::Accept) = (pending, acceptance) {
            hub.spread(&self.id, Some(&source), topic, &id.0, &data);
        }
    }

    fn handle_requests(&self, protocol: Protocol) -> mpsc::Receiver<IncomingRequest> {
        let (tx, rx) = mpsc::channel(REQUEST_QUEUE);
        self.hub.lock().nodes.entry(self.id.clone()).or_default().handlers.insert(protocol, tx);
        rx
    }

    fn request(
        &self,
        peer: PeerId,
        protocol: Protocol,
        data: Vec<u8>,
    ) -> oneshot::Receiver<Result<Vec<u8>, RequestError>> {
        let (answer_tx, answer_rx) = oneshot::channel();
        let handler = {
            let hub = self.hub.lock();
            let linked = hub.links.contains(&link(&self.id, &peer));
            let online = |id: &PeerId| hub.nodes.get(id).is_some_and(|n| n.online);
            if !linked || !online(&self.id) || !online(&peer) {
                let _ = answer_tx.send(Err(RequestError::NotConnected));
                return answer_rx;
            }
            hub.nodes.get(&peer).and_then(|n| n.handlers.get(&protocol).cloned())
        };
        let Some(handler) = handler else {
            let _ = answer_tx.send(Err(RequestError::Refused));
            return answer_rx;
        };
        if data.len() > protocol.max_request_bytes() {
            let _ = answer_tx.send(Err(RequestError::Refused));
            return answer_rx;
        }
        let (respond, response) = oneshot::channel();
        let request = IncomingRequest { peer: self.id.clone(), protocol, data, respond };
        if handler.try_send(request).is_err() {
            let _ = answer_tx.send(Err(RequestError::Refused));
            return answer_rx;
        }
        tokio::spawn(async move {
            let answer = match response.await {
                Ok(bytes) if bytes.len() > protocol.max_response_bytes() => {
                    Err(RequestError::TooLarge)
                }
                Ok(bytes) => Ok(bytes),
                Err(_) => Err(RequestError::Refused),
            };
            let _ = answer_tx.send(answer);
        });
        answer_rx
    }

    fn report(&self, peer: PeerId, misbehaviour: Misbehaviour) {
        self.hub.lock().reports.push((self.id.clone(), peer, misbehaviour));
    }

    fn add_reserved_peer(&self, address: &str) -> Result<(), NetworkError> {
        let peer = address
            .rsplit("/p2p/")
            .next()
            .filter(|p| !p.is_empty() && address.contains("/p2p/"))
            .ok_or_else(|| {
                NetworkError::InvalidAddress(address.into(), "no /p2p/ suffix".into())
            })?;
        self.hub.lock().connect(&self.id, &PeerId(peer.to_string()));
        Ok(())
    }

    fn remove_reserved_peer(&self, _peer: &str) -> Result<(), NetworkError> {
        Ok(())
    }

    fn reserved_peers(&self) -> Vec<PeerId> {
        Vec::new()
    }

    fn network_state(&self) -> serde_json::Value {
        serde_json::json!({
            "peerId": self.id.0,
            "connectedPeers": self.connected_peers().iter().map(|p| p.peer_id.0.clone()).collect::<Vec<_>>(),
        })
    }
}
