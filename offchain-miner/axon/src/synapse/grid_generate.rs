//! [`GridGenerate`]: one verifiable generation on a grid subnet (issue 13): a prompt of
//! model-native ids, the grid sampler's parameters and seed in; the sampled tokens, each
//! token's log-probability under the model, when each was produced, and whether generation
//! stopped at the end-of-sequence token out.
//!
//! On a grid subnet every miner serves the one model named by the subnet's on-chain grid spec
//! (its digest covers the tokenizer too), so ids on this synapse are that model's own ids, not
//! the standard tokenizer's. The validator re-runs the model over the prompt and the tokens and
//! checks each token against the sampler (`subtensor_model::grid`) and each claimed
//! log-probability against its own (a slightly different model mostly samples the same
//! tokens but cannot reproduce these), so the tokens and the log-probabilities are covered by
//! the body hash (and by the axon's response signature).
//!
//! # Wire form
//!
//! Plain JSON (no `bt.Tensor`): the prompt and the tokens are lists of integers, the
//! log-probabilities and the times lists of floats. A Python counterpart is
//!
//! ```python
//! class GridGenerate(bt.Synapse):
//!     prompt: list[int]
//!     seed: int
//!     max_new_tokens: int
//!     temperature: float = 1.0
//!     top_k: int = 0
//!     top_p: float = 1.0
//!     tokens: Optional[list[int]] = None
//!     token_logprobs: Optional[list[float]] = None
//!     token_times_ms: Optional[list[float]] = None
//!     stopped_at_eos: Optional[bool] = None
//!     required_hash_fields: ClassVar[tuple[str, ...]] = (
//!         "prompt", "seed", "temperature", "top_k", "top_p", "max_new_tokens", "tokens",
//!         "token_logprobs", "stopped_at_eos")
//! ```
//!
//! The hashed form of `token_logprobs` is Python's `str()` of the list of floats (`repr` of
//! each, shortest round-trip digits: `[-0.5, -1.25e-05]`), as for the float request fields.

use super::{Synapse, VOCAB_SIZE};
use crate::{wire::python_float, AxonError, Result};

/// Highest log-probability accepted: 0 plus slack for rounding (a probability of 1 computed
/// in floating point may come out a hair above 0).
pub const MAX_GRID_LOGPROB: f64 = 1e-9;
use serde::{Deserialize, Serialize};

/// Most tokens one request may ask to generate (a subnet's grid spec may allow fewer).
pub const MAX_GRID_NEW_TOKENS: u32 = 1024;

/// Longest prompt accepted, in tokens (a subnet's grid spec and the model's context may
/// allow fewer).
pub const MAX_GRID_PROMPT: usize = 8192;

/// Highest sampling temperature accepted (at 10 sampling is nearly uniform already).
pub const MAX_GRID_TEMPERATURE: f64 = 10.0;

/// The grid sampler's parameters of a [`GridGenerate`] request.
///
/// [`Default`] is a convenience (plain sampling at temperature 1, seed 0, 64 new tokens): on
/// the wire `seed` and `max_new_tokens` have no default.
#[derive(Clone, Debug, PartialEq)]
pub struct GridParams {
    /// Seed of the sampler's noise.
    pub seed: u64,
    /// Softmax temperature, finite, `0..=MAX_GRID_TEMPERATURE`; 0 is greedy.
    pub temperature: f64,
    /// Sample among the `top_k` highest-scoring tokens; 0 turns the mask off. At most
    /// [`VOCAB_SIZE`].
    pub top_k: u32,
    /// Nucleus mass, in `(0, 1]` (1: no mask).
    pub top_p: f64,
    /// Most tokens to generate, `1..=MAX_GRID_NEW_TOKENS`.
    pub max_new_tokens: u32,
}

impl Default for GridParams {
    fn default() -> Self {
        Self { seed: 0, temperature: 1.0, top_k: 0, top_p: 1.0, max_new_tokens: 64 }
    }
}

