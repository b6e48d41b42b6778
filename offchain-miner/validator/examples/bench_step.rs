//! Issue 7's validator benchmark: complete validator steps over 256 miners (sign, fan-out,
//! receive, decode, phrase loss, EMA/score update), timed step by step.
//!
//! ```text
//! bench_step [--miners 256] [--steps 10] [--warmup 1] [--timeout 12] [--slow 4] [--dead 4]
//!            [--batch 4] [--context 64] [--validation-len 8] [--topk 512]
//!            [--phase both|healthy|faulty] [--faulty-steps N] [--json FILE]
//! ```
//!
//! Start-up: `--miners` axons on loopback (uids `1..=miners`, one hotkey each), served by their
//! own tokio runtime (`--miner-threads` workers, threads named `bench-miner`) so that the
//! validator's runtime is shaped like the binary's (`#[tokio::main]`: one worker per core, the
//! step itself on the main thread). Each miner answers `TextCausalLMNext` with an answer
//! precomputed at start-up (`topk` phrases per row, every row the same) put into the echoed
//! request, so a miner's work per query is the axon pipeline itself (verify, hash, sign,
//! serialise). The evaluation text is drawn from a Zipf law over 4,096 token ids of a
//! 50,257-token vocabulary; miner `i`'s answer mixes the true top-`topk` law with a uniform one
//! (weight `i / (miners − 1)` on the true law), so losses differ between miners.
//!
//! The step: `step::run_step` (src/step.rs), the very function `Validator::step` calls:
//! `Sampler::next_step` → `EvalData::sample` → `TextCausalLMNext::request` →
//! `Dendrite::fan_out` (sign, send, receive, JSON, body hash, response signature) → per uid
//! `scoring::evaluate` (top-k decoding and phrase loss) → `State::score_mut` +
//! `UidScore::observe` (EMA, scaling law, zeroing EMA). The only difference from the binary:
//! the uid → axon map is a fixed `BTreeMap` instead of `SubnetView::targets()` (the metagraph,
//! which needs a chain), and no tracing subscriber is installed, so its log lines go nowhere.
//! The fan-out's and the scoring loop's times come from the step's report (the scoring loop's
//! CPU time through `StepParams::thread_cpu`). The state is then saved with `StateStore::save`
//! as the binary does after every step; that time is reported apart.
//!
//! Phases: `healthy` (every miner answers; the first `--warmup` steps open the connections and
//! are reported apart as cold), then `faulty`: `--slow` miners start answering only after the
//! timeout and `--dead` axons are shut down, to show that they cost the step the timeout and
//! no more. Figures per phase: mean / p50 / max over the timed steps of the step's wall time,
//! the fan-out's wall time, the slowest answer's round trip, the scoring loop's wall and CPU
//! time, the CPU time of the validator's threads and of the miners' threads during the step,
//! and the state save; then the per-answer scoring cost measured in isolation.
//!
//! Self-checks (exit status 1 if one fails): every healthy miner's answer scores a loss, every
//! slow or dead one a failure; a faulty step's fan-out ends by the timeout (plus 2 s of
//! scheduling slack); every uid was observed once per step; the best miner's EMA loss is below
//! the worst one's. `scripts/bench-validator.sh` builds this in release and runs it.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use clap::{Parser, ValueEnum};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};
use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    path::PathBuf,
    process::ExitCode,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use subtensor_axon::{
    axon::RunningAxon,
    loss::mean_phrase_loss,
    synapse::{encode_topk, floor_probability, TopkPhrases},
    Axon, AxonConfig, AxonTarget, Caller, Dendrite, Reply, Tensor, TextCausalLMNext,
};
use subtensor_validator::{
    data::EvalData,
    scoring::{evaluate, evaluate_answer, Observation, ScoringParams},
    state::{State, StateStore},
    step::{run_step, StepParams},
};
use subtensor_wallet::Keypair;

/// The standard (GPT-2) tokenizer's vocabulary, as the validator's `EvalData` reports it.
const VOCAB: u32 = 50_257;
/// Distinct token ids the evaluation text uses (Zipf ranks).
const ZIPF_RANKS: usize = 4096;
/// The Zipf exponent of the evaluation text.
const ZIPF_S: f64 = 1.1;
/// Tokens of evaluation text generated.
const TEXT_TOKENS: usize = 200_000;
/// The benchmark's subnet id (only names the state).
const NETUID: u16 = 1;
/// Scheduling slack allowed past the timeout before a faulty step counts as held up.
const TIMEOUT_SLACK: Duration = Duration::from_secs(2);
/// How long after the timeout a slow miner answers.
const SLOW_EXTRA: Duration = Duration::from_secs(5);
/// Thread name prefix of the miners' runtime (≤ 15 characters, the kernel's `comm` limit).
const MINER_THREADS: &str = "bench-miner";
/// Thread name of the validator's runtime workers.
const VALIDATOR_THREADS: &str = "bench-validator";

