//! The OpenAI wire types of `POST /v1/completions`, `POST /v1/chat/completions` and
//! `GET /v1/models`: requests parsed field by field (so a bad field is named in the error's
//! `param`), responses, streaming chunks and usage.
//!
//! Accepted request fields: `model` (required), `prompt` (completions: a string or a list of
//! one string), `messages` (chat: `[{role, content}]`, `content` a string or a list of
//! `{"type": "text", "text"}` parts), `max_tokens` (chat also `max_completion_tokens`),
//! `temperature` (0 to 2), `top_p` (`(0, 1]`), `seed`, `stop` (a string or a list of up to 4),
//! `stream`, `stream_options.include_usage`, `n` (only 1), `user` (ignored). Other fields
//! (`logprobs`, `presence_penalty` …) are ignored when absent, null or at their neutral value
//! and refused otherwise.

use crate::{error::GatewayError, Result};
use serde::Serialize;
use serde_json::{Map, Value};

/// Default `max_tokens` when a request gives none.
pub const DEFAULT_MAX_TOKENS: u32 = 64;
/// Most stop sequences per request (OpenAI's limit).
pub const MAX_STOP: usize = 4;
/// Highest `temperature` accepted (OpenAI's range is `0..=2`).
pub const MAX_TEMPERATURE: f64 = 2.0;

/// One chat message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    /// `system`, `developer`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// What to continue: a raw prompt or a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromptInput {
    /// `/v1/completions`: the prompt text.
    Text(String),
    /// `/v1/chat/completions`: the messages, rendered by [`crate::prompt::chat_prompt`].
    Chat(Vec<ChatMessage>),
}

/// The sampling settings shared by both endpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampling {
    /// Most tokens to generate.
    pub max_tokens: u32,
    /// Softmax temperature, `0..=2`; 0 is greedy.
    pub temperature: f64,
    /// Nucleus mass, `(0, 1]`.
    pub top_p: f64,
    /// Sampling seed; a random one when absent.
    pub seed: Option<u64>,
    /// Stop sequences: the text ends before the first occurrence of any.
    pub stop: Vec<String>,
}

/// A parsed, validated request of either endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct CompletionRequest {
    /// The model id (`subnet-N`, or a grid subnet's model name).
    pub model: String,
    /// The prompt or messages.
    pub input: PromptInput,
    /// Sampling settings.
    pub sampling: Sampling,
    /// Server-sent events instead of one JSON body.
    pub stream: bool,
    /// With `stream`, a last chunk carrying `usage`.
    pub include_usage: bool,
}

