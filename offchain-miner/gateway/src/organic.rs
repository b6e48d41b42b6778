//! The organic log: the gateway's verdict on every grid-subnet call it makes for users, kept
//! for the validator to fold into its grid scores (`stvalidator --organic-from`).
//!
//! The gateway signs with the validator's hotkey, so miners cannot tell user requests from
//! the validator's challenges, and it verifies every grid answer with the validator's
//! [`GridVerifier`](subtensor_validator::grid::GridVerifier) before a user sees it. Each call's
//! outcome becomes an [`OrganicVerdict`] (`verified` with the validator-style tokens per
//! second, `rejected` or `failed` with the reason) numbered by an increasing `seq` from 1, in a
//! ring of the last [`DEFAULT_CAPACITY`] verdicts. `GET /organic?after=SEQ&netuid=N` serves
//! them as an [`OrganicPage`]: the verdicts after `SEQ` (of subnet `N`, if given), at most
//! [`MAX_PAGE`] of them, the `next` sequence number to ask after, how many verdicts after
//! `SEQ` already fell out of the ring (`dropped`), and the log's `session`, a random UUID made
//! when the gateway started (sequence numbers restart with it). The log is not saved.
//!
//! Heterogeneous (loss-scored) subnets record nothing: their answers are not verified.

use crate::latency::now_ms;
use parking_lot::Mutex;
use std::{collections::VecDeque, sync::Arc};
pub use subtensor_validator::grid::{OrganicOutcome, OrganicPage, OrganicVerdict};

/// Verdicts kept by default (the oldest are dropped beyond).
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Most verdicts in one page.
pub const MAX_PAGE: usize = 1_000;

/// The log, shared by every call and the server (cheap to clone).
#[derive(Clone, Debug)]
pub struct OrganicLog {
    session: Arc<str>,
    inner: Arc<Mutex<Ring>>,
}

#[derive(Debug)]
struct Ring {
    capacity: usize,
    /// The sequence number of the last verdict pushed (0: none yet).
    last_seq: u64,
    verdicts: VecDeque<OrganicVerdict>,
}

/// One call's outcome, before it is numbered.
#[derive(Clone, Debug, PartialEq)]
pub struct Judged {
    /// The subnet.
    pub netuid: u16,
    /// The miner's uid.
    pub uid: u16,
    /// The miner's hotkey (SS58).
    pub hotkey: String,
    /// What the call came to.
    pub outcome: OrganicOutcome,
    /// Verified: tokens per second of round trip.
    pub tokens_per_sec: Option<f64>,
    /// Rejected or failed: why.
    pub reason: Option<String>,
}

