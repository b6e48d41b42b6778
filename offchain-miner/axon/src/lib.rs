//! `subtensor-axon`: the Bittensor neuron-to-neuron HTTP layer, wire-compatible in shape with
//! bittensor 10.x.
//!
//! * [`wire`]: header names, [`wire::TerminalInfo`], the `computed_body_hash`, and the sr25519
//!   request signature `"{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}"`.
//! * [`tensor`]: `bt.Tensor` (base64 msgpack-numpy) for `float32`, `float16`, `int64`.
//! * [`synapse`]: the [`Synapse`] trait and the four 2022 text synapses: [`TextCausalLMNext`]
//!   (top-k phrases + floor), [`TextCausalLM`] (top-k at every position), [`TextLastHiddenState`]
//!   (hidden states, [`synapse::NETWORK_DIM`] wide) and [`TextSeq2Seq`] (generation). Token ids
//!   are those of the network's standard tokenizer, a project-trained byte-level BPE whose
//!   vocabulary size is a run-time value; [`synapse::VOCAB_SIZE`] only bounds ids on the wire.
//!   And [`GridGenerate`], the grid subnets' verifiable generation (issue 13), in the grid
//!   model's own ids.
//! * [`loss`]: the 2022 `phrase_cross_entropy` validators score `TextCausalLMNext` answers with.
//! * [`axon`]: the axum server ([`Axon`]) with signature-first verification, a bounded nonce
//!   cache, a blacklist hook, per-hotkey limits, a global concurrency limit with a
//!   priority-ordered wait queue, body limit, deadlines and signed responses; and
//!   [`MetagraphPolicy`], the metagraph-backed blacklist and stake priority.
//! * [`dendrite`]: the hyper client ([`Dendrite`]) with pooled connections, per-call timeouts,
//!   concurrent fan-out and response-signature checks.
//!
//! Not here: streaming synapses, the `/Synapse` ping route, reading the metagraph from the chain
//! (the miner feeds [`MetagraphPolicy::update`]), and TLS.

#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

pub mod axon;
pub mod dendrite;
mod error;
pub mod loss;
pub mod synapse;
pub mod tensor;
pub mod wire;

pub use axon::{Axon, AxonConfig, Blacklist, Caller, Member, MetagraphPolicy, Priority};
pub use dendrite::{AxonTarget, Dendrite, Reply, UnsignedResponses};
pub use error::{AxonError, Result};
pub use loss::{phrase_cross_entropy, PhraseLoss};
pub use synapse::{
    GridGenerate, Synapse, TextCausalLM, TextCausalLMNext, TextLastHiddenState, TextSeq2Seq,
    TokenProbs, TopkPhrases,
};
pub use tensor::Tensor;