impl GridParams {
    /// Checks every parameter against its bounds.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(AxonError::Invalid(m));
        if !(self.temperature.is_finite()
            && (0.0..=MAX_GRID_TEMPERATURE).contains(&self.temperature))
        {
            return bad(format!(
                "temperature {} must be finite and in [0, {MAX_GRID_TEMPERATURE}]",
                self.temperature
            ));
        }
        if self.top_k > VOCAB_SIZE {
            return bad(format!("top_k {} above {VOCAB_SIZE}", self.top_k));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad(format!("top_p {} outside (0, 1]", self.top_p));
        }
        if !(1..=MAX_GRID_NEW_TOKENS).contains(&self.max_new_tokens) {
            return bad(format!(
                "max_new_tokens {} outside 1..={MAX_GRID_NEW_TOKENS}",
                self.max_new_tokens
            ));
        }
        Ok(())
    }
}

/// A filled [`GridGenerate`] response.
#[derive(Clone, Debug, PartialEq)]
pub struct GridAnswer {
    /// The generated ids (model-native), without the end-of-sequence token.
    pub tokens: Vec<u32>,
    /// For each token, its log-probability under the model's raw distribution (temperature 1,
    /// no masks: `subtensor_model::token_logprob`), finite and `<= MAX_GRID_LOGPROB`.
    pub token_logprobs: Vec<f64>,
    /// For each token, milliseconds from the request's arrival at the miner to its production.
    pub token_times_ms: Vec<f64>,
    /// Whether generation stopped because the end-of-sequence token was sampled.
    pub stopped_at_eos: bool,
}

/// Grid generation: continue `prompt` with the grid sampler under `seed`.
///
/// Request: `prompt` (a non-empty JSON list of model ids `< VOCAB_SIZE`, at most
/// [`MAX_GRID_PROMPT`]), `seed`, `max_new_tokens` (required), and `temperature`, `top_k`,
/// `top_p` (defaults 1.0, 0, 1.0); bounds in [`GridParams::validate`].
///
/// Response: `tokens` (at most `max_new_tokens` ids), `token_logprobs` (one per token, finite,
/// `≤` [`MAX_GRID_LOGPROB`]: each token's log-probability under the model at temperature 1,
/// without masks), `token_times_ms` (one per token, finite, `≥ 0`, non-decreasing:
/// milliseconds since the request reached the miner), and
/// `stopped_at_eos`, which must be true exactly when fewer than `max_new_tokens` tokens came
/// back (generation ends at the end-of-sequence token or at `max_new_tokens`, nowhere else).
///
/// Hashed: every request field, `tokens`, `token_logprobs` and `stopped_at_eos`;
/// `token_times_ms` is not (a self-reported figure; the validator measures time to first token
/// itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridGenerate {
    /// The prompt: model-native token ids.
    pub prompt: Vec<u32>,
    /// See [`GridParams::seed`].
    pub seed: u64,
    /// See [`GridParams::temperature`].
    #[serde(default = "defaults::temperature")]
    pub temperature: f64,
    /// See [`GridParams::top_k`].
    #[serde(default)]
    pub top_k: u32,
    /// See [`GridParams::top_p`].
    #[serde(default = "defaults::top_p")]
    pub top_p: f64,
    /// See [`GridParams::max_new_tokens`].
    pub max_new_tokens: u32,
    /// The generated ids, filled by the axon.
    #[serde(default)]
    pub tokens: Option<Vec<u32>>,
    /// Each generated token's log-probability under the model, filled by the axon.
    #[serde(default)]
    pub token_logprobs: Option<Vec<f64>>,
    /// Per-token times in milliseconds since the request's arrival, filled by the axon.
    #[serde(default)]
    pub token_times_ms: Option<Vec<f64>>,
    /// Whether generation stopped at the end-of-sequence token, filled by the axon.
    #[serde(default)]
    pub stopped_at_eos: Option<bool>,
}

/// Serde defaults of [`GridGenerate`], from [`GridParams::default`].
mod defaults {
    use super::GridParams;
    pub(super) fn temperature() -> f64 {
        GridParams::default().temperature
    }
    pub(super) fn top_p() -> f64 {
        GridParams::default().top_p
    }
}