impl CompletionRequest {
    /// The request field holding the prompt (`prompt` or `messages`), for error messages.
    pub fn prompt_field(&self) -> &'static str {
        match self.input {
            PromptInput::Text(_) => "prompt",
            PromptInput::Chat(_) => "messages",
        }
    }

    /// Parses a `/v1/completions` body.
    pub fn completion(body: &[u8]) -> Result<Self> {
        let obj = object(body)?;
        let prompt = match obj.get("prompt") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(items)) => match items.as_slice() {
                [Value::String(s)] => s.clone(),
                _ => {
                    return Err(GatewayError::field(
                        "prompt",
                        "prompt must be a string or a list of exactly one string",
                    ))
                }
            },
            None | Some(Value::Null) => {
                return Err(GatewayError::field("prompt", "prompt is required"))
            }
            Some(_) => return Err(GatewayError::field("prompt", "prompt must be a string")),
        };
        Self::common(&obj, PromptInput::Text(prompt), false)
    }

    /// Parses a `/v1/chat/completions` body.
    pub fn chat(body: &[u8]) -> Result<Self> {
        let obj = object(body)?;
        let Some(Value::Array(items)) = obj.get("messages") else {
            return Err(GatewayError::field("messages", "messages must be a non-empty list"));
        };
        if items.is_empty() {
            return Err(GatewayError::field("messages", "messages must be a non-empty list"));
        }
        let messages = items
            .iter()
            .enumerate()
            .map(|(i, m)| message(i, m))
            .collect::<Result<Vec<ChatMessage>>>()?;
        Self::common(&obj, PromptInput::Chat(messages), true)
    }

    fn common(obj: &Map<String, Value>, input: PromptInput, chat: bool) -> Result<Self> {
        let model = match obj.get("model") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(GatewayError::field("model", "model must be a non-empty string")),
        };
        let mut max_tokens = opt_u32(obj, "max_tokens")?;
        if chat && max_tokens.is_none() {
            max_tokens = opt_u32(obj, "max_completion_tokens")?;
        }
        let max_tokens = max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
        if max_tokens == 0 {
            return Err(GatewayError::field("max_tokens", "max_tokens must be at least 1"));
        }
        let temperature = opt_f64(obj, "temperature")?.unwrap_or(1.0);
        if !(0.0..=MAX_TEMPERATURE).contains(&temperature) {
            return Err(GatewayError::field(
                "temperature",
                format!("temperature {temperature} is outside [0, {MAX_TEMPERATURE}]"),
            ));
        }
        let top_p = opt_f64(obj, "top_p")?.unwrap_or(1.0);
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(GatewayError::field("top_p", format!("top_p {top_p} is outside (0, 1]")));
        }
        let seed = match obj.get("seed") {
            None | Some(Value::Null) => None,
            Some(v) => match (v.as_u64(), v.as_i64()) {
                (Some(s), _) => Some(s),
                (None, Some(s)) => Some(s.unsigned_abs()),
                _ => return Err(GatewayError::field("seed", "seed must be an integer")),
            },
        };
        let stop = match obj.get("stop") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| GatewayError::field("stop", "stop must be a list of strings"))?,
            Some(_) => {
                return Err(GatewayError::field("stop", "stop must be a string or a list of them"))
            }
        };
        if stop.len() > MAX_STOP || stop.iter().any(String::is_empty) {
            return Err(GatewayError::field(
                "stop",
                format!("stop takes at most {MAX_STOP} non-empty strings"),
            ));
        }
        let stream = opt_bool(obj, "stream")?.unwrap_or(false);
        let include_usage = match obj.get("stream_options") {
            None | Some(Value::Null) => false,
            Some(Value::Object(o)) => opt_bool(o, "include_usage")
                .map_err(|_| {
                    GatewayError::field(
                        "stream_options.include_usage",
                        "include_usage must be a boolean",
                    )
                })?
                .unwrap_or(false),
            Some(_) => {
                return Err(GatewayError::field(
                    "stream_options",
                    "stream_options must be an object",
                ))
            }
        };
        if let Some(n) = opt_u32(obj, "n")? {
            if n != 1 {
                return Err(GatewayError::field("n", "only n = 1 is supported"));
            }
        }
        for (field, neutral) in [
            ("presence_penalty", Some(0.0)),
            ("frequency_penalty", Some(0.0)),
            ("best_of", Some(1.0)),
            ("logprobs", None),
            ("top_logprobs", None),
            ("logit_bias", None),
            ("suffix", None),
            ("tools", None),
            ("functions", None),
        ] {
            match (obj.get(field), neutral) {
                (None | Some(Value::Null) | Some(Value::Bool(false)), _) => {}
                (Some(v), Some(n)) if v.as_f64() == Some(n) => {}
                (Some(_), _) => {
                    return Err(GatewayError::field(field, format!("{field} is not supported")))
                }
            }
        }
        Ok(Self {
            model,
            input,
            sampling: Sampling { max_tokens, temperature, top_p, seed, stop },
            stream,
            include_usage,
        })
    }
}

fn object(body: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(GatewayError::InvalidBody("the body must be a JSON object".to_owned())),
        Err(e) => Err(GatewayError::InvalidBody(format!("the body is not valid JSON: {e}"))),
    }
}

