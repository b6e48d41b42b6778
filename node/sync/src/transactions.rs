//! Transaction gossip: transactions received from peers go into the pool (and are forwarded
//! only if it admits them); transactions that become ready in the pool and did not come from the
//! network (RPC submissions) are published.

use parking_lot::Mutex;
use sp_runtime::transaction_validity::TransactionSource;
use std::{
    collections::{HashSet, VecDeque},
    hash::Hash as StdHash,
    sync::Arc,
};
use subtensor_network_api::{Acceptance, GossipMessage, NetworkService, Topic};
use subtensor_txpool::{Pool, PoolError, TxHash};
use tokio::sync::{broadcast, mpsc, Semaphore};

/// How many hashes of network-received transactions are remembered.
const RECEIVED_CAPACITY: usize = 8192;
/// How many received transactions are validated at once.
const CONCURRENT_SUBMISSIONS: usize = 4;

/// A set that forgets its oldest entries beyond a capacity.
#[derive(Debug)]
pub struct RecentSet<T> {
    set: HashSet<T>,
    order: VecDeque<T>,
    capacity: usize,
}

impl<T: Clone + Eq + StdHash> RecentSet<T> {
    /// An empty set keeping at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self { set: HashSet::new(), order: VecDeque::new(), capacity: capacity.max(1) }
    }

    /// Add `value`, forgetting the oldest entry when full; false if it was already there.
    pub fn insert(&mut self, value: T) -> bool {
        if self.set.contains(&value) {
            return false;
        }
        if self.order.len() >= self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.set.remove(&oldest);
            }
        }
        self.set.insert(value.clone());
        self.order.push_back(value);
        true
    }

    /// Whether `value` is in the set.
    pub fn contains(&self, value: &T) -> bool {
        self.set.contains(value)
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// The verdict on a gossiped transaction given the pool's answer.
pub fn acceptance(result: &Result<TxHash, PoolError>) -> Acceptance {
    match result {
        Ok(_) | Err(PoolError::AlreadyImported(_)) => Acceptance::Accept,
        Err(PoolError::BadFormat(_)) => Acceptance::Reject,
        // Invalid here and now (stale nonce, banned, pool full...) is not proof of malice.
        Err(_) => Acceptance::Ignore,
    }
}

/// Run transaction gossip until both the network's and the pool's streams end.
pub(crate) async fn run(
    network: Arc<dyn NetworkService>,
    pool: Arc<Pool>,
    mut gossip: mpsc::Receiver<GossipMessage>,
    mut ready: broadcast::Receiver<TxHash>,
) {
    let received = Arc::new(Mutex::new(RecentSet::new(RECEIVED_CAPACITY)));
    let permits = Arc::new(Semaphore::new(CONCURRENT_SUBMISSIONS));
    let mut ready_open = true;
    loop {
        tokio::select! {
            message = gossip.recv() => {
                let Some(message) = message else { break };
                let hash = TxHash::from(sp_crypto_hashing::blake2_256(&message.data));
                received.lock().insert(hash);
                let Ok(permit) = permits.clone().acquire_owned().await else { break };
                let pool = pool.clone();
                let network = network.clone();
                tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    let result = pool.submit(TransactionSource::External, &message.data);
                    if let Err(e) = &result {
                        log::trace!(target: "sync", "gossiped transaction {hash:?}: {e}");
                    }
                    network.validate(message.id, message.source, acceptance(&result));
                });
            }
            hash = ready.recv(), if ready_open => match hash {
                Ok(hash) => {
                    if received.lock().contains(&hash) {
                        continue;
                    }
                    if let Some(tx) = pool.get(&hash) {
                        if tx.propagate {
                            log::trace!(target: "sync", "publishing transaction {hash:?}");
                            network.publish(Topic::Transactions, tx.data.clone());
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    log::debug!(target: "sync", "missed {missed} ready transactions to publish");
                }
                Err(broadcast::error::RecvError::Closed) => ready_open = false,
            },
        }
    }
    log::debug!(target: "sync", "transaction gossip stopped");
}
