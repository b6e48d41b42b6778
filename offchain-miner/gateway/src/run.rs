//! `stgateway`'s main loop: load keys, tokenizers and the latency map, build the directory
//! (chain or `--offline` list), serve until SIGINT/SIGTERM, save the map.

use crate::{
    backend::{
        discover_hotkey, parse_miner, ChainDirectory, Directory, GridModel, Miner, NetworkBackend,
        NetworkConfig, StaticDirectory, Subnet, SubnetKind,
    },
    config::Args,
    error::GatewayError,
    gate::GateRouter,
    keys::{Auth, RateLimiter},
    latency::LatencyMap,
    rank::Reference,
    server::{router, AppState},
    student::Student,
    Result,
};
use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};
use subtensor_axon::{AxonTarget, Dendrite};
use subtensor_client::Client;
use subtensor_model::TextTokenizer;
use subtensor_wallet::{Keypair, Wallet, WalletError};

/// How long `--offline` waits for a miner to name its hotkey.
const DISCOVERY_WAIT: Duration = Duration::from_secs(60);
/// How often the latency map is saved.
const SAVE_EVERY: Duration = Duration::from_secs(10);

/// Loads the wallet's hotkey (unlocked with `STCLI_PASSWORD` if encrypted).
pub fn load_hotkey(args: &Args) -> Result<Keypair> {
    let wallet = Wallet::new(&args.wallet_path, &args.wallet_name, &args.wallet_hotkey)?;
    Ok(wallet.hotkey(&mut || {
        std::env::var("STCLI_PASSWORD").map_err(|_| {
            WalletError::Password("the hotkey is encrypted: set STCLI_PASSWORD".to_owned())
        })
    })?)
}

