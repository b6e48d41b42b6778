//! `benchmark pallet`: run a pallet's FRAME benchmarks on the native runtime and write its
//! weights file (compiled with the node's `runtime-benchmarks` feature).
//!
//! A small runner in the manner of `frame-benchmarking-cli`'s `benchmark pallet`:
//!
//! 1. The genesis state of the chain spec (`--chain`, default `dev`) is put into a
//!    [`state::BenchState`], an in-memory trie that the benchmarking host functions (`commit_db`,
//!    `wipe_db`, `read_write_count`, ...) control.
//! 2. The pallet's benchmarks are listed with [`Benchmarking::benchmarks`]. For each, every
//!    component is swept over `--steps` values of its range with the other components at their
//!    maximum (a benchmark without components runs once per repeat); the sweep is repeated
//!    `--repeat` times. Each run is one [`Benchmarking::run_benchmark`] call: the benchmark's
//!    setup, a commit to the trie, the timed call, a commit, and a wipe back to genesis.
//! 3. Distinct keys read and distinct keys written are fitted with [`Analysis::min_squares_iqr`]
//!    (linear in the components, medians of the inner quartiles); execution time with
//!    `--analysis` (default `max`: per term the larger of that fit and [`Analysis::median_slopes`],
//!    an upper bound robust to the noise of a machine shared with other work).
//! 4. The weights file is written from the fit: the time in picoseconds plus
//!    `T::DbWeight` per read and write (`RocksDbWeight` for `()`), with a header naming the
//!    machine, the date and the command.

mod state;

use crate::{
    chain_spec,
    cli::{BenchmarkCommand, BenchmarkPalletArgs},
};
use anyhow::{anyhow, bail, Context};
use frame_benchmarking::{
    Analysis, AnalysisChoice, BenchmarkBatchSplitResults, BenchmarkParameter, BenchmarkResult,
    BenchmarkSelector, Benchmarking,
};
use frame_support::traits::{StorageInfoTrait, WhitelistedStorageKeys};
use sp_runtime::traits::BlakeTwo256;
use sp_state_machine::{Ext, OverlayedChanges};
use state::BenchState;
use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::Path,
    time::{Duration, Instant},
};
use subtensor_runtime::{pallet_subtensor, AllPalletsWithSystem, Runtime};

/// Run a `benchmark` subcommand.
pub fn run(command: &BenchmarkCommand) -> anyhow::Result<()> {
    match command {
        BenchmarkCommand::Pallet(args) => pallet(args),
    }
}

/// A benchmarkable pallet: its names and its benchmarks' entry points.
struct BenchPallet {
    /// The crate name (`--pallet` matches this, with `-` or `_`, or the runtime's name).
    name: &'static str,
    /// The pallet's name in the runtime.
    runtime_name: &'static str,
    /// The benchmarks and their components.
    list: fn() -> Vec<frame_benchmarking::BenchmarkMetadata>,
    /// Run one benchmark.
    run: RunFn,
    /// Documentation of each weight function, by benchmark name.
    docs: &'static [(&'static str, &'static str)],
}

type RunFn = fn(
    &[u8],
    &[(BenchmarkParameter, u32)],
    &[sp_core::storage::TrackedStorageKey],
    bool,
    u32,
) -> Result<Vec<BenchmarkResult>, frame_benchmarking::BenchmarkError>;

/// The pallets of the runtime that have benchmarks.
fn pallets() -> Vec<BenchPallet> {
    vec![BenchPallet {
        name: "pallet_subtensor",
        runtime_name: "SubtensorModule",
        list: || pallet_subtensor::Pallet::<Runtime>::benchmarks(false),
        run: pallet_subtensor::Pallet::<Runtime>::run_benchmark,
        docs: pallet_subtensor::benchmarking::WEIGHT_DOCS,
    }]
}

/// Whether `name` matches the filter `pattern`: `*`, or one of its comma-separated names.
fn matches(pattern: &str, names: &[&str]) -> bool {
    let normal = |s: &str| s.trim().replace('-', "_").to_lowercase();
    pattern.trim() == "*"
        || pattern.split(',').any(|p| names.iter().any(|name| normal(p) == normal(name)))
}

