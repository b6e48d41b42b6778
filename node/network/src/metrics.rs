//! Counters of the network, readable by the node (for Prometheus or the informant).

use std::sync::atomic::{AtomicU64, Ordering};

/// The network's counters and gauges. Totals only grow; gauges follow the current state.
#[derive(Debug, Default)]
pub struct NetworkMetrics {
    /// Gauge: peers of this chain connected now.
    pub peers: AtomicU64,
    /// Gauge: peers banned now.
    pub banned_peers: AtomicU64,
    /// Connections opened (all peers, before the chain check).
    pub connections_opened_total: AtomicU64,
    /// Connections closed.
    pub connections_closed_total: AtomicU64,
    /// Gossip messages received from peers.
    pub gossip_received_total: AtomicU64,
    /// Gossip messages received but dropped (no subscriber, or its queue full).
    pub gossip_dropped_total: AtomicU64,
    /// Gossip messages published by this node.
    pub gossip_published_total: AtomicU64,
    /// Gossip messages this node failed to publish (too large, queues full).
    pub gossip_publish_failed_total: AtomicU64,
    /// Requests received from peers.
    pub requests_in_total: AtomicU64,
    /// Requests received and refused (no handler, handler queue full, peer over its limit).
    pub requests_refused_total: AtomicU64,
    /// Requests sent to peers.
    pub requests_out_total: AtomicU64,
    /// Requests sent that failed (timeout, refused, too large, connection).
    pub requests_failed_total: AtomicU64,
    /// Bans imposed.
    pub bans_total: AtomicU64,
}

/// A copy of [`NetworkMetrics`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)] // the fields mirror `NetworkMetrics`
pub struct MetricsSnapshot {
    pub peers: u64,
    pub banned_peers: u64,
    pub connections_opened_total: u64,
    pub connections_closed_total: u64,
    pub gossip_received_total: u64,
    pub gossip_dropped_total: u64,
    pub gossip_published_total: u64,
    pub gossip_publish_failed_total: u64,
    pub requests_in_total: u64,
    pub requests_refused_total: u64,
    pub requests_out_total: u64,
    pub requests_failed_total: u64,
    pub bans_total: u64,
}

impl NetworkMetrics {
    /// The current values.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MetricsSnapshot {
            peers: get(&self.peers),
            banned_peers: get(&self.banned_peers),
            connections_opened_total: get(&self.connections_opened_total),
            connections_closed_total: get(&self.connections_closed_total),
            gossip_received_total: get(&self.gossip_received_total),
            gossip_dropped_total: get(&self.gossip_dropped_total),
            gossip_published_total: get(&self.gossip_published_total),
            gossip_publish_failed_total: get(&self.gossip_publish_failed_total),
            requests_in_total: get(&self.requests_in_total),
            requests_refused_total: get(&self.requests_refused_total),
            requests_out_total: get(&self.requests_out_total),
            requests_failed_total: get(&self.requests_failed_total),
            bans_total: get(&self.bans_total),
        }
    }
}

/// Adds one to a counter.
pub(crate) fn inc(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Sets a gauge.
pub(crate) fn set(gauge: &AtomicU64, value: usize) {
    gauge.store(u64::try_from(value).unwrap_or(u64::MAX), Ordering::Relaxed);
}
