//! # subtensor-miner
//!
//! The miner neuron (`stminer`): it loads a language model (a directory in the Hugging Face
//! GPT-2 layout, see `subtensor-model`) and its wallet hotkey, registers on the subnet if it
//! is not registered (by burn or proof of work), publishes its axon on chain, and serves the
//! four text synapses through a `subtensor-axon` server; on a grid subnet (`--grid`) it also
//! serves `GridGenerate` with the grid sampler, after checking that its model is the one the
//! subnet's grid spec names.
//!
//! * [`engine`]: one inference thread owns the model and batches concurrent next-token
//!   requests dynamically; deadlines are honoured in the queue; a full queue answers "busy".
//! * [`bridge`]: translation between the network's standard tokenizer and the model's.
//! * [`handlers`]: the synapse handlers.
//! * [`grid`]: grid mode (`--grid`): the start-up check against the subnet's grid spec, the
//!   request limits, and the batcher that decodes concurrent `GridGenerate` requests together.
//! * [`chain`]: registration, axon publication, and the caller policy (blacklist of
//!   unregistered hotkeys, stake-weighted priority) refreshed from the metagraph.
//! * [`run`]: the process: flags, start-up, serving, graceful shutdown.
//! * `cheat` (feature `test-utils` only): grid cheaters for validator tests.

pub mod bridge;
pub mod chain;
#[cfg(feature = "test-utils")]
pub mod cheat;
pub mod engine;
mod error;
pub mod grid;
pub mod handlers;
pub mod run;

pub use error::{MinerError, Result};
