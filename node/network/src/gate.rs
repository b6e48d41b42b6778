//! A behaviour that decides which connections are kept: bans, reserved-only mode and the
//! inbound/outbound peer limits (reserved peers exempt).

use libp2p::{
    core::{transport::PortUse, ConnectedPoint, Endpoint},
    swarm::{
        behaviour::{ConnectionClosed, ConnectionEstablished},
        dummy, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler,
        THandlerInEvent, THandlerOutEvent, ToSwarm,
    },
    Multiaddr, PeerId,
};
use std::{
    collections::{HashMap, HashSet},
    convert::Infallible,
    fmt,
    task::{Context, Poll},
    time::Instant,
};

/// The most connections kept with one peer (two when both dialled at once).
const MAX_CONNECTIONS_PER_PEER: usize = 2;
/// The most bans remembered; beyond, the one ending first is forgotten.
const MAX_BANS: usize = 10_000;

/// Why a connection was refused.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The peer is banned.
    Banned,
    /// Only reserved peers are accepted.
    NotReserved,
    /// The limit of inbound or outbound peers is reached.
    TooManyPeers,
    /// The peer has enough connections with us already.
    TooManyConnections,
    /// That is us.
    Ourselves,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Banned => "peer is banned",
            Refusal::NotReserved => "reserved-only mode and the peer is not reserved",
            Refusal::TooManyPeers => "peer limit reached",
            Refusal::TooManyConnections => "too many connections with this peer",
            Refusal::Ourselves => "cannot connect to ourselves",
        })
    }
}

impl std::error::Error for Refusal {}

/// A ban: until when, and why.
#[derive(Debug, Clone)]
pub(crate) struct Ban {
    /// When it ends.
    pub(crate) until: Instant,
    /// Why it was imposed.
    pub(crate) reason: String,
}

/// One connected peer as the gate counts it.
#[derive(Debug)]
struct Connected {
    /// Whether its first connection was inbound (decides which limit it counts against).
    inbound: bool,
    /// Its open connections.
    connections: HashSet<ConnectionId>,
}

/// The connection gate.
pub(crate) struct Gate {
    local: PeerId,
    reserved: HashSet<PeerId>,
    reserved_only: bool,
    in_peers: usize,
    out_peers: usize,
    banned: HashMap<PeerId, Ban>,
    connected: HashMap<PeerId, Connected>,
}

impl Gate {
    /// A gate for the local peer `local` with the given limits.
    pub(crate) fn new(local: PeerId, reserved_only: bool, in_peers: u32, out_peers: u32) -> Self {
        Gate {
            local,
            reserved: HashSet::new(),
            reserved_only,
            in_peers: usize::try_from(in_peers).unwrap_or(usize::MAX),
            out_peers: usize::try_from(out_peers).unwrap_or(usize::MAX),
            banned: HashMap::new(),
            connected: HashMap::new(),
        }
    }

    /// Marks `peer` reserved (or not).
    pub(crate) fn set_reserved(&mut self, peer: PeerId, reserved: bool) {
        if reserved {
            self.reserved.insert(peer);
        } else {
            self.reserved.remove(&peer);
        }
    }

    /// Whether `peer` is reserved.
    pub(crate) fn is_reserved(&self, peer: &PeerId) -> bool {
        self.reserved.contains(peer)
    }

    /// Whether only reserved peers are accepted.
    pub(crate) fn reserved_only(&self) -> bool {
        self.reserved_only
    }

    /// Bans `peer` (replacing a shorter ban).
    pub(crate) fn ban(&mut self, peer: PeerId, ban: Ban) {
        match self.banned.get(&peer) {
            Some(existing) if existing.until > ban.until => {}
            _ => {
                if self.banned.len() >= MAX_BANS && !self.banned.contains_key(&peer) {
                    let first = self.banned.iter().min_by_key(|(_, b)| b.until).map(|(p, _)| *p);
                    if let Some(first) = first {
                        self.banned.remove(&first);
                    }
                }
                self.banned.insert(peer, ban);
            }
        }
    }

