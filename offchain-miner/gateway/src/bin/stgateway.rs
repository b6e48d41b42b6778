//! `stgateway`: parse the flags, set up logging, run the gateway, print one `error:` line and
//! exit 1 on failure.

use clap::Parser;
use std::io::IsTerminal;
use subtensor_gateway::Args;
use tracing_subscriber::EnvFilter;

fn main() {
    let args = Args::parse();
    let filter = EnvFilter::try_new(&args.log).unwrap_or_else(|e| {
        eprintln!("error: invalid --log {:?}: {e}", args.log);
        std::process::exit(1);
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(subtensor_gateway::run(args)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
