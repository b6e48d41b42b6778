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
    /// Node key utilities.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Benchmark the runtime (only in a node built with the `runtime-benchmarks` feature).
    #[cfg(feature = "runtime-benchmarks")]
    #[command(subcommand)]
    Benchmark(BenchmarkCommand),
}

/// `benchmark` subcommands.
#[cfg(feature = "runtime-benchmarks")]
#[derive(Debug, Subcommand)]
pub enum BenchmarkCommand {
    /// Run a pallet's FRAME benchmarks on the native runtime, print the fitted weights and
    /// (with `--output`) write its weights file.
    Pallet(BenchmarkPalletArgs),
}

/// Options of `benchmark pallet`.
#[cfg(feature = "runtime-benchmarks")]
#[derive(Debug, Args)]
pub struct BenchmarkPalletArgs {
    /// The pallet (`pallet_subtensor`), or `*` for every benchmarked pallet.
    #[arg(long, default_value = "*", value_name = "NAME")]
    pub pallet: String,
    /// The benchmarks to run: comma-separated names, or `*` for all.
    #[arg(long, default_value = "*", value_name = "NAMES")]
    pub extrinsic: String,
    /// How many values of each component's range to measure (at least 2).
    #[arg(long, default_value_t = 50, value_name = "COUNT")]
    pub steps: u32,
    /// How many times to measure each set of component values.
    #[arg(long, default_value_t = 20, value_name = "COUNT")]
    pub repeat: u32,
    /// Write the pallet's weights file (e.g. `pallets/subtensor/src/weights.rs`); needs one
    /// pallet and every benchmark.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// The chain whose genesis state the benchmarks start from: `dev`, `local` or a spec file.
    #[arg(long, default_value = "dev", value_name = "CHAIN")]
    pub chain: String,
    /// How execution time is fitted: `max` (per term, the larger of `min-squares` and
    /// `median-slopes`; robust to a loaded machine), `min-squares` (least squares over the inner
    /// quartiles, FRAME's default) or `median-slopes`. Storage accesses use `min-squares`.
    #[arg(long, default_value = "max", value_name = "max|min-squares|median-slopes")]
    pub analysis: String,
    /// Also write every run's raw measurements (components, time, reads, writes) as JSON.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
}

/// `key` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a random node key (ed25519): the secret goes to `--file` (raw 32 bytes, mode
    /// 0600) or, as hex, to standard output; the peer id is printed on standard error.
    GenerateNodeKey {
        /// Write the secret to this file instead of printing it.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
    /// Print the peer id of a node key file (raw 32 bytes, or its hex).
    InspectNodeKey {
        /// The node key file.
        #[arg(long, value_name = "PATH")]
        file: PathBuf,
    },
}

/// Peer-to-peer options of the running node.
#[derive(Debug, Clone, Args)]
pub struct NetworkArgs {
    /// The TCP port for peer-to-peer connections (every interface, IPv4 and IPv6).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Listen on these multiaddresses instead (`/ip4/0.0.0.0/tcp/30333`); overrides `--port`.
    #[arg(long = "listen-addr", value_name = "MULTIADDR", num_args = 1..)]
    pub listen_addr: Vec<String>,

    /// Addresses other nodes can reach this one at, announced to them.
    #[arg(long = "public-addr", value_name = "MULTIADDR", num_args = 1..)]
    pub public_addr: Vec<String>,

    /// Nodes to join the network through (`/ip4/…/tcp/30333/p2p/12D3KooW…`), besides the
    /// chain spec's `bootNodes`.
    #[arg(long, value_name = "MULTIADDR", num_args = 1..)]
    pub bootnodes: Vec<String>,

    /// Peers always kept connected (`…/p2p/<peer id>`), outside the peer limits.
    #[arg(long = "reserved-nodes", value_name = "MULTIADDR", num_args = 1..)]
    pub reserved_nodes: Vec<String>,

    /// Connect only to reserved peers (`--reserved-nodes`, or added with
    /// `system_addReservedPeer`).
    #[arg(long)]
    pub reserved_only: bool,

    /// The most non-reserved peers that may connect to this node.
    #[arg(long, default_value_t = 32, value_name = "COUNT")]
    pub in_peers: u32,

    /// The most non-reserved peers this node connects to.
    #[arg(long, default_value_t = 8, value_name = "COUNT")]
    pub out_peers: u32,

    /// Discover peers on the local network with mDNS (`dev` and `local` chains only; off by
    /// default so that separate development nodes on one machine stay apart).
    #[arg(long)]
    pub discover_local: bool,

    /// Never use mDNS (the default; overrides `--discover-local`).
    #[arg(long)]
    pub no_mdns: bool,

    /// The node key (ed25519 secret, 32 bytes in hex) that gives the node its peer id.
    #[arg(long, value_name = "HEX", conflicts_with = "node_key_file")]
    pub node_key: Option<String>,

    /// A file holding the node key; default `<base-path>/chains/<chain id>/network/secret_ed25519`,
    /// generated on first start.
    #[arg(long, value_name = "PATH")]
    pub node_key_file: Option<PathBuf>,
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

    /// Peer-to-peer options.
    #[command(flatten)]
    pub network: NetworkArgs,

    /// The JSON-RPC port (HTTP and WebSocket on one port).
    #[arg(long, default_value_t = 9944, value_name = "PORT")]
    pub rpc_port: u16,

    /// Listen for RPC on all interfaces instead of 127.0.0.1.
    #[arg(long)]
    pub rpc_external: bool,

    /// Browser origins allowed to call the RPC: `all`, or a comma-separated list.
    #[arg(long, value_name = "ORIGINS")]
    pub rpc_cors: Option<String>,

    /// Which RPC methods are exposed: `unsafe` (also those that change the node, e.g.
    /// `system_addReservedPeer`), `safe`, or `auto` (unsafe ones only when the RPC listens on
    /// localhost, i.e. without `--rpc-external`).
    #[arg(long, default_value = "auto", value_name = "auto|safe|unsafe")]
    pub rpc_methods: String,

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
