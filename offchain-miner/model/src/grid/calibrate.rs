//! Calibration of the grid tolerance: how far honest miners' logits stray from the
//! validator's.
//!
//! A miner decodes with a key/value cache, in batches, with some number of threads; the
//! validator runs one teacher-forced pass, also batched and threaded its own way. Each
//! choice changes the order of floating-point reductions, so the logits differ by rounding.
//! [`calibrate`] measures those differences, and those of the emitted tokens'
//! log-probabilities ([`token_logprob`]), on held-out text and derives a [`GridTolerance`]
//! from them ([`suggest_tolerance`]).

use super::batch::DecodedRow;
use super::decode::{GridRequest, GridTolerance};
use super::gumbel_row;
use super::sampling::{pick_gap, token_logprob, token_margin, GridSampling};
use crate::model::LanguageModel;
use crate::{set_threads, ModelError, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Safety factor of [`suggest_tolerance`] over the worst margin error the measured logit
/// differences can cause.
pub const CALIBRATION_SAFETY: f64 = 50.0;
/// Least `hard` limit [`suggest_tolerance`] suggests: covers hardware and kernels that
/// calibration did not see.
pub const CALIBRATION_HARD_FLOOR: f64 = 0.05;
/// Least `soft` limit [`suggest_tolerance`] suggests.
pub const CALIBRATION_SOFT_FLOOR: f64 = 1e-4;
/// Least `mask_slack` [`suggest_tolerance`] suggests.
pub const CALIBRATION_MASK_SLACK_FLOOR: f64 = 1e-3;
/// Safety factor of [`suggest_tolerance`]'s `logprob` over the worst measured difference of
/// log-probabilities.
pub const CALIBRATION_LOGPROB_SAFETY: f64 = 100.0;
/// Least `logprob` limit [`suggest_tolerance`] suggests.
pub const CALIBRATION_LOGPROB_FLOOR: f64 = 1e-4;

/// What [`calibrate`] measures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalibrationConfig {
    /// Number of challenges (prompts) decoded in each configuration.
    pub challenges: usize,
    /// Tokens per prompt.
    pub prompt_len: usize,
    /// Tokens generated per challenge (no end-of-sequence token: every challenge yields
    /// exactly this many positions).
    pub max_new_tokens: usize,
    /// The sampling rule of every challenge.
    pub sampling: GridSampling,
    /// libtorch thread counts to measure.
    pub threads: Vec<usize>,
    /// Batch sizes to measure.
    pub batches: Vec<usize>,
    /// Seed of the prompt offsets and of the challenges' noise seeds.
    pub seed: u64,
    /// Print a line per configuration on stderr (not part of the report's JSON).
    #[serde(skip)]
    pub progress: bool,
}

impl Default for CalibrationConfig {
    /// 64 challenges of 24 prompt tokens and 32 new tokens at temperature 1, threads
    /// {1, 2} × batches {1, 4}, seed 0, quiet.
    fn default() -> Self {
        Self {
            challenges: 64,
            prompt_len: 24,
            max_new_tokens: 32,
            sampling: GridSampling::default(),
            threads: vec![1, 2],
            batches: vec![1, 4],
            seed: 0,
            progress: false,
        }
    }
}

impl CalibrationConfig {
    /// Checks the counts (all at least 1), the thread and batch lists (non-empty, entries at
    /// least 1) and the sampling rule.
    pub fn validate(&self) -> Result<()> {
        self.sampling.validate()?;
        let bad = |what: &str| Err(ModelError::InvalidInput(format!("calibration: {what}")));
        if self.challenges == 0 || self.prompt_len == 0 || self.max_new_tokens == 0 {
            return bad("challenges, prompt_len and max_new_tokens must be at least 1");
        }
        if self.threads.is_empty() || self.threads.contains(&0) {
            return bad("thread counts must be a non-empty list of numbers >= 1");
        }
        if self.batches.is_empty() || self.batches.contains(&0) {
            return bad("batch sizes must be a non-empty list of numbers >= 1");
        }
        Ok(())
    }
}

/// Which side a [`CalibrationRow`] measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CalibrationRole {
    /// The miner: cached decoding at the row's threads and batch, against the reference
    /// verifier over the same outputs.
    Decode,
    /// The validator: a teacher-forced pass at the row's threads and batch, against the
    /// reference verifier, over the outputs of the first decoding configuration.
    Verify,
}

