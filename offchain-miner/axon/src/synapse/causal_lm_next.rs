//! [`TextCausalLMNext`]: the next token as top-k tokenizer-independent phrases plus a floor,
//! with the 2022 compact encoding ([`encode_topk`] / [`decode_topk`]).

use super::{
    batch_and_len, check_prob, opt_tensor_repr, required_output, token_rows, tokens_tensor,
    Synapse, MAX_PHRASE_LEN, MAX_TOPK, SUM_EPS, VOCAB_SIZE,
};
use crate::{tensor::Tensor, AxonError, Result};
use serde::{Deserialize, Serialize};

/// Tolerance around `[0, 1]` that marks a probability in the compact encoding.
const MARKER_EPS: f32 = 1e-6;

/// Next-token prediction as tokenizer-independent phrases (bittensor v3 `TextCausalLMNext`).
///
/// Request: `text_inputs`, an `int64` tensor `[B, L]` of standard-tokenizer ids, and `topk`.
/// Response: `text_outputs`, the 1-D `float32` compact encoding of [`encode_topk`]. Each phrase
/// is the standard-tokenizer re-tokenisation of one of the server's top-k tokens; validators
/// score it with [`crate::loss::phrase_cross_entropy`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextCausalLMNext {
    /// Token ids, `int64` `[B, L]`, `1 ≤ B ≤ MAX_BATCH`, `1 ≤ L ≤ MAX_SEQ_LEN`, ids `< VOCAB_SIZE`.
    pub text_inputs: Tensor,
    /// How many phrases to return per batch row, `1 ≤ topk ≤ MAX_TOPK`.
    pub topk: u32,
    /// The compact top-k encoding, `float32` `[N]`, filled by the axon.
    #[serde(default)]
    pub text_outputs: Option<Tensor>,
}

/// One batch row of a [`TextCausalLMNext`] answer.
#[derive(Clone, Debug, PartialEq)]
pub struct TopkPhrases {
    /// `(probability, standard-tokenizer phrase)` for each of the top-k tokens.
    pub phrases: Vec<(f32, Vec<u32>)>,
    /// Probability of every token outside the top k.
    pub floor: f32,
}

/// Encodes the answer compactly: for each row, each phrase as `[p, id_0+2, id_1+2, …]`, then
/// `[floor]`, all flattened into one `f32` vector of length ≥ `B·(2k+1)`.
pub fn encode_topk(rows: &[TopkPhrases], topk: u32) -> Result<Vec<f32>> {
    let mut out = Vec::new();
    for row in rows {
        if row.phrases.len() != topk as usize {
            return Err(AxonError::Invalid(format!(
                "row has {} phrases, topk is {topk}",
                row.phrases.len()
            )));
        }
        let mut sum = 0.0f32;
        for (p, phrase) in &row.phrases {
            check_prob(*p)?;
            sum += p;
            if phrase.is_empty() || phrase.len() > MAX_PHRASE_LEN {
                return Err(AxonError::Invalid(format!("phrase length {}", phrase.len())));
            }
            out.push(*p);
            for &id in phrase {
                if id >= VOCAB_SIZE {
                    return Err(AxonError::Invalid(format!("token id {id} ≥ vocab size")));
                }
                out.push(id.saturating_add(2) as f32);
            }
        }
        if sum > 1.0 + SUM_EPS {
            return Err(AxonError::Invalid(format!("top-k probabilities sum to {sum} > 1")));
        }
        check_prob(row.floor)?;
        out.push(row.floor);
    }
    Ok(out)
}

