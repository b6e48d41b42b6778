//! Text generation: greedy or sampled decoding with temperature, top-k, nucleus (top-p),
//! repetition penalty and n-gram blocking, using a key/value cache.

use crate::forward::KvCache;
use crate::inference::to_f32_vec;
use crate::model::LanguageModel;
use crate::{ModelError, Result};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// How [`LanguageModel::generate`] picks tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerateParams {
    /// Most tokens to generate.
    pub max_new_tokens: usize,
    /// Softmax temperature; 0 means greedy (always the most likely token).
    pub temperature: f64,
    /// Sample only among the `top_k` most likely tokens (0 = no limit).
    pub top_k: usize,
    /// Sample only among the most likely tokens whose probabilities sum to `top_p` (1 = all).
    pub top_p: f64,
    /// Divides positive (multiplies negative) logits of tokens already in the context by this
    /// (1 = off), as in Hugging Face `transformers`.
    pub repetition_penalty: f64,
    /// Never repeat an n-gram of this size already in the context (0 = off).
    pub no_repeat_ngram_size: usize,
    /// Seed of the sampler: the same seed, model and prompt give the same tokens.
    pub seed: u64,
    /// Stop when this token is generated (it is not included in the output).
    pub eos_id: Option<u32>,
}

impl Default for GenerateParams {
    fn default() -> Self {
        Self {
            max_new_tokens: 40,
            temperature: 0.8,
            top_k: 0,
            top_p: 1.0,
            repetition_penalty: 1.0,
            no_repeat_ngram_size: 0,
            seed: 0,
            eos_id: None,
        }
    }
}

impl GenerateParams {
    /// Checks the numeric parameters.
    pub fn validate(&self) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(ModelError::InvalidInput(format!(
                "temperature {} must be >= 0",
                self.temperature
            )));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(ModelError::InvalidInput(format!(
                "top_p {} must be in (0, 1]",
                self.top_p
            )));
        }
        if !(self.repetition_penalty.is_finite() && self.repetition_penalty > 0.0) {
            return Err(ModelError::InvalidInput(format!(
                "repetition_penalty {} must be > 0",
                self.repetition_penalty
            )));
        }
        Ok(())
    }
}

/// Applies the repetition penalty and n-gram ban to `logits` given the `context`.
fn adjust_logits(logits: &mut [f64], context: &[u32], params: &GenerateParams) {
    if params.repetition_penalty != 1.0 {
        let mut seen: Vec<u32> = context.to_vec();
        seen.sort_unstable();
        seen.dedup();
        for id in seen {
            if let Some(l) = usize::try_from(id).ok().and_then(|i| logits.get_mut(i)) {
                *l = if *l > 0.0 {
                    *l / params.repetition_penalty
                } else {
                    *l * params.repetition_penalty
                };
            }
        }
    }
    let n = params.no_repeat_ngram_size;
    if n > 0 && context.len() >= n {
        let prefix_len = n.saturating_sub(1);
        let prefix = context.get(context.len().saturating_sub(prefix_len)..).unwrap_or_default();
        for gram in context.windows(n) {
            let (head, tail) = gram.split_at(prefix_len);
            if head == prefix {
                if let Some(l) = tail
                    .first()
                    .and_then(|&id| usize::try_from(id).ok())
                    .and_then(|i| logits.get_mut(i))
                {
                    *l = f64::NEG_INFINITY;
                }
            }
        }
    }
}

