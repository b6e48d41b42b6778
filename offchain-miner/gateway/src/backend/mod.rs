//! What the server asks of the network: the [`Backend`] trait (list models, generate, the
//! latency map, the organic log), the [`Directory`] trait (which miners serve which subnet) and their network
//! implementations ([`NetworkBackend`], [`ChainDirectory`], [`StaticDirectory`]).

mod directory;
mod network;

pub use directory::{
    discover_hotkey, parse_miner, ChainDirectory, Directory, Miner, StaticDirectory, Subnet,
    SubnetKind,
};
pub use network::{seq2seq_request, GridModel, NetworkBackend, NetworkConfig, MAX_FAN_OUT};

use crate::{openai::Sampling, organic::OrganicLog, Result};
use std::future::Future;

/// One generation to run.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateRequest {
    /// The model id.
    pub model: String,
    /// The prompt text (chat messages already rendered).
    pub prompt: String,
    /// The request field the prompt came from (`prompt` or `messages`), for errors.
    pub prompt_field: &'static str,
    /// Sampling settings.
    pub sampling: Sampling,
    /// Ask several miners at once and take the first good answer, or the best by the reference
    /// model (non-streaming requests); otherwise ask one and hedge to a second after its hedge
    /// delay.
    pub fan_out: bool,
}

/// A finished generation (stop sequences not yet applied).
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    /// The decoded text.
    pub text: String,
    /// Tokens in the prompt.
    pub prompt_tokens: usize,
    /// Tokens the miner generated (up to the end-of-text token, if any).
    pub completion_tokens: usize,
    /// Whether generation ended at the end-of-text token rather than at `max_tokens`.
    pub stopped: bool,
    /// The subnet that answered.
    pub netuid: u16,
    /// The miner that answered.
    pub uid: u16,
    /// The student's name when the distilled student answered instead of a miner
    /// ([`crate::student`]); `netuid` and `uid` are then meaningless.
    pub student: Option<String>,
}

/// The network as the server sees it.
pub trait Backend: Send + Sync + 'static {
    /// The model ids served now.
    fn models(&self) -> Vec<String>;

    /// Runs one generation.
    fn generate(&self, request: GenerateRequest)
        -> impl Future<Output = Result<Generation>> + Send;

    /// The latency map as JSON (`GET /map`).
    fn map_json(&self) -> serde_json::Value;

    /// The verdicts on grid calls (`GET /organic`).
    fn organic(&self) -> &OrganicLog;
}