/// Python `str()` of a list of ints.
fn int_list_repr(ids: &[u32]) -> String {
    let items: Vec<String> = ids.iter().map(u32::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// Python `str()` of a list of floats.
fn float_list_repr(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|&v| python_float(v)).collect();
    format!("[{}]", items.join(", "))
}

impl GridGenerate {
    /// A request to continue `prompt` with `params`.
    pub fn request(prompt: &[u32], params: &GridParams) -> Result<Self> {
        let s = Self {
            prompt: prompt.to_vec(),
            seed: params.seed,
            temperature: params.temperature,
            top_k: params.top_k,
            top_p: params.top_p,
            max_new_tokens: params.max_new_tokens,
            tokens: None,
            token_logprobs: None,
            token_times_ms: None,
            stopped_at_eos: None,
        };
        s.validate_request()?;
        Ok(s)
    }

    /// The sampling parameters of this request (unvalidated; see [`GridParams::validate`]).
    pub fn params(&self) -> GridParams {
        GridParams {
            seed: self.seed,
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            max_new_tokens: self.max_new_tokens,
        }
    }

    /// Fills the response; on an invalid answer (see [`GridGenerate`]) the synapse is left
    /// unchanged.
    pub fn set_outputs(&mut self, answer: GridAnswer) -> Result<()> {
        let previous = (
            self.tokens.take(),
            self.token_logprobs.take(),
            self.token_times_ms.take(),
            self.stopped_at_eos.take(),
        );
        self.tokens = Some(answer.tokens);
        self.token_logprobs = Some(answer.token_logprobs);
        self.token_times_ms = Some(answer.token_times_ms);
        self.stopped_at_eos = Some(answer.stopped_at_eos);
        if let Err(e) = self.outputs() {
            (self.tokens, self.token_logprobs, self.token_times_ms, self.stopped_at_eos) = previous;
            return Err(e);
        }
        Ok(())
    }

    /// The validated answer.
    pub fn outputs(&self) -> Result<GridAnswer> {
        let bad = |m: String| Err(AxonError::Invalid(m));
        let (Some(tokens), Some(logprobs), Some(times), Some(stopped)) =
            (&self.tokens, &self.token_logprobs, &self.token_times_ms, self.stopped_at_eos)
        else {
            return bad(
                "tokens, token_logprobs, token_times_ms and stopped_at_eos are required".to_owned()
            );
        };
        let max = usize::try_from(self.max_new_tokens).unwrap_or(usize::MAX);
        if tokens.len() > max {
            return bad(format!("{} tokens for max_new_tokens {max}", tokens.len()));
        }
        if times.len() != tokens.len() {
            return bad(format!("{} token times for {} tokens", times.len(), tokens.len()));
        }
        if logprobs.len() != tokens.len() {
            return bad(format!(
                "{} token log-probabilities for {} tokens",
                logprobs.len(),
                tokens.len()
            ));
        }
        if let Some(l) = logprobs.iter().find(|l| !(l.is_finite() && **l <= MAX_GRID_LOGPROB)) {
            return bad(format!(
                "token log-probability {l} must be finite and <= {MAX_GRID_LOGPROB}"
            ));
        }
        if let Some(id) = tokens.iter().find(|&&id| id >= VOCAB_SIZE) {
            return bad(format!("generated id {id} out of range"));
        }
        if stopped != (tokens.len() < max) {
            return bad(format!(
                "stopped_at_eos is {stopped} for {} of {max} tokens: generation ends at the \
                 end-of-sequence token or at max_new_tokens",
                tokens.len()
            ));
        }
        if times.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
            return bad("token times must be finite and >= 0".to_owned());
        }
        if times.windows(2).any(|w| matches!(w, [a, b] if b < a)) {
            return bad("token times must be non-decreasing".to_owned());
        }
        Ok(GridAnswer {
            tokens: tokens.clone(),
            token_logprobs: logprobs.clone(),
            token_times_ms: times.clone(),
            stopped_at_eos: stopped,
        })
    }

    /// Checks the prompt: non-empty, at most [`MAX_GRID_PROMPT`], ids `< VOCAB_SIZE`.
    fn check_prompt(&self) -> Result<()> {
        if !(1..=MAX_GRID_PROMPT).contains(&self.prompt.len()) {
            return Err(AxonError::Invalid(format!(
                "prompt of {} tokens outside 1..={MAX_GRID_PROMPT}",
                self.prompt.len()
            )));
        }
        match self.prompt.iter().find(|&&id| id >= VOCAB_SIZE) {
            Some(id) => Err(AxonError::Invalid(format!("prompt: token id {id} out of range"))),
            None => Ok(()),
        }
    }
}

