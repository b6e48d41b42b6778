//! [`MetagraphPolicy`]: who may query this axon, and in which order, from a snapshot of the
//! subnet's metagraph (hotkey, uid, stake, validator permit per neuron).
//!
//! * As a [`Blacklist`]: a hotkey not registered on the subnet is refused (403); so is one
//!   without a validator permit when permits are required, and one with less than `min_stake`.
//! * As a [`Priority`]: a member's stake (in rao), so under load the biggest validators are
//!   served first. Non-members get 0 (they are refused anyway once the snapshot is loaded).
//!
//! Before the first [`MetagraphPolicy::update`] nothing is known. A policy made with
//! [`MetagraphPolicy::new`] then refuses everyone (fail closed: a miner never serves unknown
//! callers because its chain client is slow to start); one made with
//! [`MetagraphPolicy::allow_until_loaded`] lets everyone through at equal priority until then.
//! The owner (the miner) refreshes the snapshot from the chain every few blocks; each update
//! replaces the whole snapshot atomically.

use super::{Blacklist, Priority};
use parking_lot::RwLock;
use sp_core::crypto::AccountId32;
use std::collections::HashMap;
use std::sync::Arc;

/// One registered neuron, as the policy needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The neuron's hotkey.
    pub hotkey: AccountId32,
    /// Its uid on the subnet.
    pub uid: u16,
    /// Its total stake, in rao.
    pub stake: u64,
    /// Whether it holds a validator permit.
    pub validator_permit: bool,
}

#[derive(Debug)]
struct Inner {
    require_validator_permit: bool,
    min_stake: u64,
    allow_until_loaded: bool,
    snapshot: RwLock<Option<Arc<HashMap<AccountId32, Member>>>>,
}

/// A metagraph-backed [`Blacklist`] and [`Priority`]; cheap to clone (clones share the
/// snapshot), so the miner keeps one clone to update and gives another to the axon.
#[derive(Clone, Debug)]
pub struct MetagraphPolicy {
    inner: Arc<Inner>,
}

impl MetagraphPolicy {
    fn with(require_validator_permit: bool, min_stake: u64, allow_until_loaded: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                require_validator_permit,
                min_stake,
                allow_until_loaded,
                snapshot: RwLock::new(None),
            }),
        }
    }

    /// A policy admitting registered hotkeys with at least `min_stake` rao (and a validator
    /// permit, if `require_validator_permit`). Refuses everyone until the first update.
    pub fn new(require_validator_permit: bool, min_stake: u64) -> Self {
        Self::with(require_validator_permit, min_stake, false)
    }

    /// Like [`MetagraphPolicy::new`], but admits everyone (at equal priority) until the first
    /// update.
    pub fn allow_until_loaded(require_validator_permit: bool, min_stake: u64) -> Self {
        Self::with(require_validator_permit, min_stake, true)
    }

    /// Replaces the snapshot with `members` (a hotkey listed twice keeps its last entry).
    pub fn update(&self, members: impl IntoIterator<Item = Member>) {
        let map: HashMap<AccountId32, Member> =
            members.into_iter().map(|m| (m.hotkey.clone(), m)).collect();
        *self.inner.snapshot.write() = Some(Arc::new(map));
    }

    /// Whether a snapshot has been loaded.
    pub fn is_loaded(&self) -> bool {
        self.inner.snapshot.read().is_some()
    }

    /// Number of members in the snapshot (0 before the first update).
    pub fn len(&self) -> usize {
        self.inner.snapshot.read().as_ref().map_or(0, |m| m.len())
    }

    /// Whether the snapshot has no members (or is not loaded).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The member entry of `hotkey`, if registered.
    pub fn member(&self, hotkey: &AccountId32) -> Option<Member> {
        self.inner.snapshot.read().as_ref().and_then(|m| m.get(hotkey).cloned())
    }

    fn current(&self) -> Option<Arc<HashMap<AccountId32, Member>>> {
        self.inner.snapshot.read().clone()
    }
}

impl Blacklist for MetagraphPolicy {
    fn allowed(&self, hotkey: &AccountId32) -> bool {
        let Some(members) = self.current() else { return self.inner.allow_until_loaded };
        members.get(hotkey).is_some_and(|m| {
            (m.validator_permit || !self.inner.require_validator_permit)
                && m.stake >= self.inner.min_stake
        })
    }
}

impl Priority for MetagraphPolicy {
    fn priority(&self, hotkey: &AccountId32) -> f64 {
        self.current().and_then(|m| m.get(hotkey).map(|m| m.stake as f64)).unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(n: u8) -> AccountId32 {
        AccountId32::new([n; 32])
    }

    fn member(n: u8, stake: u64, validator_permit: bool) -> Member {
        Member { hotkey: account(n), uid: u16::from(n), stake, validator_permit }
    }

    #[test]
    fn fails_closed_until_loaded_unless_asked() {
        let closed = MetagraphPolicy::new(false, 0);
        assert!(!closed.is_loaded());
        assert!(!closed.allowed(&account(1)));
        let open = MetagraphPolicy::allow_until_loaded(false, 0);
        assert!(open.allowed(&account(1)));
        assert_eq!(open.priority(&account(1)), 0.0);
        // Once loaded, both follow the snapshot.
        for p in [&closed, &open] {
            p.update([member(1, 10, false)]);
            assert!(p.is_loaded());
            assert!(p.allowed(&account(1)));
            assert!(!p.allowed(&account(2)));
        }
    }

    #[test]
    fn permit_and_stake_rules_and_priority() {
        let p = MetagraphPolicy::new(true, 100);
        let shared = p.clone();
        shared.update([member(1, 500, true), member(2, 500, false), member(3, 99, true)]);
        assert_eq!(p.len(), 3);
        assert!(p.allowed(&account(1)));
        assert!(!p.allowed(&account(2)), "no validator permit");
        assert!(!p.allowed(&account(3)), "stake below the minimum");
        assert!(!p.allowed(&account(4)), "not registered");
        assert_eq!(p.priority(&account(1)), 500.0);
        assert_eq!(p.priority(&account(3)), 99.0);
        assert_eq!(p.priority(&account(4)), 0.0);
        assert_eq!(p.member(&account(3)).map(|m| m.uid), Some(3));
        let lenient = MetagraphPolicy::new(false, 0);
        lenient.update([member(2, 0, false)]);
        assert!(lenient.allowed(&account(2)));
    }

    #[test]
    fn update_replaces_the_whole_snapshot() {
        let p = MetagraphPolicy::new(false, 0);
        p.update([member(1, 1, false), member(2, 2, false)]);
        p.update([member(2, 7, false), member(2, 8, false)]);
        assert!(!p.allowed(&account(1)), "deregistered");
        assert_eq!(p.priority(&account(2)), 8.0, "last entry wins");
        assert_eq!(p.len(), 1);
        p.update([]);
        assert!(p.is_loaded() && p.is_empty());
        assert!(!p.allowed(&account(2)));
    }
}
