//! Organic verdicts: the gateway's judgements of grid answers on real user traffic, and how
//! they are folded into the grid scores.
//!
//! The gateway (`stgateway`) signs with the validator's hotkey, so miners cannot tell user
//! requests from challenges, and it verifies every grid answer with the same checks as
//! [`super::GridVerifier`] before a user sees it. It keeps each call's outcome as an
//! [`OrganicVerdict`] in a bounded log with increasing sequence numbers and serves them at
//! `GET /organic?after=SEQ&netuid=N` as an [`OrganicPage`]. The validator
//! (`--organic-from URL`, [`super::organic_feed`]) asks for the verdicts after its
//! [`OrganicCursor`] and folds each one ([`fold_page`]) as the matching
//! [`GridObservation`] with [`super::GridScore::observe_organic`]: a rejected answer bans the
//! miner exactly like a rejected challenge; verified and failed answers are counted, while
//! speed and reliability stay measured on the challenges (see [`super::score`]).
//!
//! A verdict is folded only if its subnet is the validator's and its hotkey is the one the
//! validator has at that uid now (a verdict about a uid's previous owner is skipped). The
//! cursor (the gateway's session and the last sequence number folded) is persisted with the
//! state, so a restarted validator does not count a verdict twice; a gateway restart starts a
//! new session, whose verdicts are read from the start.

use super::score::{GridObservation, GridScoring};
use crate::state::State;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How one organic call to a grid miner ended, as the gateway judged it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrganicOutcome {
    /// The answer passed verification and was usable.
    Verified,
    /// The answer failed verification: a proven cheat.
    Rejected,
    /// No usable answer (timeout, transport error, refusal, malformed answer).
    Failed,
}

/// One organic verdict, as `GET /organic` serves it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganicVerdict {
    /// Position in the gateway's log (from 1, increasing, per session).
    pub seq: u64,
    /// The subnet.
    pub netuid: u16,
    /// The miner's uid.
    pub uid: u16,
    /// The miner's hotkey (SS58) when it was called.
    pub hotkey: String,
    /// What the call came to.
    pub outcome: OrganicOutcome,
    /// Verified answers: tokens generated (the end-of-sequence token included when it ended
    /// the generation) over the gateway-measured round trip, as the validator measures its
    /// challenges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_sec: Option<f64>,
    /// Rejected or failed calls: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the call ended, Unix milliseconds.
    pub at_ms: u64,
}

impl OrganicVerdict {
    /// The grid observation this verdict stands for.
    pub fn observation(&self) -> GridObservation {
        let reason = || self.reason.clone().unwrap_or_default();
        match self.outcome {
            OrganicOutcome::Verified => GridObservation::Verified {
                tokens_per_sec: self.tokens_per_sec.unwrap_or(f64::NAN),
                by_agreement: false,
            },
            OrganicOutcome::Rejected => GridObservation::Rejected(reason()),
            OrganicOutcome::Failed => GridObservation::Failed(reason()),
        }
    }
}

/// One answer of `GET /organic`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganicPage {
    /// The gateway's session: a random UUID made when it started.
    pub session: String,
    /// The sequence number to ask after next time.
    pub next: u64,
    /// Verdicts after the asked-for sequence number that already fell out of the gateway's
    /// bounded log (of any subnet): never seen by this reader.
    pub dropped: u64,
    /// Whether more verdicts follow at once (the page was cut at its limit).
    #[serde(default)]
    pub more: bool,
    /// The verdicts, in sequence order.
    pub verdicts: Vec<OrganicVerdict>,
}

/// Where the validator is in a gateway's log (persisted with the state).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganicCursor {
    /// The gateway session read.
    pub session: String,
    /// The last sequence number folded (0: none yet).
    pub next: u64,
}

/// What folding one page did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoldSummary {
    /// Verified answers folded.
    pub verified: usize,
    /// Rejected answers folded (each one a ban).
    pub rejected: usize,
    /// Failed calls folded.
    pub failed: usize,
    /// Verdicts skipped: another subnet, or a hotkey that is not the uid's now.
    pub skipped: usize,
    /// Verdicts lost to the gateway's bounded log.
    pub dropped: u64,
    /// The uids banned by a rejected organic answer, with the reason (in sequence order).
    pub bans: Vec<(u16, String)>,
}

impl FoldSummary {
    /// Verdicts folded into scores.
    pub fn folded(&self) -> usize {
        self.verified.saturating_add(self.rejected).saturating_add(self.failed)
    }

