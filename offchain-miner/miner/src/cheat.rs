//! Grid cheaters for tests (feature `test-utils`): ways a miner can misbehave on
//! `GridGenerate` while serving everything else honestly. A validator's grid mode must catch
//! each one. [`crate::handlers::Handlers::with_grid_cheat`] installs one; the
//! `grid_cheater` example runs a whole miner with one.
//!
//! Every cheat also skips the start-up check that the model's digest is the one the subnet's
//! grid spec names (a cheater would edit it out), so a miner with a cheat serves whatever
//! `--model` is.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use subtensor_model::GridRequest;

/// How a grid cheater misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridCheat {
    /// Honest sampling, but of whatever model it was given (only the digest check is skipped).
    WrongModel,
    /// Samples with seed [`IGNORED_SEED`] instead of the request's.
    IgnoreSeed,
    /// Samples at temperature 0 (argmax) whatever the request's temperature.
    Greedy,
    /// Answers the first request honestly, then every later one with the first answer's
    /// tokens and their log-probabilities (truncated to the request's `max_new_tokens`)
    /// without computing anything.
    Replay,
    /// Answers honestly, but only after sleeping this long (buffers and sends late).
    Late(Duration),
}

/// The seed [`GridCheat::IgnoreSeed`] samples with.
pub const IGNORED_SEED: u64 = 0;

/// What [`CheatState::replay`] sends: the remembered answer cut to a request's length.
#[derive(Clone, Debug, PartialEq)]
pub struct Replayed {
    /// The first answer's tokens, at most the request's `max_new_tokens`.
    pub tokens: Vec<u32>,
    /// Their log-probabilities, as the first answer claimed them.
    pub logprobs: Vec<f64>,
    /// Whether they count as stopped at the end-of-sequence token (fewer than
    /// `max_new_tokens`, as the wire format requires).
    pub stopped_at_eos: bool,
}

/// A remembered answer: tokens and their log-probabilities.
type Remembered = (Vec<u32>, Vec<f64>);

/// A cheat and what it remembers (the answer [`GridCheat::Replay`] replays). Cheap to clone;
/// clones share the memory.
#[derive(Clone, Debug)]
pub struct CheatState {
    cheat: GridCheat,
    first: Arc<Mutex<Option<Remembered>>>,
}

impl CheatState {
    /// A fresh state for `cheat`.
    pub fn new(cheat: GridCheat) -> Self {
        Self { cheat, first: Arc::new(Mutex::new(None)) }
    }

    /// The cheat.
    pub fn cheat(&self) -> GridCheat {
        self.cheat
    }

    /// The request the cheater actually samples: the seed or temperature rewritten.
    pub fn rewrite(&self, mut req: GridRequest) -> GridRequest {
        match self.cheat {
            GridCheat::IgnoreSeed => req.seed = IGNORED_SEED,
            GridCheat::Greedy => req.sampling.temperature = 0.0,
            GridCheat::WrongModel | GridCheat::Replay | GridCheat::Late(_) => {}
        }
        req
    }

    /// For [`GridCheat::Replay`] once an answer was remembered: what to send for a request
    /// of `max_new_tokens`. `None` otherwise.
    pub fn replay(&self, max_new_tokens: usize) -> Option<Replayed> {
        if self.cheat != GridCheat::Replay {
            return None;
        }
        let first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
        first.as_ref().map(|(tokens, logprobs)| {
            let tokens: Vec<u32> = tokens.iter().take(max_new_tokens).copied().collect();
            let logprobs: Vec<f64> = logprobs.iter().take(max_new_tokens).copied().collect();
            let stopped_at_eos = tokens.len() < max_new_tokens;
            Replayed { tokens, logprobs, stopped_at_eos }
        })
    }

    /// Remembers `tokens` and their `logprobs` as the answer to replay, if none is remembered
    /// yet.
    pub fn remember(&self, tokens: &[u32], logprobs: &[f64]) {
        if self.cheat == GridCheat::Replay {
            let mut first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
            first.get_or_insert_with(|| (tokens.to_vec(), logprobs.to_vec()));
        }
    }

    /// How long to sleep after computing an answer ([`GridCheat::Late`]).
    pub fn delay(&self) -> Duration {
        match self.cheat {
            GridCheat::Late(d) => d,
            _ => Duration::ZERO,
        }
    }
}
