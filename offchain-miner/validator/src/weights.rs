//! From zeroing scores to the `(uids, values)` the chain accepts, and the timing rules of
//! setting, committing and revealing weights. Pure; mirrors the checks of
//! `pallet_subtensor::subnets::weights` so that a submission never fails for a rule that
//! could be checked off chain.
//!
//! Pipeline ([`plan_weights`]):
//! 1. candidates: uids other than our own, inside the subnet, with a positive zeroing score;
//! 2. if the max weight limit cannot be met by them alone (`k · limit ≤ 1`), pad with the best
//!    remaining uids (by EMA loss) at raw weight 0;
//! 3. [`normalize_max_weight`] with the subnet's limit (minus a safety margin for rounding);
//! 4. max-upscale to u16 (the largest → 65535) as `stcli weights set` does ([`to_u16`]);
//! 5. drop entries that rounded to 0, then pad with the best remaining uids at value 0 up to
//!    `min(MinAllowedWeights, n)`;
//! 6. check with the pallet's own `max_normalized` and retry with a wider margin if rounding
//!    pushed the largest share over the limit.

use std::{cmp::Ordering, collections::BTreeSet};
use subtensor_client::pallet_subtensor::subnets::weights::max_normalized;

/// The subnet's rules a weight vector must satisfy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightRules {
    /// Neurons on the subnet (valid uids are `0..n`).
    pub n: u16,
    /// Our own uid (never weighted, except as a last-resort zero pad).
    pub own_uid: u16,
    /// `MinAllowedWeights`.
    pub min_allowed: u16,
    /// `MaxWeightsLimit` (u16 fraction of the row sum; 65535 = no limit).
    pub max_weight_limit: u16,
}

/// A uid's standing as the planner sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Standing {
    /// The uid.
    pub uid: u16,
    /// Zeroing score (weights are proportional to it).
    pub zeroing: f64,
    /// EMA loss, to rank uids without a positive score (`None`: never queried).
    pub ema_loss: Option<f64>,
}

/// Weights ready to send: `uids` ascending, `values` u16, same length.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WeightVector {
    /// Destination uids, ascending, distinct.
    pub uids: Vec<u16>,
    /// Their u16 values (max-upscaled).
    pub values: Vec<u16>,
}

impl WeightVector {
    /// The u16 value set for `uid`, if any.
    pub fn value_of(&self, uid: u16) -> Option<u16> {
        self.uids.iter().position(|&u| u == uid).and_then(|i| self.values.get(i).copied())
    }

    /// `uid`'s share of the row, in [0, 1].
    pub fn share_of(&self, uid: u16) -> f64 {
        let sum: f64 = self.values.iter().map(|&v| f64::from(v)).sum();
        match self.value_of(uid) {
            Some(v) if sum > 0.0 => f64::from(v) / sum,
            _ => 0.0,
        }
    }
}

/// Normalises `x` to sum 1 with no entry above `limit`, as the Python SDK's
/// `normalize_max_weight`: uniform when `x` sums to 0 or `len · limit ≤ 1`; unchanged
/// proportions when already under the limit; else the largest entries are capped at the one
/// cutoff that makes them exactly `limit` after renormalisation. When too few entries are
/// positive for any cap to work, the proportions are blended with uniform just enough to meet
/// the limit. Negative and non-finite entries count as 0.
pub fn normalize_max_weight(x: &[f64], limit: f64) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let clean: Vec<f64> =
        x.iter().map(|&v| if v.is_finite() && v > 0.0 { v } else { 0.0 }).collect();
    let sum: f64 = clean.iter().sum();
    let uniform = 1.0 / n as f64;
    if sum <= 0.0 || n as f64 * limit <= 1.0 {
        return vec![uniform; n];
    }
    let w: Vec<f64> = clean.iter().map(|v| v / sum).collect();
    let w_max = w.iter().copied().fold(0.0, f64::max);
    if w_max <= limit {
        return w;
    }
    // Water-filling: with the j largest capped at c and the rest summing to R,
    // c = limit·(R + j·c)  ⇒  c = limit·R / (1 − limit·j), valid when it lies between the
    // (j+1)-th largest value and the j-th.
    let mut sorted = w.clone();
    sorted.sort_by(|a, b| b.partial_cmp(a).unwrap_or(Ordering::Equal));
    for j in 1..n {
        let (Some(&capped), Some(&next)) = (sorted.get(j.saturating_sub(1)), sorted.get(j)) else {
            break;
        };
        let rest: f64 = sorted.get(j..).unwrap_or_default().iter().sum();
        let denominator = 1.0 - limit * j as f64;
        if denominator <= 0.0 {
            break;
        }
        let cutoff = limit * rest / denominator;
        if cutoff > 0.0 && cutoff >= next && cutoff <= capped {
            let capped_w: Vec<f64> = w.iter().map(|&v| v.min(cutoff)).collect();
            let total: f64 = capped_w.iter().sum();
            return capped_w.iter().map(|v| v / total).collect();
        }
    }
    // Too few positive entries: blend toward uniform, t = (w_max − limit) / (w_max − 1/n).
    let t = ((w_max - limit) / (w_max - uniform)).clamp(0.0, 1.0);
    w.iter().map(|v| (1.0 - t) * v + t * uniform).collect()
}

