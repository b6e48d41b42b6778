//! The command line of `stgateway`.

use crate::{error::GatewayError, Result};
use clap::Parser;
use std::{net::IpAddr, path::PathBuf, time::Duration};
use subtensor_client::DEFAULT_ENDPOINT;
use subtensor_wallet::DEFAULT_WALLET_PATH;

/// An OpenAI-compatible gateway to the network's miners.
///
/// Serves POST /v1/completions, POST /v1/chat/completions and GET /v1/models (the OpenAI API;
/// point any OpenAI client's base_url at http://HOST:PORT/v1), GET /health, GET /map (the
/// latency map as JSON) and GET /organic (its verdicts on grid answers, for stvalidator
/// --organic-from).
///
/// Models: a heterogeneous subnet N is the model `subnet-N` (TextSeq2Seq over the network's
/// standard tokenizer, --tokenizer); a grid subnet is its grid spec's model name (GridGenerate,
/// needs --grid-model with the model the spec names; every grid answer is verified before a
/// user sees it, and each verdict is kept for the validator's scores). Requests are routed by
/// a latency map (incentive x recent success rate x speed, power of two choices on in-flight
/// requests); non-streaming requests go to two miners at once (--fan-out) and return the
/// first good answer, or with --reference-model on a heterogeneous subnet the answer the
/// reference model finds most likely (highest mean token log-probability); streaming ones are
/// hedged to a second miner after the shorter of the two miners' p90 time to first token
/// (--no-hedge: not). Chat messages are rendered as "{role}: {content}\n" lines followed by
/// "assistant:".
///
/// Queries are signed with the wallet's hotkey: on a real chain miners serve registered
/// hotkeys only, so run the gateway with a validator's hotkey. With --offline there is no chain:
/// the miners are the --miner list (their hotkeys asked from the axons unless given as
/// HOTKEY@HOST:PORT), all on one subnet (--netuid, default 1).
///
/// Exit status: 0 after SIGINT/SIGTERM, 1 with one `error:` line on bad flags or files, an
/// unreachable node or miners, or a port in use.
#[derive(Debug, Clone, Parser)]
#[command(name = "stgateway", version, max_term_width = 100)]
pub struct Args {
    /// WebSocket endpoint of the node.
    #[arg(long, env = "STCLI_NETWORK", default_value = DEFAULT_ENDPOINT)]
    pub network: String,
    /// Subnets to serve (repeatable); default every subnet the gateway can serve (offline: 1).
    #[arg(long = "netuid")]
    pub netuids: Vec<u16>,
    /// Wallet (coldkey) name.
    #[arg(long = "wallet.name", env = "BT_WALLET_NAME", default_value = "default")]
    pub wallet_name: String,
    /// Hotkey name inside the wallet; it signs every query.
    #[arg(long = "wallet.hotkey", env = "BT_WALLET_HOTKEY", default_value = "default")]
    pub wallet_hotkey: String,
    /// Directory holding the wallets.
    #[arg(long = "wallet.path", env = "BT_WALLET_PATH", default_value = DEFAULT_WALLET_PATH)]
    pub wallet_path: String,
    /// The network's standard tokenizer (tokenizer.json), for heterogeneous subnets.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// The grid model's directory (tokenizer.json, config.json, weights), for grid subnets;
    /// with --offline the model id is the directory's name.
    #[arg(long)]
    pub grid_model: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on.
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// File of API keys, one per line (`#` starts a comment); clients send
    /// `Authorization: Bearer KEY`.
    #[arg(long, conflicts_with = "no_auth", required_unless_present = "no_auth")]
    pub api_keys: Option<PathBuf>,
    /// Accept requests without a key (local use); the rate limit then counts per address.
    #[arg(long)]
    pub no_auth: bool,
    /// Requests per second per key.
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// Burst of requests per key.
    #[arg(long, default_value_t = 20.0)]
    pub burst: f64,
    /// No chain: serve the --miner list.
    #[arg(long, requires = "miners")]
    pub offline: bool,
    /// A miner's axon, [HOTKEY@]HOST:PORT (repeatable; with --offline).
    #[arg(long = "miner", requires = "offline", value_name = "[HOTKEY@]HOST:PORT")]
    pub miners: Vec<String>,
    /// Where the latency map is saved (every 10 s and at exit) and restored from.
    #[arg(long)]
    pub map_file: Option<PathBuf>,
    /// Seconds a miner has to answer (the hard deadline for the first token).
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// Seconds between metagraph refreshes.
    #[arg(long, default_value_t = 60)]
    pub refresh_secs: u64,
    /// A model on the network's standard tokenizer (config.json, model.safetensors), run on
    /// the CPU, that ranks the answers of non-streaming requests to heterogeneous subnets.
    #[arg(long, value_name = "DIR")]
    pub reference_model: Option<PathBuf>,
    /// A distilled student model directory (`stmodel distill`, with its own tokenizer.json),
    /// run on the CPU: it answers requests to heterogeneous subnets when no miner can, marked
    /// by the response's `model` field (`student:NAME`) and `x-subtensor-source: student`.
    #[arg(long, value_name = "DIR")]
    pub student: Option<PathBuf>,
    /// The routing gate the validator trains (`stvalidator --gate-model`; its gate.json):
    /// requests to heterogeneous subnets go only to the miners it predicts do best on the
    /// prompt (the --fan-out, at least 2), still chosen among by the latency-aware policy.
    /// Reloaded when the file changes.
    #[arg(long, value_name = "PATH", requires = "gate_model")]
    pub gate_file: Option<PathBuf>,
    /// The gate's feature model: the validator's --gate-model (run on the CPU here).
    #[arg(long, value_name = "DIR", requires = "gate_file")]
    pub gate_model: Option<PathBuf>,
    /// Share of the gate's slots given to a uniformly random miner instead.
    #[arg(long, default_value_t = 0.1)]
    pub gate_exploration: f64,
    /// Miners asked at once for a non-streaming request (1 to 3).
    #[arg(long, default_value_t = 2)]
    pub fan_out: usize,
    /// Do not hedge streaming requests to a second miner after the first one's p90 time to
    /// first token (a failure still brings in the second).
    #[arg(long)]
    pub no_hedge: bool,
    /// Log filter (tracing `EnvFilter` syntax).
    #[arg(short = 'l', long = "log", default_value = "info")]
    pub log: String,
}

