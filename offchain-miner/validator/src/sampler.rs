//! Which uids to query next: a walk over a random permutation of the serving uids, so that
//! every miner is queried once per walk ("epoch" of queries), reshuffled when exhausted.
//!
//! The set of serving uids changes with metagraph syncs: uids that stopped serving (or were
//! replaced) are skipped when their turn comes; uids that start serving mid-walk are inserted
//! at random positions of the part not yet walked, so they are still queried in this walk.

use rand::{seq::SliceRandom, Rng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The walk's position, as persisted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sampler {
    /// This walk's order.
    pub order: Vec<u16>,
    /// How many of `order` were handed out.
    pub cursor: usize,
    /// Walks completed so far.
    pub walks: u64,
}

/// One step's uids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The uids to query, in walk order.
    pub uids: Vec<u16>,
    /// Whether this step finished a walk (every eligible uid has been queried in it).
    pub completes_walk: bool,
}

impl Sampler {
    /// The uids of this walk not handed out yet.
    pub fn remaining(&self) -> &[u16] {
        self.order.get(self.cursor..).unwrap_or_default()
    }

    /// Aligns the walk with the currently `eligible` uids: newcomers join the remaining part
    /// at random positions. (Uids no longer eligible are skipped by [`Sampler::next_step`].)
    pub fn refresh(&mut self, eligible: &BTreeSet<u16>, rng: &mut impl Rng) {
        self.cursor = self.cursor.min(self.order.len());
        let known: BTreeSet<u16> = self.order.iter().copied().collect();
        for &uid in eligible.iter().filter(|u| !known.contains(u)) {
            let span = self.order.len().saturating_sub(self.cursor);
            let at = self.cursor.saturating_add(rng.gen_range(0..=span));
            self.order.insert(at.min(self.order.len()), uid);
        }
    }

    /// The next (up to) `size` eligible uids. When the walk is exhausted a new one starts
    /// over a fresh permutation of `eligible`. Empty when nothing is eligible.
    pub fn next_step(&mut self, size: usize, eligible: &BTreeSet<u16>, rng: &mut impl Rng) -> Step {
        if eligible.is_empty() || size == 0 {
            return Step { uids: Vec::new(), completes_walk: false };
        }
        if !self.remaining().iter().any(|u| eligible.contains(u)) {
            if !self.order.is_empty() {
                // The walk ended with no eligible uid left in it (they all stopped serving).
                self.walks = self.walks.saturating_add(1);
            }
            self.reshuffle(eligible, rng);
        }
        let mut uids = Vec::with_capacity(size);
        while uids.len() < size {
            let Some(&uid) = self.order.get(self.cursor) else { break };
            self.cursor = self.cursor.saturating_add(1);
            if eligible.contains(&uid) {
                uids.push(uid);
            }
        }
        let completes_walk = !self.remaining().iter().any(|u| eligible.contains(u));
        if completes_walk {
            self.walks = self.walks.saturating_add(1);
            self.order.clear();
            self.cursor = 0;
        }
        Step { uids, completes_walk }
    }

    fn reshuffle(&mut self, eligible: &BTreeSet<u16>, rng: &mut impl Rng) {
        self.order = eligible.iter().copied().collect();
        self.order.shuffle(rng);
        self.cursor = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};
    use std::collections::BTreeMap;

    fn set(uids: impl IntoIterator<Item = u16>) -> BTreeSet<u16> {
        uids.into_iter().collect()
    }

    #[test]
    fn every_uid_once_per_walk() {
        let mut rng = StdRng::seed_from_u64(1);
        let eligible = set(0..37);
        let mut s = Sampler::default();
        for walk in 1..=4u64 {
            let mut seen: BTreeMap<u16, u32> = BTreeMap::new();
            loop {
                let step = s.next_step(5, &eligible, &mut rng);
                assert!(!step.uids.is_empty() && step.uids.len() <= 5);
                for u in step.uids {
                    *seen.entry(u).or_default() += 1;
                }
                if step.completes_walk {
                    break;
                }
            }
            assert_eq!(seen.keys().copied().collect::<BTreeSet<_>>(), eligible);
            assert!(seen.values().all(|&c| c == 1));
            assert_eq!(s.walks, walk);
        }
    }

    #[test]
    fn walks_are_shuffled() {
        let mut rng = StdRng::seed_from_u64(2);
        let eligible = set(0..50);
        let mut s = Sampler::default();
        let first = s.next_step(50, &eligible, &mut rng).uids;
        let second = s.next_step(50, &eligible, &mut rng).uids;
        assert_ne!(first, second);
        assert_ne!(first, (0..50).collect::<Vec<u16>>());
    }

    #[test]
    fn membership_changes_mid_walk() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut s = Sampler::default();
        let mut seen = BTreeSet::new();
        let step = s.next_step(3, &set(0..10), &mut rng);
        seen.extend(step.uids);
        // 3 stops serving (if not queried yet), 10 and 11 start.
        let now = set((0..12).filter(|&u| u != 3));
        s.refresh(&now, &mut rng);
        loop {
            let step = s.next_step(3, &now, &mut rng);
            for u in &step.uids {
                assert!(seen.insert(*u), "uid {u} twice in one walk");
                assert!(now.contains(u));
            }
            if step.completes_walk {
                break;
            }
        }
        assert!(seen.contains(&10) && seen.contains(&11));
        assert!(now.is_subset(&seen));
        // Nothing eligible: nothing to query.
        assert!(s.next_step(3, &BTreeSet::new(), &mut rng).uids.is_empty());
    }
}
