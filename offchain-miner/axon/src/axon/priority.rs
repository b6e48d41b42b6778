//! Global admission: at most `max_concurrent` requests are handled at once, across all callers.
//! When every slot is taken, requests wait in a priority queue and are admitted highest
//! [`Priority`] first, first come first served among equals. A waiter whose deadline passes (or
//! whose client goes away) leaves the queue without ever reaching its handler.

use crate::{AxonError, Result};
use parking_lot::Mutex;
use sp_core::crypto::AccountId32;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;
use tokio::sync::oneshot;

/// How urgent a verified hotkey's requests are: higher first (a validator's stake, say).
/// NaN counts as the lowest priority.
pub trait Priority: Send + Sync {
    /// The priority of `hotkey`.
    fn priority(&self, hotkey: &AccountId32) -> f64;
}

impl<F: Fn(&AccountId32) -> f64 + Send + Sync> Priority for F {
    fn priority(&self, hotkey: &AccountId32) -> f64 {
        self(hotkey)
    }
}

/// A [`Priority`] that ranks everyone the same: plain first come, first served.
#[derive(Clone, Copy, Debug, Default)]
pub struct EqualPriority;

impl Priority for EqualPriority {
    fn priority(&self, _hotkey: &AccountId32) -> f64 {
        0.0
    }
}

/// One queued request.
struct Waiter {
    priority: f64,
    seq: u64,
    tx: oneshot::Sender<()>,
}

impl Waiter {
    /// Max-heap order: higher priority first, then the earlier arrival (lower `seq`).
    fn rank(&self, other: &Self) -> Ordering {
        self.priority.total_cmp(&other.priority).then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.rank(other) == Ordering::Equal
    }
}

impl Eq for Waiter {}

impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiter {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank(other)
    }
}

#[derive(Default)]
struct GateState {
    /// Slots held (running requests, plus slots handed to a waiter not yet running).
    running: usize,
    /// Waiting requests. Invariant: non-empty only while `running == capacity`.
    queue: BinaryHeap<Waiter>,
    next_seq: u64,
}

struct Inner {
    capacity: usize,
    max_queued: usize,
    state: Mutex<GateState>,
}

impl Inner {
    /// Frees one slot: hands it to the best live waiter, or returns it to the pool.
    fn release(&self) {
        let mut s = self.state.lock();
        while let Some(w) = s.queue.pop() {
            // Sent under the lock, so a cancelling waiter sees either the slot or no entry.
            if w.tx.send(()).is_ok() {
                return;
            }
        }
        s.running = s.running.saturating_sub(1);
    }
}

/// The shared admission gate of one axon.
#[derive(Clone)]
pub(crate) struct PriorityGate {
    inner: Arc<Inner>,
}

/// One admission slot, released (and handed to the next waiter) when dropped.
pub(crate) struct GatePermit {
    inner: Arc<Inner>,
}

impl Drop for GatePermit {
    fn drop(&mut self) {
        self.inner.release();
    }
}

/// A queued request's handle; leaving the queue cleanly if dropped before it is admitted.
struct Waiting {
    inner: Arc<Inner>,
    seq: u64,
    rx: oneshot::Receiver<()>,
    settled: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Cancelled while queued (deadline or client gone). Leave the queue; if a slot was
        // handed over meanwhile, pass it on.
        self.inner.state.lock().queue.retain(|w| w.seq != self.seq);
        self.rx.close();
        if self.rx.try_recv().is_ok() {
            self.inner.release();
        }
    }
}

