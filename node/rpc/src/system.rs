//! The `system_*` namespace: node identity, chain properties, health, and the next nonce of an
//! account (`system_accountNextIndex`, alias `account_nextIndex`).

use crate::{common::call_decode, node_api::NetworkRpcApi, RpcError, RpcResult};
use codec::Encode;
use jsonrpsee::{core::async_trait, proc_macros::rpc};
use serde::{Deserialize, Serialize};
use sp_core::crypto::{AccountId32, Ss58Codec};
use std::sync::Arc;
use subtensor_chain::ChainApi;
use subtensor_runtime::Nonce;
use subtensor_txpool::Pool;

/// The kind of chain (`system_chainType`): polkadot.js shows the dev accounts for
/// `Development` and `Local`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChainType {
    /// A development chain on one machine.
    Development,
    /// A local test network.
    Local,
    /// A live network.
    Live,
    /// Anything else.
    Custom(String),
}

/// What the node says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemInfo {
    /// Implementation name (`system_name`).
    pub name: String,
    /// Implementation version (`system_version`).
    pub version: String,
    /// Chain name from the chain spec (`system_chain`).
    pub chain_name: String,
    /// Chain type from the chain spec (`system_chainType`).
    pub chain_type: ChainType,
    /// Chain properties from the chain spec (`system_properties`), e.g.
    /// `{"ss58Format":42,"tokenDecimals":9,"tokenSymbol":"TAO"}`.
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// `system_health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Connected peers.
    pub peers: usize,
    /// Whether the node is syncing.
    pub is_syncing: bool,
    /// Whether the node should have peers.
    pub should_have_peers: bool,
}

/// `system_syncState`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncState {
    /// Height the node started syncing from.
    pub starting_block: u32,
    /// Height of the best block.
    pub current_block: u32,
    /// Highest height known.
    pub highest_block: u32,
}

/// The peer id reported by `system_localPeerId`: this node has no networking, but clients
/// expect a string.
pub const LOCAL_PEER_ID: &str = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";

/// The `system_*` methods.
#[rpc(server)]
pub trait SystemRpc {
    /// Implementation name.
    #[method(name = "system_name")]
    fn system_name(&self) -> RpcResult<String>;

    /// Implementation version.
    #[method(name = "system_version")]
    fn system_version(&self) -> RpcResult<String>;

    /// Chain name.
    #[method(name = "system_chain")]
    fn system_chain(&self) -> RpcResult<String>;

    /// Chain type: `"Development"`, `"Local"`, `"Live"` or `{"Custom":"x"}`.
    #[method(name = "system_chainType")]
    fn system_chain_type(&self) -> RpcResult<ChainType>;

    /// Chain properties (`ss58Format`, `tokenDecimals`, `tokenSymbol`).
    #[method(name = "system_properties")]
    fn system_properties(&self) -> RpcResult<serde_json::Map<String, serde_json::Value>>;

    /// `{"peers":0,"isSyncing":false,"shouldHavePeers":false}`.
    #[method(name = "system_health")]
    fn system_health(&self) -> RpcResult<Health>;

    /// The node's peer id (a fixed string: the node has no networking).
    #[method(name = "system_localPeerId")]
    fn system_local_peer_id(&self) -> RpcResult<String>;

    /// Listen addresses of the peer-to-peer layer: none.
    #[method(name = "system_localListenAddresses")]
    fn system_local_listen_addresses(&self) -> RpcResult<Vec<String>>;

    /// Connected peers: none.
    #[method(name = "system_peers")]
    fn system_peers(&self) -> RpcResult<Vec<serde_json::Value>>;

    /// Roles of the node: `["Authority"]` or `["Full"]`.
    #[method(name = "system_nodeRoles")]
    fn system_node_roles(&self) -> RpcResult<Vec<String>>;

    /// The peer-to-peer network's state (`system_unstable_networkState`, polkadot.js calls it
    /// `system_networkState`).
    #[method(name = "system_unstable_networkState", aliases = ["system_networkState"])]
    fn system_network_state(&self) -> RpcResult<serde_json::Value>;

    /// Add a reserved peer (a multiaddress ending in `/p2p/<peer id>`); unsafe.
    #[method(name = "system_addReservedPeer")]
    fn system_add_reserved_peer(&self, address: String) -> RpcResult<()>;

    /// Remove a reserved peer by peer id; unsafe.
    #[method(name = "system_removeReservedPeer")]
    fn system_remove_reserved_peer(&self, peer_id: String) -> RpcResult<()>;

    /// The reserved peers' ids.
    #[method(name = "system_reservedPeers")]
    fn system_reserved_peers(&self) -> RpcResult<Vec<String>>;

    /// `{"startingBlock","currentBlock","highestBlock"}`: where sync started, our best block,
    /// the highest block seen on the network.
    #[method(name = "system_syncState")]
    fn system_sync_state(&self) -> RpcResult<SyncState>;

