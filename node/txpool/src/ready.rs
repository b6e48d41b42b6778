//! Readiness (which transactions have all their `requires` tags provided) and the best-first
//! iterator the block builder consumes.
//!
//! A transaction is *ready* when every tag it requires is provided by another ready
//! transaction; the runtime leaves out of `requires` whatever the chain state already
//! satisfies (for nonces: a transaction with the account's next nonce requires nothing). The
//! ready set is therefore the closure computed by [`compute_ready`], a Kahn-style walk from
//! the transactions that require nothing.

use crate::{PoolTransaction, Tag, TxHash};
use std::{
    cmp::{Ordering, Reverse},
    collections::{BinaryHeap, HashMap, HashSet},
    sync::Arc,
};

/// The ready subset of `txs`, given the provider of every tag.
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

impl Best {
    fn key(&self) -> (u64, Reverse<u64>) {
        (self.0.priority, Reverse(self.0.insertion_id))
    }
}

impl PartialEq for Best {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
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
        self.key().cmp(&other.key())
    }
}

/// Ready transactions, best first, never yielding a transaction before the ones providing its
/// `requires` tags.
///
/// Works on a snapshot: the pool may change while a block is built. When the builder finds a
/// yielded transaction invalid, [`ReadyIter::report_invalid`] keeps the transactions that depend
/// on it from being yielded.
pub struct ReadyIter {
    dependents: HashMap<TxHash, Vec<Arc<PoolTransaction>>>,
    unresolved: HashMap<TxHash, usize>,
    heap: BinaryHeap<Best>,
    /// The last yielded transaction; its dependents are unlocked on the next call unless it was
    /// reported invalid in between.
    last: Option<TxHash>,
}

impl ReadyIter {
    /// Builds the iterator from the ready transactions and the provider of every tag.
    pub(crate) fn new(ready: Vec<Arc<PoolTransaction>>, by_tag: &HashMap<Tag, TxHash>) -> Self {
        let in_set: HashSet<TxHash> = ready.iter().map(|tx| tx.hash).collect();
        let mut dependents: HashMap<TxHash, Vec<Arc<PoolTransaction>>> = HashMap::new();
        let mut unresolved = HashMap::new();
        let mut heap = BinaryHeap::new();
        for tx in ready {
            let mut count = 0usize;
            for tag in &tx.requires {
                if let Some(provider) = by_tag.get(tag).filter(|p| in_set.contains(*p)) {
                    dependents.entry(*provider).or_default().push(tx.clone());
                    count = count.saturating_add(1);
                }
            }
            if count == 0 {
                heap.push(Best(tx));
            } else {
                unresolved.insert(tx.hash, count);
            }
        }
        Self { dependents, unresolved, heap, last: None }
    }

    /// Marks a yielded transaction invalid: the transactions that need its tags are skipped.
    pub fn report_invalid(&mut self, tx: &PoolTransaction) {
        if self.last == Some(tx.hash) {
            self.last = None;
        }
        self.dependents.remove(&tx.hash);
    }

    fn unlock(&mut self, hash: TxHash) {
        for dependent in self.dependents.remove(&hash).unwrap_or_default() {
            if let Some(count) = self.unresolved.get_mut(&dependent.hash) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    self.unresolved.remove(&dependent.hash);
                    self.heap.push(Best(dependent));
                }
            }
        }
    }
}

impl Iterator for ReadyIter {
    type Item = Arc<PoolTransaction>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(last) = self.last.take() {
            self.unlock(last);
        }
        let Best(tx) = self.heap.pop()?;
        self.last = Some(tx.hash);
        Some(tx)
    }
}