/// The measurements of one configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalibrationRow {
    /// Decoding or verification.
    pub role: CalibrationRole,
    /// libtorch threads.
    pub threads: usize,
    /// Requests per batch.
    pub batch: usize,
    /// Token positions compared.
    pub tokens: usize,
    /// Logits compared (`tokens × vocab_size`).
    pub compared: usize,
    /// Largest |Δlogit| against the reference verifier.
    pub max_abs_delta: f64,
    /// 99.9th percentile (nearest rank) of |Δlogit|.
    pub p999_abs_delta: f64,
    /// Largest |Δ log-probability| of an emitted token ([`token_logprob`]) against the
    /// reference verifier: the miner's reported value for decoding rows, the row's verifier's
    /// for verification rows.
    pub max_logprob_delta: f64,
    /// 99.9th percentile (nearest rank) of |Δ log-probability| (one value per token).
    pub p999_logprob_delta: f64,
    /// Mean |Δlogit|.
    pub mean_abs_delta: f64,
    /// Largest [`token_margin`] (mask slack 0) of the emitted tokens, under the verifier's
    /// logits (the reference one for decoding rows, the row's own for verification rows)
    /// and the same noise: 0 when every token is the verifier's pick.
    pub max_margin: f64,
    /// Tokens whose margin is above 0: where the verifier's exact sampler would have picked
    /// another token.
    pub flips: usize,
    /// Smallest gap between the verifier's pick and the runner-up (see `pick_gap`, score
    /// units) over the compared positions: how close a rounding error came to a flip
    /// (infinite when no position had two candidates).
    pub min_gap: f64,
    /// Seconds spent decoding (decoding rows) or in the teacher-forced passes (verification
    /// rows), reference passes excluded.
    pub seconds: f64,
    /// `tokens / seconds`.
    pub tokens_per_sec: f64,
}

/// What [`calibrate`] found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalibrationReport {
    /// What was measured.
    pub config: CalibrationConfig,
    /// One row per decoding configuration (threads × batches, in that order), then one per
    /// verification configuration other than the reference (1 thread, batch 1).
    pub rows: Vec<CalibrationRow>,
    /// Worst |Δlogit| between any decoding and any verification configuration, bounded by
    /// the worst decoding row's plus the worst verification row's `max_abs_delta`.
    pub logit_bound: f64,
    /// The same bound from the `p999_abs_delta` columns.
    pub logit_bound_p999: f64,
    /// Worst |Δ log-probability| of an emitted token between any decoding and any
    /// verification configuration, bounded by the worst decoding row's plus the worst
    /// verification row's `max_logprob_delta`.
    pub logprob_bound: f64,
    /// The same bound from the `p999_logprob_delta` columns.
    pub logprob_bound_p999: f64,
    /// The suggested tolerance ([`suggest_tolerance`] of the logit bounds and
    /// `logprob_bound`).
    pub tolerance: GridTolerance,
}

/// The tolerance calibration suggests for logit differences of at most `logit_bound`
/// (99.9% of them at most `logit_bound_p999`) and differences of emitted tokens'
/// log-probabilities of at most `logprob_bound`, under `sampling`.
///
/// Rule: a logit error of at most `δ` per token moves a [`token_margin`] by at most `2δ·u`,
/// where `u = 1/T` (margins are in score units, logit / T) or `u = 1` at temperature 0. With
/// the safety factor `F` = [`CALIBRATION_SAFETY`] (50: at `T = 1`, 100 × the logit bound):
/// * `hard = max(F · 2u · logit_bound, 0.05)` ([`CALIBRATION_HARD_FLOOR`]);
/// * `soft = max(F · 2u · logit_bound_p999, 1e-4)` ([`CALIBRATION_SOFT_FLOOR`]);
/// * `mask_slack = max(F · 2u · logit_bound, 1e-3)` ([`CALIBRATION_MASK_SLACK_FLOOR`]; the
///   scores near a top-k / top-p boundary move by `u·δ`, log-probabilities by up to `2u·δ`);
/// * `soft_allowance`: the default (1 beyond 1% of the output);
/// * `logprob = max(100 · logprob_bound, 1e-4)` ([`CALIBRATION_LOGPROB_SAFETY`],
///   [`CALIBRATION_LOGPROB_FLOOR`]; log-probabilities are of the raw distribution, so the
///   temperature plays no part).
///
/// A non-finite bound gives infinite limits (no check): calibration found no usable figure.
pub fn suggest_tolerance(
    logit_bound: f64,
    logit_bound_p999: f64,
    logprob_bound: f64,
    sampling: &GridSampling,
) -> GridTolerance {
    let unit = if sampling.temperature > 0.0 { 1.0 / sampling.temperature } else { 1.0 };
    let scaled = |bound: f64, floor: f64| {
        if bound.is_finite() {
            (CALIBRATION_SAFETY * 2.0 * unit * bound).max(floor)
        } else {
            f64::INFINITY
        }
    };
    GridTolerance {
        hard: scaled(logit_bound, CALIBRATION_HARD_FLOOR),
        soft: scaled(logit_bound_p999, CALIBRATION_SOFT_FLOOR),
        mask_slack: scaled(logit_bound, CALIBRATION_MASK_SLACK_FLOOR),
        logprob: if logprob_bound.is_finite() {
            (CALIBRATION_LOGPROB_SAFETY * logprob_bound).max(CALIBRATION_LOGPROB_FLOOR)
        } else {
            f64::INFINITY
        },
        ..GridTolerance::default()
    }
}

