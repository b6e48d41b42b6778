//! [`NonceCache`]: freshness window plus a bounded replay cache of `(hotkey, uuid, nonce)`, with
//! a per-hotkey quota.
//!
//! See [`NonceCache`] for the rules and the eviction policy.

use crate::{AxonError, Result};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The stateless timestamp rule: how old and how far ahead a nonce may be.
#[derive(Clone, Copy, Debug)]
pub struct Freshness {
    /// How old a nonce may be, on top of the request's timeout.
    pub back: Duration,
    /// How far in the future a nonce may be.
    pub ahead: Duration,
    /// Cap on the timeout that widens the window.
    pub max_timeout: Duration,
}

impl Freshness {
    /// Whether `nonce` is fresh at `now_ns` for a request with `timeout` (→ `StaleNonce` or
    /// `FutureNonce` if not).
    pub fn check(&self, nonce: u64, timeout: Duration, now_ns: u64) -> Result<()> {
        let window = self.back.saturating_add(timeout.min(self.max_timeout));
        if nonce <= now_ns.saturating_sub(nanos(window)) {
            return Err(AxonError::StaleNonce { window_ms: window.as_millis() });
        }
        if nonce >= now_ns.saturating_add(nanos(self.ahead)) {
            return Err(AxonError::FutureNonce);
        }
        Ok(())
    }

    /// Nonces at or below this are stale for every possible timeout: their entries can go.
    fn cutoff(&self, now_ns: u64) -> u64 {
        now_ns.saturating_sub(nanos(self.back.saturating_add(self.max_timeout)))
    }
}

/// The replay cache: freshness window, replay check, per-hotkey quota.
///
/// **Freshness** ([`Freshness`], stateless): a nonce is accepted when
/// `now − back − timeout < nonce < now + ahead` (the request's `timeout` capped at
/// `max_timeout`). The `timeout` header is not signed, so a replayer may widen the window up to
/// `back + max_timeout`; that widest window is how long an entry must be remembered.
///
/// **Replay**: a fresh nonce is also refused when its triple was recorded before.
///
/// **Eviction policy: none.** An entry is dropped only once its nonce has left the widest
/// window (`back + max_timeout`), pruned lazily on each check; from then on the freshness rule
/// alone refuses it, so a dropped entry can never be replayed successfully. Live entries are
/// never evicted to make room, so replay protection is exact. Room is bounded twice instead, and
/// when a bound is reached the *new* request is refused, not an old entry forgotten:
/// * per hotkey: a hotkey holding `per_hotkey` live entries gets
///   [`AxonError::NonceQuotaExceeded`] (429) until some of its own entries expire; nobody else is
///   affected;
/// * globally: once `capacity` live entries are held, every new request gets
///   [`AxonError::NonceCacheFull`] (503). With the quota, filling it takes at least
///   `capacity / per_hotkey` distinct *admitted* hotkeys each at its quota.
///
/// The axon records a nonce only after the blacklist and the per-hotkey rate and in-flight
/// limits admitted the verified hotkey ([`NonceCache::admit`] runs them between the replay check
/// and the insert, under the cache's lock), so refused callers (unregistered hotkeys, say) leave
/// no entry and cannot crowd out anyone.
///
/// Not internally synchronised; the axon wraps it in a mutex.
#[derive(Debug)]
pub struct NonceCache {
    fresh: Freshness,
    capacity: usize,
    per_hotkey: usize,
    /// Live entries `(nonce, hotkey, uuid)`, oldest nonce first (for pruning).
    entries: BTreeSet<(u64, String, String)>,
    /// Live entries per hotkey (no zero counts kept).
    counts: HashMap<String, usize>,
}

impl NonceCache {
    /// A cache accepting nonces up to `back + timeout` old (timeout capped at `max_timeout`)
    /// and `ahead` in the future, holding at most `capacity` entries in all and `per_hotkey`
    /// entries of any one hotkey.
    pub fn new(
        back: Duration,
        ahead: Duration,
        max_timeout: Duration,
        capacity: usize,
        per_hotkey: usize,
    ) -> Self {
        Self {
            fresh: Freshness { back, ahead, max_timeout },
            capacity,
            per_hotkey,
            entries: BTreeSet::new(),
            counts: HashMap::new(),
        }
    }

