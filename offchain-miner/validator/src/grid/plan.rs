//! Grid scores to a weight vector: weights proportional to each miner's score (its reliable
//! speed, or 0), through [`crate::weights::plan_weights`] like loss scores.

use super::score::{GridScore, GridScoring};
use crate::weights::{self, Standing, WeightRules, WeightVector};
use std::collections::BTreeMap;

/// The standings of grid miners at `block`: the score as the weight basis; miners without a
/// positive score are ranked for padding by how many answers they had verified recently.
pub fn grid_standings(
    scores: &BTreeMap<u16, GridScore>,
    block: u64,
    params: &GridScoring,
) -> Vec<Standing> {
    scores
        .iter()
        .map(|(&uid, s)| Standing {
            uid,
            zeroing: s.score(block, params),
            // Lower is better for padding: fewer failures in the window first; banned miners last.
            ema_loss: Some(if s.banned_at(block) { 2.0 } else { 1.0 - s.success_rate() }),
        })
        .collect()
}

/// The weight vector of grid `scores` at `block` under the subnet's `rules`.
pub fn plan_grid_weights(
    scores: &BTreeMap<u16, GridScore>,
    block: u64,
    params: &GridScoring,
    rules: &WeightRules,
) -> Result<WeightVector, weights::Skip> {
    weights::plan_weights(&grid_standings(scores, block, params), rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::score::GridObservation;

    #[test]
    fn weights_follow_speed_and_exclude_cheats_and_the_unreliable() {
        let p = GridScoring { window: 8, success_floor: 0.5, ban_blocks: 10, percentile: 20.0 };
        let mut scores = BTreeMap::new();
        for (uid, tps) in [(1u16, 100.0), (2, 50.0), (3, 200.0), (4, 300.0)] {
            let mut s = GridScore::new(format!("hotkey{uid}"));
            for _ in 0..4 {
                s.observe(
                    &GridObservation::Verified { tokens_per_sec: tps, by_agreement: false },
                    5,
                    &p,
                );
            }
            scores.insert(uid, s);
        }
        // uid 3 cheated once; uid 4 mostly times out.
        scores.get_mut(&3).unwrap().observe(&GridObservation::Rejected("margin".into()), 5, &p);
        for _ in 0..6 {
            scores.get_mut(&4).unwrap().observe(&GridObservation::Failed("timeout".into()), 5, &p);
        }
        let rules = WeightRules { n: 6, own_uid: 0, min_allowed: 1, max_weight_limit: u16::MAX };
        let w = plan_grid_weights(&scores, 6, &p, &rules).unwrap();
        assert_eq!(w.value_of(1), Some(u16::MAX));
        let half = w.share_of(2) / w.share_of(1);
        assert!((half - 0.5).abs() < 1e-3, "{half}");
        assert_eq!(w.share_of(3), 0.0);
        assert_eq!(w.share_of(4), 0.0);
        // After the ban, uid 3 is back, fastest.
        let w = plan_grid_weights(&scores, 15, &p, &rules).unwrap();
        assert!(w.share_of(3) > w.share_of(1));
    }
}
