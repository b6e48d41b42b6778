//! Scoring: from a miner's answer to a loss, from losses to an EMA, and from the EMA loss to a
//! score through the scaling law. Pure and deterministic; the network code only feeds it.
//!
//! * An answer is an [`Observation`]: the mean phrase loss (nats) of a valid
//!   `TextCausalLMNext` answer, or a failure (transport error, timeout, non-200 status, bad or
//!   oversized body, wrong shapes, NaN) that counts as [`NAN_LOSS`] (20 nats).
//! * Per uid ([`UidScore`]): `ema_loss ← (1 − α)·ema_loss + α·loss` (the first observation
//!   initialises it), `score = N(ema_loss)^power` with the Kaplan scaling law
//!   `N(L) = exp(ln 8.8e13 − ln(max(L, 1.69)) / 0.076)`, and a *zeroing* EMA that moves toward
//!   `score` on a success and toward 0 on a failure. Weights come from the zeroing EMA.
//!
//! Numbers: everything is `f64` and the score is computed through logs
//! (`exp(power · ln N)`). The 1.69-nat floor bounds `N` by `8.8e13 / 1.69^(1/0.076) ≈ 8.9e10`
//! (so `N^0.5 ≤ 3e5`) and large losses only drive it toward 0, so nothing overflows and no
//! normalisation by the max is needed; weights are normalised later anyway.

use serde::{Deserialize, Serialize};
use subtensor_axon::{
    loss::{mean_phrase_loss, phrase_cross_entropy, NAN_LOSS},
    AxonError, Reply, TextCausalLMNext, TopkPhrases,
};

/// Kaplan et al.'s `N_c`: the parameter count at which the loss would be 1 nat.
pub const SCALING_LAW_NC: f64 = 8.8e13;
/// Kaplan et al.'s exponent `α_N` of `L(N) = (N_c / N)^α_N`.
pub const SCALING_LAW_ALPHA: f64 = 0.076;
/// The loss floor (nats): the entropy of natural text the 2022 validator assumed.
pub const LOSS_FLOOR: f64 = 1.69;

/// The loss a failed query counts as (nats).
pub fn failure_loss() -> f64 {
    NAN_LOSS
}

/// `ln N(L) = ln N_c − ln(max(L, 1.69)) / α_N`. A non-finite loss counts as [`failure_loss`].
pub fn scaling_law_ln_params(loss: f64) -> f64 {
    let loss = if loss.is_finite() { loss } else { failure_loss() };
    SCALING_LAW_NC.ln() - loss.max(LOSS_FLOOR).ln() / SCALING_LAW_ALPHA
}

/// The estimated parameter count `N(L)` of a model with loss `loss`.
pub fn scaling_law_params(loss: f64) -> f64 {
    scaling_law_ln_params(loss).exp()
}

/// The score `N(L)^power`, computed as `exp(power · ln N(L))`.
pub fn scaling_law_score(loss: f64, power: f64) -> f64 {
    (power * scaling_law_ln_params(loss)).exp()
}

/// One step of an exponential moving average: `prev` moved toward `obs` by `alpha`; the first
/// observation (`prev == None`) initialises it.
pub fn ema(prev: Option<f64>, obs: f64, alpha: f64) -> f64 {
    match prev {
        None => obs,
        Some(prev) => (1.0 - alpha) * prev + alpha * obs,
    }
}

/// What one query to one uid came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Observation {
    /// A valid answer and its mean phrase loss (nats, finite, ≥ 0).
    Loss(f64),
    /// No usable answer, and why (counts as [`failure_loss`]).
    Failure(String),
}

impl Observation {
    /// The loss this observation counts as.
    pub fn loss(&self) -> f64 {
        match self {
            Observation::Loss(l) => *l,
            Observation::Failure(_) => failure_loss(),
        }
    }

    /// Whether the query failed.
    pub fn is_failure(&self) -> bool {
        matches!(self, Observation::Failure(_))
    }
}

