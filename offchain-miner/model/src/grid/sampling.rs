//! The grid sampling rule (Gumbel-max under temperature, top-k and top-p) and its
//! verification margin.

use crate::{ModelError, Result};
use serde::{Deserialize, Serialize};

/// How the grid sampler picks tokens: part of a grid request, identical for miner and
/// validator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GridSampling {
    /// Softmax temperature; 0 means greedy (the most likely token, noise ignored).
    pub temperature: f64,
    /// Sample only among the `top_k` highest-scoring tokens (0 = no limit).
    pub top_k: usize,
    /// Then only among the most likely tokens whose probabilities sum to at least `top_p`
    /// (1 = all).
    pub top_p: f64,
}

impl Default for GridSampling {
    /// Plain sampling at temperature 1 with no top-k or top-p mask.
    fn default() -> Self {
        Self { temperature: 1.0, top_k: 0, top_p: 1.0 }
    }
}

impl GridSampling {
    /// Checks that the temperature is finite and `>= 0` and that `0 < top_p <= 1`.
    pub fn validate(&self) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(ModelError::InvalidInput(format!(
                "temperature {} must be a finite number >= 0",
                self.temperature
            )));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(ModelError::InvalidInput(format!(
                "top_p {} must be in (0, 1]",
                self.top_p
            )));
        }
        Ok(())
    }

    /// Whether a top-p mask applies.
    fn uses_top_p(&self) -> bool {
        self.top_p < 1.0
    }

    /// Whether no mask applies (top-k off, top-p 1): every finite-logit token competes, so
    /// picks and margins need no ranking (one linear pass instead of a sort per position).
    fn unmasked(&self) -> bool {
        self.top_k == 0 && !self.uses_top_p()
    }
}

/// The unmasked scores `(l - max l) / T` of a row, computed exactly as [`Ranked::new`] does,
/// by token id (`None` for a non-finite logit). `T > 0`.
fn unmasked_scores<L: Copy + Into<f64>>(
    logits: &[L],
    temperature: f64,
) -> impl Iterator<Item = (usize, Option<f64>)> + '_ {
    let max = logits
        .iter()
        .map(|&l| -> f64 { l.into() })
        .filter(|l| l.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    logits.iter().enumerate().map(move |(i, &l)| {
        let l: f64 = l.into();
        (i, l.is_finite().then(|| (l - max) / temperature))
    })
}

/// The finite-logit tokens of one distribution ranked by score, with the probabilities the
/// top-p mask uses. Only built for a positive temperature.
struct Ranked {
    /// Token ids by descending score; equal scores keep the lower id first.
    ids: Vec<usize>,
    /// Their scores `(l - max l) / T`, descending (the first is 0).
    scores: Vec<f64>,
    /// Size of the top-k set: the first `top_k` ranks (all when top-k is off).
    top_k_len: usize,
    /// Probability of each rank under the softmax over the top-k set (ranks past the set get
    /// the same formula, so they have a value too).
    probs: Vec<f64>,
    /// `cumulative[r]`: total probability of the ranks before `r` that are in the top-k set
    /// (`ids.len() + 1` entries).
    cumulative: Vec<f64>,
}

impl Ranked {
    /// Ranks the finite logits of `logits` under `s` (`s.temperature > 0`).
    fn new<L: Copy + Into<f64>>(logits: &[L], s: &GridSampling) -> Self {
        let values: Vec<(usize, f64)> = logits
            .iter()
            .enumerate()
            .map(|(i, &l)| (i, l.into()))
            .filter(|(_, l)| l.is_finite())
            .collect();
        let max = values.iter().map(|&(_, l)| l).fold(f64::NEG_INFINITY, f64::max);
        let mut ranked: Vec<(usize, f64)> =
            values.into_iter().map(|(i, l)| (i, (l - max) / s.temperature)).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let (ids, scores): (Vec<usize>, Vec<f64>) = ranked.into_iter().unzip();
        let top_k_len = if s.top_k == 0 { ids.len() } else { s.top_k.min(ids.len()) };
        let weights: Vec<f64> = scores.iter().map(|x| x.exp()).collect();
        let total: f64 = weights.iter().take(top_k_len).sum();
        let probs: Vec<f64> = weights.iter().map(|w| w / total).collect();
        let mut cumulative = Vec::with_capacity(probs.len().saturating_add(1));
        let mut sum = 0.0;
        cumulative.push(sum);
        for p in probs.iter().take(top_k_len) {
            sum += p;
            cumulative.push(sum);
        }
        cumulative.resize(probs.len().saturating_add(1), sum);
        Self { ids, scores, top_k_len, probs, cumulative }
    }

