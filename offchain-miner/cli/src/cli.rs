//! The command tree and its options (clap). Each subcommand's handler lives in
//! `commands/<group>.rs`.

use clap::{Args, Parser, Subcommand};
use subtensor_client::DEFAULT_ENDPOINT;
use subtensor_wallet::DEFAULT_WALLET_PATH;

/// The environment variable a coldkey password is read from instead of a prompt.
pub const PASSWORD_ENV: &str = "STCLI_PASSWORD";

/// stcli: manage Bittensor wallets and a subtensor chain from the command line.
///
/// Wallets live in the Bittensor layout (`<wallet-path>/<wallet-name>/coldkey`,
/// `coldkeypub.txt`, `hotkeys/<hotkey>`), compatible with the Python `bittensor-wallet`
/// package and btcli. Coldkeys are encrypted with a password (`$NACL`: Argon2i +
/// XSalsa20-Poly1305), asked without echo, or taken from the STCLI_PASSWORD environment
/// variable for scripts.
///
/// Output is a human table by default and one JSON document with `--json`. Commands that
/// spend funds or change the chain ask for confirmation unless `--no-prompt` is given. On any
/// error stcli prints one line starting with `error:`, exits with status 1, and writes
/// nothing.
#[derive(Debug, Parser)]
#[command(name = "stcli", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct Global {
    /// WebSocket endpoint of the node.
    #[arg(
        long,
        global = true,
        env = "STCLI_NETWORK",
        default_value = DEFAULT_ENDPOINT,
        visible_alias = "subtensor.chain_endpoint"
    )]
    pub network: String,
    /// Wallet (coldkey) name.
    #[arg(
        long,
        global = true,
        env = "BT_WALLET_NAME",
        default_value = "default",
        visible_alias = "wallet.name"
    )]
    pub wallet_name: String,
    /// Hotkey name inside the wallet.
    #[arg(
        long,
        global = true,
        env = "BT_WALLET_HOTKEY",
        default_value = "default",
        visible_alias = "wallet.hotkey"
    )]
    pub wallet_hotkey: String,
    /// Directory holding the wallets.
    #[arg(
        long,
        global = true,
        env = "BT_WALLET_PATH",
        default_value = DEFAULT_WALLET_PATH,
        visible_alias = "wallet.path"
    )]
    pub wallet_path: String,
    /// Print one JSON document instead of tables (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y', global = true)]
    pub no_prompt: bool,
    /// Wait until transactions are finalized, not only included in a block.
    #[arg(long, global = true)]
    pub wait_for_finalization: bool,
}

/// Command groups.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, restore and inspect wallets; balances and transfers.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Create and inspect subnets, register neurons, set hyperparameters.
    #[command(subcommand, visible_alias = "subnets")]
    Subnet(SubnetCommand),
    /// Stake TAO on hotkeys.
    #[command(subcommand)]
    Stake(StakeCommand),
    /// Set, commit and reveal a validator's weights.
    #[command(subcommand)]
    Weights(WeightsCommand),
    /// Publish a neuron's axon endpoint.
    #[command(subcommand)]
    Axon(AxonCommand),
}

/// Where a key to restore comes from.
#[derive(Debug, Args)]
#[group(required = false, multiple = false)]
pub struct KeySource {
    /// The BIP-39 mnemonic (12 to 24 words, quoted). Asked without echo when no source is given.
    #[arg(long)]
    pub mnemonic: Option<String>,
    /// The 32-byte secret seed, 0x-hex.
    #[arg(long)]
    pub seed: Option<String>,
    /// A secret URI such as //Alice or "<mnemonic>//hard/soft" (dev chains).
    #[arg(long)]
    pub uri: Option<String>,
}

/// `stcli wallet ...`
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create a wallet: a new coldkey (encrypted) and hotkey, each from a fresh mnemonic.
    ///
    /// Both mnemonics are printed once: write them down, they are the only way to restore the
    /// keys.
    Create {
        /// Words in each new mnemonic (12, 15, 18, 21 or 24).
        #[arg(long, default_value_t = 12)]
        n_words: usize,
        /// Store the coldkey unencrypted (not recommended).
        #[arg(long)]
        no_password: bool,
        /// Replace existing key files.
        #[arg(long)]
        overwrite: bool,
    },
    /// Add a new hotkey (from a fresh mnemonic) to the wallet.
    NewHotkey {
        /// Words in the new mnemonic (12, 15, 18, 21 or 24).
        #[arg(long, default_value_t = 12)]
        n_words: usize,
        /// Replace an existing hotkey file of that name.
        #[arg(long)]
        overwrite: bool,
    },
    /// Restore a coldkey from its mnemonic, seed or URI.
    RegenColdkey {
        /// Where the key comes from.
        #[command(flatten)]
        source: KeySource,
        /// Store the coldkey unencrypted (not recommended).
        #[arg(long)]
        no_password: bool,
        /// Replace existing key files.
        #[arg(long)]
        overwrite: bool,
    },
    /// Restore a hotkey from its mnemonic, seed or URI.
    RegenHotkey {
        /// Where the key comes from.
        #[command(flatten)]
        source: KeySource,
        /// Replace existing key files.
        #[arg(long)]
        overwrite: bool,
    },
    /// List the wallets and their hotkeys under the wallet path (no node needed).
    List,
    /// Unlock the coldkey (asks its password) and the selected hotkey, check them against
    /// their public files and print their addresses. Nothing is written or sent.
    Check,
    /// Show a coldkey's free, reserved and staked balance.
    Balance {
        /// Any address instead of the wallet's coldkey.
        #[arg(long)]
        ss58: Option<String>,
    },
    /// Transfer TAO from the wallet's coldkey (the sender stays above the existential deposit).
    Transfer {
        /// Destination SS58 address.
        #[arg(long)]
        dest: String,
        /// Amount in TAO (up to 9 decimals).
        #[arg(long)]
        amount: String,
    },
    /// The wallet's balance and, per hotkey, every subnet it is registered on with its stake,
    /// incentive, dividends and emission.
    Overview,
}

