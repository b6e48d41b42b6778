//! Issue 13's grid benchmark: what verification costs the validator against what generation
//! costs the miner, and whether verification tells the model from a slightly perturbed copy.
//!
//! Challenges are the held-out prompts `stmodel grid-calibrate` uses
//! ([`grid::sample_challenges`]: prompts cut from the corpus's held-out documents at seeded
//! offsets, each with its own noise seed, no end-of-sequence token, so every output has
//! exactly `--new-tokens` tokens). For each challenge:
//!
//! 1. the miner's side: [`LanguageModel::generate_grid`] (cached decoding, with each token's
//!    log-probability), timed;
//! 2. the validator's side: [`LanguageModel::verify_grid_claim`] of that output and its
//!    log-probabilities with [`GridTolerance::default`] (one teacher-forced pass), timed; a
//!    rejection here is an honest rejection (a false positive);
//! 3. a copy of the model with every weight perturbed by `--perturb-scale` × its RMS
//!    ([`LanguageModel::perturbed`], fixed seed) generates the same challenge, with its own
//!    log-probabilities, and the honest model checks it twice from one
//!    [`LanguageModel::grid_reference`]: tokens only (the reference's verdict, as
//!    [`LanguageModel::verify_grid`]) and with the log-probability claims
//!    ([`grid::GridReference::judge`]); a rejection is a detection. The same at each of
//!    `--other-scales`. An output token-for-token equal to the honest one cannot be detected
//!    from its tokens, so token-only detections are also reported among the outputs that
//!    differ.
//!
//! `--prompt-len + --new-tokens` must fit the model's context (`n_positions`): the defaults
//! (16 + 48) fit the 64-token context of the end-to-end tests' "tiny" models. Run it through
//! `scripts/bench-grid.sh`, which builds it in release and makes the default model if missing.
//!
//! ```text
//! cargo run --release -p subtensor-model --example bench_grid -- --challenges 200
//! ```

use clap::Parser;
use std::path::PathBuf;
use std::time::Instant;
use subtensor_model::grid::{self, CalibrationConfig, GridChallenge};
use subtensor_model::{
    set_threads, Corpus, GridSampling, GridTolerance, LanguageModel, ModelError, Result,
    TextTokenizer, TOKENIZER_FILE,
};

