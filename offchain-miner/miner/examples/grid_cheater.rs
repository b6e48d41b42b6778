//! A grid cheater for validator tests: `stminer` in every respect (registration, axon
//! publication, the four text synapses, `--grid`), except that `GridGenerate` misbehaves as
//! `--cheat` says and the start-up check of the model's digest against the subnet's grid spec
//! is skipped (so `--model` may be any model). See `subtensor_miner::cheat`.
//!
//! ```text
//! cargo run -p subtensor-miner --features test-utils --example grid_cheater -- \
//!     --cheat replay --grid --model .local/test-models/large --netuid 2 \
//!     --wallet.name cheat --wallet.hotkey default --axon.port 8300
//! ```

use clap::{Parser, ValueEnum};
use std::time::Duration;
use subtensor_miner::cheat::GridCheat;
use subtensor_miner::run::{run_with, Args, Options};
use tracing_subscriber::EnvFilter;

/// How to cheat on `GridGenerate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Cheat {
    /// Serve whatever --model is (only the digest check is skipped).
    WrongModel,
    /// Sample with seed 0 instead of the request's.
    IgnoreSeed,
    /// Sample at temperature 0 whatever the request says.
    Greedy,
    /// Answer the first request honestly, then replay its tokens (and their log-probabilities)
    /// to every later one.
    Replay,
    /// Answer honestly, --late-ms late.
    Late,
}

/// stminer, cheating on GridGenerate (for tests only).
#[derive(Debug, Parser)]
#[command(name = "grid_cheater")]
struct CheaterArgs {
    /// How to cheat.
    #[arg(long, value_enum)]
    cheat: Cheat,
    /// With --cheat late: milliseconds to sleep before answering.
    #[arg(long, default_value_t = 30_000)]
    late_ms: u64,
    #[command(flatten)]
    miner: Args,
}

fn main() -> std::process::ExitCode {
    let args = CheaterArgs::parse();
    let filter = EnvFilter::try_new(&args.miner.log).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let cheat = match args.cheat {
        Cheat::WrongModel => GridCheat::WrongModel,
        Cheat::IgnoreSeed => GridCheat::IgnoreSeed,
        Cheat::Greedy => GridCheat::Greedy,
        Cheat::Replay => GridCheat::Replay,
        Cheat::Late => GridCheat::Late(Duration::from_millis(args.late_ms)),
    };
    tracing::warn!(
        target: "miner",
        "THIS MINER CHEATS ({cheat:?}): a test fake for validators, never a real miner"
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_with(args.miner, Options { cheat: Some(cheat) })) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
