//! The command line, in Substrate's conventions.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// A Bittensor chain node: authors and imports blocks, keeps the chain in a database under
/// `--base-path`, and serves Substrate JSON-RPC (HTTP and WebSocket) on `--rpc-port`.
///
/// Quick start: `subtensor-node --dev` runs a throw-away development chain where //Alice
/// authors a block every second and owns the sudo key and subnet 1.
#[derive(Debug, Parser)]
#[command(name = "subtensor-node", version, about, long_about)]
pub struct Cli {
    /// What to do; without a subcommand the node runs.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Options of the running node.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the chain spec as JSON (`--raw` for the genesis storage as raw key/value pairs).
    BuildSpec(BuildSpecArgs),
    /// Delete the chain's database under the base path.
    PurgeChain(PurgeChainArgs),
    /// Write the blocks of the chain to a file (SCALE-encoded, length-prefixed).
    ExportBlocks(ExportBlocksArgs),
    /// Read blocks from a file written by `export-blocks` and import them, re-executing each.
    ImportBlocks(ImportBlocksArgs),
    /// Re-execute every stored block from genesis and check each state root.
    CheckChain(SharedArgs),
}

/// Options every command shares.
#[derive(Debug, Clone, Args)]
pub struct SharedArgs {
    /// The chain: `dev`, `local`, or the path of a chain spec JSON file.
    #[arg(long, value_name = "CHAIN")]
    pub chain: Option<String>,

    /// Shortcut for a development chain: `--chain dev --alice --tmp` (unless `--base-path` is
    /// given) with 1 s blocks.
    #[arg(long)]
    pub dev: bool,

    /// Where the node keeps its data (`<base-path>/chains/<chain id>/db`).
    #[arg(long, short = 'd', value_name = "PATH")]
    pub base_path: Option<PathBuf>,

    /// Keep the data in a temporary directory deleted on exit.
    #[arg(long, conflicts_with = "base_path")]
    pub tmp: bool,
}

/// Options of the running node.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Options every command shares.
    #[command(flatten)]
    pub shared: SharedArgs,

    /// The JSON-RPC port (HTTP and WebSocket on one port).
    #[arg(long, default_value_t = 9944, value_name = "PORT")]
    pub rpc_port: u16,

    /// Listen for RPC on all interfaces instead of 127.0.0.1.
    #[arg(long)]
    pub rpc_external: bool,

    /// Browser origins allowed to call the RPC: `all`, or a comma-separated list.
    #[arg(long, value_name = "ORIGINS")]
    pub rpc_cors: Option<String>,

    /// The most RPC connections served at once.
    #[arg(long, default_value_t = 100, value_name = "COUNT")]
    pub rpc_max_connections: u32,

    /// Block production: a slot duration in milliseconds (on `dev` and `local` chains; every
    /// node of one network must use the same value), `instant` (a block as soon as a
    /// transaction arrives; single-authority development chains) or `manual` (no blocks).
    /// Default: the chain spec's slot duration (1000 for `dev`, 12000 for `local`).
    #[arg(long, value_name = "MS|instant|manual")]
    pub sealing: Option<String>,

    /// Serve Prometheus metrics on this port (127.0.0.1, or all interfaces with
    /// `--prometheus-external`).
    #[arg(long, value_name = "PORT")]
    pub prometheus_port: Option<u16>,

    /// Serve Prometheus metrics on all interfaces.
    #[arg(long)]
    pub prometheus_external: bool,

    /// Keep the state of every block (`archive`, default) or of the last N blocks.
    #[arg(long, default_value = "archive", value_name = "archive|N")]
    pub state_pruning: String,

    /// Author blocks with the well-known key //Alice.
    #[arg(long)]
    pub alice: bool,
    /// Author blocks with the well-known key //Bob.
    #[arg(long)]
    pub bob: bool,
    /// Author blocks with the well-known key //Charlie.
    #[arg(long)]
    pub charlie: bool,
    /// Author blocks with the well-known key //Dave.
    #[arg(long)]
    pub dave: bool,
    /// Author blocks with the well-known key //Eve.
    #[arg(long)]
    pub eve: bool,
    /// Author blocks with the well-known key //Ferdie.
    #[arg(long)]
    pub ferdie: bool,

    /// Author blocks and vote on finality as one of the chain spec's authorities, with the key
    /// of `--validator-key`.
    #[arg(long)]
    pub validator: bool,

    /// The authority key as a secret URI (mnemonic, hex seed or `//Dev` path), also read from
    /// `SUBTENSOR_VALIDATOR_KEY`: the Aura key is its sr25519 pair and the GRANDPA key its
    /// ed25519 pair. A key that is not one of the chain spec's authorities only follows.
    /// Implies `--validator`.
    #[arg(long, value_name = "SURI", env = "SUBTENSOR_VALIDATOR_KEY", hide_env_values = true)]
    pub validator_key: Option<String>,

    /// The node's human-readable name, reported by `system_name`.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Log filters: `target=level` pairs separated by commas (e.g. `-l runtime=debug`).
    #[arg(long = "log", short = 'l', value_name = "DIRECTIVES")]
    pub log: Vec<String>,
}

/// Options of `build-spec`.
#[derive(Debug, Args)]
pub struct BuildSpecArgs {
    /// Options every command shares.
    #[command(flatten)]
    pub shared: SharedArgs,
    /// Print the genesis storage as raw key/value pairs instead of the runtime's config.
    #[arg(long)]
    pub raw: bool,
}

/// Options of `purge-chain`.
#[derive(Debug, Args)]
pub struct PurgeChainArgs {
    /// Options every command shares.
    #[command(flatten)]
    pub shared: SharedArgs,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Options of `export-blocks`.
#[derive(Debug, Args)]
pub struct ExportBlocksArgs {
    /// Options every command shares.
    #[command(flatten)]
    pub shared: SharedArgs,
    /// The output file (`-` for standard output).
    #[arg(value_name = "FILE")]
    pub output: PathBuf,
    /// The first block to export.
    #[arg(long, default_value_t = 1)]
    pub from: u32,
    /// The last block to export (default: the best block).
    #[arg(long)]
    pub to: Option<u32>,
}

/// Options of `import-blocks`.
#[derive(Debug, Args)]
pub struct ImportBlocksArgs {
    /// Options every command shares.
    #[command(flatten)]
    pub shared: SharedArgs,
    /// The input file written by `export-blocks` (`-` for standard input).
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
}
