//! Load generator for the miner benchmark (`scripts/bench-miner.sh`): signed, closed-loop
//! `TextCausalLMNext` requests against a running `stminer`, at several concurrencies; prints
//! requests per second and latency percentiles, and compares two runs.
//!
//! ```text
//! bench_miner_load --target 127.0.0.1:8091 [--axon-hotkey SS58 (default //Bob's)]
//!     [--concurrency 1,8,32] [--duration 10] [--warmup 2] [--batch 1] [--seq-len 64]
//!     [--topk 512] [--vocab 4096] [--keys 64] [--timeout 30] [--threads 1]
//!     [--label NAME] [--json results.json]
//! bench_miner_load --compare batching.json no-batching.json
//! ```
//!
//! Each of `C` workers sends one request at a time, back to back, through our `Dendrite` (a
//! fresh nonce and sr25519 signature per request; the answer's status, body hash, signature
//! and compact top-k encoding are all checked, so a request counts only if its answer is valid).
//! Requests are drawn from a pool of 256 prebuilt ones with pseudo-random token ids below
//! `--vocab`, and signed in turn by `--keys` hotkeys (`//bench-miner/0`, ...): the axon limits
//! every caller hotkey to 100 requests/s (burst 200), and the benchmark measures the miner, not
//! that limit. `--warmup` seconds of the same load, untimed, come before each timed run.
//! Percentiles count a failed request as infinitely slow (shown as `fail`).

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::arithmetic_side_effects)]

use clap::Parser;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtensor_axon::{AxonTarget, Dendrite, TextCausalLMNext};
use subtensor_wallet::Keypair;

/// Requests prebuilt per run.
const POOL: usize = 256;

/// Closed-loop TextCausalLMNext load against a miner.
///
/// A flag given twice keeps its last value, so that the script's defaults can be overridden.
#[derive(Debug, Parser)]
#[command(args_override_self = true)]
struct Args {
    /// The miner's axon.
    #[arg(long, required_unless_present = "compare")]
    target: Option<SocketAddr>,
    /// The miner's hotkey (SS58); default: that of //Bob.
    #[arg(long)]
    axon_hotkey: Option<String>,
    /// Concurrent workers, one timed run each.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32", action = clap::ArgAction::Set)]
    concurrency: Vec<usize>,
    /// Seconds per timed run.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of untimed load before each run.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Rows per request.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Tokens per row.
    #[arg(long, default_value_t = 64)]
    seq_len: usize,
    /// Phrases per row.
    #[arg(long, default_value_t = 512)]
    topk: u32,
    /// Token ids are drawn below this (the standard tokenizer's vocabulary).
    #[arg(long, default_value_t = 4096)]
    vocab: u32,
    /// Caller hotkeys to spread the requests over.
    #[arg(long, default_value_t = 64)]
    keys: usize,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Tokio worker threads of the generator.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Name of this run in the table and the JSON.
    #[arg(long, default_value = "miner")]
    label: String,
    /// Write the results there (JSON).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Compare two result files (first / second) instead of running.
    #[arg(long, num_args = 2, value_names = ["FIRST", "SECOND"])]
    compare: Option<Vec<PathBuf>>,
}

/// The outcome of one timed run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Stats {
    label: String,
    concurrency: usize,
    ok: u64,
    errors: u64,
    seconds: f64,
    rps: f64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    max_ms: Option<f64>,
    first_error: Option<String>,
}

/// Latencies in µs (`u64::MAX` marks a failure) and the errors seen.
#[derive(Default)]
struct Samples {
    lat_us: Vec<u64>,
    errors: BTreeMap<String, u64>,
}