/// One grid challenge: a prompt cut from a held-out token stream and its request.
#[derive(Clone, Debug, PartialEq)]
pub struct GridChallenge {
    /// The prompt.
    pub prompt: Vec<u32>,
    /// The request: `cfg.sampling`, its own noise seed, `cfg.max_new_tokens`, no
    /// end-of-sequence token.
    pub req: GridRequest,
}

/// The challenges [`calibrate`] uses (and benchmarks reuse): `cfg.challenges` prompts of
/// `cfg.prompt_len` tokens at pseudo-random offsets of `tokens` (ChaCha20 seeded with
/// `cfg.seed`), each with its own noise seed, `cfg.sampling` and `cfg.max_new_tokens`.
/// Refused when `tokens` is shorter than one prompt.
pub fn sample_challenges(tokens: &[u32], cfg: &CalibrationConfig) -> Result<Vec<GridChallenge>> {
    let last = tokens.len().checked_sub(cfg.prompt_len).ok_or_else(|| {
        ModelError::InvalidInput(format!(
            "calibration: {} held-out tokens cannot hold a prompt of {}",
            tokens.len(),
            cfg.prompt_len
        ))
    })?;
    let mut rng = ChaCha20Rng::seed_from_u64(cfg.seed);
    (0..cfg.challenges)
        .map(|_| {
            let offset = rng.gen_range(0..=last);
            let prompt = tokens
                .get(offset..offset.saturating_add(cfg.prompt_len))
                .ok_or_else(|| ModelError::InvalidInput("calibration: bad prompt offset".into()))?
                .to_vec();
            let req = GridRequest {
                sampling: cfg.sampling,
                seed: rng.gen(),
                max_new_tokens: cfg.max_new_tokens,
                eos_id: None,
            };
            Ok(GridChallenge { prompt, req })
        })
        .collect()
}

/// Streaming |Δ| statistics with an exact nearest-rank 99.9th percentile (the largest
/// 0.1% of the expected number of values are kept).
struct DeltaStats {
    count: usize,
    sum: f64,
    max: f64,
    /// The largest values seen (as `f64` bits: non-negative doubles order like their bits).
    top: BinaryHeap<Reverse<u64>>,
    keep: usize,
}

impl DeltaStats {
    /// Statistics for `expected` values.
    fn new(expected: usize) -> Self {
        // Nearest rank r = ceil(0.999 n); the values at ranks r..=n are n - r + 1.
        let rank = expected.saturating_mul(999).saturating_add(999) / 1000;
        let keep = expected.saturating_sub(rank).saturating_add(1);
        Self { count: 0, sum: 0.0, max: 0.0, top: BinaryHeap::new(), keep }
    }

    fn push(&mut self, a: f32, b: f32) {
        self.push_f64(f64::from(a), f64::from(b));
    }

    fn push_f64(&mut self, a: f64, b: f64) {
        let d = if a == b { 0.0 } else { (a - b).abs() };
        let d = if d.is_nan() { f64::INFINITY } else { d };
        self.count = self.count.saturating_add(1);
        self.sum += d;
        self.max = self.max.max(d);
        let bits = d.to_bits();
        if self.top.len() < self.keep {
            self.top.push(Reverse(bits));
        } else if self.top.peek().is_some_and(|Reverse(least)| bits > *least) {
            self.top.pop();
            self.top.push(Reverse(bits));
        }
    }

