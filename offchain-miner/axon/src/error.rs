//! [`AxonError`]: the one error type of the crate, for both the axon and the dendrite side.
//!
//! Each variant knows the HTTP status it maps to ([`AxonError::status_code`]), following the
//! Bittensor 10.x status table (401 verification, 403 blacklist, 408 timeout, 503 unreachable or
//! overloaded …).

use http::StatusCode;

/// Errors of the wire layer, the axon pipeline and the dendrite.
#[derive(Debug, thiserror::Error)]
pub enum AxonError {
    /// The request carried no `bt_header_dendrite_signature`, or an empty one.
    #[error("missing or empty dendrite signature")]
    MissingSignature,
    /// A signature did not verify against the claimed hotkey and the signed message.
    #[error("signature verification failed")]
    BadSignature,
    /// The request was signed for a different axon hotkey than this one.
    #[error("request addressed to axon hotkey {got}, this axon is {expected}")]
    WrongAxon {
        /// This axon's hotkey (SS58).
        expected: String,
        /// The hotkey named in the request (SS58).
        got: String,
    },
    /// The nonce is older than the freshness window allows.
    #[error("nonce is too old: acceptable delta is {window_ms} ms")]
    StaleNonce {
        /// The freshness window that applied, in milliseconds.
        window_ms: u128,
    },
    /// The nonce lies too far in the future.
    #[error("nonce is too far in the future")]
    FutureNonce,
    /// The (hotkey, uuid, nonce) triple was already seen: a replay.
    #[error("nonce was already used")]
    ReplayedNonce,
    /// The nonce cache is full of unexpired entries; try again later.
    #[error("nonce cache is full")]
    NonceCacheFull,
    /// This hotkey holds its quota of unexpired nonces in the replay cache; try again later.
    #[error("too many unexpired nonces for {0}")]
    NonceQuotaExceeded(String),
    /// Every admission slot is taken and the wait queue is full (or this request was
    /// displaced from it by a higher-priority one).
    #[error("axon overloaded: {0}")]
    Overloaded(String),
    /// The blacklist hook refused this hotkey.
    #[error("Forbidden. Key is blacklisted: {0}")]
    Blacklisted(String),
    /// The hotkey exceeded its request rate.
    #[error("rate limit exceeded for {0}")]
    RateLimited(String),
    /// The hotkey has too many requests in flight.
    #[error("too many concurrent requests for {0}")]
    TooManyInFlight(String),
    /// A required header is absent.
    #[error("missing header {0}")]
    MissingHeader(String),
    /// A header is present but malformed.
    #[error("malformed header {name}: {reason}")]
    BadHeader {
        /// The header name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The body exceeds the configured limit.
    #[error("body exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not valid JSON for the synapse.
    #[error("malformed JSON body: {0}")]
    BadJson(String),
    /// The recomputed body hash differs from the `computed_body_hash` header.
    #[error("body hash mismatch: header {header}, computed {computed}")]
    BodyHashMismatch {
        /// The value of the header.
        header: String,
        /// The hash recomputed from the body.
        computed: String,
    },
    /// A synapse or tensor failed validation (shape, dtype, NaN, range).
    #[error("invalid synapse: {0}")]
    Invalid(String),
    /// No synapse of this name is served here.
    #[error("unknown synapse {0}")]
    UnknownSynapse(String),
    /// The server-side deadline (the request's timeout) passed before the handler finished.
    #[error("deadline of {0:?} exceeded")]
    Deadline(std::time::Duration),
    /// The handler failed.
    #[error("handler error: {0}")]
    Handler(String),
    /// A key or SS58 address could not be parsed.
    #[error("bad key: {0}")]
    Key(String),
    /// Dendrite: no response within the timeout.
    #[error("request timed out")]
    Timeout,
    /// Dendrite: the axon could not be reached (refused, reset, disconnected).
    #[error("axon unreachable: {0}")]
    Connect(String),
    /// Dendrite: the axon answered with a non-200 status.
    #[error("axon answered {code}: {message}")]
    Status {
        /// The HTTP status code.
        code: u16,
        /// The `message` of the error body.
        message: String,
    },
    /// Dendrite: the response could not be parsed or failed its checks.
    #[error("failed to parse response: {0}")]
    BadResponse(String),
    /// I/O error (binding, accepting).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, AxonError>;

impl AxonError {
    /// The HTTP status this error maps to (axon responses, and the dendrite's local codes).
    pub fn status_code(&self) -> StatusCode {
        use AxonError::*;
        match self {
            MissingSignature
            | BadSignature
            | WrongAxon { .. }
            | StaleNonce { .. }
            | FutureNonce
            | ReplayedNonce => StatusCode::UNAUTHORIZED,
            Blacklisted(_) => StatusCode::FORBIDDEN,
            RateLimited(_) | TooManyInFlight(_) | NonceQuotaExceeded(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            MissingHeader(_) | BadHeader { .. } | BadJson(_) | BodyHashMismatch { .. } | Key(_) => {
                StatusCode::BAD_REQUEST
            }
            BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Invalid(_) | BadResponse(_) => StatusCode::UNPROCESSABLE_ENTITY,
            UnknownSynapse(_) => StatusCode::NOT_FOUND,
            Deadline(_) | Timeout => StatusCode::REQUEST_TIMEOUT,
            NonceCacheFull | Overloaded(_) | Connect(_) => StatusCode::SERVICE_UNAVAILABLE,
            Status { code, .. } => {
                StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Handler(_) | Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message sent to the peer: internal failures get a generic text, bad input its reason.
    pub fn public_message(&self) -> String {
        match self {
            AxonError::Handler(_) | AxonError::Io(_) => "Internal Server Error".to_owned(),
            other => other.to_string(),
        }
    }
}
