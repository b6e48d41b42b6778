//! Prometheus metrics: best and finalized height, pool sizes, block authoring time and JSON-RPC
//! calls, served on `GET /metrics` in the text exposition format.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};
use subtensor_chain::{ChainApi, Client};
use subtensor_txpool::Pool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Counters the node updates as it works.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Counters of the JSON-RPC server.
    pub rpc: Arc<subtensor_rpc::RpcMetrics>,
    blocks_authored: AtomicU64,
    authoring_micros: AtomicU64,
}

impl Metrics {
    /// Record one authored block (build, seal and import) that took `elapsed`.
    pub fn observe_block(&self, elapsed: Duration) {
        self.blocks_authored.fetch_add(1, Ordering::Relaxed);
        self.authoring_micros
            .fetch_add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The exposition text of the network, sync and finality (Substrate's metric names).
    fn render_network(peers: &PeerSources) -> String {
        let net = peers.network.metrics().snapshot();
        let state = peers.sync.state();
        let round = peers.grandpa.as_ref().map_or(0, |g| g.current_round());
        format!(
            "# HELP substrate_sub_libp2p_peers_count Connected peers of this chain.\n\
             # TYPE substrate_sub_libp2p_peers_count gauge\n\
             substrate_sub_libp2p_peers_count {}\n\
             # HELP substrate_sync_peers Peers whose chain status is known.\n\
             # TYPE substrate_sync_peers gauge\n\
             substrate_sync_peers {}\n\
             # HELP substrate_block_height Block height info of the chain.\n\
             # TYPE substrate_block_height gauge\n\
             substrate_block_height{{status=\"best\"}} {}\n\
             substrate_block_height{{status=\"finalized\"}} {}\n\
             substrate_block_height{{status=\"sync_target\"}} {}\n\
             # HELP substrate_sub_libp2p_connections_opened_total Connections opened.\n\
             # TYPE substrate_sub_libp2p_connections_opened_total counter\n\
             substrate_sub_libp2p_connections_opened_total {}\n\
             # HELP substrate_sub_libp2p_connections_closed_total Connections closed.\n\
             # TYPE substrate_sub_libp2p_connections_closed_total counter\n\
             substrate_sub_libp2p_connections_closed_total {}\n\
             # HELP subtensor_sync_blocks_imported_total Blocks imported from the network.\n\
             # TYPE subtensor_sync_blocks_imported_total counter\n\
             subtensor_sync_blocks_imported_total {}\n\
             # HELP subtensor_chain_reorgs_total Best-chain switches that retracted blocks.\n\
             # TYPE subtensor_chain_reorgs_total counter\n\
             subtensor_chain_reorgs_total {}\n\
             # HELP subtensor_network_banned_peers Peers banned now.\n\
             # TYPE subtensor_network_banned_peers gauge\n\
             subtensor_network_banned_peers {}\n\
             # HELP substrate_finality_grandpa_round The GRANDPA round.\n\
             # TYPE substrate_finality_grandpa_round gauge\n\
             substrate_finality_grandpa_round {}\n",
            net.peers,
            peers.sync.peers().len(),
            state.current_block,
            peers.client.info().finalized_number,
            state.highest_block,
            net.connections_opened_total,
            net.connections_closed_total,
            peers.sync.blocks_imported_from_network(),
            peers.client.reorg_count(),
            net.banned_peers,
            round,
        )
    }

    /// The exposition text.
    pub fn render(&self, client: &Client, pool: &Pool) -> String {
        let info = client.info();
        let status = pool.status();
        let micros = self.authoring_micros.load(Ordering::Relaxed);
        format!(
            "# HELP subtensor_block_height Block height of the best and finalized blocks.\n\
             # TYPE subtensor_block_height gauge\n\
             subtensor_block_height{{status=\"best\"}} {}\n\
             subtensor_block_height{{status=\"finalized\"}} {}\n\
             # HELP subtensor_txpool_ready Transactions ready for the next block.\n\
             # TYPE subtensor_txpool_ready gauge\n\
             subtensor_txpool_ready {}\n\
             # HELP subtensor_txpool_future Transactions waiting for an earlier one.\n\
             # TYPE subtensor_txpool_future gauge\n\
             subtensor_txpool_future {}\n\
             # HELP subtensor_block_authoring_seconds Time to build, seal and import a block.\n\
             # TYPE subtensor_block_authoring_seconds summary\n\
             subtensor_block_authoring_seconds_sum {}\n\
             subtensor_block_authoring_seconds_count {}\n\
             # HELP subtensor_rpc_requests_total JSON-RPC calls received.\n\
             # TYPE subtensor_rpc_requests_total counter\n\
             subtensor_rpc_requests_total {}\n",
            info.best_number,
            info.finalized_number,
            status.ready,
            status.future,
            micros as f64 / 1e6,
            self.blocks_authored.load(Ordering::Relaxed),
            self.rpc.requests(),
        )
    }
}

/// What the network metrics are read from.
pub(super) struct PeerSources {
    /// The chain.
    pub client: Arc<Client>,
    /// The libp2p network.
    pub network: Arc<subtensor_network::Network>,
    /// The sync's status.
    pub sync: subtensor_sync::SyncStatus,
    /// GRANDPA, when the chain runs it.
    pub grandpa: Option<Arc<subtensor_finality::FinalityHandle>>,
}

/// Answer `GET /metrics` (any path) on `listener` until the task is cancelled.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    client: Arc<Client>,
    pool: Arc<Pool>,
    peers: PeerSources,
) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { continue };
        let mut body = metrics.render(&client, &pool);
        body.push_str(&Metrics::render_network(&peers));
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            // Read the request head (bounded); the answer does not depend on it.
            let _ = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                body.len(),
                body
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}
