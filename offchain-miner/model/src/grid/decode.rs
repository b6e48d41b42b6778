//! Grid decoding on a [`LanguageModel`] (the miner's side) and its teacher-forced
//! verification (the validator's side).

use super::gumbel_row;
use super::sampling::{token_logprob, token_margin, GridSampling};
use crate::model::LanguageModel;
use crate::{ModelError, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One grid generation request: what the miner samples and the validator checks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridRequest {
    /// The sampling rule.
    pub sampling: GridSampling,
    /// Seed of the noise (see [`super::gumbel_row`]).
    pub seed: u64,
    /// Most tokens to generate. `prompt length + max_new_tokens` must fit the model's context.
    pub max_new_tokens: usize,
    /// Stop when this token is sampled (it is not included in the output).
    pub eos_id: Option<u32>,
}

/// What [`LanguageModel::generate_grid`] produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GridOutput {
    /// The generated tokens (without the end-of-sequence token).
    pub tokens: Vec<u32>,
    /// For each token, the time since the start of the call at which it was produced.
    pub token_times: Vec<Duration>,
    /// For each token, its log-probability under the model's raw distribution
    /// ([`super::token_logprob`] of the logits row it was picked from: temperature 1, no
    /// masks). Validators compare these with their own ([`GridReference::judge`]).
    pub logprobs: Vec<f64>,
    /// Whether generation stopped because `eos_id` was sampled (not `max_new_tokens`).
    pub stopped_at_eos: bool,
}

/// How far a miner's output may stray from the validator's recomputation
/// ([`LanguageModel::verify_grid`], [`LanguageModel::verify_grid_claim`]). Margins are those
/// of [`token_margin`]: score units (logit / T), or logits at temperature 0.
///
/// The [`Default`] values come from calibration on CPU (`stmodel grid-calibrate`, README
/// "Grid verification"): honest cached decoding differed from the verifier's pass by at most
/// 4.8e-6 in a logit over threads {1, 2} x batch {1, 4}, so a margin error is at most ~1e-5
/// at T = 1. `soft` = 1e-3 leaves a factor 100 above that, `hard` = 0.05 a factor 5,000; other
/// hardware (GPU kernels) should be calibrated and given its own values. `logprob`: see
/// [`DEFAULT_LOGPROB_TOLERANCE`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridTolerance {
    /// Reject if any margin exceeds this.
    pub hard: f64,
    /// Margins above this are counted as suspicious.
    pub soft: f64,
    /// Suspicious margins allowed beyond `ceil(1%` of the output length`)`.
    pub soft_allowance: usize,
    /// Score slack around the top-k / top-p boundaries (see [`token_margin`]).
    pub mask_slack: f64,
    /// Largest allowed |claimed − recomputed| log-probability of any output token
    /// ([`GridReference::judge`]); absent from older JSON, where it takes the default.
    #[serde(default = "default_logprob_tolerance")]
    pub logprob: f64,
}

/// The default [`GridTolerance::logprob`]. Calibrated on CPU (`stmodel grid-calibrate` on the
/// end-to-end tests' "large" model, 64 challenges of 24 + 32 tokens at T = 1, threads {1, 2}
/// x batch {1, 4}): honest miners' log-probabilities differed from the verifier's by at most
/// 1.7e-6 (the calibration's own suggestion, 100x, is 1.7e-4), so 1e-3 leaves a factor of
/// about 580 for CPUs and kernels calibration did not see. Other hardware (GPU kernels) should
/// be calibrated and given its own value.
pub const DEFAULT_LOGPROB_TOLERANCE: f64 = 1e-3;

/// Serde default of [`GridTolerance::logprob`].
fn default_logprob_tolerance() -> f64 {
    DEFAULT_LOGPROB_TOLERANCE
}

impl Default for GridTolerance {
    /// Calibrated on CPU: hard 0.05, soft 1e-3, allowance 1, mask slack 1e-3, log-probability
    /// [`DEFAULT_LOGPROB_TOLERANCE`].
    fn default() -> Self {
        Self {
            hard: 0.05,
            soft: 1e-3,
            soft_allowance: 1,
            mask_slack: 1e-3,
            logprob: DEFAULT_LOGPROB_TOLERANCE,
        }
    }
}