    fn push_rows(&mut self, a: &[Vec<f32>], b: &[Vec<f32>]) {
        for (x, y) in a.iter().zip(b) {
            for (&p, &q) in x.iter().zip(y) {
                self.push(p, q);
            }
        }
    }

    fn p999(&self) -> f64 {
        self.top.peek().map_or(0.0, |Reverse(bits)| f64::from_bits(*bits))
    }

    fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

/// Margins, flips and gaps of emitted tokens under a verifier's logits.
struct MarginStats {
    max_margin: f64,
    flips: usize,
    min_gap: f64,
}

impl MarginStats {
    fn new() -> Self {
        Self { max_margin: 0.0, flips: 0, min_gap: f64::INFINITY }
    }

    /// Adds the tokens of `output` checked against `rows` (one logits row per token).
    fn push(&mut self, req: &GridRequest, output: &[u32], rows: &[Vec<f32>], vocab: usize) {
        for (j, (&token, row)) in output.iter().zip(rows).enumerate() {
            let noise = gumbel_row(req.seed, u64::try_from(j).unwrap_or(u64::MAX), vocab);
            let margin = token_margin(row, &req.sampling, &noise, token, 0.0);
            self.max_margin =
                self.max_margin.max(if margin.is_nan() { f64::INFINITY } else { margin });
            if margin.is_nan() || margin > 0.0 {
                self.flips = self.flips.saturating_add(1);
            }
            if let Some(gap) = pick_gap(row, &req.sampling, &noise) {
                self.min_gap = self.min_gap.min(gap);
            }
        }
    }
}

/// Accumulates one configuration's row.
struct RowBuilder {
    role: CalibrationRole,
    threads: usize,
    batch: usize,
    tokens: usize,
    deltas: DeltaStats,
    logprobs: DeltaStats,
    margins: MarginStats,
    seconds: f64,
}

impl RowBuilder {
    /// A row expecting `tokens` token positions of `vocab` logits each.
    fn new(
        role: CalibrationRole,
        threads: usize,
        batch: usize,
        tokens: usize,
        vocab: usize,
    ) -> Self {
        Self {
            role,
            threads,
            batch,
            tokens: 0,
            deltas: DeltaStats::new(tokens.saturating_mul(vocab)),
            logprobs: DeltaStats::new(tokens),
            margins: MarginStats::new(),
            seconds: 0.0,
        }
    }

    /// Adds the log-probabilities of `output`'s tokens: `own` (one per token) against the
    /// reference verifier's `reference` rows.
    fn push_logprobs(&mut self, output: &[u32], own: &[f64], reference: &[Vec<f32>]) {
        for ((&token, &mine), row) in output.iter().zip(own).zip(reference) {
            self.logprobs.push_f64(mine, token_logprob(row, token));
        }
    }

