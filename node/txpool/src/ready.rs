//! Readiness (which transactions have all their `requires` tags provided), kept up to date
//! incrementally, and the best-first iterator the block builder consumes.
//!
//! A transaction is *ready* when every tag it requires is provided by another ready
//! transaction; the runtime leaves out of `requires` whatever the chain state already
//! satisfies (for nonces: a transaction with the account's next nonce requires nothing). The
//! ready set is therefore the closure of the transactions that require nothing (the reference
//! definition, [`compute_ready`], is kept for the tests).
//!
//! [`Queues`] does not recompute that closure: every pooled transaction counts the tags it
//! requires that no ready transaction provides yet, and an index says which transactions wait
//! for each tag. Adding a transaction whose count is zero makes it ready and promotes, tag by
//! tag, the transactions waiting for what it provides (transitively); removing a ready one
//! demotes those that relied on it (transitively). A change costs what it touches, not the
//! size of the pool. Both queues are also kept ordered by priority and age, for the block
//! builder (best first) and for the limits (worst first).

use crate::{PoolTransaction, Tag, TxHash};
use std::{
    cmp::{Ordering, Reverse},
    collections::{hash_map::Entry as MapEntry, BTreeMap, BinaryHeap, HashMap, HashSet},
    sync::Arc,
};

/// Order of transactions within a queue: ascending is worst first (lowest priority, then
/// newest), descending is best first.
pub(crate) type OrderKey = (u64, Reverse<u64>);

fn order_key(tx: &PoolTransaction) -> OrderKey {
    (tx.priority, Reverse(tx.insertion_id))
}

/// The tags of `tags` without repetitions, in their first order.
pub(crate) fn distinct_tags(tags: Vec<Tag>) -> Vec<Tag> {
    if tags.len() < 2 {
        return tags;
    }
    let mut seen = HashSet::with_capacity(tags.len());
    tags.into_iter().filter(|tag| seen.insert(tag.clone())).collect()
}

/// A pooled transaction and where it stands.
struct Entry {
    tx: Arc<PoolTransaction>,
    /// How many of its `requires` tags no ready transaction provides.
    unresolved: usize,
    ready: bool,
    /// The best block number from which it is stale: the number it was last validated at plus
    /// its longevity (Substrate's `valid_till`).
    valid_till: u64,
}

/// Counts and bytes of one queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct QueueSize {
    pub(crate) count: usize,
    pub(crate) bytes: usize,
}

impl QueueSize {
    fn add(&mut self, len: usize) {
        self.count = self.count.saturating_add(1);
        self.bytes = self.bytes.saturating_add(len);
    }

    fn sub(&mut self, len: usize) {
        self.count = self.count.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(len);
    }
}

/// The pooled transactions, their tags and the two queues (ready and future).
///
/// Every transaction's `requires` and `provides` must be free of repetitions
/// ([`distinct_tags`]), and no two transactions may provide the same tag: the caller removes
/// rivals before [`Queues::insert`].
#[derive(Default)]
pub(crate) struct Queues {
    txs: HashMap<TxHash, Entry>,
    /// Provider of every tag provided by a pooled transaction.
    by_tag: HashMap<Tag, TxHash>,
    /// The pooled transactions requiring each tag.
    wanted_by: HashMap<Tag, HashSet<TxHash>>,
    ready_order: BTreeMap<OrderKey, TxHash>,
    future_order: BTreeMap<OrderKey, TxHash>,
    ready_size: QueueSize,
    future_size: QueueSize,
    /// Transactions whose queue changed since the last [`Queues::take_moves`], with whether
    /// they were ready before the first change.
    moved: HashMap<TxHash, bool>,
}

impl Queues {
    pub(crate) fn contains(&self, hash: &TxHash) -> bool {
        self.txs.contains_key(hash)
    }

    pub(crate) fn get(&self, hash: &TxHash) -> Option<&Arc<PoolTransaction>> {
        self.txs.get(hash).map(|entry| &entry.tx)
    }