    fn score(&self, rank: usize) -> f64 {
        self.scores.get(rank).copied().unwrap_or(f64::NEG_INFINITY)
    }

    fn cumulative(&self, ranks: usize) -> f64 {
        self.cumulative.get(ranks).copied().unwrap_or(f64::INFINITY)
    }

    /// Number of ranks kept by the exact masks: the top-k set, then the smallest prefix
    /// whose cumulative probability reaches `top_p` (never fewer than one rank).
    fn kept_len(&self, s: &GridSampling) -> usize {
        if !s.uses_top_p() {
            return self.top_k_len;
        }
        (0..self.top_k_len).take_while(|&r| self.cumulative(r) < s.top_p).count()
    }

    /// Whether rank `rank` may have been kept by a sampler whose scores differ from these by
    /// about `slack`: fewer than `top_k` tokens score more than `slack` above it, and the
    /// probability of those is below `top_p · e^slack`.
    fn possibly_kept(&self, rank: usize, s: &GridSampling, slack: f64) -> bool {
        let bar = self.score(rank) + slack;
        let above = self.scores.partition_point(|&x| x > bar);
        (s.top_k == 0 || above < s.top_k)
            && (!s.uses_top_p() || self.cumulative(above) < s.top_p * slack.exp())
    }

    /// Whether rank `rank` was kept by any sampler whose scores differ from these by about
    /// `slack`: at most `top_k` tokens (itself included) score within `slack` of it or above,
    /// and the probability of the others is below `top_p · e^-slack`.
    fn surely_kept(&self, rank: usize, s: &GridSampling, slack: f64) -> bool {
        let bar = self.score(rank) - slack;
        let reach = self.scores.partition_point(|&x| x >= bar);
        if s.top_k > 0 && reach > s.top_k {
            return false;
        }
        if !s.uses_top_p() {
            return true;
        }
        let own =
            if rank < self.top_k_len { self.probs.get(rank).copied().unwrap_or(0.0) } else { 0.0 };
        self.cumulative(reach) - own < s.top_p * (-slack).exp()
    }
}

/// The noisy score `s + g` of the token at `id`, `-inf` without noise.
fn noisy(score: f64, noise: &[f64], id: usize) -> f64 {
    noise.get(id).map_or(f64::NEG_INFINITY, |g| score + g)
}

/// The finite logits of `logits` as `f64`, `None` where not finite.
fn finite<L: Copy + Into<f64>>(logits: &[L], id: usize) -> Option<f64> {
    logits.get(id).map(|&l| l.into()).filter(|l| l.is_finite())
}

/// The lowest id of the largest finite logit.
fn argmax<L: Copy + Into<f64>>(logits: &[L]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, &l) in logits.iter().enumerate() {
        let l: f64 = l.into();
        if l.is_finite() && best.is_none_or(|(_, b)| l > b) {
            best = Some((i, l));
        }
    }
    best.map(|(i, _)| i)
}

/// Picks the next token of the grid sampler (version 1) from `logits` (one per token id) and
/// the position's Gumbel `noise` (one per token id, from [`super::gumbel_row`]).
///
/// Non-finite logits are excluded. With temperature 0 the token is the largest logit, the
/// lowest id on ties, and the noise is ignored. Otherwise, with scores
/// `s_i = (l_i - max l) / T` in `f64`:
/// 1. top-k: keep the `top_k` highest scores (equal scores: lower id first);
/// 2. top-p: over the softmax of the remaining scores sorted descending, keep the smallest
///    prefix whose cumulative probability is `>= top_p` (at least one token);
/// 3. the token is `argmax (s_i + g_i)` over the kept tokens, the lowest id on ties.
///
/// With standard Gumbel noise this is an exact sample of the masked, renormalised
/// `softmax(l / T)`. `None` when no logit is finite, or (for `T > 0`) when `noise` is shorter
/// than `logits`.
pub fn grid_pick<L: Copy + Into<f64>>(
    logits: &[L],
    s: &GridSampling,
    noise: &[f64],
) -> Option<u32> {
    let id = if s.temperature == 0.0 {
        argmax(logits)?
    } else {
        if noise.len() < logits.len() {
            return None;
        }
        if s.unmasked() {
            pick_unmasked(logits, s, noise)?
        } else {
            pick_ranked(logits, s, noise)?
        }
    };
    u32::try_from(id).ok()
}

