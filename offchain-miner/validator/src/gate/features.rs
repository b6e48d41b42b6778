//! Prompt features for the gate: the mean final hidden state of each row under the feature
//! model (a model on the network's standard tokenizer), and the per-row training pairs a step
//! report yields.

use super::linear::Features;
use crate::{
    scoring::{row_losses, Observation},
    step::StepReport,
    Result, ValidatorError,
};
use subtensor_model::{tch::Kind, LanguageModel};

/// The feature length (before the bias) of `model`: its hidden width.
pub fn feature_dim(model: &LanguageModel) -> usize {
    usize::try_from(model.config().n_embd).unwrap_or(0)
}

/// The [`Features`] of each row: the mean over positions of its final hidden states (rows
/// longer than the model's context keep their last tokens). Rows of different lengths are
/// run one at a time; equal-length rows share one forward pass.
pub fn row_features(model: &LanguageModel, rows: &[Vec<u32>]) -> Result<Vec<Features>> {
    let same_len = rows.windows(2).all(|w| w.first().map(Vec::len) == w.get(1).map(Vec::len));
    if !same_len {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.extend(row_features(model, std::slice::from_ref(row))?);
        }
        return Ok(out);
    }
    let gate = |e: String| ValidatorError::Gate(format!("feature model: {e}"));
    let hidden = model.hidden_states(rows).map_err(|e| gate(e.to_string()))?;
    let means = hidden
        .f_mean_dim(Some([1i64].as_slice()), false, Kind::Double)
        .and_then(|m| m.f_contiguous())
        .and_then(|m| m.f_view([-1]))
        .map_err(|e| gate(e.to_string()))?;
    let flat = Vec::<f64>::try_from(&means).map_err(|e| gate(e.to_string()))?;
    let dim = feature_dim(model);
    if dim == 0 || flat.len() != dim.saturating_mul(rows.len()) {
        return Err(gate(format!("{} hidden values for {} rows of {dim}", flat.len(), rows.len())));
    }
    Ok(flat.chunks(dim).map(|c| Features::new(c.to_vec())).collect())
}

/// One training pair: a uid's measured loss on a prompt.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The uid.
    pub uid: u16,
    /// Its hotkey (SS58).
    pub hotkey: String,
    /// Index of the batch row (`None`: the whole batch, with the batch's mean feature).
    pub row: Option<usize>,
    /// The loss (nats).
    pub loss: f64,
}

/// The training pairs of a step: for each uid whose answer scored a loss, one pair per row
/// with that row's phrase loss, or one for the batch when per-row losses are unavailable.
/// Failed answers teach nothing (the gate predicts quality, not availability).
pub fn samples(report: &StepReport, vocab_size: u32) -> Vec<Sample> {
    let mut out = Vec::new();
    for outcome in &report.outcomes {
        let Observation::Loss(loss) = outcome.observation else { continue };
        let rows = outcome
            .reply
            .as_ref()
            .ok()
            .and_then(|r| row_losses(&r.synapse, &report.batch.targets, vocab_size));
        let pair = |row: Option<usize>, loss: f64| Sample {
            uid: outcome.uid,
            hotkey: outcome.hotkey.clone(),
            row,
            loss,
        };
        match rows {
            Some(rows) => out.extend(rows.into_iter().enumerate().map(|(i, l)| pair(Some(i), l))),
            None => out.push(pair(None, loss)),
        }
    }
    out
}