    pub(crate) fn is_ready(&self, hash: &TxHash) -> bool {
        self.txs.get(hash).is_some_and(|entry| entry.ready)
    }

    /// The pooled transaction providing `tag`.
    pub(crate) fn provider(&self, tag: &[u8]) -> Option<&TxHash> {
        self.by_tag.get(tag)
    }

    /// Whether a ready transaction provides `tag`.
    pub(crate) fn ready_provides(&self, tag: &[u8]) -> bool {
        self.by_tag.get(tag).is_some_and(|hash| self.is_ready(hash))
    }

    pub(crate) fn ready_size(&self) -> QueueSize {
        self.ready_size
    }

    pub(crate) fn future_size(&self) -> QueueSize {
        self.future_size
    }

    /// Every pooled transaction.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<PoolTransaction>> {
        self.txs.values().map(|entry| &entry.tx)
    }

    /// The ready transactions, best first (not in dependency order).
    pub(crate) fn ready_best_first(&self) -> impl Iterator<Item = &Arc<PoolTransaction>> {
        self.ready_order.values().rev().filter_map(|hash| self.get(hash))
    }

    /// The worst transaction of one queue: lowest priority, then newest.
    pub(crate) fn worst(&self, ready: bool) -> Option<TxHash> {
        let order = if ready { &self.ready_order } else { &self.future_order };
        order.values().next().copied()
    }

    /// The transactions stale at best block `number` (`valid_till <= number`).
    pub(crate) fn stale(&self, number: u64) -> Vec<TxHash> {
        self.txs
            .iter()
            .filter(|(_, entry)| entry.valid_till <= number)
            .map(|(hash, _)| *hash)
            .collect()
    }

    /// Sets when the transaction `hash` becomes stale (after a revalidation).
    pub(crate) fn set_valid_till(&mut self, hash: &TxHash, valid_till: u64) {
        if let Some(entry) = self.txs.get_mut(hash) {
            entry.valid_till = valid_till;
        }
    }

    /// Replaces the pooled transaction with `tx`'s hash by `tx`, revalidated with the same
    /// `requires` and `provides` (so its queue stays), and sets when it becomes stale.
    pub(crate) fn update(&mut self, tx: Arc<PoolTransaction>, valid_till: u64) {
        let Some(entry) = self.txs.get_mut(&tx.hash) else { return };
        debug_assert!(entry.tx.requires == tx.requires && entry.tx.provides == tx.provides);
        let (old_key, new_key) = (order_key(&entry.tx), order_key(&tx));
        if old_key != new_key {
            let order = if entry.ready { &mut self.ready_order } else { &mut self.future_order };
            order.remove(&old_key);
            order.insert(new_key, tx.hash);
        }
        entry.tx = tx;
        entry.valid_till = valid_till;
    }

    /// Adds `tx`, which is not pooled and provides no pooled tag; it is ready at once if every
    /// tag it requires is provided by a ready transaction, and then promotes the transactions
    /// waiting for its tags.
    pub(crate) fn insert(&mut self, tx: Arc<PoolTransaction>, valid_till: u64) {
        let hash = tx.hash;
        debug_assert!(!self.txs.contains_key(&hash), "inserting a pooled transaction");
        let mut unresolved = 0usize;
        for tag in &tx.requires {
            self.wanted_by.entry(tag.clone()).or_default().insert(hash);
            let provided = self.by_tag.get(tag).is_some_and(|p| *p != hash && self.is_ready(p));
            if !provided {
                unresolved = unresolved.saturating_add(1);
            }
        }
        for tag in &tx.provides {
            let previous = self.by_tag.insert(tag.clone(), hash);
            debug_assert!(previous.is_none(), "a tag provided twice");
        }
        self.future_order.insert(order_key(&tx), hash);
        self.future_size.add(tx.len());
        self.txs.insert(hash, Entry { tx, unresolved, ready: false, valid_till });
        if unresolved == 0 {
            self.promote(hash);
        }
    }

    /// Removes the transaction `hash`; if it was ready, the transactions that needed its tags
    /// fall back to the future queue (transitively).
    pub(crate) fn remove(&mut self, hash: &TxHash) -> Option<Arc<PoolTransaction>> {
        let entry = self.txs.remove(hash)?;
        let tx = entry.tx;
        let key = order_key(&tx);
        if entry.ready {
            self.ready_order.remove(&key);
            self.ready_size.sub(tx.len());
            self.moved.entry(*hash).or_insert(true);
            self.demote_dependents_of(&tx);
        } else {
            self.future_order.remove(&key);
            self.future_size.sub(tx.len());
        }
        for tag in &tx.provides {
            if self.by_tag.get(tag) == Some(hash) {
                self.by_tag.remove(tag);
            }
        }
        for tag in &tx.requires {
            if let MapEntry::Occupied(mut waiting) = self.wanted_by.entry(tag.clone()) {
                waiting.get_mut().remove(hash);
                if waiting.get().is_empty() {
                    waiting.remove();
                }
            }
        }
        Some(tx)
    }

    /// Moves a pooled transaction between the queues.
    fn set_ready(&mut self, hash: TxHash, ready: bool) {
        let Some(entry) = self.txs.get_mut(&hash) else { return };
        if entry.ready == ready {
            return;
        }
        entry.ready = ready;
        let key = order_key(&entry.tx);
        let len = entry.tx.len();
        self.moved.entry(hash).or_insert(!ready);
        if ready {
            self.future_order.remove(&key);
            self.future_size.sub(len);
            self.ready_order.insert(key, hash);
            self.ready_size.add(len);
        } else {
            self.ready_order.remove(&key);
            self.ready_size.sub(len);
            self.future_order.insert(key, hash);
            self.future_size.add(len);
        }
    }

    /// Makes `start` (whose tags are all provided) ready, and every transaction that this
    /// unblocks, transitively.
    fn promote(&mut self, start: TxHash) {
        let mut stack = vec![start];
        while let Some(hash) = stack.pop() {
            let Some(entry) = self.txs.get(&hash) else { continue };
            if entry.ready || entry.unresolved != 0 {
                continue;
            }
            let tx = entry.tx.clone();
            self.set_ready(hash, true);
            for tag in &tx.provides {
                let Some(waiting) = self.wanted_by.get(tag) else { continue };
                for dependent in waiting {
                    if *dependent == hash {
                        continue;
                    }
                    if let Some(entry) = self.txs.get_mut(dependent) {
                        entry.unresolved = entry.unresolved.saturating_sub(1);
                        if entry.unresolved == 0 {
                            stack.push(*dependent);
                        }
                    }
                }
            }
        }
    }

    /// `tx` (ready until now) no longer provides its tags to the ready set: the transactions
    /// waiting for them lose one provided tag each, and those that were ready are demoted,
    /// transitively.
    fn demote_dependents_of(&mut self, tx: &Arc<PoolTransaction>) {
        let mut stack = vec![tx.clone()];
        while let Some(tx) = stack.pop() {
            let dependents: Vec<TxHash> = tx
                .provides
                .iter()
                .filter_map(|tag| self.wanted_by.get(tag))
                .flatten()
                .filter(|dependent| **dependent != tx.hash)
                .copied()
                .collect();
            for dependent in dependents {
                let Some(entry) = self.txs.get_mut(&dependent) else { continue };
                entry.unresolved = entry.unresolved.saturating_add(1);
                if entry.ready {
                    let demoted = entry.tx.clone();
                    self.set_ready(dependent, false);
                    stack.push(demoted);
                }
            }
        }
    }

    /// The transactions whose queue changed since the last call, still pooled and now in the
    /// other queue than before, with whether they are ready now.
    pub(crate) fn take_moves(&mut self) -> Vec<(TxHash, bool)> {
        let moved = std::mem::take(&mut self.moved);
        moved
            .into_iter()
            .filter_map(|(hash, was_ready)| {
                let now = self.txs.get(&hash)?.ready;
                (now != was_ready).then_some((hash, now))
            })
            .collect()
    }

    /// Checks every index against the transactions (for the tests): tags, waiting lists,
    /// counts, orders, sizes, and the ready set against [`compute_ready`].
    #[cfg(test)]
    pub(crate) fn check(&self) {
        let txs: HashMap<TxHash, Arc<PoolTransaction>> =
            self.txs.iter().map(|(hash, entry)| (*hash, entry.tx.clone())).collect();
        let expected = compute_ready(&txs, &self.by_tag);
        let actual: HashSet<TxHash> =
            self.txs.iter().filter(|(_, e)| e.ready).map(|(hash, _)| *hash).collect();
        assert_eq!(actual, expected, "incremental ready set differs from the closure");
        let mut tags = 0usize;
        let (mut ready, mut future) = (QueueSize::default(), QueueSize::default());
        for (hash, entry) in &self.txs {
            for tag in &entry.tx.provides {
                assert_eq!(self.by_tag.get(tag), Some(hash), "provider index");
                tags = tags.saturating_add(1);
            }
            let mut unresolved = 0usize;
            for tag in &entry.tx.requires {
                assert!(self.wanted_by.get(tag).is_some_and(|w| w.contains(hash)), "waiting");
                if !self.by_tag.get(tag).is_some_and(|p| p != hash && self.is_ready(p)) {
                    unresolved = unresolved.saturating_add(1);
                }
            }
            assert_eq!(entry.unresolved, unresolved, "unresolved count");
            let (order, size) = if entry.ready {
                (&self.ready_order, &mut ready)
            } else {
                (&self.future_order, &mut future)
            };
            assert_eq!(order.get(&order_key(&entry.tx)), Some(hash), "queue order");
            size.add(entry.tx.len());
        }
        assert_eq!(self.by_tag.len(), tags, "stale provider index entries");
        let waiting: usize = self.wanted_by.values().map(HashSet::len).sum();
        let requires: usize = self.txs.values().map(|e| e.tx.requires.len()).sum();
        assert_eq!(waiting, requires, "stale waiting index entries");
        assert_eq!(self.ready_order.len().saturating_add(self.future_order.len()), self.txs.len());
        assert_eq!((self.ready_size, self.future_size), (ready, future), "queue sizes");
    }
}

