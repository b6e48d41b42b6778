//! The gate itself: a linear predictor of each uid's loss from the prompt's features, trained
//! by normalised least mean squares, and the noisy top-k choice among candidates.

use crate::{Result, ValidatorError};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The gate file's format version.
pub const GATE_VERSION: u32 = 1;

/// A prompt's raw features (e.g. its mean final hidden state). The gate standardises them
/// with its running per-dimension mean and variance ([`FeatureStats`]) and appends a bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Features(Vec<f64>);

impl Features {
    /// Features from raw values.
    pub fn new(raw: Vec<f64>) -> Self {
        Self(raw)
    }

    /// The raw values.
    pub fn as_slice(&self) -> &[f64] {
        &self.0
    }

    /// The element-wise mean of `all` (the batch's feature when only a per-batch loss is
    /// known); `None` when `all` is empty or the lengths differ.
    pub fn mean(all: &[Features]) -> Option<Features> {
        let first = all.first()?;
        let n = all.len() as f64;
        let mut sum = vec![0.0; first.0.len()];
        for f in all {
            if f.0.len() != sum.len() {
                return None;
            }
            sum.iter_mut().zip(&f.0).for_each(|(s, x)| *s += x / n);
        }
        Some(Features(sum))
    }
}

/// Running per-dimension mean and variance of the prompts the gate learnt from (Welford),
/// shared by all uids: standardising the features keeps the least-mean-squares steps well
/// conditioned (raw hidden states share a large common component).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureStats {
    /// Prompts seen.
    pub count: u64,
    /// Their mean, per dimension.
    pub mean: Vec<f64>,
    /// Sum of squared deviations from the mean, per dimension.
    pub m2: Vec<f64>,
}

impl FeatureStats {
    /// Folds in one prompt's raw features (of the stats' length, or the first ones seen).
    fn observe(&mut self, x: &[f64]) {
        if self.count == 0 {
            self.mean = vec![0.0; x.len()];
            self.m2 = vec![0.0; x.len()];
        }
        self.count = self.count.saturating_add(1);
        let n = self.count as f64;
        for ((m, m2), x) in self.mean.iter_mut().zip(self.m2.iter_mut()).zip(x) {
            let delta = x - *m;
            *m += delta / n;
            *m2 += delta * (x - *m);
        }
    }

    /// `x` standardised per dimension (before any prompt is seen: as is), scaled by
    /// `1/√dim` so its squared norm is about 1, with the bias 1 appended.
    fn input(&self, x: &[f64]) -> Vec<f64> {
        let scale = 1.0 / (x.len().max(1) as f64).sqrt();
        let n = self.count.max(1) as f64;
        let z = x.iter().enumerate().map(|(i, x)| {
            let m = self.mean.get(i).copied().unwrap_or(0.0);
            let var = self.m2.get(i).copied().unwrap_or(n) / n;
            scale * (x - m) / (var + 1e-9).sqrt()
        });
        z.chain(std::iter::once(1.0)).collect()
    }
}

/// One uid's predictor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UidWeights {
    /// The hotkey (SS58) it was trained on; another hotkey at the uid starts afresh.
    pub hotkey: String,
    /// One weight per feature, bias last.
    pub weights: Vec<f64>,
    /// Updates folded in.
    pub updates: u64,
}

/// Predicts each uid's loss (nats) on a prompt from the prompt's [`Features`], learns from
/// measured losses, and chooses which uids get a request.
///
/// Keys are uids in a `BTreeMap` and all arithmetic is `f64`, so the gate is a deterministic
/// function of the updates it was given (and of the random generator, for choices).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    /// Format version ([`GATE_VERSION`]).
    pub version: u32,
    /// Feature length, bias included.
    pub dim: usize,
    /// The NLMS step size, in (0, 2) (larger: faster and noisier).
    pub learning_rate: f64,
    /// Temperature (nats) of the Gumbel noise added to predictions when choosing.
    pub noise: f64,
    /// The standardisation of the features.
    pub stats: FeatureStats,
    /// The predictors, by uid.
    pub uids: BTreeMap<u16, UidWeights>,
}

/// The default NLMS step size.
pub const DEFAULT_LEARNING_RATE: f64 = 0.05;
/// The default choice temperature (nats).
pub const DEFAULT_NOISE: f64 = 0.02;

