//! `stvalidator`: parse the flags, set up logging, run the validator (or, with
//! `--distill-collect`, collect a distillation buffer and print its JSON summary), print one
//! `error:` line and exit 1 on failure.

use clap::Parser;
use std::io::IsTerminal;
use subtensor_validator::{distill::collect, Config};
use tracing_subscriber::EnvFilter;

fn main() {
    let cfg = Config::parse();
    let filter = EnvFilter::try_new(&cfg.log).unwrap_or_else(|e| {
        eprintln!("error: invalid --log {:?}: {e}", cfg.log);
        std::process::exit(1);
    });
    let ansi = std::io::stderr().is_terminal();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let outcome = if cfg.distill_collect.is_some() {
        runtime.block_on(collect::run(&cfg)).map(|summary| match serde_json::to_string(&summary) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("error: cannot print the summary: {e}");
                std::process::exit(1);
            }
        })
    } else {
        runtime.block_on(subtensor_validator::run(cfg))
    };
    if let Err(e) = outcome {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
