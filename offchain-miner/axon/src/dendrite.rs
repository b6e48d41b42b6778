//! The dendrite: a hyper client that signs synapse requests, sends them to axons with a
//! per-call timeout (one at a time with [`Dendrite::call`] or concurrently with
//! [`Dendrite::fan_out`]), and checks the answers: status, JSON, body hash, and the axon's
//! response signature.
//!
//! Connections are pooled per axon (HTTP/1.1 keep-alive). IPv6 axons work: URLs are built
//! with brackets (`http://[::1]:8091/…`), unlike the Python dendrite.

use crate::{
    synapse::Synapse,
    wire::{self, TerminalInfo, AXON_PREFIX, DENDRITE_PREFIX},
    AxonError, Result,
};
use bytes::Bytes;
use http::{header::CONTENT_TYPE, HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtensor_wallet::Keypair;

/// Largest response body the dendrite reads.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// An axon to query: its socket address and its hotkey (SS58), as published on chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxonTarget {
    /// Where the axon listens.
    pub addr: SocketAddr,
    /// The axon's hotkey; requests are signed for it and responses must be signed by it.
    pub hotkey: String,
}

/// A successful, verified answer.
#[derive(Clone, Debug)]
pub struct Reply<S> {
    /// The synapse as filled by the axon.
    pub synapse: S,
    /// The axon's terminal info from the response headers.
    pub axon: TerminalInfo,
    /// Round-trip time.
    pub elapsed: Duration,
}

/// A signed request ready to send; tests may alter it to forge or replay requests.
#[derive(Clone, Debug)]
pub struct PreparedRequest {
    /// `http://{addr}/{SynapseName}`.
    pub uri: String,
    /// All headers, signature included.
    pub headers: HeaderMap,
    /// The JSON body.
    pub body: Bytes,
    /// The nonce that was signed.
    pub nonce: u64,
}

/// `now + timeout`, saturating far in the future instead of overflowing.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now.checked_add(Duration::from_secs(86_400 * 365)).unwrap_or(now))
}

/// A signing HTTP client for axons. Cheap to clone; clones share the connection pool.
#[derive(Clone, Debug)]
pub struct Dendrite {
    keypair: Arc<Keypair>,
    hotkey: String,
    uuid: String,
    client: Client<HttpConnector, Full<Bytes>>,
    last_nonce: Arc<AtomicU64>,
    external_ip: Option<String>,
    unsigned_responses: UnsignedResponses,
}

/// What the dendrite does with a `200` response that carries no `bt_header_axon_signature`.
///
/// Our axon signs every response ([`wire::response_message`]); the Python bittensor 10.x axon
/// signs none. The default refuses unsigned answers; a validator that queries Python miners
/// has to opt in to [`UnsignedResponses::Accept`], knowingly giving up response
/// authentication (anyone on the path can then forge the answer). A response that *does* carry
/// a signature is always verified, whatever the policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnsignedResponses {
    /// Unsigned responses fail with [`AxonError::BadSignature`].
    #[default]
    Reject,
    /// Unsigned responses are accepted (Python axons); hotkey and body hash are still checked.
    Accept,
}