impl Gate {
    /// An empty gate for raw features of `raw_dim` values (the bias is added).
    pub fn new(raw_dim: usize, learning_rate: f64, noise: f64) -> Self {
        Self {
            version: GATE_VERSION,
            dim: raw_dim.saturating_add(1),
            learning_rate,
            noise,
            stats: FeatureStats::default(),
            uids: BTreeMap::new(),
        }
    }

    /// Whether the numbers are usable (a gate file may be edited by hand or be stale).
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(ValidatorError::Gate(m));
        if self.version != GATE_VERSION {
            return bad(format!(
                "format version {} (this build uses {GATE_VERSION})",
                self.version
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate < 2.0) {
            return bad(format!("learning rate {} outside (0, 2)", self.learning_rate));
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return bad(format!("noise {} is not a finite non-negative number", self.noise));
        }
        let raw = self.dim.saturating_sub(1);
        let s = &self.stats;
        let sane = |v: &[f64]| v.len() == raw && v.iter().all(|x| x.is_finite());
        if s.count > 0 && !(sane(&s.mean) && sane(&s.m2) && s.m2.iter().all(|x| *x >= 0.0)) {
            return bad(format!("feature statistics are not {raw} finite numbers"));
        }
        for (uid, w) in &self.uids {
            if w.weights.len() != self.dim || w.weights.iter().any(|x| !x.is_finite()) {
                return bad(format!("uid {uid}'s weights are not {} finite numbers", self.dim));
            }
        }
        Ok(())
    }

    /// The predicted loss of `uid` under `hotkey` on a prompt with `features`; `None` for a
    /// uid never trained (or trained under another hotkey), or features of another width.
    pub fn predict(&self, uid: u16, hotkey: &str, features: &Features) -> Option<f64> {
        let x = self.input(features)?;
        let w = self.uids.get(&uid).filter(|w| w.hotkey == hotkey)?;
        Some(w.weights.iter().zip(&x).map(|(w, x)| w * x).sum())
    }

    /// The predictor's input for `features` (standardised, bias appended); `None` when the
    /// width is not the gate's.
    fn input(&self, features: &Features) -> Option<Vec<f64>> {
        (features.0.len().saturating_add(1) == self.dim).then(|| self.stats.input(&features.0))
    }

    /// Learns from one prompt: folds its `features` into the standardisation, then for each
    /// measured `(uid, hotkey, loss)` on it takes one normalised LMS step
    /// `w += η (loss − w·x) x / |x|²`. A uid first seen (or whose hotkey changed) starts with
    /// its bias at its loss. Non-finite losses are skipped.
    pub fn learn(&mut self, features: &Features, losses: &[(u16, &str, f64)]) -> Result<()> {
        if features.0.len().saturating_add(1) != self.dim {
            return Err(ValidatorError::Gate(format!(
                "{} features for a gate of {}",
                features.0.len(),
                self.dim.saturating_sub(1)
            )));
        }
        self.stats.observe(&features.0);
        let x = self.stats.input(&features.0);
        let norm2: f64 = x.iter().map(|x| x * x).sum();
        for &(uid, hotkey, loss) in losses.iter().filter(|(_, _, l)| l.is_finite()) {
            if self.uids.get(&uid).is_none_or(|w| w.hotkey != hotkey) {
                let mut weights = vec![0.0; self.dim];
                if let Some(bias) = weights.last_mut() {
                    *bias = loss;
                }
                let fresh = UidWeights { hotkey: hotkey.to_owned(), weights, updates: 0 };
                self.uids.insert(uid, fresh);
            }
            let Some(w) = self.uids.get_mut(&uid) else { continue };
            let predicted: f64 = w.weights.iter().zip(&x).map(|(w, x)| w * x).sum();
            let step = self.learning_rate * (loss - predicted) / norm2.max(1e-12);
            w.weights.iter_mut().zip(&x).for_each(|(w, x)| *w += step * x);
            w.updates = w.updates.saturating_add(1);
        }
        Ok(())
    }

    /// Forgets uids absent from `hotkeys` (uid → current hotkey) or holding another hotkey.
    pub fn retain(&mut self, hotkeys: &BTreeMap<u16, String>) {
        self.uids.retain(|uid, w| hotkeys.get(uid) == Some(&w.hotkey));
    }

    /// Chooses up to `k` distinct uids among `candidates` (uid, hotkey) for a prompt with
    /// `features`. Each slot is, with probability `exploration`, a uniformly random remaining
    /// candidate; otherwise the remaining candidate with the lowest predicted loss minus
    /// [`Gate::noise`] × a Gumbel draw (the Gumbel trick: the first such slot is a softmin
    /// sample with temperature `noise`). Untrained candidates are predicted at the mean of
    /// the trained ones (0 when none is trained: then the choice is random). Ties go to the
    /// earlier candidate.
    pub fn choose(
        &self,
        features: &Features,
        candidates: &[(u16, &str)],
        k: usize,
        exploration: f64,
        rng: &mut impl Rng,
    ) -> Vec<u16> {
        let predicted: Vec<Option<f64>> =
            candidates.iter().map(|(uid, hk)| self.predict(*uid, hk, features)).collect();
        let known: Vec<f64> = predicted.iter().flatten().copied().collect();
        let fallback =
            if known.is_empty() { 0.0 } else { known.iter().sum::<f64>() / known.len() as f64 };
        let mut remaining: Vec<(u16, f64)> = candidates
            .iter()
            .zip(predicted)
            .map(|((uid, _), p)| (*uid, p.unwrap_or(fallback) - self.noise * gumbel(rng)))
            .collect();
        let mut chosen = Vec::with_capacity(k.min(remaining.len()));
        while chosen.len() < k && !remaining.is_empty() {
            let pick = if rng.gen::<f64>() < exploration {
                rng.gen_range(0..remaining.len())
            } else {
                argmin(&remaining)
            };
            if pick < remaining.len() {
                chosen.push(remaining.remove(pick).0);
            }
        }
        chosen
    }
}

/// A standard Gumbel draw, `−ln(−ln u)`.
fn gumbel(rng: &mut impl Rng) -> f64 {
    let u = rng.gen::<f64>().clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON);
    -(-u.ln()).ln()
}