/// Which phases to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Phase {
    /// Healthy, then faulty.
    Both,
    /// Every miner answers.
    Healthy,
    /// Some miners are slow or dead.
    Faulty,
}

/// The command line.
#[derive(Clone, Debug, Parser)]
#[command(name = "bench_step", about = "Times complete validator steps over many miners")]
struct Args {
    /// Miners (axons on loopback), all queried in every step (the step's sample size).
    #[arg(long, default_value_t = 256)]
    miners: usize,
    /// Timed steps per phase.
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Timed steps of the faulty phase (default: --steps).
    #[arg(long = "faulty-steps")]
    faulty_steps: Option<usize>,
    /// Untimed steps before the healthy phase (they open the connections).
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Query timeout in seconds (the validator's default is 12).
    #[arg(long, default_value_t = 12.0)]
    timeout: f64,
    /// Miners that answer only after the timeout in the faulty phase.
    #[arg(long, default_value_t = 4)]
    slow: usize,
    /// Miners whose axon is shut down for the faulty phase.
    #[arg(long, default_value_t = 4)]
    dead: usize,
    /// Rows per query.
    #[arg(long, default_value_t = 4)]
    batch: usize,
    /// Input tokens per row.
    #[arg(long, default_value_t = 64)]
    context: usize,
    /// Target tokens per row.
    #[arg(long = "validation-len", default_value_t = 8)]
    validation_len: usize,
    /// Phrases per row.
    #[arg(long, default_value_t = 512)]
    topk: u32,
    /// Which phases to run.
    #[arg(long, value_enum, default_value_t = Phase::Both)]
    phase: Phase,
    /// Worker threads of the miners' runtime.
    #[arg(long = "miner-threads", default_value_t = 2)]
    miner_threads: usize,
    /// Worker threads of the validator's runtime (default: one per core, as `#[tokio::main]`).
    #[arg(long = "validator-threads")]
    validator_threads: Option<usize>,
    /// Seed of the evaluation text and of the validator's sampling.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Also write every figure as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The benchmark's error: one line of text.
type BenchResult<T> = Result<T, String>;

#[cfg_attr(test, allow(dead_code))]
fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(report) => {
            print!("{}", report.text);
            if let Some(path) = &args.json {
                let text = serde_json::to_string_pretty(&report.json).unwrap_or_default();
                if let Err(e) = std::fs::write(path, text) {
                    eprintln!("bench_step: error: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                eprintln!("bench_step: {} self-check(s) failed:", report.problems.len());
                for p in &report.problems {
                    eprintln!("  - {p}");
                }
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("bench_step: error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The evaluation text and the miners' answers.

/// A Zipf law over [`ZIPF_RANKS`] token ids.
struct Zipf {
    /// Probability of each rank.
    probs: Vec<f64>,
    /// Cumulative probabilities, for sampling.
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(ranks: usize, s: f64) -> Self {
        let weights: Vec<f64> = (1..=ranks).map(|r| (r as f64).powf(-s)).collect();
        let total: f64 = weights.iter().sum();
        let probs: Vec<f64> = weights.iter().map(|w| w / total).collect();
        let mut acc = 0.0;
        let cdf = probs
            .iter()
            .map(|p| {
                acc += p;
                acc
            })
            .collect();
        Self { probs, cdf }
    }

    fn sample_rank(&self, rng: &mut impl Rng) -> usize {
        let u: f64 = rng.gen();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len().saturating_sub(1))
    }
}

/// The token id of Zipf rank `rank`: a fixed permutation spreading ranks over the vocabulary
/// (7919 is prime and does not divide 50,257 = 29 · 1733, so ids are distinct below it).
fn token_of_rank(rank: usize) -> u32 {
    let id = (rank as u64).wrapping_mul(7919).wrapping_add(101).checked_rem(u64::from(VOCAB));
    u32::try_from(id.unwrap_or(0)).unwrap_or(0)
}

/// `TEXT_TOKENS` tokens drawn from `zipf`.
fn evaluation_text(zipf: &Zipf, seed: u64) -> Vec<u32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..TEXT_TOKENS).map(|_| token_of_rank(zipf.sample_rank(&mut rng))).collect()
}

/// The compact encoding of miner answers with `batch` identical rows: the `topk` most likely
/// ranks, probability `quality · p_true + (1 − quality) · uniform` (same total), every fourth
/// phrase two tokens long (the token, then the most likely token), and the floor.
fn precomputed_answer(zipf: &Zipf, quality: f64, topk: u32, batch: usize) -> BenchResult<Tensor> {
    let k = usize::try_from(topk).map_err(|e| e.to_string())?;
    if k > zipf.probs.len() {
        return Err(format!(
            "--topk {topk} exceeds the {} token ids of the text",
            zipf.probs.len()
        ));
    }
    let listed: f64 = zipf.probs.iter().take(k).sum();
    let uniform = listed / k as f64;
    let phrases: Vec<(f32, Vec<u32>)> = zipf
        .probs
        .iter()
        .take(k)
        .enumerate()
        .map(|(rank, p)| {
            let prob = (quality * p + (1.0 - quality) * uniform) as f32;
            let id = token_of_rank(rank);
            let phrase = if rank & 3 == 3 { vec![id, token_of_rank(0)] } else { vec![id] };
            (prob, phrase)
        })
        .collect();
    let sum: f32 = phrases.iter().map(|(p, _)| p).sum();
    let row = TopkPhrases { phrases, floor: floor_probability(sum, topk, VOCAB) };
    let rows = vec![row; batch];
    let values = encode_topk(&rows, topk).map_err(|e| e.to_string())?;
    Tensor::from_f32(&values, &[values.len()]).map_err(|e| e.to_string())
}

/// A 32-byte seed for a benchmark key.
fn seed_bytes(tag: u8, index: usize) -> [u8; 32] {
    let mut seed = [tag; 32];
    for (slot, byte) in seed.iter_mut().zip((index as u64).to_le_bytes()) {
        *slot = byte;
    }
    seed
}

/// One miner: its uid, axon (while it runs), target as the chain would list it, and the switch
/// that makes it slow.
struct Miner {
    uid: u16,
    quality: f64,
    axon: Option<RunningAxon>,
    target: AxonTarget,
    slow: Arc<AtomicBool>,
}

/// Starts `args.miners` axons on loopback inside the current (miner) runtime.
async fn start_miners(args: &Args, zipf: &Zipf) -> BenchResult<Vec<Miner>> {
    let slow_for = Duration::from_secs_f64(args.timeout).saturating_add(SLOW_EXTRA);
    let last = args.miners.saturating_sub(1).max(1) as f64;
    let mut miners = Vec::with_capacity(args.miners);
    for i in 0..args.miners {
        let uid = u16::try_from(i.saturating_add(1)).map_err(|_| "too many miners".to_owned())?;
        let quality = i as f64 / last;
        let answer = Arc::new(precomputed_answer(zipf, quality, args.topk, args.batch)?);
        let key = Keypair::from_seed(&seed_bytes(0x4d, i)).map_err(|e| e.to_string())?;
        let hotkey = key.ss58();
        let slow = Arc::new(AtomicBool::new(false));
        let switch = slow.clone();
        let axon = Axon::new(key, AxonConfig::default())
            .attach(move |_caller: Caller, mut s: TextCausalLMNext| {
                let (answer, switch) = (answer.clone(), switch.clone());
                async move {
                    if switch.load(Ordering::Relaxed) {
                        tokio::time::sleep(slow_for).await;
                    }
                    s.text_outputs = Some(Tensor::clone(&answer));
                    Ok(s)
                }
            })
            .spawn(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| format!("cannot start miner {uid}: {e}"))?;
        let target = AxonTarget { addr: axon.addr, hotkey };
        miners.push(Miner { uid, quality, axon: Some(axon), target, slow });
    }
    Ok(miners)
}

// ---------------------------------------------------------------------------------------------
// CPU accounting: this thread's clock, and every thread's from /proc (Linux; the figures are
// absent elsewhere). `/proc` lags by up to a scheduler tick (a few ms) for running threads.

/// Nanoseconds on CPU of the thread whose `/proc` directory is `dir` (`schedstat`).
fn thread_cpu_ns(dir: &std::path::Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("schedstat")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The calling thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`: exact, where `/proc` lags by up to
/// a scheduler tick for a thread that is running).
#[cfg(unix)]
fn own_cpu_ns() -> Option<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable `timespec` for the whole call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return None;
    }
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u64::try_from(ts.tv_nsec).ok()?;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// No per-thread CPU clock here.
#[cfg(not(unix))]
fn own_cpu_ns() -> Option<u64> {
    None
}

/// [`own_cpu_ns`] as the step's thread clock ([`StepParams::thread_cpu`]).
fn own_cpu() -> Option<Duration> {
    own_cpu_ns().map(Duration::from_nanos)
}

/// CPU time of this process's threads so far, split into (validator side, miner side): the
/// miners' runtime threads are named [`MINER_THREADS`], every other thread is the validator's
/// (its runtime's workers and the main thread, which runs the step as `#[tokio::main]` does).
fn process_cpu_ns() -> Option<(u64, u64)> {
    let (mut validator, mut miners) = (0u64, 0u64);
    for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let dir = entry.path();
        let Some(ns) = thread_cpu_ns(&dir) else { continue };
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim_end().starts_with(MINER_THREADS) {
            miners = miners.saturating_add(ns);
        } else {
            validator = validator.saturating_add(ns);
        }
    }
    Some((validator, miners))
}

fn ms_between(before: Option<u64>, after: Option<u64>) -> Option<f64> {
    Some(after?.saturating_sub(before?) as f64 / 1e6)
}

// ---------------------------------------------------------------------------------------------
// The validator side and its step.

/// What the step needs of the validator: the chain-free fields of `Validator`.
struct ValidatorSide {
    dendrite: Dendrite,
    data: EvalData,
    state: State,
    store: StateStore,
    rng: StdRng,
    /// uid → axon, as `SubnetView::targets()` would list them.
    targets: BTreeMap<u16, AxonTarget>,
    /// The step's parameters, as the binary builds them from its command line.
    params: StepParams,
}

/// One answer kept for the isolated scoring measurement.
struct Sample {
    reply: Reply<TextCausalLMNext>,
    request: TextCausalLMNext,
    targets: Vec<Vec<u32>>,
}

/// The figures of one step.
#[derive(Clone, Debug, Default)]
struct StepStats {
    /// The whole step (`run_step`: sampling to the last score update), ms.
    total_ms: f64,
    /// `Dendrite::fan_out`, ms.
    fan_out_ms: f64,
    /// The slowest answer that arrived (its round trip), ms.
    slowest_answer_ms: f64,
    /// The scoring loop (evaluate + observe for every uid), wall ms.
    scoring_ms: f64,
    /// The scoring loop's CPU time on its thread, ms.
    scoring_cpu_ms: Option<f64>,
    /// CPU of every validator thread during the step, ms.
    validator_cpu_ms: Option<f64>,
    /// CPU of every miner thread during the step, ms.
    miner_cpu_ms: Option<f64>,
    /// `StateStore::save` after the step (not part of `step()`), ms.
    save_ms: f64,
    /// uid → observation.
    observations: BTreeMap<u16, Observation>,
}

impl ValidatorSide {
    /// One step ([`run_step`], as `Validator::step` runs it), timed, then the state saved.
    async fn step(&mut self, keep: &mut Option<Sample>) -> BenchResult<StepStats> {
        let cpu_before = process_cpu_ns();
        let started = Instant::now();
        let report = run_step(
            &self.dendrite,
            &self.data,
            &mut self.state,
            &self.targets,
            &self.params,
            &mut self.rng,
        )
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the sampler handed out no uid".to_owned())?;
        let total = started.elapsed();
        let cpu_after = process_cpu_ns();

        let save_started = Instant::now();
        self.store.save(&self.state).map_err(|e| e.to_string())?;
        let save = save_started.elapsed();

        let slowest_answer = report
            .outcomes
            .iter()
            .filter_map(|o| o.reply.as_ref().ok().map(|reply| reply.elapsed))
            .max()
            .unwrap_or_default();
        let (fan_out, scoring, scoring_cpu) = (report.fan_out, report.scoring, report.scoring_cpu);
        let mut observations = BTreeMap::new();
        let mut first_answer = None;
        for outcome in report.outcomes {
            observations.insert(outcome.uid, outcome.observation);
            if first_answer.is_none() {
                first_answer = outcome.reply.ok();
            }
        }
        if keep.is_none() {
            if let Some(reply) = first_answer {
                *keep =
                    Some(Sample { reply, request: report.request, targets: report.batch.targets });
            }
        }
        Ok(StepStats {
            total_ms: total.as_secs_f64() * 1e3,
            fan_out_ms: fan_out.as_secs_f64() * 1e3,
            slowest_answer_ms: slowest_answer.as_secs_f64() * 1e3,
            scoring_ms: scoring.as_secs_f64() * 1e3,
            scoring_cpu_ms: scoring_cpu.map(|cpu| cpu.as_secs_f64() * 1e3),
            validator_cpu_ms: ms_between(cpu_before.map(|c| c.0), cpu_after.map(|c| c.0)),
            miner_cpu_ms: ms_between(cpu_before.map(|c| c.1), cpu_after.map(|c| c.1)),
            save_ms: save.as_secs_f64() * 1e3,
            observations,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics and the report.

/// Mean, median (nearest rank) and max of some values.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Summary {
    mean: f64,
    p50: f64,
    max: f64,
}

fn summarize(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
    let rank = ((sorted.len() as f64) * 0.5).ceil() as usize;
    let p50 = sorted.get(rank.saturating_sub(1)).copied()?;
    let max = sorted.last().copied()?;
    Some(Summary { mean, p50, max })
}

/// A named column of per-step figures.
type Column = (&'static str, fn(&StepStats) -> Option<f64>);

const COLUMNS: [Column; 8] = [
    ("step (wall)", |s| Some(s.total_ms)),
    ("  fan-out (wall)", |s| Some(s.fan_out_ms)),
    ("  slowest answer", |s| Some(s.slowest_answer_ms)),
    ("  scoring (wall)", |s| Some(s.scoring_ms)),
    ("  scoring (CPU)", |s| s.scoring_cpu_ms),
    ("validator CPU", |s| s.validator_cpu_ms),
    ("miners CPU", |s| s.miner_cpu_ms),
    ("state save", |s| Some(s.save_ms)),
];

/// The report's text, its JSON, and the failed self-checks.
#[derive(Debug, Default)]
struct Report {
    text: String,
    json: Value,
    problems: Vec<String>,
}

/// Figures of one phase: the table and the per-answer scoring cost.
fn phase_report(name: &str, steps: &[StepStats], out: &mut String) -> Value {
    use std::fmt::Write;
    let _ = writeln!(out, "\n{name}: {} timed steps (ms)", steps.len());
    let _ = writeln!(out, "  {:<18} {:>10} {:>10} {:>10}", "", "mean", "p50", "max");
    let mut table = serde_json::Map::new();
    for (label, get) in COLUMNS {
        let values: Vec<f64> = steps.iter().filter_map(get).collect();
        if values.len() != steps.len() {
            let _ = writeln!(out, "  {label:<18} {:>10}", "n/a");
            continue;
        }
        if let Some(s) = summarize(&values) {
            let _ = writeln!(out, "  {label:<18} {:>10.1} {:>10.1} {:>10.1}", s.mean, s.p50, s.max);
            table.insert(
                label.trim().to_owned(),
                json!({ "mean_ms": s.mean, "p50_ms": s.p50, "max_ms": s.max, "values_ms": values }),
            );
        }
    }
    let answered: usize =
        steps.iter().map(|s| s.observations.values().filter(|o| !o.is_failure()).count()).sum();
    let queried: usize = steps.iter().map(|s| s.observations.len()).sum();
    let scoring_ms: f64 = steps.iter().map(|s| s.scoring_ms).sum();
    let per_answer_us = if queried > 0 { scoring_ms * 1e3 / queried as f64 } else { 0.0 };
    let scoring_cpu_ms: Option<f64> = steps.iter().map(|s| s.scoring_cpu_ms).sum();
    let per_answer_cpu_us =
        scoring_cpu_ms.filter(|_| queried > 0).map(|ms| ms * 1e3 / queried as f64);
    let _ = writeln!(
        out,
        "  answers scored: {answered} of {queried}; scoring loop per uid: {per_answer_us:.1} µs \
         wall, {} CPU",
        per_answer_cpu_us.map_or_else(|| "n/a".to_owned(), |us| format!("{us:.1} µs"))
    );
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for obs in steps.iter().flat_map(|s| s.observations.values()) {
        if let Observation::Failure(reason) = obs {
            let entry = reasons.entry(reason.clone()).or_default();
            *entry = entry.saturating_add(1);
        }
    }
    for (reason, count) in &reasons {
        let _ = writeln!(out, "  failures: {count} × {reason}");
    }
    json!({
        "steps": steps.len(),
        "figures": table,
        "answered": answered,
        "queried": queried,
        "scoring_loop_per_uid_us": per_answer_us,
        "scoring_loop_per_uid_cpu_us": per_answer_cpu_us,
        "failures": reasons,
    })
}

/// The cost of one call of `f`, µs: the best of 5 rounds of `calls` calls, as (wall, CPU of
/// this thread); the best round is the one least disturbed by other processes.
fn per_call_us(calls: u32, mut f: impl FnMut()) -> (f64, Option<f64>) {
    let (mut wall, mut cpu): (f64, Option<f64>) = (f64::INFINITY, None);
    for _ in 0..5 {
        let cpu_before = own_cpu_ns();
        let started = Instant::now();
        for _ in 0..calls {
            f();
        }
        let elapsed = started.elapsed().as_secs_f64() * 1e6 / f64::from(calls);
        wall = wall.min(elapsed);
        if let Some(ms) = ms_between(cpu_before, own_cpu_ns()) {
            let us = ms * 1e3 / f64::from(calls);
            cpu = Some(cpu.map_or(us, |c| c.min(us)));
        }
    }
    (wall, cpu)
}

/// Scoring one kept answer in isolation, on this thread alone: `evaluate` whole, then its parts
/// (top-k decoding: base64, msgpack, compact encoding; the phrase loss of the decoded rows)
/// and the score update. (name, wall µs, CPU µs) each.
fn isolated_scoring_cost(sample: &Sample, vocab: u32) -> Vec<(&'static str, f64, Option<f64>)> {
    const CALLS: u32 = 200;
    let ok = Ok(sample.reply.clone());
    let (request, targets) = (&sample.request, &sample.targets);
    let rows = sample.reply.synapse.outputs().unwrap_or_default();
    let params = ScoringParams::default();
    let mut score = subtensor_validator::scoring::UidScore::new("bench");
    let obs = Observation::Loss(3.0);
    let parts: [(&'static str, (f64, Option<f64>)); 4] = [
        (
            "evaluate (decode + loss)",
            per_call_us(CALLS, || {
                std::hint::black_box(evaluate(&ok, request, targets, vocab));
            }),
        ),
        (
            "  top-k decoding",
            per_call_us(CALLS, || {
                let _ = std::hint::black_box(sample.reply.synapse.outputs());
            }),
        ),
        (
            "  phrase loss",
            per_call_us(CALLS, || {
                let _ = std::hint::black_box(mean_phrase_loss(&rows, targets, vocab));
            }),
        ),
        (
            "EMA + score update",
            per_call_us(CALLS, || score.observe(std::hint::black_box(&obs), &params)),
        ),
    ];
    parts.into_iter().map(|(name, (wall, cpu))| (name, wall, cpu)).collect()
}

// ---------------------------------------------------------------------------------------------
// The run.

fn check_args(args: &Args) -> BenchResult<()> {
    if args.miners == 0 || args.miners > usize::from(u16::MAX).saturating_sub(1) {
        return Err("--miners must be in 1..65534".to_owned());
    }
    if args.slow.saturating_add(args.dead) >= args.miners && args.phase != Phase::Healthy {
        return Err("--slow + --dead must leave at least one healthy miner".to_owned());
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 600.0) {
        return Err("--timeout must be in (0, 600] seconds".to_owned());
    }
    if args.steps == 0 || args.miner_threads == 0 || args.validator_threads == Some(0) {
        return Err("--steps and the thread counts must be at least 1".to_owned());
    }
    Ok(())
}

/// Runs the benchmark; the report carries the figures and any failed self-check.
fn run(args: &Args) -> BenchResult<Report> {
    use std::fmt::Write;
    check_args(args)?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let miner_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.miner_threads)
        .thread_name(MINER_THREADS)
        .enable_all()
        .build()
        .map_err(|e| format!("miner runtime: {e}"))?;
    let validator_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.validator_threads.unwrap_or(cores))
        .thread_name(VALIDATOR_THREADS)
        .enable_all()
        .build()
        .map_err(|e| format!("validator runtime: {e}"))?;

    let setup_started = Instant::now();
    let zipf = Zipf::new(ZIPF_RANKS, ZIPF_S);
    let data = EvalData::from_tokens(evaluation_text(&zipf, args.seed), VOCAB)
        .map_err(|e| e.to_string())?;
    data.check_window(args.context, args.validation_len).map_err(|e| e.to_string())?;
    let mut miners = miner_rt.block_on(start_miners(args, &zipf))?;
    let state_dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let key = Keypair::from_seed(&seed_bytes(0x56, 0)).map_err(|e| e.to_string())?;
    let mut side = ValidatorSide {
        state: State::new(NETUID, key.ss58()),
        dendrite: Dendrite::new(key),
        data,
        store: StateStore::new(state_dir.path()),
        rng: StdRng::seed_from_u64(args.seed.wrapping_add(1)),
        targets: miners.iter().map(|m| (m.uid, m.target.clone())).collect(),
        params: StepParams {
            sample_size: args.miners,
            batch: args.batch,
            context: args.context,
            validation_len: args.validation_len,
            topk: args.topk,
            timeout: Duration::from_secs_f64(args.timeout),
            scoring: ScoringParams::default(),
            thread_cpu: Some(own_cpu),
        },
    };
    let setup = setup_started.elapsed();

    let mut report = Report::default();
    let mut out = String::new();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    let _ = writeln!(
        out,
        "validator step benchmark: {} miners on loopback, batch {} × {} tokens, top-k {}, \
         validation length {}, timeout {} s",
        args.miners, args.batch, args.context, args.topk, args.validation_len, args.timeout
    );
    let _ = writeln!(
        out,
        "machine: {cores} cores (shared with everything else running; miners and validator in \
         this one process), load average at start {load}; validator runtime {} workers, \
         miners {} workers; set-up {:.1} s",
        args.validator_threads.unwrap_or(cores),
        args.miner_threads,
        setup.as_secs_f64()
    );
    let mut json_phases = serde_json::Map::new();
    let mut sample: Option<Sample> = None;
    let mut steps_run = 0usize;
    let all_uids: BTreeSet<u16> = miners.iter().map(|m| m.uid).collect();
    let mut faulty_uids: BTreeSet<u16> = BTreeSet::new();

    let mut cold = Vec::new();
    for _ in 0..args.warmup {
        cold.push(validator_rt.block_on(side.step(&mut sample))?);
        steps_run = steps_run.saturating_add(1);
    }
    if let Some(first) = cold.first() {
        let _ = writeln!(
            out,
            "\ncold step (opens {} connections): step {:.1} ms, fan-out {:.1} ms, \
             scoring {:.1} ms",
            args.miners, first.total_ms, first.fan_out_ms, first.scoring_ms
        );
    }
    if args.phase != Phase::Faulty {
        let mut steps = Vec::with_capacity(args.steps);
        for _ in 0..args.steps {
            steps.push(validator_rt.block_on(side.step(&mut sample))?);
            steps_run = steps_run.saturating_add(1);
        }
        for (i, s) in steps.iter().enumerate() {
            for (uid, obs) in &s.observations {
                if obs.is_failure() {
                    report.problems.push(format!("healthy step {i}: uid {uid} failed: {obs:?}"));
                }
            }
            if s.observations.len() != args.miners {
                report.problems.push(format!(
                    "healthy step {i}: {} uids queried, not {}",
                    s.observations.len(),
                    args.miners
                ));
            }
        }
        let v = phase_report("healthy (every miner answers)", &steps, &mut out);
        json_phases.insert("healthy".into(), v);
    }

    if args.phase != Phase::Healthy {
        let n_healthy = args.miners.saturating_sub(args.slow).saturating_sub(args.dead);
        let mut slow_uids = BTreeSet::new();
        let mut dead_uids = BTreeSet::new();
        for miner in miners.iter_mut().skip(n_healthy) {
            if slow_uids.len() < args.slow {
                miner.slow.store(true, Ordering::Relaxed);
                slow_uids.insert(miner.uid);
            } else if let Some(axon) = miner.axon.take() {
                miner_rt.block_on(axon.shutdown()).map_err(|e| e.to_string())?;
                dead_uids.insert(miner.uid);
            }
        }
        let faulty_steps = args.faulty_steps.unwrap_or(args.steps);
        let mut steps = Vec::with_capacity(faulty_steps);
        for _ in 0..faulty_steps {
            steps.push(validator_rt.block_on(side.step(&mut sample))?);
            steps_run = steps_run.saturating_add(1);
        }
        let limit = side.params.timeout.saturating_add(TIMEOUT_SLACK).as_secs_f64() * 1e3;
        for (i, s) in steps.iter().enumerate() {
            if s.fan_out_ms > limit {
                report.problems.push(format!(
                    "faulty step {i}: the fan-out took {:.0} ms, past the timeout + slack \
                     ({limit:.0} ms)",
                    s.fan_out_ms
                ));
            }
            for (uid, obs) in &s.observations {
                let faulty = slow_uids.contains(uid) || dead_uids.contains(uid);
                if faulty != obs.is_failure() {
                    report.problems.push(format!(
                        "faulty step {i}: uid {uid} ({}) gave {obs:?}",
                        if faulty { "slow or dead" } else { "healthy" }
                    ));
                }
            }
        }
        let _ = writeln!(
            out,
            "\nfaulty: uids {slow_uids:?} answer {} s after the timeout, uids {dead_uids:?} are \
             shut down",
            SLOW_EXTRA.as_secs()
        );
        faulty_uids.extend(slow_uids.iter().chain(&dead_uids));
        let v = phase_report("faulty (slow and dead miners)", &steps, &mut out);
        json_phases.insert("faulty".into(), v);
        json_phases.insert("faulty_uids".into(), json!({ "slow": slow_uids, "dead": dead_uids }));
    }

    // Every uid was observed once per step; among the miners that always answered, the best
    // beats the worst.
    for uid in &all_uids {
        let queries = side.state.uids.get(uid).map_or(0, |s| s.queries);
        if queries != steps_run as u64 {
            report
                .problems
                .push(format!("uid {uid}: {queries} observations after {steps_run} steps"));
        }
    }
    let always = || miners.iter().filter(|m| !faulty_uids.contains(&m.uid));
    let best = always().max_by(|a, b| a.quality.total_cmp(&b.quality));
    let worst = always().min_by(|a, b| a.quality.total_cmp(&b.quality));
    if let (Some(best), Some(worst)) = (best, worst) {
        let ema = |uid: u16| side.state.uids.get(&uid).map(|s| s.ema_loss);
        if best.uid != worst.uid {
            match (ema(best.uid), ema(worst.uid)) {
                (Some(b), Some(w)) if b < w => {
                    let _ = writeln!(
                        out,
                        "\nEMA loss: best miner (uid {}) {b:.3} nats < worst miner (uid {}) \
                         {w:.3} nats",
                        best.uid, worst.uid
                    );
                }
                other => report
                    .problems
                    .push(format!("best miner's EMA loss not below the worst's: {other:?}")),
            }
        }
    }

    if let Some(sample) = &sample {
        let obs = evaluate_answer(
            &sample.reply.synapse,
            &sample.request,
            &sample.targets,
            side.data.vocab_size(),
        );
        if obs.is_failure() {
            report.problems.push(format!("the kept answer no longer scores: {obs:?}"));
        }
        let _ = writeln!(
            out,
            "\nscoring one answer in isolation (one thread, {} rows × top-{}; best of 5 × 200 \
             calls), µs per answer:",
            args.batch, args.topk
        );
        let _ = writeln!(out, "  {:<26} {:>8} {:>8}", "", "wall", "CPU");
        let mut parts = serde_json::Map::new();
        for (name, wall, cpu) in isolated_scoring_cost(sample, side.data.vocab_size()) {
            let cpu_text = cpu.map_or_else(|| "n/a".to_owned(), |c| format!("{c:.2}"));
            let _ = writeln!(out, "  {name:<26} {wall:>8.2} {cpu_text:>8}");
            parts.insert(name.trim().to_owned(), json!({ "wall_us": wall, "cpu_us": cpu }));
        }
        json_phases.insert("isolated_scoring_us".into(), Value::Object(parts));
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let _ = writeln!(
        out,
        "load average at end: {}",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );

    for miner in miners.iter_mut() {
        if let Some(axon) = miner.axon.take() {
            let _ = miner_rt.block_on(axon.shutdown());
        }
    }
    report.json = json!({
        "config": {
            "miners": args.miners, "batch": args.batch, "context": args.context,
            "validation_len": args.validation_len, "topk": args.topk, "timeout_s": args.timeout,
            "slow": args.slow, "dead": args.dead, "cores": cores,
        },
        "phases": json_phases,
        "problems": report.problems,
    });
    report.text = out;
    validator_rt.shutdown_timeout(Duration::from_secs(1));
    miner_rt.shutdown_timeout(Duration::from_secs(1));
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    fn small(phase: Phase) -> Args {
        Args::parse_from([
            "bench_step",
            "--miners",
            "12",
            "--steps",
            "2",
            "--timeout",
            "1.5",
            "--slow",
            "1",
            "--dead",
            "2",
            "--topk",
            "64",
            "--phase",
            match phase {
                Phase::Both => "both",
                Phase::Healthy => "healthy",
                Phase::Faulty => "faulty",
            },
        ])
    }

    #[test]
    fn a_small_run_passes_its_self_checks_and_reports_every_figure() {
        let report = run(&small(Phase::Both)).unwrap();
        assert!(report.problems.is_empty(), "{:?}\n{}", report.problems, report.text);
        let phases = &report.json["phases"];
        assert_eq!(phases["healthy"]["answered"], 24);
        assert_eq!(phases["healthy"]["queried"], 24);
        // 9 healthy miners answer in each of 2 faulty steps; 3 fail each time.
        assert_eq!(phases["faulty"]["answered"], 18);
        assert_eq!(phases["faulty"]["queried"], 24);
        let faulty_fan_out =
            phases["faulty"]["figures"]["fan-out (wall)"]["max_ms"].as_f64().unwrap();
        // The slow miner holds the fan-out until the timeout, and no longer.
        assert!(faulty_fan_out >= 1400.0, "{faulty_fan_out}");
        assert!(faulty_fan_out <= 1500.0 + 2000.0, "{faulty_fan_out}");
        let isolated = &phases["isolated_scoring_us"];
        for part in ["evaluate (decode + loss)", "top-k decoding", "phrase loss"] {
            assert!(isolated[part]["wall_us"].as_f64().unwrap() > 0.0, "{part}: {isolated}");
        }
        assert!(report.text.contains("step (wall)"), "{}", report.text);
    }

    #[test]
    fn summaries_and_answers_are_right() {
        let s = summarize(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(s, Summary { mean: 2.5, p50: 2.0, max: 4.0 });
        assert_eq!(summarize(&[5.0]).unwrap().p50, 5.0);
        assert!(summarize(&[]).is_none());

        let zipf = Zipf::new(ZIPF_RANKS, ZIPF_S);
        assert!((zipf.probs.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let ids: BTreeSet<u32> = (0..ZIPF_RANKS).map(token_of_rank).collect();
        assert_eq!(ids.len(), ZIPF_RANKS);
        assert!(ids.iter().all(|&id| id < VOCAB));
        // A precomputed answer decodes into `topk` phrases per row and scores a finite loss.
        let tokens: Vec<Vec<u32>> = vec![vec![token_of_rank(3); 8]; 2];
        let mut s = TextCausalLMNext::request(&tokens, 16).unwrap();
        s.text_outputs = Some(precomputed_answer(&zipf, 1.0, 16, 2).unwrap());
        let rows = s.outputs().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].phrases.len(), 16);
        assert_eq!(rows[0].phrases[3].1, vec![token_of_rank(3), token_of_rank(0)]);
        let request = TextCausalLMNext::request(&tokens, 16).unwrap();
        let targets = vec![vec![token_of_rank(0)], vec![token_of_rank(4000)]];
        let obs = evaluate_answer(&s, &request, &targets, VOCAB);
        let Observation::Loss(loss) = obs else { panic!("{obs:?}") };
        assert!(loss > 0.0 && loss < 20.0, "{loss}");
        assert!(precomputed_answer(&zipf, 1.0, 5000, 1).is_err());
    }
}
