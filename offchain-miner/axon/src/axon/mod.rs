//! The axon: an axum server answering `POST /{SynapseName}` for the synapses attached to it.
//!
//! Every request goes through the same pipeline (`pipeline.rs`), in this order:
//! 1. unknown synapse → 404;
//! 2. missing or empty `bt_header_dendrite_signature` → 401 (10.2.0 skipped verification here);
//! 3. identity headers parsed (nonce, hotkeys, uuid, `computed_body_hash`, timeout) → 400;
//! 4. signature verified against the header values → 401, and the request must name this
//!    axon's hotkey → 401;
//! 5. nonce freshness (the timestamp rule, stateless: `now − nonce_back − timeout < nonce <
//!    now + nonce_ahead`) → 401;
//! 6. [`Blacklist`] hook on the *verified* hotkey → 403;
//! 7. under the [`NonceCache`]'s lock: replay check → 401, the hotkey's nonce quota → 429 and
//!    the cache's capacity → 503, then the per-hotkey rate and in-flight limits → 429, and only
//!    when all of these passed is the nonce recorded. So a request refused by the blacklist or
//!    a limit leaves no entry (nor any rate-limit state, for a blacklisted one), forged
//!    requests never reach the cache, and a replay costs the real key holder no rate tokens.
//!    The cache never evicts a live entry; see [`NonceCache`] for its bounds;
//! 8. under a deadline of the request's `timeout` (capped, counted from arrival):
//!    a. the global admission gate ([`AxonConfig::max_concurrent`] requests at once, across all
//!    callers): when full, the request waits in a queue ordered by the caller's
//!    [`Priority`] (FIFO among equals); a full queue → 503; the deadline passing while it
//!    waits → 408, and its handler never runs. Waiting requests count against the caller's
//!    in-flight limit (step 7), so one hotkey cannot fill the queue;
//!    b. body read with a size limit → 413, JSON parse → 400, body hash recomputed and
//!    compared → 400, synapse validation → 422, handler (which receives the verified
//!    [`Caller`], never the body's claimed identity) → 408 when the deadline passes, 500 on
//!    handler failure.
//!
//! [`MetagraphPolicy`] is a [`Blacklist`] and a [`Priority`] fed from the subnet's metagraph
//! (registered callers only, optional permit and stake rules, stake-ordered admission); plug it
//! in with [`Axon::metagraph_policy`].
//!
//! Responses carry the `bt_header_axon_*` / `bt_header_dendrite_*` headers and
//! `computed_body_hash`, and are signed by the axon's hotkey ([`crate::wire::response_message`]).

mod limits;
mod nonce;
mod pipeline;
mod policy;
mod priority;

pub use limits::{InFlightGuard, LimitConfig, Limits};
pub use nonce::{Freshness, NonceCache};
pub use policy::{Member, MetagraphPolicy};
pub use priority::{EqualPriority, Priority};

use crate::{synapse::Synapse, wire::VERSION, AxonError, Result};
use axum::{routing::post, Router};
use parking_lot::Mutex;
use sp_core::crypto::AccountId32;
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use subtensor_wallet::Keypair;
use tokio::net::TcpListener;

/// Decides whether a verified hotkey may be served (false → 403).
pub trait Blacklist: Send + Sync {
    /// Whether `hotkey` may be served.
    fn allowed(&self, hotkey: &AccountId32) -> bool;
}

impl<F: Fn(&AccountId32) -> bool + Send + Sync> Blacklist for F {
    fn allowed(&self, hotkey: &AccountId32) -> bool {
        self(hotkey)
    }
}

/// A [`Blacklist`] that allows everyone.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl Blacklist for AllowAll {
    fn allowed(&self, _hotkey: &AccountId32) -> bool {
        true
    }
}

