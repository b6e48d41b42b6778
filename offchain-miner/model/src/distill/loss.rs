//! The teacher distribution of a context and the exact KL(teacher ‖ student).
//!
//! **One answer.** A record lists first tokens `t` with probabilities `p_t` (phrases sharing
//! a first token already summed) and a floor `f`, the probability the miner gives every token
//! it does not list (`floor_probability`: `(1 − Σ top-k) / (V − k)`). Its distribution over
//! the full vocabulary of `V` tokens is `q(t) = p_t / Z` for listed tokens and `q(t) = f / Z`
//! for each of the `V − k'` unlisted ones (`k'` listed first tokens), with
//! `Z = Σ p_t + (V − k')·f`. When no two phrases share a first token and the floor was not
//! clamped, `Z = 1` and `q` is the answer as sent; otherwise `Z` makes `q` sum to 1 exactly
//! (as the validator's phrase loss normalises by its total). Answers with `Z = 0` carry no
//! distribution and are ignored.
//!
//! **The mixture.** The records of one context (one per answering miner) are mixed with
//! weights proportional to their [`DistillRecord::weight`] (the miner's score), or equally
//! when all weights are 0: `P = Σ_u w_u q_u / Σ_u w_u`. `P` is a constant `base` on every token
//! no answer lists, plus its own value on the union of listed tokens.
//!
//! **The loss.** For student log-probabilities `log Q` (a `log_softmax` over all `V` logits),
//! `KL(P ‖ Q) = Σ_t P log P − base·Σ_t log Q(t) − Σ_{listed t} (P(t) − base)·log Q(t)`: every
//! token of the vocabulary is counted (no tail is dropped) with one reduction and one gather.

use super::record::DistillRecord;
use crate::{ModelError, Result};
use std::collections::{BTreeMap, HashMap};
use tch::{Kind, Tensor};

/// The teacher mixture of one context.
#[derive(Clone, Debug, PartialEq)]
pub struct TeacherTarget {
    /// The context.
    pub context: Vec<u32>,
    /// The token that really followed it, when a record knew it.
    pub true_next: Option<u32>,
    /// The vocabulary size `V`.
    pub vocab: u32,
    /// `P(t)` of every token not in [`Self::ids`].
    pub base: f64,
    /// Tokens some answer listed, ascending.
    pub ids: Vec<u32>,
    /// `P(t)` of each of [`Self::ids`].
    pub probs: Vec<f64>,
    /// Answers mixed.
    pub teachers: usize,
}

fn xlogx(x: f64) -> f64 {
    if x > 0.0 {
        x * x.ln()
    } else {
        0.0
    }
}

impl TeacherTarget {
    /// `Σ_t P(t) ln P(t)` over the whole vocabulary.
    pub fn neg_entropy(&self) -> f64 {
        let unlisted = f64::from(self.vocab) - self.ids.len() as f64;
        unlisted * xlogx(self.base) + self.probs.iter().map(|&p| xlogx(p)).sum::<f64>()
    }

    /// `P` as a dense vector of `V` probabilities.
    pub fn dense(&self) -> Vec<f64> {
        let mut out = vec![self.base; usize::try_from(self.vocab).unwrap_or(0)];
        for (&id, &p) in self.ids.iter().zip(&self.probs) {
            if let Some(slot) = usize::try_from(id).ok().and_then(|i| out.get_mut(i)) {
                *slot = p;
            }
        }
        out
    }
}

/// One answer's normalised distribution: listed (id → q), the unlisted value, and its weight.
struct Answer {
    listed: BTreeMap<u32, f64>,
    rest: f64,
    weight: f64,
}

fn answer(r: &DistillRecord) -> Option<Answer> {
    let floor = f64::from(r.floor);
    let listed_sum: f64 = r.teacher.iter().map(|&(_, p)| f64::from(p)).sum();
    let unlisted = f64::from(r.vocab) - r.teacher.len() as f64;
    let z = listed_sum + unlisted.max(0.0) * floor;
    if !(z.is_finite() && z > 0.0) {
        return None;
    }
    Some(Answer {
        listed: r.teacher.iter().map(|&(id, p)| (id, f64::from(p) / z)).collect(),
        rest: floor / z,
        weight: f64::from(r.weight),
    })
}

fn mix(answers: &[Answer]) -> (f64, Vec<u32>, Vec<f64>) {
    let total: f64 = answers.iter().map(|a| a.weight).sum();
    let w = |a: &Answer| {
        if total > 0.0 {
            a.weight / total
        } else {
            1.0 / answers.len() as f64
        }
    };
    let base: f64 = answers.iter().map(|a| w(a) * a.rest).sum();
    let mut ids: Vec<u32> = answers.iter().flat_map(|a| a.listed.keys().copied()).collect();
    ids.sort_unstable();
    ids.dedup();
    let probs = ids
        .iter()
        .map(|id| answers.iter().map(|a| w(a) * a.listed.get(id).copied().unwrap_or(a.rest)).sum())
        .collect();
    (base, ids, probs)
}

