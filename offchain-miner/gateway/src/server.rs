//! The HTTP server (axum): the OpenAI routes, `/health`, `/map` and `/organic`.
//!
//! * `POST /v1/completions`, `POST /v1/chat/completions`: see [`crate::openai`]. With
//!   `"stream": true` the answer comes as server-sent events, `data: {chunk}\n\n` … then
//!   `data: [DONE]\n\n`, in OpenAI's chunk format (chat: a first chunk with the role, content
//!   chunks, a last one with `finish_reason`; with `stream_options.include_usage` a final chunk
//!   with empty `choices` and the `usage`). Miners return whole answers (no streaming synapse
//!   yet), so the stream starts when the chosen miner's answer arrives and sends its text as
//!   word-sized chunks at once; errors before that are ordinary JSON errors with their status.
//! * `GET /v1/models`: the models served.
//! * `GET /health`: `{"status": "ok"}` (no key needed).
//! * `GET /map`: the latency map (no key needed): per subnet and uid, EWMA round trip, TTFT
//!   p50/p90, tokens/s, success / partial / failure counts over the recent window, in flight.
//! * `GET /organic?after=SEQ&netuid=N&limit=L` (no key needed): the verdicts on grid calls
//!   after sequence number `SEQ` (default 0: all kept), of subnet `N` only if given, at most
//!   `L` (default and most 1,000), for `stvalidator --organic-from` ([`crate::organic`]):
//!   `{"session": UUID, "next": SEQ, "dropped": N, "more": bool, "verdicts": [{"seq",
//!   "netuid", "uid", "hotkey", "outcome": "verified" | "rejected" | "failed",
//!   "tokens_per_sec" (verified), "reason" (rejected, failed), "at_ms"}]}`. A bad parameter
//!   is a 400 naming it.
//!
//! Every `/v1` request needs `Authorization: Bearer KEY` unless the server runs with
//! `--no-auth`, and passes the per-key (or, without keys, per-address) rate limit.

use crate::{
    backend::{Backend, GenerateRequest, Generation},
    error::GatewayError,
    keys::{Auth, RateLimiter},
    openai::{
        apply_stop, models_json, Answer, CompletionRequest, FinishReason, PromptInput, Usage,
    },
    organic::MAX_PAGE,
    prompt::{chat_prompt, CHAT_STOPS},
    Result,
};
use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, RawQuery, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};
use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the handlers share.
pub struct AppState<B> {
    /// The network.
    pub backend: B,
    /// Who may call.
    pub auth: Auth,
    /// Per-key request rate.
    pub limiter: RateLimiter,
}