/// The component values of a benchmark's runs: each component swept over `steps` values from
/// its low to its high end, the others at their high end; duplicates removed.
fn selections(
    components: &[(BenchmarkParameter, u32, u32)],
    steps: u32,
) -> Vec<Vec<(BenchmarkParameter, u32)>> {
    if components.is_empty() {
        return vec![Vec::new()];
    }
    let mut out: Vec<Vec<(BenchmarkParameter, u32)>> = Vec::new();
    for (i, &(_, low, high)) in components.iter().enumerate() {
        let span = u64::from(high.saturating_sub(low));
        let last = u64::from(steps.max(2).saturating_sub(1));
        for s in 0..=last {
            let value = u64::from(low)
                .saturating_add(span.saturating_mul(s).checked_div(last).unwrap_or(0));
            let value = u32::try_from(value).unwrap_or(high).clamp(low, high);
            let selection: Vec<_> = components
                .iter()
                .enumerate()
                .map(|(j, &(name, _, h))| (name, if i == j { value } else { h }))
                .collect();
            if !out.contains(&selection) {
                out.push(selection);
            }
        }
    }
    out
}

/// The keys every benchmark ignores: the runtime's whitelisted storage (frame-system's block
/// weight, event count, events, block number, execution phase, ...).
fn whitelist() -> Vec<sp_core::storage::TrackedStorageKey> {
    AllPalletsWithSystem::whitelisted_storage_keys()
}

/// Run `f` with the externalities of `state` (in runtime mode, as the executor calls the
/// runtime).
fn with_state<R>(state: &BenchState, f: impl FnOnce() -> R) -> R {
    let mut overlay = OverlayedChanges::<BlakeTwo256>::default();
    let entered = overlay.enter_runtime().is_ok();
    let result = {
        let mut ext = Ext::new(&mut overlay, state, None);
        sp_externalities::set_and_run_with_externalities(&mut ext, f)
    };
    if entered {
        let _ = overlay.exit_runtime();
    }
    result
}

