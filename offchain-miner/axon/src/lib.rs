//! `subtensor-axon`: the Bittensor neuron-to-neuron HTTP layer, wire-compatible in shape with
//! bittensor 10.x.
//!
//! * [`wire`]: header names, [`wire::TerminalInfo`], the `computed_body_hash`, and the sr25519
//!   request signature `"{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}"`.
//! * [`tensor`]: `bt.Tensor` (base64 msgpack-numpy) for `float32`, `float16`, `int64`.
//! * [`synapse`]: the [`Synapse`] trait and [`TextCausalLMNext`] (top-k phrases + floor).
//! * [`axon`]: the axum server ([`Axon`]) with signature-first verification, a bounded nonce
//!   cache, a blacklist hook, per-hotkey limits, body limit, deadlines and signed responses.
//! * [`dendrite`]: the hyper client ([`Dendrite`]) with pooled connections, per-call timeouts,
//!   concurrent fan-out and response-signature checks.
//!
//! Not here: streaming synapses, the `/Synapse` ping route, metagraph-driven blacklists and
//! stake priority (callers plug those in through [`axon::Blacklist`]), and TLS.

#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

pub mod axon;
pub mod dendrite;
mod error;
pub mod synapse;
pub mod tensor;
pub mod wire;

pub use axon::{Axon, AxonConfig, Blacklist, Caller};
pub use dendrite::{AxonTarget, Dendrite, Reply, UnsignedResponses};
pub use error::{AxonError, Result};
pub use synapse::{Synapse, TextCausalLMNext, TopkPhrases};
pub use tensor::Tensor;
