//! The 2022 `phrase_cross_entropy`: the loss of a [`TextCausalLMNext`](crate::TextCausalLMNext)
//! answer against the true continuation, as validators scored it.
//!
//! An answer row lists the server's top-k tokens as standard-tokenizer *phrases* with their
//! probabilities, plus one *floor* probability. The floor approximates the distribution outside
//! the top k: the leftover mass `1 − Σ top-k` spread uniformly over the `vocab − k` tokens not
//! listed ([`crate::synapse::floor_probability`]). The row is renormalised so that
//! `Σ top-k p + max(0, vocab − k)·floor = 1`; a token or phrase no entry predicts gets the floor.
//! The approximation ignores that a listed token's phrase may be several standard tokens long,
//! so the floor mass of "other continuations" is not a proper distribution over phrases; like
//! the 2022 code we accept that.

use crate::{synapse::TopkPhrases, AxonError, Result};

/// The loss of one answer row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhraseLoss {
    /// `−ln` of the mass of every phrase whose first token is the next token (else the floor).
    pub validation: f64,
    /// `−ln` of the phrase-prefix mass (see [`phrase_cross_entropy`]); validators score this.
    pub phrase: f64,
}

/// The loss that NaN, empty or otherwise unusable answers count as.
pub const NAN_LOSS: f64 = 20.0;

/// Added before the logarithm so that `−ln(0)` stays finite.
const LOG_GUARD: f64 = 1e-40;

fn neg_ln(p: f64) -> f64 {
    let loss = -(p + LOG_GUARD).ln();
    if loss.is_nan() {
        NAN_LOSS
    } else {
        loss.max(0.0)
    }
}

/// Loss of one [`TextCausalLMNext`](crate::TextCausalLMNext) answer row against the true
/// continuation `target` (standard token ids, first = the next token).
///
/// Normalises by `total = Σ top-k p + max(0, vocab_size − k)·floor`, then:
/// * `validation`: the mass of the phrases whose first token is `target[0]`, or the floor
///   when there is none; loss `−ln p`.
/// * `phrase`: for `c = 1 ..= min(longest phrase, |target|)`, add the mass of the phrases equal
///   to `target[..c]`, or the floor when none is; clamp the sum to ≤ 1; loss `−ln`.
///
/// An empty row or target, a NaN, negative or infinite probability, or a zero total gives
/// [`NAN_LOSS`] for both.
pub fn phrase_cross_entropy(row: &TopkPhrases, target: &[u32], vocab_size: u32) -> PhraseLoss {
    let unusable = PhraseLoss { validation: NAN_LOSS, phrase: NAN_LOSS };
    let Some(&next) = target.first() else { return unusable };
    if row.phrases.is_empty() {
        return unusable;
    }
    let usable = |p: f32| p.is_finite() && p >= 0.0;
    if !usable(row.floor) || row.phrases.iter().any(|(p, _)| !usable(*p)) {
        return unusable;
    }
    let k = row.phrases.len() as f64;
    let floor = f64::from(row.floor);
    let topk_sum: f64 = row.phrases.iter().map(|(p, _)| f64::from(*p)).sum();
    let total = topk_sum + (f64::from(vocab_size) - k).max(0.0) * floor;
    if !(total.is_finite() && total > 0.0) {
        return unusable;
    }

    let mass_where = |pred: &dyn Fn(&[u32]) -> bool| -> Option<f64> {
        let mut any = false;
        let mut mass = 0.0;
        for (p, phrase) in &row.phrases {
            if pred(phrase) {
                any = true;
                mass += f64::from(*p);
            }
        }
        any.then_some(mass)
    };

    let first = mass_where(&|phrase| phrase.first() == Some(&next)).unwrap_or(floor);
    let validation = neg_ln(first / total);

    let longest = row.phrases.iter().map(|(_, phrase)| phrase.len()).max().unwrap_or(0);
    let mut sum = 0.0;
    for prefix in (1..=longest.min(target.len())).filter_map(|c| target.get(..c)) {
        sum += mass_where(&|phrase| phrase == prefix).unwrap_or(floor);
    }
    let phrase = neg_ln((sum / total).min(1.0));
    PhraseLoss { validation, phrase }
}