impl Synapse for GridGenerate {
    const NAME: &'static str = "GridGenerate";
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &[
        "prompt",
        "seed",
        "temperature",
        "top_k",
        "top_p",
        "max_new_tokens",
        "tokens",
        "token_logprobs",
        "stopped_at_eos",
    ];
    const REQUIRED_INPUT_DEFAULTS: &'static [(&'static str, &'static str)] =
        &[("prompt", "[]"), ("seed", "0"), ("max_new_tokens", "0")];

    fn hash_field_repr(&self, field: &str) -> Option<String> {
        Some(match field {
            "prompt" => int_list_repr(&self.prompt),
            "seed" => self.seed.to_string(),
            "temperature" => python_float(self.temperature),
            "top_k" => self.top_k.to_string(),
            "top_p" => python_float(self.top_p),
            "max_new_tokens" => self.max_new_tokens.to_string(),
            "tokens" => self.tokens.as_deref().map_or_else(|| "None".to_owned(), int_list_repr),
            "token_logprobs" => {
                self.token_logprobs.as_deref().map_or_else(|| "None".to_owned(), float_list_repr)
            }
            "stopped_at_eos" => match self.stopped_at_eos {
                None => "None",
                Some(true) => "True",
                Some(false) => "False",
            }
            .to_owned(),
            _ => return None,
        })
    }

    fn validate_request(&self) -> Result<()> {
        self.params().validate()?;
        self.check_prompt()?;
        // Requests normally carry no outputs; if one does, it must at least be bounded.
        let max = usize::try_from(self.max_new_tokens).unwrap_or(usize::MAX);
        if self.tokens.as_ref().is_some_and(|t| t.len() > max)
            || self.token_logprobs.as_ref().is_some_and(|t| t.len() > max)
            || self.token_times_ms.as_ref().is_some_and(|t| t.len() > max)
        {
            return Err(AxonError::Invalid("outputs longer than max_new_tokens".to_owned()));
        }
        Ok(())
    }