/// Grid benchmark: generation vs verification time, honest rejections, perturbed-weights
/// detection.
#[derive(Debug, Parser)]
#[command(args_override_self = true)]
struct Args {
    /// Model directory (config.json, model.safetensors, tokenizer.json).
    #[arg(long, default_value = ".local/test-models/large")]
    model: PathBuf,
    /// Corpus whose held-out documents the prompts are cut from.
    #[arg(long, default_value = "/usr/share/games/fortunes")]
    corpus: PathBuf,
    /// Number of challenges.
    #[arg(long, default_value_t = 1000)]
    challenges: usize,
    /// Prompt tokens per challenge.
    #[arg(long, default_value_t = 16)]
    prompt_len: usize,
    /// Tokens generated per challenge (prompt + new tokens must fit the model's context).
    #[arg(long, default_value_t = 48)]
    new_tokens: usize,
    /// Sampling temperature (0 = greedy).
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Relative scale of the perturbed copy's weight noise.
    #[arg(long, default_value_t = 0.01)]
    perturb_scale: f64,
    /// Further perturbation scales also measured, comma-separated (0: none).
    #[arg(long, value_delimiter = ',', default_value = "0.001")]
    other_scales: Vec<f64>,
    /// libtorch threads (0 = libtorch's default).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seed of the prompt offsets and the challenges' noise seeds.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Seed of the perturbed copies' noise.
const PERTURB_SEED: u64 = 1;

/// A perturbed copy and what it scored.
struct Cheater {
    scale: f64,
    model: LanguageModel,
    /// Rejected on its tokens alone.
    detected: usize,
    /// Rejected with its log-probability claims.
    detected_claim: usize,
    /// Among the outputs identical to the honest one, rejected with the claims.
    detected_identical: usize,
    /// Each challenge's largest log-probability error of the claim.
    claim_errors: Vec<f64>,
    /// Outputs token-for-token equal to the honest one (undetectable by any verifier).
    identical: usize,
}

/// Nearest-rank percentile `q` (0..=1) of sorted `values`.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let last = sorted.len().saturating_sub(1);
    let rank = ((q * sorted.len() as f64).ceil() as usize).saturating_sub(1).min(last);
    sorted.get(rank).copied().unwrap_or(f64::NAN)
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn run(a: &Args) -> Result<()> {
    set_threads(a.threads);
    let model = LanguageModel::load(&a.model, tch::Device::Cpu)?;
    let context = usize::try_from(model.config().n_positions).unwrap_or(0);
    if a.prompt_len.saturating_add(a.new_tokens) > context {
        return Err(ModelError::InvalidInput(format!(
            "--prompt-len {} + --new-tokens {} exceeds the model's context of {context}: lower \
             them (the defaults 16 + 48 fit a 64-token context)",
            a.prompt_len, a.new_tokens
        )));
    }
    let tok = TextTokenizer::load(&a.model.join(TOKENIZER_FILE))?;
    let held_out = Corpus::load(&a.corpus)?.encode_held_out(&tok)?;
    let cfg = CalibrationConfig {
        challenges: a.challenges,
        prompt_len: a.prompt_len,
        max_new_tokens: a.new_tokens,
        sampling: GridSampling { temperature: a.temperature, ..GridSampling::default() },
        threads: vec![a.threads.max(1)],
        batches: vec![1],
        seed: a.seed,
        progress: false,
    };
    cfg.validate()?;
    let challenges: Vec<GridChallenge> = grid::sample_challenges(&held_out, &cfg)?;
    let mut cheaters = Vec::new();
    for &scale in std::iter::once(&a.perturb_scale).chain(&a.other_scales) {
        if scale > 0.0 {
            let model = model.perturbed(scale, PERTURB_SEED)?;
            cheaters.push(Cheater {
                scale,
                model,
                detected: 0,
                detected_claim: 0,
                detected_identical: 0,
                claim_errors: Vec::new(),
                identical: 0,
            });
        }
    }
    let tol = GridTolerance::default();
    eprintln!(
        "bench-grid: {} challenges of {}+{} tokens at T={} from {} held-out tokens; model {} \
         ({} parameters), {} libtorch threads",
        challenges.len(),
        a.prompt_len,
        a.new_tokens,
        a.temperature,
        held_out.len(),
        a.model.display(),
        model.num_parameters(),
        tch::get_num_threads()
    );
    // Warm-up (allocations, thread pools), untimed.
    if let Some(c) = challenges.first() {
        let out = model.generate_grid(&c.prompt, &c.req)?;
        model.verify_grid_claim(&c.prompt, &c.req, &out.tokens, &out.logprobs, &tol)?;
    }
    let mut gen_ms = Vec::with_capacity(challenges.len());
    let mut ver_ms = Vec::with_capacity(challenges.len());
    let mut rejected = 0usize;
    let mut first_rejection = None;
    let mut honest_errors = Vec::with_capacity(challenges.len());
    let mut tokens = 0usize;
    let started = Instant::now();
    for (i, c) in challenges.iter().enumerate() {
        let t = Instant::now();
        let out = model.generate_grid(&c.prompt, &c.req)?;
        gen_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        tokens = tokens.saturating_add(out.tokens.len());
        let t = Instant::now();
        let verdict =
            model.verify_grid_claim(&c.prompt, &c.req, &out.tokens, &out.logprobs, &tol)?;
        ver_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        honest_errors.push(verdict.max_logprob_error);
        if !verdict.accepted {
            rejected = rejected.saturating_add(1);
            first_rejection.get_or_insert((i, verdict.reason));
        }
        for cheater in &mut cheaters {
            let fake = cheater.model.generate_grid(&c.prompt, &c.req)?;
            let identical = fake.tokens == out.tokens;
            if identical {
                cheater.identical = cheater.identical.saturating_add(1);
            }
            let reference = model.grid_reference(&c.prompt, &c.req, &fake.tokens, &tol)?;
            if !reference.verdict.accepted {
                cheater.detected = cheater.detected.saturating_add(1);
            }
            let claim = reference.judge(&fake.logprobs, &tol);
            cheater.claim_errors.push(claim.max_logprob_error);
            if !claim.accepted {
                cheater.detected_claim = cheater.detected_claim.saturating_add(1);
                if identical {
                    cheater.detected_identical = cheater.detected_identical.saturating_add(1);
                }
            }
        }
        let done = i.saturating_add(1);
        if done % 100 == 0 {
            eprintln!("  {done} / {} ({:.0} s)", challenges.len(), started.elapsed().as_secs_f64());
        }
    }
    let n = challenges.len();
    let pct = |k: usize| 100.0 * k as f64 / n.max(1) as f64;
    let total_gen: f64 = gen_ms.iter().sum();
    let total_ver: f64 = ver_ms.iter().sum();
    let (gen_ms, ver_ms) = (sorted(gen_ms), sorted(ver_ms));
    let (g50, g99) = (percentile(&gen_ms, 0.5), percentile(&gen_ms, 0.99));
    let (v50, v99) = (percentile(&ver_ms, 0.5), percentile(&ver_ms, 0.99));
    let honest_errors = sorted(honest_errors);
    println!("grid benchmark ({}, tolerance {:?})", a.model.display(), tol);
    println!("{:<46} {:>14}", "challenges", n);
    println!(
        "{:<46} {:>14}",
        "tokens per challenge (prompt + new)",
        format!("{} + {}", a.prompt_len, a.new_tokens)
    );
    println!("{:<46} {:>14.3}", "temperature", a.temperature);
    println!("{:<46} {:>14}", "generation ms p50 / p99", format!("{g50:.2} / {g99:.2}"));
    println!("{:<46} {:>14}", "verification ms p50 / p99", format!("{v50:.2} / {v99:.2}"));
    println!(
        "{:<46} {:>14}",
        "verification / generation, p50 (target <= 25%)",
        format!("{:.1}%", 100.0 * v50 / g50)
    );
    println!(
        "{:<46} {:>14}",
        "verification / generation, totals",
        format!("{:.1}%", 100.0 * total_ver / total_gen)
    );
    println!(
        "{:<46} {:>14}",
        "generated tokens/s (miner, 1 request)",
        format!("{:.0}", tokens as f64 / (total_gen / 1000.0))
    );
    println!(
        "{:<46} {:>14}",
        "honest rejections, tokens + logprobs (target 0)",
        format!("{rejected} ({:.2}%)", pct(rejected))
    );
    println!(
        "{:<46} {:>14}",
        "honest max |Δ logprob| p50 / max",
        format!(
            "{:.1e} / {:.1e}",
            percentile(&honest_errors, 0.5),
            honest_errors.last().copied().unwrap_or(f64::NAN)
        )
    );
    for c in &cheaters {
        println!(
            "{:<46} {:>14}",
            format!("perturbed x{} detected, tokens only", c.scale),
            format!("{} ({:.1}%)", c.detected, pct(c.detected))
        );
        println!(
            "{:<46} {:>14}",
            format!("perturbed x{} detected, + logprobs (>= 99%)", c.scale),
            format!("{} ({:.1}%)", c.detected_claim, pct(c.detected_claim))
        );
        let errors = sorted(c.claim_errors.clone());
        println!(
            "{:<46} {:>14}",
            format!("perturbed x{} max |Δ logprob| p1 / p50", c.scale),
            format!("{:.1e} / {:.1e}", percentile(&errors, 0.01), percentile(&errors, 0.5))
        );
        println!(
            "{:<46} {:>14}",
            format!("perturbed x{} output identical to honest", c.scale),
            format!("{} ({:.1}%)", c.identical, pct(c.identical))
        );
        println!(
            "{:<46} {:>14}",
            format!("perturbed x{} identical, detected + logprobs", c.scale),
            format!("{} / {}", c.detected_identical, c.identical)
        );
        let differing = n.saturating_sub(c.identical);
        println!(
            "{:<46} {:>14}",
            format!("perturbed x{} tokens-only among differing", c.scale),
            format!(
                "{} / {differing} ({:.1}%)",
                c.detected,
                100.0 * c.detected as f64 / differing.max(1) as f64
            )
        );
    }
    if let Some((i, reason)) = first_rejection {
        println!("first honest rejection: challenge {i}: {}", reason.unwrap_or_default());
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run(&Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
