//! The [`Client`]: the engine behind [`ChainApi`] and [`ChainWrite`].
//!
//! It owns the database handle, opens states at block hashes, runs runtime calls, builds
//! blocks (module `builder`), imports and finalizes them (module `import`), and broadcasts
//! [`ChainEvent`]s. Reads run concurrently from any thread; imports and finality updates are
//! serialised by one lock and each ends in a single atomic database commit.

mod builder;
mod finality;
mod import;

use crate::{
    api::{
        BuiltBlock, ChainApi, ChainError, ChainEvent, ChainInfo, ChainResult, ChainWrite, Hash,
        ImportOutcome,
    },
    db::{meta_keys, number_key, Column, Database, Transaction, DB_VERSION},
    executor, genesis,
    pruning::Pruning,
    state::{NodeChanges, State, StateFactory},
    tree::BlockTree,
    verify,
};
use codec::{Decode, Encode};
use parking_lot::{Mutex, RwLock};
use sp_core::{sr25519, storage::Storage};
use sp_state_machine::{Backend, IterArgs};
use std::{collections::VecDeque, sync::Arc};
use subtensor_runtime::{Block, BlockNumber, Header, UncheckedExtrinsic};
use tokio::sync::broadcast;

/// How many subscribers' events may queue before the slowest ones lag.
const EVENT_CAPACITY: usize = 1024;
/// How many built-but-not-imported blocks keep their computed state changes.
const PREPARED_CAPACITY: usize = 8;

/// The settings of a [`Client`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The Aura authorities: the author of slot `s` is `authorities[s % n]`, and every imported
    /// block must carry its slot's author's seal.
    pub authorities: Vec<sr25519::Public>,
    /// Milliseconds per slot: a block's slot is its timestamp divided by this.
    pub slot_duration_ms: u64,
    /// Which historical states are kept.
    pub pruning: Pruning,
    /// Size in bytes of the in-memory cache of trie nodes and values shared by all states.
    pub trie_cache_bytes: usize,
}

