//! The chain as the rest of the node sees it: blocks, state at any block, runtime calls, and a
//! stream of import and finality events. The RPC server and the transaction pool depend only on
//! this trait, never on the database or the executor.

use sp_core::H256;
use subtensor_runtime::{Block, BlockNumber, Header};

/// A block hash.
pub type Hash = H256;

/// Errors of the chain engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// No block with this hash is known.
    #[error("unknown block {0:?}")]
    UnknownBlock(Hash),
    /// The block is known but its state was pruned.
    #[error("state of block {0:?} was pruned")]
    StatePruned(Hash),
    /// The runtime has no entry point of this name.
    #[error("Exported method {0} is not found")]
    MethodNotFound(String),
    /// The runtime failed (returned an error or panicked) while executing a call.
    #[error("execution failed: {0}")]
    Execution(String),
    /// Bytes could not be decoded.
    #[error("decoding failed: {0}")]
    Decode(String),
    /// A block failed verification (bad parent, seal, state root, extrinsics root...).
    #[error("invalid block: {0}")]
    InvalidBlock(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(String),
}

/// The result type of the chain engine.
pub type ChainResult<T> = Result<T, ChainError>;

/// The heads of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainInfo {
    /// Hash of the genesis block.
    pub genesis_hash: Hash,
    /// Hash of the best block.
    pub best_hash: Hash,
    /// Number of the best block.
    pub best_number: BlockNumber,
    /// Hash of the last finalized block.
    pub finalized_hash: Hash,
    /// Number of the last finalized block.
    pub finalized_number: BlockNumber,
}

/// Something that happened to the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEvent {
    /// A block was imported (built locally or read from outside) and became the best block.
    NewBest {
        /// Its hash.
        hash: Hash,
        /// Its header.
        header: Header,
    },
    /// A block was finalized.
    Finalized {
        /// Its hash.
        hash: Hash,
        /// Its header.
        header: Header,
    },
}

/// Read access to the chain and its state, and runtime calls at any block.
///
/// Every method is cheap to call from many threads at once; state reads and runtime calls run
/// on the state of the given block (historical state is kept according to the pruning mode).
pub trait ChainApi: Send + Sync {
    /// The current heads.
    fn info(&self) -> ChainInfo;

    /// The header of block `hash`, if known.
    fn header(&self, hash: Hash) -> ChainResult<Option<Header>>;

    /// The full block `hash`, if known.
    fn block(&self, hash: Hash) -> ChainResult<Option<Block>>;

    /// The hash of the canonical block at height `number`, if any.
    fn hash(&self, number: BlockNumber) -> ChainResult<Option<Hash>>;

    /// The storage value at `key` in the state after block `at`.
    fn storage(&self, at: Hash, key: &[u8]) -> ChainResult<Option<Vec<u8>>>;

    /// Up to `count` storage keys starting with `prefix`, in lexicographic order, strictly after
    /// `start_after` when given, in the state after block `at`.
    fn storage_keys(
        &self,
        at: Hash,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        count: u32,
    ) -> ChainResult<Vec<Vec<u8>>>;

    /// Call the runtime API entry point `method` (e.g. `Core_version`) with SCALE `args` on the
    /// state after block `at`; returns the SCALE-encoded result. Nothing is written.
    fn call(&self, at: Hash, method: &str, args: &[u8]) -> ChainResult<Vec<u8>>;

    /// The runtime version at block `at`.
    fn runtime_version(&self, at: Hash) -> ChainResult<sp_version::RuntimeVersion>;

    /// A stream of chain events from now on.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<ChainEvent>;
}
