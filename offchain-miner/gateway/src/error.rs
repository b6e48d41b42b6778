//! [`GatewayError`]: the one error type of the crate, and its OpenAI-shaped HTTP form
//! `{"error": {"message", "type", "param", "code"}}`.
//!
//! | variant | status | `type` | `code` |
//! |---|---|---|---|
//! | [`GatewayError::Unauthorized`] | 401 | `invalid_request_error` | `invalid_api_key` |
//! | [`GatewayError::RateLimited`] | 429 | `rate_limit_error` | `rate_limit_exceeded` |
//! | [`GatewayError::InvalidField`] | 400 | `invalid_request_error` | `invalid_value` (`param`: the field) |
//! | [`GatewayError::InvalidBody`] | 400 | `invalid_request_error` | `invalid_body` |
//! | [`GatewayError::UnknownModel`] | 404 | `invalid_request_error` | `model_not_found` |
//! | [`GatewayError::NotFound`] | 404 | `invalid_request_error` | `not_found` |
//! | [`GatewayError::NoMiner`], [`GatewayError::MinersFailed`] | 503 | `service_unavailable` | `no_miner` / `miners_failed` |
//! | anything else | 500 | `server_error` | `internal_error` |

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;
use std::path::PathBuf;

/// Everything that can go wrong in the gateway.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The request carried no API key, or one that is not in the key file.
    #[error("{0}")]
    Unauthorized(String),
    /// The key (or, without authentication, the client address) exceeded its request rate.
    #[error("rate limit exceeded: at most {rate} requests/s (burst {burst}) per key")]
    RateLimited {
        /// The configured rate, requests per second.
        rate: f64,
        /// The configured burst.
        burst: f64,
    },
    /// A request field is missing, of the wrong type or out of range.
    #[error("{message}")]
    InvalidField {
        /// The field, as the client named it (`max_tokens`, `messages[1].content` …).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The body is not a JSON object.
    #[error("{0}")]
    InvalidBody(String),
    /// No subnet serves this model id.
    #[error("the model `{0}` does not exist: GET /v1/models lists the models served")]
    UnknownModel(String),
    /// No such route.
    #[error("no route {0}")]
    NotFound(String),
    /// The model's subnet has no miner that can be queried now.
    #[error("no miner can serve `{0}` now")]
    NoMiner(String),
    /// Every miner tried failed or missed the deadline.
    #[error("no miner answered `{model}`: {reasons}")]
    MinersFailed {
        /// The model asked for.
        model: String,
        /// One `uid N: why` per miner tried.
        reasons: String,
    },
    /// A flag or a configuration file is wrong.
    #[error("{0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Tokenizer or model files.
    #[error(transparent)]
    Model(#[from] subtensor_model::ModelError),
    /// The chain client.
    #[error(transparent)]
    Chain(#[from] subtensor_client::ClientError),
    /// The wallet.
    #[error(transparent)]
    Wallet(#[from] subtensor_wallet::WalletError),
    /// The axon / dendrite layer.
    #[error(transparent)]
    Axon(#[from] subtensor_axon::AxonError),
    /// JSON (de)serialisation of the gateway's own data (the latency map file).
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The crate's result type.
pub type Result<T, E = GatewayError> = std::result::Result<T, E>;

impl GatewayError {
    /// An [`GatewayError::InvalidField`].
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidField { field: field.into(), message: message.into() }
    }

    /// An [`GatewayError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::InvalidField { .. } | Self::InvalidBody(_) => StatusCode::BAD_REQUEST,
            Self::UnknownModel(_) | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::NoMiner(_) | Self::MinersFailed { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// OpenAI's `type`, `code` and `param` for this error.
    fn kind(&self) -> (&'static str, &'static str, Option<&str>) {
        match self {
            Self::Unauthorized(_) => ("invalid_request_error", "invalid_api_key", None),
            Self::RateLimited { .. } => ("rate_limit_error", "rate_limit_exceeded", None),
            Self::InvalidField { field, .. } => {
                ("invalid_request_error", "invalid_value", Some(field.as_str()))
            }
            Self::InvalidBody(_) => ("invalid_request_error", "invalid_body", None),
            Self::UnknownModel(_) => ("invalid_request_error", "model_not_found", Some("model")),
            Self::NotFound(_) => ("invalid_request_error", "not_found", None),
            Self::NoMiner(_) => ("service_unavailable", "no_miner", None),
            Self::MinersFailed { .. } => ("service_unavailable", "miners_failed", None),
            _ => ("server_error", "internal_error", None),
        }
    }

    /// The OpenAI-shaped JSON body.
    pub fn to_json(&self) -> serde_json::Value {
        let (kind, code, param) = self.kind();
        json!({ "error": { "message": self.to_string(), "type": kind, "param": param, "code": code } })
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.to_json())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_openai_shape() {
        let e = GatewayError::field("max_tokens", "must be at least 1");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let v = e.to_json();
        assert_eq!(v["error"]["param"], "max_tokens");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["message"], "must be at least 1");
        let e = GatewayError::RateLimited { rate: 1.0, burst: 2.0 };
        assert_eq!(e.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(e.to_json()["error"]["param"].is_null());
        assert_eq!(GatewayError::NoMiner("m".into()).status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(GatewayError::UnknownModel("m".into()).status(), StatusCode::NOT_FOUND);
        assert_eq!(GatewayError::Unauthorized("x".into()).status(), StatusCode::UNAUTHORIZED);
    }
}
