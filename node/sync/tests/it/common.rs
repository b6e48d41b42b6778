//! Shared helpers: dev-genesis chains with one or two authorities, block authoring, nodes
//! running the sync over a `MemoryNetwork`, and polling.

use codec::Encode;
use sp_core::{sr25519, storage::Storage, Pair};
use sp_genesis_builder::DEV_RUNTIME_PRESET;
use sp_keyring::Sr25519Keyring;
use std::{future::Future, sync::Arc, time::Duration};
use subtensor_chain::{
    consensus, ChainApi, ChainWrite, Client, ClientConfig, Hash, ImportOutcome, MemoryDb, Pruning,
};
use subtensor_network_api::PeerId;
use subtensor_runtime::{Block, Header};
use subtensor_sync::{
    testing::MemoryNetwork, JustificationVerifier, Role, SyncConfig, SyncService,
};
use subtensor_txpool::{Pool, PoolConfig};

/// Slot duration of the test chains.
pub const SLOT_MS: u64 = 1_000;

/// The justification the fake verifier accepts.
pub const GOOD_JUSTIFICATION: &[u8] = b"good justification";

/// Accepts exactly [`GOOD_JUSTIFICATION`].
pub struct FakeVerifier;

impl JustificationVerifier for FakeVerifier {
    fn verify(&self, _: Hash, _: u32, justification: &[u8]) -> Result<(), String> {
        if justification == GOOD_JUSTIFICATION {
            Ok(())
        } else {
            Err("not the good justification".into())
        }
    }
}

/// The genesis storage of the runtime's dev preset.
pub fn dev_storage() -> Storage {
    subtensor_runtime::genesis_config_presets::preset_storage(DEV_RUNTIME_PRESET)
        .expect("dev preset builds")
}

/// The authorities: Alice alone, or Alice (even slots) and Bob (odd slots).
pub fn authorities(count: usize) -> Vec<sr25519::Pair> {
    [Sr25519Keyring::Alice.pair(), Sr25519Keyring::Bob.pair()].into_iter().take(count).collect()
}

/// A fresh in-memory chain with `count` authorities.
pub fn new_client(count: usize) -> Arc<Client> {
    new_client_with(count, dev_storage())
}

/// A fresh in-memory chain with `count` authorities on `storage`.
pub fn new_client_with(count: usize, storage: Storage) -> Arc<Client> {
    let config = ClientConfig {
        authorities: authorities(count).iter().map(|p| p.public()).collect(),
        slot_duration_ms: SLOT_MS,
        pruning: Pruning::Archive,
        trie_cache_bytes: 8 * 1024 * 1024,
    };
    Client::open(Arc::new(MemoryDb::new()), &storage, config).unwrap()
}

/// The slot of `hash` (0 for genesis).
pub fn slot_of(client: &Client, hash: Hash) -> u64 {
    let header = client.header(hash).unwrap().unwrap();
    consensus::slot_of(&header).unwrap().unwrap_or(0)
}

/// A block on `parent` in `slot`, sealed by `sealer` (the slot's author unless a test cheats).
pub fn block_on(client: &Client, parent: Hash, slot: u64, sealer: &sr25519::Pair) -> Block {
    let built = client.build_block(parent, slot * SLOT_MS + 1, &[]).unwrap();
    Block {
        header: consensus::seal(built.block.header, sealer),
        extrinsics: built.block.extrinsics,
    }
}

/// The author of `slot` among `count` authorities.
pub fn author_of(slot: u64, count: usize) -> sr25519::Pair {
    let keys = authorities(count);
    keys[(slot % count as u64) as usize].clone()
}

/// Import `block`, which must be new.
pub fn import(client: &Client, block: Block) -> Hash {
    match client.import_block(block).unwrap() {
        ImportOutcome::Imported { hash, .. } => hash,
        other => panic!("not imported: {other:?}"),
    }
}

/// Author `n` blocks on `parent`, each in the next slot whose author is among `mine` (indices
/// into the `count` authorities); returns the blocks.
pub fn extend_from(
    client: &Client,
    mut parent: Hash,
    n: usize,
    count: usize,
    mine: usize,
) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut slot = slot_of(client, parent);
    for _ in 0..n {
        slot += 1;
        while (slot % count as u64) as usize != mine {
            slot += 1;
        }
        let block = block_on(client, parent, slot, &author_of(slot, count));
        parent = import(client, block.clone());
        blocks.push(block);
    }
    blocks
}

/// Author `n` blocks on the best block of a one-authority chain.
pub fn extend(client: &Client, n: usize) -> Vec<Block> {
    extend_from(client, client.info().best_hash, n, 1, 0)
}

/// A 300-block one-authority chain, authored once for all tests (authoring is much slower
/// than importing).
pub fn shared_chain() -> &'static [Block] {
    static CHAIN: std::sync::OnceLock<Vec<Block>> = std::sync::OnceLock::new();
    CHAIN.get_or_init(|| extend(&new_client(1), 300))
}

/// A fresh one-authority chain holding the first `n` blocks of [`shared_chain`].
pub fn client_with(n: usize) -> Arc<Client> {
    let client = new_client(1);
    for block in &shared_chain()[..n] {
        import(&client, block.clone());
    }
    client
}

/// A node running the sync.
pub struct Node {
    pub id: PeerId,
    pub client: Arc<Client>,
    pub pool: Arc<Pool>,
    pub sync: SyncService,
}

/// The test settings: short timeouts and ticks.
pub fn config(role: Role) -> SyncConfig {
    let mut config = SyncConfig::new(role, SLOT_MS);
    config.request_timeout = Duration::from_secs(10);
    config.tick = Duration::from_millis(50);
    config.status_interval = Duration::from_millis(500);
    config
}

/// Start the sync for `client` as node `name` of `network`.
pub fn start(network: &MemoryNetwork, name: &str, client: Arc<Client>) -> Node {
    start_with(network, name, client, config(Role::Full))
}

/// [`start`] with `config`.
pub fn start_with(
    network: &MemoryNetwork,
    name: &str,
    client: Arc<Client>,
    config: SyncConfig,
) -> Node {
    let net = network.add_node(name);
    let pool = Arc::new(Pool::new(PoolConfig::default(), client.clone()));
    let sync = SyncService::start(
        net.clone(),
        client.clone(),
        pool.clone(),
        Arc::new(FakeVerifier),
        config,
    )
    .unwrap();
    Node { id: net.id(), client, pool, sync }
}

/// Poll `condition` every 20 ms until it holds; panic after `timeout`.
pub async fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !condition() {
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Poll an async `condition` (see [`wait_until`]).
#[allow(dead_code)]
pub async fn wait_until_async<F: Future<Output = bool>>(
    what: &str,
    timeout: Duration,
    mut condition: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !condition().await {
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The encoded announcement of `header`.
pub fn announcement(header: &Header) -> Vec<u8> {
    subtensor_sync::wire::BlockAnnounce { header: header.clone(), best: true }.encode()
}
