//! The gateway over real HTTP against real axons on loopback (test miners with artificial
//! latency), and the routing it does.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod api;
mod organic;
mod rank;
mod routing;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use serde_json::Value;
use std::{net::SocketAddr, sync::Arc, time::Duration};
use subtensor_axon::Dendrite;
use subtensor_gateway::{
    backend::{Miner, NetworkBackend, NetworkConfig, StaticDirectory, Subnet, SubnetKind},
    keys::{Auth, RateLimiter},
    latency::LatencyMap,
    rank::Reference,
    server::{router, AppState},
    test_utils::{key, spawn_miner, tokenizer, Behaviour, TestMiner},
};

/// The text every test miner answers.
pub const ANSWER: &str = " hello world, the quick brown fox jumps over the lazy dog.";

/// A gateway on loopback and its miners.
/// (fields: base URL, the miners, the latency map)
pub struct Gateway {
    pub url: String,
    pub miners: Vec<TestMiner>,
    pub map: LatencyMap,
}

/// Options of [`start`].
pub struct Opts {
    pub keys: Option<&'static str>,
    pub rate: f64,
    pub burst: f64,
    /// Each miner's answer (by position; [`ANSWER`] for those not given).
    pub answers: Vec<&'static str>,
    pub reference: Option<Reference>,
}

impl Default for Opts {
    fn default() -> Self {
        Self { keys: None, rate: 10_000.0, burst: 10_000.0, answers: Vec::new(), reference: None }
    }
}

/// Starts one test miner per `(latency, behaviour)` and a gateway over them (subnet 1).
pub async fn start(miners: &[(u64, Behaviour)], opts: Opts) -> Gateway {
    let tok = tokenizer();
    let mut running = Vec::new();
    for (i, (ms, b)) in miners.iter().enumerate() {
        let uri = format!("//Miner{i}");
        let answer = opts.answers.get(i).copied().unwrap_or(ANSWER);
        running.push(spawn_miner(&uri, &tok, answer, Duration::from_millis(*ms), *b).await);
    }
    let subnet = Subnet {
        netuid: 1,
        kind: SubnetKind::Seq2Seq,
        miners: running
            .iter()
            .enumerate()
            .map(|(i, m)| Miner { uid: i as u16, target: m.target.clone(), incentive: 0.0 })
            .collect(),
    };
    let map = LatencyMap::new();
    let config = NetworkConfig {
        timeout: Duration::from_secs(5),
        reference: opts.reference.clone(),
        ..NetworkConfig::default()
    };
    let backend = NetworkBackend::new(
        StaticDirectory::new(vec![subnet]),
        Dendrite::new(key("//Gateway")),
        Some(tok),
        None,
        map.clone(),
        config,
    );
    let auth = match opts.keys {
        Some(text) => Auth::Keys(subtensor_gateway::keys::parse_keys(text)),
        None => Auth::Open,
    };
    let limiter = RateLimiter::new(opts.rate, opts.burst).unwrap();
    let app = router(Arc::new(AppState { backend, auth, limiter }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .unwrap();
    });
    Gateway { url: format!("http://{addr}"), miners: running, map }
}

/// One HTTP request; the status and body.
pub async fn http(
    method: Method,
    url: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Bytes) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .build(hyper_util::client::legacy::connect::HttpConnector::new());
    let mut req = Request::builder().method(method).uri(url);
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let req = req.header("content-type", "application/json").body(Full::new(body)).unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, bytes)
}

/// POSTs JSON; the status and parsed body.
pub async fn post(url: &str, key: Option<&str>, body: Value) -> (StatusCode, Value) {
    let (status, bytes) = http(Method::POST, url, key, Some(body)).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The `data:` payloads of an SSE body.
pub fn sse(bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes).unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").expect(e).to_owned())
        .collect()
}
