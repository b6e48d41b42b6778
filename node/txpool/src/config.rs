//! Pool limits and timings.

use std::time::Duration;

/// A size limit of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// At most this many transactions.
    pub count: usize,
    /// At most this many bytes of encoded transactions, added up.
    pub total_bytes: usize,
}

/// Configuration of a [`crate::Pool`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Limit of the ready queue (transactions that can go into the next block).
    pub ready: Limit,
    /// Limit of the future queue (transactions waiting for a tag, e.g. a nonce gap).
    pub future: Limit,
    /// How long an invalid (or already included) transaction hash stays banned.
    pub ban_time: Duration,
    /// After how many imported blocks a transaction that is in a block still not finalized gets
    /// `FinalityTimeout` (and its watcher ends).
    pub finality_timeout_blocks: u32,
}

impl Default for PoolConfig {
    /// Substrate's defaults: 8192 ready transactions / 20 MiB, a tenth of that for the future
    /// queue, 30 minutes of ban, 512 blocks of finality timeout.
    fn default() -> Self {
        Self {
            ready: Limit { count: 8192, total_bytes: 20 * 1024 * 1024 },
            future: Limit { count: 819, total_bytes: 2 * 1024 * 1024 },
            ban_time: Duration::from_secs(30 * 60),
            finality_timeout_blocks: 512,
        }
    }
}
