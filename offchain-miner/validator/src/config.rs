//! The command line ([`Config`], clap) and its checks.

use crate::{state::default_state_dir, Result, ValidatorError};
use clap::Parser;
use std::{path::PathBuf, time::Duration};
use subtensor_axon::synapse::{MAX_BATCH, MAX_SEQ_LEN, MAX_TOPK};
use subtensor_client::DEFAULT_ENDPOINT;
use subtensor_wallet::DEFAULT_WALLET_PATH;

/// The environment variable an encrypted hotkey's password is read from (as stcli).
pub const PASSWORD_ENV: &str = "STCLI_PASSWORD";

/// stvalidator: the validator neuron of a subtensor subnet.
///
/// It queries the subnet's miners with TextCausalLMNext (next-token phrases) on random windows
/// of a held-out corpus, scores each miner by its phrase cross-entropy through the 2022
/// scaling law (EMA of the loss, score = N(L)^power, a zeroing EMA that decays on failures),
/// and sets weights from those scores once per tempo, through commit-reveal when the subnet
/// enables it. It signs with the wallet's hotkey only (never the coldkey); an encrypted hotkey
/// is unlocked with STCLI_PASSWORD. State (scores, query walk, pending commitments) is saved
/// atomically in --state-dir and restored on restart. SIGINT/SIGTERM save and exit.
///
/// Exit status: 0 on a clean stop (or a successful --once run), 1 with one `error:` line on
/// bad flags or files, an unreachable node, an unregistered hotkey, or (with --once) weights
/// that could not be set.
#[derive(Debug, Clone, Parser)]
#[command(name = "stvalidator", version, max_term_width = 100)]
pub struct Config {
    /// WebSocket endpoint of the node.
    #[arg(long, env = "STCLI_NETWORK", default_value = DEFAULT_ENDPOINT, visible_alias = "subtensor.chain_endpoint")]
    pub network: String,
    /// Wallet (coldkey) name.
    #[arg(
        long = "wallet.name",
        env = "BT_WALLET_NAME",
        default_value = "default",
        visible_alias = "wallet-name"
    )]
    pub wallet_name: String,
    /// Hotkey name inside the wallet; it signs queries and weights.
    #[arg(
        long = "wallet.hotkey",
        env = "BT_WALLET_HOTKEY",
        default_value = "default",
        visible_alias = "wallet-hotkey"
    )]
    pub wallet_hotkey: String,
    /// Directory holding the wallets.
    #[arg(long = "wallet.path", env = "BT_WALLET_PATH", default_value = DEFAULT_WALLET_PATH, visible_alias = "wallet-path")]
    pub wallet_path: String,
    /// The subnet to validate.
    #[arg(long)]
    pub netuid: u16,
    /// Corpus file or directory (as `stmodel train` reads it); its held-out split is the
    /// evaluation text.
    #[arg(long)]
    pub corpus: PathBuf,
    /// The network's standard tokenizer (tokenizer.json).
    #[arg(long)]
    pub tokenizer: PathBuf,
    /// Rows (random windows) per query.
    #[arg(long, default_value_t = 4)]
    pub batch: usize,
    /// Input tokens per row.
    #[arg(long, default_value_t = 64)]
    pub context: usize,
    /// Target tokens per row (the phrase scored; its first token is the next token). The
    /// default, 1, scores the next token only: with longer targets the 2022 phrase loss adds
    /// the floor once per unmatched target prefix, which rewards answers that put their mass in
    /// the floor and penalises one-token phrases (all miners on the standard tokenizer). Raise
    /// it for miners whose phrases span several standard tokens.
    #[arg(long = "validation-len", default_value_t = 1)]
    pub validation_len: usize,
    /// Miners queried per step.
    #[arg(long = "sample-size", default_value_t = 16)]
    pub sample_size: usize,
    /// Phrases asked per row.
    #[arg(long, default_value_t = 512)]
    pub topk: u32,
    /// Query timeout in seconds.
    #[arg(long, default_value_t = 12.0)]
    pub timeout: f64,
    /// Pause between two query steps, in seconds.
    #[arg(long = "step-interval", default_value_t = 1.0)]
    pub step_interval: f64,
    /// EMA factor of the loss and zeroing EMAs, in (0, 1].
    #[arg(long = "ema-alpha", default_value_t = 0.1)]
    pub ema_alpha: f64,
    /// Exponent applied to the scaling-law parameter count.
    #[arg(long = "scaling-power", default_value_t = 0.5)]
    pub scaling_power: f64,
    /// Resync the metagraph every this many blocks.
    #[arg(long = "sync-blocks", default_value_t = 5)]
    pub sync_blocks: u64,
    /// Blocks between weight settings (default: the subnet's tempo).
    #[arg(long = "epoch-blocks")]
    pub epoch_blocks: Option<u64>,
    /// State directory (default ~/.bittensor/validator/<wallet>/<hotkey>/netuid<N>).
    #[arg(long = "state-dir")]
    pub state_dir: Option<PathBuf>,
    /// Run one full walk of queries and one weight setting (reveal included), then exit.
    #[arg(long)]
    pub once: bool,
    /// Accept unsigned responses (Python bittensor axons sign none); signed ones are always
    /// verified.
    #[arg(long = "accept-unsigned")]
    pub accept_unsigned: bool,
    /// Log level or tracing filter (error, warn, info, debug, trace, or e.g. "subtensor_validator=debug").
    #[arg(short = 'l', long = "log", default_value = "info")]
    pub log: String,
}

