//! The running node: opens the database and the chain engine, starts the transaction pool, the
//! block author, the finality follower, the JSON-RPC server and the metrics endpoint, and stops
//! them all on SIGINT or SIGTERM.

mod authoring;
mod metrics;

pub use authoring::Sealing;
pub use subtensor_chain::ChainWrite;
pub use metrics::Metrics;

use crate::{
    chain_spec::{self, ChainSpec},
    error::{NodeError, NodeResult},
};
use sp_core::{ed25519, sr25519, Pair};
use std::{net::SocketAddr, path::PathBuf, sync::Arc};
use subtensor_chain::{ChainApi, Client, ClientConfig, ParityDb, Pruning};
use subtensor_rpc::{Cors, RpcDeps, SystemInfo};
use subtensor_txpool::{Pool, PoolConfig};

/// Everything the service needs to run.
pub struct ServiceConfig {
    /// The chain.
    pub spec: ChainSpec,
    /// The database directory.
    pub db_path: PathBuf,
    /// Where the JSON-RPC server listens.
    pub rpc_addr: SocketAddr,
    /// Its CORS policy.
    pub rpc_cors: Cors,
    /// Its connection limit.
    pub rpc_max_connections: u32,
    /// Block production.
    pub sealing: Sealing,
    /// Where the Prometheus endpoint listens, if anywhere.
    pub prometheus_addr: Option<SocketAddr>,
    /// Which states to keep.
    pub pruning: Pruning,
    /// The authority keys, if this node authors blocks and votes.
    pub author: Option<AuthorityKeypair>,
    /// Milliseconds per slot.
    pub slot_duration_ms: u64,
    /// The node's name (`system_name`).
    pub node_name: String,
}

/// An authority's key pairs.
#[derive(Clone)]
pub struct AuthorityKeypair {
    /// Aura (block sealing).
    pub aura: sr25519::Pair,
    /// GRANDPA (finality votes).
    pub grandpa: ed25519::Pair,
}

impl AuthorityKeypair {
    /// Both keys from one secret URI (mnemonic, hex seed or `//Dev` path), as Substrate's
    /// development keys are derived.
    pub fn from_suri(suri: &str) -> NodeResult<Self> {
        Ok(Self {
            aura: sr25519::Pair::from_string(suri, None)
                .map_err(|e| NodeError::InvalidArgument(format!("authority key: {e:?}")))?,
            grandpa: ed25519::Pair::from_string(suri, None)
                .map_err(|e| NodeError::InvalidArgument(format!("authority key: {e:?}")))?,
        })
    }
}

/// Open the chain engine of `spec` on the parity-db database at `db_path`, with `slot_duration_ms`
/// slots.
pub fn open_client(
    spec: &ChainSpec,
    db_path: &std::path::Path,
    pruning: Pruning,
    slot_duration_ms: u64,
) -> NodeResult<Arc<Client>> {
    std::fs::create_dir_all(db_path)
        .map_err(|e| NodeError::io(format!("creating {}", db_path.display()), e))?;
    let db = Arc::new(ParityDb::open(db_path)?);
    let genesis = spec.genesis_storage()?;
    let mut config = ClientConfig::new(spec.aura_authorities()?);
    config.slot_duration_ms = slot_duration_ms;
    config.pruning = pruning;
    Ok(Client::open(db, &genesis, config)?)
}

fn system_info(spec: &ChainSpec, node_name: &str) -> SystemInfo {
    SystemInfo {
        name: node_name.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        chain_name: spec.name.clone(),
        chain_type: match spec.chain_type {
            chain_spec::ChainType::Development => subtensor_rpc::ChainType::Development,
            chain_spec::ChainType::Local => subtensor_rpc::ChainType::Local,
            chain_spec::ChainType::Live => subtensor_rpc::ChainType::Live,
        },
        properties: spec.properties.clone(),
    }
}

/// Run the node until SIGINT or SIGTERM.
pub async fn run(config: ServiceConfig) -> NodeResult<()> {
    let client =
        open_client(&config.spec, &config.db_path, config.pruning, config.slot_duration_ms)?;
    let authorities = config.spec.authorities()?;
    let info = client.info();
    log::info!(
        target: "node",
        "🔗 {} ({}), genesis {:?}, best #{} {:?}, finalized #{}",
        config.spec.name,
        config.spec.id,
        info.genesis_hash,
        info.best_number,
        info.best_hash,
        info.finalized_number,
    );
    log::info!(target: "node", "💾 database at {}", config.db_path.display());

    let chain: Arc<dyn ChainApi> = client.clone();
    let pool = Arc::new(Pool::new(PoolConfig::default(), chain.clone()));
    let metrics = Arc::new(Metrics::default());
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(subtensor_txpool::maintain(pool.clone()));

    let module = subtensor_rpc::rpc_module(RpcDeps {
        chain: chain.clone(),
        pool: pool.clone(),
        system: system_info(&config.spec, &config.node_name),
    })
    .map_err(|e| NodeError::Rpc(e.to_string()))?;
    let server = subtensor_rpc::start_server(
        config.rpc_addr,
        config.rpc_cors.clone(),
        config.rpc_max_connections,
        module,
        metrics.rpc.clone(),
    )
    .await
    .map_err(|e| NodeError::Rpc(e.to_string()))?;
    log::info!(target: "node", "📡 JSON-RPC (HTTP and WebSocket) on {}", server.local_addr);

    if let Some(addr) = config.prometheus_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| NodeError::io(format!("binding the Prometheus port {addr}"), e))?;
        log::info!(target: "node", "📊 Prometheus metrics on http://{addr}/metrics");
        tasks.spawn(metrics::serve(listener, metrics.clone(), client.clone(), pool.clone()));
    }

    let is_authority = |keys: &AuthorityKeypair| authorities.iter().any(|a| a.aura == keys.aura.public());
    match (&config.author, &config.sealing) {
        (Some(keys), sealing) if *sealing != Sealing::Manual && is_authority(keys) => {
            log::info!(
                target: "node",
                "⛏  authoring blocks as one of {} authorities ({sealing}, {} ms slots)",
                authorities.len(),
                config.slot_duration_ms
            );
            tasks.spawn(authoring::run(
                client.clone(),
                pool.clone(),
                authoring::Author {
                    key: keys.aura.clone(),
                    sealing: sealing.clone(),
                    metrics: metrics.clone(),
                    announce: Arc::new(|_| {}),
                    major_syncing: Arc::new(|| false),
                    self_finalize: authorities.len() == 1,
                },
            ));
        }
        (Some(keys), _) if !is_authority(keys) => log::warn!(
            target: "node",
            "the key {} is not an authority of this chain: following only",
            keys.aura.public()
        ),
        (Some(_), _) => log::info!(target: "node", "manual sealing: no blocks are authored"),
        (None, _) => log::info!(target: "node", "no authority key: this node does not author"),
    }

    shutdown_signal().await;
    log::info!(target: "node", "shutting down");
    let _ = server.handle.stop();
    tasks.shutdown().await;
    let info = client.info();
    log::info!(target: "node", "stopped at best #{} {:?}", info.best_number, info.best_hash);
    Ok(())
}

/// Wait for SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
