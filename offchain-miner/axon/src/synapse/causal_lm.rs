//! [`TextCausalLM`]: the top-k next-token distribution at every input position (2022
//! `TextCausalLM`), and [`full_log_probs`] to rebuild a full log-distribution from it.

use super::{
    batch_and_len, check_answer_size, check_prob, floor_probability, opt_tensor_repr,
    required_output, token_rows, tokens_tensor, Synapse, MAX_TOPK, SUM_EPS, VOCAB_SIZE,
};
use crate::{
    tensor::{Dtype, Tensor},
    AxonError, Result,
};
use serde::{Deserialize, Serialize};

/// The 2022 default `topk` of [`TextCausalLM`].
pub const DEFAULT_CAUSAL_LM_TOPK: u32 = 512;

fn default_topk() -> u32 {
    DEFAULT_CAUSAL_LM_TOPK
}

/// Causal language modelling at every position: for each input token, the model's top-k
/// predictions of the *next* token.
///
/// Request: `text_inputs`, `int64` `[B, L]` of standard-tokenizer ids, and `topk`
/// (`1..=MAX_TOPK`, default [`DEFAULT_CAUSAL_LM_TOPK`]).
/// Response: `text_outputs`, `float32` `[B, L, 2·topk]`: per position the `topk`
/// probabilities, then the `topk` token ids written as floats (exact below 2^24).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextCausalLM {
    /// Token ids, `int64` `[B, L]`, `1 ≤ B ≤ MAX_BATCH`, `1 ≤ L ≤ MAX_SEQ_LEN`, ids `< VOCAB_SIZE`.
    pub text_inputs: Tensor,
    /// Entries per position, `1 ≤ topk ≤ MAX_TOPK`.
    #[serde(default = "default_topk")]
    pub topk: u32,
    /// `float32` `[B, L, 2·topk]`, filled by the axon.
    #[serde(default)]
    pub text_outputs: Option<Tensor>,
}

/// The top-k of one position of a [`TextCausalLM`] answer.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenProbs {
    /// Token ids (distinct, `< VOCAB_SIZE`), `topk` of them.
    pub ids: Vec<u32>,
    /// Their probabilities, in `[0, 1]`, summing to at most 1; same length as `ids`.
    pub probs: Vec<f32>,
}

/// Rebuilds the full log-distribution over `vocab_size` tokens from one position's top k: each
/// listed token gets `ln p` (with `p` clamped to ≥ 1e-40, so a listed zero stays finite), every
/// other token `ln floor` with [`floor_probability`]`(Σ p, k, vocab_size)`: the leftover mass
/// spread uniformly over the tokens outside the top k. Ids `≥ vocab_size` are ignored (their
/// probability still counts in Σ p).
pub fn full_log_probs(p: &TokenProbs, vocab_size: u32) -> Vec<f32> {
    let k = u32::try_from(p.ids.len()).unwrap_or(u32::MAX);
    let sum: f32 = p.probs.iter().sum();
    let floor = floor_probability(sum, k, vocab_size).ln();
    let mut out = vec![floor; vocab_size as usize];
    for (&id, &prob) in p.ids.iter().zip(&p.probs) {
        if let Some(slot) = out.get_mut(id as usize) {
            *slot = prob.max(1e-40).ln();
        }
    }
    out
}

/// Checks one position: lengths, probabilities, sum, distinct ids below [`VOCAB_SIZE`].
fn check_position(p: &TokenProbs, topk: usize) -> Result<()> {
    if p.ids.len() != topk || p.probs.len() != topk {
        return Err(AxonError::Invalid(format!(
            "{} ids and {} probabilities, topk is {topk}",
            p.ids.len(),
            p.probs.len()
        )));
    }
    let mut sum = 0.0f32;
    for &prob in &p.probs {
        check_prob(prob)?;
        sum += prob;
    }
    if sum > 1.0 + SUM_EPS {
        return Err(AxonError::Invalid(format!("top-k probabilities sum to {sum} > 1")));
    }
    if let Some(id) = p.ids.iter().find(|&&id| id >= VOCAB_SIZE) {
        return Err(AxonError::Invalid(format!("token id {id} ≥ {VOCAB_SIZE}")));
    }
    let mut sorted = p.ids.clone();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w.first() == w.get(1)) {
        return Err(AxonError::Invalid("duplicate token id in a top-k".to_owned()));
    }
    Ok(())
}

/// A float that must hold a token id: integral, in `[0, VOCAB_SIZE)`.
fn id_of(v: f32) -> Result<u32> {
    if v.fract() != 0.0 || !(0.0..VOCAB_SIZE as f32).contains(&v) {
        return Err(AxonError::Invalid(format!("bad token id value {v}")));
    }
    Ok(v as u32)
}

