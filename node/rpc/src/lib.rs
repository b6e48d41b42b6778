//! # JSON-RPC server of the subtensor node
//!
//! Serves Substrate's legacy JSON-RPC API, the one py-substrate-interface,
//! async-substrate-interface, polkadot.js and subxt speak, plus the subtensor custom methods,
//! over HTTP and WebSocket on one port (jsonrpsee).
//!
//! One file per namespace, each with one `#[rpc(server)]` trait and its implementation:
//! [`chain`] (`chain_*`), [`state`] (`state_*`), [`author`] (`author_*`), [`system`]
//! (`system_*`, `account_nextIndex`), [`payment`] (`payment_queryInfo`) and [`subtensor`]
//! (`neuronInfo_*`, `subnetInfo_*`, `subtensor_getMetagraph` and `subtensor_getGridSpec`, whose
//! JSON is in [`metagraph`]).
//! [`rpc_module`] merges them with every alias clients use and adds `rpc_methods`, which lists
//! exactly the registered names; [`start_server`] serves a module.
//!
//! The server reads the chain only through [`subtensor_chain::ChainApi`] and submits to the
//! [`subtensor_txpool::Pool`]; it owns no state besides subscriptions. Errors are
//! [`RpcError`], converted to JSON-RPC error objects here only (codes in [`error`]).

pub mod author;
pub mod chain;
mod common;
pub mod error;
pub mod grandpa;
pub mod metagraph;
mod metrics;
pub mod node_api;
pub mod payment;
pub mod state;
pub mod subtensor;
pub mod system;

#[cfg(test)]
mod test_utils;

pub use author::{Author, AuthorRpcServer};
pub use chain::{Chain, ChainRpcServer};
pub use error::{RpcError, RpcResult};
pub use grandpa::{Grandpa, GrandpaRpcServer};
pub use metagraph::{Grid, Metagraph};
pub use metrics::RpcMetrics;
pub use node_api::{GrandpaRpcApi, NetworkRpcApi, PeerInfo};
pub use payment::{Payment, PaymentRpcServer};
pub use state::{State, StateRpcServer};
pub use subtensor::{Subtensor, SubtensorRpcServer};
pub use system::{ChainType, System, SystemInfo, SystemRpcServer};

use jsonrpsee::{
    server::{RandomStringIdProvider, Server, ServerConfig, ServerHandle},
    RpcModule,
};
use serde::{Deserialize, Serialize};
use std::{net::SocketAddr, sync::Arc};
use subtensor_chain::ChainApi;
use subtensor_txpool::Pool;

/// Largest request body (and response body) the server accepts: Substrate's 15 MiB default.
pub const MAX_BODY_BYTES: u32 = 15 * 1024 * 1024;

/// Most subscriptions one connection may hold (Substrate's default).
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: u32 = 1024;

/// What the RPC methods need.
#[derive(Clone)]
pub struct RpcDeps {
    /// The chain.
    pub chain: Arc<dyn ChainApi>,
    /// The transaction pool.
    pub pool: Arc<Pool>,
    /// What `system_*` reports.
    pub system: SystemInfo,
    /// The peer-to-peer network, if the node runs one.
    pub network: Option<Arc<dyn NetworkRpcApi>>,
    /// The finality gadget, if the node runs one (`grandpa_*` methods).
    pub grandpa: Option<Arc<dyn GrandpaRpcApi>>,
    /// Whether unsafe methods (`system_addReservedPeer`, `system_removeReservedPeer`) may be
    /// called.
    pub unsafe_methods: bool,
}

/// The result of `rpc_methods`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcMethods {
    /// Always 1.
    pub version: u32,
    /// Every registered method name, aliases and (un)subscribe names included, sorted.
    pub methods: Vec<String>,
}