/// Max-upscales non-negative weights to u16 (the largest becomes 65535, the rest
/// `round(w / max · 65535)`), as `stcli weights set` does. All zero (or empty) stays zero.
pub fn to_u16(weights: &[f64]) -> Vec<u16> {
    let max = weights.iter().copied().filter(|w| w.is_finite()).fold(0.0, f64::max);
    if max <= 0.0 {
        return vec![0; weights.len()];
    }
    weights
        .iter()
        .map(|&w| {
            let scaled = if w.is_finite() && w > 0.0 { (w / max * 65535.0).round() } else { 0.0 };
            // In [0, 65535] by construction.
            scaled.clamp(0.0, 65535.0) as u16
        })
        .collect()
}

/// Why no weights can be set now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip(pub String);

/// Builds the weight vector from the uids' standings under `rules` (see the module docs).
pub fn plan_weights(standings: &[Standing], rules: &WeightRules) -> Result<WeightVector, Skip> {
    let in_subnet = |uid: u16| uid < rules.n;
    let mut candidates: Vec<Standing> = standings
        .iter()
        .copied()
        .filter(|s| {
            in_subnet(s.uid) && s.uid != rules.own_uid && s.zeroing.is_finite() && s.zeroing > 0.0
        })
        .collect();
    if candidates.is_empty() {
        return Err(Skip("no miner has a positive score yet".to_owned()));
    }
    candidates.sort_by(|a, b| {
        b.zeroing.partial_cmp(&a.zeroing).unwrap_or(Ordering::Equal).then(a.uid.cmp(&b.uid))
    });
    let ranking = pad_ranking(standings, rules);
    let unlimited = rules.max_weight_limit == u16::MAX;
    let min_required = usize::from(rules.min_allowed.min(rules.n));
    for margin in [1u16, 4, 16, 64, 256] {
        let limit = if unlimited {
            1.0
        } else {
            f64::from(rules.max_weight_limit.saturating_sub(margin)) / 65535.0
        };
        if limit <= 0.0 {
            break;
        }
        // Enough entries that `len · limit > 1`; pads carry raw weight 0.
        let mut chosen: Vec<Standing> = candidates.clone();
        if !unlimited {
            // Never our own uid here: the blend below could give a pad a positive share.
            let taken: BTreeSet<u16> = chosen.iter().map(|c| c.uid).collect();
            let mut pads = ranking.iter().filter(|u| !taken.contains(u) && **u != rules.own_uid);
            while chosen.len() as f64 * limit <= 1.0 {
                match pads.next() {
                    Some(&uid) => chosen.push(Standing { uid, zeroing: 0.0, ema_loss: None }),
                    None => break,
                }
            }
        }
        let raw: Vec<f64> = chosen.iter().map(|s| s.zeroing).collect();
        let values = to_u16(&normalize_max_weight(&raw, limit));
        let mut row: Vec<(u16, u16)> =
            chosen.iter().map(|s| s.uid).zip(values).filter(|(_, v)| *v > 0).collect();
        let taken: BTreeSet<u16> = row.iter().map(|(u, _)| *u).collect();
        let mut pads = ranking.iter().filter(|u| !taken.contains(u));
        while row.len() < min_required {
            match pads.next() {
                Some(&uid) => row.push((uid, 0)),
                None => break,
            }
        }
        if row.len() < min_required {
            return Err(Skip(format!(
                "the subnet requires {min_required} weights but only {} uids can be weighted",
                row.len()
            )));
        }
        row.sort_unstable_by_key(|(uid, _)| *uid);
        let vector = WeightVector {
            uids: row.iter().map(|(u, _)| *u).collect(),
            values: row.iter().map(|(_, v)| *v).collect(),
        };
        if unlimited || max_normalized(&vector.values) <= rules.max_weight_limit {
            return Ok(vector);
        }
    }
    Err(Skip(format!(
        "cannot meet the max weight limit {} with {} uids",
        rules.max_weight_limit, rules.n
    )))
}