/// `benchmark pallet`.
fn pallet(args: &BenchmarkPalletArgs) -> anyhow::Result<()> {
    if args.steps < 2 {
        bail!("--steps must be at least 2");
    }
    if args.repeat < 1 {
        bail!("--repeat must be at least 1");
    }
    let chosen: Vec<BenchPallet> = pallets()
        .into_iter()
        .filter(|p| matches(&args.pallet, &[p.name, p.runtime_name]))
        .collect();
    if chosen.is_empty() {
        let names: Vec<&str> = pallets().iter().map(|p| p.name).collect();
        bail!("no pallet matches {:?}; benchmarked pallets: {}", args.pallet, names.join(", "));
    }
    if args.output.is_some() && (chosen.len() != 1 || args.extrinsic.trim() != "*") {
        bail!("--output writes one pallet's whole weights file: give one --pallet and --extrinsic '*'");
    }

    let analysis = AnalysisChoice::try_from(Some(args.analysis.clone()))
        .map_err(|e| anyhow!("--analysis {:?}: {e}", args.analysis))?;
    let spec = chain_spec::load(&args.chain)?;
    let storage = spec.genesis_storage()?;
    let genesis = subtensor_chain::genesis::build(&storage);
    let state = BenchState::new(genesis.header.state_root, &genesis.nodes);
    let whitelist = whitelist();
    let started = Instant::now();
    let mut raw = Vec::new();

    for bench_pallet in &chosen {
        let list = with_state(&state, bench_pallet.list);
        let mut measured = Vec::new();
        for benchmark in list {
            let name = String::from_utf8_lossy(&benchmark.name).to_string();
            if !matches(&args.extrinsic, &[name.as_str()]) {
                continue;
            }
            let runs = selections(&benchmark.components, args.steps);
            let t0 = Instant::now();
            // One verified run at the highest values first: the benchmark's own checks.
            let highest: Vec<_> =
                benchmark.components.iter().map(|&(param, _, h)| (param, h)).collect();
            with_state(&state, || {
                (bench_pallet.run)(&benchmark.name, &highest, &whitelist, true, 1)
            })
            .map_err(|e| anyhow!("{}::{name} failed its verification: {e:?}", bench_pallet.name))?;
            let mut results = Vec::new();
            for r in 0..args.repeat {
                for selection in &runs {
                    let batch = with_state(&state, || {
                        (bench_pallet.run)(&benchmark.name, selection, &whitelist, false, 1)
                    })
                    .map_err(|e| anyhow!("{}::{name} {selection:?}: {e:?}", bench_pallet.name))?;
                    results.extend(batch);
                }
                eprint!(
                    "\r[benchmark] {}::{name}: repeat {}/{} ({} runs, {:.1} s)",
                    bench_pallet.name,
                    r.saturating_add(1),
                    args.repeat,
                    runs.len(),
                    t0.elapsed().as_secs_f64()
                );
            }
            eprintln!();
            raw.push(serde_json::json!({
                "pallet": bench_pallet.name,
                "benchmark": name,
                "results": &results,
            }));
            let split = BenchmarkBatchSplitResults {
                pallet: bench_pallet.name.as_bytes().to_vec(),
                instance: Vec::new(),
                benchmark: benchmark.name.clone(),
                time_results: results.clone(),
                db_results: results,
            };
            let fit = Fit::new(&split, &benchmark.components, &analysis)?;
            eprintln!("[benchmark]   {}", fit.summary());
            measured.push(fit);
        }
        if let Some(output) = &args.output {
            let file = render(bench_pallet, &measured, args, started.elapsed());
            std::fs::write(output, file)
                .with_context(|| format!("writing {}", output.display()))?;
            eprintln!("[benchmark] wrote {}", output.display());
        }
    }
    if let Some(json) = &args.json {
        let text = serde_json::to_string_pretty(&raw)?;
        std::fs::write(json, text).with_context(|| format!("writing {}", json.display()))?;
    }
    eprintln!("[benchmark] done in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The fitted weight of one benchmark.
struct Fit {
    name: String,
    /// Components: name, low, high.
    components: Vec<(String, u32, u32)>,
    /// Execution time: base (ps) and per-component slopes (ps).
    time: (u128, Vec<u128>),
    /// Distinct keys read: base and slopes.
    reads: (u128, Vec<u128>),
    /// Distinct keys written: base and slopes.
    writes: (u128, Vec<u128>),
    /// The fastest run (ns) and the number of runs.
    minimum_ns: u128,
    runs: usize,
    /// Storage items accessed in the run with the highest components: (key prefix, reads,
    /// writes).
    items: Vec<(Vec<u8>, u32, u32)>,
}

impl Fit {
    fn new(
        results: &BenchmarkBatchSplitResults,
        components: &[(BenchmarkParameter, u32, u32)],
        analysis: &AnalysisChoice,
    ) -> anyhow::Result<Self> {
        // Storage accesses: least squares over the inner quartiles (they are deterministic).
        // Time: `analysis` (by default the larger of least squares and median slopes, per term:
        // robust to the noise of a shared machine, and an upper bound). Median slopes where the
        // regression has too few distinct points to solve.
        let analyse = |r: &Vec<BenchmarkResult>,
                       selector,
                       choice: &AnalysisChoice|
         -> anyhow::Result<(u128, Vec<u128>)> {
            let a = match choice {
                AnalysisChoice::Max => Analysis::max(r, selector),
                AnalysisChoice::MedianSlopes => Analysis::median_slopes(r, selector),
                AnalysisChoice::MinSquares => Analysis::min_squares_iqr(r, selector),
            }
            .or_else(|_| Analysis::min_squares_iqr(r, selector))
            .or_else(|_| Analysis::median_slopes(r, selector))?;
            Ok((a.base, a.slopes))
        };
        let squares = AnalysisChoice::MinSquares;
        let time = analyse(&results.time_results, BenchmarkSelector::ExtrinsicTime, analysis)?;
        let reads = analyse(&results.db_results, BenchmarkSelector::Reads, &squares)?;
        let writes = analyse(&results.db_results, BenchmarkSelector::Writes, &squares)?;
        let minimum_ns =
            results.time_results.iter().map(|r| r.extrinsic_time).min().unwrap_or_default();
        let highest = results
            .db_results
            .iter()
            .max_by_key(|r| r.components.iter().map(|(_, v)| u64::from(*v)).sum::<u64>());
        let items = highest
            .map(|r| r.keys.iter().map(|(k, r, w, _)| (k.clone(), *r, *w)).collect())
            .unwrap_or_default();
        Ok(Self {
            name: String::from_utf8_lossy(&results.benchmark).to_string(),
            components: components
                .iter()
                .map(|(param, low, high)| (param.to_string(), *low, *high))
                .collect(),
            time,
            reads,
            writes,
            minimum_ns,
            runs: results.time_results.len(),
            items,
        })
    }

    fn summary(&self) -> String {
        let mut s = format!("{}: {:.3} us", self.name, self.time.0 as f64 / 1e6);
        for ((c, _, _), slope) in self.components.iter().zip(&self.time.1) {
            let _ = write!(s, " + {:.3} ns * {c}", *slope as f64 / 1e3);
        }
        let _ = write!(s, "; reads {}", self.reads.0);
        for ((c, _, _), slope) in self.components.iter().zip(&self.reads.1) {
            if *slope > 0 {
                let _ = write!(s, " + {slope} * {c}");
            }
        }
        let _ = write!(s, "; writes {}", self.writes.0);
        for ((c, _, _), slope) in self.components.iter().zip(&self.writes.1) {
            if *slope > 0 {
                let _ = write!(s, " + {slope} * {c}");
            }
        }
        s
    }

    /// Whether component `i` appears in the weight.
    fn uses(&self, i: usize) -> bool {
        [&self.time.1, &self.reads.1, &self.writes.1]
            .iter()
            .any(|slopes| slopes.get(i).copied().unwrap_or_default() > 0)
    }
}

/// `1234567` as `1_234_567`.
fn underscore(n: u128) -> String {
    let digits: Vec<char> = n.to_string().chars().rev().collect();
    let groups: Vec<String> = digits.chunks(3).map(|g| g.iter().rev().collect()).collect();
    groups.into_iter().rev().collect::<Vec<_>>().join("_")
}

/// The CPU model and the number of cores of this machine.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m))
        .map(str::trim)
        .unwrap_or("unknown CPU")
        .to_string();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{model}, {cores} cores")
}

/// Today's date (UTC) as `YYYY-MM-DD`, from `date`.
fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "unknown date".into())
}