impl Samples {
    fn record(&mut self, result: Result<(), String>, latency: Duration) {
        match result {
            Ok(()) => self.lat_us.push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX - 1)),
            Err(e) => {
                self.lat_us.push(u64::MAX);
                *self.errors.entry(e).or_default() += 1;
            }
        }
    }

    fn merge(&mut self, other: Samples) {
        self.lat_us.extend(other.lat_us);
        for (e, n) in other.errors {
            *self.errors.entry(e).or_default() += n;
        }
    }

    fn stats(mut self, label: &str, concurrency: usize, seconds: f64) -> Stats {
        self.lat_us.sort_unstable();
        let n = self.lat_us.len();
        let pct = |q: f64| -> Option<f64> {
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
            match self.lat_us.get(rank) {
                Some(&u64::MAX) | None => None,
                Some(&us) => Some(us as f64 / 1000.0),
            }
        };
        let errors: u64 = self.errors.values().sum();
        let ok = n as u64 - errors;
        Stats {
            label: label.to_owned(),
            concurrency,
            ok,
            errors,
            seconds,
            rps: if seconds > 0.0 { ok as f64 / seconds } else { 0.0 },
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            max_ms: pct(1.0),
            first_error: self
                .errors
                .into_iter()
                .max_by_key(|(_, n)| *n)
                .map(|(e, n)| format!("{n}x {e}")),
        }
    }
}

/// What every worker shares.
struct Load {
    dendrites: Vec<Dendrite>,
    requests: Vec<TextCausalLMNext>,
    target: AxonTarget,
    timeout: Duration,
    next: AtomicUsize,
}

impl Load {
    /// Sends the next request with the next hotkey; Ok if the answer is valid.
    async fn one(&self) -> Result<(), String> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        let dendrite = self.dendrites.get(i % self.dendrites.len().max(1)).ok_or("no dendrite")?;
        let request = self.requests.get(i % self.requests.len().max(1)).ok_or("no request")?;
        dendrite
            .call(&self.target, request, self.timeout)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// `concurrency` workers back to back for `duration`; the samples and the elapsed seconds.
async fn closed_loop(load: &Arc<Load>, concurrency: usize, duration: Duration) -> (Samples, f64) {
    let start = Instant::now();
    let stop = start + duration;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let load = load.clone();
        set.spawn(async move {
            let mut samples = Samples::default();
            while Instant::now() < stop {
                let t0 = Instant::now();
                let r = load.one().await;
                samples.record(r, t0.elapsed());
            }
            samples
        });
    }
    let mut all = Samples::default();
    while let Some(joined) = set.join_next().await {
        if let Ok(s) = joined {
            all.merge(s);
        }
    }
    (all, start.elapsed().as_secs_f64())
}

/// Pseudo-random rows (splitmix64), `batch` × `seq_len` ids below `vocab`.
fn requests(args: &Args) -> Result<Vec<TextCausalLMNext>, String> {
    let mut state = 0x5eed_u64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..POOL)
        .map(|_| {
            let rows: Vec<Vec<u32>> = (0..args.batch)
                .map(|_| {
                    (0..args.seq_len)
                        .map(|_| (next() % u64::from(args.vocab.max(1))) as u32)
                        .collect()
                })
                .collect();
            TextCausalLMNext::request(&rows, args.topk).map_err(|e| format!("bad request: {e}"))
        })
        .collect()
}

/// One request, checked beyond the dendrite's validation: shape, probabilities and floor.
async fn probe(load: &Load, args: &Args) -> Result<(), String> {
    let dendrite = load.dendrites.first().ok_or("no dendrite")?;
    let request = load.requests.first().ok_or("no request")?;
    let reply = dendrite
        .call(&load.target, request, load.timeout)
        .await
        .map_err(|e| format!("probe request failed: {e}"))?;
    let rows = reply.synapse.outputs().map_err(|e| e.to_string())?;
    if rows.len() != args.batch {
        return Err(format!("{} answer rows for a batch of {}", rows.len(), args.batch));
    }
    for row in &rows {
        let sum: f32 = row.phrases.iter().map(|(p, _)| p).sum();
        if row.phrases.len() != args.topk as usize || !(sum > 0.0 && sum <= 1.001) {
            return Err(format!("bad answer row: {} phrases, sum {sum}", row.phrases.len()));
        }
        if !(row.floor.is_finite() && row.floor >= 0.0) {
            return Err(format!("bad floor {}", row.floor));
        }
    }
    eprintln!(
        "probe: {} rows x {} phrases in {:.1} ms, top phrase p = {:.4}, floor = {:.3e}",
        rows.len(),
        args.topk,
        reply.elapsed.as_secs_f64() * 1000.0,
        rows.first().and_then(|r| r.phrases.first()).map_or(0.0, |(p, _)| *p),
        rows.first().map_or(0.0, |r| r.floor)
    );
    Ok(())
}

