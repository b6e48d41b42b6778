//! Shared test harness: N nodes, each with its own in-memory chain, on one in-memory network.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, unreachable_pub, missing_docs)]

use sp_core::{ed25519, Pair as _, H256};
use sp_runtime::traits::Header as _;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use subtensor_finality::{
    start,
    test_utils::{InMemoryChain, TestNetwork, TestNetworkNode},
    AuthorityId, AuthoritySet, FinalityChain, FinalityConfig, FinalityHandle, Header,
};
use subtensor_network_api::{NetworkService, PeerId};
use tokio::task::JoinHandle;

/// The gossip duration T of the tests (prevote after 2T, precommit after 4T).
pub const GOSSIP: Duration = Duration::from_millis(100);

/// A logger printing `grandpa` lines to stderr when `RUST_LOG` is set (any value).
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Debug
    }
    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) && record.target() == "grandpa" {
            eprintln!("{:?} {} {}", std::time::SystemTime::now(), record.level(), record.args());
        }
    }
    fn flush(&self) {}
}

pub fn init_logging() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = log::set_logger(&StderrLogger);
        log::set_max_level(log::LevelFilter::Debug);
    }
}

/// The test key of authority `i`.
pub fn key(i: u8) -> ed25519::Pair {
    ed25519::Pair::from_seed(&[i.wrapping_add(1); 32])
}

/// The authority id of a key.
pub fn id(pair: &ed25519::Pair) -> AuthorityId {
    AuthorityId::from(pair.public())
}

pub struct Node {
    pub name: String,
    pub chain: Arc<InMemoryChain>,
    pub net: Arc<TestNetworkNode>,
    pub key: Option<ed25519::Pair>,
    pub handle: Option<Arc<FinalityHandle>>,
    pub task: Option<JoinHandle<()>>,
}

impl Node {
    pub fn peer(&self) -> PeerId {
        self.net.local_peer_id()
    }

    pub fn finalized(&self) -> u32 {
        self.chain.finalized().1
    }
}

pub struct Testbed {
    pub network: TestNetwork,
    pub nodes: Vec<Node>,
    pub set: AuthoritySet,
}

impl Testbed {
    /// `voters` authority nodes (keys 0..voters, weight 1 each) plus one node per entry of
    /// `others` (with that key, or none). Nothing is started.
    pub fn new(voters: u8, others: Vec<Option<ed25519::Pair>>) -> Self {
        init_logging();
        let network = TestNetwork::new();
        let set = AuthoritySet::genesis((0..voters).map(|i| (id(&key(i)), 1)).collect());
        let keys = (0..voters).map(|i| Some(key(i))).chain(others);
        let nodes = keys
            .enumerate()
            .map(|(i, key)| {
                let name = format!("node{i}");
                Node {
                    net: network.add_node(&name),
                    name,
                    chain: Arc::new(InMemoryChain::new()),
                    key,
                    handle: None,
                    task: None,
                }
            })
            .collect();
        Testbed { network, nodes, set }
    }

    pub fn config(&self, i: usize) -> FinalityConfig {
        let mut config = FinalityConfig::new(self.set.clone(), self.nodes[i].key, GOSSIP);
        config.name = self.nodes[i].name.clone();
        config
    }

    /// Start (or restart) node `i` with its chain (and so its persisted voter state).
    pub fn start(&mut self, i: usize) {
        let config = self.config(i);
        self.network.set_online(&self.nodes[i].peer(), true);
        let node = &mut self.nodes[i];
        let chain: Arc<dyn FinalityChain> = node.chain.clone();
        let network: Arc<dyn NetworkService> = node.net.clone();
        let (handle, task) = start(chain, network, config).expect("start");
        node.handle = Some(handle);
        node.task = Some(task);
    }

    pub fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.start(i);
        }
    }

    /// Stop node `i`'s gadget and take it off the network.
    pub async fn stop(&mut self, i: usize) {
        self.network.set_online(&self.nodes[i].peer(), false);
        if let Some(task) = self.nodes[i].task.take() {
            task.abort();
            let _ = task.await;
        }
        self.nodes[i].handle = None;
    }

    /// Import `headers` into every node's chain.
    pub fn import(&self, headers: &[Header]) {
        for node in &self.nodes {
            node.chain.import_all(headers).expect("import");
        }
    }

    /// Build `count` blocks on the best block of node 0 and import them everywhere.
    pub fn grow(&self, count: u32) -> Vec<Header> {
        let (hash, number) = self.nodes[0].chain.best();
        let built = self.nodes[0].chain.extend((hash, number), count, 0);
        self.import(&built);
        built
    }

    pub fn finalized(&self, nodes: &[usize]) -> Vec<u32> {
        nodes.iter().map(|i| self.nodes[*i].finalized()).collect()
    }

    /// Wait until every node of `nodes` finalized at least `number`.
    pub async fn wait_finalized(&self, nodes: &[usize], number: u32, timeout: Duration) -> bool {
        wait_until(timeout, || nodes.iter().all(|i| self.nodes[*i].finalized() >= number)).await
    }

    pub async fn shutdown(mut self) {
        for i in 0..self.nodes.len() {
            self.stop(i).await;
        }
    }
}

/// Poll `condition` every 20 ms until it holds or `timeout` passes.
pub async fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The hash and number of a header.
pub fn id_of(header: &Header) -> (H256, u32) {
    (header.hash(), *header.number())
}