impl TextCausalLM {
    /// A request for the top `topk` at every position of `tokens` (all rows the same length).
    pub fn request(tokens: &[Vec<u32>], topk: u32) -> Result<Self> {
        let s = Self { text_inputs: tokens_tensor(tokens)?, topk, text_outputs: None };
        s.validate_request()?;
        Ok(s)
    }

    /// The validated input tokens, one row per batch entry.
    pub fn tokens(&self) -> Result<Vec<Vec<u32>>> {
        token_rows(&self.text_inputs, "text_inputs")
    }

    fn topk_usize(&self) -> Result<usize> {
        if !(1..=MAX_TOPK).contains(&self.topk) {
            return Err(AxonError::Invalid(format!("topk {} outside 1..={MAX_TOPK}", self.topk)));
        }
        Ok(self.topk as usize)
    }

    /// The response shape `[B, L, 2·topk]`, after checking the request.
    fn answer_dims(&self) -> Result<[usize; 3]> {
        let k = self.topk_usize()?;
        let (b, l) = batch_and_len(&self.text_inputs, "text_inputs")?;
        let dims = [b, l, k.saturating_mul(2)];
        check_answer_size(&dims, "text_outputs")?;
        Ok(dims)
    }

    /// Fills the response: `rows[b][l]` is the top-k after token `l` of row `b`.
    pub fn set_outputs(&mut self, rows: &[Vec<TokenProbs>]) -> Result<()> {
        let dims @ [b, l, _] = self.answer_dims()?;
        let k = self.topk_usize()?;
        if rows.len() != b || rows.iter().any(|r| r.len() != l) {
            return Err(AxonError::Invalid(format!(
                "answer rows do not match the input [{b}, {l}]"
            )));
        }
        let mut values =
            Vec::with_capacity(b.saturating_mul(l).saturating_mul(k.saturating_mul(2)));
        for p in rows.iter().flatten() {
            check_position(p, k)?;
            values.extend_from_slice(&p.probs);
            values.extend(p.ids.iter().map(|&id| id as f32));
        }
        self.text_outputs = Some(Tensor::from_f32(&values, &dims)?);
        Ok(())
    }

