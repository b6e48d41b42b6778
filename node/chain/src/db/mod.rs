//! The engine's storage: a small key-value interface with named columns and atomic commits,
//! implemented on parity-db ([`parity::ParityDb`]) and in memory for tests ([`memory::MemoryDb`]).
//!
//! # Layout
//!
//! | column | key | value |
//! |---|---|---|
//! | [`Column::TrieNodes`] | node hash (32 bytes, no trie prefix) | encoded trie node or value node; **reference counted** |
//! | [`Column::Headers`] | block hash | SCALE `Header` (sealed) |
//! | [`Column::Bodies`] | block hash | SCALE `Vec<UncheckedExtrinsic>` |
//! | [`Column::NumberToHash`] | block number, u32 big-endian | block hash on the best chain |
//! | [`Column::Meta`] | one of [`meta_keys`], or a prefixed key of [`meta_keys::justification`] / [`meta_keys::aux`] | see there |
//! | [`Column::Journal`] | block hash | SCALE [`crate::pruning::Journal`]: trie node references the block added and dropped |
//!
//! Headers and bodies are kept for every block of the best chain and every unfinalized fork;
//! forks are deleted when finality passes them. The database format is versioned
//! ([`meta_keys::DB_VERSION`], [`DB_VERSION`]).
//!
//! In the reference-counted column, [`Op::Set`] of an existing key increments its count (the
//! value is the node's preimage, so it cannot differ) and [`Op::Remove`] decrements it, deleting
//! the node at zero. A node thus lives as long as some kept state, or some pending journal entry,
//! references it.

pub mod memory;
pub mod parity;

use crate::api::ChainResult;

/// The columns of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    /// State trie nodes by hash, reference counted.
    TrieNodes,
    /// Headers by block hash.
    Headers,
    /// Block bodies (extrinsics) by block hash.
    Bodies,
    /// Canonical block hash by big-endian block number.
    NumberToHash,
    /// Chain heads and settings, see [`meta_keys`].
    Meta,
    /// Per-block journal of added and removed trie node references, used by pruning and to
    /// discard forks.
    Journal,
}

impl Column {
    /// Every column, in id order.
    pub const ALL: [Column; 6] = [
        Column::TrieNodes,
        Column::Headers,
        Column::Bodies,
        Column::NumberToHash,
        Column::Meta,
        Column::Journal,
    ];

    /// The column's numeric id (its parity-db column index).
    pub fn id(self) -> u8 {
        match self {
            Column::TrieNodes => 0,
            Column::Headers => 1,
            Column::Bodies => 2,
            Column::NumberToHash => 3,
            Column::Meta => 4,
            Column::Journal => 5,
        }
    }

    /// Whether values of this column are reference counted.
    pub fn is_ref_counted(self) -> bool {
        self == Column::TrieNodes
    }
}

/// Keys of the [`Column::Meta`] column.
pub mod meta_keys {
    /// Hash of the genesis block.
    pub const GENESIS: &[u8] = b"genesis";
    /// Hash of the best block.
    pub const BEST: &[u8] = b"best";
    /// Hash of the last finalized block.
    pub const FINALIZED: &[u8] = b"finalized";
    /// SCALE [`crate::Pruning`] the database was created with.
    pub const PRUNING: &[u8] = b"pruning";
    /// SCALE u32: the lowest block number whose state is still stored.
    pub const PRUNED_BELOW: &[u8] = b"pruned_below";
    /// SCALE `Vec<H256>`: the leaves of the block tree above finality, first seen first.
    pub const LEAVES: &[u8] = b"leaves";
    /// SCALE `Vec<H256>`: blocks discarded by the last finalization, whose headers and bodies
    /// are deleted by the next one.
    pub const DISCARDED_BODIES: &[u8] = b"discarded_bodies";
    /// SCALE u64: the last slot this node authored a block in.
    pub const LAST_AUTHORED_SLOT: &[u8] = b"last_authored_slot";
    /// SCALE u64: the slot duration in milliseconds the chain was created with.
    pub const SLOT_DURATION: &[u8] = b"slot_duration_ms";
    /// SCALE u32: the database format version ([`super::DB_VERSION`]).
    pub const DB_VERSION: &[u8] = b"db_version";

    /// The key of the finality justification of block `hash`.
    pub fn justification(hash: &[u8]) -> Vec<u8> {
        [b"justification:".as_slice(), hash].concat()
    }

    /// The key of auxiliary value `key`.
    pub fn aux(key: &[u8]) -> Vec<u8> {
        [b"aux:".as_slice(), key].concat()
    }
}

/// The database format this engine writes. Version 1 (no version key) had number-keyed pruning
/// journals and no forks; an archive database of version 1 is upgraded in place when opened,
/// a pruned one must be re-synced (`purge-chain`, or `export-blocks` then `import-blocks`).
pub const DB_VERSION: u32 = 2;

/// One write of a [`Transaction`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Insert or replace `value` at `key`; in a reference-counted column, insert with count 1
    /// or increment the count of the existing value.
    Set(Column, Vec<u8>, Vec<u8>),
    /// Delete `key`; in a reference-counted column, decrement its count (delete at zero).
    Remove(Column, Vec<u8>),
}

/// A batch of writes committed atomically, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    /// The writes.
    pub ops: Vec<Op>,
}

impl Transaction {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an [`Op::Set`].
    pub fn set(&mut self, col: Column, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(Op::Set(col, key.into(), value.into()));
    }

    /// Add an [`Op::Remove`].
    pub fn remove(&mut self, col: Column, key: impl Into<Vec<u8>>) {
        self.ops.push(Op::Remove(col, key.into()));
    }

    /// Whether the transaction holds no write.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// A key-value store with columns and atomic commits.
///
/// Reads see every commit that returned. A commit is all-or-nothing, also across a crash.
pub trait Database: Send + Sync {
    /// The value at `key` in `col`.
    fn get(&self, col: Column, key: &[u8]) -> ChainResult<Option<Vec<u8>>>;

    /// Apply `tx` atomically.
    fn commit(&self, tx: Transaction) -> ChainResult<()>;
}

/// The database key of block number `number` (big-endian, so keys sort by number).
pub fn number_key(number: u32) -> [u8; 4] {
    number.to_be_bytes()
}