/// [`grid_pick`] for `T > 0` through the ranking and masks.
fn pick_ranked<L: Copy + Into<f64>>(
    logits: &[L],
    s: &GridSampling,
    noise: &[f64],
) -> Option<usize> {
    let ranked = Ranked::new(logits, s);
    let kept = ranked.kept_len(s);
    let mut best: Option<(usize, f64)> = None;
    for (&id, &score) in ranked.ids.iter().zip(&ranked.scores).take(kept) {
        let value = noisy(score, noise, id);
        let better = best.is_none_or(|(b, v)| value > v || (value == v && id < b));
        if better {
            best = Some((id, value));
        }
    }
    best.map(|(id, _)| id)
}

/// [`grid_pick`] for `T > 0` without masks: the same pick as [`pick_ranked`] (the largest
/// noisy score, the lowest id on ties) in one pass by id.
fn pick_unmasked<L: Copy + Into<f64>>(
    logits: &[L],
    s: &GridSampling,
    noise: &[f64],
) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (id, score) in unmasked_scores(logits, s.temperature) {
        let Some(score) = score else { continue };
        let value = noisy(score, noise, id);
        if best.is_none_or(|(_, v)| value > v) {
            best = Some((id, value));
        }
    }
    best.map(|(id, _)| id)
}

/// The log-probability of `token` under the raw distribution of `row` (temperature 1, no
/// top-k or top-p mask: independent of the sampling parameters), in `f64`:
/// `row[token] - logsumexp(row)`, with the largest logit subtracted before exponentiating.
/// Non-finite logits are excluded from the sum, as [`grid_pick`] excludes them.
/// `f64::NEG_INFINITY` for a token out of range or with a non-finite logit.
///
/// Miners report it for every generated token and validators compare it with their own: a
/// model whose weights differ slightly mostly samples the same tokens (Gumbel-max is robust
/// to small logit changes) but cannot reproduce these values.
pub fn token_logprob<L: Copy + Into<f64>>(row: &[L], token: u32) -> f64 {
    let Some(id) = usize::try_from(token).ok() else { return f64::NEG_INFINITY };
    let Some(own) = finite(row, id) else { return f64::NEG_INFINITY };
    let values = || row.iter().map(|&l| -> f64 { l.into() }).filter(|l| l.is_finite());
    let max = values().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = values().map(|l| (l - max).exp()).sum();
    own - max - sum.ln()
}

/// How close the grid sampler's pick was to another token: the pick's noisy score minus
/// the best noisy score of the other tokens the exact masks keep (score units), or the
/// largest logit minus the second largest at temperature 0. A logit error of `δ` per token
/// can only change the pick where the gap is below `2δ / T` (`2δ` at `T = 0`). `None` when
/// fewer than two tokens are kept (the pick cannot change) or the noise is too short.
pub(crate) fn pick_gap<L: Copy + Into<f64>>(
    logits: &[L],
    s: &GridSampling,
    noise: &[f64],
) -> Option<f64> {
    let (mut best, mut second) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    let mut offer = |v: f64| {
        if v > best {
            (best, second) = (v, best);
        } else if v > second {
            second = v;
        }
    };
    if s.temperature == 0.0 {
        logits.iter().map(|&l| l.into()).filter(|l: &f64| l.is_finite()).for_each(&mut offer);
    } else {
        if noise.len() < logits.len() {
            return None;
        }
        let ranked = Ranked::new(logits, s);
        let kept = ranked.kept_len(s);
        for (&id, &score) in ranked.ids.iter().zip(&ranked.scores).take(kept) {
            offer(noisy(score, noise, id));
        }
    }
    second.is_finite().then_some(best - second)
}