/// The router over `state`; serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` (the rate limit without keys counts
/// per client address).
pub fn router<B: Backend>(state: Arc<AppState<B>>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/map", get(map::<B>))
        .route("/organic", get(organic::<B>))
        .route("/v1/models", get(models::<B>))
        .route("/v1/completions", post(completions::<B>))
        .route("/v1/chat/completions", post(chat::<B>))
        .fallback(
            |uri: axum::http::Uri| async move { GatewayError::NotFound(uri.path().to_owned()) },
        )
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn map<B: Backend>(State(st): State<Arc<AppState<B>>>) -> Json<Value> {
    Json(st.backend.map_json())
}

async fn organic<B: Backend>(
    State(st): State<Arc<AppState<B>>>,
    RawQuery(query): RawQuery,
) -> Response {
    match OrganicQuery::parse(query.as_deref().unwrap_or("")) {
        Ok(q) => Json(st.backend.organic().page(q.after, q.netuid, q.limit)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The parameters of `GET /organic`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrganicQuery {
    /// Verdicts after this sequence number (default 0).
    pub after: u64,
    /// Only this subnet's.
    pub netuid: Option<u16>,
    /// At most this many (default [`MAX_PAGE`]).
    pub limit: usize,
}

impl OrganicQuery {
    /// Parses a query string (`after=5&netuid=2`); an unknown or malformed parameter is an
    /// [`GatewayError::InvalidField`] naming it.
    pub fn parse(query: &str) -> Result<Self> {
        let mut q = Self { after: 0, netuid: None, limit: MAX_PAGE };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let bad = || GatewayError::field(name, format!("`{value}` is not a valid {name}"));
            match name {
                "after" => q.after = value.parse().map_err(|_| bad())?,
                "netuid" => q.netuid = Some(value.parse().map_err(|_| bad())?),
                "limit" => {
                    q.limit = value.parse().ok().filter(|l| (1..=MAX_PAGE).contains(l)).ok_or_else(
                        || GatewayError::field(name, format!("limit must be 1 to {MAX_PAGE}")),
                    )?
                }
                _ => {
                    return Err(GatewayError::field(
                        name,
                        "unknown parameter (after, netuid and limit are)",
                    ))
                }
            }
        }
        Ok(q)
    }
}

/// Authentication, then the rate limit.
fn admit<B>(st: &AppState<B>, headers: &HeaderMap, peer: Option<SocketAddr>) -> Result<()> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let who = st.auth.check(auth)?.unwrap_or_else(|| {
        peer.map_or_else(|| "anonymous".to_owned(), |p| format!("addr:{}", p.ip()))
    });
    st.limiter.admit(&who, Instant::now())
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

async fn models<B: Backend>(
    State(st): State<Arc<AppState<B>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    match admit(&st, &headers, Some(peer)) {
        Ok(()) => Json(models_json(&st.backend.models(), unix_now())).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn completions<B: Backend>(
    State(st): State<Arc<AppState<B>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(&st, &headers, Some(peer), &body, false).await.unwrap_or_else(|e| {
        tracing::debug!("/v1/completions: {e}");
        e.into_response()
    })
}

async fn chat<B: Backend>(
    State(st): State<Arc<AppState<B>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(&st, &headers, Some(peer), &body, true).await.unwrap_or_else(|e| {
        tracing::debug!("/v1/chat/completions: {e}");
        e.into_response()
    })
}

/// A random id with `prefix`.
fn new_id(prefix: &str) -> String {
    format!("{prefix}-{:032x}", rand::random::<u128>())
}

async fn serve<B: Backend>(
    st: &AppState<B>,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    body: &[u8],
    chat: bool,
) -> Result<Response> {
    admit(st, headers, peer)?;
    let req =
        if chat { CompletionRequest::chat(body)? } else { CompletionRequest::completion(body)? };
    let mut stop = req.sampling.stop.clone();
    let prompt = match &req.input {
        PromptInput::Text(t) => t.clone(),
        PromptInput::Chat(messages) => {
            stop.extend(CHAT_STOPS.iter().map(|s| (*s).to_owned()));
            chat_prompt(messages)
        }
    };
    let generation = st
        .backend
        .generate(GenerateRequest {
            model: req.model.clone(),
            prompt,
            prompt_field: req.prompt_field(),
            sampling: req.sampling.clone(),
            fan_out: !req.stream,
        })
        .await?;
    let (mut text, cut) = apply_stop(&generation.text, &stop);
    if chat {
        text = text.trim_start().to_owned();
    }
    let source = source_headers(&generation);
    let answer = Answer {
        id: new_id(if chat { "chatcmpl" } else { "cmpl" }),
        created: unix_now(),
        model: match &generation.student {
            Some(name) => format!("student:{name}"),
            None => req.model.clone(),
        },
        text,
        finish_reason: if cut || generation.stopped {
            FinishReason::Stop
        } else {
            FinishReason::Length
        },
        usage: Usage::new(generation.prompt_tokens, generation.completion_tokens),
    };
    if !req.stream {
        let body = if chat { answer.chat_json() } else { answer.completion_json() };
        return Ok((source, Json(body)).into_response());
    }
    let events = stream_events(&answer, chat, req.include_usage);
    let stream = futures::stream::iter(events.into_iter().map(Ok::<_, std::convert::Infallible>));
    Ok((
        StatusCode::OK,
        source,
        [(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Who answered, as response headers: `x-subtensor-source` (`miner` or `student`), and for a
/// miner `x-subtensor-netuid` and `x-subtensor-uid`; for the student `x-subtensor-student`.
fn source_headers(generation: &Generation) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    match &generation.student {
        Some(name) => {
            put("x-subtensor-source", "student".to_owned());
            put("x-subtensor-student", name.clone());
        }
        None => {
            put("x-subtensor-source", "miner".to_owned());
            put("x-subtensor-netuid", generation.netuid.to_string());
            put("x-subtensor-uid", generation.uid.to_string());
        }
    }
    headers
}

/// Splits `text` into word-sized pieces (each word with the whitespace before it).
pub fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() && in_word {
            if let Some(p) = text.get(start..i) {
                out.push(p);
            }
            start = i;
            in_word = false;
        } else if !c.is_whitespace() {
            in_word = true;
        }
    }
    if let Some(p) = text.get(start..).filter(|p| !p.is_empty()) {
        out.push(p);
    }
    out
}

/// The server-sent events of a streamed answer, `[DONE]` included.
pub fn stream_events(answer: &Answer, chat: bool, include_usage: bool) -> Vec<Bytes> {
    let event = |v: &Value| Bytes::from(format!("data: {v}\n\n"));
    let mut out = Vec::new();
    if chat {
        out.push(event(&answer.chat_chunk(json!({"role": "assistant", "content": ""}), None)));
    }
    for piece in pieces(&answer.text) {
        out.push(event(&if chat {
            answer.chat_chunk(json!({ "content": piece }), None)
        } else {
            answer.completion_chunk(piece, None)
        }));
    }
    out.push(event(&if chat {
        answer.chat_chunk(json!({}), Some(answer.finish_reason))
    } else {
        answer.completion_chunk("", Some(answer.finish_reason))
    }));
    if include_usage {
        out.push(event(&answer.usage_chunk(chat)));
    }
    out.push(Bytes::from_static(b"data: [DONE]\n\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organic_queries_parse_and_bad_ones_name_the_parameter() {
        assert_eq!(
            OrganicQuery::parse("").unwrap(),
            OrganicQuery { after: 0, netuid: None, limit: MAX_PAGE }
        );
        assert_eq!(
            OrganicQuery::parse("after=17&netuid=2&limit=5").unwrap(),
            OrganicQuery { after: 17, netuid: Some(2), limit: 5 }
        );
        for (query, field) in [
            ("after=-1", "after"),
            ("after=x", "after"),
            ("netuid=70000", "netuid"),
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("afterr=1", "afterr"),
        ] {
            match OrganicQuery::parse(query) {
                Err(GatewayError::InvalidField { field: f, .. }) => assert_eq!(f, field, "{query}"),
                other => panic!("{query}: {other:?}"),
            }
        }
    }

    #[test]
    fn pieces_rejoin_to_the_text() {
        for t in ["hello big world", "  lead", "trail  ", "", "one"] {
            assert_eq!(pieces(t).concat(), t);
        }
        assert_eq!(pieces("a b  c"), vec!["a", " b", "  c"]);
    }
}
