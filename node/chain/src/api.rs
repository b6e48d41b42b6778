//! The chain as the rest of the node sees it: blocks, state at any block, runtime calls, and a
//! stream of import and finality events. The RPC server and the transaction pool depend only on
//! this trait, never on the database or the executor.

use sp_core::H256;
use sp_runtime::transaction_validity::{InvalidTransaction, TransactionValidityError};
use subtensor_runtime::{Block, BlockNumber, Header, UncheckedExtrinsic};

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
    /// The parent of a block to import or build on is not known.
    #[error("unknown parent block {0:?}")]
    UnknownParent(Hash),
    /// The block does not descend from the last finalized block (it is on a fork that finality
    /// has abandoned, or below finality); carries the block's parent.
    #[error("block does not descend from the last finalized block (its parent is {0:?})")]
    BelowFinality(Hash),
    /// The database holds another chain than the one the genesis storage describes.
    #[error("genesis mismatch: the database holds {stored:?}, the chain spec gives {expected:?}")]
    GenesisMismatch {
        /// The genesis hash found in the database.
        stored: Hash,
        /// The genesis hash computed from the genesis storage.
        expected: Hash,
    },
    /// A finality request was refused (unknown block, not on the best chain...).
    #[error("cannot finalize: {0}")]
    Finality(String),
    /// The engine was configured inconsistently with the database (e.g. another pruning mode).
    #[error("configuration error: {0}")]
    Config(String),
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
    /// A block was imported (built locally or read from outside), best or not. Sent before the
    /// [`ChainEvent::NewBest`] it may cause.
    Imported {
        /// Its hash.
        hash: Hash,
        /// Its header.
        header: Header,
    },
    /// The best block changed: a block extending the best chain was imported, or a reorg
    /// (a longer fork, or finality landing on another fork) moved the best chain.
    NewBest {
        /// The new best block's hash.
        hash: Hash,
        /// Its header.
        header: Header,
        /// Blocks that left the best chain, highest first (empty unless this is a reorg).
        retracted: Vec<Hash>,
        /// Blocks that joined the best chain, lowest first (the new best block last).
        enacted: Vec<Hash>,
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

    /// The blocks without children above finality (the finalized block alone when there is
    /// none), first seen first.
    fn leaves(&self) -> Vec<Hash> {
        vec![self.info().best_hash]
    }

    /// The finality justification stored with block `hash`, if any.
    fn justification(&self, _hash: Hash) -> ChainResult<Option<Vec<u8>>> {
        Ok(None)
    }
}

/// The validity error reported for a candidate extrinsic whose application made the runtime
/// panic: it was rolled back and should be dropped like any invalid transaction.
pub const PANICKED_EXTRINSIC: TransactionValidityError =
    TransactionValidityError::Invalid(InvalidTransaction::Custom(255));

/// A block built on top of a parent, not yet sealed nor imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltBlock {
    /// The unsealed block; its header carries the real state and extrinsics roots and the Aura
    /// pre-runtime digest of its slot. Seal it with `consensus::seal`, then import it.
    pub block: Block,
    /// Indices into the candidates of those included in the block, in block order (they follow
    /// the inherents). An included extrinsic may still have failed at dispatch (it paid fees
    /// and emitted `ExtrinsicFailed`).
    pub included: Vec<usize>,
    /// Candidates the runtime refused before dispatch, with the reason; their effects were
    /// rolled back. A runtime panic is reported as [`PANICKED_EXTRINSIC`].
    pub rejected: Vec<(usize, TransactionValidityError)>,
    /// Candidates left out because the block was full (the first `ExhaustsResources` and every
    /// candidate after it): still valid, to try again in a later block.
    pub not_included: Vec<usize>,
}

/// What importing a block did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// The block was verified, executed and stored.
    Imported {
        /// Its hash (of the sealed header).
        hash: Hash,
        /// Its number.
        number: BlockNumber,
        /// Whether it became the best block.
        best: bool,
    },
    /// The block was already in the database; nothing changed.
    AlreadyKnown(Hash),
}

/// Building, importing and finalizing blocks: what the node's authoring loop and block import
/// (`import-blocks`) use. Implemented by the engine's client next to [`ChainApi`].
pub trait ChainWrite: ChainApi {
    /// Build a block on `parent` with the timestamp inherent `timestamp_ms` and as many of
    /// `candidates` (in order) as are valid and fit. The block's slot is
    /// `timestamp_ms / slot_duration_ms` and must exceed the parent's. Nothing is stored.
    fn build_block(
        &self,
        parent: Hash,
        timestamp_ms: u64,
        candidates: &[UncheckedExtrinsic],
    ) -> ChainResult<BuiltBlock> {
        self.build_block_until(parent, timestamp_ms, candidates, None)
    }

    /// As [`ChainWrite::build_block`], but no candidate is applied once `deadline` has passed:
    /// those left are reported as not included, for a later block. The authoring loop passes
    /// a deadline inside the slot, so a block is built in time whatever its candidates cost.
    fn build_block_until(
        &self,
        parent: Hash,
        timestamp_ms: u64,
        candidates: &[UncheckedExtrinsic],
        deadline: Option<std::time::Instant>,
    ) -> ChainResult<BuiltBlock>;

    /// Verify (known parent descending from the last finalized block, the slot's author's seal,
    /// slot, roots by re-execution) and store a sealed block in one atomic commit, together with
    /// the best-chain switch it causes (fork choice: the longest chain containing the finalized
    /// block, the first seen among equals). Broadcasts [`ChainEvent::Imported`], then
    /// [`ChainEvent::NewBest`] if the best block changed. A refused block leaves the chain
    /// unchanged.
    fn import_block(&self, block: Block) -> ChainResult<ImportOutcome>;

    /// As [`ChainWrite::import_block`] for a block this node authored in `slot`: the slot is
    /// recorded as the last authored one in the same commit, so that a restarted node never
    /// seals a second block for it (see [`ChainWrite::last_authored_slot`]).
    fn import_authored_block(&self, block: Block, slot: u64) -> ChainResult<ImportOutcome>;

    /// The last slot this node authored a block in (stored with that block).
    fn last_authored_slot(&self) -> ChainResult<Option<u64>>;

    /// Mark block `hash` (a descendant of the last finalized block) and its ancestors final,
    /// store `justification` with it, discard every block that does not descend from it, prune
    /// states that leave the window, and move the best chain onto it if needed, in one atomic
    /// commit; then broadcast [`ChainEvent::NewBest`] (if the best block changed) and
    /// [`ChainEvent::Finalized`]. Finalizing an already-final block is a no-op.
    fn finalize(&self, hash: Hash, justification: Option<Vec<u8>>) -> ChainResult<()>;

    /// The value stored under `key` in the auxiliary storage (consensus data of the node:
    /// GRANDPA voter state...).
    fn aux(&self, key: &[u8]) -> ChainResult<Option<Vec<u8>>>;

    /// Store (`Some`) or delete (`None`) auxiliary values, atomically and durably.
    fn set_aux(&self, changes: &[(&[u8], Option<&[u8]>)]) -> ChainResult<()>;
}
