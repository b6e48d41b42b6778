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

/// Answer `GET /metrics` (any path) on `listener` until the task is cancelled.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    client: Arc<Client>,
    pool: Arc<Pool>,
) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { continue };
        let body = metrics.render(&client, &pool);
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
