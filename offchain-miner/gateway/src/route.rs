//! The routing policy: which miner gets a request, which one is the backup, and how long to
//! wait before hedging to it. Pure functions over [`Candidate`]s, so they are unit-tested
//! without a network.
//!
//! * **Weight** of a miner: `max(incentive, incentive_floor) × success × speed`, at least
//!   `probe_floor × the largest weight`, so a weak or unknown miner is still probed now and
//!   then. `success` is the success rate over the recent window (1 before any outcome);
//!   `speed` is `(best_p50 + s) / (own_p50 + s)` over the candidates' TTFT medians (`s` =
//!   [`RoutePolicy::speed_smoothing_ms`]; 1 for a miner not measured yet).
//! * **Drop-out**: a miner with [`RoutePolicy::failure_streak`] consecutive failures is not
//!   routed to until [`RoutePolicy::failure_cooldown`] after its last failure; then it is
//!   probed again at the floor weight.
//! * **Power of two choices**: two distinct miners are drawn by weight; the one with fewer
//!   requests in flight is the primary (ties: the first drawn, so equal loads keep the
//!   weighted choice), the other the backup.
//! * **Hedge delay**: the primary's own TTFT p90, or the backup's when that is shorter (a
//!   primary that has not answered by the time the backup usually would have is worth
//!   hedging: otherwise a consistently slow miner, probed at the floor weight, would always
//!   be waited for), within [`RoutePolicy::hedge_min`]..=[`RoutePolicy::hedge_max`]
//!   ([`RoutePolicy::hedge_default`] for an unmeasured primary).

use crate::latency::MinerSummary;
use rand::Rng;
use std::time::Duration;

/// The routing parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct RoutePolicy {
    /// Incentive used for miners with less (on chain it is a `u16` share; here 0..=1).
    pub incentive_floor: f64,
    /// Least weight, as a share of the largest, so every eligible miner is probed.
    pub probe_floor: f64,
    /// Added to TTFT medians in the speed factor, ms (damps differences of a few ms).
    pub speed_smoothing_ms: f64,
    /// Consecutive failures after which a miner drops out of routing.
    pub failure_streak: u32,
    /// How long a dropped-out miner waits before it is probed again.
    pub failure_cooldown: Duration,
    /// Shortest hedge delay.
    pub hedge_min: Duration,
    /// Longest hedge delay.
    pub hedge_max: Duration,
    /// Hedge delay for a primary with no measurements.
    pub hedge_default: Duration,
}

impl Default for RoutePolicy {
    fn default() -> Self {
        Self {
            incentive_floor: 0.01,
            probe_floor: 0.05,
            speed_smoothing_ms: 20.0,
            failure_streak: 3,
            failure_cooldown: Duration::from_secs(30),
            hedge_min: Duration::from_millis(50),
            hedge_max: Duration::from_secs(2),
            hedge_default: Duration::from_millis(500),
        }
    }
}

/// A miner that could take the request.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Its uid.
    pub uid: u16,
    /// Its incentive from the metagraph, 0..=1.
    pub incentive: f64,
    /// What the latency map knows of it.
    pub stats: MinerSummary,
}

/// Where one request goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The miner asked first.
    pub primary: u16,
    /// The second miner (fan-out partner, or hedge), if there is another eligible one.
    pub backup: Option<u16>,
    /// Further distinct miners for a wider fan-out (see [`RoutePolicy::plan_wide`]), in draw
    /// order; empty from [`RoutePolicy::plan`].
    pub more: Vec<u16>,
    /// How long to wait for the primary before hedging to the backup.
    pub hedge_delay: Duration,
}

impl RoutePolicy {
    /// Whether `c` may be routed to at `now_ms` (not in a failure cool-down).
    pub fn eligible(&self, c: &Candidate, now_ms: u64) -> bool {
        if c.stats.consecutive_failures < self.failure_streak {
            return true;
        }
        let cooldown = u64::try_from(self.failure_cooldown.as_millis()).unwrap_or(u64::MAX);
        c.stats.last_failure_ms.is_none_or(|at| now_ms.saturating_sub(at) >= cooldown)
    }