    /// The decoded, validated answer: `[B][L]` top-k lists.
    pub fn outputs(&self) -> Result<Vec<Vec<TokenProbs>>> {
        let want = self.answer_dims()?;
        let k = self.topk_usize()?;
        let t = required_output(self.text_outputs.as_ref(), "text_outputs")?;
        if Dtype::parse(&t.dtype)? != Dtype::F32 {
            return Err(AxonError::Invalid(format!(
                "text_outputs must be float32, not {}",
                t.dtype
            )));
        }
        let (dims, values) = t.to_finite_f32()?;
        if dims != want {
            return Err(AxonError::Invalid(format!("text_outputs is {dims:?}, expected {want:?}")));
        }
        let [_, l, _] = want;
        let positions = values
            .chunks_exact(k.saturating_mul(2))
            .map(|chunk| {
                let (probs, ids) = chunk.split_at(k);
                let p = TokenProbs {
                    ids: ids.iter().map(|&v| id_of(v)).collect::<Result<_>>()?,
                    probs: probs.to_vec(),
                };
                check_position(&p, k)?;
                Ok(p)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(positions.chunks(l.max(1)).map(<[TokenProbs]>::to_vec).collect())
    }
}

impl Synapse for TextCausalLM {
    const NAME: &'static str = "TextCausalLM";
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &["text_inputs", "topk", "text_outputs"];
    const REQUIRED_INPUT_DEFAULTS: &'static [(&'static str, &'static str)] =
        &[("text_inputs", "{}")];

    fn hash_field_repr(&self, field: &str) -> Option<String> {
        match field {
            "text_inputs" => Some(self.text_inputs.python_repr()),
            "topk" => Some(self.topk.to_string()),
            "text_outputs" => Some(opt_tensor_repr(self.text_outputs.as_ref())),
            _ => None,
        }
    }

    fn validate_request(&self) -> Result<()> {
        self.answer_dims()?;
        self.tokens()?;
        if let Some(t) = &self.text_outputs {
            t.to_finite_f32()?;
        }
        Ok(())
    }

    fn validate_response(&self) -> Result<()> {
        self.tokens()?;
        self.outputs().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(first: u32, k: u32) -> TokenProbs {
        TokenProbs {
            ids: (0..k).map(|i| first + i).collect(),
            probs: (0..k).map(|i| 0.5 / 2f32.powi(i as i32 + 1)).collect(),
        }
    }

    #[test]
    fn round_trip_and_layout() {
        let mut s = TextCausalLM::request(&[vec![5, 6, 7], vec![1, 2, 3]], 3).unwrap();
        let h = s.body_hash();
        let rows: Vec<Vec<TokenProbs>> =
            (0..2).map(|b| (0..3).map(|l| position(100 * b + 10 * l, 3)).collect()).collect();
        s.set_outputs(&rows).unwrap();
        assert_ne!(s.body_hash(), h);
        s.validate_response().unwrap();
        assert_eq!(s.outputs().unwrap(), rows);
        let (dims, v) = s.text_outputs.as_ref().unwrap().to_f32().unwrap();
        assert_eq!(dims, vec![2, 3, 6]);
        // Position (1, 2): probabilities first, then ids as floats.
        assert_eq!(&v[(3 + 2) * 6..(3 + 3) * 6], &[0.25, 0.125, 0.0625, 120.0, 121.0, 122.0]);
    }

    #[test]
    fn default_topk_and_request_bounds() {
        let s = TextCausalLM::request(&[vec![1]], 1).unwrap();
        let mut json = serde_json::to_value(&s).unwrap();
        json.as_object_mut().unwrap().remove("topk");
        let parsed: TextCausalLM = serde_json::from_value(json).unwrap();
        assert_eq!(parsed.topk, DEFAULT_CAUSAL_LM_TOPK);
        assert!(TextCausalLM::request(&[vec![1]], 0).is_err());
        assert!(TextCausalLM::request(&[vec![1]], MAX_TOPK + 1).is_err());
        // 64 × 2048 × 2·4096 values would be far too large an answer.
        let big = vec![vec![1u32; 2048]; 64];
        assert!(TextCausalLM::request(&big, MAX_TOPK).is_err());
    }

    #[test]
    fn bad_answers_are_invalid() {
        let mut s = TextCausalLM::request(&[vec![5, 6]], 2).unwrap();
        let good = vec![vec![position(0, 2), position(1, 2)]];
        let mut bad = good.clone();
        bad[0][1].ids = vec![3, 3];
        assert!(s.set_outputs(&bad).is_err());
        bad[0][1] = TokenProbs { ids: vec![1, 2], probs: vec![0.9, 0.9] };
        assert!(s.set_outputs(&bad).is_err());
        bad[0][1] = TokenProbs { ids: vec![1, 2], probs: vec![f32::NAN, 0.1] };
        assert!(s.set_outputs(&bad).is_err());
        bad[0][1] = TokenProbs { ids: vec![1, VOCAB_SIZE], probs: vec![0.1, 0.1] };
        assert!(s.set_outputs(&bad).is_err());
        assert!(s.set_outputs(&good[..0]).is_err());
        assert!(s.set_outputs(&[good[0][..1].to_vec()]).is_err());
        s.set_outputs(&good).unwrap();

        // Tampered tensors: wrong shape, fractional id, NaN, float16.
        let wire = |v: &[f32], dims: &[usize]| {
            let mut t = s.clone();
            t.text_outputs = Some(Tensor::from_f32(v, dims).unwrap());
            t.validate_response()
        };
        let (_, v) = s.text_outputs.as_ref().unwrap().to_f32().unwrap();
        assert!(wire(&v, &[1, 2, 4]).is_ok());
        assert!(wire(&v, &[2, 1, 4]).is_err());
        assert!(wire(&v, &[8]).is_err());
        let mut w = v.clone();
        w[2] = 1.5;
        assert!(wire(&w, &[1, 2, 4]).is_err());
        w[2] = -1.0;
        assert!(wire(&w, &[1, 2, 4]).is_err());
        w[2] = f32::NAN;
        assert!(wire(&w, &[1, 2, 4]).is_err());
        let mut half = s.clone();
        half.text_outputs = Some(Tensor::from_f32_as_f16(&v, &[1, 2, 4]).unwrap());
        assert!(half.validate_response().is_err());
        let mut none = s.clone();
        none.text_outputs = None;
        assert!(none.validate_response().is_err());
    }

    #[test]
    fn full_log_probs_uses_the_floor() {
        let p = TokenProbs { ids: vec![2, 0], probs: vec![0.5, 0.3] };
        let lp = full_log_probs(&p, 6);
        assert_eq!(lp.len(), 6);
        assert!((lp[2] - 0.5f32.ln()).abs() < 1e-6);
        assert!((lp[0] - 0.3f32.ln()).abs() < 1e-6);
        let floor = (0.2f32 / 4.0).ln();
        for i in [1, 3, 4, 5] {
            assert!((lp[i] - floor).abs() < 1e-5, "{i}: {}", lp[i]);
        }
        let total: f32 = lp.iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-5);
        // A listed zero stays finite; ids beyond the vocabulary are ignored.
        let p = TokenProbs { ids: vec![0, 99], probs: vec![0.0, 0.5] };
        let lp = full_log_probs(&p, 4);
        assert!(lp.iter().all(|l| l.is_finite()));
    }
}
