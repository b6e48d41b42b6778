//! The command line ([`Config`], clap) and its checks.

use crate::{state::default_state_dir, Result, ValidatorError};
use clap::Parser;
use std::{path::PathBuf, time::Duration};
use subtensor_axon::synapse::{MAX_BATCH, MAX_SEQ_LEN, MAX_TOPK};
use subtensor_client::DEFAULT_ENDPOINT;
use subtensor_wallet::DEFAULT_WALLET_PATH;

/// The environment variable an encrypted hotkey's password is read from (as stcli).
pub const PASSWORD_ENV: &str = "STCLI_PASSWORD";

/// The default shortest context of `--distill-collect` (`--distill-min-context`).
pub const DEFAULT_DISTILL_MIN_CONTEXT: usize = 4;

/// stvalidator: the validator neuron of a subtensor subnet.
///
/// It queries the subnet's miners with TextCausalLMNext (next-token phrases) on random windows
/// of a held-out corpus, scores each miner by its phrase cross-entropy through the 2022
/// scaling law (EMA of the loss, score = N(L)^power, a zeroing EMA that decays on failures),
/// and sets weights from those scores once per tempo, through commit-reveal when the subnet
/// enables it.
///
/// On a grid subnet (one whose owner committed a grid spec, `stcli subnet grid show`) it
/// runs in grid mode instead: pass --grid-model with the model the spec names. Each step
/// sends one challenge (a held-out prompt and a fresh seed) to --grid-redundancy miners
/// with GridGenerate; identical answers are accepted, others verified token by token with
/// one teacher-forced pass of the model; verified miners are scored on their reliable speed
/// (a low percentile of tokens/s measured here), a failed verification zeroes a miner for
/// --grid-ban-epochs epochs. It signs with the wallet's hotkey only (never the coldkey); an encrypted hotkey
/// is unlocked with STCLI_PASSWORD. State (scores, query walk, pending commitments) is saved
/// atomically in --state-dir and restored on restart. SIGINT/SIGTERM save and exit.
///
/// With --distill-collect N it collects a distillation buffer instead of validating: it asks
/// the --distill-top miners with the highest incentive (serving an axon; ties to the lower
/// uid) for next-token answers on N random contexts of the corpus's training split, in
/// queries of --batch rows, appends one record per context and answering miner to
/// --distill-buffer, weighted by the miner's incentive, logs progress, prints a JSON summary
/// on stdout and exits. It sets no weights and touches no state; the hotkey must be
/// registered (miners answer registered callers only).
///
/// Exit status: 0 on a clean stop (or a successful --once or --distill-collect run), 1 with
/// one `error:` line on bad flags or files, an unreachable node, an unregistered hotkey, (with
/// --once) weights that could not be set, or (with --distill-collect) a grid subnet, no
/// serving miner with incentive, or no answer at all.
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
    /// The network's standard tokenizer (tokenizer.json). Required on a loss-scored subnet; on
    /// a grid subnet prompts use the grid model's own tokenizer.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
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
    /// Pause between two query steps (with --distill-collect, between two queries), in seconds.
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
    /// Append every loss-scored answer to the distillation buffer in this directory (one
    /// record per row and answering miner, weighted by its score), for `stmodel distill`.
    #[arg(long = "distill-buffer")]
    pub distill_buffer: Option<PathBuf>,
    /// The distillation buffer's size cap in MiB (the oldest segments are deleted).
    #[arg(long = "distill-cap-mb", default_value_t = 1024)]
    pub distill_cap_mb: u64,
    /// Collect instead of validating: ask the best miners for next-token answers on N contexts
    /// of the corpus's training split, append them to --distill-buffer, print a JSON summary
    /// and exit (no weights, no state). Loss-scored subnets only.
    #[arg(
        long = "distill-collect",
        value_name = "N",
        requires = "distill_buffer",
        help_heading = "Collecting a distillation buffer"
    )]
    pub distill_collect: Option<usize>,
    /// With --distill-collect: how many miners to ask, those with the highest incentive (only
    /// serving miners with a positive incentive; ties go to the lower uid).
    #[arg(
        long = "distill-top",
        value_name = "K",
        default_value_t = 3,
        requires = "distill_collect",
        help_heading = "Collecting a distillation buffer"
    )]
    pub distill_top: usize,
    /// With --distill-collect: the shortest context. Each query's contexts are drawn with one
    /// random length in M..=--context tokens (the rows of a query share a length), so the
    /// student learns short prompts too [default: 4, or --context if smaller].
    #[arg(
        long = "distill-min-context",
        value_name = "M",
        requires = "distill_collect",
        help_heading = "Collecting a distillation buffer"
    )]
    pub distill_min_context: Option<usize>,
    /// Loss-scored subnets: train the conditional computation gate (issue 14) with this
    /// feature model (a model on the standard tokenizer: config.json, model.safetensors; run
    /// on the CPU) after every step, for the gateway's routing. Refused on grid subnets.
    #[arg(long = "gate-model", value_name = "DIR")]
    pub gate_model: Option<PathBuf>,
    /// Where the gate is saved with the state (default: gate.json in --state-dir).
    #[arg(long = "gate-file", value_name = "PATH", requires = "gate_model")]
    pub gate_file: Option<PathBuf>,
    /// Grid subnets: the model directory the subnet's grid spec names (its digest is checked
    /// at start). Required when the subnet has a grid spec, refused when it has none.
    #[arg(long = "grid-model", help_heading = "Grid subnets")]
    pub grid_model: Option<PathBuf>,
    /// Grid: prompt tokens per challenge (random windows of the held-out split).
    #[arg(long = "grid-prompt-len", default_value_t = 24, help_heading = "Grid subnets")]
    pub grid_prompt_len: usize,
    /// Grid: tokens each miner is asked to generate (at most the spec's max_new_tokens).
    #[arg(long = "grid-new-tokens", default_value_t = 32, help_heading = "Grid subnets")]
    pub grid_new_tokens: u32,
    /// Grid: sampling temperature of challenges (0: greedy).
    #[arg(long = "grid-temperature", default_value_t = 1.0, help_heading = "Grid subnets")]
    pub grid_temperature: f64,
    /// Grid: top-k mask of challenges (0: none).
    #[arg(long = "grid-top-k", default_value_t = 0, help_heading = "Grid subnets")]
    pub grid_top_k: u32,
    /// Grid: top-p mass of challenges (1: none).
    #[arg(long = "grid-top-p", default_value_t = 1.0, help_heading = "Grid subnets")]
    pub grid_top_p: f64,
    /// Grid: miners sent the same challenge; identical answers are accepted without a
    /// verification pass.
    #[arg(long = "grid-redundancy", default_value_t = 3, help_heading = "Grid subnets")]
    pub grid_redundancy: usize,
    /// Grid: probability that identical answers are verified anyway (catches colluders).
    #[arg(long = "grid-spot-check", default_value_t = 0.25, help_heading = "Grid subnets")]
    pub grid_spot_check: f64,
    /// Grid: recent queries kept per miner for its success rate and speed.
    #[arg(long = "grid-window", default_value_t = 32, help_heading = "Grid subnets")]
    pub grid_window: usize,
    /// Grid: the percentile of recent speeds scored (low: a miner is as fast as it reliably is).
    #[arg(long = "grid-percentile", default_value_t = 20.0, help_heading = "Grid subnets")]
    pub grid_percentile: f64,
    /// Grid: least share of verified answers among recent queries for a positive score.
    #[arg(long = "grid-success-floor", default_value_t = 0.8, help_heading = "Grid subnets")]
    pub grid_success_floor: f64,
    /// Grid: weight epochs a miner scores zero after an answer fails verification.
    #[arg(long = "grid-ban-epochs", default_value_t = 3, help_heading = "Grid subnets")]
    pub grid_ban_epochs: u64,
    /// Grid: the gateway's base URL (http://HOST:PORT) whose organic verdicts (its
    /// verification of grid answers on user traffic, GET /organic) are folded into the grid
    /// scores like challenges' at every step; a rejected organic answer bans the miner. The
    /// gateway must sign with this validator's hotkey. Unreachable: a warning, never fatal.
    #[arg(long = "organic-from", value_name = "URL", help_heading = "Grid subnets")]
    pub organic_from: Option<String>,
    /// Accept unsigned responses (Python bittensor axons sign none); signed ones are always
    /// verified.
    #[arg(long = "accept-unsigned")]
    pub accept_unsigned: bool,
    /// Log level or tracing filter (error, warn, info, debug, trace, or e.g. "subtensor_validator=debug").
    #[arg(short = 'l', long = "log", default_value = "info")]
    pub log: String,
}