    /// The routing weight of each candidate (0 for those not eligible).
    pub fn weights(&self, candidates: &[Candidate], now_ms: u64) -> Vec<f64> {
        let best =
            candidates.iter().filter_map(|c| c.stats.ttft_p50_ms).fold(f64::INFINITY, f64::min);
        let raw: Vec<f64> = candidates
            .iter()
            .map(|c| {
                if !self.eligible(c, now_ms) {
                    return 0.0;
                }
                let incentive = c.incentive.max(self.incentive_floor);
                let success = c.stats.success_rate.unwrap_or(1.0);
                let speed = match c.stats.ttft_p50_ms {
                    Some(own) if best.is_finite() => {
                        (best + self.speed_smoothing_ms) / (own + self.speed_smoothing_ms)
                    }
                    _ => 1.0,
                };
                incentive * success * speed
            })
            .collect();
        let top = raw.iter().copied().fold(0.0, f64::max);
        let floor = if top > 0.0 { top * self.probe_floor } else { 1.0 };
        candidates
            .iter()
            .zip(raw)
            .map(|(c, w)| if self.eligible(c, now_ms) { w.max(floor) } else { 0.0 })
            .collect()
    }

    /// The hedge delay for a primary with these figures and its backup's.
    pub fn hedge_delay(&self, primary: &MinerSummary, backup: Option<&MinerSummary>) -> Duration {
        let p90 = |s: &MinerSummary| s.ttft_p90_ms.filter(|ms| ms.is_finite() && *ms >= 0.0);
        match p90(primary) {
            Some(own) => {
                let ms = backup.and_then(p90).map_or(own, |b| own.min(b));
                Duration::from_secs_f64(ms / 1000.0).clamp(self.hedge_min, self.hedge_max)
            }
            None => self.hedge_default,
        }
    }

    /// Chooses the primary and backup among `candidates` (see the module documentation);
    /// `None` when none is eligible.
    pub fn plan(&self, candidates: &[Candidate], now_ms: u64, rng: &mut impl Rng) -> Option<Plan> {
        self.plan_wide(candidates, 0, now_ms, rng)
    }

    /// [`Self::plan`], plus up to `extra` further distinct miners drawn by weight (for a
    /// fan-out to more than two).
    pub fn plan_wide(
        &self,
        candidates: &[Candidate],
        extra: usize,
        now_ms: u64,
        rng: &mut impl Rng,
    ) -> Option<Plan> {
        let weights = self.weights(candidates, now_ms);
        let first = draw(&weights, &[], rng)?;
        let second = draw(&weights, &[first], rng);
        let mut taken: Vec<usize> = std::iter::once(first).chain(second).collect();
        let mut more = Vec::new();
        while more.len() < extra {
            let Some(i) = draw(&weights, &taken, rng) else { break };
            taken.push(i);
            if let Some(c) = candidates.get(i) {
                more.push(c.uid);
            }
        }
        let (a, b) = (candidates.get(first)?, second.and_then(|i| candidates.get(i)));
        let (primary, backup) = match b {
            Some(b) => {
                if b.stats.in_flight < a.stats.in_flight {
                    (b, Some(a))
                } else {
                    (a, Some(b))
                }
            }
            None => (a, None),
        };
        Some(Plan {
            primary: primary.uid,
            backup: backup.map(|c| c.uid),
            more,
            hedge_delay: self.hedge_delay(&primary.stats, backup.map(|c| &c.stats)),
        })
    }
}