/// Uids to pad with, best first: other uids by EMA loss (lowest first; never-queried ones
/// after, by uid), then our own uid last.
fn pad_ranking(standings: &[Standing], rules: &WeightRules) -> Vec<u16> {
    let mut known: Vec<(u16, f64)> = standings
        .iter()
        .filter(|s| s.uid < rules.n && s.uid != rules.own_uid)
        .filter_map(|s| s.ema_loss.filter(|l| l.is_finite()).map(|l| (s.uid, l)))
        .collect();
    known.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(Ordering::Equal).then(a.0.cmp(&b.0)));
    let mut seen: BTreeSet<u16> = known.iter().map(|(u, _)| *u).collect();
    let mut out: Vec<u16> = known.into_iter().map(|(u, _)| u).collect();
    for uid in 0..rules.n {
        if uid != rules.own_uid && seen.insert(uid) {
            out.push(uid);
        }
    }
    if rules.own_uid < rules.n {
        out.push(rules.own_uid);
    }
    out
}

/// Whether the chain's rate limit lets a weight update of a neuron last updated at
/// `last_update` land in block `next_block`: `Ok` if so, else `Err(first allowed block)`.
/// (Chain rule: `last == 0 || now − last ≥ WeightsSetRateLimit`.)
pub fn rate_limit_gate(last_update: u64, rate_limit: u64, next_block: u64) -> Result<(), u64> {
    if last_update == 0 || next_block.saturating_sub(last_update) >= rate_limit {
        Ok(())
    } else {
        Err(last_update.saturating_add(rate_limit))
    }
}

/// Whether a weight epoch has passed since the last weights this validator set.
pub fn weights_due(now: u64, last_set: Option<u64>, epoch_blocks: u64) -> bool {
    last_set.is_none_or(|last| now.saturating_sub(last) >= epoch_blocks)
}

/// The pallet's epoch index of `block` on `netuid`: `(block + netuid) / tempo` (0 when the
/// tempo is 0).
pub fn epoch_index(netuid: u16, tempo: u16, block: u64) -> u64 {
    block.saturating_add(u64::from(netuid)).checked_div(u64::from(tempo)).unwrap_or(0)
}

/// The first block of epoch `epoch` on `netuid` (for waiting).
pub fn epoch_start(netuid: u16, tempo: u16, epoch: u64) -> u64 {
    epoch.saturating_mul(u64::from(tempo)).saturating_sub(u64::from(netuid))
}

/// Where a commitment revealable in epoch `reveal_epoch` stands for a transaction landing in
/// `next_block`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevealTiming {
    /// Not yet: the reveal epoch starts at this block.
    TooEarly(u64),
    /// Reveal now.
    Now,
    /// The window passed; the chain will refuse it.
    Expired,
}