impl Config {
    /// The grid challenge shape of the flags.
    pub fn grid_shape(&self) -> crate::grid::ChallengeShape {
        crate::grid::ChallengeShape {
            prompt_len: self.grid_prompt_len,
            new_tokens: self.grid_new_tokens,
            temperature: self.grid_temperature,
            top_k: self.grid_top_k,
            top_p: self.grid_top_p,
        }
    }

    /// The grid scoring of the flags, with bans of `--grid-ban-epochs` epochs of
    /// `epoch_blocks` blocks.
    pub fn grid_scoring(&self, epoch_blocks: u64) -> crate::grid::GridScoring {
        crate::grid::GridScoring {
            window: self.grid_window,
            percentile: self.grid_percentile,
            success_floor: self.grid_success_floor,
            ban_blocks: self.grid_ban_epochs.saturating_mul(epoch_blocks),
        }
    }

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
        if let Some(tokenizer) = self.tokenizer.as_ref().filter(|t| !t.is_file()) {
            return usage(format!("--tokenizer {}: no such file", tokenizer.display()));
        }
        if let Some(model) = self.grid_model.as_ref().filter(|m| !m.is_dir()) {
            return usage(format!("--grid-model {}: no such directory", model.display()));
        }
        if let Some(model) = self.gate_model.as_ref().filter(|m| !m.is_dir()) {
            return usage(format!("--gate-model {}: no such directory", model.display()));
        }
        if self.gate_model.is_some() && self.grid_model.is_some() {
            return usage("--gate-model is for loss-scored subnets, not with --grid-model".into());
        }
        if !(1..=8).contains(&self.grid_redundancy) {
            return usage("--grid-redundancy must be in 1..=8".into());
        }
        let unit = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
        if !unit(self.grid_spot_check) {
            return usage("--grid-spot-check must be in [0, 1]".into());
        }
        if !unit(self.grid_success_floor) {
            return usage("--grid-success-floor must be in [0, 1]".into());
        }
        if !(self.grid_percentile.is_finite() && (0.0..=100.0).contains(&self.grid_percentile)) {
            return usage("--grid-percentile must be in [0, 100]".into());
        }
        if self.grid_window == 0 {
            return usage("--grid-window must be at least 1".into());
        }
        if let Some(url) = &self.organic_from {
            crate::grid::organic_feed::parse_base(url)?;
        }
        self.check_collect()
    }

    /// Checks the --distill-collect flags and what they exclude.
    fn check_collect(&self) -> Result<()> {
        let usage = |m: &str| Err(ValidatorError::Usage(m.to_owned()));
        let Some(contexts) = self.distill_collect else { return Ok(()) };
        if contexts == 0 {
            return usage("--distill-collect must be at least 1 context");
        }
        if self.distill_top == 0 {
            return usage("--distill-top must be at least 1 miner");
        }
        if self.distill_min_context.is_some_and(|m| m == 0 || m > self.context) {
            return usage("--distill-min-context must be in 1..=--context");
        }
        if self.once {
            return usage(
                "--distill-collect collects and exits without validating: not with --once",
            );
        }
        if self.grid_model.is_some() {
            return usage(
                "--distill-collect needs next-token answers of a loss-scored subnet: not with \
                 --grid-model",
            );
        }
        if self.gate_model.is_some() {
            return usage("--gate-model trains on validation steps: not with --distill-collect");
        }
        Ok(())
    }

    /// The shortest context collected: `--distill-min-context`, else 4 (at most `--context`).
    pub fn distill_min_context(&self) -> usize {
        self.distill_min_context.unwrap_or(DEFAULT_DISTILL_MIN_CONTEXT.min(self.context))
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

    /// The gate file: `--gate-file`, else gate.json in the state directory.
    pub fn gate_file(&self) -> PathBuf {
        self.gate_file.clone().unwrap_or_else(|| self.state_dir().join(crate::gate::GATE_FILE))
    }
}
