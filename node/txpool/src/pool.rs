//! [`Pool`]: admission, queues, limits, bans, watchers and block maintenance.

use crate::{
    ready::{compute_ready, ReadyIter},
    BlockHash, PoolConfig, PoolError, PoolResult, PoolTransaction, Tag, TxHash, TxStatus, Watcher,
};
use codec::{DecodeAll, DecodeLimit, Encode};
use parking_lot::{Mutex, RwLock};
use sp_crypto_hashing::blake2_256;
use sp_runtime::transaction_validity::{
    TransactionSource, TransactionValidity, TransactionValidityError, ValidTransaction,
};
use std::{
    cmp::Reverse,
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
    time::Instant,
};
use subtensor_chain::{ChainApi, ChainError};
use subtensor_runtime::{BlockNumber, UncheckedExtrinsic};
use tokio::sync::{broadcast, mpsc};

/// Name of the runtime entry point that validates a transaction.
pub const VALIDATE_TRANSACTION: &str = "TaggedTransactionQueue_validate_transaction";

/// How many processed block hashes are remembered, so that a block reported twice (by the
/// block builder and by [`crate::maintain`]) is processed once.
const RECENT_BLOCKS: usize = 64;

/// Counts of the two queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// Ready transactions.
    pub ready: usize,
    /// Bytes of ready transactions.
    pub ready_bytes: usize,
    /// Future transactions.
    pub future: usize,
    /// Bytes of future transactions.
    pub future_bytes: usize,
}

/// Watchers of the transactions included in one block, kept until that block is finalized.
struct InBlock {
    number: BlockNumber,
    watchers: Vec<mpsc::UnboundedSender<TxStatus>>,
}

#[derive(Default)]
struct Inner {
    txs: HashMap<TxHash, Arc<PoolTransaction>>,
    /// Provider of every tag provided by a pooled transaction (tags are unique in the pool).
    by_tag: HashMap<Tag, TxHash>,
    ready: HashSet<TxHash>,
    next_insertion_id: u64,
    /// Banned hashes and when their ban ends.
    banned: HashMap<TxHash, Instant>,
    watchers: HashMap<TxHash, Vec<mpsc::UnboundedSender<TxStatus>>>,
    in_block: HashMap<BlockHash, InBlock>,
    recent_blocks: VecDeque<BlockHash>,
}

/// The transaction pool.
///
/// All methods are synchronous and may call the runtime (through [`ChainApi::call`]); call
/// them from blocking contexts (`tokio::task::spawn_blocking`) in async code.
pub struct Pool {
    chain: Arc<dyn ChainApi>,
    config: PoolConfig,
    inner: Mutex<Inner>,
    /// Submissions hold it shared while they validate and insert; block maintenance holds it
    /// exclusively, so no transaction validated against an old block slips in unrevalidated.
    maintenance: RwLock<()>,
    ready_events: broadcast::Sender<TxHash>,
}

impl Pool {
    /// An empty pool validating against `chain`.
    pub fn new(config: PoolConfig, chain: Arc<dyn ChainApi>) -> Self {
        let (ready_events, _) = broadcast::channel(1024);
        Self {
            chain,
            config,
            inner: Mutex::new(Inner::default()),
            maintenance: RwLock::new(()),
            ready_events,
        }
    }

    /// The chain the pool validates against.
    pub fn chain(&self) -> &Arc<dyn ChainApi> {
        &self.chain
    }

    /// The configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Validates the encoded extrinsic `data` (with its length prefix) on the best block and
    /// adds it to the pool; returns its hash.
    pub fn submit(&self, source: TransactionSource, data: &[u8]) -> PoolResult<TxHash> {
        self.submit_inner(source, data, None)
    }

