//! Load generator for the axon benchmark (`scripts/bench-axon.sh`): the same client, synapses
//! and load against several axons in one run, then a table and the ratios first/second target.
//!
//! ```text
//! bench_load --target ours=127.0.0.1:18091 --target python=127.0.0.1:18092
//!     [--axon-hotkey SS58 (default //Bob's)] [--uri //Alice] [--synapses dummy,text]
//!     [--modes closed,open] [--duration 10] [--concurrency 16] [--rate 1000,20] [--warmup 2]
//!     [--threads 1] [--sign-threads N] [--timeout 30] [--max-in-flight 256]
//!     [--request-timeout 10] [--json results.json]
//! ```
//!
//! Requests are built like our dendrite builds them (`Dendrite::prepare`: headers, body, the
//! vestigial `bt_header_input_obj_*` headers a Python axon needs) and really signed by the
//! `--uri` hotkey, with a fresh nonce (Unix ns, strictly increasing) and a fresh uuid per
//! request. Both axons accept that: ours keys its replay cache on `(hotkey:uuid, nonce)`, and a
//! Python axon checks a first-seen `hotkey:uuid` only for freshness (`nonce > now − 4 s −
//! timeout`), so requests may arrive in any order over any connection. To keep signing out of
//! the timed loop, each timed run draws from a pool signed just before it (sized from the
//! warm-up rate); the request `timeout` header (`--timeout`, default 30 s) widens both axons'
//! freshness window to `4 s + timeout`, and a pooled request older than that minus 5 s, or one
//! beyond the pool, is signed on the spot instead (reported as `live-signed`).
//!
//! Modes, per target and synapse:
//! * `closed`: `--concurrency` workers, each with its own keep-alive connection, send back to
//!   back for `--duration` seconds (after `--warmup` seconds of the same, untimed). Reports
//!   successful requests per second and the latency from send to the last response byte.
//! * `open`: for each of the `--rate` values (requests per second; the default adds 20/s, a
//!   rate the Python axon sustains, to compare latencies at equal load), `--duration` seconds
//!   of requests, each sent at its scheduled time from a timer thread over a shared connection
//!   pool (at most `--max-in-flight` at once; more wait for a slot), whatever the earlier ones
//!   are doing. Latency is measured from the *scheduled* send
//!   time, so a stalled server is charged for the queue it causes (no coordinated omission).
//!   A request not answered `--request-timeout` seconds after its scheduled time fails (one
//!   that got no slot by then is not sent; one sent keeps its slot until answered, so an
//!   overloaded server never holds more than `--max-in-flight` of ours). After
//!   each run the generator waits until the server answers a fresh request within a second,
//!   so an overloaded server's backlog does not leak into the next run.
//!
//! Percentiles count a failed request as infinitely slow (shown as `fail`). Every response is
//! checked: status 200; `Dummy` by parsing it (`dummy_output == 2 · dummy_input`); the k = 4096
//! `TextCausalLMNext` answer fully (decode, phrases, body hash) once per target before the
//! warm-up, then by its `computed_body_hash` header and size.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::arithmetic_side_effects)]

use bytes::Bytes;
use http::{header::CONTENT_TYPE, HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtensor_axon::{
    axon::new_uuid,
    wire::{self, TerminalInfo, AXON_PREFIX, DENDRITE_PREFIX},
    Synapse, TextCausalLMNext,
};
use subtensor_wallet::Keypair;

/// `k` of the TextCausalLMNext case; the servers answer it with a prebuilt answer.
const TOPK: u32 = 4096;
/// The request's tokens (GPT-2: "The quick brown fox jumps over the lazy dog."); the servers'
/// prebuilt answer continues from the last one, 13.
const TOKENS: [u32; 10] = [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13];
/// A pooled request is re-signed when it is this close to leaving the freshness window.
const STALE_MARGIN: Duration = Duration::from_secs(5);
/// Python axons only check nonces against `now − 4 s − timeout`.
const NONCE_BACK: Duration = Duration::from_secs(4);
/// Longest an open-loop request waits for its answer once sent.
const SEND_LIMIT: Duration = Duration::from_secs(60);
/// Longest wait for an overloaded server to work off its backlog between runs.
const DRAIN_LIMIT: Duration = Duration::from_secs(180);

#[path = "common/dummy.rs"]
mod dummy;
use dummy::Dummy;

/// Which synapse a case sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Dummy,
    Text,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Dummy => Dummy::NAME,
            Kind::Text => TextCausalLMNext::NAME,
        }
    }
}