/// A random (version 4) UUID, `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
pub fn uuid_v4() -> String {
    let mut bytes: [u8; 16] = rand::random();
    if let Some(b) = bytes.get_mut(6) {
        *b = (*b & 0x0f) | 0x40; // version 4
    }
    if let Some(b) = bytes.get_mut(8) {
        *b = (*b & 0x3f) | 0x80; // RFC 4122 variant
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let part = |a: usize, b: usize| hex.get(a..b).unwrap_or_default().to_owned();
    format!("{}-{}-{}-{}-{}", part(0, 8), part(8, 12), part(12, 16), part(16, 20), part(20, 32))
}

impl Default for OrganicLog {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl OrganicLog {
    /// An empty log of a new session keeping the last `capacity` verdicts (at least 1).
    pub fn new(capacity: usize) -> Self {
        let ring = Ring { capacity: capacity.max(1), last_seq: 0, verdicts: VecDeque::new() };
        Self { session: uuid_v4().into(), inner: Arc::new(Mutex::new(ring)) }
    }

    /// The session (a UUID made when the log was).
    pub fn session(&self) -> &str {
        &self.session
    }

    /// Numbers `judged`, stamps it with the time and keeps it; returns its sequence number.
    pub fn push(&self, judged: Judged) -> u64 {
        let mut ring = self.inner.lock();
        ring.last_seq = ring.last_seq.saturating_add(1);
        let verdict = OrganicVerdict {
            seq: ring.last_seq,
            netuid: judged.netuid,
            uid: judged.uid,
            hotkey: judged.hotkey,
            outcome: judged.outcome,
            tokens_per_sec: judged.tokens_per_sec,
            reason: judged.reason,
            at_ms: now_ms(),
        };
        ring.verdicts.push_back(verdict);
        while ring.verdicts.len() > ring.capacity {
            ring.verdicts.pop_front();
        }
        ring.last_seq
    }

    /// The verdicts after `after` (of subnet `netuid` if given), at most `limit` (1 to
    /// [`MAX_PAGE`]), in sequence order. `next` is the last sequence number looked at (so that
    /// verdicts of other subnets are not looked at again), or `after` when there was none;
    /// `more` says the page was cut at `limit`.
    pub fn page(&self, after: u64, netuid: Option<u16>, limit: usize) -> OrganicPage {
        let limit = limit.clamp(1, MAX_PAGE);
        let ring = self.inner.lock();
        let first = ring.verdicts.front().map_or(ring.last_seq.saturating_add(1), |v| v.seq);
        // Verdicts numbered after `after` and before the oldest kept one are gone.
        let dropped = first.saturating_sub(after.saturating_add(1));
        let mut next = after;
        let mut verdicts = Vec::new();
        let mut more = false;
        // The ring holds consecutive numbers: skip straight to the first one after `after`.
        let start =
            usize::try_from(after.saturating_add(1).saturating_sub(first)).unwrap_or(usize::MAX);
        for v in ring.verdicts.iter().skip(start) {
            if netuid.is_some_and(|n| n != v.netuid) {
                next = v.seq;
                continue;
            }
            if verdicts.len() == limit {
                more = true;
                break;
            }
            next = v.seq;
            verdicts.push(v.clone());
        }
        OrganicPage { session: self.session.to_string(), next, dropped, more, verdicts }
    }

    /// Verdicts kept now.
    pub fn len(&self) -> usize {
        self.inner.lock().verdicts.len()
    }

    /// Whether no verdict is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(netuid: u16, uid: u16, outcome: OrganicOutcome) -> Judged {
        Judged {
            netuid,
            uid,
            hotkey: format!("5Miner{uid}"),
            outcome,
            tokens_per_sec: (outcome == OrganicOutcome::Verified).then_some(30.0),
            reason: (outcome != OrganicOutcome::Verified).then(|| "why".to_owned()),
        }
    }

    fn seqs(page: &OrganicPage) -> Vec<u64> {
        page.verdicts.iter().map(|v| v.seq).collect()
    }

    #[test]
    fn sessions_are_random_v4_uuids() {
        let (a, b) = (OrganicLog::new(4), OrganicLog::new(4));
        assert_ne!(a.session(), b.session());
        let s = a.session();
        assert_eq!(s.len(), 36);
        assert_eq!(s.chars().filter(|c| *c == '-').count(), 4);
        assert_eq!(s.get(14..15), Some("4"));
        assert!(matches!(s.get(19..20), Some("8" | "9" | "a" | "b")), "{s}");
    }

    #[test]
    fn pages_follow_sequence_numbers() {
        let log = OrganicLog::new(10);
        assert_eq!(log.page(0, None, 100).next, 0);
        for uid in 0..5 {
            assert_eq!(log.push(judged(2, uid, OrganicOutcome::Verified)), u64::from(uid) + 1);
        }
        let all = log.page(0, None, 100);
        assert_eq!(
            (seqs(&all), all.next, all.dropped, all.more),
            (vec![1, 2, 3, 4, 5], 5, 0, false)
        );
        let rest = log.page(3, None, 100);
        assert_eq!((seqs(&rest), rest.next), (vec![4, 5], 5));
        let none = log.page(5, None, 100);
        assert_eq!((seqs(&none), none.next, none.dropped), (vec![], 5, 0));
        // Paging: cut at the limit, `next` continues where the page ended.
        let first = log.page(0, None, 2);
        assert_eq!((seqs(&first), first.next, first.more), (vec![1, 2], 2, true));
        let second = log.page(first.next, None, 2);
        assert_eq!((seqs(&second), second.next, second.more), (vec![3, 4], 4, true));
        let third = log.page(second.next, None, 2);
        assert_eq!((seqs(&third), third.next, third.more), (vec![5], 5, false));
        assert_eq!(log.page(0, None, 0).verdicts.len(), 1, "a limit below 1 is 1");
    }

    #[test]
    fn the_ring_drops_the_oldest_and_says_how_many_were_missed() {
        let log = OrganicLog::new(3);
        for uid in 0..7 {
            log.push(judged(2, uid, OrganicOutcome::Failed));
        }
        assert_eq!(log.len(), 3);
        let page = log.page(0, None, 100);
        assert_eq!((seqs(&page), page.dropped, page.next), (vec![5, 6, 7], 4, 7));
        let page = log.page(3, None, 100);
        assert_eq!((seqs(&page), page.dropped), (vec![5, 6, 7], 1));
        let page = log.page(4, None, 100);
        assert_eq!((seqs(&page), page.dropped), (vec![5, 6, 7], 0));
        assert_eq!(log.page(7, None, 100).dropped, 0);
    }

    #[test]
    fn the_subnet_filter_still_moves_next_past_other_subnets() {
        let log = OrganicLog::new(10);
        log.push(judged(2, 0, OrganicOutcome::Verified));
        log.push(judged(3, 1, OrganicOutcome::Rejected));
        log.push(judged(2, 2, OrganicOutcome::Rejected));
        log.push(judged(3, 3, OrganicOutcome::Verified));
        let page = log.page(0, Some(2), 100);
        assert_eq!(seqs(&page), vec![1, 3]);
        assert!(page.verdicts.iter().all(|v| v.netuid == 2));
        assert_eq!(page.next, 4, "the trailing subnet-3 verdict is looked at once");
        assert!(log.page(page.next, Some(2), 100).verdicts.is_empty());
        // Cut at the limit: `next` may pass other subnets' verdicts, never one of this subnet.
        let other = log.page(0, Some(3), 1);
        assert_eq!((seqs(&other), other.next, other.more), (vec![2], 3, true));
        assert_eq!(seqs(&log.page(other.next, Some(3), 1)), vec![4]);
        assert_eq!(seqs(&log.page(0, Some(9), 100)), Vec::<u64>::new());
        // The verdicts carry what was recorded.
        let v = &log.page(1, Some(3), 100).verdicts[0];
        assert_eq!((v.uid, v.hotkey.as_str(), v.outcome), (1, "5Miner1", OrganicOutcome::Rejected));
        assert_eq!(v.reason.as_deref(), Some("why"));
        assert!(v.at_ms > 0);
    }
}
