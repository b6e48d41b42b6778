//! The miner process: flags, start-up (model, wallet, chain), serving, graceful shutdown.

use crate::{
    bridge::Bridge,
    chain::{self, Registration},
    engine::{Engine, EngineConfig},
    grid::{check_grid_spec, Batcher, BatcherConfig, GridLimits},
    handlers::Handlers,
    MinerError, Result,
};
use clap::Parser;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{atomic::Ordering, Arc};
use std::time::Duration;
use subtensor_axon::synapse::MAX_GRID_NEW_TOKENS;
use subtensor_axon::{
    axon::{shutdown_signal, LimitConfig},
    Axon, AxonConfig, MetagraphPolicy,
};
use subtensor_client::{primitives::GridSpec, Client};
use subtensor_model::{
    grid::model_digest_hex, parse_device, LanguageModel, TextTokenizer, GRID_SAMPLER_VERSION,
};
use subtensor_wallet::Wallet;

/// Serve a language model on a subnet: register, publish the axon, answer validators.
///
/// The model is a directory in the Hugging Face GPT-2 layout (config.json, model.safetensors,
/// tokenizer.json), such as one written by `stmodel train`. Requests use the network's standard
/// tokenizer (`--tokenizer`, by default the model's own); a model with another tokenizer is
/// bridged through text.
///
/// On a grid subnet, `--grid` also serves `GridGenerate` (the grid sampler, in the model's own
/// token ids), after checking that the model's digest is the one the subnet's grid spec names.
#[derive(Debug, Parser)]
#[command(name = "stminer", version)]
pub struct Args {
    /// The model directory.
    #[arg(long)]
    pub model: PathBuf,
    /// The network's standard tokenizer (tokenizer.json); default: the model's.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Where the model runs: cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// libtorch intra-op threads (0: libtorch's default).
    #[arg(long, default_value_t = 0)]
    pub threads: i32,
    /// WebSocket endpoint of the node.
    #[arg(
        long,
        env = "STCLI_NETWORK",
        default_value = "ws://127.0.0.1:9944",
        visible_alias = "subtensor.chain_endpoint"
    )]
    pub network: String,
    /// The subnet to mine on.
    #[arg(long, default_value_t = 1)]
    pub netuid: u16,
    /// Wallet (coldkey) name.
    #[arg(long = "wallet.name", env = "BT_WALLET_NAME", default_value = "default")]
    pub wallet_name: String,
    /// Hotkey name inside the wallet.
    #[arg(long = "wallet.hotkey", env = "BT_WALLET_HOTKEY", default_value = "default")]
    pub wallet_hotkey: String,
    /// Directory holding the wallets.
    #[arg(long = "wallet.path", env = "BT_WALLET_PATH", default_value = subtensor_wallet::DEFAULT_WALLET_PATH)]
    pub wallet_path: String,
    /// How to register if the hotkey has no UID: burned (coldkey password from STCLI_PASSWORD),
    /// pow (hotkey only), none (fail).
    #[arg(long, value_enum, default_value = "burned")]
    pub register: Registration,
    /// Shorthand for `--register pow`.
    #[arg(long)]
    pub pow: bool,
    /// Proof-of-work threads (default: all cores).
    #[arg(long)]
    pub pow_threads: Option<usize>,
    /// Address the axon listens on.
    #[arg(long = "axon.ip", default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED))]
    pub axon_ip: IpAddr,
    /// Port the axon listens on.
    #[arg(long = "axon.port", default_value_t = 8091)]
    pub axon_port: u16,
    /// Address published on chain (what validators dial).
    #[arg(long = "axon.external_ip", visible_alias = "axon.external-ip", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub external_ip: IpAddr,
    /// Port published on chain (default: --axon.port).
    #[arg(long = "axon.external_port", visible_alias = "axon.external-port")]
    pub external_port: Option<u16>,
    /// Serve callers with a validator permit only.
    #[arg(long)]
    pub require_validator_permit: bool,
    /// Serve callers with at least this stake (rao).
    #[arg(long, default_value_t = 0)]
    pub min_stake: u64,
    /// Seconds between metagraph refreshes of the caller policy.
    #[arg(long, default_value_t = 10)]
    pub refresh_secs: u64,
    /// Most rows in one merged forward pass.
    #[arg(long, default_value_t = 32)]
    pub max_batch: usize,
    /// Milliseconds the inference thread waits to fill a batch beyond what is already queued
    /// (0: requests that arrived during the previous pass form the next batch).
    #[arg(long, default_value_t = 0)]
    pub batch_wait_ms: u64,
    /// Sustained requests per second each caller hotkey may send.
    #[arg(long, default_value_t = 100.0)]
    pub hotkey_rate: f64,
    /// Burst of requests each caller hotkey may send above its rate.
    #[arg(long, default_value_t = 200.0)]
    pub hotkey_burst: f64,
    /// Requests each caller hotkey may have in flight.
    #[arg(long, default_value_t = 32)]
    pub hotkey_in_flight: usize,
    /// Requests queued before new ones are refused.
    #[arg(long, default_value_t = 256)]
    pub queue: usize,
    /// Serve without a chain: no registration or publication; every signed caller is served.
    #[arg(long)]
    pub offline: bool,
    /// Grid mode: serve `GridGenerate` for the subnet's grid spec (read from the chain at
    /// start; refused unless the spec names this model's digest and a sampler version this
    /// miner implements). With --offline there is no spec: the limits are the model's own.
    #[arg(long)]
    pub grid: bool,
    /// Grid mode: most concurrent `GridGenerate` requests decoded together (1: no batching).
    #[arg(long, default_value_t = 4)]
    pub grid_batch_max: usize,
    /// Grid mode: milliseconds the batcher waits for more requests after the first.
    #[arg(long, default_value_t = 5)]
    pub grid_batch_wait_ms: u64,
    /// Test only: every answer (all synapses, `GridGenerate` included) is sent this many
    /// milliseconds after it was computed. Exists for routing and scoring tests of validators
    /// (a slow but honest miner); the reported per-token times stay the real ones.
    #[arg(long, default_value_t = 0, hide = true)]
    pub test_added_latency_ms: u64,
    /// Log filter (error, warn, info, debug, or target=level,...).
    #[arg(short = 'l', long = "log", default_value = "info")]
    pub log: String,
}