/// The ready subset of `txs`, given the provider of every tag: the closure of the
/// transactions that require nothing, recomputed from scratch (the reference the incremental
/// [`Queues`] is tested against).
#[cfg(test)]
pub(crate) fn compute_ready(
    txs: &HashMap<TxHash, Arc<PoolTransaction>>,
    by_tag: &HashMap<Tag, TxHash>,
) -> HashSet<TxHash> {
    let mut unresolved: HashMap<TxHash, usize> = HashMap::with_capacity(txs.len());
    let mut dependents: HashMap<TxHash, Vec<TxHash>> = HashMap::new();
    let mut queue: Vec<TxHash> = Vec::new();
    for (hash, tx) in txs {
        let mut count = 0usize;
        let mut blocked = false;
        for tag in &tx.requires {
            match by_tag.get(tag) {
                Some(provider) if provider != hash => {
                    dependents.entry(*provider).or_default().push(*hash);
                    count = count.saturating_add(1);
                }
                // Nobody in the pool provides it (or only the transaction itself): it must
                // wait for a future transaction.
                _ => blocked = true,
            }
        }
        if blocked {
            unresolved.insert(*hash, usize::MAX);
        } else if count == 0 {
            queue.push(*hash);
        } else {
            unresolved.insert(*hash, count);
        }
    }
    let mut ready = HashSet::with_capacity(txs.len());
    while let Some(hash) = queue.pop() {
        if !ready.insert(hash) {
            continue;
        }
        for dependent in dependents.get(&hash).map(Vec::as_slice).unwrap_or_default() {
            if let Some(count) = unresolved.get_mut(dependent) {
                if *count == usize::MAX {
                    continue;
                }
                *count = count.saturating_sub(1);
                if *count == 0 {
                    queue.push(*dependent);
                }
            }
        }
    }
    ready
}