/// Decodes the compact encoding for `batch` rows of `topk` phrases. Values in
/// `[−1e-6, 1+1e-6]` start a phrase; there must be exactly `batch·(topk+1)` of them, each
/// row's last (the floor) with no tokens, every token an integer `≥ 2`. NaN is rejected.
pub fn decode_topk(values: &[f32], batch: usize, topk: u32) -> Result<Vec<TopkPhrases>> {
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(AxonError::Invalid(format!("non-finite value at index {i}")));
    }
    let per_row = (topk as usize).saturating_add(1);
    let expected = batch.saturating_mul(per_row);
    let is_marker = |v: f32| (-MARKER_EPS..=1.0 + MARKER_EPS).contains(&v);
    let markers = values.iter().filter(|&&v| is_marker(v)).count();
    if markers != expected {
        return Err(AxonError::Invalid(format!(
            "{markers} probability markers, expected {expected} (batch {batch}, topk {topk})"
        )));
    }
    let mut segments: Vec<(f32, Vec<u32>)> = Vec::with_capacity(expected);
    for &v in values {
        if is_marker(v) {
            segments.push((v.clamp(0.0, 1.0), Vec::new()));
            continue;
        }
        let Some(last) = segments.last_mut() else {
            return Err(AxonError::Invalid("encoding must start with a probability".to_owned()));
        };
        if v.fract() != 0.0 || v < 2.0 || v >= (VOCAB_SIZE + 2) as f32 {
            return Err(AxonError::Invalid(format!("bad token value {v}")));
        }
        if last.1.len() >= MAX_PHRASE_LEN {
            return Err(AxonError::Invalid("phrase too long".to_owned()));
        }
        last.1.push((v as u32).saturating_sub(2));
    }
    let mut rows = Vec::with_capacity(batch);
    let mut it = segments.into_iter();
    for _ in 0..batch {
        let mut phrases: Vec<(f32, Vec<u32>)> = it.by_ref().take(per_row).collect();
        let Some((floor, floor_tokens)) = phrases.pop() else {
            return Err(AxonError::Invalid("missing floor".to_owned()));
        };
        if !floor_tokens.is_empty() {
            return Err(AxonError::Invalid("floor entry must have no tokens".to_owned()));
        }
        if phrases.iter().any(|(_, p)| p.is_empty()) {
            return Err(AxonError::Invalid("empty phrase".to_owned()));
        }
        let sum: f32 = phrases.iter().map(|(p, _)| p).sum();
        if sum > 1.0 + SUM_EPS {
            return Err(AxonError::Invalid(format!("top-k probabilities sum to {sum} > 1")));
        }
        rows.push(TopkPhrases { phrases, floor });
    }
    Ok(rows)
}

impl TextCausalLMNext {
    /// A request for `topk` phrases after each row of `tokens` (all rows the same length).
    pub fn request(tokens: &[Vec<u32>], topk: u32) -> Result<Self> {
        let s = Self { text_inputs: tokens_tensor(tokens)?, topk, text_outputs: None };
        s.validate_request()?;
        Ok(s)
    }

    /// The validated input tokens, one row per batch entry.
    pub fn tokens(&self) -> Result<Vec<Vec<u32>>> {
        token_rows(&self.text_inputs, "text_inputs")
    }

    /// Fills the response from per-row top-k phrases.
    pub fn set_outputs(&mut self, rows: &[TopkPhrases]) -> Result<()> {
        let (batch, _) = batch_and_len(&self.text_inputs, "text_inputs")?;
        if rows.len() != batch {
            return Err(AxonError::Invalid(format!("{} rows for a batch of {batch}", rows.len())));
        }
        let values = encode_topk(rows, self.topk)?;
        self.text_outputs = Some(Tensor::from_f32(&values, &[values.len()])?);
        Ok(())
    }

    /// The decoded, validated response rows.
    pub fn outputs(&self) -> Result<Vec<TopkPhrases>> {
        let t = required_output(self.text_outputs.as_ref(), "text_outputs")?;
        let (dims, values) = t.to_finite_f32()?;
        if dims.len() != 1 {
            return Err(AxonError::Invalid(format!("text_outputs must be 1-D, got {dims:?}")));
        }
        let (batch, _) = batch_and_len(&self.text_inputs, "text_inputs")?;
        decode_topk(&values, batch, self.topk)
    }

    fn check_inputs(&self) -> Result<()> {
        if !(1..=MAX_TOPK).contains(&self.topk) {
            return Err(AxonError::Invalid(format!("topk {} outside 1..={MAX_TOPK}", self.topk)));
        }
        self.tokens().map(drop)
    }
}

