//! The request pipeline of the axon (see the module docs of [`crate::axon`] for the order).

use super::{Caller, Shared};
use crate::{
    wire::{
        self, read_body_hash, read_timeout, request_message, response_message, TerminalInfo,
        AXON_PREFIX, DENDRITE_PREFIX,
    },
    AxonError, Result,
};
use axum::{
    body::Body,
    extract::{ConnectInfo, Path, Request, State},
    response::{IntoResponse, Response},
};
use http::{header::CONTENT_TYPE, HeaderMap, HeaderValue, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

impl IntoResponse for AxonError {
    fn into_response(self) -> Response {
        let mut resp =
            (self.status_code(), axum::Json(json!({ "message": self.public_message() })))
                .into_response();
        resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        resp
    }
}

/// Fallback for paths that name no synapse.
pub(super) async fn not_found(req: Request) -> Response {
    AxonError::UnknownSynapse(req.uri().path().trim_start_matches('/').to_owned()).into_response()
}

/// What is known about the request so far, used to build any response.
struct Ctx {
    started: Instant,
    name: String,
    timeout: f64,
    peer: Option<SocketAddr>,
    dendrite: TerminalInfo,
}

/// Identity headers after parsing.
struct Claimed {
    nonce: u64,
    hotkey: String,
    uuid: String,
    axon_hotkey: String,
    body_hash: String,
    signature: String,
}

fn required<T>(v: Option<T>, name: &str) -> Result<T> {
    v.ok_or_else(|| AxonError::MissingHeader(name.to_owned()))
}

fn claimed(dendrite: &TerminalInfo, headers: &HeaderMap) -> Result<Claimed> {
    let axon = TerminalInfo::from_headers(AXON_PREFIX, headers)?;
    Ok(Claimed {
        nonce: required(dendrite.nonce, "bt_header_dendrite_nonce")?,
        hotkey: required(dendrite.hotkey.clone(), "bt_header_dendrite_hotkey")?,
        uuid: required(dendrite.uuid.clone(), "bt_header_dendrite_uuid")?,
        axon_hotkey: required(axon.hotkey, "bt_header_axon_hotkey")?,
        body_hash: required(read_body_hash(headers)?, wire::HEADER_BODY_HASH)?,
        signature: required(dendrite.signature.clone(), "bt_header_dendrite_signature")?,
    })
}

/// The handler behind `POST /{name}`.
pub(super) async fn handle(
    State(st): State<Arc<Shared>>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let mut ctx = Ctx {
        started: Instant::now(),
        name,
        timeout: st.config.default_timeout.as_secs_f64(),
        peer,
        dendrite: TerminalInfo::default(),
    };
    match run(&st, &mut ctx, req).await {
        Ok((map, hash)) => respond(&st, &ctx, StatusCode::OK, "Success", Some(map), &hash),
        Err(e) => {
            let status = e.status_code();
            respond(&st, &ctx, status, &e.public_message(), None, &wire::body_hash_of([""; 0]))
        }
    }
}

async fn run(st: &Shared, ctx: &mut Ctx, req: Request) -> Result<(Map<String, Value>, String)> {
    let route = st
        .routes
        .get(ctx.name.as_str())
        .cloned()
        .ok_or_else(|| AxonError::UnknownSynapse(ctx.name.clone()))?;
    let (parts, body) = req.into_parts();
    let headers = &parts.headers;

    // 1. A signature must be present and non-empty, before anything else is believed.
    match headers.get("bt_header_dendrite_signature").map(|v| v.as_bytes()) {
        None | Some(b"") => return Err(AxonError::MissingSignature),
        Some(_) => {}
    }
    // 2. Parse the identity headers.
    ctx.dendrite = TerminalInfo::from_headers(DENDRITE_PREFIX, headers)?;
    if let Some(t) = read_timeout(headers)? {
        ctx.timeout = t;
    }
    let c = claimed(&ctx.dendrite, headers)?;
    // 3. Verify the signature over the header values.
    let hotkey = wire::parse_hotkey(&c.hotkey)?;
    let msg = request_message(c.nonce, &c.hotkey, &c.axon_hotkey, &c.uuid, &c.body_hash);
    wire::verify(&hotkey, &msg, &c.signature)?;
    if c.axon_hotkey != st.hotkey_ss58 {
        return Err(AxonError::WrongAxon { expected: st.hotkey_ss58.clone(), got: c.axon_hotkey });
    }
    // 4. Nonce freshness: the timestamp rule alone, which touches no shared state.
    let deadline = Duration::try_from_secs_f64(ctx.timeout)
        .unwrap_or(st.config.max_timeout)
        .min(st.config.max_timeout);
    let until = ctx.started.checked_add(deadline).unwrap_or_else(Instant::now);
    let now = wire::now_ns();
    st.freshness.check(c.nonce, deadline, now)?;
    // 5. Blacklist, on the verified hotkey: a refused caller leaves no trace anywhere.
    if !st.blacklist.allowed(&hotkey) {
        return Err(AxonError::Blacklisted(c.hotkey));
    }
    // 6. Replay check and nonce quota, then the rate and concurrency limits; the nonce is
    //    recorded only if all passed (atomically, under the cache's lock). The in-flight guard
    //    lives until the response is built.
    let _slot = st
        .nonces
        .lock()
        .admit(&c.hotkey, &c.uuid, c.nonce, deadline, now, || st.limits.admit(&c.hotkey))?;
    let priority = st.priority.priority(&hotkey);
    let caller = Caller {
        hotkey,
        hotkey_ss58: c.hotkey,
        peer: ctx.peer,
        nonce: c.nonce,
        uuid: c.uuid,
        version: ctx.dendrite.version,
        deadline,
        expires_at: until,
    };
    // 7. Admission, then body (size-limited), parse, hash, validate and handle, all under the
    //    deadline counted from the request's arrival.
    let limit = st.config.max_body_bytes;
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(AxonError::BodyTooLarge { limit });
    }
    let header_hash = c.body_hash;
    let gate = st.gate.clone();
    let work = async move {
        // 7a. The body first (a slow sender holds only its own per-hotkey slot), then a global
        //     slot, by priority, held until the handler is done.
        let bytes = match Limited::new(body, limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return Err(AxonError::BodyTooLarge { limit })
            }
            Err(e) => return Err(AxonError::BadJson(format!("failed to read body: {e}"))),
        };
        let _permit = gate.acquire(priority).await?;
        route.call(caller, bytes, header_hash).await
    };
    tokio::time::timeout_at(until.into(), work).await.map_err(|_| AxonError::Deadline(deadline))?
}