impl GridTolerance {
    /// Checks that the thresholds are not negative or NaN (infinity turns a check off).
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("hard", self.hard),
            ("soft", self.soft),
            ("mask_slack", self.mask_slack),
            ("logprob", self.logprob),
        ] {
            if value.is_nan() || value < 0.0 {
                return Err(ModelError::InvalidInput(format!(
                    "grid tolerance {name} = {value} must be >= 0"
                )));
            }
        }
        Ok(())
    }

    /// Suspicious margins allowed for an output of `n` tokens.
    fn allowed_over_soft(&self, n: usize) -> usize {
        self.soft_allowance.saturating_add(n.div_ceil(100))
    }
}

/// Whether `margin` is above `limit` (a NaN margin always is).
fn exceeds(margin: f64, limit: f64) -> bool {
    margin.is_nan() || margin > limit
}

/// The validator's judgement of a grid output ([`LanguageModel::verify_grid`],
/// [`LanguageModel::verify_grid_claim`]).
#[derive(Clone, Debug, PartialEq)]
pub struct GridVerdict {
    /// The margin of each output token (empty when the output was rejected before the
    /// forward pass: too long, out-of-vocabulary ids, or the end-of-sequence token inside).
    pub margins: Vec<f64>,
    /// For an output shorter than `max_new_tokens` with an `eos_id`: the margin of the
    /// end-of-sequence token at the position after the output (how far stopping there is from
    /// what the sampler does).
    pub stop_margin: Option<f64>,
    /// The largest of `margins` and `stop_margin` (0 when there are none, infinity when the
    /// margins were not computed).
    pub max_margin: f64,
    /// How many of `margins` and `stop_margin` exceed the soft threshold.
    pub over_soft: usize,
    /// The largest |claimed − recomputed| log-probability ([`GridReference::judge`]): 0 when
    /// log-probabilities were not checked (tokens only, or the output was screened out),
    /// infinity when the claims were malformed (wrong count, non-finite values).
    pub max_logprob_error: f64,
    /// Whether the output passes.
    pub accepted: bool,
    /// Why it was rejected (`None` when accepted).
    pub reason: Option<String>,
}

impl GridVerdict {
    /// A rejection decided before any margin was computed.
    fn screened_out(reason: String) -> Self {
        Self {
            margins: Vec::new(),
            stop_margin: None,
            max_margin: f64::INFINITY,
            over_soft: 0,
            max_logprob_error: 0.0,
            accepted: false,
            reason: Some(reason),
        }
    }

    /// Judges computed margins of an output of `margins.len()` tokens.
    fn judge(
        margins: Vec<f64>,
        stop_margin: Option<f64>,
        req: &GridRequest,
        tol: &GridTolerance,
    ) -> Self {
        let n = margins.len();
        let all = || margins.iter().chain(stop_margin.iter()).copied();
        let max_margin = all().fold(0.0, f64::max);
        let over_soft = all().filter(|m| exceeds(*m, tol.soft)).count();
        let reason = if let Some((j, m)) =
            margins.iter().enumerate().find(|(_, m)| exceeds(**m, tol.hard))
        {
            Some(format!("token {j} has margin {m} above the hard limit {}", tol.hard))
        } else if n < req.max_new_tokens && req.eos_id.is_none() {
            Some(format!(
                "output truncated: {n} of {} tokens and no end-of-sequence token",
                req.max_new_tokens
            ))
        } else if let Some(m) = stop_margin.filter(|m| exceeds(*m, tol.hard)) {
            Some(format!(
                "premature stop after {n} tokens: end-of-sequence has margin {m} above the hard \
                 limit {}",
                tol.hard
            ))
        } else if over_soft > tol.allowed_over_soft(n) {
            Some(format!(
                "{over_soft} margins exceed the soft limit {} (allowed {})",
                tol.soft,
                tol.allowed_over_soft(n)
            ))
        } else {
            None
        };
        Self {
            margins,
            stop_margin,
            max_margin,
            over_soft,
            max_logprob_error: 0.0,
            accepted: reason.is_none(),
            reason,
        }
    }
}

