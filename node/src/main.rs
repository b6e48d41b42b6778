//! The `subtensor-node` binary: parse the command line, run the command, report a failure on
//! one line and exit non-zero.

use clap::Parser;
use subtensor_node::{cli, command, logging};

fn main() {
    let cli = cli::Cli::parse();
    logging::init(&cli.run.log);
    if let Err(e) = command::run(cli) {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