    /// Whether `peer` is banned at `now`.
    pub(crate) fn is_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.banned.get(peer).is_some_and(|ban| ban.until > now)
    }

    /// Lifts the bans that ended by `now`, returning the peers unbanned.
    pub(crate) fn expire_bans(&mut self, now: Instant) -> Vec<(PeerId, Ban)> {
        let ended: Vec<PeerId> =
            self.banned.iter().filter(|(_, ban)| ban.until <= now).map(|(p, _)| *p).collect();
        ended.into_iter().filter_map(|p| self.banned.remove(&p).map(|ban| (p, ban))).collect()
    }

    /// The current bans.
    pub(crate) fn bans(&self) -> impl Iterator<Item = (&PeerId, &Ban)> {
        self.banned.iter()
    }

    /// The connected non-reserved peers that count against the (inbound, outbound) limits.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let mut inbound = 0usize;
        let mut outbound = 0usize;
        for (peer, connected) in &self.connected {
            if self.reserved.contains(peer) {
                continue;
            }
            if connected.inbound {
                inbound = inbound.saturating_add(1);
            } else {
                outbound = outbound.saturating_add(1);
            }
        }
        (inbound, outbound)
    }

    /// Whether another outbound non-reserved peer is allowed.
    pub(crate) fn wants_outbound(&self) -> bool {
        !self.reserved_only && self.counts().1 < self.out_peers
    }

    /// Whether a new connection with `peer` in that direction is allowed.
    fn check(&self, peer: &PeerId, inbound: bool) -> Result<(), Refusal> {
        if *peer == self.local {
            return Err(Refusal::Ourselves);
        }
        if self.is_banned(peer, Instant::now()) {
            return Err(Refusal::Banned);
        }
        if let Some(connected) = self.connected.get(peer) {
            if connected.connections.len() >= MAX_CONNECTIONS_PER_PEER {
                return Err(Refusal::TooManyConnections);
            }
            return Ok(());
        }
        if self.reserved.contains(peer) {
            return Ok(());
        }
        if self.reserved_only {
            return Err(Refusal::NotReserved);
        }
        let (in_count, out_count) = self.counts();
        let full = if inbound { in_count >= self.in_peers } else { out_count >= self.out_peers };
        if full {
            return Err(Refusal::TooManyPeers);
        }
        Ok(())
    }
}

impl NetworkBehaviour for Gate {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check(&peer, true).map_err(ConnectionDenied::new)?;
        Ok(dummy::ConnectionHandler)
    }

    fn handle_pending_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: Option<PeerId>,
        _: &[Multiaddr],
        _: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        if let Some(peer) = peer {
            if peer == self.local {
                return Err(ConnectionDenied::new(Refusal::Ourselves));
            }
            if self.is_banned(&peer, Instant::now()) {
                return Err(ConnectionDenied::new(Refusal::Banned));
            }
        }
        Ok(Vec::new())
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check(&peer, false).map_err(ConnectionDenied::new)?;
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            }) => {
                let inbound = matches!(endpoint, ConnectedPoint::Listener { .. });
                self.connected
                    .entry(peer_id)
                    .or_insert_with(|| Connected { inbound, connections: HashSet::new() })
                    .connections
                    .insert(connection_id);
            }
            FromSwarm::ConnectionClosed(ConnectionClosed { peer_id, connection_id, .. }) => {
                if let Some(connected) = self.connected.get_mut(&peer_id) {
                    connected.connections.remove(&connection_id);
                    if connected.connections.is_empty() {
                        self.connected.remove(&peer_id);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn bans_expire_and_are_bounded() {
        let mut gate = Gate::new(PeerId::random(), false, 1, 1);
        let now = Instant::now();
        let peer = PeerId::random();
        gate.ban(peer, Ban { until: now + Duration::from_secs(60), reason: "bad".into() });
        // A shorter ban does not shorten a longer one.
        gate.ban(peer, Ban { until: now + Duration::from_secs(1), reason: "other".into() });
        assert!(gate.is_banned(&peer, now + Duration::from_secs(30)));
        assert!(gate.expire_bans(now + Duration::from_secs(30)).is_empty());
        let lifted = gate.expire_bans(now + Duration::from_secs(61));
        assert_eq!(lifted.len(), 1);
        assert_eq!(lifted[0].1.reason, "bad");
        assert!(!gate.is_banned(&peer, now + Duration::from_secs(61)));

        for i in 0..MAX_BANS + 10 {
            let until = now + Duration::from_secs(100 + i as u64);
            gate.ban(PeerId::random(), Ban { until, reason: String::new() });
        }
        assert_eq!(gate.bans().count(), MAX_BANS);
        assert!(gate.bans().all(|(_, b)| b.until >= now + Duration::from_secs(110)));
    }

    #[test]
    fn limits_count_non_reserved_peers_by_direction() {
        let mut gate = Gate::new(PeerId::random(), false, 1, 1);
        let (a, b) = (PeerId::random(), PeerId::random());
        assert!(gate.check(&a, true).is_ok());
        gate.connected.insert(
            a,
            Connected {
                inbound: true,
                connections: HashSet::from([ConnectionId::new_unchecked(1)]),
            },
        );
        assert!(matches!(gate.check(&b, true), Err(Refusal::TooManyPeers)));
        assert!(gate.check(&b, false).is_ok());
        gate.set_reserved(b, true);
        assert!(gate.check(&b, true).is_ok());
        assert!(gate.check(&a, true).is_ok(), "a second connection of a connected peer");
        assert!(matches!(gate.check(&gate.local.clone(), false), Err(Refusal::Ourselves)));
        gate.ban(b, Ban { until: Instant::now() + Duration::from_secs(5), reason: String::new() });
        assert!(matches!(gate.check(&b, true), Err(Refusal::Banned)));
    }
}