/// The validator's teacher-forced recomputation of one grid output
/// ([`LanguageModel::grid_reference`]): the token-level verdict and the verifier's own
/// log-probability of each token. Several claims with the same tokens (miners that answered
/// a challenge alike) are judged against one reference ([`Self::judge`]), one forward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct GridReference {
    /// The token-level verdict (margins only), as [`LanguageModel::verify_grid`] gives it.
    pub verdict: GridVerdict,
    /// The verifier's [`super::token_logprob`] of each output token (empty when the output
    /// was screened out before the forward pass).
    pub logprobs: Vec<f64>,
}

impl GridReference {
    /// Judges a miner's claimed per-token log-probabilities against this reference: the
    /// token verdict, additionally rejected when the number of claims is not the number of
    /// output tokens, a claim is not finite, or a claim differs from the verifier's value by
    /// more than `tol.logprob` (the reason names the first such token and both values).
    /// [`GridVerdict::max_logprob_error`] is the largest difference. A verdict already
    /// rejected keeps its reason. A rejected verdict without reference log-probabilities (an
    /// output screened out before the forward pass) is returned unchanged.
    pub fn judge(&self, claimed: &[f64], tol: &GridTolerance) -> GridVerdict {
        let mut verdict = self.verdict.clone();
        if self.logprobs.is_empty() && !verdict.accepted {
            // Screened out before the pass (or an empty output rejected): nothing to compare.
            return verdict;
        }
        let tokens = self.logprobs.len();
        let problem = if claimed.len() != tokens {
            verdict.max_logprob_error = f64::INFINITY;
            Some(format!("{} log-probabilities claimed for {tokens} tokens", claimed.len()))
        } else if let Some(j) = claimed.iter().position(|c| !c.is_finite()) {
            verdict.max_logprob_error = f64::INFINITY;
            let c = claimed.get(j).copied().unwrap_or(f64::NAN);
            Some(format!("token {j} has a non-finite claimed log-probability {c}"))
        } else {
            let errors: Vec<f64> =
                claimed.iter().zip(&self.logprobs).map(|(c, r)| (c - r).abs()).collect();
            verdict.max_logprob_error = errors
                .iter()
                .map(|e| if e.is_nan() { f64::INFINITY } else { *e })
                .fold(0.0, f64::max);
            errors.iter().position(|e| exceeds(*e, tol.logprob)).map(|j| {
                let c = claimed.get(j).copied().unwrap_or(f64::NAN);
                let r = self.logprobs.get(j).copied().unwrap_or(f64::NAN);
                format!(
                    "token {j} has claimed log-probability {c} but the model gives {r} (limit \
                     {})",
                    tol.logprob
                )
            })
        };
        if let Some(reason) = problem {
            if verdict.accepted {
                verdict.accepted = false;
                verdict.reason = Some(reason);
            }
        }
        verdict
    }
}

impl LanguageModel {
    /// The vocabulary size as a `usize`.
    pub(super) fn vocab_len(&self) -> usize {
        usize::try_from(self.config.vocab_size).unwrap_or(0)
    }

    /// Checks a grid request against this model: valid sampling, a non-empty prompt of
    /// in-vocabulary ids, an in-vocabulary `eos_id`, and
    /// `prompt.len() + max_new_tokens <= n_positions`.
    pub(super) fn check_grid_request(&self, prompt: &[u32], req: &GridRequest) -> Result<()> {
        req.sampling.validate()?;
        if prompt.is_empty() {
            return Err(ModelError::InvalidInput(
                "grid generation needs a non-empty prompt".into(),
            ));
        }
        self.check_ids(prompt)?;
        if let Some(eos) = req.eos_id {
            self.check_ids(&[eos])?;
        }
        let window = usize::try_from(self.config.n_positions).unwrap_or(usize::MAX);
        if prompt.len().checked_add(req.max_new_tokens).is_none_or(|total| total > window) {
            return Err(ModelError::InvalidInput(format!(
                "prompt of {} tokens plus {} new tokens exceeds the context of {window}",
                prompt.len(),
                req.max_new_tokens
            )));
        }
        Ok(())
    }