/// Axon settings.
#[derive(Clone, Debug)]
pub struct AxonConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Deadline used when a request sends no `timeout` header.
    pub default_timeout: Duration,
    /// Cap on the deadline a request may ask for (and on the nonce window it widens).
    pub max_timeout: Duration,
    /// How old a nonce may be, on top of the request's timeout (Python: 4 s).
    pub nonce_back: Duration,
    /// How far in the future a nonce may be (clock skew).
    pub nonce_ahead: Duration,
    /// Most live entries in the nonce cache (all hotkeys together).
    pub nonce_capacity: usize,
    /// Most live entries of one hotkey in the nonce cache; beyond that its requests get 429
    /// until its own entries expire (`nonce_back + max_timeout` after their nonce). The rate
    /// limit already bounds this at about `burst + rate_per_sec · (nonce_back + max_timeout)`
    /// (6,600 with the defaults); raise this with the rate limit.
    pub nonce_per_hotkey: usize,
    /// Per-hotkey rate and concurrency limits.
    pub limits: LimitConfig,
    /// Requests handled at once across all callers; more wait, ordered by [`Priority`].
    pub max_concurrent: usize,
    /// Requests that may wait for a slot; beyond that the lowest priority is refused (503).
    pub max_queued: usize,
    /// IP reported in `bt_header_axon_ip` (the external address), if any.
    pub external_ip: Option<IpAddr>,
    /// Port reported in `bt_header_axon_port`, if any.
    pub external_port: Option<u16>,
}

impl Default for AxonConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 4 * 1024 * 1024,
            default_timeout: Duration::from_secs(12),
            max_timeout: Duration::from_secs(60),
            nonce_back: Duration::from_secs(4),
            nonce_ahead: Duration::from_secs(2),
            nonce_capacity: 1 << 20,
            nonce_per_hotkey: 8192,
            limits: LimitConfig::default(),
            max_concurrent: 64,
            max_queued: 1024,
            external_ip: None,
            external_port: None,
        }
    }
}

/// The verified identity of a request, handed to handlers.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The dendrite's hotkey, whose signature verified.
    pub hotkey: AccountId32,
    /// The same hotkey in SS58.
    pub hotkey_ss58: String,
    /// The TCP peer address, when known.
    pub peer: Option<SocketAddr>,
    /// The request nonce (Unix ns).
    pub nonce: u64,
    /// The dendrite's uuid.
    pub uuid: String,
    /// The dendrite's announced (unsigned) version.
    pub version: Option<u64>,
    /// The server-side deadline applied to this request, counted from its arrival.
    pub deadline: Duration,
    /// When that deadline passes: the axon answers 408 then, so work past it is wasted.
    pub expires_at: std::time::Instant,
}

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The type-erased handler of one synapse: JSON body in, JSON object and body hash out.
pub(crate) trait Route: Send + Sync {
    fn call(
        &self,
        caller: Caller,
        body: bytes::Bytes,
        header_hash: String,
    ) -> BoxFuture<Result<(serde_json::Map<String, serde_json::Value>, String)>>;
}

struct TypedRoute<S, F> {
    f: Arc<F>,
    _s: PhantomData<fn() -> S>,
}

impl<S, F, Fut> Route for TypedRoute<S, F>
where
    S: Synapse,
    F: Fn(Caller, S) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<S, String>> + Send + 'static,
{
    fn call(
        &self,
        caller: Caller,
        body: bytes::Bytes,
        header_hash: String,
    ) -> BoxFuture<Result<(serde_json::Map<String, serde_json::Value>, String)>> {
        let f = self.f.clone();
        Box::pin(async move {
            let synapse: S =
                serde_json::from_slice(&body).map_err(|e| AxonError::BadJson(e.to_string()))?;
            let computed = synapse.body_hash();
            if computed != header_hash {
                return Err(AxonError::BodyHashMismatch { header: header_hash, computed });
            }
            synapse.validate_request()?;
            let out = f(caller, synapse).await.map_err(AxonError::Handler)?;
            out.validate_response().map_err(|e| {
                AxonError::Handler(format!("handler produced an invalid response: {e}"))
            })?;
            let hash = out.body_hash();
            match serde_json::to_value(&out) {
                Ok(serde_json::Value::Object(map)) => Ok((map, hash)),
                Ok(_) => Err(AxonError::Handler("synapse is not a JSON object".to_owned())),
                Err(e) => Err(AxonError::Handler(e.to_string())),
            }
        })
    }
}

