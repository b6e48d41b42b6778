//! A grid miner's running score: verified answers, their speed, and bans for proven cheats.
//!
//! On a grid subnet every honest miner serves the same model, so quality is not what is
//! scored: a verified answer is *correct*, and miners compete on speed and reliability.
//!
//! * **Speed** is measured by the validator, never taken from the miner: generated tokens
//!   (the end-of-sequence token included when it stopped the generation) divided by the
//!   request's round-trip time, so the time to the first token, queueing and the network are
//!   all in it. The figure scored is a low percentile (`percentile`, default the 20th) of a
//!   ring of the last `window` verified answers: a miner is as fast as it reliably is, not as
//!   fast as its best moments.
//! * **Reliability**: the share of verified answers among the last `window` queries (timeouts,
//!   errors and rejections count against it); below `success_floor` the score is 0.
//! * **Cheats**: an answer that fails verification proves the miner did not run the named
//!   model with the given seed (honest answers are never rejected: the tolerance is calibrated
//!   100x above honest error). The miner scores 0 until `ban_blocks` have passed.
//! * **Organic verdicts** (`--organic-from`): the gateway verifies every grid answer it hands
//!   to a user with the same checks ([`GridScore::observe_organic`]). A rejected one is proof
//!   of a cheat whatever the request was, so it bans the miner exactly as a rejected
//!   challenge does: a miner cannot tell user traffic from challenges (both are signed by the
//!   validator's hotkey), and every user answer becomes a check. Verified and failed organic
//!   answers are only counted (`organic_*`): users' prompts and `max_tokens` differ from the
//!   challenges' fixed shape (a short completion is mostly time to first token, so its tokens/s
//!   would drag a busy miner's low percentile down, and routing sends the fast miners the most
//!   traffic), and the gateway's own deadline cuts late retries short; speed and reliability
//!   stay measured on the validator's uniform challenges.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How grid observations become a score (from the command line in the binary).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridScoring {
    /// Recent queries kept per miner (outcomes and speeds), at least 1.
    pub window: usize,
    /// The percentile of recent speeds scored, in `[0, 100]` (nearest rank, from the slowest).
    pub percentile: f64,
    /// Least share of verified answers among the recent queries for a positive score.
    pub success_floor: f64,
    /// Blocks a miner scores 0 after a rejected answer.
    pub ban_blocks: u64,
}

impl Default for GridScoring {
    /// Window 32, 20th percentile, success floor 0.8, ban 1,080 blocks (3 epochs of the
    /// default tempo 360).
    fn default() -> Self {
        Self { window: 32, percentile: 20.0, success_floor: 0.8, ban_blocks: 1_080 }
    }
}

/// What one grid query came to.
#[derive(Clone, Debug, PartialEq)]
pub enum GridObservation {
    /// The answer is the named model's sample: accepted by verification or by agreement.
    Verified {
        /// Tokens per second over the validator-measured round trip.
        tokens_per_sec: f64,
        /// Accepted because another miner gave the identical answer (no forward pass).
        by_agreement: bool,
    },
    /// The answer failed verification: a proven cheat.
    Rejected(String),
    /// No usable answer (timeout, transport error, refusal, malformed body).
    Failed(String),
}

/// One miner's grid record, as persisted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridScore {
    /// The hotkey (SS58) the numbers belong to; a new hotkey at the uid resets them.
    pub hotkey: String,
    /// Outcomes of the recent queries, oldest first: `true` for a verified answer.
    pub recent: VecDeque<bool>,
    /// Tokens per second of the recent verified answers, oldest first.
    pub speeds: VecDeque<f64>,
    /// Answers accepted after a verification pass.
    pub verified: u64,
    /// Answers accepted by agreement with another miner.
    pub agreed: u64,
    /// Answers rejected by verification.
    pub rejected: u64,
    /// Queries without a usable answer.
    pub failed: u64,
    /// No positive score before this block (after a rejection).
    pub banned_until: Option<u64>,
    /// Why the last rejected answer was rejected.
    pub last_rejection: Option<String>,
    /// Organic answers (user traffic through the gateway) that passed verification.
    #[serde(default)]
    pub organic_verified: u64,
    /// Organic answers rejected by the gateway's verification.
    #[serde(default)]
    pub organic_rejected: u64,
    /// Organic calls without a usable answer.
    #[serde(default)]
    pub organic_failed: u64,
}

/// Pushes `value` onto `ring`, dropping the oldest entries beyond `cap`.
fn push_capped<T>(ring: &mut VecDeque<T>, value: T, cap: usize) {
    ring.push_back(value);
    while ring.len() > cap.max(1) {
        ring.pop_front();
    }
}