    /// Continues `prompt` with the grid sampler (version 1): output token `j` is
    /// [`super::grid_pick`] of the model's logits and `gumbel_row(req.seed, j, vocab_size)`. Decodes
    /// token by token with a key/value cache, with no repetition penalty or n-gram ban, and
    /// stops before `req.eos_id` (not included; `stopped_at_eos` is set) or after
    /// `req.max_new_tokens` tokens.
    ///
    /// Refused (`InvalidInput`) for an empty prompt, ids outside the vocabulary, invalid
    /// sampling, or `prompt.len() + max_new_tokens > n_positions` (the whole sequence must fit
    /// the context, so the validator can check it in one pass).
    pub fn generate_grid(&self, prompt: &[u32], req: &GridRequest) -> Result<GridOutput> {
        let rows = self.grid_decode_batch(&[prompt], std::slice::from_ref(req), false)?;
        Ok(rows.into_iter().next().map(|r| r.output).unwrap_or_default())
    }

    /// The logits a validator checks `output` against, from ONE forward pass (no cache) over
    /// `prompt ⊕ output`.
    ///
    /// Returns `output.len() + 1` rows of `vocab_size` logits (f32): row `j` is the
    /// model's output at sequence position `prompt.len() - 1 + j`, i.e. the distribution of the
    /// token following `prompt ⊕ output[..j]`. So rows `0..n` are the ones that predicted
    /// `output[0..n]`, and row `n` is the one after the last output token (where an
    /// end-of-sequence token should have been sampled if the output stopped early).
    ///
    /// Refused for an empty prompt, ids outside the vocabulary, or
    /// `prompt.len() + output.len() > n_positions`.
    pub fn teacher_forced_logits(&self, prompt: &[u32], output: &[u32]) -> Result<Vec<Vec<f32>>> {
        let rows = self.teacher_forced_rows(&[(prompt, output)])?;
        Ok(rows.into_iter().next().unwrap_or_default())
    }

    /// Checks that `output` is what this model's grid sampler produces for `prompt` and `req`,
    /// within `tol`: the token-level check only (no log-probabilities; see
    /// [`Self::verify_grid_claim`]). It is [`Self::grid_reference`]'s verdict.
    ///
    /// Runs [`Self::teacher_forced_logits`] and takes the [`token_margin`] of each output
    /// token against its row and its position's noise. Rejected (a verdict with
    /// `accepted: false` and a reason) when the output is longer than `max_new_tokens`, holds
    /// an id outside the vocabulary or `eos_id`, has a margin above `tol.hard`, or has more
    /// margins above `tol.soft` than `tol.soft_allowance + ceil(n / 100)`. An output shorter
    /// than `max_new_tokens` must have stopped at `eos_id`: without one it is rejected as
    /// truncated, and with one the end-of-sequence token's margin at the next position
    /// ([`GridVerdict::stop_margin`]) is held to the same limits (a premature stop is
    /// rejected). A skipped end-of-sequence token shows as the margin of the token emitted
    /// in its place.
    ///
    /// Errors (rather than verdicts) are for requests this model cannot check: the same
    /// conditions as [`Self::generate_grid`], or an invalid `tol`.
    pub fn verify_grid(
        &self,
        prompt: &[u32],
        req: &GridRequest,
        output: &[u32],
        tol: &GridTolerance,
    ) -> Result<GridVerdict> {
        Ok(self.grid_reference(prompt, req, output, tol)?.verdict)
    }

    /// Checks a miner's whole claim: `output` as [`Self::verify_grid`] checks it, and
    /// `claimed_logprobs` (one per output token, [`GridOutput::logprobs`]) within
    /// `tol.logprob` of this model's: [`Self::grid_reference`] then [`GridReference::judge`].
    /// A model whose weights differ slightly mostly samples the same tokens, but its
    /// log-probabilities differ by far more than rounding.
    ///
    /// Errors as [`Self::verify_grid`].
    pub fn verify_grid_claim(
        &self,
        prompt: &[u32],
        req: &GridRequest,
        output: &[u32],
        claimed_logprobs: &[f64],
        tol: &GridTolerance,
    ) -> Result<GridVerdict> {
        Ok(self.grid_reference(prompt, req, output, tol)?.judge(claimed_logprobs, tol))
    }

