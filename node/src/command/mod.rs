//! Command dispatch and the setup every command shares: which chain, where its data lives.

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmark;
pub mod blocks;
pub mod build_spec;
pub mod key;
pub mod purge_chain;
pub mod run;

use crate::{
    chain_spec::{self, ChainSpec},
    cli::{Cli, Command, SharedArgs},
    error::{NodeError, NodeResult},
};
use std::path::PathBuf;

/// A resolved chain and data directory.
pub struct Setup {
    /// The chain spec.
    pub spec: ChainSpec,
    /// The base path (a temporary directory with `--tmp`).
    pub base_path: PathBuf,
    /// Keeps a `--tmp` directory alive until the command ends.
    pub _tmp: Option<tempfile::TempDir>,
}

impl Setup {
    /// The database directory of the chain.
    pub fn db_path(&self) -> PathBuf {
        self.base_path.join("chains").join(&self.spec.id).join("db")
    }
}

/// Default base path: `$HOME/.local/share/subtensor-node`.
fn default_base_path() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/subtensor-node")
}

/// Resolve the chain and base path from a command's shared options, falling back to the
/// top-level ones.
pub fn setup(shared: &SharedArgs, top: &SharedArgs) -> NodeResult<Setup> {
    let dev = shared.dev || top.dev;
    let chain = shared.chain.clone().or_else(|| top.chain.clone()).unwrap_or_else(|| {
        if dev {
            "dev".into()
        } else {
            "local".into()
        }
    });
    let spec = chain_spec::load(&chain)?;
    let base_path = shared.base_path.clone().or_else(|| top.base_path.clone());
    let tmp = shared.tmp || top.tmp || (dev && base_path.is_none());
    let (base_path, guard) = if tmp {
        let dir = tempfile::Builder::new()
            .prefix("subtensor-node-")
            .tempdir()
            .map_err(|e| NodeError::io("creating a temporary base path", e))?;
        (dir.path().to_path_buf(), Some(dir))
    } else {
        (base_path.unwrap_or_else(default_base_path), None)
    };
    Ok(Setup { spec, base_path, _tmp: guard })
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let top = cli.run.shared.clone();
    match cli.command {
        Some(Command::BuildSpec(args)) => build_spec::run(&args, &top)?,
        Some(Command::PurgeChain(args)) => purge_chain::run(&args, &top)?,
        Some(Command::ExportBlocks(args)) => blocks::export(&args, &top)?,
        Some(Command::ImportBlocks(args)) => blocks::import(&args, &top)?,
        Some(Command::CheckChain(shared)) => blocks::check(&shared, &top)?,
        Some(Command::Key(command)) => key::run(&command)?,
        #[cfg(feature = "runtime-benchmarks")]
        Some(Command::Benchmark(command)) => benchmark::run(&command)?,
        None => run::run(&cli.run)?,
    }
    Ok(())
}
