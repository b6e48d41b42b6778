//! The validator's copy of the grid model and the checks of an answer against it.

use crate::{Result, ValidatorError};
use std::path::Path;
use subtensor_axon::synapse::{GridAnswer, GridParams};
use subtensor_client::primitives::GridSpec;
use subtensor_model::{
    grid::{model_digest, GridReference},
    GridRequest, GridSampling, GridTolerance, GridVerdict, LanguageModel, GRID_SAMPLER_VERSION,
};

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What every challenge asks for, apart from its prompt and seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChallengeShape {
    /// Prompt tokens per challenge.
    pub prompt_len: usize,
    /// Tokens the miner is asked to generate.
    pub new_tokens: u32,
    /// Sampling temperature (0: greedy).
    pub temperature: f64,
    /// Top-k mask (0: none).
    pub top_k: u32,
    /// Top-p mass (1: none).
    pub top_p: f64,
}

impl ChallengeShape {
    /// The synapse parameters of a challenge with `seed`.
    pub fn params(&self, seed: u64) -> GridParams {
        GridParams {
            seed,
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            max_new_tokens: self.new_tokens,
        }
    }
}

/// The grid model loaded by the validator, with the tolerance answers are held to.
pub struct GridVerifier {
    model: LanguageModel,
    tolerance: GridTolerance,
}

impl GridVerifier {
    /// Loads the model in `dir` (on the CPU) after checking that its digest is the one `spec`
    /// names and that `spec`'s sampler version is this build's.
    pub fn load(dir: &Path, spec: &GridSpec, tolerance: GridTolerance) -> Result<Self> {
        let usage = |m: String| ValidatorError::Usage(m);
        if spec.sampler_version != GRID_SAMPLER_VERSION {
            return Err(usage(format!(
                "the subnet's grid spec uses grid sampler version {}; this validator implements \
                 version {GRID_SAMPLER_VERSION}",
                spec.sampler_version
            )));
        }
        let digest =
            model_digest(dir).map_err(|e| usage(format!("--grid-model {}: {e}", dir.display())))?;
        if digest != spec.model_sha256 {
            return Err(usage(format!(
                "--grid-model {} is not the subnet's grid model: its digest is {}, the grid \
                 spec names {} ({})",
                dir.display(),
                hex(&digest),
                hex(&spec.model_sha256),
                String::from_utf8_lossy(&spec.model_name)
            )));
        }
        let model = LanguageModel::load(dir, subtensor_model::Device::Cpu)
            .map_err(|e| usage(format!("--grid-model {}: {e}", dir.display())))?;
        Self::new(model, tolerance)
    }

    /// A verifier of `model` (no digest check: for tests and benchmarks).
    pub fn new(model: LanguageModel, tolerance: GridTolerance) -> Result<Self> {
        tolerance.validate().map_err(|e| ValidatorError::Usage(e.to_string()))?;
        Ok(Self { model, tolerance })
    }

    /// The model's context (prompt plus generated tokens fit in it).
    pub fn n_positions(&self) -> usize {
        usize::try_from(self.model.config().n_positions).unwrap_or(0)
    }

    /// The tolerance answers are held to.
    pub fn tolerance(&self) -> &GridTolerance {
        &self.tolerance
    }

    /// Checks `shape` against `spec`'s limits and the model's context.
    pub fn check_shape(&self, shape: &ChallengeShape, spec: &GridSpec) -> Result<()> {
        let usage = |m: String| Err(ValidatorError::Usage(m));
        if shape.prompt_len == 0 || shape.new_tokens == 0 {
            return usage("--grid-prompt-len and --grid-new-tokens must be at least 1".into());
        }
        if shape.new_tokens > spec.max_new_tokens {
            return usage(format!(
                "--grid-new-tokens {} exceeds the grid spec's max_new_tokens {}",
                shape.new_tokens, spec.max_new_tokens
            ));
        }
        let total = shape.prompt_len.saturating_add(shape.new_tokens as usize);
        let context = (spec.max_context as usize).min(self.n_positions());
        if total > context {
            return usage(format!(
                "--grid-prompt-len {} plus --grid-new-tokens {} exceeds the grid's context of \
                 {context} (spec {}, model {})",
                shape.prompt_len,
                shape.new_tokens,
                spec.max_context,
                self.n_positions()
            ));
        }
        shape.params(0).validate().map_err(|e| ValidatorError::Usage(e.to_string()))
    }

    /// The sampler request a miner answered for `params` (the model's end-of-text token ends
    /// generation, as miners do).
    pub fn request(&self, params: &GridParams) -> GridRequest {
        grid_request(params, self.model.eos_token_id())
    }

    /// The teacher-forced reference of `tokens` answering the challenge (`prompt`, `params`):
    /// one pass, each token's margin against the sampler, the length and end-of-sequence
    /// checks, and the verifier's own log-probabilities. Every answer with these tokens is
    /// judged against it ([`Self::judge`]).
    pub fn reference(
        &self,
        prompt: &[u32],
        params: &GridParams,
        tokens: &[u32],
    ) -> Result<GridReference> {
        self.model
            .grid_reference(prompt, &self.request(params), tokens, &self.tolerance)
            .map_err(|e| ValidatorError::Query(format!("grid verification: {e}")))
    }

    /// Judges `answer` against the `reference` of its tokens: the token verdict, its claimed
    /// log-probabilities against the verifier's, and its end-of-sequence flag.
    pub fn judge(
        &self,
        reference: &GridReference,
        params: &GridParams,
        answer: &GridAnswer,
    ) -> GridVerdict {
        let mut verdict = reference.judge(&answer.token_logprobs, &self.tolerance);
        let max = usize::try_from(params.max_new_tokens).unwrap_or(usize::MAX);
        let short = answer.tokens.len() < max;
        if verdict.accepted && answer.stopped_at_eos != short {
            verdict.accepted = false;
            verdict.reason = Some(format!(
                "stopped_at_eos is {} for {} of {max} tokens",
                answer.stopped_at_eos,
                answer.tokens.len()
            ));
        }
        verdict
    }

    /// Judges one `answer` to the challenge (`prompt`, `params`): [`Self::reference`] then
    /// [`Self::judge`].
    pub fn verify(
        &self,
        prompt: &[u32],
        params: &GridParams,
        answer: &GridAnswer,
    ) -> Result<GridVerdict> {
        let reference = self.reference(prompt, params, &answer.tokens)?;
        Ok(self.judge(&reference, params, answer))
    }

    /// Whether two answers' claimed log-probabilities agree within the tolerance (same
    /// length, every difference at most `logprob`): honest miners' do, a near-copy of the
    /// model's do not.
    pub fn logprobs_agree(&self, a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                x.is_finite() && y.is_finite() && (x - y).abs() <= self.tolerance.logprob
            })
    }

    /// The model (to generate reference answers in tests and benchmarks).
    pub fn model(&self) -> &LanguageModel {
        &self.model
    }
}

/// The grid sampler's request for the synapse's `params`, generation ending at `eos_id`
/// (the model's end-of-text token, as miners stop): what a miner runs and a verifier checks.
pub fn grid_request(params: &GridParams, eos_id: Option<u32>) -> GridRequest {
    GridRequest {
        sampling: GridSampling {
            temperature: params.temperature,
            top_k: usize::try_from(params.top_k).unwrap_or(usize::MAX),
            top_p: params.top_p,
        },
        seed: params.seed,
        max_new_tokens: usize::try_from(params.max_new_tokens).unwrap_or(usize::MAX),
        eos_id,
    }
}