/// A context and its vocabulary size.
type GroupKey<'a> = (&'a [u32], u32);

/// Groups records by (context, vocabulary) and mixes each group's answers (see the module
/// documentation). Groups come in the order of their first record; groups whose answers all
/// have `Z = 0` are dropped.
pub fn teacher_targets(records: &[DistillRecord]) -> Vec<TeacherTarget> {
    let mut order: Vec<(&[u32], u32)> = Vec::new();
    let mut groups: HashMap<GroupKey<'_>, (Option<u32>, Vec<Answer>)> = HashMap::new();
    for r in records {
        let key = (r.context.as_slice(), r.vocab);
        let entry = groups.entry(key).or_insert_with(|| {
            order.push(key);
            (None, Vec::new())
        });
        entry.0 = entry.0.or(r.true_next);
        if let Some(a) = answer(r) {
            entry.1.push(a);
        }
    }
    order
        .into_iter()
        .filter_map(|key| {
            let (true_next, answers) = groups.remove(&key)?;
            if answers.is_empty() {
                return None;
            }
            let (base, ids, probs) = mix(&answers);
            Some(TeacherTarget {
                context: key.0.to_vec(),
                true_next,
                vocab: key.1,
                base,
                ids,
                probs,
                teachers: answers.len(),
            })
        })
        .collect()
}

/// `KL(P_i ‖ Q_i)` for each row `i`: `log_probs` is `[N, V]` (the student's `log_softmax`),
/// `targets` the `N` teacher mixtures (each over the same `V`). Returns `[N]` in the kind and
/// on the device of `log_probs`, differentiable through it.
pub fn kl_per_row(log_probs: &Tensor, targets: &[&TeacherTarget]) -> Result<Tensor> {
    let size = log_probs.size();
    let (rows, vocab) = match size.as_slice() {
        [n, v] => (*n, *v),
        _ => return Err(ModelError::InvalidInput(format!("log-probabilities of shape {size:?}"))),
    };
    if usize::try_from(rows).ok() != Some(targets.len())
        || targets.iter().any(|t| i64::from(t.vocab) != vocab)
    {
        return Err(ModelError::InvalidInput(format!(
            "{} teacher targets for log-probabilities of shape {size:?} (the vocabularies must match)",
            targets.len()
        )));
    }
    let width = targets.iter().map(|t| t.ids.len()).max().unwrap_or(0).max(1);
    let mut idx = Vec::with_capacity(targets.len().saturating_mul(width));
    let mut delta = Vec::with_capacity(targets.len().saturating_mul(width));
    for t in targets {
        for j in 0..width {
            match (t.ids.get(j), t.probs.get(j)) {
                (Some(&id), Some(&p)) => {
                    idx.push(i64::from(id));
                    delta.push(p - t.base);
                }
                _ => {
                    idx.push(0);
                    delta.push(0.0);
                }
            }
        }
    }
    let device = log_probs.device();
    let kind = log_probs.kind();
    let to = |v: &[f64]| -> Result<Tensor> {
        Ok(Tensor::f_from_slice(v)?.f_to_kind(kind)?.f_to_device(device)?)
    };
    let base = to(&targets.iter().map(|t| t.base).collect::<Vec<_>>())?;
    let neg_entropy = to(&targets.iter().map(|t| t.neg_entropy()).collect::<Vec<_>>())?;
    let width = i64::try_from(width).map_err(|_| ModelError::InvalidInput("too wide".into()))?;
    let idx = Tensor::f_from_slice(&idx)?.f_view([rows, width])?.f_to_device(device)?;
    let delta = to(&delta)?.f_view([rows, width])?;
    let all = log_probs.f_sum_dim_intlist(-1, false, kind)?.f_mul(&base)?;
    let listed =
        log_probs.f_gather(1, &idx, false)?.f_mul(&delta)?.f_sum_dim_intlist(-1, false, kind)?;
    Ok(neg_entropy.f_sub(&all)?.f_sub(&listed)?)
}