    fn validate_response(&self) -> Result<()> {
        self.params().validate()?;
        self.check_prompt()?;
        self.outputs().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{body_hash_of, parse_hotkey, response_message, sha3_hex, sign, verify};

    fn params(max_new_tokens: u32) -> GridParams {
        GridParams { seed: 42, temperature: 0.7, top_k: 40, top_p: 0.9, max_new_tokens }
    }

    fn answer(tokens: Vec<u32>, stopped_at_eos: bool) -> GridAnswer {
        let token_times_ms = (0..tokens.len()).map(|i| 5.0 + i as f64 * 1.5).collect();
        let token_logprobs = (0..tokens.len()).map(|i| -0.25 - i as f64).collect();
        GridAnswer { tokens, token_logprobs, token_times_ms, stopped_at_eos }
    }

    /// A valid answer of three tokens with `f` applied.
    fn three(f: impl FnOnce(&mut GridAnswer)) -> GridAnswer {
        let mut a = answer(vec![1, 2, 3], false);
        f(&mut a);
        a
    }

    #[test]
    fn bounds() {
        let p = params(8);
        GridGenerate::request(&[1, 2, 3], &p).unwrap();
        GridGenerate::request(&[VOCAB_SIZE - 1], &GridParams { temperature: 0.0, ..p.clone() })
            .unwrap();
        GridGenerate::request(
            &[1],
            &GridParams {
                temperature: MAX_GRID_TEMPERATURE,
                top_k: VOCAB_SIZE,
                top_p: 1.0,
                max_new_tokens: MAX_GRID_NEW_TOKENS,
                ..p.clone()
            },
        )
        .unwrap();
        let bad = [
            GridParams { temperature: -0.1, ..p.clone() },
            GridParams { temperature: f64::NAN, ..p.clone() },
            GridParams { temperature: f64::INFINITY, ..p.clone() },
            GridParams { temperature: MAX_GRID_TEMPERATURE + 0.5, ..p.clone() },
            GridParams { top_k: VOCAB_SIZE + 1, ..p.clone() },
            GridParams { top_p: 0.0, ..p.clone() },
            GridParams { top_p: 1.01, ..p.clone() },
            GridParams { top_p: f64::NAN, ..p.clone() },
            GridParams { max_new_tokens: 0, ..p.clone() },
            GridParams { max_new_tokens: MAX_GRID_NEW_TOKENS + 1, ..p.clone() },
        ];
        for b in bad {
            assert!(GridGenerate::request(&[1], &b).is_err(), "{b:?}");
        }
        assert!(GridGenerate::request(&[], &p).is_err());
        assert!(GridGenerate::request(&[1, VOCAB_SIZE], &p).is_err());
        assert!(GridGenerate::request(&[1; MAX_GRID_PROMPT], &p).is_ok());
        assert!(GridGenerate::request(&[1; MAX_GRID_PROMPT + 1], &p).is_err());
        let err = GridGenerate::request(&[1], &GridParams { top_p: 2.0, ..p }).unwrap_err();
        assert!(err.to_string().contains("top_p"), "{err}");
    }

    #[test]
    fn wire_form_and_defaults() {
        let s = GridGenerate::request(&[5, 6], &params(4)).unwrap();
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["prompt"], serde_json::json!([5, 6]));
        assert_eq!(json["tokens"], serde_json::Value::Null);
        // Only prompt, seed and max_new_tokens are required.
        let parsed: GridGenerate = serde_json::from_value(
            serde_json::json!({ "prompt": [5], "seed": 3, "max_new_tokens": 2 }),
        )
        .unwrap();
        assert_eq!(
            parsed.params(),
            GridParams { seed: 3, max_new_tokens: 2, ..GridParams::default() }
        );
        assert_eq!(parsed.hash_field_repr("temperature").unwrap(), "1.0");
        assert_eq!(parsed.hash_field_repr("top_p").unwrap(), "1.0");
        for missing in [
            serde_json::json!({ "seed": 3, "max_new_tokens": 2 }),
            serde_json::json!({ "prompt": [5], "max_new_tokens": 2 }),
            serde_json::json!({ "prompt": [5], "seed": 3 }),
        ] {
            assert!(serde_json::from_value::<GridGenerate>(missing).is_err());
        }
        // Unknown fields (the Python synapse's name, timeout, terminals …) are ignored.
        let parsed: GridGenerate = serde_json::from_value(serde_json::json!({
            "prompt": [5], "seed": 3, "max_new_tokens": 2, "name": "GridGenerate", "timeout": 12.0
        }))
        .unwrap();
        assert_eq!(parsed.prompt, vec![5]);
    }

