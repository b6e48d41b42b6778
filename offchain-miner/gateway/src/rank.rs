//! Ranking the answers of heterogeneous miners by a reference model (`--reference-model DIR`).
//!
//! A non-streaming request to a heterogeneous subnet goes to several miners at once; with a
//! reference model (a model on the network's standard tokenizer, run on the CPU) the gateway
//! returns the answer whose continuation the reference finds most likely: the highest mean
//! log-probability per continuation token, [`mean_logprob`], from one forward pass over prompt
//! plus continuation. The model's own forward pass and logits
//! ([`LanguageModel::logits`]) do the work; this module only picks the continuation's entries.

use crate::{error::GatewayError, Result};
use parking_lot::Mutex;
use std::{path::Path, sync::Arc};
use subtensor_model::{tch::Kind, Device, LanguageModel, ModelError, Tensor};

/// The mean natural-log probability per token of `continuation` after `prompt` under
/// `model`, from one forward pass over `prompt ++ continuation`; `None` when there is no
/// continuation token to score.
///
/// When the whole sequence is longer than the model's context, its last `n_positions` tokens
/// are kept (as [`LanguageModel::logits`] does) and only the continuation tokens inside that
/// window with at least one token before them are scored.
pub fn mean_logprob(
    model: &LanguageModel,
    prompt: &[u32],
    continuation: &[u32],
) -> Result<Option<f64>> {
    let full: Vec<u32> = prompt.iter().chain(continuation).copied().collect();
    let window_len = usize::try_from(model.config().n_positions).unwrap_or(usize::MAX);
    let skip = full.len().saturating_sub(window_len);
    let window = full.get(skip..).unwrap_or_default();
    let start = prompt.len().saturating_sub(skip).max(1);
    let Some(targets) = window.get(start..).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let torch = |e: subtensor_model::tch::TchError| GatewayError::Model(ModelError::from(e));
    let logits = model.logits(&[window.to_vec()])?;
    let count = i64::try_from(targets.len()).map_err(|_| too_long())?;
    let from = i64::try_from(start.saturating_sub(1)).map_err(|_| too_long())?;
    let ids: Vec<i64> = targets.iter().map(|&t| i64::from(t)).collect();
    let index = Tensor::f_from_slice(&ids).and_then(|t| t.f_view([count, 1])).map_err(torch)?;
    let mean = logits
        .f_select(0, 0)
        .and_then(|rows| rows.f_narrow(0, from, count))
        .and_then(|rows| rows.f_log_softmax(-1, Kind::Double))
        .and_then(|lp| lp.f_gather(1, &index, false))
        .and_then(|picked| picked.f_mean(Kind::Double))
        .and_then(|m| m.f_double_value(&[]))
        .map_err(torch)?;
    Ok(Some(mean))
}

fn too_long() -> GatewayError {
    GatewayError::Model(ModelError::InvalidInput("sequence too long".to_owned()))
}

/// The reference model, shared by the request handlers (one forward pass at a time: the
/// model cannot be used from two threads at once).
#[derive(Clone, Debug)]
pub struct Reference {
    model: Arc<Mutex<LanguageModel>>,
}

impl Reference {
    /// Loads the model in `dir` (`config.json`, `model.safetensors`) on the CPU.
    pub fn load(dir: &Path) -> Result<Self> {
        Ok(Self::new(LanguageModel::load(dir, Device::Cpu)?))
    }

    /// A reference over an already loaded model.
    pub fn new(model: LanguageModel) -> Self {
        Self { model: Arc::new(Mutex::new(model)) }
    }

    /// Refuses a reference model whose vocabulary does not cover `tokenizer`'s ids.
    pub fn check_vocab(&self, tokenizer: &subtensor_model::TextTokenizer) -> Result<()> {
        let vocab = self.model.lock().config().vocab_size;
        if usize::try_from(vocab).unwrap_or(0) < tokenizer.vocab_size() {
            return Err(GatewayError::Config(format!(
                "the reference model's vocabulary ({vocab} tokens) is smaller than the standard \
                 tokenizer's ({}): it is not a model on the network's tokenizer",
                tokenizer.vocab_size()
            )));
        }
        Ok(())
    }

    /// [`mean_logprob`] of each continuation after `prompt`, computed off the async runtime.
    pub async fn score(
        &self,
        prompt: Vec<u32>,
        continuations: Vec<Vec<u32>>,
    ) -> Result<Vec<Option<f64>>> {
        let model = self.model.clone();
        tokio::task::spawn_blocking(move || {
            let model = model.lock();
            continuations.iter().map(|c| mean_logprob(&model, &prompt, c)).collect()
        })
        .await
        .map_err(|e| GatewayError::Config(format!("the scoring task failed: {e}")))?
    }
}

/// The index of the best score (`None` scores lose to any number; ties: the first).
pub fn best(scores: &[Option<f64>]) -> Option<usize> {
    let mut top: Option<(usize, f64)> = None;
    for (i, s) in scores.iter().enumerate() {
        let s = s.filter(|v| !v.is_nan()).unwrap_or(f64::NEG_INFINITY);
        if top.is_none_or(|(_, t)| s > t) {
            top = Some((i, s));
        }
    }
    top.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> LanguageModel {
        crate::tiny_test_model()
    }

    /// log p(seq[last] | seq[..last]) from a forward pass over the prefix alone.
    fn direct(model: &LanguageModel, prefix: &[u32], next: u32) -> f64 {
        let logits = model.logits(&[prefix.to_vec()]).unwrap();
        let last = logits.select(0, 0).select(0, -1).log_softmax(-1, Kind::Double);
        last.double_value(&[i64::from(next)])
    }

    #[test]
    fn matches_one_pass_per_token() {
        let m = model();
        let (prompt, cont) = ([5u32, 9, 2], [7u32, 7, 30, 1]);
        let mut seq = prompt.to_vec();
        let mut want = 0.0;
        for &t in &cont {
            want += direct(&m, &seq, t);
            seq.push(t);
        }
        want /= cont.len() as f64;
        let got = mean_logprob(&m, &prompt, &cont).unwrap().unwrap();
        assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    }

    #[test]
    fn long_sequences_keep_the_last_window() {
        let m = model();
        let prompt: Vec<u32> = (0..10).collect();
        let cont = [11u32, 12, 13, 14];
        // 14 tokens, a context of 12: the window is tokens 2..14, all four continuation
        // tokens are inside it.
        let window: Vec<u32> = prompt.iter().chain(&cont).copied().skip(2).collect();
        let want: f64 =
            (8..12).map(|j| direct(&m, &window[..j], window[j])).sum::<f64>() / cont.len() as f64;
        let got = mean_logprob(&m, &prompt, &cont).unwrap().unwrap();
        assert!((got - want).abs() < 1e-4, "{got} vs {want}");
        assert_eq!(mean_logprob(&m, &prompt, &[]).unwrap(), None);
        // Without a prompt the first token has no context and is not scored.
        assert_eq!(mean_logprob(&m, &[], &[3]).unwrap(), None);
        assert!(mean_logprob(&m, &[], &[3, 4]).unwrap().is_some());
    }

    #[test]
    fn best_prefers_higher_and_skips_none() {
        assert_eq!(best(&[Some(-3.0), Some(-1.0), None]), Some(1));
        assert_eq!(best(&[None, Some(-9.0)]), Some(1));
        assert_eq!(best(&[None, None]), Some(0));
        assert_eq!(best(&[]), None);
    }
}