/// How far `token` is from being the grid sampler's pick under the verifier's `logits` and
/// the position's `noise`: 0 when it is the pick, larger the worse.
///
/// With `T > 0` the margin is in score units (logit / T):
/// `max over competitors i of (s_i + g_i) - (s_token + g_token)`, at least 0. The masks are
/// recomputed from `logits`, and tokens near a mask boundary are ambiguous (the miner's
/// logits differ a little), so `mask_slack` (score units) widens the boundary both ways:
/// * `token` may lie outside the verifier's mask if it would be kept with every score moved
///   by `mask_slack` (fewer than `top_k` tokens score more than `mask_slack` above it; their
///   probability is below `top_p · e^mask_slack`); otherwise the margin is `f64::INFINITY`;
/// * the competitors are the tokens kept even with scores moved by `mask_slack` the other
///   way, so a borderline token the miner may have masked out does not count against it.
///
/// With `T = 0` it is `max l - l_token` in logit units. A token out of range, with a
/// non-finite logit, or without noise gives `f64::INFINITY`.
pub fn token_margin<L: Copy + Into<f64>>(
    logits: &[L],
    s: &GridSampling,
    noise: &[f64],
    token: u32,
    mask_slack: f64,
) -> f64 {
    let Some(id) = usize::try_from(token).ok() else { return f64::INFINITY };
    let Some(own_logit) = finite(logits, id) else { return f64::INFINITY };
    if s.temperature == 0.0 {
        let best = argmax(logits).and_then(|i| finite(logits, i)).unwrap_or(own_logit);
        return (best - own_logit).max(0.0);
    }
    if noise.get(id).is_none() {
        return f64::INFINITY;
    }
    if s.unmasked() {
        margin_unmasked(logits, s, noise, id)
    } else {
        margin_ranked(logits, s, noise, id, mask_slack)
    }
}

/// [`token_margin`] for `T > 0` without masks: every finite-logit token competes (the slack
/// has nothing to widen), so it is the same value as [`margin_ranked`] in one pass by id.
fn margin_unmasked<L: Copy + Into<f64>>(
    logits: &[L],
    s: &GridSampling,
    noise: &[f64],
    id: usize,
) -> f64 {
    let mut own = f64::INFINITY;
    let mut best = f64::NEG_INFINITY;
    for (i, score) in unmasked_scores(logits, s.temperature) {
        let Some(score) = score else { continue };
        let value = noisy(score, noise, i);
        if i == id {
            own = value;
        }
        best = best.max(value);
    }
    if !own.is_finite() {
        // A probability that underflowed to 0 (a vanishing temperature): never sampled.
        return f64::INFINITY;
    }
    best - own
}