impl ClientConfig {
    /// Default settings for `authorities`: 12 s slots (as mainnet), archive, 64 MiB cache.
    pub fn new(authorities: Vec<sr25519::Public>) -> Self {
        Self {
            authorities,
            slot_duration_ms: subtensor_runtime::MILLISECS_PER_BLOCK,
            pruning: Pruning::Archive,
            trie_cache_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The state changes of a block built here, kept so that importing it needs no second
/// execution.
struct Prepared {
    /// Hash of the unsealed header.
    pre_hash: Hash,
    /// Trie node changes of the block.
    changes: NodeChanges,
}

/// The chain engine.
pub struct Client {
    db: Arc<dyn Database>,
    states: StateFactory,
    config: ClientConfig,
    /// The heads, updated after each commit.
    info: RwLock<ChainInfo>,
    /// Lowest block number whose state is still stored.
    pruned_below: RwLock<BlockNumber>,
    /// The unfinalized blocks; changed only under `write_lock`, after the commit.
    tree: RwLock<BlockTree>,
    /// Serialises imports and finality updates.
    write_lock: Mutex<()>,
    /// Changes of recently built blocks, newest last.
    prepared: Mutex<VecDeque<Prepared>>,
    events: broadcast::Sender<ChainEvent>,
    /// How many times the best chain switched away from the previous best block.
    reorgs: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("info", &*self.info.read())
            .finish_non_exhaustive()
    }
}

fn decode<T: Decode>(raw: &[u8], what: &str) -> ChainResult<T> {
    T::decode(&mut &raw[..]).map_err(|e| ChainError::Database(format!("corrupt {what}: {e}")))
}

fn decode_hash(raw: &[u8], what: &str) -> ChainResult<Hash> {
    if raw.len() == 32 {
        Ok(Hash::from_slice(raw))
    } else {
        Err(ChainError::Database(format!("corrupt {what}: {} bytes", raw.len())))
    }
}

impl Client {
    /// Open the chain in `db`: write the genesis block built from `genesis` if the database is
    /// empty, otherwise check that it holds that chain and resume from its stored heads.
    pub fn open(
        db: Arc<dyn Database>,
        genesis: &Storage,
        config: ClientConfig,
    ) -> ChainResult<Arc<Self>> {
        if config.authorities.is_empty() {
            return Err(ChainError::Config("the chain has no block authorities".into()));
        }
        let built = genesis::build(genesis);
        match db.get(Column::Meta, meta_keys::GENESIS)? {
            None => db.commit(genesis::write(&built, config.pruning, config.slot_duration_ms))?,
            Some(raw) => {
                genesis::check(decode_hash(&raw, "genesis hash")?, &built)?;
                let stored = match db.get(Column::Meta, meta_keys::PRUNING)? {
                    Some(raw) => decode::<Pruning>(&raw, "pruning mode")?,
                    None => Pruning::Archive,
                };
                if !config.pruning.compatible_with(stored) {
                    return Err(ChainError::Config(format!(
                        "the database was created with pruning {stored:?}, not {:?}",
                        config.pruning
                    )));
                }
                let version = match db.get(Column::Meta, meta_keys::DB_VERSION)? {
                    Some(raw) => decode::<u32>(&raw, "database version")?,
                    None => 1,
                };
                let mut tx = Transaction::new();
                if version == 1 {
                    // Version 1 kept number-keyed journals only when pruning.
                    if stored != Pruning::Archive {
                        return Err(ChainError::Config(
                            "this pruned database was written by an older node (format 1); \
                             purge it (purge-chain) or export and re-import its blocks"
                                .into(),
                        ));
                    }
                    log::info!(target: "chain", "upgrading the database to format {DB_VERSION}");
                    tx.set(Column::Meta, meta_keys::DB_VERSION.to_vec(), DB_VERSION.encode());
                } else if version != DB_VERSION {
                    return Err(ChainError::Config(format!(
                        "the database has format {version}; this node reads format {DB_VERSION}"
                    )));
                }
                if stored != config.pruning {
                    tx.set(Column::Meta, meta_keys::PRUNING.to_vec(), config.pruning.encode());
                }
                match db.get(Column::Meta, meta_keys::SLOT_DURATION)? {
                    Some(raw) => {
                        let stored = decode::<u64>(&raw, "slot duration")?;
                        if stored != config.slot_duration_ms {
                            return Err(ChainError::Config(format!(
                                "the chain was created with {stored} ms slots, not {} ms \
                                 (every node and every run of one chain needs the same slot \
                                 duration)",
                                config.slot_duration_ms
                            )));
                        }
                    }
                    None => tx.set(
                        Column::Meta,
                        meta_keys::SLOT_DURATION.to_vec(),
                        config.slot_duration_ms.encode(),
                    ),
                }
                if !tx.is_empty() {
                    db.commit(tx)?;
                }
            }
        }
        let head = |key: &[u8]| -> ChainResult<(Hash, BlockNumber)> {
            let raw = db
                .get(Column::Meta, key)?
                .ok_or_else(|| ChainError::Database("missing chain head".into()))?;
            let hash = decode_hash(&raw, "chain head")?;
            let raw = db
                .get(Column::Headers, hash.as_bytes())?
                .ok_or_else(|| ChainError::Database(format!("missing header of head {hash:?}")))?;
            Ok((hash, decode::<Header>(&raw, "header")?.number))
        };
        let (best_hash, best_number) = head(meta_keys::BEST)?;
        let (finalized_hash, finalized_number) = head(meta_keys::FINALIZED)?;
        let pruned_below = match db.get(Column::Meta, meta_keys::PRUNED_BELOW)? {
            Some(raw) => decode::<BlockNumber>(&raw, "pruning bound")?,
            None => 0,
        };
        let tree = load_tree(db.as_ref(), finalized_hash, finalized_number, best_hash)?;
        let info = ChainInfo {
            genesis_hash: built.hash,
            best_hash,
            best_number,
            finalized_hash,
            finalized_number,
        };
        log::info!(
            target: "chain",
            "opened chain {:?}: best #{best_number} {best_hash:?}, finalized #{finalized_number}",
            built.hash
        );
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Ok(Arc::new(Self {
            states: StateFactory::new(db.clone(), config.trie_cache_bytes),
            db,
            config,
            info: RwLock::new(info),
            pruned_below: RwLock::new(pruned_below),
            tree: RwLock::new(tree),
            write_lock: Mutex::new(()),
            prepared: Mutex::new(VecDeque::new()),
            events,
            reorgs: std::sync::atomic::AtomicU64::new(0),
        }))
    }

    /// The settings the client was opened with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The database.
    pub fn database(&self) -> &Arc<dyn Database> {
        &self.db
    }

    /// The lowest block number whose state is still readable.
    pub fn pruned_below(&self) -> BlockNumber {
        *self.pruned_below.read()
    }

    /// The header of `hash`, or [`ChainError::UnknownBlock`].
    pub fn expect_header(&self, hash: Hash) -> ChainResult<Header> {
        self.header(hash)?.ok_or(ChainError::UnknownBlock(hash))
    }

    /// The state after block `hash`, or [`ChainError::StatePruned`] if it is no longer stored.
    pub fn state_at(&self, hash: Hash) -> ChainResult<State> {
        let header = self.expect_header(hash)?;
        self.state_of(hash, &header, false)
    }

    /// Run `f` on the state after block `at`. An error of `f` becomes
    /// [`ChainError::StatePruned`] if the state was pruned while `f` ran (its nodes may have
    /// been deleted under it).
    fn with_state<T>(&self, at: Hash, f: impl FnOnce(&State) -> ChainResult<T>) -> ChainResult<T> {
        let header = self.expect_header(at)?;
        let state = self.state_of(at, &header, false)?;
        f(&state).map_err(|e| {
            if header.number < self.pruned_below() {
                ChainError::StatePruned(at)
            } else {
                e
            }
        })
    }

    /// The state after `header` (whose hash is `hash`); `trusted` for block building and import.
    fn state_of(&self, hash: Hash, header: &Header, trusted: bool) -> ChainResult<State> {
        if header.number < self.pruned_below() {
            return Err(ChainError::StatePruned(hash));
        }
        Ok(if trusted {
            self.states.at_trusted(header.state_root)
        } else {
            self.states.at(header.state_root)
        })
    }

    /// Re-execute every stored block from genesis on a fresh in-memory state and compare each
    /// stored header's state root; see [`verify::verify_chain`].
    pub fn verify_chain(&self, genesis: &Storage) -> ChainResult<verify::VerifyReport> {
        verify::verify_chain(self.db.as_ref(), genesis, &self.config.authorities)
    }

    /// The best block among those descending from `base` (the finalized block or an unfinalized
    /// one): the longest such chain's head, the first seen among equals; `None` if `base` is
    /// unknown, or finalized but not the last finalized block.
    pub fn best_containing(&self, base: Hash) -> Option<(Hash, BlockNumber)> {
        self.tree.read().best_containing(base)
    }

    /// How many reorgs (best-chain switches that retracted blocks) happened since the client
    /// was opened.
    pub fn reorg_count(&self) -> u64 {
        self.reorgs.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count_reorg(&self) {
        self.reorgs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn send(&self, event: ChainEvent) {
        // An error only means that nobody listens.
        let _ = self.events.send(event);
    }
}

impl ChainApi for Client {
    fn info(&self) -> ChainInfo {
        *self.info.read()
    }

    fn header(&self, hash: Hash) -> ChainResult<Option<Header>> {
        match self.db.get(Column::Headers, hash.as_bytes())? {
            Some(raw) => Ok(Some(decode(&raw, "header")?)),
            None => Ok(None),
        }
    }

    fn block(&self, hash: Hash) -> ChainResult<Option<Block>> {
        let Some(header) = self.header(hash)? else { return Ok(None) };
        let raw = self
            .db
            .get(Column::Bodies, hash.as_bytes())?
            .ok_or_else(|| ChainError::Database(format!("missing body of {hash:?}")))?;
        let extrinsics: Vec<UncheckedExtrinsic> = decode(&raw, "block body")?;
        Ok(Some(Block { header, extrinsics }))
    }

    fn hash(&self, number: BlockNumber) -> ChainResult<Option<Hash>> {
        if number > self.info.read().best_number {
            return Ok(None);
        }
        match self.db.get(Column::NumberToHash, &number_key(number))? {
            Some(raw) => Ok(Some(decode_hash(&raw, "number index")?)),
            None => Ok(None),
        }
    }

    fn storage(&self, at: Hash, key: &[u8]) -> ChainResult<Option<Vec<u8>>> {
        self.with_state(at, |state| crate::state::read(state, key))
    }

    fn storage_keys(
        &self,
        at: Hash,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        count: u32,
    ) -> ChainResult<Vec<Vec<u8>>> {
        let mut args = IterArgs::default();
        args.prefix = Some(prefix);
        match start_after {
            // Every key with the prefix comes after a start key that sorts before the prefix.
            Some(start) if start < prefix => {}
            Some(start) if start.starts_with(prefix) => {
                args.start_at = Some(start);
                args.start_at_exclusive = true;
            }
            // A start key after the prefix and not starting with it sorts after every key with
            // the prefix.
            Some(_) => return Ok(Vec::new()),
            None => {}
        }
        let limit = usize::try_from(count).unwrap_or(usize::MAX);
        self.with_state(at, |state| {
            let mut keys = Vec::new();
            for key in state.keys(args).map_err(ChainError::Database)? {
                if keys.len() >= limit {
                    break;
                }
                keys.push(key.map_err(ChainError::Database)?);
            }
            Ok(keys)
        })
    }

    fn call(&self, at: Hash, method: &str, args: &[u8]) -> ChainResult<Vec<u8>> {
        self.with_state(at, |state| executor::call_read_only(state, method, args))
    }

    fn runtime_version(&self, at: Hash) -> ChainResult<sp_version::RuntimeVersion> {
        let raw = self.call(at, "Core_version", &[])?;
        sp_version::RuntimeVersion::decode(&mut &raw[..])
            .map_err(|e| ChainError::Decode(format!("Core_version: {e}")))
    }

    fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }

    fn leaves(&self) -> Vec<Hash> {
        self.tree.read().leaves().iter().map(|(hash, _)| *hash).collect()
    }

    fn justification(&self, hash: Hash) -> ChainResult<Option<Vec<u8>>> {
        self.db.get(Column::Meta, &meta_keys::justification(hash.as_bytes()))
    }
}

/// Rebuild the block tree from the stored leaves (walking each back to the finalized block);
/// a database without stored leaves (format 1) has the best block as its only leaf.
fn load_tree(
    db: &dyn Database,
    finalized: Hash,
    finalized_number: BlockNumber,
    best: Hash,
) -> ChainResult<BlockTree> {
    let leaves: Vec<Hash> = match db.get(Column::Meta, meta_keys::LEAVES)? {
        Some(raw) => decode(&raw, "leaves")?,
        None => vec![best],
    };
    let mut tree = BlockTree::new(finalized, finalized_number);
    for leaf in leaves {
        // The chain from the leaf down to the tree, then inserted parents first.
        let mut chain = Vec::new();
        let mut current = leaf;
        while !tree.contains(&current) {
            let raw = db
                .get(Column::Headers, current.as_bytes())?
                .ok_or_else(|| ChainError::Database(format!("missing header of {current:?}")))?;
            let header: Header = decode(&raw, "header")?;
            if header.number <= finalized_number {
                return Err(ChainError::Database(format!(
                    "leaf {leaf:?} does not descend from the finalized block"
                )));
            }
            chain.push((current, header.number, header.parent_hash));
            current = header.parent_hash;
        }
        for (hash, number, parent) in chain.into_iter().rev() {
            tree.insert(hash, number, parent);
        }
    }
    Ok(tree)
}

impl ChainWrite for Client {
    fn build_block_until(
        &self,
        parent: Hash,
        timestamp_ms: u64,
        candidates: &[UncheckedExtrinsic],
        deadline: Option<std::time::Instant>,
    ) -> ChainResult<BuiltBlock> {
        builder::build_block(self, parent, timestamp_ms, candidates, deadline)
    }

    fn import_block(&self, block: Block) -> ChainResult<ImportOutcome> {
        import::import_block(self, block, None)
    }

    fn import_authored_block(&self, block: Block, slot: u64) -> ChainResult<ImportOutcome> {
        import::import_block(self, block, Some(slot))
    }

    fn last_authored_slot(&self) -> ChainResult<Option<u64>> {
        match self.db.get(Column::Meta, meta_keys::LAST_AUTHORED_SLOT)? {
            Some(raw) => Ok(Some(decode(&raw, "last authored slot")?)),
            None => Ok(None),
        }
    }

    fn finalize(&self, hash: Hash, justification: Option<Vec<u8>>) -> ChainResult<()> {
        finality::finalize(self, hash, justification)
    }

    fn aux(&self, key: &[u8]) -> ChainResult<Option<Vec<u8>>> {
        self.db.get(Column::Meta, &meta_keys::aux(key))
    }

    fn set_aux(&self, changes: &[(&[u8], Option<&[u8]>)]) -> ChainResult<()> {
        let mut tx = Transaction::new();
        for (key, value) in changes {
            match value {
                Some(value) => tx.set(Column::Meta, meta_keys::aux(key), value.to_vec()),
                None => tx.remove(Column::Meta, meta_keys::aux(key)),
            }
        }
        self.db.commit(tx)
    }
}