/// The command line, quoted for a shell.
fn command_line() -> String {
    std::env::args()
        .enumerate()
        .map(|(i, a)| {
            let a = if i == 0 {
                Path::new(&a)
                    .strip_prefix(std::env::current_dir().unwrap_or_default())
                    .map(|p| p.display().to_string())
                    .unwrap_or(a)
            } else {
                a
            };
            if a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c)) {
                a
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The storage item names of the runtime, by key prefix (`Pallet::Item`).
fn storage_names() -> BTreeMap<Vec<u8>, String> {
    AllPalletsWithSystem::storage_info()
        .into_iter()
        .map(|info| {
            let name = format!(
                "{}::{}",
                String::from_utf8_lossy(&info.pallet_name),
                String::from_utf8_lossy(&info.storage_name)
            );
            (info.prefix, name)
        })
        .collect()
}

/// The weights file of `pallet` from `fits`.
fn render(
    pallet: &BenchPallet,
    fits: &[Fit],
    args: &BenchmarkPalletArgs,
    elapsed: Duration,
) -> String {
    let names = storage_names();
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "//! Weights of the pallet's calls and of its per-block work, measured by its FRAME"
    );
    let _ = writeln!(w, "//! benchmarks ([`crate::benchmarking`]).");
    let _ = writeln!(w, "//!");
    let _ = writeln!(w, "//! GENERATED by `subtensor-node benchmark pallet` (`scripts/benchmark-weights.sh`); do not");
    let _ = writeln!(w, "//! edit by hand.");
    let _ = writeln!(w, "//!");
    let _ = writeln!(w, "//! - Machine: {} (shared with other builds while measured)", machine());
    let _ = writeln!(w, "//! - Date: {}", today());
    let _ = writeln!(w, "//! - Command: `{}`", command_line());
    let _ = writeln!(
        w,
        "//! - Steps: {}, repeat: {}, analysis: `{}`, chain: `{}`; the run took {:.0} s.",
        args.steps,
        args.repeat,
        args.analysis,
        args.chain,
        elapsed.as_secs_f64()
    );
    let _ = writeln!(w, "//!");
    for line in [
        "//! Each benchmark ran natively in the release node on a genesis state in memory, its",
        "//! inputs committed to the state trie before the timed call. Each component was swept over",
        "//! `steps` values with the others at their maximum, `repeat` times. The distinct storage",
        "//! keys read and written were fitted linearly in the components by least squares over the",
        "//! inner quartiles; the execution time by the analysis named above (`max`: per term, the",
        "//! larger of that fit and the median of the pairwise slopes). A weight is that time in ps",
        "//! plus `T::DbWeight` (for `()`: `RocksDbWeight`) per key read and written; keys every",
        "//! block touches (frame-system's block number, events, ...) are whitelisted. Proof size is",
        "//! not measured (0): the chain is a solochain.",
    ] {
        let _ = writeln!(w, "{line}");
    }
    let _ = writeln!(w);
    let _ = writeln!(w, "use core::marker::PhantomData;");
    let _ = writeln!(w, "use frame_support::{{");
    let _ = writeln!(w, "    traits::Get,");
    let _ = writeln!(w, "    weights::{{constants::RocksDbWeight, Weight}},");
    let _ = writeln!(w, "}};");
    let _ = writeln!(w);
    let _ = writeln!(w, "/// Weight functions of the pallet.");
    let _ = writeln!(w, "pub trait WeightInfo {{");
    for fit in fits {
        let doc = pallet
            .docs
            .iter()
            .find(|(n, _)| *n == fit.name)
            .map(|(_, d)| d.to_string())
            .unwrap_or_else(|| format!("`{}`.", fit.name));
        let _ = writeln!(w, "    /// {doc}");
        let params: Vec<String> =
            fit.components.iter().map(|(c, _, _)| format!("{c}: u32")).collect();
        let _ = writeln!(w, "    fn {}({}) -> Weight;", fit.name, params.join(", "));
    }
    let _ = writeln!(w, "}}");
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "/// The measured weights, with the runtime's database weights (`T::DbWeight`)."
    );
    let _ = writeln!(w, "pub struct SubstrateWeight<T>(PhantomData<T>);");
    let _ = writeln!(w);
    let _ = writeln!(w, "impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {{");
    for fit in fits {
        render_fn(w, fit, "T::DbWeight::get()", &names);
    }
    let _ = writeln!(w, "}}");
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "/// The measured weights with RocksDB's database weights, for tests and mocks."
    );
    let _ = writeln!(w, "impl WeightInfo for () {{");
    for fit in fits {
        render_fn(w, fit, "RocksDbWeight::get()", &names);
    }
    let _ = writeln!(w, "}}");
    out
}