/// The mean of [`kl_per_row`] as an `f64` (no gradient).
pub fn mean_kl(log_probs: &Tensor, targets: &[&TeacherTarget]) -> Result<f64> {
    let kl = tch::no_grad(|| kl_per_row(log_probs, targets))?;
    Ok(kl.f_to_kind(Kind::Double)?.f_mean(Kind::Double)?.f_double_value(&[])?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::*;
    use crate::distill::record::first_token_probs;
    use rand::{Rng, SeedableRng};

    const V: u32 = 40;

    /// A miner answer as sent: top-k phrases (possibly sharing first tokens) and the floor of
    /// `floor_probability` (recomputed here from its definition).
    fn answer_phrases(rng: &mut impl Rng, k: usize) -> (Vec<(f32, Vec<u32>)>, f32) {
        let mut raw: Vec<f32> = (0..k).map(|_| rng.gen_range(0.01..1.0)).collect();
        let total: f32 = raw.iter().sum::<f32>() * rng.gen_range(1.05..2.0);
        raw.iter_mut().for_each(|p| *p /= total);
        let phrases =
            raw.iter().map(|&p| (p, vec![rng.gen_range(0..V), rng.gen_range(0..V)])).collect();
        let sum: f32 = raw.iter().sum();
        let floor = (1.0 - sum).clamp(1e-40, 1.0) / (V as usize - k).max(1) as f32;
        (phrases, floor)
    }

    /// The dense reference: each answer's full distribution built token by token from the
    /// phrases, normalised, mixed by weight.
    /// (phrases, floor, weight) of one miner.
    type Sent = (Vec<(f32, Vec<u32>)>, f32, f32);

    fn dense_reference(answers: &[Sent]) -> Vec<f64> {
        let total_w: f64 = answers.iter().map(|a| f64::from(a.2)).sum();
        let mut mix = vec![0.0f64; V as usize];
        for (phrases, floor, weight) in answers {
            let mut dense = vec![f64::from(*floor); V as usize];
            let mut listed = vec![false; V as usize];
            for (p, phrase) in phrases {
                let t = phrase[0] as usize;
                if !listed[t] {
                    listed[t] = true;
                    dense[t] = 0.0;
                }
                dense[t] += f64::from(*p);
            }
            let z: f64 = dense.iter().sum();
            for (m, d) in mix.iter_mut().zip(&dense) {
                *m += f64::from(*weight) / total_w * d / z;
            }
        }
        mix
    }

    #[test]
    fn kl_matches_the_dense_reference() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut records = Vec::new();
        let mut refs = Vec::new();
        for ctx in 0..6u32 {
            let mut answers = Vec::new();
            for uid in 0..(1 + ctx % 3) {
                let k = rng.gen_range(1..12);
                let (phrases, floor) = answer_phrases(&mut rng, k);
                let weight = rng.gen_range(0.1f32..2.0);
                records.push(DistillRecord {
                    context: vec![ctx, 1, 2],
                    teacher: first_token_probs(&phrases),
                    floor,
                    vocab: V,
                    true_next: None,
                    uid: uid as u16,
                    weight,
                });
                answers.push((phrases, floor, weight));
            }
            refs.push(dense_reference(&answers));
        }
        let targets = teacher_targets(&records);
        assert_eq!(targets.len(), 6);
        let logits = Tensor::randn([6, i64::from(V)], (Kind::Double, tch::Device::Cpu)) * 3.0;
        let logits = logits.set_requires_grad(true);
        let log_q = logits.log_softmax(-1, Kind::Double);
        let refs_t: Vec<&TeacherTarget> = targets.iter().collect();
        let kl = kl_per_row(&log_q, &refs_t).unwrap();
        let q: Vec<f64> = Vec::try_from(logits.softmax(-1, Kind::Double).view([-1])).unwrap();
        for (i, (p, t)) in refs.iter().zip(&targets).enumerate() {
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            let dense = t.dense();
            for (a, b) in dense.iter().zip(p) {
                // The record stores first-token sums in f32.
                assert!((a - b).abs() < 1e-7, "row {i}: dense {a} vs reference {b}");
            }
            let expect: f64 = p
                .iter()
                .zip(&q[i * V as usize..(i + 1) * V as usize])
                .map(|(&p, &q)| if p > 0.0 { p * (p / q).ln() } else { 0.0 })
                .sum();
            let got = kl.double_value(&[i as i64]);
            assert!((got - expect).abs() < 1e-6, "row {i}: {got} vs {expect}");
        }
        // The gradient of the mean KL is the dense one: (Q − P) / N per logit.
        kl.mean(Kind::Double).backward();
        let grad: Vec<f64> = Vec::try_from(logits.grad().view([-1])).unwrap();
        for (i, p) in refs.iter().enumerate() {
            for (t, pt) in p.iter().enumerate() {
                let j = i * V as usize + t;
                assert!((grad[j] - (q[j] - pt) / 6.0).abs() < 1e-7);
            }
        }
    }

    #[test]
    fn kl_of_the_teacher_itself_is_zero_and_zero_weights_mix_equally() {
        let rec = |uid: u16, teacher: Vec<(u32, f32)>, floor: f32| DistillRecord {
            context: vec![5],
            teacher,
            floor,
            vocab: 4,
            true_next: Some(1),
            uid,
            weight: 0.0,
        };
        let records = vec![rec(0, vec![(1, 0.5)], 0.5 / 3.0), rec(1, vec![(2, 0.7)], 0.1)];
        let t = teacher_targets(&records);
        assert_eq!(t.len(), 1);
        let expect = [0.5 / 3.0 / 2.0 + 0.05, 0.25 + 0.05, 0.5 / 6.0 + 0.35, 0.5 / 6.0 + 0.05];
        for (a, b) in t[0].dense().iter().zip(expect) {
            assert!((a - b).abs() < 1e-7);
        }
        let log_p = Tensor::from_slice(&t[0].dense()).view([1, 4]).log();
        assert!(mean_kl(&log_p, &[&t[0]]).unwrap().abs() < 1e-12);
        assert_eq!(t[0].true_next, Some(1));
    }
}