/// The chain accepts a reveal only in the block range whose epoch index equals `reveal_epoch`.
pub fn reveal_timing(netuid: u16, tempo: u16, reveal_epoch: u64, next_block: u64) -> RevealTiming {
    let epoch = epoch_index(netuid, tempo, next_block);
    match epoch.cmp(&reveal_epoch) {
        Ordering::Less => RevealTiming::TooEarly(epoch_start(netuid, tempo, reveal_epoch)),
        Ordering::Equal => RevealTiming::Now,
        Ordering::Greater => RevealTiming::Expired,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn standing(uid: u16, zeroing: f64) -> Standing {
        Standing { uid, zeroing, ema_loss: Some(3.0) }
    }

    fn rules(n: u16, min_allowed: u16, max_weight_limit: u16) -> WeightRules {
        WeightRules { n, own_uid: 0, min_allowed, max_weight_limit }
    }

    #[test]
    fn normalize_max_weight_sums_to_one_under_the_limit() {
        let mut rng = StdRng::seed_from_u64(7);
        for case in 0..500 {
            let n = rng.gen_range(1..40);
            let limit = rng.gen_range(0.01..1.0);
            let x: Vec<f64> = (0..n)
                .map(|_| if rng.gen_bool(0.2) { 0.0 } else { rng.gen_range(0.0..10.0f64).powi(3) })
                .collect();
            let y = normalize_max_weight(&x, limit);
            assert_eq!(y.len(), n);
            let sum: f64 = y.iter().sum();
            assert!((sum - 1.0).abs() < 1e-9, "case {case}: sum {sum}");
            if n as f64 * limit > 1.0 {
                let max = y.iter().copied().fold(0.0, f64::max);
                assert!(max <= limit + 1e-9, "case {case}: max {max} > {limit} for {x:?}");
            }
            assert!(y.iter().all(|v| *v >= 0.0));
        }
    }

    #[test]
    fn normalize_max_weight_cases() {
        // Under the limit: plain proportions.
        assert_eq!(normalize_max_weight(&[1.0, 1.0, 2.0], 0.6), vec![0.25, 0.25, 0.5]);
        // All zero, or len · limit ≤ 1: uniform.
        assert_eq!(normalize_max_weight(&[0.0, 0.0], 0.9), vec![0.5, 0.5]);
        assert_eq!(normalize_max_weight(&[1.0, 5.0], 0.5), vec![0.5, 0.5]);
        // Capping keeps the order of the uncapped entries and caps the largest at the limit.
        let y = normalize_max_weight(&[10.0, 1.0, 2.0, 3.0], 0.4);
        assert!((y[0] - 0.4).abs() < 1e-12);
        assert!((y[2] / y[1] - 2.0).abs() < 1e-9 && (y[3] / y[1] - 3.0).abs() < 1e-9);
        // Too few positive entries: blended toward uniform just enough.
        let y = normalize_max_weight(&[1.0, 0.0, 0.0, 0.0], 0.5);
        assert!((y[0] - 0.5).abs() < 1e-12);
        assert!(y[1] > 0.0 && (y[1] - y[3]).abs() < 1e-12);
        assert!(normalize_max_weight(&[], 0.5).is_empty());
    }

    #[test]
    fn u16_conversion_max_upscales() {
        assert_eq!(to_u16(&[0.25, 0.5]), vec![32768, 65535]);
        assert_eq!(to_u16(&[3.0]), vec![65535]);
        assert_eq!(to_u16(&[1.0, 0.0, f64::NAN]), vec![65535, 0, 0]);
        assert_eq!(to_u16(&[0.0, 0.0]), vec![0, 0]);
        assert_eq!(to_u16(&[1.0, 1e-9]), vec![65535, 0]);
    }

    #[test]
    fn plan_excludes_own_and_zero_and_sorts() {
        let s = [
            standing(0, 9.0),
            standing(3, 1.0),
            standing(1, 2.0),
            standing(2, 0.0),
            standing(9, 5.0),
        ];
        let w = plan_weights(&s, &rules(5, 1, u16::MAX)).unwrap();
        // uid 0 is ours, uid 2 has zero score, uid 9 is outside the subnet.
        assert_eq!(w.uids, vec![1, 3]);
        assert_eq!(w.values, vec![65535, 32768]);
        assert!((w.share_of(1) - 65535.0 / (65535.0 + 32768.0)).abs() < 1e-12);
        assert_eq!(w.value_of(2), None);
        assert_eq!(
            plan_weights(&[standing(1, 0.0)], &rules(5, 1, u16::MAX)),
            Err(Skip("no miner has a positive score yet".into()))
        );
    }

    #[test]
    fn plan_pads_to_min_allowed_with_the_best_remaining() {
        let s = [
            standing(1, 4.0),
            Standing { uid: 2, zeroing: 0.0, ema_loss: Some(9.0) },
            Standing { uid: 3, zeroing: 0.0, ema_loss: Some(4.0) },
            Standing { uid: 4, zeroing: 0.0, ema_loss: None },
        ];
        // Needs 3: uid 1 plus the two best remaining by EMA loss (3 then 2), at value 0.
        let w = plan_weights(&s, &rules(6, 3, u16::MAX)).unwrap();
        assert_eq!(w.uids, vec![1, 2, 3]);
        assert_eq!(w.values, vec![65535, 0, 0]);
        // Needs 5: then never-queried uids by uid order (4, 5).
        let w = plan_weights(&s, &rules(6, 5, u16::MAX)).unwrap();
        assert_eq!(w.uids, vec![1, 2, 3, 4, 5]);
        // Needs 6 of 6: our own uid is the last resort.
        let w = plan_weights(&s, &rules(6, 6, u16::MAX)).unwrap();
        assert_eq!(w.uids, vec![0, 1, 2, 3, 4, 5]);
        // Min allowed above n counts as n (the pallet's rule).
        let w = plan_weights(&s, &rules(6, 100, u16::MAX)).unwrap();
        assert_eq!(w.uids.len(), 6);
    }

    #[test]
    fn plan_meets_the_max_weight_limit_exactly_as_the_pallet_checks() {
        let mut rng = StdRng::seed_from_u64(11);
        for case in 0..300 {
            let n: u16 = rng.gen_range(3..64);
            let limit: u16 = rng.gen_range(2000..65535);
            let s: Vec<Standing> = (1..n)
                .map(|uid| {
                    standing(uid, if rng.gen_bool(0.5) { rng.gen_range(0.0..1e5) } else { 0.0 })
                })
                .collect();
            let r = rules(n, rng.gen_range(0..n), limit);
            match plan_weights(&s, &r) {
                Ok(w) => {
                    assert!(max_normalized(&w.values) <= limit, "case {case}: {w:?} limit {limit}");
                    assert!(w.uids.len() >= usize::from(r.min_allowed.min(n)));
                    assert!(w.uids.windows(2).all(|p| p[0] < p[1]));
                    assert!(w.uids.iter().all(|&u| u < n));
                }
                Err(Skip(reason)) => {
                    assert!(
                        s.iter().all(|x| x.zeroing == 0.0) || reason.contains("max weight"),
                        "{reason}"
                    );
                }
            }
        }
        // One good miner, limit 50%: padded with the best remaining so the limit can hold.
        let s = [standing(1, 10.0), Standing { uid: 2, zeroing: 0.0, ema_loss: Some(5.0) }];
        let w = plan_weights(&s, &rules(4, 1, 32768)).unwrap();
        assert!(w.uids.len() >= 3, "{w:?}");
        assert!(max_normalized(&w.values) <= 32768);
        assert_eq!(w.value_of(1), Some(65535));
    }

    #[test]
    fn rate_limit_gate_mirrors_the_pallet() {
        assert_eq!(rate_limit_gate(0, 100, 5), Ok(()));
        assert_eq!(rate_limit_gate(50, 100, 149), Err(150));
        assert_eq!(rate_limit_gate(50, 100, 150), Ok(()));
        assert_eq!(rate_limit_gate(50, 0, 50), Ok(()));
        assert!(weights_due(100, None, 10));
        assert!(!weights_due(109, Some(100), 10));
        assert!(weights_due(110, Some(100), 10));
    }

    #[test]
    fn reveal_window_is_the_reveal_epoch() {
        // netuid 1, tempo 10: epoch of block b is (b + 1) / 10.
        assert_eq!(epoch_index(1, 10, 8), 0);
        assert_eq!(epoch_index(1, 10, 9), 1);
        assert_eq!(epoch_index(1, 0, 9), 0);
        assert_eq!(epoch_start(1, 10, 2), 19);
        assert_eq!(epoch_index(1, 10, epoch_start(1, 10, 2)), 2);
        assert_eq!(reveal_timing(1, 10, 2, 18), RevealTiming::TooEarly(19));
        assert_eq!(reveal_timing(1, 10, 2, 19), RevealTiming::Now);
        assert_eq!(reveal_timing(1, 10, 2, 28), RevealTiming::Now);
        assert_eq!(reveal_timing(1, 10, 2, 29), RevealTiming::Expired);
    }
}