/// All namespaces merged, every alias registered, plus `rpc_methods` listing exactly
/// `module.method_names()` (itself included).
pub fn rpc_module(deps: RpcDeps) -> RpcResult<RpcModule<()>> {
    let RpcDeps { chain, pool, system, network, grandpa, unsafe_methods } = deps;
    let mut module = RpcModule::new(());
    let register = |e: jsonrpsee::server::RegisterMethodError| RpcError::Server(e.to_string());
    module.merge(Chain::new(chain.clone()).into_rpc()).map_err(register)?;
    module.merge(State::new(chain.clone()).into_rpc()).map_err(register)?;
    module.merge(Author::new(pool.clone()).into_rpc()).map_err(register)?;
    module
        .merge(
            System::new(chain.clone(), pool, system)
                .with_network(network)
                .with_unsafe(unsafe_methods)
                .into_rpc(),
        )
        .map_err(register)?;
    if let Some(grandpa) = grandpa {
        module.merge(Grandpa::new(grandpa).into_rpc()).map_err(register)?;
    }
    module.merge(Payment::new(chain.clone()).into_rpc()).map_err(register)?;
    module.merge(Subtensor::new(chain).into_rpc()).map_err(register)?;

    let mut names: Vec<String> = module.method_names().map(str::to_owned).collect();
    names.push("rpc_methods".to_owned());
    names.sort();
    let methods = RpcMethods { version: 1, methods: names };
    module
        .register_method("rpc_methods", move |_, _, _| {
            Ok::<_, jsonrpsee::types::ErrorObjectOwned>(methods.clone())
        })
        .map_err(register)?;
    Ok(module)
}

/// Which browser origins may call the server over HTTP (CORS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cors {
    /// Any origin (`--rpc-cors all`, the dev default).
    Any,
    /// Only these origins (e.g. `http://localhost:3000`).
    List(Vec<String>),
}

/// A started server.
#[derive(Debug, Clone)]
pub struct RunningServer {
    /// Stops the server (`stop()`) or waits for it (`stopped()`).
    pub handle: ServerHandle,
    /// The address it listens on (useful when binding port 0).
    pub local_addr: SocketAddr,
}

/// Serves `module` on `addr`, HTTP and WebSocket on the same port, with at most
/// `max_connections` connections, [`MAX_BODY_BYTES`] request and response bodies,
/// [`MAX_SUBSCRIPTIONS_PER_CONNECTION`], random 16-character subscription ids (as Substrate)
/// and the given CORS policy; every call is counted in `metrics`.
pub async fn start_server(
    addr: SocketAddr,
    cors: Cors,
    max_connections: u32,
    module: RpcModule<()>,
    metrics: Arc<RpcMetrics>,
) -> RpcResult<RunningServer> {
    let config = ServerConfig::builder()
        .max_connections(max_connections)
        .max_request_body_size(MAX_BODY_BYTES)
        .max_response_body_size(MAX_BODY_BYTES)
        .max_subscriptions_per_connection(MAX_SUBSCRIPTIONS_PER_CONNECTION)
        .set_id_provider(RandomStringIdProvider::new(16))
        .build();
    let middleware = tower::ServiceBuilder::new().layer(cors_layer(&cors)?);
    let rpc_middleware = jsonrpsee::server::middleware::rpc::RpcServiceBuilder::new()
        .layer_fn(move |inner| metrics::Counting { inner, metrics: metrics.clone() });
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(middleware)
        .set_rpc_middleware(rpc_middleware)
        .build(addr)
        .await
        .map_err(|e| RpcError::Server(format!("cannot listen on {addr}: {e}")))?;
    let local_addr = server.local_addr().map_err(|e| RpcError::Server(e.to_string()))?;
    let handle = server.start(module);
    Ok(RunningServer { handle, local_addr })
}