impl PriorityGate {
    /// A gate with `capacity` slots (at least 1) and at most `max_queued` waiters (at least 1).
    pub(crate) fn new(capacity: usize, max_queued: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                capacity: capacity.max(1),
                max_queued: max_queued.max(1),
                state: Mutex::default(),
            }),
        }
    }

    /// Waits for a slot. With the queue full, a newcomer displaces the lowest-priority waiter
    /// if it outranks it, else it is refused; both get [`AxonError::Overloaded`]. Cancel by
    /// dropping the future (e.g. under a timeout).
    pub(crate) async fn acquire(&self, priority: f64) -> Result<GatePermit> {
        let priority = if priority.is_nan() { f64::NEG_INFINITY } else { priority };
        let (seq, rx) = {
            let mut s = self.inner.state.lock();
            if s.running < self.inner.capacity && s.queue.is_empty() {
                s.running = s.running.saturating_add(1);
                return Ok(GatePermit { inner: self.inner.clone() });
            }
            if s.queue.len() >= self.inner.max_queued {
                let lowest = s.queue.iter().min().map(|w| (w.priority, w.seq));
                match lowest {
                    Some((p, seq)) if p < priority => s.queue.retain(|w| w.seq != seq),
                    _ => {
                        return Err(AxonError::Overloaded(format!(
                            "{} requests already waiting",
                            s.queue.len()
                        )))
                    }
                }
            }
            let seq = s.next_seq;
            s.next_seq = s.next_seq.wrapping_add(1);
            let (tx, rx) = oneshot::channel();
            s.queue.push(Waiter { priority, seq, tx });
            (seq, rx)
        };
        let mut waiting = Waiting { inner: self.inner.clone(), seq, rx, settled: false };
        let outcome = (&mut waiting.rx).await;
        waiting.settled = true;
        match outcome {
            Ok(()) => Ok(GatePermit { inner: self.inner.clone() }),
            Err(_) => {
                Err(AxonError::Overloaded("displaced by a higher-priority request".to_owned()))
            }
        }
    }

    /// (slots held, requests waiting).
    #[cfg(test)]
    fn load(&self) -> (usize, usize) {
        let s = self.inner.state.lock();
        (s.running, s.queue.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Spawns a waiter that records its name once admitted and holds the slot until `hold`.
    fn waiter(
        gate: &PriorityGate,
        name: &'static str,
        priority: f64,
        order: &Arc<Mutex<Vec<&'static str>>>,
    ) -> tokio::task::JoinHandle<Result<()>> {
        let (gate, order) = (gate.clone(), order.clone());
        tokio::spawn(async move {
            let _permit = gate.acquire(priority).await?;
            order.lock().push(name);
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok(())
        })
    }

    async fn until_queued(gate: &PriorityGate, n: usize) {
        while gate.load().1 < n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test]
    async fn highest_priority_first_fifo_among_equals() {
        let gate = PriorityGate::new(1, 16);
        let order = Arc::new(Mutex::new(Vec::new()));
        let blocker = gate.acquire(0.0).await.unwrap();
        let mut tasks = Vec::new();
        for (i, (name, p)) in [
            ("low1", 1.0),
            ("high1", 9.0),
            ("low2", 1.0),
            ("nan", f64::NAN),
            ("high2", 9.0),
            ("mid", 5.0),
        ]
        .into_iter()
        .enumerate()
        {
            tasks.push(waiter(&gate, name, p, &order));
            until_queued(&gate, i + 1).await;
        }
        drop(blocker);
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(*order.lock(), ["high1", "high2", "mid", "low1", "low2", "nan"]);
        assert_eq!(gate.load(), (0, 0));
    }

    #[tokio::test]
    async fn capacity_is_shared_and_cancelled_waiters_leave() {
        let gate = PriorityGate::new(2, 16);
        let a = gate.acquire(0.0).await.unwrap();
        let b = gate.acquire(0.0).await.unwrap();
        assert_eq!(gate.load(), (2, 0));
        // A waiter that times out leaves the queue and never gets a slot.
        let timed_out = tokio::time::timeout(Duration::from_millis(20), gate.acquire(100.0)).await;
        assert!(timed_out.is_err());
        assert_eq!(gate.load(), (2, 0));
        drop(a);
        assert_eq!(gate.load(), (1, 0));
        let c = gate.acquire(0.0).await.unwrap();
        drop((b, c));
        assert_eq!(gate.load(), (0, 0));
    }

    #[tokio::test]
    async fn a_slot_handed_to_a_cancelled_waiter_is_passed_on() {
        let gate = PriorityGate::new(1, 16);
        let held = gate.acquire(0.0).await.unwrap();
        let mut first = Box::pin(gate.acquire(5.0));
        // Poll once so it queues.
        assert!(futures_poll_once(first.as_mut()).await.is_none());
        let order = Arc::new(Mutex::new(Vec::new()));
        let second = waiter(&gate, "second", 1.0, &order);
        until_queued(&gate, 2).await;
        // The slot goes to `first`, which is dropped before it ever runs: `second` gets it.
        drop(held);
        drop(first);
        second.await.unwrap().unwrap();
        assert_eq!(*order.lock(), ["second"]);
        assert_eq!(gate.load(), (0, 0));
    }

    /// Polls a future once; `Some` if it finished.
    async fn futures_poll_once<F: std::future::Future + Unpin>(f: F) -> Option<F::Output> {
        let mut f = f;
        std::future::poll_fn(move |cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }

    #[tokio::test]
    async fn full_queue_displaces_the_lowest_or_refuses() {
        let gate = PriorityGate::new(1, 2);
        let held = gate.acquire(0.0).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let low = waiter(&gate, "low", 1.0, &order);
        let mid = waiter(&gate, "mid", 5.0, &order);
        until_queued(&gate, 2).await;
        // Not above the lowest waiter: refused.
        assert!(matches!(gate.acquire(1.0).await, Err(AxonError::Overloaded(_))));
        // Above it: takes its place, and the displaced one is told.
        let high = waiter(&gate, "high", 9.0, &order);
        let displaced = low.await.unwrap();
        assert!(matches!(displaced, Err(AxonError::Overloaded(_))), "{displaced:?}");
        until_queued(&gate, 2).await;
        drop(held);
        high.await.unwrap().unwrap();
        mid.await.unwrap().unwrap();
        assert_eq!(*order.lock(), ["high", "mid"]);
        assert_eq!(gate.load(), (0, 0));
    }
}