/// Runs the gateway until SIGINT or SIGTERM.
pub async fn run(args: Args) -> Result<()> {
    args.check()?;
    let auth = match &args.api_keys {
        Some(path) => Auth::from_file(path)?,
        None => Auth::Open,
    };
    let limiter = RateLimiter::new(args.rate, args.burst)?;
    let hotkey = load_hotkey(&args)?;
    let dendrite = Dendrite::new(hotkey);
    let standard = args.tokenizer.as_deref().map(TextTokenizer::load).transpose()?;
    let grid = args.grid_model.as_deref().map(GridModel::load).transpose()?;
    let map = match &args.map_file {
        Some(path) => LatencyMap::load(path)?,
        None => LatencyMap::new(),
    };
    let addr = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| GatewayError::Config(format!("cannot listen on {addr}: {e}")))?;
    let reference = args.reference_model.as_deref().map(Reference::load).transpose()?;
    if let (Some(r), Some(t)) = (&reference, &standard) {
        r.check_vocab(t)?;
    }
    if let Some(dir) = &args.reference_model {
        tracing::info!("ranking heterogeneous answers by the reference model {}", dir.display());
    }
    let student = args.student.as_deref().map(Student::load).transpose()?;
    if let Some(s) = &student {
        tracing::info!("the student {} answers when no miner can", s.name());
    }
    let gate = match (&args.gate_model, &args.gate_file, &standard) {
        (Some(model), Some(file), Some(t)) => {
            let vocab = u32::try_from(t.vocab_size()).unwrap_or(u32::MAX);
            tracing::info!("routing heterogeneous requests by the gate in {}", file.display());
            Some(GateRouter::load(model, file.clone(), args.gate_exploration, vocab)?)
        }
        _ => None,
    };
    let config = NetworkConfig {
        timeout: args.timeout(),
        fan_out: args.fan_out,
        hedge: !args.no_hedge,
        reference,
        student,
        gate,
        ..NetworkConfig::default()
    };
    tracing::info!("signing queries as {}", dendrite.hotkey());
    if args.offline {
        let netuid = args.netuids.first().copied().unwrap_or(1);
        let kind = match (&grid, &standard) {
            (Some(g), _) => g.offline_kind(),
            (None, Some(_)) => SubnetKind::Seq2Seq,
            (None, None) => return Err(GatewayError::Config("no tokenizer".to_owned())),
        };
        let mut miners = Vec::new();
        for (i, spec) in args.miners.iter().enumerate() {
            let (addr, hotkey) = parse_miner(spec)?;
            let hotkey = match hotkey {
                Some(h) => h,
                None => discover(&dendrite, addr).await?,
            };
            tracing::info!("miner uid {i}: {hotkey} at {addr}");
            let uid = u16::try_from(i).unwrap_or(u16::MAX);
            miners.push(Miner { uid, target: AxonTarget { addr, hotkey }, incentive: 0.0 });
        }
        let directory = StaticDirectory::new(vec![Subnet { netuid, kind, miners }]);
        let backend = NetworkBackend::new(directory, dendrite, standard, grid, map, config);
        serve(listener, backend, auth, limiter, args.map_file.clone()).await
    } else {
        let client = Client::connect(&args.network).await?;
        let directory = Arc::new(ChainDirectory::new());
        let own = dendrite.hotkey().to_owned();
        let digest = grid.as_ref().map(|g| g.digest);
        let netuids = args.netuids.clone();
        directory.refresh(&client, &netuids, &own, standard.is_some(), digest).await?;
        for s in directory.subnets().iter() {
            tracing::info!(
                "subnet {}: model `{}`, {} miners",
                s.netuid,
                s.model_id(),
                s.miners.len()
            );
        }
        let refresher = directory.clone();
        let (have_standard, every) = (standard.is_some(), Duration::from_secs(args.refresh_secs));
        let url = args.network.clone();
        tokio::spawn(async move {
            let mut client = client;
            loop {
                tokio::time::sleep(every).await;
                let refreshed =
                    refresher.refresh(&client, &netuids, &own, have_standard, digest).await;
                if let Err(e) = refreshed {
                    tracing::warn!("metagraph refresh failed: {e}; reconnecting");
                    match Client::connect(&url).await {
                        Ok(c) => client = c,
                        Err(e) => tracing::warn!("cannot reconnect to {url}: {e}"),
                    }
                }
            }
        });
        let backend = NetworkBackend::new(directory, dendrite, standard, grid, map, config);
        serve(listener, backend, auth, limiter, args.map_file.clone()).await
    }
}

/// Asks a miner for its hotkey, retrying while it starts.
async fn discover(dendrite: &Dendrite, addr: SocketAddr) -> Result<String> {
    let started = std::time::Instant::now();
    loop {
        match discover_hotkey(dendrite, addr).await {
            Ok(h) => return Ok(h),
            Err(e) if started.elapsed() >= DISCOVERY_WAIT => return Err(e),
            Err(e) => {
                tracing::debug!("miner {addr}: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Serves `backend` on `listener` until a signal; saves the latency map periodically and at
/// the end.
async fn serve<D: Directory>(
    listener: tokio::net::TcpListener,
    backend: NetworkBackend<D>,
    auth: Auth,
    limiter: RateLimiter,
    map_file: Option<PathBuf>,
) -> Result<()> {
    let map = backend.latency_map().clone();
    if let Some(path) = map_file.clone() {
        let map = map.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SAVE_EVERY).await;
                if let Err(e) = map.save(&path) {
                    tracing::warn!("cannot save the latency map: {e}");
                }
            }
        });
    }
    let local = listener.local_addr().map_err(|e| GatewayError::Config(e.to_string()))?;
    let models = crate::backend::Backend::models(&backend);
    tracing::info!("listening on http://{local}/v1 (models: {})", models.join(", "));
    let app = router(Arc::new(AppState { backend, auth, limiter }));
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(subtensor_axon::axon::shutdown_signal())
        .await
        .map_err(|e| GatewayError::Config(format!("server: {e}")))?;
    if let Some(path) = &map_file {
        map.save(path)?;
        tracing::info!("latency map saved to {}", path.display());
    }
    tracing::info!("stopped");
    Ok(())
}