    fn finish(self) -> CalibrationRow {
        let tokens_per_sec =
            if self.seconds > 0.0 { self.tokens as f64 / self.seconds } else { f64::INFINITY };
        CalibrationRow {
            role: self.role,
            threads: self.threads,
            batch: self.batch,
            tokens: self.tokens,
            compared: self.deltas.count,
            max_abs_delta: self.deltas.max,
            p999_abs_delta: self.deltas.p999(),
            max_logprob_delta: self.logprobs.max,
            p999_logprob_delta: self.logprobs.p999(),
            mean_abs_delta: self.deltas.mean(),
            max_margin: self.margins.max_margin,
            flips: self.margins.flips,
            min_gap: self.margins.min_gap,
            seconds: self.seconds,
            tokens_per_sec,
        }
    }
}

/// Measures the logit differences between cached grid decoding and the verifier's
/// teacher-forced pass, and suggests a [`GridTolerance`] from them.
///
/// `tokens` is a held-out token stream (e.g. [`crate::Corpus::encode_held_out`]); the
/// challenges are `cfg.challenges` prompts of `cfg.prompt_len` tokens cut from it at
/// pseudo-random offsets (seeded by `cfg.seed`), each with its own noise seed and
/// `cfg.sampling`, generating `cfg.max_new_tokens` tokens (no end-of-sequence token). The
/// same challenges are used in every configuration.
///
/// * **Reference:** the verifier ([`LanguageModel::teacher_forced_logits`]) with 1 libtorch
///   thread and batch 1.
/// * **Decoding rows**, for each thread count of `cfg.threads` and each batch size of
///   `cfg.batches`: the challenges are decoded with
///   [`LanguageModel::generate_grid_batch`] in groups of `batch` (the last group may be
///   smaller), keeping each step's logits, and compared with the reference verifier's logits
///   over the same outputs.
/// * **Verification rows**, for each (threads, batch) other than (1, 1): the verifier in
///   groups of `batch` ([`LanguageModel::teacher_forced_logits_batch`]) over the outputs of
///   the first decoding configuration, against the reference.
///
/// The thread count is set with [`crate::set_threads`] and restored at the end. The report's
/// tolerance is [`suggest_tolerance`] of the worst decoding plus worst verification
/// difference.
pub fn calibrate(
    model: &LanguageModel,
    tokens: &[u32],
    cfg: &CalibrationConfig,
) -> Result<CalibrationReport> {
    cfg.validate()?;
    let challenges = sample_challenges(tokens, cfg)?;
    for (i, c) in challenges.iter().enumerate() {
        model
            .check_grid_request(&c.prompt, &c.req)
            .map_err(|e| ModelError::InvalidInput(format!("calibration challenge {i}: {e}")))?;
    }
    let saved = tch::get_num_threads();
    let result = run(model, &challenges, cfg);
    tch::set_num_threads(saved);
    let rows = result?;
    let worst = |role: CalibrationRole, f: fn(&CalibrationRow) -> f64| {
        rows.iter().filter(|r| r.role == role).map(f).fold(0.0, f64::max)
    };
    let logit_bound = worst(CalibrationRole::Decode, |r| r.max_abs_delta)
        + worst(CalibrationRole::Verify, |r| r.max_abs_delta);
    let logit_bound_p999 = worst(CalibrationRole::Decode, |r| r.p999_abs_delta)
        + worst(CalibrationRole::Verify, |r| r.p999_abs_delta);
    let logprob_bound = worst(CalibrationRole::Decode, |r| r.max_logprob_delta)
        + worst(CalibrationRole::Verify, |r| r.max_logprob_delta);
    let logprob_bound_p999 = worst(CalibrationRole::Decode, |r| r.p999_logprob_delta)
        + worst(CalibrationRole::Verify, |r| r.p999_logprob_delta);
    Ok(CalibrationReport {
        config: cfg.clone(),
        rows,
        logit_bound,
        logit_bound_p999,
        logprob_bound,
        logprob_bound_p999,
        tolerance: suggest_tolerance(logit_bound, logit_bound_p999, logprob_bound, &cfg.sampling),
    })
}

/// Every configuration of [`calibrate`], in report order.
fn run(
    model: &LanguageModel,
    challenges: &[GridChallenge],
    cfg: &CalibrationConfig,
) -> Result<Vec<CalibrationRow>> {
    let vocab = model.vocab_len();
    let expected = challenges.len().saturating_mul(cfg.max_new_tokens);
    let mut rows = Vec::new();
    let mut first_outputs: Option<Vec<Vec<u32>>> = None;
    for &threads in &cfg.threads {
        for &batch in &cfg.batches {
            let mut row = RowBuilder::new(CalibrationRole::Decode, threads, batch, expected, vocab);
            let mut outputs = Vec::with_capacity(challenges.len());
            for group in challenges.chunks(batch) {
                set_threads(threads);
                let prompts: Vec<&[u32]> = group.iter().map(|c| c.prompt.as_slice()).collect();
                let reqs: Vec<GridRequest> = group.iter().map(|c| c.req.clone()).collect();
                let started = Instant::now();
                let decoded = model.grid_decode_batch(&prompts, &reqs, true)?;
                row.seconds += started.elapsed().as_secs_f64();
                for (c, DecodedRow { output, logits }) in group.iter().zip(decoded) {
                    let reference = reference_logits(model, &c.prompt, &output.tokens)?;
                    row.tokens = row.tokens.saturating_add(output.tokens.len());
                    row.deltas.push_rows(&logits, &reference);
                    row.push_logprobs(&output.tokens, &output.logprobs, &reference);
                    row.margins.push(&c.req, &output.tokens, &reference, vocab);
                    outputs.push(output.tokens);
                }
            }
            let row = row.finish();
            progress(cfg, &row);
            rows.push(row);
            first_outputs.get_or_insert(outputs);
        }
    }
    let outputs = first_outputs.unwrap_or_default();
    for &threads in &cfg.threads {
        for &batch in cfg.batches.iter().filter(|&&b| !(threads == 1 && b == 1)) {
            let mut row = RowBuilder::new(CalibrationRole::Verify, threads, batch, expected, vocab);
            let pairs: Vec<(&[u32], &[u32])> = challenges
                .iter()
                .zip(&outputs)
                .map(|(c, o)| (c.prompt.as_slice(), o.as_slice()))
                .collect();
            for (group, chunk) in pairs.chunks(batch).zip(challenges.chunks(batch)) {
                set_threads(threads);
                let started = Instant::now();
                let verified = model.teacher_forced_rows(group)?;
                row.seconds += started.elapsed().as_secs_f64();
                for ((&(prompt, output), c), logits) in group.iter().zip(chunk).zip(verified) {
                    let reference = reference_logits(model, prompt, output)?;
                    let n = output.len();
                    let logits = logits.get(..n).unwrap_or_default();
                    row.tokens = row.tokens.saturating_add(n);
                    row.deltas.push_rows(logits, &reference);
                    let own: Vec<f64> =
                        output.iter().zip(logits).map(|(&t, r)| token_logprob(r, t)).collect();
                    row.push_logprobs(output, &own, &reference);
                    row.margins.push(&c.req, output, logits, vocab);
                }
            }
            let row = row.finish();
            progress(cfg, &row);
            rows.push(row);
        }
    }
    Ok(rows)
}

/// The reference verifier's rows (1 thread, batch 1) that predicted `output`'s tokens.
fn reference_logits(
    model: &LanguageModel,
    prompt: &[u32],
    output: &[u32],
) -> Result<Vec<Vec<f32>>> {
    set_threads(1);
    let mut rows = model.teacher_forced_logits(prompt, output)?;
    rows.truncate(output.len());
    Ok(rows)
}

/// One progress line on stderr when `cfg.progress`.
fn progress(cfg: &CalibrationConfig, r: &CalibrationRow) {
    if cfg.progress {
        eprintln!(
            "grid-calibrate: {:?} threads={} batch={}: {} tokens in {:.2} s, max |Δ| {:.3e}, \
             p99.9 |Δ| {:.3e}, max |Δ logprob| {:.3e}, flips {}",
            r.role,
            r.threads,
            r.batch,
            r.tokens,
            r.seconds,
            r.max_abs_delta,
            r.p999_abs_delta,
            r.max_logprob_delta,
            r.flips
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::*;
    use crate::GptConfig;
    use tch::Device;

    #[test]
    fn grid_calibration_on_a_tiny_model() {
        let config = GptConfig {
            vocab_size: 64,
            n_positions: 64,
            n_embd: 32,
            n_layer: 2,
            n_head: 4,
            layer_norm_epsilon: 1e-5,
        };
        let m = LanguageModel::random(config, Device::Cpu, 3).unwrap();
        let tokens: Vec<u32> = (0..500u32).map(|i| (i * 37 + i / 7) % 64).collect();
        let cfg = CalibrationConfig {
            challenges: 6,
            prompt_len: 8,
            max_new_tokens: 12,
            sampling: GridSampling { temperature: 0.8, top_k: 0, top_p: 1.0 },
            seed: 9,
            ..CalibrationConfig::default()
        };
        let before = tch::get_num_threads();
        let report = calibrate(&m, &tokens, &cfg).unwrap();
        assert_eq!(tch::get_num_threads(), before, "thread count restored");
        let shape: Vec<_> = report.rows.iter().map(|r| (r.role, r.threads, r.batch)).collect();
        use CalibrationRole::{Decode, Verify};
        assert_eq!(
            shape,
            [
                (Decode, 1, 1),
                (Decode, 1, 4),
                (Decode, 2, 1),
                (Decode, 2, 4),
                (Verify, 1, 4),
                (Verify, 2, 1),
                (Verify, 2, 4)
            ]
        );
        for r in &report.rows {
            eprintln!(
                "{:?} t{} b{}: compared {} max {:e} p99.9 {:e} mean {:e} margin {} flips {} gap {}",
                r.role,
                r.threads,
                r.batch,
                r.compared,
                r.max_abs_delta,
                r.p999_abs_delta,
                r.mean_abs_delta,
                r.max_margin,
                r.flips,
                r.min_gap
            );
            assert_eq!(r.tokens, 6 * 12);
            assert_eq!(r.compared, 6 * 12 * 64);
            assert!(r.max_abs_delta.is_finite() && r.max_abs_delta < 1e-4, "{r:?}");
            assert!(r.p999_abs_delta <= r.max_abs_delta && r.mean_abs_delta <= r.p999_abs_delta);
            assert!(r.max_logprob_delta.is_finite() && r.max_logprob_delta < 1e-4, "{r:?}");
            assert!(r.p999_logprob_delta <= r.max_logprob_delta);
            assert_eq!((r.flips, r.max_margin), (0, 0.0), "{r:?}");
            assert!(r.min_gap > 0.0 && r.min_gap.is_finite(), "{r:?}");
        }
        let t = report.tolerance;
        eprintln!("bound {:e} / {:e}: {t:?}", report.logit_bound, report.logit_bound_p999);
        assert!(report.logit_bound < 2e-4);
        assert!(report.logprob_bound < 2e-4 && report.logprob_bound_p999 <= report.logprob_bound);
        assert_eq!(t.logprob, CALIBRATION_LOGPROB_FLOOR.max(100.0 * report.logprob_bound));
        assert_eq!(t.hard, CALIBRATION_HARD_FLOOR);
        assert!(t.soft >= CALIBRATION_SOFT_FLOOR && t.soft <= t.hard);
        assert!(t.mask_slack >= CALIBRATION_MASK_SLACK_FLOOR);
        t.validate().unwrap();
        // Deterministic: the same challenges give the same tokens (and so the same counts).
        let again = calibrate(
            &m,
            &tokens,
            &CalibrationConfig { threads: vec![1], batches: vec![1], ..cfg.clone() },
        )
        .unwrap();
        assert_eq!(again.rows.len(), 1);
        assert_eq!(again.rows[0].min_gap, report.rows[0].min_gap);
        assert!(calibrate(&m, &tokens[..5], &cfg).is_err());
        assert!(
            calibrate(&m, &tokens, &CalibrationConfig { batches: vec![], ..cfg.clone() }).is_err()
        );
        let too_long = CalibrationConfig { max_new_tokens: 60, ..cfg };
        assert!(calibrate(&m, &tokens, &too_long).unwrap_err().to_string().contains("challenge 0"));
    }

    #[test]
    fn grid_tolerance_rule() {
        let t1 = GridSampling::default();
        let t = suggest_tolerance(1e-3, 1e-5, 2e-5, &t1);
        assert!((t.hard - 0.1).abs() < 1e-12 && (t.soft - 1e-3).abs() < 1e-12, "{t:?}");
        assert!((t.logprob - 2e-3).abs() < 1e-12, "{t:?}");
        assert!((t.mask_slack - 0.1).abs() < 1e-12);
        let cold = GridSampling { temperature: 0.5, ..t1 };
        let t = suggest_tolerance(1e-3, 1e-5, 2e-5, &cold);
        assert!((t.hard - 0.2).abs() < 1e-12);
        assert!((t.logprob - 2e-3).abs() < 1e-12, "the temperature plays no part");
        let greedy = GridSampling { temperature: 0.0, ..t1 };
        assert!((suggest_tolerance(1e-3, 0.0, 0.0, &greedy).hard - 0.1).abs() < 1e-12);
        let tiny = suggest_tolerance(1e-7, 1e-9, 1e-9, &t1);
        assert_eq!(
            (tiny.hard, tiny.soft, tiny.mask_slack, tiny.logprob),
            (
                CALIBRATION_HARD_FLOOR,
                CALIBRATION_SOFT_FLOOR,
                CALIBRATION_MASK_SLACK_FLOOR,
                CALIBRATION_LOGPROB_FLOOR
            )
        );
        assert_eq!(suggest_tolerance(f64::INFINITY, 0.0, 0.0, &t1).hard, f64::INFINITY);
        assert_eq!(suggest_tolerance(0.0, 0.0, f64::NAN, &t1).logprob, f64::INFINITY);
        let mut s = DeltaStats::new(2000);
        for i in 0..2000 {
            s.push(i as f32, 0.0);
        }
        // Nearest rank ceil(0.999 · 2000) = 1998: the value 1997.
        assert_eq!((s.p999(), s.max, s.count), (1997.0, 1999.0, 2000));
        assert!((s.mean() - 999.5).abs() < 1e-9);
    }
}