/// The parameters of the per-uid update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoringParams {
    /// EMA factor α of the loss and zeroing EMAs, in (0, 1].
    pub alpha: f64,
    /// Exponent applied to the scaling-law parameter count.
    pub power: f64,
}

impl Default for ScoringParams {
    fn default() -> Self {
        Self { alpha: 0.1, power: 0.5 }
    }
}

/// A uid's running score, as persisted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UidScore {
    /// The hotkey (SS58) the numbers belong to; a new hotkey at the uid resets them.
    pub hotkey: String,
    /// EMA of the loss (nats); meaningless while `queries == 0`.
    pub ema_loss: f64,
    /// Scaling-law score of `ema_loss`.
    pub score: f64,
    /// The zeroing EMA of the score (toward 0 on failures); weights come from it.
    pub zeroing: f64,
    /// Queries observed.
    pub queries: u64,
    /// Of which failed.
    pub failures: u64,
    /// Failures since the last answer that scored.
    #[serde(default)]
    pub consecutive_failures: u64,
}

/// Consecutive failed queries after which a uid counts as gone: its zeroing score drops to 0
/// (so it gets no weight) until it answers again and climbs back through the EMA.
pub const GONE_AFTER_FAILURES: u64 = 2;

impl UidScore {
    /// A fresh state for `hotkey`, with no observation.
    pub fn new(hotkey: impl Into<String>) -> Self {
        Self {
            hotkey: hotkey.into(),
            ema_loss: 0.0,
            score: 0.0,
            zeroing: 0.0,
            queries: 0,
            failures: 0,
            consecutive_failures: 0,
        }
    }

    /// Folds one observation in.
    pub fn observe(&mut self, obs: &Observation, params: &ScoringParams) {
        let first = self.queries == 0;
        let loss = match obs.loss() {
            l if l.is_finite() && l >= 0.0 => l,
            _ => failure_loss(),
        };
        self.ema_loss = ema((!first).then_some(self.ema_loss), loss, params.alpha);
        self.score = scaling_law_score(self.ema_loss, params.power);
        let target = if obs.is_failure() { 0.0 } else { self.score };
        self.zeroing = ema((!first).then_some(self.zeroing), target, params.alpha);
        self.queries = self.queries.saturating_add(1);
        if obs.is_failure() {
            self.failures = self.failures.saturating_add(1);
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            if self.consecutive_failures >= GONE_AFTER_FAILURES {
                self.zeroing = 0.0;
            }
        } else {
            self.consecutive_failures = 0;
        }
    }

    /// Whether every number is finite (a state file may be edited by hand).
    pub fn is_sane(&self) -> bool {
        self.ema_loss.is_finite()
            && self.score.is_finite()
            && self.zeroing.is_finite()
            && self.zeroing >= 0.0
            && self.score >= 0.0
    }
}

/// A short, stable reason for a failed query.
pub fn failure_reason(error: &AxonError) -> String {
    match error {
        AxonError::Timeout => "timeout".to_owned(),
        AxonError::Connect(e) => format!("unreachable ({e})"),
        AxonError::Status { code, message } if message.is_empty() => format!("status {code}"),
        AxonError::Status { code, message } => format!("status {code} ({message})"),
        AxonError::BadSignature | AxonError::MissingSignature => {
            "unsigned or badly signed response".to_owned()
        }
        other => other.to_string(),
    }
}

/// Scores one answer to `request` against `targets` (one phrase per batch row; its first token
/// is the next token). Anything but a valid, finite loss is a [`Observation::Failure`].
pub fn evaluate(
    result: &Result<Reply<TextCausalLMNext>, AxonError>,
    request: &TextCausalLMNext,
    targets: &[Vec<u32>],
    vocab_size: u32,
) -> Observation {
    let reply = match result {
        Ok(reply) => reply,
        Err(e) => return Observation::Failure(failure_reason(e)),
    };
    evaluate_answer(&reply.synapse, request, targets, vocab_size)
}