fn cors_layer(cors: &Cors) -> RpcResult<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origin = match cors {
        Cors::Any => AllowOrigin::any(),
        Cors::List(origins) => {
            let values = origins
                .iter()
                .map(|o| {
                    http::HeaderValue::from_str(o)
                        .map_err(|_| RpcError::InvalidParams(format!("invalid CORS origin {o:?}")))
                })
                .collect::<RpcResult<Vec<_>>>()?;
            AllowOrigin::list(values)
        }
    };
    Ok(CorsLayer::new()
        .allow_methods([http::Method::POST])
        .allow_origin(origin)
        .allow_headers([http::header::CONTENT_TYPE]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::test_utils::*;
    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Every method and alias of the client reference table (§1.2), plus the subtensor ones.
    const EXPECTED: &[&str] = &[
        "rpc_methods",
        "system_name",
        "system_version",
        "system_chain",
        "system_chainType",
        "system_properties",
        "system_health",
        "system_localPeerId",
        "system_nodeRoles",
        "system_peers",
        "system_syncState",
        "system_localListenAddresses",
        "system_unstable_networkState",
        "system_networkState",
        "system_addReservedPeer",
        "system_removeReservedPeer",
        "system_reservedPeers",
        "system_accountNextIndex",
        "account_nextIndex",
        "chain_getBlockHash",
        "chain_getHead",
        "chain_getFinalizedHead",
        "chain_getFinalisedHead",
        "chain_getHeader",
        "chain_getBlock",
        "chain_subscribeNewHeads",
        "chain_subscribeNewHead",
        "subscribe_newHead",
        "chain_unsubscribeNewHeads",
        "chain_unsubscribeNewHead",
        "unsubscribe_newHead",
        "chain_subscribeFinalizedHeads",
        "chain_subscribeFinalisedHeads",
        "chain_unsubscribeFinalizedHeads",
        "chain_unsubscribeFinalisedHeads",
        "chain_subscribeAllHeads",
        "chain_unsubscribeAllHeads",
        "state_getRuntimeVersion",
        "chain_getRuntimeVersion",
        "state_subscribeRuntimeVersion",
        "chain_subscribeRuntimeVersion",
        "state_unsubscribeRuntimeVersion",
        "chain_unsubscribeRuntimeVersion",
        "state_getMetadata",
        "state_call",
        "state_callAt",
        "state_getStorage",
        "state_getStorageAt",
        "state_getStorageHash",
        "state_getStorageHashAt",
        "state_getStorageSize",
        "state_getStorageSizeAt",
        "state_getKeys",
        "state_getKeysPaged",
        "state_getKeysPagedAt",
        "state_queryStorageAt",
        "state_subscribeStorage",
        "state_unsubscribeStorage",
        "author_submitExtrinsic",
        "author_submitAndWatchExtrinsic",
        "author_unwatchExtrinsic",
        "author_pendingExtrinsics",
        "payment_queryInfo",
        "neuronInfo_getNeurons",
        "neuronInfo_getNeuron",
        "neuronInfo_getNeuronsLite",
        "neuronInfo_getNeuronLite",
        "subnetInfo_getSubnetInfo",
        "subnetInfo_getSubnetsInfo",
        "subnetInfo_getSubnetHyperparams",
        "subtensor_getMetagraph",
        "subtensor_getGridSpec",
    ];

    #[tokio::test]
    async fn rpc_methods_lists_exactly_the_registered_names() {
        let h = harness();
        let listed = h.ok("rpc_methods", json!([])).await;
        assert_eq!(listed["version"], json!(1));
        let listed: Vec<String> = serde_json::from_value(listed["methods"].clone()).unwrap();
        let mut registered: Vec<String> = h.module.method_names().map(str::to_owned).collect();
        registered.sort();
        assert_eq!(listed, registered);
        let mut expected: Vec<String> = EXPECTED.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(listed, expected);
        // No new-spec names: subxt would switch backends.
        assert!(!listed.iter().any(|m| m.starts_with("chainHead_") || m.starts_with("archive_")));
    }

    #[tokio::test]
    async fn unsubscribe_returns_true() {
        let h = harness();
        let (resp, _stream) = h
            .module
            .raw_json_request(
                r#"{"jsonrpc":"2.0","id":1,"method":"chain_subscribeNewHead","params":[]}"#,
                8,
            )
            .await
            .unwrap();
        let resp: serde_json::Value = serde_json::from_str(resp.get()).unwrap();
        let id = resp["result"].clone();
        assert!(id.is_string() || id.is_number());
        let request = json!({"jsonrpc": "2.0", "id": 2, "method": "chain_unsubscribeNewHead", "params": [id]});
        let (resp, _) = h.module.raw_json_request(&request.to_string(), 1).await.unwrap();
        let resp: serde_json::Value = serde_json::from_str(resp.get()).unwrap();
        assert_eq!(resp["result"], json!(true));
    }

    async fn http_post(addr: SocketAddr, body: &str, origin: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        // The server may answer (413) and close before a too-large body is written.
        let _ = stream.write_all(request.as_bytes()).await;
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response).await;
        String::from_utf8_lossy(&response).into_owned()
    }

    /// Sends one masked text frame (zero mask key) on a WebSocket.
    async fn ws_send(stream: &mut tokio::net::TcpStream, text: &str) {
        let mut frame = vec![0x81u8];
        let len = text.len();
        if len < 126 {
            frame.push(0x80 | len as u8);
        } else {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        frame.extend_from_slice(&[0, 0, 0, 0]);
        frame.extend_from_slice(text.as_bytes());
        stream.write_all(&frame).await.unwrap();
    }

    /// Reads one unmasked text frame from a WebSocket.
    async fn ws_recv(stream: &mut tokio::net::TcpStream) -> serde_json::Value {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).await.unwrap();
        let len = match head[1] & 0x7f {
            126 => {
                let mut ext = [0u8; 2];
                stream.read_exact(&mut ext).await.unwrap();
                usize::from(u16::from_be_bytes(ext))
            }
            127 => {
                let mut ext = [0u8; 8];
                stream.read_exact(&mut ext).await.unwrap();
                u64::from_be_bytes(ext) as usize
            }
            n => usize::from(n),
        };
        let mut payload = vec![0u8; len];
        stream.read_exact(&mut payload).await.unwrap();
        serde_json::from_slice(&payload).unwrap()
    }

    #[tokio::test]
    async fn websocket_on_the_same_port_with_random_string_subscription_ids() {
        let h = harness();
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = start_server(addr, Cors::Any, 8, h.module, Default::default()).await.unwrap();
        let mut stream = tokio::net::TcpStream::connect(server.local_addr).await.unwrap();
        let handshake = format!(
            "GET / HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            server.local_addr
        );
        stream.write_all(handshake.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        while !response.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await.unwrap();
            response.push(byte[0]);
        }
        assert!(response.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&response));

        ws_send(
            &mut stream,
            r#"{"jsonrpc":"2.0","id":1,"method":"chain_subscribeNewHead","params":[]}"#,
        )
        .await;
        let reply = ws_recv(&mut stream).await;
        let id = reply["result"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 16);
        let first = ws_recv(&mut stream).await;
        assert_eq!(first["method"], json!("chain_newHead"));
        assert_eq!(first["params"]["subscription"], json!(id));
        assert_eq!(first["params"]["result"]["number"], json!("0x0"));
        h.chain.import(&[], &[]);
        let second = ws_recv(&mut stream).await;
        assert_eq!(second["params"]["result"]["number"], json!("0x1"));
        server.handle.stop().unwrap();
    }

    #[tokio::test]
    async fn server_answers_http_with_cors_and_body_limit() {
        let h = harness();
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = start_server(addr, Cors::Any, 8, h.module, Default::default()).await.unwrap();
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"system_chain","params":[]}"#;
        let response = http_post(server.local_addr, body, "http://example.com").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(
            response.to_ascii_lowercase().contains("access-control-allow-origin: *"),
            "{response}"
        );
        assert!(response.contains(r#""result":"Subtensor Dev""#), "{response}");
        // Over the body limit: refused.
        let big = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"system_chain","params":["{}"]}}"#,
            "a".repeat(MAX_BODY_BYTES as usize)
        );
        let response = http_post(server.local_addr, &big, "http://example.com").await;
        assert!(response.starts_with("HTTP/1.1 413"), "{}", &response[..response.len().min(200)]);
        server.handle.stop().unwrap();
        server.handle.stopped().await;

        let h = harness();
        let cors = Cors::List(vec!["http://localhost:3000".into()]);
        let server = start_server(addr, cors, 8, h.module, Default::default()).await.unwrap();
        let response = http_post(server.local_addr, body, "http://localhost:3000").await;
        assert!(
            response
                .to_ascii_lowercase()
                .contains("access-control-allow-origin: http://localhost:3000"),
            "{response}"
        );
        let response = http_post(server.local_addr, body, "http://evil.example").await;
        assert!(
            !response.to_ascii_lowercase().contains("access-control-allow-origin"),
            "{response}"
        );
        server.handle.stop().unwrap();
    }
}
