//! What the sync knows about its peers, and the sync status the RPC server, the metrics and the
//! block author read.

use crate::{wire::Role, Chain};
use parking_lot::RwLock;
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};
use subtensor_chain::Hash;
use subtensor_network_api::PeerId;
use subtensor_runtime::BlockNumber;

/// What we know of a connected peer (from its status, then its announcements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerState {
    /// Its role.
    pub roles: Role,
    /// Its best block's hash.
    pub best_hash: Hash,
    /// Its best block's number.
    pub best_number: BlockNumber,
    /// Its last finalized block's hash.
    pub finalized_hash: Hash,
    /// Its last finalized block's number.
    pub finalized_number: BlockNumber,
}

/// A peer as `system_peers` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its identity.
    pub peer_id: PeerId,
    /// Its role.
    pub roles: Role,
    /// Its best block's hash.
    pub best_hash: Hash,
    /// Its best block's number.
    pub best_number: BlockNumber,
}

/// `system_syncState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncState {
    /// Our best block number when the sync started.
    pub starting_block: BlockNumber,
    /// Our best block number now.
    pub current_block: BlockNumber,
    /// The highest best block number known: ours or a peer's.
    pub highest_block: BlockNumber,
}

/// The sync's state as the rest of the node reads it. Implemented by [`SyncStatus`]; RPC and
/// the block author may hold it as a trait object (and tests may fake it).
pub trait SyncStatusProvider: Send + Sync {
    /// Whether we are far behind our peers (a peer's best is more than the configured
    /// threshold above ours): the block author pauses meanwhile, `system_health.isSyncing`.
    fn is_major_syncing(&self) -> bool;
    /// `system_syncState`.
    fn state(&self) -> SyncState;
    /// The peers whose status we know, sorted by peer id (`system_peers`).
    fn peers(&self) -> Vec<PeerInfo>;
    /// How many blocks were imported from the network (sync and announcements) since start.
    fn blocks_imported_from_network(&self) -> u64;
}

/// The shared sync status: a cheap handle (clone it freely).
#[derive(Clone)]
pub struct SyncStatus {
    inner: Arc<Inner>,
}

struct Inner {
    chain: Chain,
    starting_block: BlockNumber,
    major_sync_threshold: BlockNumber,
    peers: RwLock<HashMap<PeerId, PeerState>>,
    imported: AtomicU64,
}

impl std::fmt::Debug for SyncStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncStatus")
            .field("state", &self.state())
            .field("peers", &self.inner.peers.read().len())
            .finish_non_exhaustive()
    }
}

impl SyncStatus {
    pub(crate) fn new(chain: Chain, major_sync_threshold: BlockNumber) -> Self {
        let starting_block = chain.info().best_number;
        Self {
            inner: Arc::new(Inner {
                chain,
                starting_block,
                major_sync_threshold,
                peers: RwLock::new(HashMap::new()),
                imported: AtomicU64::new(0),
            }),
        }
    }

    /// The state of `peer`, if its status is known.
    pub fn peer(&self, peer: &PeerId) -> Option<PeerState> {
        self.inner.peers.read().get(peer).copied()
    }

    /// Every known peer with its state.
    pub fn peer_states(&self) -> Vec<(PeerId, PeerState)> {
        self.inner.peers.read().iter().map(|(p, s)| (p.clone(), *s)).collect()
    }

    /// The best block number the peers agree on: the lower median of their best numbers, so
    /// that one peer claiming a far-away best (a lie costs nothing) cannot make the node
    /// believe it is far behind (which pauses authoring) while its other peers say otherwise.
    pub fn best_seen(&self) -> Option<BlockNumber> {
        let mut bests: Vec<BlockNumber> =
            self.inner.peers.read().values().map(|s| s.best_number).collect();
        bests.sort_unstable();
        let middle = bests.len().checked_sub(1)? / 2;
        bests.get(middle).copied()
    }

    pub(crate) fn set_peer(&self, peer: PeerId, state: PeerState) {
        self.inner.peers.write().insert(peer, state);
    }

    pub(crate) fn remove_peer(&self, peer: &PeerId) -> bool {
        self.inner.peers.write().remove(peer).is_some()
    }

    /// Record that `peer` has block `hash` #`number` as its best (if higher than its known best).
    pub(crate) fn note_peer_best(&self, peer: &PeerId, hash: Hash, number: BlockNumber) {
        if let Some(state) = self.inner.peers.write().get_mut(peer) {
            if number > state.best_number {
                state.best_hash = hash;
                state.best_number = number;
            }
        }
    }

    pub(crate) fn count_imported(&self) {
        self.inner.imported.fetch_add(1, Ordering::Relaxed);
    }
}

impl SyncStatus {
    /// See [`SyncStatusProvider::is_major_syncing`].
    pub fn is_major_syncing(&self) -> bool {
        let ours = self.inner.chain.info().best_number;
        self.best_seen()
            .is_some_and(|seen| seen > ours.saturating_add(self.inner.major_sync_threshold))
    }

    /// See [`SyncStatusProvider::state`].
    pub fn state(&self) -> SyncState {
        let current_block = self.inner.chain.info().best_number;
        SyncState {
            starting_block: self.inner.starting_block,
            current_block,
            highest_block: self.best_seen().unwrap_or(0).max(current_block),
        }
    }

    /// See [`SyncStatusProvider::peers`].
    pub fn peers(&self) -> Vec<PeerInfo> {
        let mut peers: Vec<PeerInfo> = self
            .inner
            .peers
            .read()
            .iter()
            .map(|(peer, s)| PeerInfo {
                peer_id: peer.clone(),
                roles: s.roles,
                best_hash: s.best_hash,
                best_number: s.best_number,
            })
            .collect();
        peers.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
        peers
    }

    /// See [`SyncStatusProvider::blocks_imported_from_network`].
    pub fn blocks_imported_from_network(&self) -> u64 {
        self.inner.imported.load(Ordering::Relaxed)
    }
}

impl SyncStatusProvider for SyncStatus {
    fn is_major_syncing(&self) -> bool {
        SyncStatus::is_major_syncing(self)
    }

    fn state(&self) -> SyncState {
        SyncStatus::state(self)
    }

    fn peers(&self) -> Vec<PeerInfo> {
        SyncStatus::peers(self)
    }

    fn blocks_imported_from_network(&self) -> u64 {
        SyncStatus::blocks_imported_from_network(self)
    }
}