fn message(i: usize, m: &Value) -> Result<ChatMessage> {
    let role = match m.get("role").and_then(Value::as_str) {
        Some(r @ ("system" | "developer" | "user" | "assistant")) => r.to_owned(),
        _ => {
            return Err(GatewayError::field(
                format!("messages[{i}].role"),
                "role must be one of system, developer, user, assistant",
            ))
        }
    };
    let field = || format!("messages[{i}].content");
    let content = match m.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for part in parts {
                match (part.get("type").and_then(Value::as_str), part.get("text")) {
                    (Some("text"), Some(Value::String(t))) => text.push_str(t),
                    _ => {
                        return Err(GatewayError::field(
                            field(),
                            "only text content parts are supported",
                        ))
                    }
                }
            }
            text
        }
        _ => return Err(GatewayError::field(field(), "content must be a string")),
    };
    Ok(ChatMessage { role, content })
}

fn opt_u32(obj: &Map<String, Value>, field: &str) -> Result<Option<u32>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            v.as_u64().and_then(|n| u32::try_from(n).ok()).map(Some).ok_or_else(|| {
                GatewayError::field(field, format!("{field} must be a whole number"))
            })
        }
    }
}

fn opt_f64(obj: &Map<String, Value>, field: &str) -> Result<Option<f64>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| GatewayError::field(field, format!("{field} must be a number"))),
    }
}

fn opt_bool(obj: &Map<String, Value>, field: &str) -> Result<Option<bool>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(GatewayError::field(field, format!("{field} must be a boolean"))),
    }
}

/// Token counts of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Tokens in the prompt (after the chat template), in the subnet's tokenizer.
    pub prompt_tokens: u32,
    /// Tokens the miner generated.
    pub completion_tokens: u32,
    /// The sum.
    pub total_tokens: u32,
}

impl Usage {
    /// Usage of `prompt` and `completion` tokens.
    pub fn new(prompt: usize, completion: usize) -> Self {
        let p = u32::try_from(prompt).unwrap_or(u32::MAX);
        let c = u32::try_from(completion).unwrap_or(u32::MAX);
        Self { prompt_tokens: p, completion_tokens: c, total_tokens: p.saturating_add(c) }
    }
}

/// Why generation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A stop sequence or the end-of-text token.
    Stop,
    /// `max_tokens` reached.
    Length,
}

/// The finished text of one request, as the server sends it.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// `cmpl-…` / `chatcmpl-…`.
    pub id: String,
    /// Unix seconds.
    pub created: u64,
    /// The model id.
    pub model: String,
    /// The text (stop sequences applied).
    pub text: String,
    /// Why it ended.
    pub finish_reason: FinishReason,
    /// Token counts.
    pub usage: Usage,
}

impl Answer {
    /// The `/v1/completions` response body.
    pub fn completion_json(&self) -> Value {
        serde_json::json!({
            "id": self.id, "object": "text_completion", "created": self.created,
            "model": self.model,
            "choices": [{ "text": self.text, "index": 0, "logprobs": null,
                          "finish_reason": self.finish_reason }],
            "usage": self.usage,
        })
    }

    /// The `/v1/chat/completions` response body.
    pub fn chat_json(&self) -> Value {
        serde_json::json!({
            "id": self.id, "object": "chat.completion", "created": self.created,
            "model": self.model,
            "choices": [{ "index": 0, "logprobs": null, "finish_reason": self.finish_reason,
                          "message": { "role": "assistant", "content": self.text } }],
            "usage": self.usage,
        })
    }

    /// One `/v1/completions` stream chunk: `text`, and `finish` on the last one.
    pub fn completion_chunk(&self, text: &str, finish: Option<FinishReason>) -> Value {
        serde_json::json!({
            "id": self.id, "object": "text_completion", "created": self.created,
            "model": self.model,
            "choices": [{ "text": text, "index": 0, "logprobs": null, "finish_reason": finish }],
        })
    }

