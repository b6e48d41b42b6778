//! `stcli`: parse the command line, run the command, print a failure on one line and exit 1.

use clap::Parser;
use std::process::ExitCode;
use subtensor_cli::{commands, Cli};

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`stcli ... | head`) like other Unix tools, instead of
    // panicking in `println!`.
    // SAFETY: resetting a signal to its default disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(commands::run(cli)).map_err(anyhow::Error::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