impl Args {
    /// Checks what clap cannot.
    pub fn check(&self) -> Result<()> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 3600.0) {
            return Err(GatewayError::Config("--timeout must be in (0, 3600] seconds".to_owned()));
        }
        if self.tokenizer.is_none() && self.grid_model.is_none() {
            return Err(GatewayError::Config(
                "nothing to serve: pass --tokenizer (heterogeneous subnets) and/or --grid-model \
                 (grid subnets)"
                    .to_owned(),
            ));
        }
        if !(1..=crate::backend::MAX_FAN_OUT).contains(&self.fan_out) {
            return Err(GatewayError::Config(format!(
                "--fan-out must be 1 to {}",
                crate::backend::MAX_FAN_OUT
            )));
        }
        if self.reference_model.is_some() && self.tokenizer.is_none() {
            return Err(GatewayError::Config(
                "--reference-model ranks heterogeneous answers: it needs --tokenizer".to_owned(),
            ));
        }
        if self.gate_file.is_some() && self.tokenizer.is_none() {
            return Err(GatewayError::Config(
                "--gate-file routes heterogeneous requests: it needs --tokenizer".to_owned(),
            ));
        }
        if !(self.gate_exploration.is_finite() && (0.0..=1.0).contains(&self.gate_exploration)) {
            return Err(GatewayError::Config("--gate-exploration must be in [0, 1]".to_owned()));
        }
        if self.refresh_secs == 0 {
            return Err(GatewayError::Config("--refresh-secs must be at least 1".to_owned()));
        }
        Ok(())
    }

    /// `--timeout` as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout)
    }
}