/// The `percentile`-th percentile of `values` by nearest rank (0 → the smallest, 100 → the
/// largest); `None` when empty. Non-finite values are ignored.
pub fn low_percentile(values: impl IntoIterator<Item = f64>, percentile: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let p = if percentile.is_finite() { percentile.clamp(0.0, 100.0) } else { 0.0 };
    // Nearest rank: ceil(p/100 · n), 1-based, at least 1.
    let n = sorted.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    sorted.get(rank.clamp(1, n).saturating_sub(1)).copied()
}

impl GridScore {
    /// A fresh record for `hotkey`.
    pub fn new(hotkey: impl Into<String>) -> Self {
        Self {
            hotkey: hotkey.into(),
            recent: VecDeque::new(),
            speeds: VecDeque::new(),
            verified: 0,
            agreed: 0,
            rejected: 0,
            failed: 0,
            banned_until: None,
            last_rejection: None,
            organic_verified: 0,
            organic_rejected: 0,
            organic_failed: 0,
        }
    }

    /// Folds one observation of the validator's own challenge, made at block `block`, in.
    pub fn observe(&mut self, obs: &GridObservation, block: u64, params: &GridScoring) {
        self.fold(obs, block, params);
        let counter = match obs {
            GridObservation::Verified { by_agreement: true, .. } => &mut self.agreed,
            GridObservation::Verified { by_agreement: false, .. } => &mut self.verified,
            GridObservation::Rejected(_) => &mut self.rejected,
            GridObservation::Failed(_) => &mut self.failed,
        };
        *counter = counter.saturating_add(1);
    }

    /// Folds one organic verdict (the gateway's, on user traffic), learnt at block `block`,
    /// in: a rejection bans (and enters the outcome ring) as in [`Self::observe`]; every
    /// verdict is counted in the `organic_*` counters, but verified and failed ones leave the
    /// speed and outcome rings to the challenges (see the module documentation).
    pub fn observe_organic(&mut self, obs: &GridObservation, block: u64, params: &GridScoring) {
        if matches!(obs, GridObservation::Rejected(_)) {
            self.fold(obs, block, params);
        }
        let counter = match obs {
            GridObservation::Verified { .. } => &mut self.organic_verified,
            GridObservation::Rejected(_) => &mut self.organic_rejected,
            GridObservation::Failed(_) => &mut self.organic_failed,
        };
        *counter = counter.saturating_add(1);
    }

    /// The rings and the ban of one observation (not the counters).
    fn fold(&mut self, obs: &GridObservation, block: u64, params: &GridScoring) {
        match obs {
            GridObservation::Verified { tokens_per_sec, .. } => {
                push_capped(&mut self.recent, true, params.window);
                if tokens_per_sec.is_finite() && *tokens_per_sec >= 0.0 {
                    push_capped(&mut self.speeds, *tokens_per_sec, params.window);
                }
            }
            GridObservation::Rejected(reason) => {
                push_capped(&mut self.recent, false, params.window);
                self.banned_until = Some(block.saturating_add(params.ban_blocks));
                self.last_rejection = Some(reason.clone());
            }
            GridObservation::Failed(_) => push_capped(&mut self.recent, false, params.window),
        }
    }

    /// Share of verified answers among the recent queries (0 with none).
    pub fn success_rate(&self) -> f64 {
        if self.recent.is_empty() {
            return 0.0;
        }
        let ok = self.recent.iter().filter(|v| **v).count();
        ok as f64 / self.recent.len() as f64
    }

    /// The scored speed: the `params.percentile`-th percentile of the recent speeds.
    pub fn speed(&self, params: &GridScoring) -> Option<f64> {
        low_percentile(self.speeds.iter().copied(), params.percentile)
    }

    /// Whether the miner is banned at `block`.
    pub fn banned_at(&self, block: u64) -> bool {
        self.banned_until.is_some_and(|until| block < until)
    }

    /// The score at `block`: 0 while banned or below the success floor, else the scored speed
    /// (tokens per second).
    pub fn score(&self, block: u64, params: &GridScoring) -> f64 {
        if self.banned_at(block) || self.success_rate() < params.success_floor {
            return 0.0;
        }
        self.speed(params).unwrap_or(0.0)
    }