    /// The nonce the account's next transaction needs: its on-chain nonce, plus one for each
    /// consecutive nonce already provided by a ready pool transaction.
    #[method(name = "system_accountNextIndex", aliases = ["account_nextIndex"], blocking)]
    fn system_account_next_index(&self, account: String) -> RpcResult<Nonce>;
}

/// Implementation of [`SystemRpcServer`].
pub struct System {
    chain: Arc<dyn ChainApi>,
    pool: Arc<Pool>,
    info: SystemInfo,
    network: Option<Arc<dyn NetworkRpcApi>>,
    unsafe_allowed: bool,
}

impl System {
    /// Serves `info`, nonces from `chain` and `pool`.
    pub fn new(chain: Arc<dyn ChainApi>, pool: Arc<Pool>, info: SystemInfo) -> Self {
        Self { chain, pool, info, network: None, unsafe_allowed: true }
    }

    /// Whether unsafe methods (reserved-peer changes) may be called.
    pub fn with_unsafe(mut self, allowed: bool) -> Self {
        self.unsafe_allowed = allowed;
        self
    }

    fn check_unsafe(&self) -> RpcResult<()> {
        if self.unsafe_allowed {
            Ok(())
        } else {
            Err(RpcError::UnsafeCall)
        }
    }

    /// Answer the peer-to-peer methods from `network`.
    pub fn with_network(mut self, network: Option<Arc<dyn NetworkRpcApi>>) -> Self {
        self.network = network;
        self
    }

    fn network(&self) -> RpcResult<&Arc<dyn NetworkRpcApi>> {
        self.network
            .as_ref()
            .ok_or_else(|| RpcError::InvalidParams("this node runs without a network".into()))
    }
}

/// Parses an SS58 address (any prefix) or a `0x` hex public key.
pub(crate) fn parse_account(account: &str) -> RpcResult<AccountId32> {
    if let Some(hex_key) = account.strip_prefix("0x") {
        let bytes = hex::decode(hex_key)
            .map_err(|e| RpcError::InvalidParams(format!("invalid account {account:?}: {e}")))?;
        let raw: [u8; 32] = bytes.try_into().map_err(|_| {
            RpcError::InvalidParams(format!("invalid account {account:?}: not 32 bytes"))
        })?;
        return Ok(AccountId32::new(raw));
    }
    AccountId32::from_ss58check(account)
        .map_err(|e| RpcError::InvalidParams(format!("invalid account {account:?}: {e:?}")))
}

#[async_trait]
impl SystemRpcServer for System {
    fn system_name(&self) -> RpcResult<String> {
        Ok(self.info.name.clone())
    }

    fn system_version(&self) -> RpcResult<String> {
        Ok(self.info.version.clone())
    }

    fn system_chain(&self) -> RpcResult<String> {
        Ok(self.info.chain_name.clone())
    }

    fn system_chain_type(&self) -> RpcResult<ChainType> {
        Ok(self.info.chain_type.clone())
    }

    fn system_properties(&self) -> RpcResult<serde_json::Map<String, serde_json::Value>> {
        Ok(self.info.properties.clone())
    }

    fn system_health(&self) -> RpcResult<Health> {
        Ok(match &self.network {
            Some(network) => Health {
                peers: network.peer_count(),
                is_syncing: network.is_major_syncing(),
                should_have_peers: network.should_have_peers(),
            },
            None => Health { peers: 0, is_syncing: false, should_have_peers: false },
        })
    }

    fn system_local_peer_id(&self) -> RpcResult<String> {
        Ok(match &self.network {
            Some(network) => network.local_peer_id(),
            None => LOCAL_PEER_ID.to_owned(),
        })
    }

    fn system_local_listen_addresses(&self) -> RpcResult<Vec<String>> {
        Ok(self.network.as_ref().map(|n| n.listen_addresses()).unwrap_or_default())
    }

    fn system_peers(&self) -> RpcResult<Vec<serde_json::Value>> {
        let peers = self.network.as_ref().map(|n| n.peers()).unwrap_or_default();
        peers
            .into_iter()
            .map(|p| serde_json::to_value(p).map_err(|e| RpcError::Internal(e.to_string())))
            .collect()
    }

    fn system_node_roles(&self) -> RpcResult<Vec<String>> {
        Ok(match &self.network {
            Some(network) => network.roles(),
            None => vec!["Authority".to_owned()],
        })
    }

    fn system_network_state(&self) -> RpcResult<serde_json::Value> {
        Ok(self.network()?.network_state())
    }

    fn system_add_reserved_peer(&self, address: String) -> RpcResult<()> {
        self.check_unsafe()?;
        self.network()?.add_reserved_peer(&address).map_err(RpcError::InvalidParams)
    }

    fn system_remove_reserved_peer(&self, peer_id: String) -> RpcResult<()> {
        self.check_unsafe()?;
        self.network()?.remove_reserved_peer(&peer_id).map_err(RpcError::InvalidParams)
    }