/// Heap entry: higher priority first, then older first.
struct Best(Arc<PoolTransaction>);

impl PartialEq for Best {
    fn eq(&self, other: &Self) -> bool {
        order_key(&self.0) == order_key(&other.0)
    }
}
impl Eq for Best {}
impl PartialOrd for Best {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Best {
    fn cmp(&self, other: &Self) -> Ordering {
        order_key(&self.0).cmp(&order_key(&other.0))
    }
}

/// Ready transactions, best first, never yielding a transaction before the ones providing its
/// `requires` tags.
///
/// Works on a snapshot: the pool may change while a block is built. The snapshot is taken in
/// the pool's best-first order, so nothing is sorted: transactions that require nothing are
/// yielded from that list, merged with a heap holding only the dependents unlocked so far.
/// When the builder finds a yielded transaction invalid, [`ReadyIter::report_invalid`] keeps
/// the transactions that depend on it from being yielded.
pub struct ReadyIter {
    /// Ready transactions requiring nothing, best first; `roots[next_root..]` are left.
    roots: Vec<Arc<PoolTransaction>>,
    next_root: usize,
    /// Unlocked dependents.
    heap: BinaryHeap<Best>,
    /// Ready transactions that require tags, with how many are not yet yielded.
    waiting: HashMap<TxHash, (Arc<PoolTransaction>, usize)>,
    /// The waiting transactions requiring each tag.
    wanted_by: HashMap<Tag, Vec<TxHash>>,
    /// The last yielded transaction; its dependents are unlocked on the next call unless it was
    /// reported invalid in between.
    last: Option<Arc<PoolTransaction>>,
}

impl ReadyIter {
    /// Builds the iterator from the ready transactions, best first; every tag a ready
    /// transaction requires is provided by another ready one.
    pub(crate) fn new<'a>(ready: impl Iterator<Item = &'a Arc<PoolTransaction>>) -> Self {
        let mut roots = Vec::new();
        let mut waiting = HashMap::new();
        let mut wanted_by: HashMap<Tag, Vec<TxHash>> = HashMap::new();
        for tx in ready {
            if tx.requires.is_empty() {
                roots.push(tx.clone());
            } else {
                for tag in &tx.requires {
                    wanted_by.entry(tag.clone()).or_default().push(tx.hash);
                }
                waiting.insert(tx.hash, (tx.clone(), tx.requires.len()));
            }
        }
        Self { roots, next_root: 0, heap: BinaryHeap::new(), waiting, wanted_by, last: None }
    }