    /// The timestamp rule this cache applies.
    pub fn freshness(&self) -> Freshness {
        self.fresh
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of live entries of `hotkey` (SS58).
    pub fn len_for(&self, hotkey: &str) -> usize {
        self.counts.get(hotkey).copied().unwrap_or(0)
    }

    /// The hotkeys holding live entries, in no particular order.
    pub fn hotkeys(&self) -> impl Iterator<Item = &str> {
        self.counts.keys().map(String::as_str)
    }

    /// Checks and records `nonce` for `(hotkey, uuid)` at time `now_ns`.
    pub fn check(
        &mut self,
        hotkey: &str,
        uuid: &str,
        nonce: u64,
        timeout: Duration,
        now_ns: u64,
    ) -> Result<()> {
        self.admit(hotkey, uuid, nonce, timeout, now_ns, || Ok(()))
    }

    /// Checks `nonce` for `(hotkey, uuid)` (freshness, replay, per-hotkey quota, capacity),
    /// then runs `gate` (the caller's own admission: rate and in-flight limits), and records
    /// the nonce only if both passed. Whatever refuses the request, nothing is recorded.
    pub fn admit<T>(
        &mut self,
        hotkey: &str,
        uuid: &str,
        nonce: u64,
        timeout: Duration,
        now_ns: u64,
        gate: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        self.fresh.check(nonce, timeout, now_ns)?;
        self.prune(now_ns);
        let entry = (nonce, hotkey.to_owned(), uuid.to_owned());
        if self.entries.contains(&entry) {
            return Err(AxonError::ReplayedNonce);
        }
        if self.len_for(hotkey) >= self.per_hotkey {
            return Err(AxonError::NonceQuotaExceeded(hotkey.to_owned()));
        }
        if self.entries.len() >= self.capacity {
            return Err(AxonError::NonceCacheFull);
        }
        let admitted = gate()?;
        let n = self.counts.entry(entry.1.clone()).or_insert(0);
        *n = n.saturating_add(1);
        self.entries.insert(entry);
        Ok(admitted)
    }

    /// Drops every entry whose nonce is older than the widest window.
    fn prune(&mut self, now_ns: u64) {
        let cutoff = self.fresh.cutoff(now_ns);
        while self.entries.first().is_some_and(|first| first.0 <= cutoff) {
            let Some((_, hotkey, _)) = self.entries.pop_first() else { break };
            if let Some(n) = self.counts.get_mut(&hotkey) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.counts.remove(&hotkey);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn cache(cap: usize, per_hotkey: usize) -> NonceCache {
        NonceCache::new(
            Duration::from_secs(4),
            Duration::from_secs(2),
            Duration::from_secs(10),
            cap,
            per_hotkey,
        )
    }

    #[test]
    fn fresh_replayed_stale_future() {
        let mut c = cache(10, 10);
        let now = 100 * S;
        let t = Duration::from_secs(3);
        c.check("a", "u", now - S, t, now).unwrap();
        assert!(matches!(c.check("a", "u", now - S, t, now), Err(AxonError::ReplayedNonce)));
        c.check("b", "u", now - S, t, now).unwrap();
        c.check("a", "v", now - S, t, now).unwrap(); // Another uuid of the same hotkey.
        c.check("a", "u", now - 2 * S, t, now).unwrap(); // Out of order but unseen: fine.
        assert!(matches!(
            c.check("a", "u", now - 8 * S, t, now),
            Err(AxonError::StaleNonce { .. })
        ));
        assert!(matches!(c.check("a", "u", now + 3 * S, t, now), Err(AxonError::FutureNonce)));
        assert_eq!((c.len(), c.len_for("a"), c.len_for("b"), c.len_for("c")), (4, 3, 1, 0));
    }

    #[test]
    fn bounded_and_pruned() {
        let mut c = cache(2, 2);
        let now = 100 * S;
        let t = Duration::from_secs(10);
        c.check("a", "u", now - 13 * S, t, now).unwrap();
        c.check("b", "u", now - 12 * S, t, now).unwrap();
        assert!(matches!(c.check("c", "u", now, t, now), Err(AxonError::NonceCacheFull)));
        // Twenty seconds later both entries are outside any window and get pruned.
        let later = now + 20 * S;
        c.check("a", "u", later, t, later).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!((c.len_for("a"), c.len_for("b")), (1, 0));
        assert_eq!(c.hotkeys().collect::<Vec<_>>(), vec!["a"]);
    }

    #[test]
    fn per_hotkey_quota_refuses_only_that_hotkey_and_frees_as_entries_expire() {
        let mut c = cache(100, 3);
        let now = 100 * S;
        let t = Duration::from_secs(10);
        for (i, uuid) in ["u", "v", "w"].into_iter().enumerate() {
            c.check("a", uuid, now - 13 * S + i as u64, t, now).unwrap();
        }
        assert!(matches!(
            c.check("a", "x", now, t, now),
            Err(AxonError::NonceQuotaExceeded(ref h)) if h == "a"
        ));
        // A replay is still a replay (401), not a quota refusal.
        assert!(matches!(c.check("a", "u", now - 13 * S, t, now), Err(AxonError::ReplayedNonce)));
        // Others are unaffected.
        for i in 0..3 {
            c.check("b", "u", now - i * S, t, now).unwrap();
        }
        assert_eq!(c.len(), 6);
        // Once a's entries leave the widest window (14 s), a is admitted again.
        let later = now + 2 * S;
        c.check("a", "x", later, t, later).unwrap();
        assert_eq!((c.len_for("a"), c.len_for("b")), (1, 3));
    }

    #[test]
    fn a_refused_gate_records_nothing() {
        let mut c = cache(10, 10);
        let now = 100 * S;
        let t = Duration::from_secs(3);
        let refused = c.admit("a", "u", now, t, now, || -> Result<()> {
            Err(AxonError::RateLimited("a".into()))
        });
        assert!(matches!(refused, Err(AxonError::RateLimited(_))));
        assert!(c.is_empty());
        // The same nonce is still usable once the gate admits it, and then only once.
        assert_eq!(c.admit("a", "u", now, t, now, || Ok(7)).unwrap(), 7);
        let mut ran = false;
        let replay = c.admit("a", "u", now, t, now, || {
            ran = true;
            Ok(())
        });
        assert!(matches!(replay, Err(AxonError::ReplayedNonce)));
        assert!(!ran, "a replay never reaches the gate (it costs the caller no rate tokens)");
        assert_eq!(c.len(), 1);
    }
}