    /// Adds `other` to `self`.
    pub fn absorb(&mut self, other: FoldSummary) {
        self.verified = self.verified.saturating_add(other.verified);
        self.rejected = self.rejected.saturating_add(other.rejected);
        self.failed = self.failed.saturating_add(other.failed);
        self.skipped = self.skipped.saturating_add(other.skipped);
        self.dropped = self.dropped.saturating_add(other.dropped);
        self.bans.extend(other.bans);
    }
}

/// Whether `page` continues `cursor`: the same gateway session. A page of another session
/// (the gateway restarted, or no cursor yet) must be read again from sequence 0.
pub fn continues(cursor: Option<&OrganicCursor>, page: &OrganicPage) -> bool {
    cursor.is_some_and(|c| c.session == page.session)
}

/// Folds the verdicts of `page` (which continues `state`'s cursor, or was asked for from 0 of
/// its session) into `state`'s grid scores at `block`, and moves the cursor to `page.next`.
/// Only verdicts of subnet `netuid` whose hotkey is the one `hotkeys` (uid → SS58, the
/// metagraph now) has at their uid are folded; verdicts at or before the cursor are skipped
/// (a page asked for twice folds once).
pub fn fold_page(
    state: &mut State,
    page: &OrganicPage,
    netuid: u16,
    hotkeys: &BTreeMap<u16, String>,
    block: u64,
    params: &GridScoring,
) -> FoldSummary {
    let mut summary = FoldSummary { dropped: page.dropped, ..FoldSummary::default() };
    let after = match &state.organic {
        Some(c) if c.session == page.session => c.next,
        _ => 0,
    };
    let mut last = after;
    for v in &page.verdicts {
        if v.seq <= last {
            summary.skipped = summary.skipped.saturating_add(1);
            continue;
        }
        last = v.seq;
        if v.netuid != netuid || hotkeys.get(&v.uid) != Some(&v.hotkey) {
            summary.skipped = summary.skipped.saturating_add(1);
            continue;
        }
        let observation = v.observation();
        state.grid_score_mut(v.uid, &v.hotkey).observe_organic(&observation, block, params);
        match observation {
            GridObservation::Verified { .. } => {
                summary.verified = summary.verified.saturating_add(1)
            }
            GridObservation::Rejected(reason) => {
                summary.rejected = summary.rejected.saturating_add(1);
                summary.bans.push((v.uid, reason));
            }
            GridObservation::Failed(_) => summary.failed = summary.failed.saturating_add(1),
        }
    }
    state.organic =
        Some(OrganicCursor { session: page.session.clone(), next: page.next.max(last) });
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    const HONEST: &str = "5Honest";
    const CHEAT: &str = "5Cheat";

    fn verdict(seq: u64, uid: u16, hotkey: &str, outcome: OrganicOutcome) -> OrganicVerdict {
        OrganicVerdict {
            seq,
            netuid: 2,
            uid,
            hotkey: hotkey.to_owned(),
            outcome,
            tokens_per_sec: (outcome == OrganicOutcome::Verified).then_some(40.0),
            reason: (outcome != OrganicOutcome::Verified).then(|| format!("why {seq}")),
            at_ms: 1_000 + seq,
        }
    }

    fn page(session: &str, verdicts: Vec<OrganicVerdict>) -> OrganicPage {
        let next = verdicts.last().map_or(0, |v| v.seq);
        OrganicPage { session: session.to_owned(), next, dropped: 0, more: false, verdicts }
    }

    fn hotkeys() -> BTreeMap<u16, String> {
        [(1, HONEST.to_owned()), (2, CHEAT.to_owned())].into_iter().collect()
    }

    fn params() -> GridScoring {
        GridScoring { window: 8, percentile: 20.0, success_floor: 0.5, ban_blocks: 100 }
    }

    #[test]
    fn verdicts_fold_as_observations_and_a_rejection_bans() {
        let mut state = State::new(2, "5Validator");
        let p = page(
            "s1",
            vec![
                verdict(1, 1, HONEST, OrganicOutcome::Verified),
                verdict(2, 2, CHEAT, OrganicOutcome::Rejected),
                verdict(3, 1, HONEST, OrganicOutcome::Failed),
                verdict(4, 1, HONEST, OrganicOutcome::Verified),
            ],
        );
        let summary = fold_page(&mut state, &p, 2, &hotkeys(), 50, &params());
        assert_eq!(
            (summary.verified, summary.rejected, summary.failed, summary.skipped),
            (2, 1, 1, 0)
        );
        assert_eq!(summary.bans, vec![(2, "why 2".to_owned())]);
        let honest = &state.grid[&1];
        assert_eq!(
            (honest.organic_verified, honest.organic_failed, honest.organic_rejected),
            (2, 1, 0)
        );
        // Neither the challenge counters nor the speed and outcome rings are touched.
        assert_eq!((honest.verified, honest.failed), (0, 0));
        assert!(honest.speeds.is_empty() && honest.recent.is_empty(), "{honest:?}");
        let cheat = &state.grid[&2];
        assert_eq!(cheat.organic_rejected, 1);
        assert_eq!(cheat.banned_until, Some(150));
        assert_eq!(cheat.last_rejection.as_deref(), Some("why 2"));
        assert_eq!(cheat.score(149, &params()), 0.0);
        assert_eq!(state.organic, Some(OrganicCursor { session: "s1".into(), next: 4 }));
    }

    #[test]
    fn other_subnets_and_foreign_hotkeys_are_skipped() {
        let mut state = State::new(2, "5Validator");
        let mut other_subnet = verdict(1, 1, HONEST, OrganicOutcome::Rejected);
        other_subnet.netuid = 3;
        let p = page(
            "s1",
            vec![
                other_subnet,
                // uid 2's previous owner (or anyone naming a uid that is not theirs).
                verdict(2, 2, "5PreviousOwner", OrganicOutcome::Rejected),
                // A uid the metagraph does not have.
                verdict(3, 9, HONEST, OrganicOutcome::Verified),
            ],
        );
        let summary = fold_page(&mut state, &p, 2, &hotkeys(), 50, &params());
        assert_eq!((summary.folded(), summary.skipped), (0, 3));
        assert!(state.grid.is_empty(), "{:?}", state.grid);
        // The cursor still moves past them.
        assert_eq!(state.organic.as_ref().map(|c| c.next), Some(3));
    }

    #[test]
    fn a_page_is_folded_once_and_a_new_session_starts_from_zero() {
        let mut state = State::new(2, "5Validator");
        let first = page("s1", vec![verdict(1, 1, HONEST, OrganicOutcome::Verified)]);
        fold_page(&mut state, &first, 2, &hotkeys(), 50, &params());
        // The same page again (a reply lost after folding, a retried request): nothing new.
        let again = fold_page(&mut state, &first, 2, &hotkeys(), 51, &params());
        assert_eq!((again.folded(), again.skipped), (0, 1));
        assert_eq!(state.grid[&1].organic_verified, 1);
        // The gateway restarted: its new session numbers from 1 again, and is read from there.
        let restarted = page("s2", vec![verdict(1, 1, HONEST, OrganicOutcome::Verified)]);
        assert!(!continues(state.organic.as_ref(), &restarted));
        let summary = fold_page(&mut state, &restarted, 2, &hotkeys(), 52, &params());
        assert_eq!(summary.verified, 1);
        assert_eq!(state.grid[&1].organic_verified, 2);
        assert_eq!(state.organic, Some(OrganicCursor { session: "s2".into(), next: 1 }));
        assert!(continues(state.organic.as_ref(), &restarted));
        // An empty page keeps the cursor where the gateway says the reader is.
        let empty = OrganicPage { next: 1, ..page("s2", Vec::new()) };
        fold_page(&mut state, &empty, 2, &hotkeys(), 53, &params());
        assert_eq!(state.organic.as_ref().map(|c| c.next), Some(1));
    }

    #[test]
    fn the_wire_format_is_the_documented_one() {
        let json = r#"{"session":"6f1c","next":7,"dropped":2,"verdicts":[
            {"seq":6,"netuid":2,"uid":1,"hotkey":"5Honest","outcome":"verified",
             "tokens_per_sec":12.5,"at_ms":17},
            {"seq":7,"netuid":2,"uid":2,"hotkey":"5Cheat","outcome":"rejected",
             "reason":"token 3 has margin 2","at_ms":18}]}"#;
        let p: OrganicPage = serde_json::from_str(json).unwrap();
        assert_eq!((p.next, p.dropped, p.more), (7, 2, false));
        assert_eq!(
            p.verdicts[0].observation(),
            GridObservation::Verified { tokens_per_sec: 12.5, by_agreement: false }
        );
        assert_eq!(
            p.verdicts[1].observation(),
            GridObservation::Rejected("token 3 has margin 2".into())
        );
        let back = serde_json::to_value(&p.verdicts[1]).unwrap();
        assert_eq!(back["outcome"], "rejected");
        assert!(back.get("tokens_per_sec").is_none());
    }
}