    #[test]
    fn round_trip() {
        let p = params(4);
        let mut s = GridGenerate::request(&[1, 2, 3], &p).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<GridGenerate>(&json).unwrap(), s);
        s.set_outputs(answer(vec![7, 8, 9, 10], false)).unwrap();
        s.validate_response().unwrap();
        let json = serde_json::to_string(&s).unwrap();
        let back: GridGenerate = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.outputs().unwrap(), answer(vec![7, 8, 9, 10], false));
        assert_eq!(back.params(), p);
        // Stopping at the end-of-sequence token: fewer tokens, possibly none.
        s.set_outputs(answer(vec![7], true)).unwrap();
        s.set_outputs(answer(vec![], true)).unwrap();
        s.validate_response().unwrap();
    }

    #[test]
    fn hashed_log_probabilities_survive_json() {
        // Arbitrary doubles (not short decimals): the receiver must parse exactly the values
        // the sender hashed, or the body hash (and the signature) would not match.
        let n = 200u32;
        let mut s = GridGenerate::request(&[1], &params(n)).unwrap();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let token_logprobs: Vec<f64> = (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                -((x >> 11) as f64) / (1u64 << 49) as f64
            })
            .collect();
        s.set_outputs(GridAnswer { token_logprobs, ..answer((0..n).collect(), false) }).unwrap();
        let back: GridGenerate = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back.token_logprobs, s.token_logprobs);
        assert_eq!(back.body_hash(), s.body_hash());
    }

    #[test]
    fn bad_answers_are_invalid() {
        let mut s = GridGenerate::request(&[1], &params(3)).unwrap();
        assert!(s.validate_response().is_err(), "no outputs");
        let bad = [
            answer(vec![1, 2, 3, 4], false),
            answer(vec![1, 2], false),
            answer(vec![1, 2, 3], true),
            answer(vec![VOCAB_SIZE, 2, 3], false),
            three(|a| a.token_times_ms = vec![1.0, 2.0]),
            three(|a| a.token_times_ms = vec![1.0, 3.0, 2.0]),
            three(|a| a.token_times_ms = vec![1.0, f64::NAN, 2.0]),
            three(|a| a.token_times_ms = vec![-1.0, 1.0, 2.0]),
            three(|a| a.token_logprobs = vec![-1.0, -2.0]),
            three(|a| a.token_logprobs = vec![-1.0, -2.0, -3.0, -4.0]),
            three(|a| a.token_logprobs = vec![-1.0, f64::NAN, -2.0]),
            three(|a| a.token_logprobs = vec![-1.0, f64::NEG_INFINITY, -2.0]),
            three(|a| a.token_logprobs = vec![-1.0, f64::INFINITY, -2.0]),
            three(|a| a.token_logprobs = vec![-1.0, 0.5, -2.0]),
            three(|a| a.token_logprobs = vec![-1.0, 2.0 * MAX_GRID_LOGPROB, -2.0]),
        ];
        for b in bad {
            assert!(s.set_outputs(b.clone()).is_err(), "{b:?}");
            assert!(s.tokens.is_none(), "a failed set_outputs leaves the synapse unchanged");
        }
        s.set_outputs(answer(vec![1, 2, 3], false)).unwrap();
        let mut t = s.clone();
        t.token_times_ms = None;
        assert!(t.validate_response().is_err());
        let mut t = s.clone();
        t.stopped_at_eos = None;
        assert!(t.validate_response().is_err());
        let mut t = s.clone();
        t.token_logprobs = None;
        assert!(t.validate_response().is_err(), "the log-probabilities are required");
        // Log-probabilities of 0 (and a rounding hair above) are fine.
        s.set_outputs(three(|a| a.token_logprobs = vec![0.0, MAX_GRID_LOGPROB, -30.0])).unwrap();
        // Equal times are fine (tokens of one step).
        let mut t = s.clone();
        t.token_times_ms = Some(vec![2.0, 2.0, 2.0]);
        t.validate_response().unwrap();
        // A request carrying oversized outputs is refused up front.
        let mut r = GridGenerate::request(&[1], &params(2)).unwrap();
        r.tokens = Some(vec![1, 2, 3]);
        assert!(r.validate_request().is_err());
    }

    #[test]
    fn hash_covers_the_request_and_the_tokens() {
        let mut s = GridGenerate::request(&[10, 20], &params(2)).unwrap();
        assert_eq!(s.hash_field_repr("prompt").unwrap(), "[10, 20]");
        assert_eq!(s.hash_field_repr("seed").unwrap(), "42");
        assert_eq!(s.hash_field_repr("temperature").unwrap(), "0.7");
        assert_eq!(s.hash_field_repr("top_k").unwrap(), "40");
        assert_eq!(s.hash_field_repr("top_p").unwrap(), "0.9");
        assert_eq!(s.hash_field_repr("max_new_tokens").unwrap(), "2");
        assert_eq!(s.hash_field_repr("tokens").unwrap(), "None");
        assert_eq!(s.hash_field_repr("token_logprobs").unwrap(), "None");
        assert_eq!(s.hash_field_repr("stopped_at_eos").unwrap(), "None");
        assert!(s.hash_field_repr("token_times_ms").is_none());
        // The Python rule: sha3 over the concatenated sha3 hex of each field's str().
        let reprs = ["[10, 20]", "42", "0.7", "40", "0.9", "2", "None", "None", "None"];
        let concat: String = reprs.iter().map(|r| sha3_hex(r.as_bytes())).collect();
        assert_eq!(s.body_hash(), sha3_hex(concat.as_bytes()));
        assert_eq!(s.body_hash(), body_hash_of(reprs));
        let request_hash = s.body_hash();
        let changes: [fn(&mut GridGenerate); 6] = [
            |s: &mut GridGenerate| s.prompt.push(1),
            |s: &mut GridGenerate| s.seed += 1,
            |s: &mut GridGenerate| s.temperature = 0.8,
            |s: &mut GridGenerate| s.top_k = 0,
            |s: &mut GridGenerate| s.top_p = 1.0,
            |s: &mut GridGenerate| s.max_new_tokens = 3,
        ];
        for change in changes {
            let mut t = s.clone();
            change(&mut t);
            assert_ne!(t.body_hash(), request_hash);
        }
        s.set_outputs(GridAnswer {
            token_logprobs: vec![-0.5, -1.25e-5],
            ..answer(vec![3, 4], false)
        })
        .unwrap();
        assert_eq!(s.hash_field_repr("tokens").unwrap(), "[3, 4]");
        assert_eq!(s.hash_field_repr("token_logprobs").unwrap(), "[-0.5, -1.25e-05]");
        assert_eq!(s.hash_field_repr("stopped_at_eos").unwrap(), "False");
        let reprs =
            ["[10, 20]", "42", "0.7", "40", "0.9", "2", "[3, 4]", "[-0.5, -1.25e-05]", "False"];
        assert_eq!(s.body_hash(), body_hash_of(reprs));
        let answered = s.body_hash();
        assert_ne!(answered, request_hash);
        let mut t = s.clone();
        t.tokens = Some(vec![3, 5]);
        assert_ne!(t.body_hash(), answered, "the tokens are covered");
        let mut t = s.clone();
        t.token_logprobs = Some(vec![-0.5, -1.26e-5]);
        assert_ne!(t.body_hash(), answered, "the log-probabilities are covered");
        // So the axon's response signature (over the body hash) fails for a tampered answer.
        let bob = subtensor_wallet::Keypair::from_uri("//Bob").unwrap();
        let message = |hash: &str| response_message(7, "alice", &bob.ss58(), "u", 200, hash);
        let signature = sign(&bob, &message(&answered));
        let signer = parse_hotkey(&bob.ss58()).unwrap();
        verify(&signer, &message(&answered), &signature).unwrap();
        for tampered in [
            GridGenerate { tokens: Some(vec![3, 5]), ..s.clone() },
            GridGenerate { token_logprobs: Some(vec![-0.5, -1.26e-5]), ..s.clone() },
            GridGenerate { token_logprobs: Some(vec![-0.4, -1.25e-5]), ..s.clone() },
        ] {
            let err = verify(&signer, &message(&tampered.body_hash()), &signature).unwrap_err();
            assert!(matches!(err, AxonError::BadSignature), "{err:?}");
        }
        let mut t = s.clone();
        t.stopped_at_eos = Some(true);
        assert_ne!(t.body_hash(), answered, "the stop flag is covered");
        let mut t = s.clone();
        t.token_times_ms = Some(vec![0.0, 0.0]);
        assert_eq!(t.body_hash(), answered, "the times are not");
        let mut t = s.clone();
        t.tokens = Some(vec![]);
        assert_eq!(t.hash_field_repr("tokens").unwrap(), "[]");
    }
}