    /// Marks a yielded transaction invalid: the transactions that need its tags are skipped.
    pub fn report_invalid(&mut self, tx: &PoolTransaction) {
        if self.last.as_ref().is_some_and(|last| last.hash == tx.hash) {
            self.last = None;
        }
    }

    fn unlock(&mut self, tx: &PoolTransaction) {
        for tag in &tx.provides {
            for dependent in self.wanted_by.remove(tag).unwrap_or_default() {
                if let MapEntry::Occupied(mut entry) = self.waiting.entry(dependent) {
                    let count = &mut entry.get_mut().1;
                    *count = count.saturating_sub(1);
                    if *count == 0 {
                        self.heap.push(Best(entry.remove().0));
                    }
                }
            }
        }
    }
}

impl Iterator for ReadyIter {
    type Item = Arc<PoolTransaction>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(last) = self.last.take() {
            self.unlock(&last);
        }
        let root = self.roots.get(self.next_root);
        let from_roots = match (root, self.heap.peek()) {
            (Some(root), Some(Best(unlocked))) => order_key(root) > order_key(unlocked),
            (Some(_), None) => true,
            (None, _) => false,
        };
        let tx = if from_roots {
            self.next_root = self.next_root.saturating_add(1);
            root.cloned()?
        } else {
            self.heap.pop()?.0
        };
        self.last = Some(tx.clone());
        Some(tx)
    }
}