/// `stcli subnet ...`
#[derive(Debug, Subcommand)]
pub enum SubnetCommand {
    /// Create a subnet owned by the wallet's coldkey, locking the current lock cost; the
    /// wallet's hotkey becomes UID 0.
    Create,
    /// List the subnets.
    List,
    /// Show a subnet's metagraph: one row per UID.
    #[command(visible_alias = "metagraph")]
    Show {
        /// The subnet.
        netuid: u16,
    },
    /// Show a subnet's hyperparameters.
    Hyperparameters {
        /// The subnet.
        #[arg(long)]
        netuid: u16,
    },
    /// Set one hyperparameter of a subnet.
    ///
    /// Signed by the wallet's coldkey: the subnet owner, or the sudo key. Root-only parameters
    /// (tempo, kappa, max_allowed_validators, weights_rate_limit, adjustment_interval,
    /// target_regs_per_interval, max_regs_per_block, difficulty, emission_share) are sent
    /// through Sudo and need the sudo key. Booleans are true/false; alpha_values is
    /// "low,high".
    Set {
        /// Parameter name in snake_case, e.g. tempo, weights_rate_limit, difficulty,
        /// min_burn, commit_reveal_enabled, immunity_period.
        param: String,
        /// New value.
        value: String,
        /// The subnet.
        #[arg(long)]
        netuid: u16,
    },
    /// Register the wallet's hotkey on a subnet: by burning the registration cost from the
    /// coldkey (default), or by proof of work (`--pow`, free, signed by the hotkey).
    Register {
        /// The subnet.
        #[arg(long)]
        netuid: u16,
        /// Solve a proof of work instead of burning TAO; shows hash rate and expected time.
        #[arg(long)]
        pow: bool,
        /// Solver threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Give up the proof of work after this many seconds.
        #[arg(long, default_value_t = 600)]
        pow_timeout: u64,
    },
    /// A running gateway's latency map (stgateway's GET /map): per subnet and uid the round
    /// trip, time to first token p50/p90, tokens/s, success/partial/failure counts over the
    /// recent window and requests in flight. No node needed.
    Map {
        /// The gateway's base URL, e.g. http://127.0.0.1:8000.
        #[arg(long)]
        gateway: String,
    },
    /// Grid subnets: show, set or clear the one model a subnet's miners serve.
    #[command(subcommand)]
    Grid(GridCommand),
    /// Measure the proof-of-work solver offline: hashes per second per core and the time to
    /// solve at a difficulty (no node needed).
    PowBenchmark {
        /// Difficulty to solve at (expected hashes per solution).
        #[arg(long, default_value_t = 1_000_000)]
        difficulty: u64,
        /// Solver threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Problems to solve.
        #[arg(long, default_value_t = 5)]
        rounds: u32,
    },
}

/// `stcli subnet grid ...`
///
/// A grid subnet names one model (by the SHA-256 of its files), one grid sampler version and
/// the request limits; every miner serves exactly that model and validators check sampled
/// tokens against it. Miners and validators read the spec from chain.
#[derive(Debug, Subcommand)]
pub enum GridCommand {
    /// Show a subnet's grid spec ("not a grid subnet" when it has none).
    Show {
        /// The subnet.
        #[arg(long)]
        netuid: u16,
    },
    /// Make a subnet a grid subnet, or replace its grid spec.
    ///
    /// Signed by the wallet's coldkey: the subnet owner (at most once per grid spec rate
    /// limit, 100 blocks by default), or the sudo key (sent through Sudo, not rate limited).
    /// The spec is checked before anything is sent: 64 hex digits of SHA-256, a supported
    /// sampler version, 1 <= max_new_tokens < max_context <= 1048576, a name of at most 64
    /// bytes.
    Set {
        /// The subnet.
        #[arg(long)]
        netuid: u16,
        /// SHA-256 of the model's config.json, model.safetensors and tokenizer.json
        /// (`subtensor_model::grid::model_digest`): 64 hex digits, `0x` optional.
        #[arg(long)]
        sha256: String,
        /// The model's display name (UTF-8, at most 64 bytes).
        #[arg(long)]
        name: String,
        /// The most tokens one request may generate.
        #[arg(long)]
        max_new_tokens: u32,
        /// The most tokens of prompt plus output one request may span.
        #[arg(long)]
        max_context: u32,
        /// The grid sampler version.
        #[arg(long, default_value_t = 1)]
        sampler_version: u32,
    },
    /// Remove a subnet's grid spec: it becomes an ordinary subnet. Signed by the subnet owner
    /// or the sudo key; not rate limited.
    Clear {
        /// The subnet.
        #[arg(long)]
        netuid: u16,
    },
}