    /// Like [`Pool::submit`], and returns a [`Watcher`] whose first status is `Ready` or
    /// `Future`.
    pub fn submit_and_watch(&self, source: TransactionSource, data: &[u8]) -> PoolResult<Watcher> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let hash = self.submit_inner(source, data, Some(sender))?;
        Ok(Watcher::new(hash, receiver))
    }

    /// A new [`Watcher`] of the pooled transaction `hash` (its first status is the queue it is
    /// in now); `None` if it is not in the pool.
    pub fn watch(&self, hash: &TxHash) -> Option<Watcher> {
        let mut inner = self.inner.lock();
        if !inner.txs.contains_key(hash) {
            return None;
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        let status = if inner.ready.contains(hash) { TxStatus::Ready } else { TxStatus::Future };
        // The receiver is alive: the send cannot fail.
        let _ = sender.send(status);
        inner.watchers.entry(*hash).or_default().push(sender);
        Some(Watcher::new(*hash, receiver))
    }

    fn submit_inner(
        &self,
        source: TransactionSource,
        data: &[u8],
        watcher: Option<mpsc::UnboundedSender<TxStatus>>,
    ) -> PoolResult<TxHash> {
        let hash = TxHash::from(blake2_256(data));
        self.check_known(hash)?;
        // With Substrate's nesting limit: deeply nested calls would overflow the stack.
        let extrinsic = UncheckedExtrinsic::decode_all_with_depth_limit(
            subtensor_chain::executor::MAX_EXTRINSIC_DEPTH,
            &mut &data[..],
        )
        .map_err(|e| PoolError::BadFormat(subtensor_chain::executor::decode_error_text(&e)))?;

        let _maintenance = self.maintenance.read();
        let at = self.chain.info().best_hash;
        let valid = match self.validate(at, source, data) {
            Ok(valid) => valid,
            Err(e) => {
                if matches!(e, PoolError::InvalidTransaction(_)) {
                    self.inner.lock().ban(hash, self.ban_until());
                }
                return Err(e);
            }
        };
        if valid.provides.is_empty() {
            return Err(PoolError::NoTagsProvided);
        }

        let mut inner = self.inner.lock();
        // Checked again: the same transaction may have been submitted meanwhile.
        if inner.txs.contains_key(&hash) {
            return Err(PoolError::AlreadyImported(hash));
        }
        let conflicts: Vec<Arc<PoolTransaction>> = valid
            .provides
            .iter()
            .filter_map(|tag| inner.by_tag.get(tag))
            .filter_map(|h| inner.txs.get(h).cloned())
            .collect();
        if let Some(old) = conflicts.iter().map(|tx| tx.priority).max() {
            if old >= valid.priority {
                return Err(PoolError::TooLowPriority { old, new: valid.priority });
            }
        }
        for old in &conflicts {
            if inner.remove(&old.hash).is_some() {
                inner.notify_final(old.hash, TxStatus::Usurped(hash));
            }
        }
        let insertion_id = inner.next_insertion_id;
        inner.next_insertion_id = insertion_id.wrapping_add(1);
        let tx = PoolTransaction {
            hash,
            data: data.to_vec(),
            extrinsic,
            source,
            priority: valid.priority,
            requires: valid.requires,
            provides: valid.provides,
            longevity: valid.longevity,
            propagate: valid.propagate,
            insertion_id,
        };
        inner.insert(Arc::new(tx));
        if let Some(watcher) = watcher {
            inner.watchers.entry(hash).or_default().push(watcher);
        }
        let mut became_ready = inner.recompute_ready(Some(hash));
        let dropped = inner.enforce_limits(&self.config);
        if !dropped.is_empty() {
            became_ready.extend(inner.recompute_ready(None));
        }
        if dropped.contains(&hash) {
            inner.watchers.remove(&hash);
            drop(inner);
            self.announce_ready(became_ready);
            return Err(PoolError::ImmediatelyDropped);
        }
        drop(inner);
        self.announce_ready(became_ready);
        Ok(hash)
    }

    /// Fails if `hash` is pooled or banned.
    fn check_known(&self, hash: TxHash) -> PoolResult<()> {
        let mut inner = self.inner.lock();
        if inner.txs.contains_key(&hash) {
            return Err(PoolError::AlreadyImported(hash));
        }
        let now = Instant::now();
        match inner.banned.get(&hash) {
            Some(until) if *until > now => Err(PoolError::TemporarilyBanned),
            Some(_) => {
                inner.banned.remove(&hash);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Runs the runtime's `validate_transaction` on the state after block `at`.
    fn validate(
        &self,
        at: BlockHash,
        source: TransactionSource,
        data: &[u8],
    ) -> PoolResult<ValidTransaction> {
        // `(source, extrinsic, block_hash)` SCALE-encoded; `data` already is the extrinsic's
        // encoding.
        let mut args = source.encode();
        args.extend_from_slice(data);
        at.encode_to(&mut args);
        let out = self
            .chain
            .call(at, VALIDATE_TRANSACTION, &args)
            .map_err(|e| PoolError::Verification(chain_error_text(&e)))?;
        let validity = TransactionValidity::decode_all(&mut &out[..])
            .map_err(|e| PoolError::Verification(format!("bad validity encoding: {e}")))?;
        match validity {
            Ok(valid) => Ok(valid),
            Err(TransactionValidityError::Invalid(e)) => Err(PoolError::InvalidTransaction(e)),
            Err(TransactionValidityError::Unknown(e)) => Err(PoolError::UnknownTransaction(e)),
        }
    }

    fn ban_until(&self) -> Instant {
        let now = Instant::now();
        now.checked_add(self.config.ban_time).unwrap_or(now)
    }

    fn announce_ready(&self, hashes: Vec<TxHash>) {
        for hash in hashes {
            // No receiver is fine: nobody waits for transactions.
            let _ = self.ready_events.send(hash);
        }
    }

    /// The ready transactions, best first, each after the transactions it depends on: what the
    /// block builder includes, in order.
    pub fn ready(&self) -> ReadyIter {
        let inner = self.inner.lock();
        let ready = inner.ready.iter().filter_map(|hash| inner.txs.get(hash).cloned()).collect();
        ReadyIter::new(ready, &inner.by_tag)
    }

    /// Every pooled transaction, ready or not.
    pub fn all(&self) -> Vec<Arc<PoolTransaction>> {
        self.inner.lock().txs.values().cloned().collect()
    }

    /// The transaction with this hash, if pooled.
    pub fn get(&self, hash: &TxHash) -> Option<Arc<PoolTransaction>> {
        self.inner.lock().txs.get(hash).cloned()
    }

    /// Whether the transaction is pooled.
    pub fn contains(&self, hash: &TxHash) -> bool {
        self.inner.lock().txs.contains_key(hash)
    }

    /// Whether the transaction is pooled and ready.
    pub fn is_ready(&self, hash: &TxHash) -> bool {
        self.inner.lock().ready.contains(hash)
    }

    /// Whether a ready transaction provides `tag` (used for `system_accountNextIndex`: the
    /// runtime's nonce tag is SCALE `(AccountId, Nonce)`).
    pub fn ready_provides(&self, tag: &[u8]) -> bool {
        let inner = self.inner.lock();
        inner.by_tag.get(tag).is_some_and(|hash| inner.ready.contains(hash))
    }

    /// Whether `hash` is banned right now.
    pub fn is_banned(&self, hash: &TxHash) -> bool {
        self.inner.lock().banned.get(hash).is_some_and(|until| *until > Instant::now())
    }

    /// Counts and sizes of the queues.
    pub fn status(&self) -> PoolStatus {
        let inner = self.inner.lock();
        let mut status = PoolStatus::default();
        for (hash, tx) in &inner.txs {
            if inner.ready.contains(hash) {
                status.ready = status.ready.saturating_add(1);
                status.ready_bytes = status.ready_bytes.saturating_add(tx.len());
            } else {
                status.future = status.future.saturating_add(1);
                status.future_bytes = status.future_bytes.saturating_add(tx.len());
            }
        }
        status
    }

    /// A stream of hashes of transactions that just became ready (new or promoted): the signal
    /// an instant-seal block producer waits for.
    pub fn ready_notifications(&self) -> broadcast::Receiver<TxHash> {
        self.ready_events.subscribe()
    }

    /// Removes transactions the block builder found invalid: their watchers get `Invalid`, their
    /// hashes are banned, transactions depending on them fall back to the future queue.
    pub fn remove_invalid(&self, hashes: &[TxHash]) {
        let until = self.ban_until();
        let mut inner = self.inner.lock();
        for hash in hashes {
            if inner.remove(hash).is_some() {
                inner.notify_final(*hash, TxStatus::Invalid);
            }
            inner.ban(*hash, until);
        }
        let promoted = inner.recompute_ready(None);
        drop(inner);
        self.announce_ready(promoted);
    }

    /// Processes a block that became the best block: the `included` transactions leave the pool
    /// (watchers get `InBlock(block)`, hashes are banned), every other transaction is validated
    /// again on the new state (invalid ones are dropped with `Invalid`, the others get their new
    /// tags, which promotes transactions whose nonce is now next), and watched transactions in
    /// blocks older than `finality_timeout_blocks` get `FinalityTimeout`.
    ///
    /// A block already processed is ignored, so the block builder and [`crate::maintain`] may
    /// both report it.
    pub fn on_block_imported(&self, block: BlockHash, included: &[TxHash]) {
        let _maintenance = self.maintenance.write();
        let number = match self.chain.header(block) {
            Ok(Some(header)) => header.number,
            _ => self.chain.info().best_number,
        };
        let until = self.ban_until();
        let snapshot: Vec<Arc<PoolTransaction>> = {
            let mut inner = self.inner.lock();
            if inner.recent_blocks.contains(&block) {
                return;
            }
            if inner.recent_blocks.len() >= RECENT_BLOCKS {
                inner.recent_blocks.pop_front();
            }
            inner.recent_blocks.push_back(block);

            let mut in_block = Vec::new();
            for hash in included {
                inner.remove(hash);
                inner.ban(*hash, until);
                for watcher in inner.watchers.remove(hash).unwrap_or_default() {
                    if watcher.send(TxStatus::InBlock(block)).is_ok() {
                        in_block.push(watcher);
                    }
                }
            }
            if !in_block.is_empty() {
                inner.in_block.insert(block, InBlock { number, watchers: in_block });
            }
            inner.timeout_in_block(number, self.config.finality_timeout_blocks);
            inner.txs.values().cloned().collect()
        };

        let results: Vec<(Arc<PoolTransaction>, PoolResult<ValidTransaction>)> = snapshot
            .into_iter()
            .map(|tx| {
                let result = self.validate(block, tx.source, &tx.data);
                (tx, result)
            })
            .collect();

        let mut inner = self.inner.lock();
        for (old, result) in results {
            // Skip transactions that changed or left since the snapshot.
            if !inner.txs.get(&old.hash).is_some_and(|tx| Arc::ptr_eq(tx, &old)) {
                continue;
            }
            match result {
                Ok(valid) if !valid.provides.is_empty() => {
                    if valid.priority != old.priority
                        || valid.requires != old.requires
                        || valid.provides != old.provides
                        || valid.longevity != old.longevity
                    {
                        let was_ready = inner.ready.contains(&old.hash);
                        inner.remove(&old.hash);
                        let updated = PoolTransaction {
                            priority: valid.priority,
                            requires: valid.requires,
                            provides: valid.provides,
                            longevity: valid.longevity,
                            propagate: valid.propagate,
                            ..(*old).clone()
                        };
                        // Keep its queue for now, so that `recompute_ready` reports a move
                        // only if the new tags really move it.
                        if inner.insert_resolving_conflicts(Arc::new(updated)) && was_ready {
                            inner.ready.insert(old.hash);
                        }
                    }
                }
                Ok(_) | Err(PoolError::InvalidTransaction(_)) => {
                    inner.remove(&old.hash);
                    inner.ban(old.hash, until);
                    inner.notify_final(old.hash, TxStatus::Invalid);
                }
                // Unknown validity or a failing runtime call: keep it and try next block.
                Err(_) => {}
            }
        }
        let mut promoted = inner.recompute_ready(None);
        if !inner.enforce_limits(&self.config).is_empty() {
            promoted.extend(inner.recompute_ready(None));
        }
        drop(inner);
        self.announce_ready(promoted);
    }

    /// Puts the transactions of `extrinsics` (the encoded extrinsics of a block that left the
    /// best chain in a reorg) back into the pool: their inclusion bans are lifted and each is
    /// validated again on the best block like a new submission (those included again on the new
    /// chain, or now invalid, are refused). Returns how many were readmitted.
    pub fn resubmit_retracted(&self, extrinsics: &[Vec<u8>]) -> usize {
        let mut readmitted = 0usize;
        for data in extrinsics {
            let hash = TxHash::from(sp_crypto_hashing::blake2_256(data));
            self.inner.lock().banned.remove(&hash);
            if self.submit(TransactionSource::InBlock, data).is_ok() {
                readmitted = readmitted.saturating_add(1);
            }
        }
        readmitted
    }

    /// Processes a finalized block: watchers of transactions included in it, or in any earlier
    /// canonical block still waiting, get `Finalized(block_of_inclusion)`; those waiting on a
    /// block that lost to a fork get `FinalityTimeout`.
    pub fn on_block_finalized(&self, block: BlockHash) {
        let Ok(Some(header)) = self.chain.header(block) else {
            return;
        };
        let finalized_number = header.number;
        let candidates: Vec<(BlockHash, BlockNumber)> = self
            .inner
            .lock()
            .in_block
            .iter()
            .filter(|(hash, entry)| **hash == block || entry.number <= finalized_number)
            .map(|(hash, entry)| (*hash, entry.number))
            .collect();
        let decided: Vec<(BlockHash, bool)> = candidates
            .into_iter()
            .map(|(hash, number)| {
                let canonical =
                    hash == block || matches!(self.chain.hash(number), Ok(Some(h)) if h == hash);
                (hash, canonical)
            })
            .collect();
        let mut inner = self.inner.lock();
        for (hash, canonical) in decided {
            if let Some(entry) = inner.in_block.remove(&hash) {
                let status = if canonical {
                    TxStatus::Finalized(hash)
                } else {
                    TxStatus::FinalityTimeout(hash)
                };
                for watcher in entry.watchers {
                    let _ = watcher.send(status);
                }
            }
        }
    }
}

impl Inner {
    fn insert(&mut self, tx: Arc<PoolTransaction>) {
        for tag in &tx.provides {
            self.by_tag.insert(tag.clone(), tx.hash);
        }
        self.txs.insert(tx.hash, tx);
    }

    /// Inserts a revalidated transaction; if another transaction now provides one of its tags,
    /// the one with the lower priority leaves as `Usurped`. Returns whether `tx` stayed.
    fn insert_resolving_conflicts(&mut self, tx: Arc<PoolTransaction>) -> bool {
        let rivals: Vec<Arc<PoolTransaction>> = tx
            .provides
            .iter()
            .filter_map(|tag| self.by_tag.get(tag))
            .filter_map(|h| self.txs.get(h).cloned())
            .collect();
        if let Some(winner) = rivals.iter().find(|rival| rival.priority >= tx.priority) {
            let winner = winner.hash;
            self.notify_final(tx.hash, TxStatus::Usurped(winner));
            return false;
        }
        for rival in rivals {
            if self.remove(&rival.hash).is_some() {
                self.notify_final(rival.hash, TxStatus::Usurped(tx.hash));
            }
        }
        self.insert(tx);
        true
    }

    fn remove(&mut self, hash: &TxHash) -> Option<Arc<PoolTransaction>> {
        let tx = self.txs.remove(hash)?;
        for tag in &tx.provides {
            if self.by_tag.get(tag) == Some(hash) {
                self.by_tag.remove(tag);
            }
        }
        self.ready.remove(hash);
        Some(tx)
    }

    fn ban(&mut self, hash: TxHash, until: Instant) {
        let now = Instant::now();
        if self.banned.len() > 4096 {
            self.banned.retain(|_, end| *end > now);
        }
        self.banned.insert(hash, until);
    }

    fn notify(&mut self, hash: TxHash, status: TxStatus) {
        if let Some(watchers) = self.watchers.get_mut(&hash) {
            watchers.retain(|w| w.send(status).is_ok());
            if watchers.is_empty() {
                self.watchers.remove(&hash);
            }
        }
    }

    fn notify_final(&mut self, hash: TxHash, status: TxStatus) {
        for watcher in self.watchers.remove(&hash).unwrap_or_default() {
            let _ = watcher.send(status);
        }
    }

    /// Recomputes the ready set, sends `Ready`/`Future` to watchers whose transaction moved (and
    /// to `new`, whichever queue it is in); returns the transactions that became ready.
    fn recompute_ready(&mut self, new: Option<TxHash>) -> Vec<TxHash> {
        let ready = compute_ready(&self.txs, &self.by_tag);
        let mut became_ready = Vec::new();
        let mut changes = Vec::new();
        for hash in self.txs.keys() {
            let now = ready.contains(hash);
            let before = self.ready.contains(hash);
            if Some(*hash) == new || now != before {
                changes.push((*hash, if now { TxStatus::Ready } else { TxStatus::Future }));
                if now {
                    became_ready.push(*hash);
                }
            }
        }
        self.ready = ready;
        for (hash, status) in changes {
            self.notify(hash, status);
        }
        became_ready
    }

    /// Evicts the worst transactions (future ones first, then ready ones; lowest priority, then
    /// newest) until both queues are within their limits; evicted watchers get `Dropped`.
    fn enforce_limits(&mut self, config: &PoolConfig) -> Vec<TxHash> {
        let mut dropped = Vec::new();
        loop {
            let (mut ready_n, mut ready_b, mut future_n, mut future_b) =
                (0usize, 0usize, 0usize, 0usize);
            for (hash, tx) in &self.txs {
                if self.ready.contains(hash) {
                    ready_n = ready_n.saturating_add(1);
                    ready_b = ready_b.saturating_add(tx.len());
                } else {
                    future_n = future_n.saturating_add(1);
                    future_b = future_b.saturating_add(tx.len());
                }
            }
            let future_over =
                future_n > config.future.count || future_b > config.future.total_bytes;
            let ready_over = ready_n > config.ready.count || ready_b > config.ready.total_bytes;
            if !future_over && !ready_over {
                break;
            }
            let worst = self
                .txs
                .values()
                .filter(|tx| self.ready.contains(&tx.hash) != future_over)
                .min_by_key(|tx| (tx.priority, Reverse(tx.insertion_id)))
                .map(|tx| tx.hash);
            let Some(worst) = worst else { break };
            self.remove(&worst);
            self.notify_final(worst, TxStatus::Dropped);
            dropped.push(worst);
            // Dependents of an evicted ready transaction are future now.
            if !future_over {
                self.recompute_ready(None);
            }
        }
        dropped
    }

    /// Ends the watchers of blocks that stayed unfinalized for too long.
    fn timeout_in_block(&mut self, best_number: BlockNumber, timeout: u32) {
        let expired: Vec<BlockHash> = self
            .in_block
            .iter()
            .filter(|(_, entry)| best_number.saturating_sub(entry.number) > timeout)
            .map(|(hash, _)| *hash)
            .collect();
        for hash in expired {
            if let Some(entry) = self.in_block.remove(&hash) {
                for watcher in entry.watchers {
                    let _ = watcher.send(TxStatus::FinalityTimeout(hash));
                }
            }
        }
    }
}

/// The text of a chain error as the pool reports it.
fn chain_error_text(e: &ChainError) -> String {
    e.to_string()
}