fn respond(
    st: &Shared,
    ctx: &Ctx,
    status: StatusCode,
    message: &str,
    body: Option<Map<String, Value>>,
    body_hash: &str,
) -> Response {
    let mut dendrite = ctx.dendrite.clone();
    dendrite.signature = None;
    if let Some(peer) = ctx.peer {
        dendrite.ip = Some(peer.ip().to_string());
        dendrite.port = Some(peer.port());
    }
    let nonce = wire::now_ns();
    let signature = match (&ctx.dendrite.nonce, &ctx.dendrite.hotkey, &ctx.dendrite.uuid) {
        (Some(n), Some(h), Some(u)) => Some(wire::sign(
            &st.keypair,
            &response_message(*n, h, &st.hotkey_ss58, u, status.as_u16(), body_hash),
        )),
        _ => None,
    };
    let axon = TerminalInfo {
        status_code: Some(status.as_u16()),
        status_message: Some(message.to_owned()),
        process_time: Some(ctx.started.elapsed().as_secs_f64()),
        ip: st.config.external_ip.map(|ip| ip.to_string()),
        port: st.config.external_port,
        version: Some(wire::VERSION),
        nonce: Some(nonce),
        uuid: Some(st.uuid.clone()),
        hotkey: Some(st.hotkey_ss58.clone()),
        signature,
    };
    let json_body = match body {
        Some(mut map) => {
            map.insert("name".into(), json!(ctx.name));
            map.insert("timeout".into(), json!(ctx.timeout));
            map.insert("total_size".into(), json!(0));
            map.insert("header_size".into(), json!(0));
            map.insert("dendrite".into(), json!(dendrite));
            map.insert("axon".into(), json!(axon));
            map.insert("computed_body_hash".into(), json!(body_hash));
            Value::Object(map)
        }
        None => json!({ "message": message }),
    };
    let bytes = serde_json::to_vec(&json_body).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status != StatusCode::OK {
        // The request body may be unread: close rather than let a client reuse the connection.
        h.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    }
    wire::write_common_headers(h, &ctx.name, ctx.timeout, body_hash);
    axon.write_headers(AXON_PREFIX, h);
    dendrite.write_headers(DENDRITE_PREFIX, h);
    resp
}