    /// Whether every number is usable (a state file may be edited by hand).
    pub fn is_sane(&self) -> bool {
        self.speeds.iter().all(|s| s.is_finite() && *s >= 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOT: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

    fn verified(tps: f64) -> GridObservation {
        GridObservation::Verified { tokens_per_sec: tps, by_agreement: false }
    }

    #[test]
    fn percentile_is_nearest_rank_from_the_slowest() {
        let v = [50.0, 10.0, 40.0, 20.0, 30.0];
        assert_eq!(low_percentile(v, 0.0), Some(10.0));
        assert_eq!(low_percentile(v, 20.0), Some(10.0));
        assert_eq!(low_percentile(v, 21.0), Some(20.0));
        assert_eq!(low_percentile(v, 50.0), Some(30.0));
        assert_eq!(low_percentile(v, 100.0), Some(50.0));
        assert_eq!(low_percentile([], 20.0), None);
        assert_eq!(low_percentile([f64::NAN, 3.0], 0.0), Some(3.0));
    }

    #[test]
    fn score_is_a_low_percentile_of_speed() {
        let p = GridScoring { window: 10, ..GridScoring::default() };
        let mut s = GridScore::new(HOT);
        assert_eq!(s.score(0, &p), 0.0);
        for tps in [100.0, 100.0, 100.0, 100.0, 5.0, 100.0, 100.0, 100.0, 100.0, 6.0] {
            s.observe(&verified(tps), 1, &p);
        }
        // Two slow answers out of ten: the 20th percentile is the slower of them.
        assert_eq!(s.score(1, &p), 6.0);
        // The ring forgets: ten fast answers later the slow ones are gone.
        for _ in 0..10 {
            s.observe(&verified(80.0), 2, &p);
        }
        assert_eq!(s.speeds.len(), 10);
        assert_eq!(s.score(2, &p), 80.0);
        assert_eq!(s.verified, 20);
    }

    #[test]
    fn failures_below_the_floor_score_zero_and_recover() {
        let p = GridScoring { window: 10, success_floor: 0.8, ..GridScoring::default() };
        let mut s = GridScore::new(HOT);
        for _ in 0..8 {
            s.observe(&verified(50.0), 1, &p);
        }
        s.observe(&GridObservation::Failed("timeout".into()), 1, &p);
        s.observe(&GridObservation::Failed("timeout".into()), 1, &p);
        assert_eq!(s.success_rate(), 0.8);
        assert_eq!(s.score(1, &p), 50.0);
        s.observe(&GridObservation::Failed("timeout".into()), 1, &p);
        assert!(s.success_rate() < 0.8);
        assert_eq!(s.score(1, &p), 0.0);
        assert_eq!(s.failed, 3);
        // Recovery: the failures slide out of the window.
        for _ in 0..2 {
            s.observe(&verified(50.0), 2, &p);
        }
        assert_eq!(s.score(2, &p), 0.0);
        for _ in 0..8 {
            s.observe(&verified(50.0), 2, &p);
        }
        assert_eq!(s.success_rate(), 1.0);
        assert_eq!(s.score(2, &p), 50.0);
    }

    #[test]
    fn a_rejection_bans_for_ban_blocks() {
        let p = GridScoring { window: 4, success_floor: 0.0, ban_blocks: 100, percentile: 20.0 };
        let mut s = GridScore::new(HOT);
        s.observe(&verified(50.0), 10, &p);
        s.observe(&GridObservation::Rejected("token 3 has margin 2".into()), 10, &p);
        assert_eq!(s.banned_until, Some(110));
        assert_eq!(s.score(109, &p), 0.0);
        assert_eq!(s.score(110, &p), 50.0);
        assert_eq!(s.rejected, 1);
        assert_eq!(s.last_rejection.as_deref(), Some("token 3 has margin 2"));
        // Agreement counts apart from verification.
        s.observe(&GridObservation::Verified { tokens_per_sec: 1.0, by_agreement: true }, 11, &p);
        assert_eq!((s.verified, s.agreed), (1, 1));
    }

    #[test]
    fn organic_rejections_ban_while_other_organic_verdicts_are_only_counted() {
        let p = GridScoring { window: 4, success_floor: 0.0, ban_blocks: 100, percentile: 0.0 };
        let mut s = GridScore::new(HOT);
        s.observe(&verified(50.0), 10, &p);
        s.observe_organic(&verified(20.0), 10, &p);
        s.observe_organic(&GridObservation::Failed("timeout".into()), 10, &p);
        assert_eq!((s.verified, s.failed), (1, 0));
        assert_eq!((s.organic_verified, s.organic_failed, s.organic_rejected), (1, 1, 0));
        // Speed and reliability stay the challenges': a slow short user answer and a timeout
        // cut short by the gateway change neither.
        assert_eq!(s.recent, VecDeque::from([true]));
        assert_eq!(s.score(10, &p), 50.0);
        s.observe_organic(&GridObservation::Rejected("margin".into()), 20, &p);
        assert_eq!((s.rejected, s.organic_rejected), (0, 1));
        assert_eq!(s.banned_until, Some(120));
        assert_eq!(s.last_rejection.as_deref(), Some("margin"));
        assert_eq!(s.score(119, &p), 0.0);
    }

    #[test]
    fn a_record_saved_before_organic_counters_still_loads() {
        let old = r#"{"hotkey":"5Old","recent":[true],"speeds":[12.0],"verified":1,"agreed":0,
                      "rejected":0,"failed":0,"banned_until":null,"last_rejection":null}"#;
        let s: GridScore = serde_json::from_str(old).unwrap();
        assert_eq!(
            (s.verified, s.organic_verified, s.organic_rejected, s.organic_failed),
            (1, 0, 0, 0)
        );
    }
}