/// One weight function.
fn render_fn(w: &mut String, fit: &Fit, db: &str, names: &BTreeMap<Vec<u8>, String>) {
    let params: Vec<String> = fit
        .components
        .iter()
        .enumerate()
        .map(|(i, (c, _, _))| if fit.uses(i) { format!("{c}: u32") } else { format!("_{c}: u32") })
        .collect();
    for (c, low, high) in &fit.components {
        let _ = writeln!(w, "    /// The range of component `{c}` is `[{low}, {high}]`.");
    }
    let _ = writeln!(w, "    fn {}({}) -> Weight {{", fit.name, params.join(", "));
    let _ = writeln!(
        w,
        "        // Minimum execution time: {} ns ({} runs).",
        underscore(fit.minimum_ns),
        fit.runs
    );
    for (prefix, reads, writes) in &fit.items {
        let name = names.get(prefix).cloned().unwrap_or_else(|| {
            format!("0x{}", prefix.iter().map(|b| format!("{b:02x}")).collect::<String>())
        });
        let _ = writeln!(w, "        // Storage: `{name}` (r: {reads}, w: {writes})");
    }
    let _ = writeln!(w, "        Weight::from_parts({}, 0)", underscore(fit.time.0));
    for ((c, _, _), slope) in fit.components.iter().zip(&fit.time.1) {
        if *slope > 0 {
            let _ = writeln!(
                w,
                "            .saturating_add(Weight::from_parts({}, 0).saturating_mul({c}.into()))",
                underscore(*slope)
            );
        }
    }
    for (kind, (base, slopes)) in [("reads", &fit.reads), ("writes", &fit.writes)] {
        if *base > 0 {
            let _ = writeln!(w, "            .saturating_add({db}.{kind}({base}_u64))");
        }
        for ((c, _, _), slope) in fit.components.iter().zip(slopes) {
            if *slope > 0 {
                let _ = writeln!(
                    w,
                    "            .saturating_add({db}.{kind}(({slope}_u64).saturating_mul({c}.into())))"
                );
            }
        }
    }
    let _ = writeln!(w, "    }}");
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_each_component_with_the_others_at_their_maximum() {
        use BenchmarkParameter::{n, v};
        let s = selections(&[(n, 0, 10), (v, 1, 2)], 3);
        assert_eq!(
            s,
            vec![
                vec![(n, 0), (v, 2)],
                vec![(n, 5), (v, 2)],
                vec![(n, 10), (v, 2)],
                vec![(n, 10), (v, 1)],
            ]
        );
        assert_eq!(selections(&[], 50), vec![Vec::new()]);
    }

    #[test]
    fn filters_and_formats() {
        assert!(matches("*", &["pallet_subtensor"]));
        assert!(matches("pallet-subtensor", &["pallet_subtensor", "SubtensorModule"]));
        assert!(matches("epoch,set_weights", &["set_weights"]));
        assert!(!matches("set_weights", &["reveal_weights"]));
        assert_eq!(underscore(1_234_567), "1_234_567");
        assert_eq!(underscore(12), "12");
        assert_eq!(today().len(), 10);
    }
}
