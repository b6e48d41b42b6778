//! What the RPC server needs from the node's network, sync and finality services, as traits:
//! the server never sees libp2p, the sync engine or the GRANDPA voter, only these views of
//! them. A node without a network (tests, `import-blocks`) passes `None` and the `system_*`
//! methods answer as a node alone.

use serde::{Deserialize, Serialize};
use sp_core::H256;

/// A connected peer as `system_peers` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    /// Its peer id (`12D3KooW…`).
    pub peer_id: String,
    /// `AUTHORITY` or `FULL`.
    pub roles: String,
    /// Its best block.
    pub best_hash: H256,
    /// Its best block's number.
    pub best_number: u32,
}

/// The node's peer-to-peer side, for `system_*` methods.
pub trait NetworkRpcApi: Send + Sync {
    /// Our peer id.
    fn local_peer_id(&self) -> String;
    /// Our listen addresses with the `/p2p/<peer id>` suffix.
    fn listen_addresses(&self) -> Vec<String>;
    /// The connected peers of this chain with their heads.
    fn peers(&self) -> Vec<PeerInfo>;
    /// How many peers are connected.
    fn peer_count(&self) -> usize;
    /// Whether the node is far behind its peers and downloading blocks.
    fn is_major_syncing(&self) -> bool;
    /// Whether the node is expected to have peers (not a single-node development chain).
    fn should_have_peers(&self) -> bool;
    /// The number of the block sync started from, and of the highest block seen on the network.
    fn sync_bounds(&self) -> (u32, u32);
    /// The network state (`system_unstable_networkState`).
    fn network_state(&self) -> serde_json::Value;
    /// Add a reserved peer by multiaddress.
    fn add_reserved_peer(&self, address: &str) -> Result<(), String>;
    /// Remove a reserved peer by peer id.
    fn remove_reserved_peer(&self, peer_id: &str) -> Result<(), String>;
    /// The reserved peers' ids.
    fn reserved_peers(&self) -> Vec<String>;
    /// The node's roles (`Authority` or `Full`).
    fn roles(&self) -> Vec<String>;
}

/// The node's finality gadget, for `grandpa_*` methods.
pub trait GrandpaRpcApi: Send + Sync {
    /// `grandpa_roundState`.
    fn round_state(&self) -> Result<serde_json::Value, String>;
    /// A SCALE-encoded finality proof (Substrate's `FinalityProof`: block, justification,
    /// unknown headers) for block `number`; `None` if none is known.
    fn prove_finality(&self, number: u32) -> Result<Option<Vec<u8>>, String>;
    /// New justifications (SCALE-encoded) as blocks are finalized.
    fn justifications(&self) -> tokio::sync::broadcast::Receiver<Vec<u8>>;
}