impl Synapse for TextCausalLMNext {
    const NAME: &'static str = "TextCausalLMNext";
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &["text_inputs", "topk", "text_outputs"];
    const REQUIRED_INPUT_DEFAULTS: &'static [(&'static str, &'static str)] =
        &[("text_inputs", "{}"), ("topk", "0")];

    fn hash_field_repr(&self, field: &str) -> Option<String> {
        match field {
            "text_inputs" => Some(self.text_inputs.python_repr()),
            "topk" => Some(self.topk.to_string()),
            "text_outputs" => Some(opt_tensor_repr(self.text_outputs.as_ref())),
            _ => None,
        }
    }

    fn validate_request(&self) -> Result<()> {
        self.check_inputs()?;
        // Requests normally carry no outputs; if one does, it must at least be finite and 1-D.
        if let Some(t) = &self.text_outputs {
            let (dims, _) = t.to_finite_f32()?;
            if dims.len() != 1 {
                return Err(AxonError::Invalid(format!("text_outputs must be 1-D, got {dims:?}")));
            }
        }
        Ok(())
    }

    fn validate_response(&self) -> Result<()> {
        self.check_inputs()?;
        self.outputs().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<TopkPhrases> {
        vec![
            TopkPhrases { phrases: vec![(0.5, vec![10]), (0.25, vec![0, 50257])], floor: 1e-6 },
            TopkPhrases { phrases: vec![(1.0, vec![7, 8, 9]), (0.0, vec![1])], floor: 1e-40 },
        ]
    }

    #[test]
    fn compact_round_trip() {
        let enc = encode_topk(&rows(), 2).unwrap();
        assert_eq!(enc[..6], [0.5, 12.0, 0.25, 2.0, 50259.0, 1e-6]);
        assert_eq!(decode_topk(&enc, 2, 2).unwrap(), rows());
        assert!(decode_topk(&enc, 2, 3).is_err());
        assert!(decode_topk(&enc, 3, 2).is_err());
    }

    #[test]
    fn compact_rejects_bad_input() {
        let mut enc = encode_topk(&rows(), 2).unwrap();
        enc[1] = f32::NAN;
        assert!(decode_topk(&enc, 2, 2).is_err());
        assert!(decode_topk(&[12.0, 0.5, 0.1, 0.1], 1, 2).is_err()); // Token before marker.
        assert!(decode_topk(&[0.5, 2.5, 0.1, 3.0, 0.1], 1, 2).is_err()); // Fractional id.
        assert!(decode_topk(&[0.9, 2.0, 0.9, 3.0, 0.1], 1, 2).is_err()); // Sum > 1.
        assert!(decode_topk(&[0.5, 2.0, 0.1, 3.0, 0.1, 4.0], 1, 2).is_err()); // Floor with tokens.
        let bad = vec![TopkPhrases { phrases: vec![(f32::NAN, vec![1])], floor: 0.0 }];
        assert!(encode_topk(&bad, 1).is_err());
    }

    #[test]
    fn request_validation_and_hash() {
        let mut s = TextCausalLMNext::request(&[vec![1, 2, 3]], 2).unwrap();
        let h = s.body_hash();
        assert_eq!(h.len(), 64);
        s.set_outputs(&rows()[..1]).unwrap();
        assert_ne!(s.body_hash(), h);
        s.validate_response().unwrap();
        s.topk = 0;
        assert!(s.validate_request().is_err());
        assert!(TextCausalLMNext::request(&[vec![VOCAB_SIZE]], 2).is_err());
        assert!(TextCausalLMNext::request(&[vec![1], vec![1, 2]], 2).is_err());
        let mut wrong = TextCausalLMNext::request(&[vec![1, 2]], 1).unwrap();
        wrong.text_inputs = Tensor::from_i64(&[1, 2], &[2]).unwrap();
        assert!(wrong.validate_request().is_err());
    }
}
