//! [`NonceCache`]: freshness window plus a bounded replay cache of `(hotkey, uuid, nonce)`.
//!
//! A nonce is accepted when `now − back − timeout < nonce < now + ahead` and the triple was not
//! seen before. Entries are dropped once their nonce has left the widest possible window, so a
//! dropped entry can never be replayed successfully. If the cache is full of live entries, new
//! requests are refused ([`AxonError::NonceCacheFull`]) rather than evicting live entries.

use crate::{AxonError, Result};
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

/// The replay cache. Not internally synchronised; the axon wraps it in a mutex.
#[derive(Debug)]
pub struct NonceCache {
    back: Duration,
    ahead: Duration,
    max_timeout: Duration,
    capacity: usize,
    seen: HashSet<(String, u64)>,
    by_nonce: BTreeSet<(u64, String)>,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl NonceCache {
    /// A cache accepting nonces up to `back + timeout` old (timeout capped at `max_timeout`)
    /// and `ahead` in the future, holding at most `capacity` entries.
    pub fn new(back: Duration, ahead: Duration, max_timeout: Duration, capacity: usize) -> Self {
        Self { back, ahead, max_timeout, capacity, seen: HashSet::new(), by_nonce: BTreeSet::new() }
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Checks and records `nonce` for `key` (`"{hotkey}:{uuid}"`) at time `now_ns`.
    pub fn check(&mut self, key: &str, nonce: u64, timeout: Duration, now_ns: u64) -> Result<()> {
        let window = self.back.saturating_add(timeout.min(self.max_timeout));
        if nonce <= now_ns.saturating_sub(nanos(window)) {
            return Err(AxonError::StaleNonce { window_ms: window.as_millis() });
        }
        if nonce >= now_ns.saturating_add(nanos(self.ahead)) {
            return Err(AxonError::FutureNonce);
        }
        self.prune(now_ns);
        let entry = (key.to_owned(), nonce);
        if self.seen.contains(&entry) {
            return Err(AxonError::ReplayedNonce);
        }
        if self.seen.len() >= self.capacity {
            return Err(AxonError::NonceCacheFull);
        }
        self.by_nonce.insert((nonce, entry.0.clone()));
        self.seen.insert(entry);
        Ok(())
    }

    /// Drops every entry whose nonce is older than the widest window.
    fn prune(&mut self, now_ns: u64) {
        let cutoff = now_ns.saturating_sub(nanos(self.back.saturating_add(self.max_timeout)));
        while let Some(first) = self.by_nonce.first() {
            if first.0 > cutoff {
                break;
            }
            if let Some((nonce, key)) = self.by_nonce.pop_first() {
                self.seen.remove(&(key, nonce));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn cache(cap: usize) -> NonceCache {
        NonceCache::new(
            Duration::from_secs(4),
            Duration::from_secs(2),
            Duration::from_secs(10),
            cap,
        )
    }

    #[test]
    fn fresh_replayed_stale_future() {
        let mut c = cache(10);
        let now = 100 * S;
        let t = Duration::from_secs(3);
        c.check("a:u", now - S, t, now).unwrap();
        assert!(matches!(c.check("a:u", now - S, t, now), Err(AxonError::ReplayedNonce)));
        c.check("b:u", now - S, t, now).unwrap();
        c.check("a:u", now - 2 * S, t, now).unwrap(); // Out of order but unseen: fine.
        assert!(matches!(c.check("a:u", now - 8 * S, t, now), Err(AxonError::StaleNonce { .. })));
        assert!(matches!(c.check("a:u", now + 3 * S, t, now), Err(AxonError::FutureNonce)));
    }

    #[test]
    fn bounded_and_pruned() {
        let mut c = cache(2);
        let now = 100 * S;
        let t = Duration::from_secs(10);
        c.check("a", now - 13 * S, t, now).unwrap();
        c.check("a", now - 12 * S, t, now).unwrap();
        assert!(matches!(c.check("a", now, t, now), Err(AxonError::NonceCacheFull)));
        // Twenty seconds later both entries are outside any window and get pruned.
        let later = now + 20 * S;
        c.check("a", later, t, later).unwrap();
        assert_eq!(c.len(), 1);
    }
}