/// Scores a filled synapse (the body of a 200 answer) against the request it answers.
pub fn evaluate_answer(
    answer: &TextCausalLMNext,
    request: &TextCausalLMNext,
    targets: &[Vec<u32>],
    vocab_size: u32,
) -> Observation {
    if answer.topk != request.topk || answer.text_inputs != request.text_inputs {
        return Observation::Failure("answer does not echo the request".to_owned());
    }
    let rows = match answer.outputs() {
        Ok(rows) => rows,
        Err(e) => return Observation::Failure(format!("invalid answer: {e}")),
    };
    if rows.len() != targets.len() {
        return Observation::Failure(format!(
            "answer has {} rows, expected {}",
            rows.len(),
            targets.len()
        ));
    }
    let massless = |r: &TopkPhrases| r.floor <= 0.0 && r.phrases.iter().all(|(p, _)| *p <= 0.0);
    if rows.iter().any(massless) {
        return Observation::Failure("an answer row assigns no probability at all".to_owned());
    }
    match mean_phrase_loss(&rows, targets, vocab_size) {
        Ok(loss) if loss.is_finite() && loss >= 0.0 => Observation::Loss(loss),
        Ok(loss) => Observation::Failure(format!("loss is {loss}")),
        Err(e) => Observation::Failure(format!("loss: {e}")),
    }
}

