//! `subtensor-gateway`: an OpenAI-compatible HTTP API over the network's miners (`stgateway`).
//!
//! * [`openai`]: request parsing (a bad field is named in the error), responses, chunks.
//! * [`error`]: [`GatewayError`], the crate's one error type, and its OpenAI-shaped JSON.
//! * [`keys`]: API keys from a file and per-key token-bucket rate limits.
//! * [`prompt`]: the chat prompt format (`"{role}: {content}\n"` … `"assistant:"`).
//! * [`latency`]: the latency map (per miner: RTT EWMA, TTFT p50/p90, tokens/s, outcomes over
//!   the recent window, in flight), saved atomically and restored.
//! * [`rank`]: ranking heterogeneous answers by a reference model's mean token log-probability.
//! * [`route`]: the routing policy (weighted choice, power of two choices, hedge delay).
//! * [`organic`]: the verdicts on grid calls (verified / rejected / failed) that the validator
//!   folds into its grid scores (organic scoring; `GET /organic`).
//! * [`backend`]: the [`backend::Backend`] trait the server uses, the [`backend::Directory`]
//!   of miners (chain metagraph or `--offline` list), and the network implementation.
//! * [`server`]: the axum routes, SSE streaming, `/health`, `/map`, `/organic`.
//! * [`config`], [`run`]: the `stgateway` command line and main loop.
//!
//! Not here yet: a streaming synapse (miners answer whole generations; streamed responses
//! start when the chosen answer arrives).

#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

pub mod backend;
pub mod config;
pub mod error;
pub mod gate;
pub mod keys;
pub mod latency;
pub mod openai;
pub mod organic;
pub mod prompt;
pub mod rank;
pub mod route;
pub mod run;
pub mod server;
pub mod student;
#[cfg(feature = "test-utils")]
pub mod test_utils;

pub use config::Args;
pub use error::{GatewayError, Result};
pub use run::run;

/// A small random model (vocabulary 40, context 12) for the crate's unit tests.
#[cfg(test)]
pub(crate) fn tiny_test_model() -> subtensor_model::LanguageModel {
    let config = subtensor_model::GptConfig {
        vocab_size: 40,
        n_positions: 12,
        n_embd: 16,
        n_layer: 1,
        n_head: 2,
        layer_norm_epsilon: 1e-5,
    };
    subtensor_model::LanguageModel::random(config, subtensor_model::Device::Cpu, 3).unwrap()
}