/// How [`run_with`] departs from a plain `stminer` run. The default is none: [`run`].
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Test only (feature `test-utils`): serve `GridGenerate` with this cheat, and skip the
    /// start-up check of the model's digest against the subnet's grid spec.
    #[cfg(feature = "test-utils")]
    pub cheat: Option<crate::cheat::GridCheat>,
}

impl Options {
    /// Whether the start-up check of the model's digest against the grid spec runs (always,
    /// except for a test cheater).
    fn checks_digest(&self) -> bool {
        #[cfg(feature = "test-utils")]
        if self.cheat.is_some() {
            return false;
        }
        true
    }
}

/// Grid mode's start-up check: reads subnet `netuid`'s grid spec and checks that it names the
/// model in `model` (by digest) and this miner's grid sampler version.
pub async fn read_grid_spec(client: &Client, netuid: u16, model: &Path) -> Result<GridSpec> {
    fetch_grid_spec(client, netuid, model, true).await
}

/// Reads subnet `netuid`'s grid spec; with `check`, refuses it unless it names the model in
/// `model` and this miner's sampler version.
async fn fetch_grid_spec(
    client: &Client,
    netuid: u16,
    model: &Path,
    check: bool,
) -> Result<GridSpec> {
    client.ensure_subnet(netuid).await?;
    let record = client.grid_spec(netuid, None).await?.ok_or_else(|| {
        MinerError::Config(format!(
            "subnet {netuid} has no grid spec: --grid serves grid subnets only (see `stcli \
             subnet grid show --netuid {netuid}`)"
        ))
    })?;
    if check {
        let digest = subtensor_model::grid::model_digest(model)?;
        check_grid_spec(&record.spec, &digest, GRID_SAMPLER_VERSION)?;
    } else {
        tracing::warn!(
            target: "miner",
            "NOT checking the model's digest against subnet {netuid}'s grid spec (test cheater)"
        );
    }
    tracing::info!(
        target: "miner",
        "subnet {netuid} is a grid subnet (spec set at block #{}): serving {} with sampler \
         version {}, at most {} new tokens and a context of {}",
        record.set_at_block,
        String::from_utf8_lossy(&record.spec.model_name),
        record.spec.sampler_version,
        record.spec.max_new_tokens,
        record.spec.max_context
    );
    Ok(record.spec)
}

/// Runs the miner until SIGINT or SIGTERM.
pub async fn run(args: Args) -> Result<()> {
    run_with(args, Options::default()).await
}