    fn system_reserved_peers(&self) -> RpcResult<Vec<String>> {
        Ok(self.network.as_ref().map(|n| n.reserved_peers()).unwrap_or_default())
    }

    fn system_sync_state(&self) -> RpcResult<SyncState> {
        let best = self.chain.info().best_number;
        let (starting_block, highest) = match &self.network {
            Some(network) => network.sync_bounds(),
            None => (0, best),
        };
        Ok(SyncState { starting_block, current_block: best, highest_block: highest.max(best) })
    }

    fn system_account_next_index(&self, account: String) -> RpcResult<Nonce> {
        let account = parse_account(&account)?;
        let mut nonce: Nonce = call_decode(
            self.chain.as_ref(),
            None,
            "AccountNonceApi_account_nonce",
            &account.encode(),
        )?;
        // The runtime's nonce tag is SCALE `(AccountId, Nonce)`.
        while nonce < Nonce::MAX && self.pool.ready_provides(&(&account, nonce).encode()) {
            nonce = nonce.saturating_add(1);
        }
        Ok(nonce)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use crate::test_utils::*;
    use serde_json::json;
    use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};
    use subtensor_txpool::TransactionSource;

    #[tokio::test]
    async fn identity_and_health_shapes() {
        let h = harness();
        assert_eq!(h.ok("system_name", json!([])).await, json!("subtensor-rs"));
        assert_eq!(h.ok("system_version", json!([])).await, json!("0.1.0"));
        assert_eq!(h.ok("system_chain", json!([])).await, json!("Subtensor Dev"));
        assert_eq!(h.ok("system_chainType", json!([])).await, json!("Development"));
        assert_eq!(
            h.ok("system_properties", json!([])).await,
            json!({"ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO"})
        );
        assert_eq!(
            h.ok("system_health", json!([])).await,
            json!({"peers": 0, "isSyncing": false, "shouldHavePeers": false})
        );
        assert!(h.ok("system_localPeerId", json!([])).await.is_string());
        assert_eq!(h.ok("system_localListenAddresses", json!([])).await, json!([]));
        assert_eq!(h.ok("system_peers", json!([])).await, json!([]));
        assert_eq!(h.ok("system_nodeRoles", json!([])).await, json!(["Authority"]));
        h.chain.import(&[], &[]);
        assert_eq!(
            h.ok("system_syncState", json!([])).await,
            json!({"startingBlock": 0, "currentBlock": 1, "highestBlock": 1})
        );
        assert_eq!(
            serde_json::to_value(super::ChainType::Custom("x".into())).unwrap(),
            json!({"Custom": "x"})
        );
    }

    #[tokio::test]
    async fn account_next_index_counts_ready_pool_transactions() {
        let h = harness();
        let alice = account(1).to_ss58check_with_version(Ss58AddressFormat::custom(42));
        assert_eq!(h.ok("system_accountNextIndex", json!([alice])).await, json!(5));
        h.pool.submit(TransactionSource::External, &xt(1, 5, false)).unwrap();
        h.pool.submit(TransactionSource::External, &xt(1, 6, false)).unwrap();
        // A gap: nonce 8 waits in the future queue and does not count.
        h.pool.submit(TransactionSource::External, &xt(1, 8, false)).unwrap();
        assert_eq!(h.ok("system_accountNextIndex", json!([alice])).await, json!(7));
        assert_eq!(h.ok("account_nextIndex", json!([alice])).await, json!(7));
        let hex_key = hex0x(&<[u8; 32]>::from(account(1)));
        assert_eq!(h.ok("account_nextIndex", json!([hex_key])).await, json!(7));
        let bob = account(2).to_ss58check_with_version(Ss58AddressFormat::custom(42));
        assert_eq!(h.ok("account_nextIndex", json!([bob])).await, json!(0));
        assert_eq!(h.err("account_nextIndex", json!(["5notAnAddress"])).await.code(), -32602);
    }
}

#[cfg(test)]
mod unsafe_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::test_utils::*;

    #[test]
    fn unsafe_methods_are_refused_on_a_safe_node() {
        let h = harness();
        let safe = System::new(h.chain.clone(), h.pool.clone(), system_info()).with_unsafe(false);
        let err = safe.system_add_reserved_peer("/ip4/127.0.0.1/tcp/1".into()).unwrap_err();
        assert!(matches!(err, RpcError::UnsafeCall));
        assert!(matches!(
            safe.system_remove_reserved_peer("12D3KooW".into()).unwrap_err(),
            RpcError::UnsafeCall
        ));
        let object = jsonrpsee::types::ErrorObjectOwned::from(RpcError::UnsafeCall);
        assert_eq!(object.code(), jsonrpsee::types::error::METHOD_NOT_FOUND_CODE);
        // Allowed, the call reaches the (absent) network.
        let open = System::new(h.chain.clone(), h.pool.clone(), system_info());
        assert!(matches!(
            open.system_add_reserved_peer("/ip4/127.0.0.1/tcp/1".into()).unwrap_err(),
            RpcError::InvalidParams(_)
        ));
    }
}