    /// The validator's recomputation of `output` for `prompt` and `req`, from one
    /// teacher-forced pass: the token-level verdict of [`Self::verify_grid`] (margins under
    /// `tol`) and this model's [`super::token_logprob`] of each output token, to judge any
    /// number of claims with these tokens ([`GridReference::judge`]). An output screened out
    /// before the pass (too long, bad ids, `eos_id` inside) gets a rejected verdict and no
    /// log-probabilities.
    ///
    /// Errors as [`Self::verify_grid`].
    pub fn grid_reference(
        &self,
        prompt: &[u32],
        req: &GridRequest,
        output: &[u32],
        tol: &GridTolerance,
    ) -> Result<GridReference> {
        self.check_grid_request(prompt, req)?;
        tol.validate()?;
        if let Some(reason) = self.screen_grid_output(req, output) {
            return Ok(GridReference {
                verdict: GridVerdict::screened_out(reason),
                logprobs: Vec::new(),
            });
        }
        let rows = self.teacher_forced_logits(prompt, output)?;
        let vocab = self.vocab_len();
        let margin_at = |j: usize, token: u32| -> f64 {
            let noise = gumbel_row(req.seed, u64::try_from(j).unwrap_or(u64::MAX), vocab);
            rows.get(j).map_or(f64::INFINITY, |row| {
                token_margin(row, &req.sampling, &noise, token, tol.mask_slack)
            })
        };
        let margins: Vec<f64> = output.iter().enumerate().map(|(j, &t)| margin_at(j, t)).collect();
        let stop_margin = match req.eos_id {
            Some(eos) if output.len() < req.max_new_tokens => Some(margin_at(output.len(), eos)),
            _ => None,
        };
        let logprobs = output
            .iter()
            .enumerate()
            .map(|(j, &t)| rows.get(j).map_or(f64::NEG_INFINITY, |row| token_logprob(row, t)))
            .collect();
        Ok(GridReference { verdict: GridVerdict::judge(margins, stop_margin, req, tol), logprobs })
    }