impl Config {
    /// Checks ranges and combinations that clap cannot.
    pub fn check(&self) -> Result<()> {
        let usage = |m: String| Err(ValidatorError::Usage(m));
        if !(1..=MAX_BATCH).contains(&self.batch) {
            return usage(format!("--batch must be in 1..={MAX_BATCH}"));
        }
        if self.context == 0 || self.context > MAX_SEQ_LEN {
            return usage(format!("--context must be in 1..={MAX_SEQ_LEN}"));
        }
        if self.validation_len == 0 {
            return usage("--validation-len must be at least 1".into());
        }
        if self.sample_size == 0 {
            return usage("--sample-size must be at least 1".into());
        }
        if !(1..=MAX_TOPK).contains(&self.topk) {
            return usage(format!("--topk must be in 1..={MAX_TOPK}"));
        }
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 600.0) {
            return usage("--timeout must be in (0, 600] seconds".into());
        }
        if !(self.step_interval.is_finite() && (0.0..=3600.0).contains(&self.step_interval)) {
            return usage("--step-interval must be in [0, 3600] seconds".into());
        }
        if !(self.ema_alpha.is_finite() && self.ema_alpha > 0.0 && self.ema_alpha <= 1.0) {
            return usage("--ema-alpha must be in (0, 1]".into());
        }
        if !(self.scaling_power.is_finite()
            && self.scaling_power > 0.0
            && self.scaling_power <= 4.0)
        {
            return usage("--scaling-power must be in (0, 4]".into());
        }
        if self.sync_blocks == 0 {
            return usage("--sync-blocks must be at least 1".into());
        }
        if self.epoch_blocks == Some(0) {
            return usage("--epoch-blocks must be at least 1".into());
        }
        if !self.corpus.exists() {
            return usage(format!("--corpus {}: no such file or directory", self.corpus.display()));
        }
        if !self.tokenizer.is_file() {
            return usage(format!("--tokenizer {}: no such file", self.tokenizer.display()));
        }
        Ok(())
    }

    /// The query timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout)
    }

    /// The pause between steps.
    pub fn step_interval(&self) -> Duration {
        Duration::from_secs_f64(self.step_interval)
    }

    /// The state directory, defaulted from wallet, hotkey and subnet.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(|| {
            default_state_dir(&self.wallet_name, &self.wallet_hotkey, self.netuid)
        })
    }
}
