//! The running node: opens the database and the chain engine, starts the transaction pool, the
//! block author, the finality follower, the JSON-RPC server and the metrics endpoint, and stops
//! them all on SIGINT or SIGTERM.

mod authoring;
pub mod finality;
mod metrics;
pub mod network;

pub use authoring::Sealing;
pub use metrics::Metrics;
pub use subtensor_chain::ChainWrite;

use crate::{
    chain_spec::{self, ChainSpec},
    error::{NodeError, NodeResult},
};
use sp_core::{ed25519, sr25519, Pair};
use std::{net::SocketAddr, path::PathBuf, sync::Arc};
use subtensor_chain::{ChainApi, Client, ClientConfig, ParityDb, Pruning};
use subtensor_finality::FinalityConfig;
use subtensor_network_api::NetworkService;
use subtensor_rpc::{Cors, RpcDeps, SystemInfo};
use subtensor_sync::{JustificationVerifier, Role, SyncConfig, SyncService, SyncStatusProvider};
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
    /// Whether unsafe RPC methods may be called.
    pub rpc_unsafe: bool,
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
    /// Peer-to-peer settings.
    pub network: network::NetworkSettings,
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

    // Peers, sync and finality.
    let is_authority = config
        .author
        .as_ref()
        .is_some_and(|keys| authorities.iter().any(|a| a.aura == keys.aura.public()));
    let (net, network_task) = network::start(&config.network, info.genesis_hash.as_bytes())?;
    let net_api: Arc<dyn NetworkService> = net.clone();
    let grandpa_keys: Vec<ed25519::Public> = authorities.iter().filter_map(|a| a.grandpa).collect();
    // One authority finalizes its own blocks; several vote with GRANDPA.
    let has_grandpa_keys = !grandpa_keys.is_empty() && grandpa_keys.len() == authorities.len();
    if authorities.len() > 1 && !has_grandpa_keys {
        return Err(NodeError::Network(format!(
            "{} block authorities but not every one has a GRANDPA key: nothing could ever be \
             finalized",
            authorities.len()
        )));
    }
    let grandpa_set =
        (authorities.len() > 1 && has_grandpa_keys).then(|| finality::authority_set(&grandpa_keys));
    // Justifications received with blocks are checked against the GRANDPA set, also on a
    // single-authority chain (its author signs one-voter justifications).
    let verifier: Arc<dyn JustificationVerifier> = if has_grandpa_keys {
        Arc::new(finality::GrandpaVerifier { set: finality::authority_set(&grandpa_keys) })
    } else {
        Arc::new(finality::NoFinality)
    };
    let role = if is_authority { Role::Authority } else { Role::Full };
    let sync = Arc::new(
        SyncService::start(
            net_api.clone(),
            client.clone(),
            pool.clone(),
            verifier,
            SyncConfig {
                authorities: client.config().authorities.clone(),
                ..SyncConfig::new(role, config.slot_duration_ms)
            },
        )
        .map_err(|e| NodeError::Network(e.to_string()))?,
    );
    let sync_status: Arc<dyn SyncStatusProvider> = Arc::new(sync.status());
    let grandpa = match grandpa_set {
        Some(set) => {
            // Gossip time estimate: a third of the slot (a round prevotes after 2T).
            let gossip = std::time::Duration::from_millis((config.slot_duration_ms / 3).max(100));
            let mut finality_config = FinalityConfig::new(
                set,
                config.author.as_ref().filter(|_| is_authority).map(|k| k.grandpa),
                gossip,
            );
            finality_config.name = config.node_name.clone();
            let (handle, task) = subtensor_finality::start(
                finality::EngineChain::new(client.clone()),
                net_api.clone(),
                finality_config,
            )
            .map_err(|e| NodeError::Network(format!("GRANDPA: {e}")))?;
            Some((handle, task))
        }
        None => None,
    };
    let network_rpc: Arc<dyn subtensor_rpc::NetworkRpcApi> = Arc::new(network::NetworkRpc {
        network: net_api.clone(),
        sync: sync_status.clone(),
        authority: is_authority,
        should_have_peers: authorities.len() > 1 || !config.network.boot_nodes.is_empty(),
    });
    let grandpa_rpc = grandpa.as_ref().map(|(handle, _)| {
        Arc::new(finality::GrandpaRpc(handle.clone())) as Arc<dyn subtensor_rpc::GrandpaRpcApi>
    });

    let module = subtensor_rpc::rpc_module(RpcDeps {
        chain: chain.clone(),
        pool: pool.clone(),
        system: system_info(&config.spec, &config.node_name),
        network: Some(network_rpc),
        grandpa: grandpa_rpc,
        unsafe_methods: config.rpc_unsafe,
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
        let peers = metrics::PeerSources {
            client: client.clone(),
            network: net.clone(),
            sync: sync.status(),
            grandpa: grandpa.as_ref().map(|(handle, _)| handle.clone()),
        };
        tasks.spawn(metrics::serve(listener, metrics.clone(), client.clone(), pool.clone(), peers));
    }

    match (&config.author, &config.sealing) {
        (Some(keys), sealing) if *sealing != Sealing::Manual && is_authority => {
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
                    announce: {
                        let sync = sync.clone();
                        Arc::new(move |header| sync.announce(header))
                    },
                    major_syncing: {
                        let status = sync_status.clone();
                        Arc::new(move || status.is_major_syncing())
                    },
                    self_finalize: authorities.len() == 1,
                    finality_key: has_grandpa_keys.then_some(keys.grandpa),
                },
            ));
        }
        (Some(keys), _) if !is_authority => log::warn!(
            target: "node",
            "the key {} is not an authority of this chain: following only",
            keys.aura.public()
        ),
        (Some(_), _) => log::info!(target: "node", "manual sealing: no blocks are authored"),
        (None, _) => log::info!(target: "node", "no authority key: this node does not author"),
    }

    // Every task is essential: one that ends (or panics) stops the node with an error rather
    // than leaving it up without, say, its network or its author.
    let mut network_task = network_task;
    let mut grandpa = grandpa;
    let grandpa_task = async {
        match grandpa.as_mut() {
            Some((_, task)) => task.await,
            None => std::future::pending().await,
        }
    };
    let failure = tokio::select! {
        _ = shutdown_signal() => None,
        Some(done) = tasks.join_next() => Some(format!("a node task ended: {done:?}")),
        done = &mut network_task => Some(format!("the network task ended: {done:?}")),
        done = grandpa_task => Some(format!("the GRANDPA task ended: {done:?}")),
    };
    match &failure {
        None => log::info!(target: "node", "shutting down"),
        Some(why) => log::error!(target: "node", "{why}; shutting down"),
    }
    let _ = server.handle.stop();
    tasks.shutdown().await;
    if let Some((_, task)) = grandpa {
        task.abort();
    }
    drop(sync);
    network_task.abort();
    let info = client.info();
    log::info!(target: "node", "stopped at best #{} {:?}", info.best_number, info.best_hash);
    match failure {
        None => Ok(()),
        Some(why) => Err(NodeError::Network(why)),
    }
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
