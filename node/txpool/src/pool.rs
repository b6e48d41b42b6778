//! [`Pool`]: admission, queues, limits, bans, watchers and block maintenance.

use crate::{
    ready::{distinct_tags, Queues, ReadyIter},
    BlockHash, PoolConfig, PoolError, PoolResult, PoolTransaction, TxHash, TxStatus, Watcher,
};
use codec::{DecodeAll, DecodeLimit, Encode};
use parking_lot::{Mutex, RwLock};
use sp_crypto_hashing::blake2_256;
use sp_runtime::transaction_validity::{
    TransactionSource, TransactionValidity, TransactionValidityError, ValidTransaction,
};
use std::{
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
    /// The transactions, their tags and queues (tags are unique in the pool).
    queues: Queues,
    next_insertion_id: u64,
    /// Banned hashes and when their ban ends.
    banned: HashMap<TxHash, Instant>,
    /// The bans in the order they end (the ban time is fixed), so that ended ones are forgotten
    /// from the front without scanning every ban.
    ban_order: VecDeque<(Instant, TxHash)>,
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
        if !inner.queues.contains(hash) {
            return None;
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        let status = if inner.queues.is_ready(hash) { TxStatus::Ready } else { TxStatus::Future };
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
        let info = self.chain.info();
        let valid = match self.validate(info.best_hash, source, data) {
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
        let valid_till = u64::from(info.best_number).saturating_add(valid.longevity);

        let mut inner = self.inner.lock();
        // Checked again: the same transaction may have been submitted meanwhile.
        if inner.queues.contains(&hash) {
            return Err(PoolError::AlreadyImported(hash));
        }
        let provides = distinct_tags(valid.provides);
        // As Substrate: the newcomer replaces the transactions providing any of its tags only
        // if its priority beats theirs added up.
        let rivals = inner.rivals(&provides);
        if !rivals.is_empty() {
            let old = rivals.iter().fold(0u64, |total, rival| total.saturating_add(rival.priority));
            if old >= valid.priority {
                return Err(PoolError::TooLowPriority { old, new: valid.priority });
            }
        }
        for rival in &rivals {
            if inner.queues.remove(&rival.hash).is_some() {
                inner.notify_final(rival.hash, TxStatus::Usurped(hash));
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
            requires: distinct_tags(valid.requires),
            provides,
            longevity: valid.longevity,
            propagate: valid.propagate,
            insertion_id,
        };
        inner.queues.insert(Arc::new(tx), valid_till);
        if let Some(watcher) = watcher {
            inner.watchers.entry(hash).or_default().push(watcher);
        }
        let dropped = inner.enforce_limits(&self.config);
        if dropped.contains(&hash) {
            inner.watchers.remove(&hash);
            let became_ready = inner.notify_moves(None);
            drop(inner);
            self.announce_ready(became_ready);
            return Err(PoolError::ImmediatelyDropped);
        }
        let became_ready = inner.notify_moves(Some(hash));
        drop(inner);
        self.announce_ready(became_ready);
        Ok(hash)
    }

    /// Fails if `hash` is pooled or banned.
    fn check_known(&self, hash: TxHash) -> PoolResult<()> {
        let mut inner = self.inner.lock();
        if inner.queues.contains(&hash) {
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
    ///
    /// Copies the ready queue, already in best-first order (nothing is sorted).
    pub fn ready(&self) -> ReadyIter {
        ReadyIter::new(self.inner.lock().queues.ready_best_first())
    }

    /// Every pooled transaction, ready or not.
    pub fn all(&self) -> Vec<Arc<PoolTransaction>> {
        self.inner.lock().queues.all().cloned().collect()
    }

    /// The transaction with this hash, if pooled.
    pub fn get(&self, hash: &TxHash) -> Option<Arc<PoolTransaction>> {
        self.inner.lock().queues.get(hash).cloned()
    }

    /// Whether the transaction is pooled.
    pub fn contains(&self, hash: &TxHash) -> bool {
        self.inner.lock().queues.contains(hash)
    }

    /// Whether the transaction is pooled and ready.
    pub fn is_ready(&self, hash: &TxHash) -> bool {
        self.inner.lock().queues.is_ready(hash)
    }

    /// Whether a ready transaction provides `tag` (used for `system_accountNextIndex`: the
    /// runtime's nonce tag is SCALE `(AccountId, Nonce)`).
    pub fn ready_provides(&self, tag: &[u8]) -> bool {
        self.inner.lock().queues.ready_provides(tag)
    }

    /// Whether `hash` is banned right now.
    pub fn is_banned(&self, hash: &TxHash) -> bool {
        self.inner.lock().banned.get(hash).is_some_and(|until| *until > Instant::now())
    }

    /// Counts and sizes of the queues.
    pub fn status(&self) -> PoolStatus {
        let inner = self.inner.lock();
        let (ready, future) = (inner.queues.ready_size(), inner.queues.future_size());
        PoolStatus {
            ready: ready.count,
            ready_bytes: ready.bytes,
            future: future.count,
            future_bytes: future.bytes,
        }
    }

    /// Checks the pool's indexes, and its ready set against the closure recomputed from
    /// scratch.
    #[cfg(test)]
    pub(crate) fn check_consistency(&self) {
        self.inner.lock().queues.check();
    }

    /// A stream of hashes of transactions that just became ready (new or promoted): the signal
    /// an instant-seal block producer waits for.
    pub fn ready_notifications(&self) -> broadcast::Receiver<TxHash> {
        self.ready_events.subscribe()
    }

    /// Removes transactions the block builder found invalid: their watchers get `Invalid`, their
    /// hashes are banned, transactions depending on them fall back to the future queue (the
    /// worst of them leave with `Dropped` if that overflows it).
    pub fn remove_invalid(&self, hashes: &[TxHash]) {
        let until = self.ban_until();
        let mut inner = self.inner.lock();
        for hash in hashes {
            if inner.queues.remove(hash).is_some() {
                inner.notify_final(*hash, TxStatus::Invalid);
            }
            inner.ban(*hash, until);
        }
        // Demoted dependents may overflow the future queue.
        inner.enforce_limits(&self.config);
        let promoted = inner.notify_moves(None);
        drop(inner);
        self.announce_ready(promoted);
    }

    /// Processes a block that became the best block: the `included` transactions leave the pool
    /// (watchers get `InBlock(block)`, hashes are banned); transactions past their longevity
    /// (validated at block `n` with longevity `L`, and `block`'s number is `n + L` or more, as
    /// Substrate's `valid_till`) leave with `Invalid` and are banned; every other transaction is
    /// validated again on the new state (invalid ones are dropped with `Invalid`, the others get
    /// their new tags and longevity, which promotes transactions whose nonce is now next), and
    /// watched transactions in blocks older than `finality_timeout_blocks` get
    /// `FinalityTimeout`.
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
                inner.queues.remove(hash);
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
            for hash in inner.queues.stale(u64::from(number)) {
                inner.queues.remove(&hash);
                inner.ban(hash, until);
                inner.notify_final(hash, TxStatus::Invalid);
            }
            inner.queues.all().cloned().collect()
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
            if !inner.queues.get(&old.hash).is_some_and(|tx| Arc::ptr_eq(tx, &old)) {
                continue;
            }
            match result {
                Ok(valid) if !valid.provides.is_empty() => {
                    let valid_till = u64::from(number).saturating_add(valid.longevity);
                    let requires = distinct_tags(valid.requires);
                    let provides = distinct_tags(valid.provides);
                    let updated = |requires, provides| PoolTransaction {
                        priority: valid.priority,
                        requires,
                        provides,
                        longevity: valid.longevity,
                        propagate: valid.propagate,
                        ..(*old).clone()
                    };
                    if requires != old.requires || provides != old.provides {
                        // New tags: out and in again. Its queue (and its dependents') moves
                        // only if the new tags move it, and watchers hear of net moves only
                        // (`notify_moves`).
                        inner.queues.remove(&old.hash);
                        inner.insert_resolving_conflicts(
                            Arc::new(updated(requires, provides)),
                            valid_till,
                        );
                    } else if valid.priority != old.priority
                        || valid.longevity != old.longevity
                        || valid.propagate != old.propagate
                    {
                        inner.queues.update(Arc::new(updated(requires, provides)), valid_till);
                    } else {
                        inner.queues.set_valid_till(&old.hash, valid_till);
                    }
                }
                Ok(_) | Err(PoolError::InvalidTransaction(_)) => {
                    inner.queues.remove(&old.hash);
                    inner.ban(old.hash, until);
                    inner.notify_final(old.hash, TxStatus::Invalid);
                }
                // Unknown validity or a failing runtime call: keep it and try next block.
                Err(_) => {}
            }
        }
        inner.enforce_limits(&self.config);
        let promoted = inner.notify_moves(None);
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
    /// The pooled transactions providing any of `tags`, each once.
    fn rivals(&self, tags: &[crate::Tag]) -> Vec<Arc<PoolTransaction>> {
        let mut seen = HashSet::new();
        tags.iter()
            .filter_map(|tag| self.queues.provider(tag))
            .filter(|hash| seen.insert(**hash))
            .filter_map(|hash| self.queues.get(hash).cloned())
            .collect()
    }

    /// Inserts a revalidated transaction; if another transaction now provides one of its tags,
    /// the one with the lower priority leaves as `Usurped`. Returns whether `tx` stayed.
    fn insert_resolving_conflicts(&mut self, tx: Arc<PoolTransaction>, valid_till: u64) -> bool {
        let rivals = self.rivals(&tx.provides);
        if let Some(winner) = rivals.iter().find(|rival| rival.priority >= tx.priority) {
            let winner = winner.hash;
            self.notify_final(tx.hash, TxStatus::Usurped(winner));
            return false;
        }
        for rival in rivals {
            if self.queues.remove(&rival.hash).is_some() {
                self.notify_final(rival.hash, TxStatus::Usurped(tx.hash));
            }
        }
        self.queues.insert(tx, valid_till);
        true
    }

    fn ban(&mut self, hash: TxHash, until: Instant) {
        let now = Instant::now();
        while let Some((end, banned)) = self.ban_order.front() {
            if *end > now {
                break;
            }
            // Unless banned again since (or already forgotten).
            if self.banned.get(banned) == Some(end) {
                self.banned.remove(banned);
            }
            self.ban_order.pop_front();
        }
        self.banned.insert(hash, until);
        self.ban_order.push_back((until, hash));
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

    /// Sends `Ready`/`Future` to the watchers of transactions whose queue changed since the
    /// last call (and to those of `new`, a transaction just added, whichever queue it is in);
    /// returns the transactions that became ready (`new` first).
    fn notify_moves(&mut self, new: Option<TxHash>) -> Vec<TxHash> {
        let mut became_ready = Vec::new();
        let new = new.filter(|hash| self.queues.contains(hash));
        if let Some(hash) = new {
            let ready = self.queues.is_ready(&hash);
            self.notify(hash, if ready { TxStatus::Ready } else { TxStatus::Future });
            if ready {
                became_ready.push(hash);
            }
        }
        for (hash, ready) in self.queues.take_moves() {
            if Some(hash) == new {
                continue;
            }
            self.notify(hash, if ready { TxStatus::Ready } else { TxStatus::Future });
            if ready {
                became_ready.push(hash);
            }
        }
        became_ready
    }

    /// Evicts the worst transactions (future ones first, then ready ones; lowest priority, then
    /// newest) until both queues are within their limits; evicted watchers get `Dropped`.
    /// Evicting a ready transaction demotes its dependents, which may then be evicted from the
    /// future queue.
    fn enforce_limits(&mut self, config: &PoolConfig) -> Vec<TxHash> {
        let mut dropped = Vec::new();
        loop {
            let (ready, future) = (self.queues.ready_size(), self.queues.future_size());
            let future_over =
                future.count > config.future.count || future.bytes > config.future.total_bytes;
            let ready_over =
                ready.count > config.ready.count || ready.bytes > config.ready.total_bytes;
            if !future_over && !ready_over {
                break;
            }
            let Some(worst) = self.queues.worst(!future_over) else { break };
            self.queues.remove(&worst);
            self.notify_final(worst, TxStatus::Dropped);
            dropped.push(worst);
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