/// CPU seconds (user + system, all threads) this process used so far, from Linux's
/// `/proc/self/stat` (clock ticks of 1/100 s); `None` elsewhere.
fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "fail".to_owned(), |v| format!("{v:.2}"))
}

fn print_table(all: &[Stats]) {
    println!(
        "{:<14} {:>5} {:>10} {:>9} {:>9} {:>7}",
        "run", "conc", "req/s", "p50 ms", "p99 ms", "errors"
    );
    for s in all {
        println!(
            "{:<14} {:>5} {:>10.1} {:>9} {:>9} {:>7}",
            s.label,
            s.concurrency,
            s.rps,
            ms(s.p50_ms),
            ms(s.p99_ms),
            s.errors
        );
    }
}

fn read_stats(path: &PathBuf) -> Result<Vec<Stats>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Prints both runs and the ratios first / second at each concurrency.
fn compare(first: &PathBuf, second: &PathBuf) -> Result<(), String> {
    let (a, b) = (read_stats(first)?, read_stats(second)?);
    let mut both = a.clone();
    both.extend(b.iter().cloned());
    print_table(&both);
    let ratio = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) if y > 0.0 => format!("{:.2}", x / y),
        _ => "n/a".to_owned(),
    };
    let (la, lb) = (
        a.first().map_or("first", |s| s.label.as_str()),
        b.first().map_or("second", |s| s.label.as_str()),
    );
    println!();
    println!("ratio {la} / {lb} (req/s: higher is better for {la}; latency: lower is)");
    for s in &a {
        if let Some(o) = b.iter().find(|o| o.concurrency == s.concurrency) {
            println!(
                "  c={:<3} req/s x{}   p50 x{}   p99 x{}",
                s.concurrency,
                ratio(Some(s.rps), Some(o.rps)),
                ratio(s.p50_ms, o.p50_ms),
                ratio(s.p99_ms, o.p99_ms)
            );
        }
    }
    Ok(())
}

async fn run(args: Args, target: SocketAddr) -> Result<(), String> {
    let axon_hotkey = match &args.axon_hotkey {
        Some(h) => h.clone(),
        None => Keypair::from_uri("//Bob").map_err(|e| e.to_string())?.ss58(),
    };
    let dendrites = (0..args.keys.max(1))
        .map(|i| Keypair::from_uri(&format!("//bench-miner/{i}")).map(Dendrite::new))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let timeout =
        Duration::try_from_secs_f64(args.timeout).map_err(|e| format!("--timeout: {e}"))?;
    let load = Arc::new(Load {
        dendrites,
        requests: requests(&args)?,
        target: AxonTarget { addr: target, hotkey: axon_hotkey },
        timeout,
        next: AtomicUsize::new(0),
    });
    probe(&load, &args).await?;
    let duration =
        Duration::try_from_secs_f64(args.duration).map_err(|e| format!("--duration: {e}"))?;
    let warmup = Duration::try_from_secs_f64(args.warmup).map_err(|e| format!("--warmup: {e}"))?;
    let mut all = Vec::new();
    for &c in &args.concurrency {
        if c == 0 {
            return Err("--concurrency values must be positive".to_owned());
        }
        if !warmup.is_zero() {
            let _ = closed_loop(&load, c, warmup).await;
        }
        let cpu_before = own_cpu_seconds();
        let (samples, seconds) = closed_loop(&load, c, duration).await;
        let cpu = own_cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);
        let stats = samples.stats(&args.label, c, seconds);
        eprintln!(
            "  {} c={c}: {:.1} req/s  p50 {} ms  p99 {} ms  errors {}{}{}",
            stats.label,
            stats.rps,
            ms(stats.p50_ms),
            ms(stats.p99_ms),
            stats.errors,
            cpu.map(|cpu| format!("  (generator CPU {:.0}% of one core)", 100.0 * cpu / seconds))
                .unwrap_or_default(),
            stats.first_error.as_ref().map(|e| format!("  ({e})")).unwrap_or_default()
        );
        all.push(stats);
    }
    print_table(&all);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&all).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let result = match (&args.compare, args.target) {
        (Some(files), _) => match files.as_slice() {
            [a, b] => compare(a, b),
            _ => Err("--compare takes two files".to_owned()),
        },
        (None, Some(target)) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads.max(1))
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(run(args, target))),
        (None, None) => Err("--target is required".to_owned()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_miner_load: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
