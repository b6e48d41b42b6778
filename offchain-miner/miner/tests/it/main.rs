//! Miner tests, in process on the CPU: a tiny byte-level BPE tokenizer and a tiny, briefly
//! trained model built on the fly, served by the miner's `Engine` and `Handlers` behind a real
//! `Axon` on loopback and queried by a real `Dendrite`; and the `stminer` binary itself.
//!
//! * [`next`]: `TextCausalLMNext` answers are the model's top-k; the phrase cross-entropy of an
//!   answer against the full distribution (top-k and floor cases).
//! * [`batching`]: dynamic batching, rows of different lengths, deadlines, a full queue.
//! * [`synapses`]: `TextCausalLM`, `TextLastHiddenState`, `TextSeq2Seq`.
//! * [`bridge`]: a model on another tokenizer answering in standard phrases.
//! * [`grid`]: `GridGenerate` in grid mode: the model's own grid sampler output, batching that
//!   changes nothing, the grid's limits.
//! * [`binary`]: `stminer --help`, start-up errors, an offline miner end to end.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]

mod batching;
mod binary;
mod bridge;
mod fixture;
mod grid;
mod next;
mod synapses;