impl Dendrite {
    /// A dendrite signing with `keypair` (its hotkey).
    pub fn new(keypair: Keypair) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(32)
            .build(connector);
        Self {
            hotkey: keypair.ss58(),
            keypair: Arc::new(keypair),
            uuid: crate::axon::new_uuid(),
            client,
            last_nonce: Arc::new(AtomicU64::new(0)),
            external_ip: None,
            unsigned_responses: UnsignedResponses::Reject,
        }
    }

    /// Sets the policy for unsigned responses (Python axons send none); see
    /// [`UnsignedResponses`].
    pub fn unsigned_responses(mut self, policy: UnsignedResponses) -> Self {
        self.unsigned_responses = policy;
        self
    }

    /// Sets the IP reported in `bt_header_dendrite_ip`.
    pub fn with_external_ip(mut self, ip: impl Into<String>) -> Self {
        self.external_ip = Some(ip.into());
        self
    }

    /// This dendrite's hotkey (SS58).
    pub fn hotkey(&self) -> &str {
        &self.hotkey
    }

    /// This dendrite's uuid (stable for its lifetime, part of every signed message).
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// A fresh nonce: Unix ns, strictly increasing across this dendrite's calls.
    fn next_nonce(&self) -> u64 {
        let now = wire::now_ns();
        let prev = self
            .last_nonce
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |p| {
                Some(now.max(p.saturating_add(1)))
            })
            .unwrap_or(now);
        now.max(prev.saturating_add(1))
    }

    /// Builds and signs the request for `synapse` to `target`.
    pub fn prepare<S: Synapse>(
        &self,
        target: &AxonTarget,
        synapse: &S,
        timeout: Duration,
    ) -> Result<PreparedRequest> {
        let nonce = self.next_nonce();
        let body_hash = synapse.body_hash();
        let msg =
            wire::request_message(nonce, &self.hotkey, &target.hotkey, &self.uuid, &body_hash);
        let signature = wire::sign(&self.keypair, &msg);
        let secs = timeout.as_secs_f64();
        let dendrite = TerminalInfo {
            ip: self.external_ip.clone(),
            version: Some(wire::VERSION),
            nonce: Some(nonce),
            uuid: Some(self.uuid.clone()),
            hotkey: Some(self.hotkey.clone()),
            signature: Some(signature),
            ..Default::default()
        };
        let axon = TerminalInfo {
            ip: Some(target.addr.ip().to_string()),
            port: Some(target.addr.port()),
            hotkey: Some(target.hotkey.clone()),
            ..Default::default()
        };
        let mut body = match serde_json::to_value(synapse) {
            Ok(Value::Object(map)) => map,
            _ => return Err(AxonError::Invalid("synapse is not a JSON object".to_owned())),
        };
        body.insert("name".into(), json!(S::NAME));
        body.insert("timeout".into(), json!(secs));
        body.insert("total_size".into(), json!(0));
        body.insert("header_size".into(), json!(0));
        body.insert("dendrite".into(), json!(dendrite));
        body.insert("axon".into(), json!(axon));
        body.insert("computed_body_hash".into(), json!(""));
        let body = serde_json::to_vec(&body).map_err(|e| AxonError::Invalid(e.to_string()))?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        wire::write_common_headers(&mut headers, S::NAME, secs, &body_hash);
        wire::write_input_obj_headers(&mut headers, S::REQUIRED_INPUT_DEFAULTS);
        dendrite.write_headers(DENDRITE_PREFIX, &mut headers);
        axon.write_headers(AXON_PREFIX, &mut headers);
        Ok(PreparedRequest {
            uri: format!("http://{}/{}", target.addr, S::NAME),
            headers,
            body: Bytes::from(body),
            nonce,
        })
    }

    /// Sends a prepared request and returns the status, headers and body (no checks).
    pub async fn send(&self, req: &PreparedRequest) -> Result<(StatusCode, HeaderMap, Bytes)> {
        let mut builder = Request::builder().method(Method::POST).uri(&req.uri);
        if let Some(h) = builder.headers_mut() {
            h.extend(req.headers.clone());
        }
        let request = builder
            .body(Full::new(req.body.clone()))
            .map_err(|e| AxonError::Invalid(e.to_string()))?;
        let resp =
            self.client.request(request).await.map_err(|e| AxonError::Connect(e.to_string()))?;
        let (parts, body) = resp.into_parts();
        let bytes = Limited::new(body, MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| AxonError::Connect(format!("reading response: {e}")))?
            .to_bytes();
        Ok((parts.status, parts.headers, bytes))
    }

    /// Queries one axon: signs, sends, waits at most `timeout`, verifies the answer.
    pub async fn call<S: Synapse>(
        &self,
        target: &AxonTarget,
        synapse: &S,
        timeout: Duration,
    ) -> Result<Reply<S>> {
        self.call_until(target, synapse, deadline_after(timeout)).await
    }

    /// Like [`Dendrite::call`] with an absolute deadline: signing, sending and reading all
    /// happen before `deadline`; the axon is told the time that remains.
    pub async fn call_until<S: Synapse>(
        &self,
        target: &AxonTarget,
        synapse: &S,
        deadline: Instant,
    ) -> Result<Reply<S>> {
        let started = Instant::now();
        let work = async {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let req = self.prepare(target, synapse, remaining)?;
            let (status, headers, body) = self.send(&req).await?;
            Ok::<_, AxonError>((req.nonce, status, headers, body))
        };
        let (nonce, status, headers, body) = tokio::time::timeout_at(deadline.into(), work)
            .await
            .map_err(|_| AxonError::Timeout)??;
        if status != StatusCode::OK {
            let message = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            return Err(AxonError::Status { code: status.as_u16(), message });
        }
        let out: S =
            serde_json::from_slice(&body).map_err(|e| AxonError::BadResponse(e.to_string()))?;
        let axon = TerminalInfo::from_headers(AXON_PREFIX, &headers)
            .map_err(|e| AxonError::BadResponse(e.to_string()))?;
        if axon.hotkey.as_deref() != Some(target.hotkey.as_str()) {
            return Err(AxonError::BadResponse("response from a different hotkey".to_owned()));
        }
        let hash = out.body_hash();
        if wire::read_body_hash(&headers).ok().flatten().as_deref() != Some(hash.as_str()) {
            return Err(AxonError::BadResponse("response body hash mismatch".to_owned()));
        }
        match (axon.signature.as_deref(), self.unsigned_responses) {
            (Some(signature), _) => {
                let msg = wire::response_message(
                    nonce,
                    &self.hotkey,
                    &target.hotkey,
                    &self.uuid,
                    200,
                    &hash,
                );
                wire::verify(&wire::parse_hotkey(&target.hotkey)?, &msg, signature)?;
            }
            (None, UnsignedResponses::Accept) => {}
            (None, UnsignedResponses::Reject) => return Err(AxonError::BadSignature),
        }
        out.validate_response().map_err(|e| AxonError::BadResponse(e.to_string()))?;
        Ok(Reply { synapse: out, axon, elapsed: started.elapsed() })
    }

    /// Queries every target concurrently under one deadline, `timeout` from now; results are
    /// in the order of `targets`. Returns by the deadline (plus scheduling slack) at the latest.
    pub async fn fan_out<S: Synapse>(
        &self,
        targets: &[AxonTarget],
        synapse: &S,
        timeout: Duration,
    ) -> Vec<Result<Reply<S>>> {
        let deadline = deadline_after(timeout);
        let mut set = tokio::task::JoinSet::new();
        for (i, target) in targets.iter().enumerate() {
            let (me, target, synapse) = (self.clone(), target.clone(), synapse.clone());
            set.spawn(async move { (i, me.call_until(&target, &synapse, deadline).await) });
        }
        let mut out: Vec<Option<Result<Reply<S>>>> = (0..targets.len()).map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            if let Ok((i, r)) = joined {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(r);
                }
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(AxonError::Handler("task failed".to_owned()))))
            .collect()
    }
}