    /// Why `output` fails before any forward pass (too long, bad ids, contains `eos_id`).
    fn screen_grid_output(&self, req: &GridRequest, output: &[u32]) -> Option<String> {
        if output.len() > req.max_new_tokens {
            return Some(format!(
                "output of {} tokens exceeds max_new_tokens {}",
                output.len(),
                req.max_new_tokens
            ));
        }
        if let Err(e) = self.check_ids(output) {
            return Some(e.to_string());
        }
        let eos_at = req.eos_id.and_then(|eos| output.iter().position(|&t| t == eos));
        eos_at.map(|j| format!("output holds the end-of-sequence token at position {j}"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::super::batch::DecodedRow;
    use super::*;
    use crate::GptConfig;
    use tch::Device;

    fn tiny(seed: i64) -> LanguageModel {
        let config = GptConfig {
            vocab_size: 64,
            n_positions: 64,
            n_embd: 32,
            n_layer: 2,
            n_head: 4,
            layer_norm_epsilon: 1e-5,
        };
        LanguageModel::random(config, Device::Cpu, seed).unwrap()
    }

    const PROMPT: [u32; 6] = [3, 14, 15, 9, 26, 5];

    fn request(seed: u64, temperature: f64, eos_id: Option<u32>) -> GridRequest {
        GridRequest {
            sampling: GridSampling { temperature, top_k: 0, top_p: 1.0 },
            seed,
            max_new_tokens: 40,
            eos_id,
        }
    }

    #[test]
    fn honest_output_is_accepted_and_cache_matches_teacher_forcing() {
        let m = tiny(7);
        for (req, tol) in [
            (request(11, 1.0, None), GridTolerance::default()),
            (request(12, 0.7, None), GridTolerance::default()),
            (
                GridRequest {
                    sampling: GridSampling { temperature: 0.8, top_k: 8, top_p: 0.9 },
                    ..request(13, 0.8, None)
                },
                GridTolerance::default(),
            ),
            (request(14, 0.0, None), GridTolerance::default()),
        ] {
            let row = m.grid_decode_batch(&[PROMPT], std::slice::from_ref(&req), true).unwrap();
            let DecodedRow { output: out, logits: cached } = row.into_iter().next().unwrap();
            assert_eq!(out.tokens.len(), 40);
            assert_eq!(out.token_times.len(), 40);
            assert!(out.token_times.windows(2).all(|w| w[0] <= w[1]));
            let again = m.generate_grid(&PROMPT, &req).unwrap();
            assert_eq!((again.tokens, again.stopped_at_eos), (out.tokens.clone(), false));
            let forced = m.teacher_forced_logits(&PROMPT, &out.tokens).unwrap();
            assert_eq!(forced.len(), 41);
            let delta = cached
                .iter()
                .zip(&forced)
                .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
                .fold(0.0f32, f32::max);
            let verdict = m.verify_grid(&PROMPT, &req, &out.tokens, &tol).unwrap();
            eprintln!(
                "T={} top_k={} top_p={}: max |cached - forced logit| = {delta:e}, max margin = {:e}",
                req.sampling.temperature, req.sampling.top_k, req.sampling.top_p, verdict.max_margin
            );
            assert!(delta < 1e-4, "cached and teacher-forced logits differ by {delta}");
            assert!(verdict.accepted, "{verdict:?}");
            assert!(verdict.max_margin < 1e-3, "{verdict:?}");
            assert_eq!(verdict.margins.len(), 40);
            assert_eq!(verdict.stop_margin, None);
        }
    }

    #[test]
    fn other_seeds_and_other_weights_are_rejected() {
        let m = tiny(7);
        let tol = GridTolerance::default();
        // A randomly initialised model is nearly uniform (logit sd ~0.12; two seeds differ by
        // ~0.16 rms), so other weights flip only a few argmaxes at T = 1; more at lower T.
        for temperature in [1.0, 0.7, 0.3] {
            let req = request(21, temperature, None);
            let out = m.generate_grid(&PROMPT, &req).unwrap();
            let wrong_seed = GridRequest { seed: 22, ..req.clone() };
            let v = m.verify_grid(&PROMPT, &wrong_seed, &out.tokens, &tol).unwrap();
            eprintln!("T={temperature} other seed: over_soft {} max {}", v.over_soft, v.max_margin);
            assert!(!v.accepted && v.over_soft > 10, "{v:?}");
            let other = tiny(8).generate_grid(&PROMPT, &req).unwrap();
            let v = m.verify_grid(&PROMPT, &req, &other.tokens, &tol).unwrap();
            eprintln!(
                "T={temperature} other weights: over_soft {} max {}",
                v.over_soft, v.max_margin
            );
            assert!(!v.accepted, "{v:?}");
        }
    }

    #[test]
    fn logprob_claims_are_checked_against_one_reference() {
        let m = tiny(7);
        let tol = GridTolerance::default();
        let req = request(51, 1.0, None);
        let out = m.generate_grid(&PROMPT, &req).unwrap();
        assert_eq!(out.logprobs.len(), out.tokens.len());
        let reference = m.grid_reference(&PROMPT, &req, &out.tokens, &tol).unwrap();
        assert_eq!(reference.verdict, m.verify_grid(&PROMPT, &req, &out.tokens, &tol).unwrap());
        assert!(reference.verdict.accepted && reference.verdict.max_logprob_error == 0.0);
        // The reference's values are token_logprob of the teacher-forced rows.
        let forced = m.teacher_forced_logits(&PROMPT, &out.tokens).unwrap();
        for (j, &t) in out.tokens.iter().enumerate() {
            assert_eq!(reference.logprobs[j], token_logprob(&forced[j], t));
        }
        // Honest claims pass, within rounding.
        let v = reference.judge(&out.logprobs, &tol);
        eprintln!("honest max |claimed - recomputed logprob| = {:e}", v.max_logprob_error);
        assert!(v.accepted && v.max_logprob_error < 1e-5, "{v:?}");
        assert_eq!(
            v,
            m.verify_grid_claim(&PROMPT, &req, &out.tokens, &out.logprobs, &tol).unwrap()
        );
        // One reference judges many claims with the same tokens.
        let mut off = out.logprobs.clone();
        off[7] -= 0.01;
        let v = reference.judge(&off, &tol);
        assert!(!v.accepted && v.max_logprob_error > 0.009, "{v:?}");
        assert!(v.reason.as_deref().unwrap().contains("token 7"), "{v:?}");
        // Within the limit is fine; the limit is the tolerance's.
        off[7] = out.logprobs[7] + 0.5 * tol.logprob;
        assert!(reference.judge(&off, &tol).accepted);
        assert!(
            !reference.judge(&off, &GridTolerance { logprob: 0.1 * tol.logprob, ..tol }).accepted
        );
        // Wrong counts and non-finite claims.
        for bad in
            [out.logprobs[1..].to_vec(), [out.logprobs.clone(), vec![-1.0]].concat(), Vec::new()]
        {
            let v = reference.judge(&bad, &tol);
            assert!(!v.accepted && v.max_logprob_error == f64::INFINITY, "{v:?}");
            assert!(v.reason.as_deref().unwrap().contains("log-probabilities claimed"), "{v:?}");
        }
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut bad = out.logprobs.clone();
            bad[3] = value;
            let v = reference.judge(&bad, &tol);
            assert!(!v.accepted && v.reason.as_deref().unwrap().contains("non-finite"), "{v:?}");
        }
        // A rejected token verdict keeps its reason; the claims are still measured.
        let wrong_seed = GridRequest { seed: 52, ..req.clone() };
        let r = m.grid_reference(&PROMPT, &wrong_seed, &out.tokens, &tol).unwrap();
        let v = r.judge(&out.logprobs, &tol);
        assert_eq!(v.reason, r.verdict.reason);
        assert!(!v.accepted && v.max_logprob_error < 1e-5, "{v:?}");
        // A screened-out output has no reference values and keeps its verdict.
        let mut long = out.tokens.clone();
        long.push(1);
        let r = m.grid_reference(&PROMPT, &req, &long, &tol).unwrap();
        assert!(r.logprobs.is_empty() && !r.verdict.accepted);
        assert_eq!(r.judge(&[0.0; 41], &tol), r.verdict);
        // Another model's own log-probabilities differ even where its tokens pass.
        let other = tiny(8);
        let fake = other.generate_grid(&PROMPT, &req).unwrap();
        let v = m.verify_grid_claim(&PROMPT, &req, &fake.tokens, &fake.logprobs, &tol).unwrap();
        assert!(!v.accepted && v.max_logprob_error > 1e-2, "{v:?}");
        // Tolerances: the log-probability limit is validated and defaults for old JSON.
        assert!(m
            .verify_grid_claim(
                &PROMPT,
                &req,
                &out.tokens,
                &out.logprobs,
                &GridTolerance { logprob: -1.0, ..tol }
            )
            .is_err());
        let old: GridTolerance = serde_json::from_str(
            r#"{"hard": 0.05, "soft": 0.001, "soft_allowance": 1, "mask_slack": 0.001}"#,
        )
        .unwrap();
        assert_eq!(old, tol);
        assert_eq!(tol.logprob, DEFAULT_LOGPROB_TOLERANCE);
    }

    #[test]
    fn truncation_and_lengths() {
        let m = tiny(7);
        let tol = GridTolerance::default();
        let req = request(31, 1.0, None);
        let out = m.generate_grid(&PROMPT, &req).unwrap();
        let v = m.verify_grid(&PROMPT, &req, &out.tokens[..30], &tol).unwrap();
        assert!(!v.accepted && v.reason.as_deref().unwrap().contains("truncated"), "{v:?}");
        assert_eq!(v.margins.len(), 30);
        let mut long = out.tokens.clone();
        long.push(1);
        let v = m.verify_grid(&PROMPT, &req, &long, &tol).unwrap();
        assert!(!v.accepted && v.margins.is_empty(), "{v:?}");
        let v = m.verify_grid(&PROMPT, &req, &[64], &tol).unwrap();
        assert!(!v.accepted && v.reason.as_deref().unwrap().contains("vocabulary"), "{v:?}");
        // The context is 64: 6 + 58 fits, 6 + 59 does not.
        let fits = GridRequest { max_new_tokens: 58, ..req.clone() };
        assert_eq!(m.generate_grid(&PROMPT, &fits).unwrap().tokens.len(), 58);
        let over = GridRequest { max_new_tokens: 59, ..req.clone() };
        assert!(matches!(m.generate_grid(&PROMPT, &over), Err(ModelError::InvalidInput(_))));
        assert!(m.verify_grid(&PROMPT, &over, &out.tokens, &tol).is_err());
        assert!(m.generate_grid(&[], &req).is_err());
        assert!(m.generate_grid(&[64], &req).is_err());
        let bad =
            GridRequest { sampling: GridSampling { top_p: 0.0, ..req.sampling }, ..req.clone() };
        assert!(m.generate_grid(&PROMPT, &bad).is_err());
        assert!(m
            .verify_grid(&PROMPT, &req, &out.tokens, &GridTolerance { hard: f64::NAN, ..tol })
            .is_err());
        assert!(m.teacher_forced_logits(&PROMPT, &[0; 59]).is_err());
        assert_eq!(m.teacher_forced_logits(&PROMPT, &[]).unwrap().len(), 1);
    }

    #[test]
    fn end_of_sequence_stops_and_is_checked() {
        let m = tiny(7);
        let tol = GridTolerance::default();
        let full = m.generate_grid(&PROMPT, &request(41, 1.0, None)).unwrap().tokens;
        // The first token (from index 3) not seen before it: the end-of-sequence token.
        let j = (3..full.len()).find(|&j| !full[..j].contains(&full[j])).unwrap();
        let eos = full[j];
        let req = request(41, 1.0, Some(eos));
        let out = m.generate_grid(&PROMPT, &req).unwrap();
        // Position-keyed noise: the same tokens up to the stop.
        assert_eq!(out.tokens, full[..j].to_vec());
        assert!(out.stopped_at_eos);
        let v = m.verify_grid(&PROMPT, &req, &out.tokens, &tol).unwrap();
        assert!(v.accepted && v.stop_margin.unwrap() < 1e-3, "{v:?}");
        // Emitting the end-of-sequence token is refused.
        let v = m.verify_grid(&PROMPT, &req, &full[..=j], &tol).unwrap();
        assert!(!v.accepted && v.reason.as_deref().unwrap().contains("end-of-sequence"), "{v:?}");
        // Skipping it: the token emitted in its place has a large margin.
        let forced = m.teacher_forced_logits(&PROMPT, &full[..j]).unwrap();
        let noise = gumbel_row(41, j as u64, 64);
        let margin = |row: &[f32], t: u32| token_margin(row, &req.sampling, &noise, t, 1e-3);
        let worst = (0..64u32)
            .max_by(|&a, &b| margin(&forced[j], a).total_cmp(&margin(&forced[j], b)))
            .unwrap();
        let mut skipped = full[..j].to_vec();
        skipped.push(worst);
        let v = m.verify_grid(&PROMPT, &req, &skipped, &tol).unwrap();
        assert!(!v.accepted && v.margins[j] > tol.hard, "{v:?}");
        // Stopping early where the sampler would not have.
        let early = (1..j)
            .rev()
            .find(|&k| {
                token_margin(&forced[k], &req.sampling, &gumbel_row(41, k as u64, 64), eos, 1e-3)
                    > tol.hard
            })
            .unwrap();
        let v = m.verify_grid(&PROMPT, &req, &full[..early], &tol).unwrap();
        assert!(!v.accepted && v.reason.as_deref().unwrap().contains("premature"), "{v:?}");
    }
}