/// How a case applies load.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Closed,
    /// Open loop at this many requests per second.
    Open(f64),
}

impl Mode {
    fn label(self, concurrency: usize) -> String {
        match self {
            Mode::Closed => format!("closed c={concurrency}"),
            Mode::Open(rate) => format!("open {rate}/s"),
        }
    }
}

/// The parsed command line.
#[derive(Clone, Debug)]
struct Opts {
    targets: Vec<(String, SocketAddr)>,
    axon_hotkey: String,
    uri: String,
    kinds: Vec<Kind>,
    modes: Vec<Mode>,
    duration: Duration,
    concurrency: usize,
    warmup: Duration,
    threads: usize,
    sign_threads: usize,
    timeout: f64,
    max_in_flight: usize,
    request_timeout: Duration,
    json: Option<String>,
}

fn parse_opts() -> Result<Opts, String> {
    let mut it = std::env::args().skip(1);
    let mut targets = Vec::new();
    let mut f: HashMap<String, String> = HashMap::new();
    while let Some(a) = it.next() {
        let name = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument {a}"))?;
        let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
        if name == "target" {
            let (n, addr) = v.split_once('=').ok_or("--target wants NAME=IP:PORT")?;
            let addr = addr.parse().map_err(|e| format!("bad --target address {addr}: {e}"))?;
            targets.push((n.to_owned(), addr));
        } else {
            f.insert(name.to_owned(), v);
        }
    }
    if targets.is_empty() {
        return Err("give at least one --target NAME=IP:PORT".to_owned());
    }
    let get = |n: &str, d: &str| f.get(n).cloned().unwrap_or_else(|| d.to_owned());
    fn num<T: std::str::FromStr>(v: String, n: &str) -> Result<T, String> {
        v.parse().map_err(|_| format!("bad --{n}: {v}"))
    }
    let secs = |n: &str, d: &str| -> Result<Duration, String> {
        let v: f64 = num(get(n, d), n)?;
        Duration::try_from_secs_f64(v).map_err(|_| format!("bad --{n}: {v}"))
    };
    let axon_hotkey = match f.get("axon-hotkey") {
        Some(h) => h.clone(),
        None => Keypair::from_uri("//Bob").map_err(|e| e.to_string())?.ss58(),
    };
    let kinds = get("synapses", "dummy,text")
        .split(',')
        .map(|s| match s {
            "dummy" => Ok(Kind::Dummy),
            "text" => Ok(Kind::Text),
            other => Err(format!("unknown synapse {other} (dummy, text)")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rates = get("rate", "1000,20")
        .split(',')
        .map(|r| match r.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
            _ => Err(format!("bad --rate {r}")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut modes = Vec::new();
    for m in get("modes", "closed,open").split(',') {
        match m {
            "closed" => modes.push(Mode::Closed),
            "open" => modes.extend(rates.iter().map(|&r| Mode::Open(r))),
            other => return Err(format!("unknown mode {other} (closed, open)")),
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let opts = Opts {
        targets,
        axon_hotkey,
        uri: get("uri", "//Alice"),
        kinds,
        modes,
        duration: secs("duration", "10")?,
        concurrency: num(get("concurrency", "16"), "concurrency")?,
        warmup: secs("warmup", "2")?,
        threads: num(get("threads", "1"), "threads")?,
        sign_threads: num(get("sign-threads", &cores.to_string()), "sign-threads")?,
        timeout: num(get("timeout", "30"), "timeout")?,
        max_in_flight: num(get("max-in-flight", "256"), "max-in-flight")?,
        request_timeout: secs("request-timeout", "10")?,
        json: f.get("json").cloned(),
    };
    if opts.concurrency == 0 || opts.threads == 0 || opts.sign_threads == 0 {
        return Err("--concurrency, --threads and --sign-threads must be positive".to_owned());
    }
    if opts.max_in_flight == 0 {
        return Err("--max-in-flight must be positive".to_owned());
    }
    if !(opts.timeout.is_finite() && opts.timeout > 10.0 && opts.timeout <= 60.0) {
        return Err("--timeout must be in (10, 60] seconds (our axon caps it at 60)".to_owned());
    }
    Ok(opts)
}

/// The crypto of one request, done ahead of time: nonce, uuid, body hash and signature.
#[derive(Clone, Debug)]
struct Signed {
    nonce: u64,
    uuid: String,
    body_hash: String,
    signature: String,
    input: i64,
}

/// The signing side of the load generator: the dendrite's key and what it signs for.
struct Signer {
    keypair: Keypair,
    hotkey: String,
    axon_hotkey: String,
    last_nonce: AtomicU64,
    next_input: AtomicU64,
    /// Body hash of the TextCausalLMNext request (constant: its outputs are empty).
    text_hash: String,
}

impl Signer {
    /// A fresh nonce: Unix ns, strictly increasing over the whole run.
    fn nonce(&self) -> u64 {
        let now = wire::now_ns();
        let prev = self
            .last_nonce
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |p| {
                Some(now.max(p.saturating_add(1)))
            })
            .unwrap_or(now);
        now.max(prev.saturating_add(1))
    }

    fn sign(&self, kind: Kind) -> Signed {
        let input = i64::try_from(self.next_input.fetch_add(1, Ordering::Relaxed) % (1 << 40))
            .unwrap_or_default();
        let body_hash = match kind {
            Kind::Dummy => wire::body_hash_of([input.to_string()]),
            Kind::Text => self.text_hash.clone(),
        };
        let uuid = new_uuid();
        let nonce = self.nonce();
        let msg = wire::request_message(nonce, &self.hotkey, &self.axon_hotkey, &uuid, &body_hash);
        let signature = wire::sign(&self.keypair, &msg);
        Signed { nonce, uuid, body_hash, signature, input }
    }

    /// Signs `n` requests on `threads` threads, in nonce order.
    fn presign(self: &Arc<Self>, kind: Kind, n: usize, threads: usize) -> Vec<Signed> {
        let per = n.div_ceil(threads.max(1));
        let mut chunks: Vec<Vec<Signed>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let count = per.min(n.saturating_sub(t * per));
                    s.spawn(move || (0..count).map(|_| self.sign(kind)).collect::<Vec<_>>())
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let mut all: Vec<Signed> = chunks.drain(..).flatten().collect();
        all.sort_by_key(|s| s.nonce);
        all
    }
}

/// Presigned requests for one timed run, consumed in order; falls back to live signing.
struct Pool {
    items: Vec<Signed>,
    next: AtomicUsize,
    live: AtomicU64,
    max_age_ns: u64,
}

impl Pool {
    fn new(items: Vec<Signed>, timeout: f64) -> Self {
        let window = NONCE_BACK + Duration::from_secs_f64(timeout);
        let max_age = window.saturating_sub(STALE_MARGIN);
        Self {
            items,
            next: AtomicUsize::new(0),
            live: AtomicU64::new(0),
            max_age_ns: u64::try_from(max_age.as_nanos()).unwrap_or(u64::MAX),
        }
    }

    fn take(&self, signer: &Signer, kind: Kind) -> Signed {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        match self.items.get(i) {
            Some(s) if wire::now_ns().saturating_sub(s.nonce) < self.max_age_ns => s.clone(),
            _ => {
                self.live.fetch_add(1, Ordering::Relaxed);
                signer.sign(kind)
            }
        }
    }
}

/// Everything needed to build and check requests against one target.
struct Ctx {
    signer: Arc<Signer>,
    target: SocketAddr,
    timeout: f64,
    /// The TextCausalLMNext request synapse as a JSON object (without the terminal fields).
    text_body: Map<String, Value>,
    /// For TextCausalLMNext: the verified answer's body hash and body size, once known.
    text_expect: Option<(String, usize)>,
}

impl Ctx {
    fn uri(&self, kind: Kind) -> String {
        format!("http://{}/{}", self.target, kind.name())
    }

    /// The HTTP request for `s`, laid out as `Dendrite::prepare` lays it out.
    fn request(&self, kind: Kind, s: &Signed) -> Result<Request<Full<Bytes>>, String> {
        let dendrite = TerminalInfo {
            version: Some(wire::VERSION),
            nonce: Some(s.nonce),
            uuid: Some(s.uuid.clone()),
            hotkey: Some(self.signer.hotkey.clone()),
            signature: Some(s.signature.clone()),
            ..Default::default()
        };
        let axon = TerminalInfo {
            ip: Some(self.target.ip().to_string()),
            port: Some(self.target.port()),
            hotkey: Some(self.signer.axon_hotkey.clone()),
            ..Default::default()
        };
        let mut body = match kind {
            Kind::Dummy => {
                let mut m = Map::new();
                m.insert("dummy_input".into(), json!(s.input));
                m.insert("dummy_output".into(), Value::Null);
                m
            }
            Kind::Text => self.text_body.clone(),
        };
        body.insert("name".into(), json!(kind.name()));
        body.insert("timeout".into(), json!(self.timeout));
        body.insert("total_size".into(), json!(0));
        body.insert("header_size".into(), json!(0));
        body.insert("dendrite".into(), json!(dendrite));
        body.insert("axon".into(), json!(axon));
        body.insert("computed_body_hash".into(), json!(""));
        let bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(self.uri(kind))
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| e.to_string())?;
        let h = req.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        wire::write_common_headers(h, kind.name(), self.timeout, &s.body_hash);
        let defaults = match kind {
            Kind::Dummy => Dummy::REQUIRED_INPUT_DEFAULTS,
            Kind::Text => TextCausalLMNext::REQUIRED_INPUT_DEFAULTS,
        };
        wire::write_input_obj_headers(h, defaults);
        dendrite.write_headers(DENDRITE_PREFIX, h);
        axon.write_headers(AXON_PREFIX, h);
        Ok(req)
    }

    /// The cheap per-response check used in timed runs.
    fn check(&self, kind: Kind, s: &Signed, resp: &Response) -> Result<(), String> {
        if resp.status != StatusCode::OK {
            let text = String::from_utf8_lossy(resp.body.get(..200).unwrap_or(&resp.body));
            return Err(format!("HTTP {}: {text}", resp.status.as_u16()));
        }
        match kind {
            Kind::Dummy => {
                let d: Dummy = serde_json::from_slice(&resp.body)
                    .map_err(|e| format!("bad Dummy response: {e}"))?;
                if d.dummy_output != Some(s.input.saturating_mul(2)) {
                    return Err(format!("dummy_output {:?} for input {}", d.dummy_output, s.input));
                }
                Ok(())
            }
            Kind::Text => {
                let (hash, len) =
                    self.text_expect.as_ref().ok_or("TextCausalLMNext answer not verified yet")?;
                let got = wire::read_body_hash(&resp.headers).ok().flatten();
                if got.as_deref() != Some(hash.as_str()) {
                    return Err("TextCausalLMNext answer hash differs from the verified one".into());
                }
                if resp.body.len() < len.saturating_mul(9) / 10 {
                    return Err(format!("TextCausalLMNext answer of {} bytes", resp.body.len()));
                }
                Ok(())
            }
        }
    }

    /// The full check of one response, done before the warm-up: for TextCausalLMNext, decodes
    /// the whole answer and remembers its hash and size for the cheap checks.
    fn verify_fully(&mut self, kind: Kind, s: &Signed, resp: &Response) -> Result<(), String> {
        if resp.status != StatusCode::OK {
            return self.check(kind, s, resp);
        }
        let header_hash = wire::read_body_hash(&resp.headers)
            .map_err(|e| e.to_string())?
            .ok_or("response has no computed_body_hash")?;
        let axon =
            TerminalInfo::from_headers(AXON_PREFIX, &resp.headers).map_err(|e| e.to_string())?;
        if axon.hotkey.as_deref() != Some(self.signer.axon_hotkey.as_str()) {
            return Err(format!("response from hotkey {:?}", axon.hotkey));
        }
        match kind {
            Kind::Dummy => {
                let d: Dummy = serde_json::from_slice(&resp.body).map_err(|e| e.to_string())?;
                if d.body_hash() != header_hash {
                    return Err("Dummy response body hash mismatch".to_owned());
                }
                self.check(kind, s, resp)
            }
            Kind::Text => {
                let t: TextCausalLMNext =
                    serde_json::from_slice(&resp.body).map_err(|e| e.to_string())?;
                if t.body_hash() != header_hash {
                    return Err("TextCausalLMNext response body hash mismatch".to_owned());
                }
                t.validate_response().map_err(|e| e.to_string())?;
                let rows = t.outputs().map_err(|e| e.to_string())?;
                let [row] = rows.as_slice() else {
                    return Err(format!("{} answer rows, expected 1", rows.len()));
                };
                let last = TOKENS.last().copied().unwrap_or(0);
                let p = 0.5 / TOPK as f32;
                let good = row.phrases.len() == TOPK as usize
                    && row.phrases.iter().zip(0..).all(|((prob, phrase), i)| {
                        *prob == p && phrase.as_slice() == [(last + i) % 50_000]
                    })
                    && row.floor > 0.0
                    && row.floor < 1e-4;
                if !good {
                    return Err("TextCausalLMNext answer is not the expected k=4096 one".into());
                }
                self.text_expect = Some((header_hash, resp.body.len()));
                Ok(())
            }
        }
    }
}

/// A received response.
struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client(max_idle: usize) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(max_idle)
        .build(connector)
}

async fn send(client: &HttpClient, req: Request<Full<Bytes>>) -> Result<Response, String> {
    let resp = client.request(req).await.map_err(|e| format!("connect/send: {e}"))?;
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.map_err(|e| format!("reading body: {e}"))?.to_bytes();
    Ok(Response { status: parts.status, headers: parts.headers, body })
}

/// One request end to end: build, send, check. Returns the error text on failure.
async fn one(ctx: &Ctx, client: &HttpClient, kind: Kind, s: &Signed) -> Result<(), String> {
    let req = ctx.request(kind, s)?;
    let resp = send(client, req).await?;
    ctx.check(kind, s, &resp)
}

/// What one timed run measured.
#[derive(Debug, Default, Clone, Serialize)]
struct Stats {
    target: String,
    synapse: String,
    mode: String,
    ok: u64,
    errors: u64,
    seconds: f64,
    rps: f64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    max_ms: Option<f64>,
    pooled: usize,
    live_signed: u64,
    first_error: Option<String>,
}

/// Latency samples in µs; `u64::MAX` marks a failed request.
#[derive(Default)]
struct Samples {
    lat_us: Vec<u64>,
    errors: BTreeMap<String, u64>,
}

impl Samples {
    fn record(&mut self, r: Result<(), String>, lat: Duration) {
        match r {
            Ok(()) => self.lat_us.push(u64::try_from(lat.as_micros()).unwrap_or(u64::MAX - 1)),
            Err(e) => {
                self.lat_us.push(u64::MAX);
                *self.errors.entry(e).or_default() += 1;
            }
        }
    }

    fn merge(&mut self, other: Samples) {
        self.lat_us.extend(other.lat_us);
        for (e, n) in other.errors {
            *self.errors.entry(e).or_default() += n;
        }
    }

    fn stats(mut self, target: &str, kind: Kind, mode: String, seconds: f64) -> Stats {
        self.lat_us.sort_unstable();
        let n = self.lat_us.len();
        let pct = |q: f64| -> Option<f64> {
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
            match self.lat_us.get(rank) {
                Some(&u64::MAX) | None => None,
                Some(&us) => Some(us as f64 / 1000.0),
            }
        };
        let errors: u64 = self.errors.values().sum();
        let ok = n as u64 - errors;
        Stats {
            target: target.to_owned(),
            synapse: kind.name().to_owned(),
            mode,
            ok,
            errors,
            seconds,
            rps: if seconds > 0.0 { ok as f64 / seconds } else { 0.0 },
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            max_ms: pct(1.0),
            first_error: self
                .errors
                .into_iter()
                .max_by_key(|(_, n)| *n)
                .map(|(e, n)| format!("{n}× {e}")),
            ..Stats::default()
        }
    }
}

/// Closed loop: `concurrency` workers, one connection each, back to back for `duration`.
async fn closed_loop(
    ctx: &Arc<Ctx>,
    kind: Kind,
    pool: &Arc<Pool>,
    concurrency: usize,
    duration: Duration,
) -> (Samples, f64) {
    let start = Instant::now();
    let stop = start + duration;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (ctx, pool) = (ctx.clone(), pool.clone());
        set.spawn(async move {
            let client = client(1);
            let mut samples = Samples::default();
            while Instant::now() < stop {
                let s = pool.take(&ctx.signer, kind);
                let t0 = Instant::now();
                let r = one(&ctx, &client, kind, &s).await;
                samples.record(r, t0.elapsed());
            }
            samples
        });
    }
    let mut all = Samples::default();
    while let Some(joined) = set.join_next().await {
        if let Ok(s) = joined {
            all.merge(s);
        }
    }
    (all, start.elapsed().as_secs_f64())
}

/// Open loop: request `i` is due at `start + i / rate`; a timer thread launches each one at
/// its due time and its latency counts from then.
async fn open_loop(
    ctx: &Arc<Ctx>,
    kind: Kind,
    pool: &Arc<Pool>,
    opts: &Opts,
    rate: f64,
    count: usize,
) -> (Samples, f64) {
    let client = client(opts.max_in_flight);
    let permits = Arc::new(tokio::sync::Semaphore::new(opts.max_in_flight));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Result<(), String>, Duration)>();
    let handle = tokio::runtime::Handle::current();
    let period = Duration::from_secs_f64(1.0 / rate);
    let request_timeout = opts.request_timeout;
    let start = Instant::now() + Duration::from_millis(20);
    let (ctx2, pool2) = (ctx.clone(), pool.clone());
    let dispatcher = std::thread::spawn(move || {
        for i in 0..count {
            let due = start + period.mul_f64(i as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            let (ctx, pool, client, permits, tx) =
                (ctx2.clone(), pool2.clone(), client.clone(), permits.clone(), tx.clone());
            handle.spawn(async move {
                let deadline = due + request_timeout;
                // A request still waiting for a connection slot at its deadline is never sent.
                let r = match tokio::time::timeout_at(deadline.into(), permits.acquire()).await {
                    Err(_) => Err(format!("not sent within {request_timeout:?} (all slots busy)")),
                    Ok(Err(e)) => Err(e.to_string()),
                    Ok(Ok(_permit)) => {
                        // Once sent, the request holds its slot until answered (at most
                        // SEND_LIMIT), so the server's backlog never exceeds the slots.
                        let s = pool.take(&ctx.signer, kind);
                        match tokio::time::timeout(SEND_LIMIT, one(&ctx, &client, kind, &s)).await {
                            Ok(Ok(())) if Instant::now() > deadline => Err(format!(
                                "answered more than {request_timeout:?} after the due time"
                            )),
                            Ok(r) => r,
                            Err(_) => Err(format!("no answer within {SEND_LIMIT:?}")),
                        }
                    }
                };
                let _ = tx.send((r, due.elapsed()));
            });
        }
    });
    let mut samples = Samples::default();
    let mut last = start;
    for _ in 0..count {
        match rx.recv().await {
            Some((r, lat)) => {
                samples.record(r, lat);
                last = Instant::now();
            }
            None => break,
        }
    }
    let _ = tokio::task::spawn_blocking(move || dispatcher.join()).await;
    // Rate over the scheduled span, or longer if the answers came later.
    let span = last.saturating_duration_since(start).as_secs_f64();
    (samples, span.max(count as f64 / rate))
}

/// Waits (up to `DRAIN_LIMIT`) until the target answers a fresh request within a second.
async fn drain(ctx: &Ctx, kind: Kind, name: &str) {
    let started = Instant::now();
    let client = client(1);
    while started.elapsed() < DRAIN_LIMIT {
        let t0 = Instant::now();
        let s = ctx.signer.sign(kind);
        let answered = match ctx.request(kind, &s) {
            Ok(req) => tokio::time::timeout(DRAIN_LIMIT, send(&client, req)).await.is_ok(),
            Err(_) => false,
        };
        if answered && t0.elapsed() < Duration::from_secs(1) {
            break;
        }
        if !answered {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let waited = started.elapsed();
    if waited > Duration::from_secs(1) {
        eprintln!("  ({name} took {:.1} s to drain its backlog)", waited.as_secs_f64());
    }
}

fn eprint_stats(s: &Stats) {
    eprintln!(
        "  {:<8} {:<17} {:<14} {:>9.1} req/s  p50 {}  p99 {}  errors {}  (pooled {}, live-signed {}){}",
        s.target,
        s.synapse,
        s.mode,
        s.rps,
        ms(s.p50_ms),
        ms(s.p99_ms),
        s.errors,
        s.pooled,
        s.live_signed,
        s.first_error.as_ref().map(|e| format!("  first error: {e}")).unwrap_or_default()
    );
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "fail".to_owned(), |v| format!("{v:.3}"))
}

/// Runs every case for one target and synapse.
async fn bench_target(
    opts: &Opts,
    signer: &Arc<Signer>,
    text_body: &Map<String, Value>,
    name: &str,
    addr: SocketAddr,
    kind: Kind,
) -> Result<Vec<Stats>, String> {
    let mut ctx = Ctx {
        signer: signer.clone(),
        target: addr,
        timeout: opts.timeout,
        text_body: text_body.clone(),
        text_expect: None,
    };
    // Full verification of one answer before anything is timed.
    let probe_client = client(1);
    let s = signer.sign(kind);
    let req = ctx.request(kind, &s)?;
    let resp = send(&probe_client, req).await.map_err(|e| format!("{name}: {e}"))?;
    ctx.verify_fully(kind, &s, &resp).map_err(|e| format!("{name} {}: {e}", kind.name()))?;
    let ctx = Arc::new(ctx);
    let mut out = Vec::new();
    for &mode in &opts.modes {
        let label = mode.label(opts.concurrency);
        let empty = Arc::new(Pool::new(Vec::new(), opts.timeout));
        // Untimed warm-up with live signing: opens the connections; in closed loop its rate
        // also sizes the pool of presigned requests for the timed run.
        let n = match mode {
            Mode::Closed => {
                let (warm, secs) =
                    closed_loop(&ctx, kind, &empty, opts.concurrency, opts.warmup).await;
                let warm_ok = warm.lat_us.iter().filter(|&&l| l != u64::MAX).count();
                let warm_rps = warm_ok as f64 / secs.max(1e-3);
                (warm_rps * 2.0 * opts.duration.as_secs_f64()) as usize + 1000
            }
            Mode::Open(rate) => {
                let warm_n = (rate * 0.25).ceil() as usize;
                let _ = open_loop(&ctx, kind, &empty, opts, rate, warm_n).await;
                drain(&ctx, kind, name).await;
                (rate * opts.duration.as_secs_f64()).ceil() as usize
            }
        };
        let pool = Arc::new(Pool::new(signer.presign(kind, n, opts.sign_threads), opts.timeout));
        let (samples, secs) = match mode {
            Mode::Closed => closed_loop(&ctx, kind, &pool, opts.concurrency, opts.duration).await,
            Mode::Open(rate) => open_loop(&ctx, kind, &pool, opts, rate, n).await,
        };
        let mut stats = samples.stats(name, kind, label, secs);
        stats.pooled = pool.items.len();
        stats.live_signed = pool.live.load(Ordering::Relaxed);
        eprint_stats(&stats);
        out.push(stats);
        // An overloaded server may still be working through abandoned requests: let it finish
        // before the next run, whose nonces would otherwise age in its queue.
        drain(&ctx, kind, name).await;
    }
    Ok(out)
}

fn print_table(opts: &Opts, all: &[Stats]) {
    println!();
    println!(
        "{:<8} {:<17} {:<14} {:>10} {:>9} {:>9} {:>7}",
        "server", "synapse", "mode", "req/s", "p50 ms", "p99 ms", "errors"
    );
    for s in all {
        println!(
            "{:<8} {:<17} {:<14} {:>10.1} {:>9} {:>9} {:>7}",
            s.target,
            s.synapse,
            s.mode,
            s.rps,
            ms(s.p50_ms),
            ms(s.p99_ms),
            s.errors
        );
    }
    let [(a, _), (b, _), ..] = opts.targets.as_slice() else {
        return;
    };
    println!();
    println!("ratios {a}/{b} (req/s: higher is better for {a}; p50/p99: lower is better for {a}):");
    let find = |t: &str, syn: &str, mode: &str| {
        all.iter().find(|s| s.target == t && s.synapse == syn && s.mode == mode)
    };
    let ratio = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) if y > 0.0 => format!("{:.3}", x / y),
        _ => "n/a".to_owned(),
    };
    for s in all.iter().filter(|s| &s.target == a) {
        if let Some(o) = find(b, &s.synapse, &s.mode) {
            println!(
                "  {:<17} {:<14} req/s ×{}   p50 ×{}   p99 ×{}",
                s.synapse,
                s.mode,
                ratio(Some(s.rps), Some(o.rps)),
                ratio(s.p50_ms, o.p50_ms),
                ratio(s.p99_ms, o.p99_ms)
            );
        }
    }
    println!();
    println!("targets (issue 5):");
    for s in all.iter().filter(|s| &s.target == a && s.mode.starts_with("closed")) {
        if let Some(o) = find(b, &s.synapse, &s.mode) {
            let r = if o.rps > 0.0 { s.rps / o.rps } else { f64::INFINITY };
            let pass = r >= 10.0 && s.errors == 0;
            println!(
                "  {:<17} max req/s {a} >= 10 x {b}: {r:.1}x  {}",
                s.synapse,
                if pass { "PASS" } else { "FAIL" }
            );
        }
    }
    for s in
        all.iter().filter(|s| &s.target == a && s.synapse == Dummy::NAME && s.mode == "open 1000/s")
    {
        let pass = s.p99_ms.is_some_and(|p| p < 5.0) && s.errors == 0;
        println!(
            "  {:<17} p99 at {} < 5 ms for {a}: {} ms  {}",
            s.synapse,
            s.mode.trim_start_matches("open "),
            ms(s.p99_ms),
            if pass { "PASS" } else { "FAIL" }
        );
    }
}

async fn run(opts: Opts) -> Result<(), String> {
    let keypair = Keypair::from_uri(&opts.uri).map_err(|e| e.to_string())?;
    let text_req =
        TextCausalLMNext::request(&[TOKENS.to_vec()], TOPK).map_err(|e| e.to_string())?;
    let text_body = match serde_json::to_value(&text_req) {
        Ok(Value::Object(m)) => m,
        _ => return Err("TextCausalLMNext is not a JSON object".to_owned()),
    };
    let signer = Arc::new(Signer {
        hotkey: keypair.ss58(),
        keypair,
        axon_hotkey: opts.axon_hotkey.clone(),
        last_nonce: AtomicU64::new(0),
        next_input: AtomicU64::new(1),
        text_hash: text_req.body_hash(),
    });
    eprintln!(
        "bench_load: {} s per run ({} s warm-up), closed loop c={}, open loop {} req/s, \
         {} client thread(s), request timeout header {} s, dendrite {}, axon {}",
        opts.duration.as_secs_f64(),
        opts.warmup.as_secs_f64(),
        opts.concurrency,
        opts.modes
            .iter()
            .filter_map(|m| match m {
                Mode::Open(r) => Some(r.to_string()),
                Mode::Closed => None,
            })
            .collect::<Vec<_>>()
            .join(","),
        opts.threads,
        opts.timeout,
        signer.hotkey,
        opts.axon_hotkey
    );
    let mut all = Vec::new();
    for &kind in &opts.kinds {
        for (name, addr) in &opts.targets {
            let stats = bench_target(&opts, &signer, &text_body, name, *addr, kind).await?;
            all.extend(stats);
        }
    }
    // Table order: synapse, mode, target.
    let order = |s: &Stats| {
        let t = opts.targets.iter().position(|(n, _)| n == &s.target).unwrap_or(usize::MAX);
        let m = opts.modes.iter().position(|m| m.label(opts.concurrency) == s.mode);
        (s.synapse.clone(), m.unwrap_or(usize::MAX), t)
    };
    all.sort_by_key(order);
    print_table(&opts, &all);
    if let Some(path) = &opts.json {
        let text = serde_json::to_string_pretty(&all).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("writing {path}: {e}"))?;
    }
    Ok(())
}

fn main() {
    let result = parse_opts().and_then(|opts| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(opts.threads)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(run(opts))
    });
    if let Err(e) = result {
        eprintln!("bench_load: {e}");
        std::process::exit(2);
    }
}