/// Shared server state.
pub(crate) struct Shared {
    pub(crate) keypair: Keypair,
    pub(crate) hotkey_ss58: String,
    pub(crate) uuid: String,
    pub(crate) config: AxonConfig,
    pub(crate) routes: HashMap<&'static str, Arc<dyn Route>>,
    pub(crate) blacklist: Arc<dyn Blacklist>,
    pub(crate) priority: Arc<dyn Priority>,
    pub(crate) gate: priority::PriorityGate,
    pub(crate) freshness: Freshness,
    pub(crate) nonces: Arc<Mutex<NonceCache>>,
    pub(crate) limits: Limits,
}

/// An axon under construction: keys, settings, blacklist, priority and synapse handlers.
pub struct Axon {
    keypair: Keypair,
    config: AxonConfig,
    routes: HashMap<&'static str, Arc<dyn Route>>,
    blacklist: Arc<dyn Blacklist>,
    priority: Arc<dyn Priority>,
    nonces: NonceCacheHandle,
}

/// A shared, read-only view of a running axon's replay cache (for metrics and tests).
#[derive(Clone)]
pub struct NonceCacheHandle(Arc<Mutex<NonceCache>>);

impl NonceCacheHandle {
    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.0.lock().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.0.lock().is_empty()
    }

    /// Number of live entries of `hotkey` (SS58).
    pub fn len_for(&self, hotkey: &str) -> usize {
        self.0.lock().len_for(hotkey)
    }

    /// The hotkeys (SS58) holding live entries, in no particular order.
    pub fn hotkeys(&self) -> Vec<String> {
        self.0.lock().hotkeys().map(str::to_owned).collect()
    }
}

impl std::fmt::Debug for NonceCacheHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceCacheHandle").field("len", &self.len()).finish()
    }
}

/// A random uuid (version 4) in the usual 8-4-4-4-12 form.
pub fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

impl Axon {
    /// An axon signing with `keypair` (its hotkey), allowing every hotkey at equal priority,
    /// serving nothing yet.
    pub fn new(keypair: Keypair, config: AxonConfig) -> Self {
        let c = &config;
        let nonces = NonceCache::new(
            c.nonce_back,
            c.nonce_ahead,
            c.max_timeout,
            c.nonce_capacity,
            c.nonce_per_hotkey,
        );
        Self {
            keypair,
            config,
            routes: HashMap::new(),
            blacklist: Arc::new(AllowAll),
            priority: Arc::new(EqualPriority),
            nonces: NonceCacheHandle(Arc::new(Mutex::new(nonces))),
        }
    }

    /// A view of this axon's replay cache, valid once it serves (also via
    /// [`RunningAxon::nonce_cache`]).
    pub fn nonce_cache(&self) -> NonceCacheHandle {
        self.nonces.clone()
    }

    /// Replaces the blacklist hook.
    pub fn blacklist(mut self, blacklist: Arc<dyn Blacklist>) -> Self {
        self.blacklist = blacklist;
        self
    }

    /// Replaces the priority that orders requests waiting for a slot (see
    /// [`AxonConfig::max_concurrent`]).
    pub fn priority(mut self, priority: Arc<dyn Priority>) -> Self {
        self.priority = priority;
        self
    }

    /// Uses `policy` (a clone sharing its snapshot) as both blacklist and priority.
    pub fn metagraph_policy(self, policy: &MetagraphPolicy) -> Self {
        self.blacklist(Arc::new(policy.clone())).priority(Arc::new(policy.clone()))
    }