/// [`run`] with `options` (for test binaries; `run` passes the default).
pub async fn run_with(args: Args, options: Options) -> Result<()> {
    let device = parse_device(&args.device)?;
    // Grid mode checks the model against the chain first: a miner of the wrong model must not
    // load it, register or publish.
    let mut client = None;
    let spec = if args.grid && !args.offline {
        let c = Client::connect(&args.network).await?;
        let spec = fetch_grid_spec(&c, args.netuid, &args.model, options.checks_digest()).await?;
        client = Some(c);
        Some(spec)
    } else {
        None
    };
    let model_tokenizer = TextTokenizer::load(&args.model.join("tokenizer.json"))?;
    let standard = match &args.tokenizer {
        Some(path) => TextTokenizer::load(path)?,
        None => TextTokenizer::load(&args.model.join("tokenizer.json"))?,
    };
    let bridge = Bridge::new(standard, model_tokenizer);
    let wallet = Wallet::new(&args.wallet_path, &args.wallet_name, &args.wallet_hotkey)?;
    let hotkey = wallet.hotkey(&mut || {
        std::env::var("STCLI_PASSWORD").map_err(|_| {
            subtensor_wallet::WalletError::Password(
                "the hotkey is encrypted: set STCLI_PASSWORD".into(),
            )
        })
    })?;

    let model_dir = args.model.clone();
    let threads = args.threads;
    let started = std::time::Instant::now();
    let engine = Engine::start(
        move || {
            if threads > 0 {
                tch::set_num_threads(threads);
            }
            LanguageModel::load(&model_dir, device)
        },
        EngineConfig {
            max_batch_rows: args.max_batch.max(1),
            batch_wait: Duration::from_millis(args.batch_wait_ms),
            queue: args.queue.max(1),
        },
    )?;
    tracing::info!(
        target: "miner",
        "model {} loaded on {device:?} in {:.1} s (vocab {}, tokenizer {})",
        args.model.display(),
        started.elapsed().as_secs_f64(),
        engine.vocab_size(),
        if bridge.is_identity() { "standard" } else { "bridged to the standard one" }
    );

    let external_port = args.external_port.unwrap_or(args.axon_port);
    if !(args.hotkey_rate.is_finite() && args.hotkey_rate > 0.0 && args.hotkey_burst >= 1.0) {
        return Err(MinerError::Config(
            "--hotkey-rate must be > 0 and --hotkey-burst >= 1".to_owned(),
        ));
    }
    let defaults = AxonConfig::default();
    let config = AxonConfig {
        external_ip: Some(args.external_ip),
        external_port: Some(external_port),
        limits: LimitConfig {
            rate_per_sec: args.hotkey_rate,
            burst: args.hotkey_burst,
            max_in_flight: args.hotkey_in_flight.max(1),
            ..defaults.limits
        },
        ..defaults
    };
    let addr = SocketAddr::new(args.axon_ip, args.axon_port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| MinerError::Config(format!("cannot listen on {addr}: {e}")))?;
    let mut axon = Axon::new(hotkey.clone(), config);
    let mut refresher = None;
    if args.offline {
        tracing::warn!(target: "miner", "offline: not registering; serving every signed caller");
    } else {
        let client = match client.take() {
            Some(c) => c,
            None => Client::connect(&args.network).await?,
        };
        let how = if args.pow { Registration::Pow } else { args.register };
        let threads = args.pow_threads.unwrap_or_else(subtensor_client::pow::Solver::all_cores);
        let uid =
            chain::ensure_registered(&client, args.netuid, &wallet, &hotkey, how, threads).await?;
        let policy = MetagraphPolicy::new(args.require_validator_permit, args.min_stake);
        let metagraph = client.metagraph(args.netuid, None).await?;
        policy.update(chain::members(&metagraph));
        axon = axon.blacklist(Arc::new(policy.clone())).priority(Arc::new(policy.clone()));
        chain::publish_axon(&client, args.netuid, &hotkey, args.external_ip, external_port, 1)
            .await?;
        tracing::info!(target: "miner", "mining on subnet {} as UID {uid}", args.netuid);
        let every = Duration::from_secs(args.refresh_secs.max(1));
        refresher = Some(tokio::spawn(chain::refresh_policy(
            client,
            args.network.clone(),
            args.netuid,
            policy,
            every,
        )));
    }
    let mut handlers = Handlers::new(engine.clone(), bridge);
    if args.grid {
        handlers = grid_handlers(handlers, &engine, spec.as_ref(), &args)?;
    }
    if args.test_added_latency_ms > 0 {
        tracing::warn!(
            target: "miner",
            "test mode: every answer is delayed by {} ms (--test-added-latency-ms)",
            args.test_added_latency_ms
        );
        handlers = handlers.with_added_latency(Duration::from_millis(args.test_added_latency_ms));
    }
    #[cfg(feature = "test-utils")]
    if let Some(cheat) = options.cheat {
        tracing::warn!(target: "miner", "test cheater: GridGenerate answers {cheat:?}");
        handlers = handlers.with_grid_cheat(cheat);
    }
    let axon = handlers.attach(axon);
    tracing::info!(target: "miner", "axon listening on {addr} (published as {}:{external_port})", args.external_ip);
    let reporter = tokio::spawn(report_stats(engine.clone(), Duration::from_secs(60)));
    // A grid miner stops (with an error) when the subnet's grid spec changes under it.
    let spec_watch = spec.clone().filter(|_| !args.offline).map(|loaded| {
        let every = Duration::from_secs(args.refresh_secs.max(1));
        tokio::spawn(chain::watch_grid_spec(args.network.clone(), args.netuid, loaded, every))
    });
    let stop_reason: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let shutdown = {
        let stop_reason = stop_reason.clone();
        async move {
            let changed = async {
                match spec_watch {
                    Some(task) => task.await.ok(),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = shutdown_signal() => {}
                reason = changed => {
                    if let Ok(mut slot) = stop_reason.lock() {
                        *slot = reason;
                    }
                }
            }
        }
    };
    axon.serve(listener, shutdown).await?;
    reporter.abort();
    if let Some(task) = refresher {
        task.abort();
    }
    let s = engine.stats();
    tracing::info!(
        target: "miner",
        "stopped: {} answered, {} failed, {} expired in the queue, {} rows in {} merged passes",
        s.served.load(Ordering::Relaxed),
        s.failed.load(Ordering::Relaxed),
        s.expired.load(Ordering::Relaxed),
        s.merged_rows.load(Ordering::Relaxed),
        s.merged_passes.load(Ordering::Relaxed)
    );
    let reason = stop_reason.lock().ok().and_then(|mut slot| slot.take());
    match reason {
        Some(reason) => Err(MinerError::Config(reason)),
        None => Ok(()),
    }
}

/// Grid mode: starts the batcher and adds `GridGenerate` to `handlers`, within the limits of
/// `spec` (or, offline, of the model alone).
fn grid_handlers(
    handlers: Handlers,
    engine: &Engine,
    spec: Option<&GridSpec>,
    args: &Args,
) -> Result<Handlers> {
    let limits = match spec {
        Some(spec) => GridLimits::of_spec(spec, engine.n_positions()),
        None => {
            tracing::warn!(
                target: "miner",
                "offline grid mode: no grid spec to check; serving model digest {} with the \
                 model's own limits",
                model_digest_hex(&args.model)?
            );
            GridLimits::of_model(
                engine.n_positions(),
                usize::try_from(MAX_GRID_NEW_TOKENS).unwrap_or(usize::MAX),
            )
        }
    };
    if limits.max_context > limits.n_positions {
        tracing::warn!(
            target: "miner",
            "the grid's context of {} exceeds the model's {}: longer requests are refused",
            limits.max_context,
            limits.n_positions
        );
    }
    if engine.eos_token_id().is_none() {
        tracing::warn!(
            target: "miner",
            "the model's config.json has no eos_token_id: grid generations never stop early"
        );
    }
    let config = BatcherConfig {
        max_batch: args.grid_batch_max.max(1),
        wait: Duration::from_millis(args.grid_batch_wait_ms),
        queue: args.queue.max(1),
    };
    tracing::info!(
        target: "miner",
        "grid mode: GridGenerate served (at most {} new tokens, context {}), batches of up to {} \
         within {} ms; the four text synapses are served as well",
        limits.max_new_tokens,
        limits.max_context.min(limits.n_positions),
        config.max_batch,
        args.grid_batch_wait_ms
    );
    Ok(handlers.with_grid(Batcher::start(engine.clone(), config)?, limits))
}

/// Logs what the engine served every `every`, when anything changed.
async fn report_stats(engine: Engine, every: Duration) {
    let mut last = (0, 0, 0);
    loop {
        tokio::time::sleep(every).await;
        let s = engine.stats();
        let now = (
            s.served.load(Ordering::Relaxed),
            s.failed.load(Ordering::Relaxed),
            s.expired.load(Ordering::Relaxed),
        );
        if now != last {
            tracing::info!(
                target: "miner",
                "last {} s: {} answered, {} failed, {} expired in the queue ({} rows in {} merged passes so far)",
                every.as_secs(),
                now.0.saturating_sub(last.0),
                now.1.saturating_sub(last.1),
                now.2.saturating_sub(last.2),
                s.merged_rows.load(Ordering::Relaxed),
                s.merged_passes.load(Ordering::Relaxed)
            );
            last = now;
        }
    }
}