/// The mean [`PhraseLoss::phrase`] over answer rows and their targets (one target per row).
/// Errors when the counts differ or there are no rows.
pub fn mean_phrase_loss(
    rows: &[TopkPhrases],
    targets: &[Vec<u32>],
    vocab_size: u32,
) -> Result<f64> {
    if rows.len() != targets.len() {
        return Err(AxonError::Invalid(format!(
            "{} answer rows for {} targets",
            rows.len(),
            targets.len()
        )));
    }
    if rows.is_empty() {
        return Err(AxonError::Invalid("no answer rows to score".to_owned()));
    }
    let total: f64 = rows
        .iter()
        .zip(targets)
        .map(|(row, target)| phrase_cross_entropy(row, target, vocab_size).phrase)
        .sum();
    Ok(total / rows.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synapse::floor_probability;

    const V: u32 = 12;

    /// A full softmax over a `V`-token vocabulary.
    fn softmax() -> Vec<f32> {
        // 7·i mod 12 is a permutation of 0..12: no ties.
        let logits: Vec<f32> = (0..V).map(|i| ((i * 7 % V) as f32) * 0.3).collect();
        let z: f32 = logits.iter().map(|l| l.exp()).sum();
        logits.iter().map(|l| l.exp() / z).collect()
    }

    /// Its top `k` as single-token phrases, with the floor.
    fn topk(probs: &[f32], k: usize) -> TopkPhrases {
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        let phrases: Vec<(f32, Vec<u32>)> =
            order[..k].iter().map(|&i| (probs[i], vec![i as u32])).collect();
        let sum: f32 = phrases.iter().map(|(p, _)| p).sum();
        TopkPhrases { phrases, floor: floor_probability(sum, k as u32, V) }
    }

    #[test]
    fn validation_loss_matches_the_full_distribution() {
        let probs = softmax();
        let k = 4;
        let row = topk(&probs, k);
        let listed: Vec<u32> = row.phrases.iter().map(|(_, p)| p[0]).collect();
        let rest: f64 = 1.0 - row.phrases.iter().map(|(p, _)| f64::from(*p)).sum::<f64>();
        for t in 0..V {
            let loss = phrase_cross_entropy(&row, &[t, 3], V);
            let expected = if listed.contains(&t) {
                -f64::from(probs[t as usize]).ln()
            } else {
                -(rest / f64::from(V - k as u32)).ln()
            };
            assert!((loss.validation - expected).abs() < 1e-5, "token {t}: {loss:?} vs {expected}");
            // Single-token phrases: the phrase loss only looks at the first token.
            assert!((loss.phrase - expected).abs() < 1e-5, "token {t}: {loss:?} vs {expected}");
        }
        // The listed tokens are cheaper than the unlisted ones.
        let best = phrase_cross_entropy(&row, &[listed[0]], V).phrase;
        let unlisted = (0..V).find(|t| !listed.contains(t)).unwrap();
        assert!(best < phrase_cross_entropy(&row, &[unlisted], V).phrase);
    }

    #[test]
    fn renormalises_by_the_floor_total() {
        // Probabilities that do not sum to one are rescaled: total = 0.2 + 0.2 + 8·0.025 = 0.6.
        let row = TopkPhrases { phrases: vec![(0.2, vec![1]), (0.2, vec![2])], floor: 0.025 };
        let loss = phrase_cross_entropy(&row, &[1], 10);
        assert!((loss.validation - -(0.2f64 / 0.6).ln()).abs() < 1e-6, "{loss:?}");
        let loss = phrase_cross_entropy(&row, &[5], 10);
        assert!((loss.validation - -(0.025f64 / 0.6).ln()).abs() < 1e-6, "{loss:?}");
    }

    #[test]
    fn multi_token_phrases() {
        // Phrases [5], [5, 6], [5, 6, 7], [5, 9], [8] with a floor of 0.01 over V = 8.
        let row = TopkPhrases {
            phrases: vec![
                (0.3, vec![5]),
                (0.2, vec![5, 6]),
                (0.1, vec![5, 6, 7]),
                (0.1, vec![5, 9]),
                (0.25, vec![8]),
            ],
            floor: 0.01,
        };
        let total = 0.95 + 3.0 * 0.01;
        // Validation: every phrase starting with 5.
        let l = phrase_cross_entropy(&row, &[5, 6, 7, 1], 8);
        assert!((l.validation - -(0.7f64 / total).ln()).abs() < 1e-6, "{l:?}");
        // Phrase: [5] + [5, 6] + [5, 6, 7], c runs to the longest phrase (3).
        assert!((l.phrase - -(0.6f64 / total).ln()).abs() < 1e-6, "{l:?}");
        // Target [5, 9, 9]: [5] matches, [5, 9] matches, nothing equals [5, 9, 9]: + floor.
        let l = phrase_cross_entropy(&row, &[5, 9, 9], 8);
        assert!((l.phrase - -((0.3f64 + 0.1 + 0.01) / total).ln()).abs() < 1e-6, "{l:?}");
        // A one-token target stops at c = 1.
        let l = phrase_cross_entropy(&row, &[5], 8);
        assert!((l.phrase - -(0.3f64 / total).ln()).abs() < 1e-6, "{l:?}");
        // An unpredicted first token: the floor at every c.
        let l = phrase_cross_entropy(&row, &[2, 3, 4], 8);
        assert!((l.validation - -(0.01f64 / total).ln()).abs() < 1e-6, "{l:?}");
        assert!((l.phrase - -(0.03f64 / total).ln()).abs() < 1e-6, "{l:?}");
    }

    #[test]
    fn phrase_sum_is_clamped_to_one() {
        // A certain single phrase plus floors would exceed 1 before the clamp.
        let row = TopkPhrases { phrases: vec![(1.0, vec![1]), (0.0, vec![1, 2, 3])], floor: 0.0 };
        let l = phrase_cross_entropy(&row, &[1, 2, 3], 5);
        assert_eq!(l.validation, 0.0);
        assert_eq!(l.phrase, 0.0);
        // total = 0.5 + 0.3 + 1·0.2 = 1, but 0.5 + 3 floors = 1.1 > 1: clamped, loss 0.
        let row =
            TopkPhrases { phrases: vec![(0.5, vec![1]), (0.3, vec![1, 2, 3, 4])], floor: 0.2 };
        let l = phrase_cross_entropy(&row, &[1, 7, 7, 7], 3);
        assert_eq!(l.phrase, 0.0, "{l:?}");
        assert!((l.validation - -(0.8f64).ln()).abs() < 1e-6, "{l:?}");
    }

    #[test]
    fn nan_and_empty_answers_count_as_nan_loss() {
        let nan = PhraseLoss { validation: NAN_LOSS, phrase: NAN_LOSS };
        let good = TopkPhrases { phrases: vec![(0.5, vec![1])], floor: 0.1 };
        assert_ne!(phrase_cross_entropy(&good, &[1], 6), nan);
        let cases = [
            TopkPhrases { phrases: vec![(f32::NAN, vec![1])], floor: 0.1 },
            TopkPhrases { phrases: vec![(0.5, vec![1])], floor: f32::NAN },
            TopkPhrases { phrases: vec![(f32::INFINITY, vec![1])], floor: 0.1 },
            TopkPhrases { phrases: vec![(-0.5, vec![1])], floor: 0.1 },
            TopkPhrases { phrases: vec![(0.0, vec![1])], floor: 0.0 },
            TopkPhrases { phrases: vec![], floor: 0.1 },
        ];
        for row in &cases {
            assert_eq!(phrase_cross_entropy(row, &[1], 6), nan, "{row:?}");
        }
        assert_eq!(phrase_cross_entropy(&good, &[], 6), nan);
        // A zero probability on the right answer is large but finite: −ln(1e-40) ≈ 92.1.
        let zero = TopkPhrases { phrases: vec![(1.0, vec![1])], floor: 0.0 };
        let l = phrase_cross_entropy(&zero, &[2], 6);
        assert!((l.validation - 40.0 * 10f64.ln()).abs() < 1e-6, "{l:?}");
    }

    #[test]
    fn mean_over_rows() {
        let a = TopkPhrases { phrases: vec![(0.5, vec![1])], floor: 0.1 };
        let b = TopkPhrases { phrases: vec![(f32::NAN, vec![1])], floor: 0.1 };
        let la = phrase_cross_entropy(&a, &[1], 6).phrase;
        let mean = mean_phrase_loss(&[a.clone(), b], &[vec![1], vec![1]], 6).unwrap();
        assert!((mean - (la + NAN_LOSS) / 2.0).abs() < 1e-12);
        assert!(mean_phrase_loss(&[a], &[], 6).is_err());
        assert!(mean_phrase_loss(&[], &[], 6).is_err());
    }
}
