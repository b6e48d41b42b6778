//! An in-memory [`NetworkService`] connecting several nodes inside one process (feature
//! `test-utils`).
//!
//! [`MemoryNetwork`] is the hub; [`MemoryNetwork::add_node`] gives each node its
//! [`MemoryNode`] (the `NetworkService`), [`MemoryNetwork::connect`] links two nodes (both get
//! `PeerEvent::Connected`). Gossip behaves like gossipsub: a message is delivered once per node
//! (deduplicated by id), and a node forwards it to its other neighbours only when it validates
//! it with [`Acceptance::Accept`]. Requests go to the target node's handler and time out only
//! through the caller. Reports disconnect the two nodes and are recorded, as are all
//! validation verdicts; a hook can observe each verdict as it is given. Needs a tokio runtime
//! (requests spawn a task each).

use crate::transactions::RecentSet;
use parking_lot::Mutex;
use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};
use subtensor_network_api::{
    Acceptance, ConnectedPeer, GossipMessage, IncomingRequest, MessageId, Misbehaviour,
    NetworkError, NetworkService, PeerEvent, PeerId, Protocol, RequestError, Topic,
};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Queue length of each gossip subscription and request handler.
const QUEUE: usize = 256;
/// How many message ids each node remembers.
const SEEN: usize = 4096;

/// A report a node made about a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The node that reported.
    pub reporter: PeerId,
    /// The peer it reported.
    pub peer: PeerId,
    /// Why.
    pub misbehaviour: Misbehaviour,
}

/// A validation verdict a node gave on a gossip message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The node that validated.
    pub node: PeerId,
    /// The message's topic (when the node still knew the message).
    pub topic: Option<Topic>,
    /// The message id.
    pub id: MessageId,
    /// The peer it came from.
    pub source: PeerId,
    /// The verdict.
    pub acceptance: Acceptance,
}

/// Called with every verdict and the message's bytes (empty if unknown), before forwarding.
pub type VerdictHook = Arc<dyn Fn(&Verdict, &[u8]) + Send + Sync>;

#[derive(Default)]
struct Slot {
    events: Option<broadcast::Sender<PeerEvent>>,
    topics: HashMap<Topic, mpsc::Sender<GossipMessage>>,
    handlers: HashMap<Protocol, mpsc::Sender<IncomingRequest>>,
    seen: Option<RecentSet<MessageId>>,
    pending: HashMap<MessageId, (Topic, Vec<u8>)>,
}

#[derive(Default)]
struct Hub {
    nodes: HashMap<PeerId, Slot>,
    links: BTreeSet<(PeerId, PeerId)>,
    reports: Vec<Report>,
    verdicts: Vec<Verdict>,
    hook: Option<VerdictHook>,
    requests: HashMap<(PeerId, PeerId, Protocol), usize>,
}

fn link(a: &PeerId, b: &PeerId) -> (PeerId, PeerId) {
    if a < b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}