/// The phrase loss of each row of a filled synapse against `targets` (the terms whose mean
/// [`evaluate_answer`] scores); `None` when the answer has no readable rows or their count
/// differs from the targets'. Call it for answers that [`evaluate_answer`] accepted.
pub fn row_losses(
    answer: &TextCausalLMNext,
    targets: &[Vec<u32>],
    vocab_size: u32,
) -> Option<Vec<f64>> {
    let rows = answer.outputs().ok()?;
    (rows.len() == targets.len()).then(|| {
        rows.iter()
            .zip(targets)
            .map(|(row, target)| phrase_cross_entropy(row, target, vocab_size).phrase)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use subtensor_axon::{tensor::Tensor, wire::TerminalInfo};

    const VOCAB: u32 = 100;

    fn request() -> TextCausalLMNext {
        TextCausalLMNext::request(&[vec![1, 2, 3], vec![4, 5, 6]], 2).unwrap()
    }

    fn targets() -> Vec<Vec<u32>> {
        vec![vec![7, 8], vec![9, 10]]
    }

    /// An answer putting `p` on the right first token of each target.
    fn answer(p: f32) -> TextCausalLMNext {
        let mut s = request();
        let rest = (1.0 - p) / 2.0;
        let rows: Vec<TopkPhrases> = targets()
            .iter()
            .map(|t| TopkPhrases {
                phrases: vec![(p, vec![t[0]]), (rest, vec![50])],
                floor: rest / (VOCAB - 2) as f32,
            })
            .collect();
        s.set_outputs(&rows).unwrap();
        s
    }

    fn reply(s: TextCausalLMNext) -> std::result::Result<Reply<TextCausalLMNext>, AxonError> {
        Ok(Reply { synapse: s, axon: TerminalInfo::default(), elapsed: Duration::ZERO })
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn scaling_law_follows_the_formula() {
        // N(L) = N_c / L^(1/α): at the 1.69 floor, 8.8e13 / 1.69^(1/0.076).
        let expected = 8.8e13 / 1.69f64.powf(1.0 / 0.076);
        assert!(close(scaling_law_params(1.69), expected), "{}", scaling_law_params(1.69));
        assert!(expected > 8.0e10 && expected < 1.0e11);
        // Below the floor the loss counts as the floor.
        assert!(close(scaling_law_params(1.0), expected));
        assert!(close(scaling_law_params(0.0), expected));
        let l3 = 8.8e13 / 3.0f64.powf(1.0 / 0.076);
        assert!(close(scaling_law_params(3.0), l3));
        // Score = N^power, through logs.
        assert!(close(scaling_law_score(3.0, 0.5), l3.sqrt()));
        assert!(close(scaling_law_score(3.0, 1.0), l3));
        // Monotone: lower loss, higher score; NaN counts as the failure loss.
        assert!(scaling_law_score(2.5, 0.5) > scaling_law_score(2.6, 0.5));
        assert!(close(scaling_law_score(f64::NAN, 0.5), scaling_law_score(20.0, 0.5)));
        assert!(scaling_law_score(1e6, 0.5) >= 0.0);
        assert!(scaling_law_score(1e6, 0.5).is_finite());
    }

    #[test]
    fn ema_initialises_then_smooths() {
        assert_eq!(ema(None, 5.0, 0.1), 5.0);
        assert!(close(ema(Some(5.0), 3.0, 0.1), 4.8));
        assert!(close(ema(Some(5.0), 3.0, 1.0), 3.0));
    }

    #[test]
    fn uid_score_tracks_loss_and_zeroes_on_failure() {
        let params = ScoringParams { alpha: 0.1, power: 0.5 };
        let mut s = UidScore::new("hk");
        s.observe(&Observation::Loss(3.0), &params);
        assert_eq!(s.ema_loss, 3.0);
        assert!(close(s.score, scaling_law_score(3.0, 0.5)));
        assert!(close(s.zeroing, s.score));
        s.observe(&Observation::Loss(2.0), &params);
        assert!(close(s.ema_loss, 2.9));
        let before = s.zeroing;
        assert!(close(
            s.zeroing,
            0.9 * scaling_law_score(3.0, 0.5) + 0.1 * scaling_law_score(2.9, 0.5)
        ));
        // One failure: the loss EMA moves toward 20, the zeroing EMA decays by (1 − α).
        s.observe(&Observation::Failure("timeout".into()), &params);
        assert!(close(s.zeroing, before * 0.9));
        assert_eq!(s.consecutive_failures, 1);
        // A second one in a row: the uid counts as gone, its zeroing score is 0.
        for _ in 1..5 {
            s.observe(&Observation::Failure("timeout".into()), &params);
            assert_eq!(s.zeroing, 0.0);
        }
        assert!(s.ema_loss > 2.9);
        assert_eq!((s.queries, s.failures, s.consecutive_failures), (7, 5, 5));
        // Answering again restarts the climb from zero.
        s.observe(&Observation::Loss(3.0), &params);
        assert_eq!(s.consecutive_failures, 0);
        assert!(close(s.zeroing, 0.1 * s.score));
        // A uid that only ever failed has a zero zeroing score.
        let mut dead = UidScore::new("hk2");
        dead.observe(&Observation::Failure("unreachable".into()), &params);
        assert_eq!(dead.ema_loss, 20.0);
        assert_eq!(dead.zeroing, 0.0);
        assert!(dead.score > 0.0);
        // Non-finite losses never get in.
        let mut odd = UidScore::new("hk3");
        odd.observe(&Observation::Loss(f64::NAN), &params);
        assert!(odd.is_sane());
        assert_eq!(odd.ema_loss, 20.0);
    }

    #[test]
    fn good_answers_score_lower_loss_than_poor_ones() {
        let req = request();
        let good = evaluate(&reply(answer(0.9)), &req, &targets(), VOCAB);
        let poor = evaluate(&reply(answer(0.1)), &req, &targets(), VOCAB);
        let (Observation::Loss(g), Observation::Loss(p)) = (&good, &poor) else {
            panic!("{good:?} {poor:?}")
        };
        assert!(g < p, "{g} {p}");
        assert!(*g > 0.0);
        // The per-row losses average to the scored loss.
        let rows = row_losses(&answer(0.9), &targets(), VOCAB).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(close(rows.iter().sum::<f64>() / 2.0, *g), "{rows:?} {g}");
        assert!(row_losses(&answer(0.9), &targets()[..1], VOCAB).is_none());
    }

    #[test]
    fn every_failed_reply_is_a_failure() {
        let req = request();
        let t = targets();
        let errors = [
            AxonError::Timeout,
            AxonError::Connect("refused".into()),
            AxonError::Status { code: 500, message: "boom".into() },
            AxonError::BadResponse("response body hash mismatch".into()),
            AxonError::BadSignature,
            AxonError::Connect("reading response: length limit exceeded".into()),
        ];
        for e in errors {
            let obs = evaluate(&Err(e), &req, &t, VOCAB);
            assert!(obs.is_failure(), "{obs:?}");
            assert_eq!(obs.loss(), 20.0);
        }
        // NaN in the answer.
        let mut nan = answer(0.5);
        nan.text_outputs = Some(Tensor::from_f32(&[f32::NAN; 10], &[10]).unwrap());
        assert!(evaluate(&reply(nan), &req, &t, VOCAB).is_failure());
        // Wrong shape: 2-D outputs, too few markers, missing outputs.
        let mut two_d = answer(0.5);
        two_d.text_outputs = Some(Tensor::from_f32(&[0.5; 10], &[2, 5]).unwrap());
        assert!(evaluate(&reply(two_d), &req, &t, VOCAB).is_failure());
        let mut short = answer(0.5);
        short.text_outputs = Some(Tensor::from_f32(&[0.5, 9.0], &[2]).unwrap());
        assert!(evaluate(&reply(short), &req, &t, VOCAB).is_failure());
        let mut empty = answer(0.5);
        empty.text_outputs = None;
        assert!(evaluate(&reply(empty), &req, &t, VOCAB).is_failure());
        // Garbage token values and probabilities that sum above 1.
        let mut garbage = answer(0.5);
        garbage.text_outputs = Some(
            Tensor::from_f32(&[0.9, 2.5, 0.9, 3.0, 0.1, 0.9, 4.0, 0.9, 5.0, 0.1], &[10]).unwrap(),
        );
        assert!(evaluate(&reply(garbage), &req, &t, VOCAB).is_failure());
        // An answer to a different request (other inputs, other topk, other batch).
        let mut other = answer(0.9);
        other.text_inputs = Tensor::from_i64(&[1, 2, 3], &[1, 3]).unwrap();
        assert!(evaluate(&reply(other), &req, &t, VOCAB).is_failure());
        let mut other_k = answer(0.9);
        other_k.topk = 3;
        assert!(evaluate(&reply(other_k), &req, &t, VOCAB).is_failure());
        // No probability mass anywhere.
        let mut zero = request();
        let rows =
            vec![TopkPhrases { phrases: vec![(0.0, vec![1]), (0.0, vec![2])], floor: 0.0 }; 2];
        zero.set_outputs(&rows).unwrap();
        assert!(evaluate(&reply(zero), &req, &t, VOCAB).is_failure());
    }

    #[test]
    fn failures_end_with_zero_weight_source() {
        // A miner that answers well once then fails forever decays toward 0; one that never
        // answers stays at exactly 0.
        let params = ScoringParams::default();
        let req = request();
        let mut flaky = UidScore::new("a");
        flaky.observe(&evaluate(&reply(answer(0.9)), &req, &targets(), VOCAB), &params);
        let start = flaky.zeroing;
        for _ in 0..200 {
            flaky.observe(&evaluate(&Err(AxonError::Timeout), &req, &targets(), VOCAB), &params);
        }
        assert!(flaky.zeroing < start * 1e-8);
        let mut never = UidScore::new("b");
        for _ in 0..3 {
            never.observe(&evaluate(&Err(AxonError::Timeout), &req, &targets(), VOCAB), &params);
        }
        assert_eq!(never.zeroing, 0.0);
    }
}