/// [`token_margin`] for `T > 0` through the ranking, with the masks widened by `mask_slack`.
fn margin_ranked<L: Copy + Into<f64>>(
    logits: &[L],
    s: &GridSampling,
    noise: &[f64],
    id: usize,
    mask_slack: f64,
) -> f64 {
    let slack = mask_slack.max(0.0);
    let ranked = Ranked::new(logits, s);
    let Some(rank) = ranked.ids.iter().position(|&i| i == id) else { return f64::INFINITY };
    if !ranked.possibly_kept(rank, s, slack) {
        return f64::INFINITY;
    }
    let own = noisy(ranked.score(rank), noise, id);
    if !own.is_finite() {
        // A probability that underflowed to 0 (a vanishing temperature): never sampled.
        return f64::INFINITY;
    }
    let mut best = own;
    // Possibly-kept ranks form a prefix, and surely-kept ones lie inside it.
    for r in (0..ranked.ids.len()).take_while(|&r| ranked.possibly_kept(r, s, slack)) {
        if ranked.surely_kept(r, s, slack) {
            let i = ranked.ids.get(r).copied().unwrap_or(usize::MAX);
            best = best.max(noisy(ranked.score(r), noise, i));
        }
    }
    best - own
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::super::gumbel_row;
    use super::*;

    const LOGITS: [f64; 6] = [1.0, 0.5, 0.0, -0.5, 2.0, -1.0];
    const DRAWS: u64 = 20_000;

    fn sampling(temperature: f64, top_k: usize, top_p: f64) -> GridSampling {
        GridSampling { temperature, top_k, top_p }
    }

    /// The masked, renormalised softmax of `LOGITS / T`, computed independently of `Ranked`.
    fn expected(s: &GridSampling) -> Vec<f64> {
        let mut order: Vec<usize> = (0..LOGITS.len()).collect();
        order.sort_by(|&a, &b| LOGITS[b].total_cmp(&LOGITS[a]).then(a.cmp(&b)));
        if s.top_k > 0 {
            order.truncate(s.top_k);
        }
        let weight = |i: usize| (LOGITS[i] / s.temperature).exp();
        let z: f64 = order.iter().map(|&i| weight(i)).sum();
        let mut kept = Vec::new();
        let mut cum = 0.0;
        for &i in &order {
            kept.push(i);
            cum += weight(i) / z;
            if cum >= s.top_p {
                break;
            }
        }
        let z: f64 = kept.iter().map(|&i| weight(i)).sum();
        (0..LOGITS.len()).map(|i| if kept.contains(&i) { weight(i) / z } else { 0.0 }).collect()
    }

    /// Chi-square statistic of grid_pick over `DRAWS` seeds against `expected(s)`, and the
    /// number of degrees of freedom; panics if a zero-probability token is drawn.
    fn chi_square(s: &GridSampling) -> (f64, usize) {
        let p = expected(s);
        let mut counts = [0u64; 6];
        for seed in 0..DRAWS {
            let t = grid_pick(&LOGITS, s, &gumbel_row(seed, 0, LOGITS.len())).unwrap();
            counts[t as usize] += 1;
        }
        let mut chi = 0.0;
        let mut cells = 0;
        for (c, p) in counts.iter().zip(&p) {
            if *p == 0.0 {
                assert_eq!(*c, 0, "a masked token was drawn ({counts:?})");
                continue;
            }
            let e = p * DRAWS as f64;
            chi += (*c as f64 - e).powi(2) / e;
            cells += 1;
        }
        (chi, cells - 1)
    }

    /// 0.999 quantiles of the chi-square distribution with 1..=5 degrees of freedom.
    const CHI2_999: [f64; 5] = [10.83, 13.82, 16.27, 18.47, 20.52];

    #[test]
    fn samples_follow_the_tempered_softmax() {
        let (chi, dof) = chi_square(&sampling(0.7, 0, 1.0));
        eprintln!("T=0.7: chi2 {chi:.2} with {dof} dof");
        assert_eq!(dof, 5);
        assert!(chi < CHI2_999[dof - 1], "chi2 {chi} with {dof} dof");
    }

    #[test]
    fn samples_follow_the_masked_softmax() {
        for s in [sampling(0.7, 3, 1.0), sampling(0.7, 0, 0.8), sampling(0.7, 4, 0.8)] {
            let (chi, dof) = chi_square(&s);
            eprintln!("{s:?}: chi2 {chi:.2} with {dof} dof");
            assert!((1..5).contains(&dof), "{s:?}: masks should drop tokens (dof {dof})");
            assert!(chi < CHI2_999[dof - 1], "{s:?}: chi2 {chi} with {dof} dof");
        }
    }

    #[test]
    fn temperature_zero_is_argmax_with_lowest_id_on_ties() {
        let greedy = sampling(0.0, 0, 1.0);
        let noise = [100.0, 0.0, -100.0, 0.0];
        assert_eq!(grid_pick(&[1.0f32, 3.0, 3.0, 2.0], &greedy, &noise), Some(1));
        assert_eq!(grid_pick(&[f32::NAN, f32::INFINITY, 0.5, 0.5], &greedy, &[]), Some(2));
        assert_eq!(grid_pick(&[f64::NAN, f64::NEG_INFINITY], &greedy, &[0.0, 0.0]), None);
        let warm = sampling(1.0, 0, 1.0);
        assert_eq!(
            grid_pick(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY], &warm, &[0.0; 3]),
            None
        );
        assert_eq!(grid_pick(&[1.0, 2.0], &warm, &[0.0]), None, "noise too short");
        assert_eq!(grid_pick::<f64>(&[], &warm, &[]), None);
    }

    #[test]
    fn noise_decides_and_masks_exclude() {
        let logits = [0.0f32, 0.0, 0.0, 0.0];
        let plain = sampling(1.0, 0, 1.0);
        assert_eq!(grid_pick(&logits, &plain, &[0.0, 0.0, 1.0, 5.0]), Some(3));
        // Equal noisy scores: the lower id.
        assert_eq!(grid_pick(&logits, &plain, &[0.0, 2.0, 2.0, 0.0]), Some(1));
        // Top-k 2 over equal logits keeps ids 0 and 1 only.
        assert_eq!(grid_pick(&logits, &sampling(1.0, 2, 1.0), &[0.0, 0.0, 1.0, 5.0]), Some(0));
        // Top-p: 5 and 4.9 hold almost all the mass; 0.3 keeps only the first.
        let logits = [5.0, 4.9, 0.0, -1.0];
        let noise = [0.0, 3.0, 9.0, 9.0];
        assert_eq!(grid_pick(&logits, &plain, &noise), Some(2));
        assert_eq!(grid_pick(&logits, &sampling(1.0, 0, 0.9), &noise), Some(1));
        assert_eq!(grid_pick(&logits, &sampling(1.0, 0, 0.3), &noise), Some(0));
        assert_eq!(grid_pick(&logits, &sampling(1.0, 1, 1.0), &noise), Some(0));
        // A tiny temperature does not overflow: the argmax dominates.
        assert_eq!(grid_pick(&logits, &sampling(1e-300, 0, 1.0), &noise), Some(0));
    }

    #[test]
    fn margins_of_the_pick_and_of_others() {
        let s = sampling(0.5, 0, 1.0);
        for seed in 0..50 {
            let noise = gumbel_row(seed, 3, LOGITS.len());
            let pick = grid_pick(&LOGITS, &s, &noise).unwrap();
            assert_eq!(token_margin(&LOGITS, &s, &noise, pick, 0.0), 0.0);
            for other in (0..LOGITS.len() as u32).filter(|&t| t != pick) {
                let m = token_margin(&LOGITS, &s, &noise, other, 0.0);
                assert!(m > 0.0 && m.is_finite(), "seed {seed}: token {other} margin {m}");
                let i = other as usize;
                let want = LOGITS[pick as usize] / 0.5 + noise[pick as usize]
                    - (LOGITS[i] / 0.5 + noise[i]);
                assert!((m - want).abs() < 1e-12, "margin {m} vs {want}");
            }
        }
        let greedy = sampling(0.0, 0, 1.0);
        assert_eq!(token_margin(&LOGITS, &greedy, &[], 4, 0.0), 0.0);
        assert_eq!(token_margin(&LOGITS, &greedy, &[], 0, 0.0), 1.0);
        assert_eq!(token_margin(&LOGITS, &s, &[0.0; 6], 6, 0.0), f64::INFINITY);
        assert_eq!(token_margin(&[0.0, f64::NAN], &s, &[0.0; 2], 1, 0.0), f64::INFINITY);
        // A vanishing (subnormal) temperature: the runner-up's score overflows to -inf.
        let cold = sampling(1e-320, 0, 1.0);
        assert_eq!(token_margin(&LOGITS, &cold, &[0.0; 6], 4, 1e-3), 0.0);
        assert_eq!(token_margin(&LOGITS, &cold, &[0.0; 6], 0, 1e-3), f64::INFINITY);
    }

    #[test]
    fn pick_gaps() {
        let zero = [0.0; 6];
        assert_eq!(pick_gap(&LOGITS, &sampling(0.0, 0, 1.0), &[]), Some(1.0));
        assert_eq!(pick_gap(&LOGITS, &sampling(1.0, 0, 1.0), &zero), Some(1.0));
        assert_eq!(pick_gap(&LOGITS, &sampling(0.5, 0, 1.0), &zero), Some(2.0));
        // Noise 1.5 on id 0 makes it the pick, 0.5 ahead of id 4.
        let noise = [1.5, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(pick_gap(&LOGITS, &sampling(1.0, 0, 1.0), &noise), Some(0.5));
        assert_eq!(pick_gap(&LOGITS, &sampling(1.0, 1, 1.0), &noise), None);
        assert_eq!(pick_gap(&LOGITS, &sampling(1.0, 0, 1.0), &[0.0]), None);
        assert_eq!(pick_gap(&[1.0, f64::NAN], &sampling(0.0, 0, 1.0), &[]), None);
        for seed in 0..20 {
            let s = sampling(0.7, 4, 0.9);
            let noise = gumbel_row(seed, 0, LOGITS.len());
            let pick = grid_pick(&LOGITS, &s, &noise).unwrap();
            let gap = pick_gap(&LOGITS, &s, &noise);
            assert!(gap.is_none_or(|g| g >= 0.0));
            // The runner-up's margin is the gap.
            if let Some(g) = gap {
                let margins: Vec<f64> = (0..6u32)
                    .filter(|&t| t != pick)
                    .map(|t| token_margin(&LOGITS, &s, &noise, t, 0.0))
                    .collect();
                let least = margins.iter().copied().fold(f64::INFINITY, f64::min);
                assert!((least - g).abs() < 1e-12, "seed {seed}: {least} vs {g}");
            }
        }
    }

    #[test]
    fn masked_tokens_get_infinite_margins_beyond_the_slack() {
        let noise = [0.0, 0.0, 0.0, 9.0, 0.0, 0.0];
        // Top-k 3 keeps ids 4, 0, 1 (scores 2, 1, 0.5 at T = 1); id 2 (score 0) is 0.5 below
        // the third score.
        let k3 = sampling(1.0, 3, 1.0);
        assert_eq!(token_margin(&LOGITS, &k3, &noise, 2, 1e-3), f64::INFINITY);
        assert!(token_margin(&LOGITS, &k3, &noise, 2, 0.6).is_finite());
        assert_eq!(token_margin(&LOGITS, &k3, &noise, 4, 1e-3), 0.0);
        assert!(token_margin(&LOGITS, &k3, &noise, 0, 1e-3) > 0.9);
        // Id 3 has huge noise: the pick without masks; masked out with top-k 3.
        assert_eq!(grid_pick(&LOGITS, &sampling(1.0, 0, 1.0), &noise), Some(3));
        assert_eq!(token_margin(&LOGITS, &k3, &noise, 3, 1e-3), f64::INFINITY);
        // Top-p 0.5 keeps only id 4 (p = 0.55); id 0 is a full nat below.
        let p5 = sampling(1.0, 0, 0.5);
        assert_eq!(token_margin(&LOGITS, &p5, &noise, 4, 1e-3), 0.0);
        assert_eq!(token_margin(&LOGITS, &p5, &noise, 0, 1e-3), f64::INFINITY);
    }

    #[test]
    fn borderline_tokens_are_ambiguous_both_ways() {
        // Ids 0 and 1 tie within 1e-4 for the single top-k slot.
        let logits = [1.0, 1.0 - 1e-4, -3.0];
        let k1 = sampling(1.0, 1, 1.0);
        let noise = [0.0, 2.0, 0.0];
        assert_eq!(grid_pick(&logits, &k1, &noise), Some(0));
        // Strictly, 1 is masked out; within a slack of 1e-3 either may have been kept, and
        // neither counts against the other.
        assert_eq!(token_margin(&logits, &k1, &noise, 1, 0.0), f64::INFINITY);
        assert_eq!(token_margin(&logits, &k1, &noise, 1, 1e-3), 0.0);
        assert_eq!(token_margin(&logits, &k1, &noise, 0, 1e-3), 0.0);
        assert_eq!(token_margin(&logits, &k1, &noise, 2, 1e-3), f64::INFINITY);
        // With top-k 2 both are surely kept: 0 loses to 1 by the noise gap minus 1e-4.
        let k2 = sampling(1.0, 2, 1.0);
        assert!((token_margin(&logits, &k2, &noise, 0, 1e-3) - (2.0 - 1e-4)).abs() < 1e-9);
    }

    /// `ln(exp(row[token]) / Σ exp(row))` computed directly (no shift), for rows whose
    /// logits are small enough not to overflow.
    fn direct_logprob(row: &[f64], token: usize) -> f64 {
        let z: f64 = row.iter().filter(|l| l.is_finite()).map(|l| l.exp()).sum();
        (row[token].exp() / z).ln()
    }

    #[test]
    fn token_logprobs_match_a_direct_computation() {
        for t in 0..LOGITS.len() {
            let got = token_logprob(&LOGITS, t as u32);
            let want = direct_logprob(&LOGITS, t);
            assert!((got - want).abs() < 1e-12, "token {t}: {got} vs {want}");
        }
        // The probabilities sum to 1.
        let total: f64 = (0..6u32).map(|t| token_logprob(&LOGITS, t).exp()).sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
        // f32 rows go through f64.
        let row32: Vec<f32> = LOGITS.iter().map(|&l| l as f32).collect();
        assert!((token_logprob(&row32, 4) - direct_logprob(&LOGITS, 4)).abs() < 1e-6);
        // Independent of a common shift, and stable for huge logits.
        let shifted: Vec<f64> = LOGITS.iter().map(|l| l + 1000.0).collect();
        assert!((token_logprob(&shifted, 2) - direct_logprob(&LOGITS, 2)).abs() < 1e-9);
        // Non-finite logits are excluded; a token with one, or out of range, gets -inf.
        let holes = [1.0, f64::NAN, 0.5, f64::INFINITY, -0.5, f64::NEG_INFINITY];
        let finite_only = [1.0, 0.5, -0.5];
        assert!((token_logprob(&holes, 2) - direct_logprob(&finite_only, 1)).abs() < 1e-12);
        for t in [1, 3, 5, 6, u32::MAX] {
            assert_eq!(token_logprob(&holes, t), f64::NEG_INFINITY, "token {t}");
        }
        assert_eq!(token_logprob::<f64>(&[], 0), f64::NEG_INFINITY);
        // A single finite logit has probability 1.
        assert_eq!(token_logprob(&[f64::NAN, 3.0], 1), 0.0);
    }

    /// Without masks the one-pass pick and margin are the ranked ones, bit for bit, over
    /// random rows with ties, excluded (non-finite) logits and temperatures down to 1e-3.
    #[test]
    fn unmasked_fast_paths_equal_the_ranked_ones() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(13);
        for case in 0..500u64 {
            let vocab = rng.gen_range(1..40);
            let row: Vec<f32> = (0..vocab)
                .map(|_| match rng.gen_range(0..10) {
                    0 => f32::NEG_INFINITY,
                    1 => 1.0, // ties
                    _ => rng.gen_range(-8.0..8.0),
                })
                .collect();
            let temperature = [1.0, 0.7, 2.5, 1e-3][rng.gen_range(0..4)];
            let s = sampling(temperature, 0, 1.0);
            assert!(s.unmasked());
            let noise = gumbel_row(case, 0, vocab);
            assert_eq!(pick_unmasked(&row, &s, &noise), pick_ranked(&row, &s, &noise), "{case}");
            for id in 0..vocab {
                let fast = margin_unmasked(&row, &s, &noise, id);
                let ranked = margin_ranked(&row, &s, &noise, id, 1e-3);
                let same = fast.to_bits() == ranked.to_bits()
                    || (fast.is_infinite() && ranked.is_infinite());
                assert!(same, "case {case} id {id}: {fast} vs {ranked}");
            }
        }
    }

    #[test]
    fn validation() {
        assert!(GridSampling::default().validate().is_ok());
        assert!(sampling(0.0, 5, 0.5).validate().is_ok());
        assert!(sampling(-0.1, 0, 1.0).validate().is_err());
        assert!(sampling(f64::INFINITY, 0, 1.0).validate().is_err());
        assert!(sampling(1.0, 0, 0.0).validate().is_err());
        assert!(sampling(1.0, 0, 1.5).validate().is_err());
        assert!(sampling(1.0, 0, f64::NAN).validate().is_err());
    }
}