    /// One `/v1/chat/completions` stream chunk with `delta`, and `finish` on the last one.
    pub fn chat_chunk(&self, delta: Value, finish: Option<FinishReason>) -> Value {
        serde_json::json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }],
        })
    }

    /// The last chunk of a stream with `include_usage`: no choices, the usage.
    pub fn usage_chunk(&self, chat: bool) -> Value {
        let object = if chat { "chat.completion.chunk" } else { "text_completion" };
        serde_json::json!({
            "id": self.id, "object": object, "created": self.created, "model": self.model,
            "choices": [], "usage": self.usage,
        })
    }
}

/// Cuts `text` before the first occurrence of any stop sequence; true if one was found.
pub fn apply_stop(text: &str, stop: &[String]) -> (String, bool) {
    let cut = stop.iter().filter_map(|s| text.find(s.as_str())).min();
    match cut.and_then(|at| text.get(..at)) {
        Some(head) => (head.to_owned(), true),
        None => (text.to_owned(), false),
    }
}

/// The `GET /v1/models` body for `ids`.
pub fn models_json(ids: &[String], created: u64) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| {
            serde_json::json!({"id": id, "object": "model", "created": created,
                                     "owned_by": "subtensor"})
        })
        .collect();
    serde_json::json!({ "object": "list", "data": data })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: GatewayError) -> String {
        match e {
            GatewayError::InvalidField { field, .. } => field,
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn parses_completions_and_chat() {
        let r = CompletionRequest::completion(
            br#"{"model":"subnet-1","prompt":["hi"],"max_tokens":5,"stop":"x","stream":true,
                "stream_options":{"include_usage":true},"seed":7,"n":1}"#,
        )
        .unwrap();
        assert_eq!(r.input, PromptInput::Text("hi".into()));
        assert_eq!(r.sampling.max_tokens, 5);
        assert_eq!(r.sampling.stop, vec!["x".to_owned()]);
        assert_eq!(r.sampling.seed, Some(7));
        assert!(r.stream && r.include_usage);
        let r = CompletionRequest::chat(
            br#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]}"#,
        )
        .unwrap();
        assert_eq!(r.prompt_field(), "messages");
        assert_eq!(r.sampling.max_tokens, DEFAULT_MAX_TOKENS);
    }

    #[test]
    fn bad_fields_are_named() {
        let bad =
            |body: &str| field_of(CompletionRequest::completion(body.as_bytes()).unwrap_err());
        assert_eq!(bad(r#"{"prompt":"a"}"#), "model");
        assert_eq!(bad(r#"{"model":"m"}"#), "prompt");
        assert_eq!(bad(r#"{"model":"m","prompt":"a","max_tokens":-1}"#), "max_tokens");
        assert_eq!(bad(r#"{"model":"m","prompt":"a","max_tokens":0}"#), "max_tokens");
        assert_eq!(bad(r#"{"model":"m","prompt":"a","temperature":3}"#), "temperature");
        assert_eq!(bad(r#"{"model":"m","prompt":"a","top_p":0}"#), "top_p");
        assert_eq!(bad(r#"{"model":"m","prompt":"a","n":2}"#), "n");
        assert_eq!(bad(r#"{"model":"m","prompt":"a","stop":[1]}"#), "stop");
        assert_eq!(bad(r#"{"model":"m","prompt":"a","stream":"yes"}"#), "stream");
        assert_eq!(bad(r#"{"model":"m","prompt":"a","logprobs":3}"#), "logprobs");
        let chat = |body: &str| field_of(CompletionRequest::chat(body.as_bytes()).unwrap_err());
        assert_eq!(chat(r#"{"model":"m","messages":[]}"#), "messages");
        assert_eq!(
            chat(r#"{"model":"m","messages":[{"role":"x","content":"a"}]}"#),
            "messages[0].role"
        );
        assert!(matches!(CompletionRequest::completion(b"[1]"), Err(GatewayError::InvalidBody(_))));
    }

    #[test]
    fn stop_cuts_at_the_earliest_match() {
        let stops = vec!["c".to_owned(), "b".to_owned()];
        assert_eq!(apply_stop("abcd", &stops), ("a".to_owned(), true));
        assert_eq!(apply_stop("xyz", &stops), ("xyz".to_owned(), false));
    }
}