    /// Serves synapse `S` on `POST /{S::NAME}` with `handler`, which gets the verified caller
    /// and the validated request and returns the filled synapse (or an error text → 500).
    pub fn attach<S, F, Fut>(mut self, handler: F) -> Self
    where
        S: Synapse,
        F: Fn(Caller, S) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<S, String>> + Send + 'static,
    {
        let route: Arc<dyn Route> =
            Arc::new(TypedRoute { f: Arc::new(handler), _s: PhantomData::<fn() -> S> });
        self.routes.insert(S::NAME, route);
        self
    }

    /// The axum router (no socket), for serving or for `tower::ServiceExt::oneshot` tests.
    pub fn app(self) -> Router {
        let c = &self.config;
        let freshness = self.nonces.0.lock().freshness();
        let gate = priority::PriorityGate::new(c.max_concurrent, c.max_queued);
        let shared = Arc::new(Shared {
            hotkey_ss58: self.keypair.ss58(),
            keypair: self.keypair,
            uuid: new_uuid(),
            limits: Limits::new(self.config.limits),
            config: self.config,
            routes: self.routes,
            blacklist: self.blacklist,
            priority: self.priority,
            gate,
            freshness,
            nonces: self.nonces.0,
        });
        Router::new()
            .route("/{name}", post(pipeline::handle))
            .fallback(pipeline::not_found)
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(shared)
    }

    /// Serves on `listener` until `shutdown` resolves, then finishes in-flight requests.
    pub async fn serve<G>(self, listener: TcpListener, shutdown: G) -> Result<()>
    where
        G: Future<Output = ()> + Send + 'static,
    {
        let app = self.app().into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
        Ok(())
    }

    /// Binds `addr` and serves in a background task; the handle stops it gracefully.
    pub async fn spawn(self, addr: SocketAddr) -> Result<RunningAxon> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let nonces = self.nonce_cache();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(self.serve(listener, async move {
            let _ = rx.await;
        }));
        Ok(RunningAxon { addr: local, stop: Some(tx), task, nonces })
    }
}

/// A running axon started by [`Axon::spawn`].
#[derive(Debug)]
pub struct RunningAxon {
    /// The bound address.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<()>>,
    nonces: NonceCacheHandle,
}

impl RunningAxon {
    /// A view of the axon's replay cache.
    pub fn nonce_cache(&self) -> NonceCacheHandle {
        self.nonces.clone()
    }

    /// Stops accepting, waits for in-flight requests, and returns the server's result.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.map_err(|e| AxonError::Handler(e.to_string()))?
    }
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM: pass it to [`Axon::serve`].
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The version this axon announces.
pub const AXON_VERSION: u64 = VERSION;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TextCausalLMNext;
    use axum::body::Body;
    use http::{Request, StatusCode};
    use tower::ServiceExt;

    fn app() -> Router {
        Axon::new(Keypair::from_uri("//Bob").unwrap(), AxonConfig::default())
            .attach(|_c: Caller, s: TextCausalLMNext| async move { Ok(s) })
            .app()
    }

    async fn status(req: Request<Body>) -> StatusCode {
        app().oneshot(req).await.unwrap().status()
    }

    #[tokio::test]
    async fn routing_and_signature_presence_without_a_socket() {
        let post = |uri: &str| Request::post(uri).body(Body::from("{}")).unwrap();
        assert_eq!(status(post("/Nope")).await, StatusCode::NOT_FOUND);
        assert_eq!(status(post("/TextCausalLMNext")).await, StatusCode::UNAUTHORIZED);
        let signed_garbage = Request::post("/TextCausalLMNext")
            .header("bt_header_dendrite_signature", "0x00")
            .body(Body::from("{}"))
            .unwrap();
        // Signature present but identity headers missing: a clear 400.
        assert_eq!(status(signed_garbage).await, StatusCode::BAD_REQUEST);
    }
}