/// Picks the next token from adjusted logits; `None` when every token is banned.
fn pick(logits: &[f64], params: &GenerateParams, rng: &mut StdRng) -> Option<u32> {
    let mut order: Vec<usize> =
        (0..logits.len()).filter(|&i| logits.get(i).is_some_and(|l| l.is_finite())).collect();
    if order.is_empty() {
        return None;
    }
    // Descending by logit; ties keep the lower id first.
    order.sort_by(|&a, &b| {
        let (la, lb) = (
            logits.get(a).copied().unwrap_or(f64::NEG_INFINITY),
            logits.get(b).copied().unwrap_or(f64::NEG_INFINITY),
        );
        lb.total_cmp(&la).then(a.cmp(&b))
    });
    if params.temperature == 0.0 {
        return order.first().and_then(|&i| u32::try_from(i).ok());
    }
    if params.top_k > 0 {
        order.truncate(params.top_k);
    }
    let best = order.first().and_then(|&i| logits.get(i)).copied().unwrap_or(0.0);
    let weights: Vec<f64> = order
        .iter()
        .map(|&i| {
            ((logits.get(i).copied().unwrap_or(f64::NEG_INFINITY) - best) / params.temperature)
                .exp()
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut keep = weights.len();
    if params.top_p < 1.0 {
        let mut cumulative = 0.0;
        for (j, w) in weights.iter().enumerate() {
            cumulative += w / total;
            if cumulative >= params.top_p {
                keep = j.saturating_add(1);
                break;
            }
        }
    }
    let kept = weights.get(..keep).unwrap_or(&weights);
    let kept_total: f64 = kept.iter().sum();
    let mut u = rng.gen::<f64>() * kept_total;
    for (j, w) in kept.iter().enumerate() {
        if u < *w {
            return order.get(j).and_then(|&i| u32::try_from(i).ok());
        }
        u -= w;
    }
    order.get(keep.saturating_sub(1)).and_then(|&i| u32::try_from(i).ok())
}

impl LanguageModel {
    /// Continues `prompt` by up to `params.max_new_tokens` tokens and returns the new tokens
    /// only (stopping before `params.eos_id`). The model sees at most the last `n_positions`
    /// tokens. An empty prompt starts from the model's end-of-text token if `config.json`
    /// names one. The same model, prompt and params (seed included) give the same tokens.
    pub fn generate(&self, prompt: &[u32], params: &GenerateParams) -> Result<Vec<u32>> {
        params.validate()?;
        self.check_ids(prompt)?;
        if let Some(eos) = params.eos_id {
            self.check_ids(&[eos])?;
        }
        let mut context: Vec<u32> = if prompt.is_empty() {
            match self.extras.eos_token_id {
                Some(id) => vec![id],
                None => {
                    return Err(ModelError::InvalidInput(
                        "empty prompt and no end-of-text token to start from".into(),
                    ))
                }
            }
        } else {
            prompt.to_vec()
        };
        let window = usize::try_from(self.config.n_positions).unwrap_or(usize::MAX);
        let mut rng = StdRng::seed_from_u64(params.seed);
        let mut out = Vec::new();
        let mut cache = KvCache::default();
        // Index in `context` of the cache's position 0.
        let mut cache_start = 0usize;
        for _ in 0..params.max_new_tokens {
            let cached = usize::try_from(cache.len()).unwrap_or(0);
            let feed: Vec<i64> =
                if cached > 0 && context.len().saturating_sub(cache_start) <= window {
                    context
                        .get(cache_start.saturating_add(cached)..)
                        .unwrap_or_default()
                        .iter()
                        .map(|&t| i64::from(t))
                        .collect()
                } else {
                    cache = KvCache::default();
                    cache_start = context.len().saturating_sub(window);
                    context
                        .get(cache_start..)
                        .unwrap_or_default()
                        .iter()
                        .map(|&t| i64::from(t))
                        .collect()
                };
            let len = i64::try_from(feed.len())
                .map_err(|_| ModelError::InvalidInput("prompt too long".into()))?;
            let logits = tch::no_grad(|| -> Result<Vec<f32>> {
                let tokens =
                    Tensor::f_from_slice(&feed)?.f_view([1, len])?.f_to_device(self.device())?;
                let hidden = self.hidden(&tokens, Some(&mut cache))?;
                let last = hidden.f_select(1, -1)?;
                to_f32_vec(&self.head(&last)?)
            })?;
            let mut logits: Vec<f64> = logits.into_iter().map(f64::from).collect();
            adjust_logits(&mut logits, &context, params);
            let Some(next) = pick(&logits, params, &mut rng) else { break };
            if Some(next) == params.eos_id {
                break;
            }
            out.push(next);
            context.push(next);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn greedy_picks_max_and_bans() {
        let mut rng = StdRng::seed_from_u64(0);
        let greedy = GenerateParams { temperature: 0.0, ..Default::default() };
        assert_eq!(pick(&[0.1, 2.0, 1.0], &greedy, &mut rng), Some(1));
        let mut logits = vec![0.1, 2.0, 1.0];
        // Context 1 2 1: with n = 2 the bigram "1 2" exists, so after a final 1, 2 is banned.
        adjust_logits(
            &mut logits,
            &[1, 2, 1],
            &GenerateParams { no_repeat_ngram_size: 2, ..greedy.clone() },
        );
        assert_eq!(logits[2], f64::NEG_INFINITY);
        let mut logits = vec![1.0, 2.0, -1.0];
        adjust_logits(
            &mut logits,
            &[1, 2],
            &GenerateParams { repetition_penalty: 2.0, ..greedy.clone() },
        );
        assert_eq!(logits, vec![1.0, 1.0, -2.0]);
        assert_eq!(pick(&[f64::NEG_INFINITY; 3], &greedy, &mut rng), None);
    }

    #[test]
    fn sampling_respects_top_k_and_top_p() {
        let logits = [5.0, 4.9, 0.0, -1.0];
        let mut rng = StdRng::seed_from_u64(1);
        let p = GenerateParams { temperature: 1.0, top_k: 2, ..Default::default() };
        for _ in 0..200 {
            assert!(pick(&logits, &p, &mut rng).unwrap() < 2);
        }
        let p = GenerateParams { temperature: 1.0, top_p: 0.3, ..Default::default() };
        for _ in 0..200 {
            assert_eq!(pick(&logits, &p, &mut rng), Some(0));
        }
        let p = GenerateParams { temperature: 1.0, ..Default::default() };
        let draws: Vec<u32> = (0..400).filter_map(|_| pick(&logits, &p, &mut rng)).collect();
        assert!(draws.contains(&0) && draws.contains(&1));
    }
}