impl Hub {
    fn neighbours(&self, node: &PeerId) -> Vec<PeerId> {
        self.links
            .iter()
            .filter_map(|(a, b)| {
                if a == node {
                    Some(b.clone())
                } else if b == node {
                    Some(a.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    /// Deliver a gossip message from `from` to `to` unless `to` has seen it.
    fn deliver(&mut self, from: &PeerId, to: &PeerId, topic: Topic, id: &MessageId, data: &[u8]) {
        let Some(slot) = self.nodes.get_mut(to) else { return };
        let seen = slot.seen.get_or_insert_with(|| RecentSet::new(SEEN));
        if !seen.insert(id.clone()) {
            return;
        }
        if let Some(sender) = slot.topics.get(&topic) {
            let message =
                GossipMessage { topic, id: id.clone(), source: from.clone(), data: data.to_vec() };
            if sender.try_send(message).is_ok() {
                slot.pending.insert(id.clone(), (topic, data.to_vec()));
            }
        }
    }

    fn send_event(&self, node: &PeerId, event: PeerEvent) {
        if let Some(events) = self.nodes.get(node).and_then(|s| s.events.as_ref()) {
            let _ = events.send(event);
        }
    }

    fn unlink(&mut self, a: &PeerId, b: &PeerId) {
        if self.links.remove(&link(a, b)) {
            self.send_event(a, PeerEvent::Disconnected { peer: b.clone() });
            self.send_event(b, PeerEvent::Disconnected { peer: a.clone() });
        }
    }
}

/// The hub of an in-memory network.
#[derive(Clone, Default)]
pub struct MemoryNetwork {
    hub: Arc<Mutex<Hub>>,
}

impl std::fmt::Debug for MemoryNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryNetwork").field("links", &self.hub.lock().links).finish()
    }
}

impl MemoryNetwork {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a node called `name` (its peer id); returns its network service.
    pub fn add_node(&self, name: &str) -> Arc<MemoryNode> {
        let id = PeerId(name.to_owned());
        let (events, _) = broadcast::channel(QUEUE);
        let slot =
            Slot { events: Some(events), seen: Some(RecentSet::new(SEEN)), ..Slot::default() };
        self.hub.lock().nodes.insert(id.clone(), slot);
        Arc::new(MemoryNode { id, hub: self.hub.clone() })
    }

    /// Connect `a` and `b` (both get `PeerEvent::Connected`; `b` sees it as inbound).
    pub fn connect(&self, a: &PeerId, b: &PeerId) {
        let mut hub = self.hub.lock();
        if a == b || !hub.links.insert(link(a, b)) {
            return;
        }
        hub.send_event(a, PeerEvent::Connected { peer: b.clone(), inbound: false });
        hub.send_event(b, PeerEvent::Connected { peer: a.clone(), inbound: true });
    }

    /// Disconnect `a` and `b`.
    pub fn disconnect(&self, a: &PeerId, b: &PeerId) {
        self.hub.lock().unlink(a, b);
    }

    /// Whether `a` and `b` are connected.
    pub fn is_connected(&self, a: &PeerId, b: &PeerId) -> bool {
        self.hub.lock().links.contains(&link(a, b))
    }

    /// Every report made so far.
    pub fn reports(&self) -> Vec<Report> {
        self.hub.lock().reports.clone()
    }

    /// Every verdict given so far.
    pub fn verdicts(&self) -> Vec<Verdict> {
        self.hub.lock().verdicts.clone()
    }

    /// How many requests `from` sent to `to` on `protocol`.
    pub fn request_count(&self, from: &PeerId, to: &PeerId, protocol: Protocol) -> usize {
        let hub = self.hub.lock();
        hub.requests.get(&(from.clone(), to.clone(), protocol)).copied().unwrap_or(0)
    }

    /// Observe every verdict as it is given (before an accepted message is forwarded).
    pub fn set_verdict_hook(&self, hook: VerdictHook) {
        self.hub.lock().hook = Some(hook);
    }
}

/// One node's view of a [`MemoryNetwork`].
pub struct MemoryNode {
    id: PeerId,
    hub: Arc<Mutex<Hub>>,
}

impl std::fmt::Debug for MemoryNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryNode").field("id", &self.id).finish_non_exhaustive()
    }
}

impl MemoryNode {
    /// The node's peer id.
    pub fn id(&self) -> PeerId {
        self.id.clone()
    }
}

/// The id of a gossip message: its topic and a hash of its bytes.
fn message_id(topic: Topic, data: &[u8]) -> MessageId {
    let mut id = format!("{topic:?}:").into_bytes();
    id.extend_from_slice(&sp_crypto_hashing::blake2_256(data));
    MessageId(id)
}

impl NetworkService for MemoryNode {
    fn local_peer_id(&self) -> PeerId {
        self.id.clone()
    }

    fn listen_addresses(&self) -> Vec<String> {
        vec![format!("/memory/0/p2p/{}", self.id)]
    }

    fn connected_peers(&self) -> Vec<ConnectedPeer> {
        let hub = self.hub.lock();
        let mut peers: Vec<ConnectedPeer> = hub
            .neighbours(&self.id)
            .into_iter()
            .map(|peer_id| ConnectedPeer {
                peer_id,
                address: "/memory/0".into(),
                inbound: false,
                reserved: false,
            })
            .collect();
        peers.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
        peers
    }

    fn peer_events(&self) -> broadcast::Receiver<PeerEvent> {
        let mut hub = self.hub.lock();
        let slot = hub.nodes.entry(self.id.clone()).or_default();
        slot.events.get_or_insert_with(|| broadcast::channel(QUEUE).0).subscribe()
    }