/// `stcli stake ...`
#[derive(Debug, Subcommand)]
pub enum StakeCommand {
    /// Stake TAO from the wallet's coldkey on a hotkey (default: the wallet's hotkey).
    Add {
        /// Amount in TAO.
        #[arg(long)]
        amount: String,
        /// Stake on this hotkey instead of the wallet's.
        #[arg(long)]
        hotkey_ss58: Option<String>,
    },
    /// Return staked TAO to the wallet's coldkey.
    Remove {
        /// Amount in TAO.
        #[arg(long)]
        amount: String,
        /// Unstake from this hotkey instead of the wallet's.
        #[arg(long)]
        hotkey_ss58: Option<String>,
    },
    /// Show the coldkey's stake on each of the wallet's hotkeys.
    Show,
}

/// Weights as given on the command line.
#[derive(Debug, Args)]
pub struct WeightsArgs {
    /// The subnet.
    #[arg(long)]
    pub netuid: u16,
    /// Destination UIDs, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub uids: Vec<u16>,
    /// Their weights (any non-negative scale), comma-separated; max-upscaled to u16.
    #[arg(long, value_delimiter = ',', required = true)]
    pub weights: Vec<f64>,
    /// Weights version key.
    #[arg(long, default_value_t = 0)]
    pub version_key: u64,
}

/// `stcli weights ...`
#[derive(Debug, Subcommand)]
pub enum WeightsCommand {
    /// Set the wallet hotkey's weights on a subnet.
    Set {
        /// The weights.
        #[command(flatten)]
        weights: WeightsArgs,
    },
    /// Commit to weights (subnets with commit-reveal); prints the salt needed to reveal.
    Commit {
        /// The weights.
        #[command(flatten)]
        weights: WeightsArgs,
        /// Salt, comma-separated u16 values (default: 8 random values).
        #[arg(long, value_delimiter = ',')]
        salt: Option<Vec<u16>>,
    },
    /// Reveal committed weights.
    Reveal {
        /// The weights, exactly as committed.
        #[command(flatten)]
        weights: WeightsArgs,
        /// The salt printed by `weights commit`.
        #[arg(long, value_delimiter = ',', required = true)]
        salt: Vec<u16>,
    },
}

/// `stcli axon ...`
#[derive(Debug, Subcommand)]
pub enum AxonCommand {
    /// Publish the wallet hotkey's axon endpoint on a subnet.
    Serve {
        /// The subnet.
        #[arg(long)]
        netuid: u16,
        /// Public IP address (IPv4 or IPv6).
        #[arg(long)]
        ip: std::net::IpAddr,
        /// TCP port.
        #[arg(long)]
        port: u16,
        /// Neuron software version published with the axon.
        #[arg(long, default_value_t = 0)]
        neuron_version: u32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_consistent() {
        // Catches clashing names (e.g. a subcommand's `--version` against clap's own) for
        // every subcommand, which clap otherwise reports only when that subcommand runs.
        Cli::command().debug_assert();
    }

    #[test]
    fn btcli_style_option_spellings_parse() {
        let cli = Cli::try_parse_from([
            "stcli",
            "--wallet.name",
            "w",
            "--wallet.hotkey",
            "h",
            "subnet",
            "register",
            "--netuid",
            "3",
            "--pow",
        ])
        .map_err(|e| e.to_string());
        let Ok(cli) = cli else { panic!("{cli:?}") };
        assert_eq!(
            (cli.global.wallet_name.as_str(), cli.global.wallet_hotkey.as_str()),
            ("w", "h")
        );
        assert!(matches!(
            cli.command,
            Command::Subnet(SubnetCommand::Register { netuid: 3, pow: true, .. })
        ));
    }

    #[test]
    fn grid_set_parses_with_a_default_sampler_version() {
        let cli = Cli::try_parse_from([
            "stcli",
            "subnet",
            "grid",
            "set",
            "--netuid",
            "2",
            "--sha256",
            "ab",
            "--name",
            "m",
            "--max-new-tokens",
            "8",
            "--max-context",
            "64",
        ])
        .map_err(|e| e.to_string());
        let Ok(cli) = cli else { panic!("{cli:?}") };
        let Command::Subnet(SubnetCommand::Grid(GridCommand::Set {
            netuid,
            max_new_tokens,
            max_context,
            sampler_version,
            ..
        })) = cli.command
        else {
            panic!("{:?}", cli.command)
        };
        assert_eq!((netuid, max_new_tokens, max_context, sampler_version), (2, 8, 64, 1));
    }
}