/// An index drawn with probability proportional to `weights`, skipping those in `except`.
fn draw(weights: &[f64], except: &[usize], rng: &mut impl Rng) -> Option<usize> {
    let usable = |i: usize, w: f64| !except.contains(&i) && w > 0.0 && w.is_finite();
    let total: f64 =
        weights.iter().enumerate().filter(|(i, w)| usable(*i, **w)).map(|(_, w)| w).sum();
    if total <= 0.0 {
        return None;
    }
    let mut x = rng.gen::<f64>() * total;
    let mut last = None;
    for (i, w) in weights.iter().enumerate() {
        if !usable(i, *w) {
            continue;
        }
        last = Some(i);
        if x < *w {
            return Some(i);
        }
        x -= w;
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    fn cand(uid: u16, p50: Option<f64>, success: Option<f64>, in_flight: u32) -> Candidate {
        Candidate {
            uid,
            incentive: 0.0,
            stats: MinerSummary {
                ttft_p50_ms: p50,
                ttft_p90_ms: p50.map(|p| p * 1.5),
                success_rate: success,
                in_flight,
                ..MinerSummary::default()
            },
        }
    }

    fn counts(policy: &RoutePolicy, cands: &[Candidate], n: usize) -> Vec<usize> {
        let mut rng = StdRng::seed_from_u64(1);
        let mut out = vec![0; cands.len()];
        for _ in 0..n {
            let plan = policy.plan(cands, 0, &mut rng).unwrap();
            let i = cands.iter().position(|c| c.uid == plan.primary).unwrap();
            out[i] += 1;
        }
        out
    }

    #[test]
    fn fast_miner_is_chosen_most_and_slow_one_still_probed() {
        let p = RoutePolicy::default();
        let cands = [
            cand(0, Some(2.0), Some(1.0), 0),
            cand(1, Some(50.0), Some(1.0), 0),
            cand(2, Some(300.0), Some(1.0), 0),
        ];
        let c = counts(&p, &cands, 3000);
        assert!(c[0] > c[1] && c[1] > c[2], "{c:?}");
        assert!(c[0] > 1500, "{c:?}");
        assert!(c[2] > 0, "the slow miner is never probed: {c:?}");
    }

    #[test]
    fn unknown_miners_are_probed_and_incentive_counts() {
        let p = RoutePolicy::default();
        let mut rich = cand(0, None, None, 0);
        rich.incentive = 0.9;
        let poor = cand(1, None, None, 0);
        let w = p.weights(&[rich, poor], 0);
        assert!(w[0] > w[1] && w[1] > 0.0, "{w:?}");
    }

    #[test]
    fn failing_miner_drops_out_then_is_probed_after_the_cooldown() {
        let p = RoutePolicy::default();
        let mut bad = cand(1, Some(1.0), Some(0.2), 0);
        bad.stats.consecutive_failures = 3;
        bad.stats.last_failure_ms = Some(1_000);
        let good = cand(0, Some(100.0), Some(1.0), 0);
        let w = p.weights(&[good.clone(), bad.clone()], 2_000);
        assert_eq!(w[1], 0.0);
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..100 {
            let plan = p.plan(&[good.clone(), bad.clone()], 2_000, &mut rng).unwrap();
            assert_eq!((plan.primary, plan.backup), (0, None));
        }
        assert!(p.weights(&[good, bad], 1_000 + 30_000)[1] > 0.0);
        let mut only = cand(2, None, None, 0);
        only.stats.consecutive_failures = 5;
        only.stats.last_failure_ms = Some(0);
        assert!(p.plan(&[only], 10, &mut rng).is_none());
    }

    #[test]
    fn power_of_two_prefers_the_less_loaded() {
        let p = RoutePolicy::default();
        let cands = [cand(0, Some(10.0), Some(1.0), 9), cand(1, Some(10.0), Some(1.0), 0)];
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..50 {
            let plan = p.plan(&cands, 0, &mut rng).unwrap();
            assert_eq!((plan.primary, plan.backup), (1, Some(0)));
        }
    }

    #[test]
    fn wide_plans_draw_distinct_miners() {
        let p = RoutePolicy::default();
        let cands: Vec<Candidate> = (0..4).map(|u| cand(u, None, None, 0)).collect();
        let mut rng = StdRng::seed_from_u64(9);
        for _ in 0..50 {
            let plan = p.plan_wide(&cands, 1, 0, &mut rng).unwrap();
            let mut all = vec![plan.primary, plan.backup.unwrap()];
            all.extend(&plan.more);
            assert_eq!(all.len(), 3);
            all.sort_unstable();
            all.dedup();
            assert_eq!(all.len(), 3, "{plan:?}");
        }
        let plan = p.plan_wide(&cands[..2], 5, 0, &mut rng).unwrap();
        assert!(plan.more.is_empty() && plan.backup.is_some());
    }

    #[test]
    fn hedge_delay_is_the_shorter_p90_bounded() {
        let p = RoutePolicy::default();
        let s = |p90: Option<f64>| MinerSummary { ttft_p90_ms: p90, ..MinerSummary::default() };
        assert_eq!(p.hedge_delay(&s(Some(300.0)), None), Duration::from_millis(300));
        assert_eq!(p.hedge_delay(&s(Some(1.0)), None), p.hedge_min);
        assert_eq!(p.hedge_delay(&s(Some(60_000.0)), None), p.hedge_max);
        assert_eq!(p.hedge_delay(&s(None), None), p.hedge_default);
        // A slow primary with a fast backup is hedged after the backup's p90.
        let fast = s(Some(120.0));
        assert_eq!(p.hedge_delay(&s(Some(2_000.0)), Some(&fast)), Duration::from_millis(120));
        assert_eq!(p.hedge_delay(&s(Some(80.0)), Some(&fast)), Duration::from_millis(80));
        assert_eq!(p.hedge_delay(&s(Some(900.0)), Some(&s(None))), Duration::from_millis(900));
        assert_eq!(p.hedge_delay(&s(None), Some(&fast)), p.hedge_default);
    }
}