    fn subscribe(&self, topic: Topic) -> mpsc::Receiver<GossipMessage> {
        let (sender, receiver) = mpsc::channel(QUEUE);
        self.hub.lock().nodes.entry(self.id.clone()).or_default().topics.insert(topic, sender);
        receiver
    }

    fn publish(&self, topic: Topic, data: Vec<u8>) {
        let id = message_id(topic, &data);
        let mut hub = self.hub.lock();
        if let Some(slot) = hub.nodes.get_mut(&self.id) {
            slot.seen.get_or_insert_with(|| RecentSet::new(SEEN)).insert(id.clone());
        }
        for peer in hub.neighbours(&self.id) {
            hub.deliver(&self.id, &peer, topic, &id, &data);
        }
    }

    fn validate(&self, id: MessageId, source: PeerId, acceptance: Acceptance) {
        let (verdict, data, hook) = {
            let mut hub = self.hub.lock();
            let pending = hub.nodes.get_mut(&self.id).and_then(|slot| slot.pending.remove(&id));
            let verdict = Verdict {
                node: self.id.clone(),
                topic: pending.as_ref().map(|(topic, _)| *topic),
                id,
                source,
                acceptance,
            };
            hub.verdicts.push(verdict.clone());
            (verdict, pending, hub.hook.clone())
        };
        if let Some(hook) = hook {
            hook(&verdict, data.as_ref().map_or(&[][..], |(_, data)| data.as_slice()));
        }
        if acceptance == Acceptance::Accept {
            if let Some((topic, data)) = data {
                let mut hub = self.hub.lock();
                for peer in hub.neighbours(&self.id) {
                    if peer != verdict.source {
                        hub.deliver(&self.id, &peer, topic, &verdict.id, &data);
                    }
                }
            }
        }
    }

    fn handle_requests(&self, protocol: Protocol) -> mpsc::Receiver<IncomingRequest> {
        let (sender, receiver) = mpsc::channel(QUEUE);
        self.hub.lock().nodes.entry(self.id.clone()).or_default().handlers.insert(protocol, sender);
        receiver
    }

    fn request(
        &self,
        peer: PeerId,
        protocol: Protocol,
        data: Vec<u8>,
    ) -> oneshot::Receiver<Result<Vec<u8>, RequestError>> {
        let (result_tx, result_rx) = oneshot::channel();
        let handler = {
            let mut hub = self.hub.lock();
            if !hub.links.contains(&link(&self.id, &peer)) {
                let _ = result_tx.send(Err(RequestError::NotConnected));
                return result_rx;
            }
            let count = hub.requests.entry((self.id.clone(), peer.clone(), protocol)).or_default();
            *count = count.saturating_add(1);
            hub.nodes.get(&peer).and_then(|slot| slot.handlers.get(&protocol).cloned())
        };
        let Some(handler) = handler else {
            let _ = result_tx.send(Err(RequestError::Refused));
            return result_rx;
        };
        let (respond, answer) = oneshot::channel();
        let request = IncomingRequest { peer: self.id.clone(), protocol, data, respond };
        if handler.try_send(request).is_err() {
            let _ = result_tx.send(Err(RequestError::Refused));
            return result_rx;
        }
        tokio::spawn(async move {
            let result = match answer.await {
                Ok(bytes) if bytes.len() > protocol.max_response_bytes() => {
                    Err(RequestError::TooLarge)
                }
                Ok(bytes) => Ok(bytes),
                Err(_) => Err(RequestError::Refused),
            };
            let _ = result_tx.send(result);
        });
        result_rx
    }

    fn report(&self, peer: PeerId, misbehaviour: Misbehaviour) {
        let mut hub = self.hub.lock();
        hub.reports.push(Report { reporter: self.id.clone(), peer: peer.clone(), misbehaviour });
        hub.unlink(&self.id, &peer);
    }

    fn add_reserved_peer(&self, _address: &str) -> Result<(), NetworkError> {
        Ok(())
    }

    fn remove_reserved_peer(&self, _peer: &str) -> Result<(), NetworkError> {
        Ok(())
    }

    fn reserved_peers(&self) -> Vec<PeerId> {
        Vec::new()
    }

    fn network_state(&self) -> serde_json::Value {
        let peers: Vec<String> = self.connected_peers().into_iter().map(|p| p.peer_id.0).collect();
        serde_json::json!({ "peerId": self.id.0, "connectedPeers": peers })
    }
}