/// The index of the lowest score (the first among equals; NaN never wins).
fn argmin(scored: &[(u16, f64)]) -> usize {
    let mut best: Option<(usize, f64)> = None;
    for (i, (_, s)) in scored.iter().enumerate() {
        let s = if s.is_nan() { f64::INFINITY } else { *s };
        if best.is_none_or(|(_, b)| s < b) {
            best = Some((i, s));
        }
    }
    best.map_or(0, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    const RAW: usize = 8;

    /// A prompt of cluster `c` (0 or 1): its own axis plus noise.
    fn prompt(c: usize, rng: &mut StdRng) -> Features {
        let mut raw: Vec<f64> = (0..RAW).map(|_| rng.gen_range(-0.4..0.4)).collect();
        raw[c] += 1.0;
        Features::new(raw)
    }

    /// Uid 1 is good on cluster 0, uid 2 on cluster 1; uid 3 is mediocre on both. Losses are
    /// noisy (±0.5 nats), as per-row phrase losses are.
    fn loss(uid: u16, c: usize, rng: &mut StdRng) -> f64 {
        let base = match (uid, c) {
            (1, 0) | (2, 1) => 2.0,
            (3, _) => 2.6,
            _ => 3.0,
        };
        base + rng.gen_range(-0.5..0.5)
    }

    fn trained(updates: usize) -> Gate {
        let mut rng = StdRng::seed_from_u64(1);
        let mut gate = Gate::new(RAW, DEFAULT_LEARNING_RATE, DEFAULT_NOISE);
        for i in 0..updates {
            let c = i % 2;
            let f = prompt(c, &mut rng);
            let losses: Vec<(u16, &str, f64)> =
                CANDIDATES.iter().map(|(uid, hk)| (*uid, *hk, loss(*uid, c, &mut rng))).collect();
            gate.learn(&f, &losses).unwrap();
        }
        gate
    }

    const CANDIDATES: [(u16, &str); 3] = [(1, "hk1"), (2, "hk2"), (3, "hk3")];

    #[test]
    fn learns_which_uid_is_good_on_which_cluster() {
        let gate = trained(300);
        let mut rng = StdRng::seed_from_u64(2);
        let (mut right, n) = (0, 1000);
        for i in 0..n {
            let c = i % 2;
            let f = prompt(c, &mut rng);
            let chosen = gate.choose(&f, &CANDIDATES, 1, 0.0, &mut rng);
            assert_eq!(chosen.len(), 1);
            right += usize::from(chosen[0] == [1, 2][c]);
        }
        assert!(right * 10 >= n * 9, "right {right} of {n}");
        // An untrained gate chooses at random: about a third each.
        let fresh = Gate::new(RAW, DEFAULT_LEARNING_RATE, DEFAULT_NOISE);
        let mut ones = 0;
        for _ in 0..900 {
            let f = prompt(0, &mut rng);
            ones += usize::from(fresh.choose(&f, &CANDIDATES, 1, 0.0, &mut rng)[0] == 1);
        }
        assert!((200..400).contains(&ones), "{ones}");
    }

    #[test]
    fn predictions_approach_the_cluster_means() {
        let gate = trained(400);
        let mut rng = StdRng::seed_from_u64(3);
        let f = prompt(0, &mut rng);
        let p1 = gate.predict(1, "hk1", &f).unwrap();
        let p2 = gate.predict(2, "hk2", &f).unwrap();
        assert!((p1 - 2.0).abs() < 0.35 && (p2 - 3.0).abs() < 0.35, "{p1} {p2}");
        // Another hotkey at the uid is unknown, and an update under it starts afresh.
        assert_eq!(gate.predict(1, "other", &f), None);
        let mut gate = gate;
        gate.learn(&f, &[(1, "other", 5.0)]).unwrap();
        assert_eq!(gate.uids[&1].updates, 1);
        assert_eq!(gate.uids[&1].hotkey, "other");
        // Retain drops uids whose hotkey is not the current one.
        let now: BTreeMap<u16, String> = [(1, "other".to_owned()), (2, "new".to_owned())].into();
        gate.retain(&now);
        assert_eq!(gate.uids.keys().copied().collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn choice_is_k_distinct_candidates_and_deterministic() {
        let gate = trained(50);
        let f = prompt(1, &mut StdRng::seed_from_u64(4));
        let a = gate.choose(&f, &CANDIDATES, 2, 0.3, &mut StdRng::seed_from_u64(5));
        let b = gate.choose(&f, &CANDIDATES, 2, 0.3, &mut StdRng::seed_from_u64(5));
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        assert_ne!(a[0], a[1]);
        assert_eq!(gate.choose(&f, &CANDIDATES, 9, 0.0, &mut StdRng::seed_from_u64(6)).len(), 3);
        assert!(gate.choose(&f, &[], 2, 0.0, &mut StdRng::seed_from_u64(6)).is_empty());
        // Features of another width are refused.
        let mut g = gate;
        assert!(g.learn(&Features::new(vec![1.0]), &[(1, "hk1", 2.0)]).is_err());
        assert_eq!(g.predict(1, "hk1", &Features::new(vec![1.0])), None);
    }

    #[test]
    fn exploration_rate_is_respected() {
        // Noise 0: without exploration uid 1 always wins on cluster 0; with exploration ε each
        // slot is uniform over the 3 candidates with probability ε, so uid 1 loses with
        // probability 2ε/3.
        let mut gate = trained(300);
        gate.noise = 0.0;
        let mut rng = StdRng::seed_from_u64(7);
        let mut raw = vec![0.0; RAW];
        raw[0] = 1.0;
        let f = Features::new(raw);
        for _ in 0..100 {
            assert_eq!(gate.choose(&f, &CANDIDATES, 1, 0.0, &mut rng), vec![1]);
        }
        let n = 20_000;
        let lost =
            (0..n).filter(|_| gate.choose(&f, &CANDIDATES, 1, 0.3, &mut rng)[0] != 1).count();
        let rate = lost as f64 / n as f64;
        assert!((rate - 0.2).abs() < 0.015, "{rate}");
        let always = (0..3000).filter(|_| gate.choose(&f, &CANDIDATES, 1, 1.0, &mut rng)[0] == 1);
        let share = always.count() as f64 / 3000.0;
        assert!((share - 1.0 / 3.0).abs() < 0.04, "{share}");
    }

    #[test]
    fn features_are_standardised_with_a_bias() {
        let mut stats = FeatureStats::default();
        for x in [[1.0, 10.0], [3.0, 30.0]] {
            stats.observe(&x);
        }
        // Mean (2, 20), standard deviations (1, 10), scaled by 1/√2.
        let z = stats.input(&[3.0, 10.0]);
        let s = 1.0 / 2f64.sqrt();
        assert!((z[0] - s).abs() < 1e-6 && (z[1] + s).abs() < 1e-6 && z[2] == 1.0, "{z:?}");
        let m = Features::mean(&[Features::new(vec![1.0, 0.0]), Features::new(vec![0.0, 1.0])]);
        assert_eq!(m.unwrap().as_slice(), &[0.5, 0.5]);
        assert!(Features::mean(&[]).is_none());
        let odd = [Features::new(vec![1.0]), Features::new(vec![1.0, 2.0])];
        assert!(Features::mean(&odd).is_none());
    }
}
