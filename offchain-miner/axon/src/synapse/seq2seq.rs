//! [`TextSeq2Seq`]: text generation from a prompt (2022 `TextSeq2Seq`), with the 2022
//! generation parameters and their bounds.

use super::{
    batch_and_len, opt_tensor_repr, required_output, token_rows, tokens_tensor, Synapse, MAX_TOPK,
    VOCAB_SIZE,
};
use crate::{tensor::Tensor, wire::python_float, AxonError, Result};
use serde::{Deserialize, Serialize};

/// Most tokens one request may ask to generate (the 2022 default of `num_to_generate`).
pub const MAX_GENERATE: u32 = 256;

/// Pads the tail of a shorter generation in `generations` (the 2022 `ignore_index`).
pub const GENERATION_PAD: i64 = -100;

/// Longest no-repeat n-gram accepted.
const MAX_NO_REPEAT_NGRAM: u32 = 64;

/// Sampling parameters of a [`TextSeq2Seq`] request; [`Default`] gives the 2022 defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerationParams {
    /// Sample among the `topk` most likely tokens, `1..=MAX_TOPK` (default 50).
    pub topk: u32,
    /// Tokens to generate at most, `1..=MAX_GENERATE` (default 256).
    pub num_to_generate: u32,
    /// Beam count; only 1 (sampling, no beam search) is supported (the 2022 default was 5).
    pub num_beams: u32,
    /// No n-gram of this size may repeat; 0 turns the rule off (default 2).
    pub no_repeat_ngram_size: u32,
    /// Nucleus sampling mass, in `(0, 1]` (default 0.95).
    pub top_p: f64,
    /// Softmax temperature, finite and `> 0` (default 1.0).
    pub temperature: f64,
    /// Penalty on already generated tokens, finite and `≥ 1` (default 1.0: none).
    pub repetition_penalty: f64,
    /// Sampling seed (default 0), so a validator can ask for reproducible output.
    pub seed: u64,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self {
            topk: 50,
            num_to_generate: MAX_GENERATE,
            num_beams: 1,
            no_repeat_ngram_size: 2,
            top_p: 0.95,
            temperature: 1.0,
            repetition_penalty: 1.0,
            seed: 0,
        }
    }
}

impl GenerationParams {
    /// Checks every parameter against its bounds.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(AxonError::Invalid(m));
        if !(1..=MAX_TOPK).contains(&self.topk) {
            return bad(format!("topk {} outside 1..={MAX_TOPK}", self.topk));
        }
        if !(1..=MAX_GENERATE).contains(&self.num_to_generate) {
            return bad(format!(
                "num_to_generate {} outside 1..={MAX_GENERATE}",
                self.num_to_generate
            ));
        }
        if self.num_beams != 1 {
            return bad(format!(
                "num_beams {} is not supported: only 1 (sampling without beam search)",
                self.num_beams
            ));
        }
        if self.no_repeat_ngram_size > MAX_NO_REPEAT_NGRAM {
            return bad(format!(
                "no_repeat_ngram_size {} above {MAX_NO_REPEAT_NGRAM}",
                self.no_repeat_ngram_size
            ));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad(format!("top_p {} outside (0, 1]", self.top_p));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return bad(format!("temperature {} must be finite and > 0", self.temperature));
        }
        if !(self.repetition_penalty.is_finite() && self.repetition_penalty >= 1.0) {
            return bad(format!(
                "repetition_penalty {} must be finite and ≥ 1",
                self.repetition_penalty
            ));
        }
        Ok(())
    }
}

/// Text generation: a continuation of up to `num_to_generate` tokens for each prompt row.
///
/// Request: `text_prompt`, `int64` `[B, L]` of standard-tokenizer ids, and the
/// [`GenerationParams`] as flat fields (each with its 2022 default when absent).
/// Response: `generations`, `int64` `[B, N]` with `1 ≤ N ≤ num_to_generate`, rows shorter than
/// `N` padded at the end with [`GENERATION_PAD`]; optionally `texts`, the decoded strings, one
/// per row.
///
/// `texts` is a convenience and is **not** covered by the body hash (Python's `str()` of
/// arbitrary Unicode strings cannot be reproduced exactly without its Unicode tables), so it is
/// not authenticated by our response signature either: when it matters, detokenize
/// `generations`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextSeq2Seq {
    /// Prompt ids, `int64` `[B, L]`, `1 ≤ B ≤ MAX_BATCH`, `1 ≤ L ≤ MAX_SEQ_LEN`, ids `< VOCAB_SIZE`.
    pub text_prompt: Tensor,
    /// See [`GenerationParams::topk`].
    #[serde(default = "defaults::topk")]
    pub topk: u32,
    /// See [`GenerationParams::num_to_generate`].
    #[serde(default = "defaults::num_to_generate")]
    pub num_to_generate: u32,
    /// See [`GenerationParams::num_beams`].
    #[serde(default = "defaults::num_beams")]
    pub num_beams: u32,
    /// See [`GenerationParams::no_repeat_ngram_size`].
    #[serde(default = "defaults::no_repeat_ngram_size")]
    pub no_repeat_ngram_size: u32,
    /// See [`GenerationParams::top_p`].
    #[serde(default = "defaults::top_p")]
    pub top_p: f64,
    /// See [`GenerationParams::temperature`].
    #[serde(default = "defaults::temperature")]
    pub temperature: f64,
    /// See [`GenerationParams::repetition_penalty`].
    #[serde(default = "defaults::repetition_penalty")]
    pub repetition_penalty: f64,
    /// See [`GenerationParams::seed`].
    #[serde(default)]
    pub seed: u64,
    /// The generated ids, `int64` `[B, N]`, filled by the axon.
    #[serde(default)]
    pub generations: Option<Tensor>,
    /// The generated texts, one per row, filled by the axon if it likes (not hashed).
    #[serde(default)]
    pub texts: Option<Vec<String>>,
}

/// Serde defaults of [`TextSeq2Seq`], from [`GenerationParams::default`].
mod defaults {
    use super::GenerationParams;
    pub(super) fn topk() -> u32 {
        GenerationParams::default().topk
    }
    pub(super) fn num_to_generate() -> u32 {
        GenerationParams::default().num_to_generate
    }
    pub(super) fn num_beams() -> u32 {
        GenerationParams::default().num_beams
    }
    pub(super) fn no_repeat_ngram_size() -> u32 {
        GenerationParams::default().no_repeat_ngram_size
    }
    pub(super) fn top_p() -> f64 {
        GenerationParams::default().top_p
    }
    pub(super) fn temperature() -> f64 {
        GenerationParams::default().temperature
    }
    pub(super) fn repetition_penalty() -> f64 {
        GenerationParams::default().repetition_penalty
    }
}

impl TextSeq2Seq {
    /// A request to continue each row of `prompt` (all rows the same length) with `params`.
    pub fn request(prompt: &[Vec<u32>], params: &GenerationParams) -> Result<Self> {
        let s = Self {
            text_prompt: tokens_tensor(prompt)?,
            topk: params.topk,
            num_to_generate: params.num_to_generate,
            num_beams: params.num_beams,
            no_repeat_ngram_size: params.no_repeat_ngram_size,
            top_p: params.top_p,
            temperature: params.temperature,
            repetition_penalty: params.repetition_penalty,
            seed: params.seed,
            generations: None,
            texts: None,
        };
        s.validate_request()?;
        Ok(s)
    }

    /// The validated prompt, one row per batch entry.
    pub fn tokens(&self) -> Result<Vec<Vec<u32>>> {
        token_rows(&self.text_prompt, "text_prompt")
    }

    /// The generation parameters of this request (unvalidated; see
    /// [`GenerationParams::validate`]).
    pub fn params(&self) -> GenerationParams {
        GenerationParams {
            topk: self.topk,
            num_to_generate: self.num_to_generate,
            num_beams: self.num_beams,
            no_repeat_ngram_size: self.no_repeat_ngram_size,
            top_p: self.top_p,
            temperature: self.temperature,
            repetition_penalty: self.repetition_penalty,
            seed: self.seed,
        }
    }

    /// Fills the response: one generated id sequence per prompt row (each at most
    /// `num_to_generate` long, at least one non-empty), and optionally their texts.
    pub fn set_outputs(
        &mut self,
        generations: &[Vec<u32>],
        texts: Option<Vec<String>>,
    ) -> Result<()> {
        let (b, _) = batch_and_len(&self.text_prompt, "text_prompt")?;
        if generations.len() != b {
            return Err(AxonError::Invalid(format!(
                "{} generations for a batch of {b}",
                generations.len()
            )));
        }
        let n = generations.iter().map(Vec::len).max().unwrap_or(0);
        let mut flat = Vec::with_capacity(b.saturating_mul(n));
        for row in generations {
            flat.extend(row.iter().map(|&id| i64::from(id)));
            flat.resize(flat.len().saturating_add(n.saturating_sub(row.len())), GENERATION_PAD);
        }
        let previous = (self.generations.take(), self.texts.take());
        self.generations = Some(Tensor::from_i64(&flat, &[b, n])?);
        self.texts = texts;
        if let Err(e) = self.check_outputs() {
            (self.generations, self.texts) = previous;
            return Err(e);
        }
        Ok(())
    }

    /// The decoded, validated generations, padding removed.
    pub fn outputs(&self) -> Result<Vec<Vec<u32>>> {
        let (b, _) = batch_and_len(&self.text_prompt, "text_prompt")?;
        let t = required_output(self.generations.as_ref(), "generations")?;
        let (dims, ids) = t.to_i64()?;
        let [rows, n] = dims[..] else {
            return Err(AxonError::Invalid(format!("generations must be [B, N], got {dims:?}")));
        };
        if rows != b {
            return Err(AxonError::Invalid(format!("{rows} generations for a batch of {b}")));
        }
        if !(1..=self.num_to_generate as usize).contains(&n) {
            return Err(AxonError::Invalid(format!(
                "generation length {n} outside 1..={}",
                self.num_to_generate
            )));
        }
        ids.chunks_exact(n)
            .map(|row| {
                let len = row.iter().position(|&v| v == GENERATION_PAD).unwrap_or(row.len());
                let (body, pad) = row.split_at(len);
                if pad.iter().any(|&v| v != GENERATION_PAD) {
                    return Err(AxonError::Invalid("token after padding".to_owned()));
                }
                body.iter()
                    .map(|&id| match u32::try_from(id) {
                        Ok(id) if id < VOCAB_SIZE => Ok(id),
                        _ => Err(AxonError::Invalid(format!("generated id {id} out of range"))),
                    })
                    .collect()
            })
            .collect()
    }

    fn check_outputs(&self) -> Result<()> {
        self.outputs()?;
        if let Some(texts) = &self.texts {
            let (b, _) = batch_and_len(&self.text_prompt, "text_prompt")?;
            if texts.len() != b {
                return Err(AxonError::Invalid(format!(
                    "{} texts for a batch of {b}",
                    texts.len()
                )));
            }
        }
        Ok(())
    }
}

impl Synapse for TextSeq2Seq {
    const NAME: &'static str = "TextSeq2Seq";
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &[
        "text_prompt",
        "topk",
        "num_to_generate",
        "num_beams",
        "no_repeat_ngram_size",
        "top_p",
        "temperature",
        "repetition_penalty",
        "seed",
        "generations",
    ];
    const REQUIRED_INPUT_DEFAULTS: &'static [(&'static str, &'static str)] =
        &[("text_prompt", "{}")];

    fn hash_field_repr(&self, field: &str) -> Option<String> {
        Some(match field {
            "text_prompt" => self.text_prompt.python_repr(),
            "topk" => self.topk.to_string(),
            "num_to_generate" => self.num_to_generate.to_string(),
            "num_beams" => self.num_beams.to_string(),
            "no_repeat_ngram_size" => self.no_repeat_ngram_size.to_string(),
            "top_p" => python_float(self.top_p),
            "temperature" => python_float(self.temperature),
            "repetition_penalty" => python_float(self.repetition_penalty),
            "seed" => self.seed.to_string(),
            "generations" => opt_tensor_repr(self.generations.as_ref()),
            _ => return None,
        })
    }

    fn validate_request(&self) -> Result<()> {
        self.params().validate()?;
        self.tokens()?;
        if let Some(t) = &self.generations {
            t.to_i64()?;
        }
        Ok(())
    }

    fn validate_response(&self) -> Result<()> {
        self.params().validate()?;
        self.tokens()?;
        self.check_outputs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        let p = GenerationParams::default();
        assert_eq!(
            (p.topk, p.num_to_generate, p.num_beams, p.no_repeat_ngram_size),
            (50, 256, 1, 2)
        );
        assert_eq!((p.top_p, p.temperature, p.repetition_penalty, p.seed), (0.95, 1.0, 1.0, 0));
        p.validate().unwrap();
        let bad = [
            GenerationParams { topk: 0, ..p.clone() },
            GenerationParams { num_to_generate: 0, ..p.clone() },
            GenerationParams { num_to_generate: 257, ..p.clone() },
            GenerationParams { num_beams: 5, ..p.clone() },
            GenerationParams { num_beams: 0, ..p.clone() },
            GenerationParams { no_repeat_ngram_size: 65, ..p.clone() },
            GenerationParams { top_p: 0.0, ..p.clone() },
            GenerationParams { top_p: 1.01, ..p.clone() },
            GenerationParams { top_p: f64::NAN, ..p.clone() },
            GenerationParams { temperature: 0.0, ..p.clone() },
            GenerationParams { temperature: f64::INFINITY, ..p.clone() },
            GenerationParams { repetition_penalty: 0.99, ..p.clone() },
            GenerationParams { repetition_penalty: f64::NAN, ..p.clone() },
        ];
        for b in bad {
            assert!(TextSeq2Seq::request(&[vec![1]], &b).is_err(), "{b:?}");
        }
        let err = TextSeq2Seq::request(&[vec![1]], &GenerationParams { num_beams: 5, ..p })
            .unwrap_err()
            .to_string();
        assert!(err.contains("num_beams"), "{err}");
    }

    #[test]
    fn absent_fields_take_the_2022_defaults() {
        let s = TextSeq2Seq::request(&[vec![1, 2]], &GenerationParams::default()).unwrap();
        let json = serde_json::json!({ "text_prompt": s.text_prompt });
        let parsed: TextSeq2Seq = serde_json::from_value(json).unwrap();
        assert_eq!(parsed, s);
        assert_eq!(parsed.hash_field_repr("top_p").unwrap(), "0.95");
        assert_eq!(parsed.hash_field_repr("temperature").unwrap(), "1.0");
    }

    #[test]
    fn generations_round_trip_with_padding() {
        let params = GenerationParams { num_to_generate: 4, seed: 7, ..Default::default() };
        let mut s = TextSeq2Seq::request(&[vec![1, 2], vec![3, 4]], &params).unwrap();
        let h = s.body_hash();
        s.set_outputs(&[vec![10, 11, 12], vec![20]], Some(vec!["a".into(), "b".into()])).unwrap();
        assert_ne!(s.body_hash(), h);
        s.validate_response().unwrap();
        assert_eq!(s.outputs().unwrap(), vec![vec![10, 11, 12], vec![20]]);
        let (dims, ids) = s.generations.as_ref().unwrap().to_i64().unwrap();
        assert_eq!(dims, vec![2, 3]);
        assert_eq!(ids, vec![10, 11, 12, 20, GENERATION_PAD, GENERATION_PAD]);
        // Texts are not hashed.
        let mut other = s.clone();
        other.texts = Some(vec!["x".into(), "y".into()]);
        assert_eq!(other.body_hash(), s.body_hash());
        assert_eq!(s.params(), params);
    }

    #[test]
    fn bad_generations_are_invalid() {
        let params = GenerationParams { num_to_generate: 3, ..Default::default() };
        let mut s = TextSeq2Seq::request(&[vec![1]], &params).unwrap();
        assert!(s.set_outputs(&[vec![1, 2, 3, 4]], None).is_err());
        assert!(s.set_outputs(&[vec![]], None).is_err());
        assert!(s.set_outputs(&[vec![1], vec![2]], None).is_err());
        assert!(s.set_outputs(&[vec![VOCAB_SIZE]], None).is_err());
        assert!(s.set_outputs(&[vec![1]], Some(vec![])).is_err());
        assert!(s.generations.is_none(), "a failed set_outputs leaves the synapse unchanged");
        s.set_outputs(&[vec![1, 2]], None).unwrap();
        let tamper = |ids: &[i64], dims: &[usize]| {
            let mut t = s.clone();
            t.generations = Some(Tensor::from_i64(ids, dims).unwrap());
            t.validate_response()
        };
        assert!(tamper(&[1, 2], &[1, 2]).is_ok());
        assert!(tamper(&[1, GENERATION_PAD, 3], &[1, 3]).is_err());
        assert!(tamper(&[-5, 2], &[1, 2]).is_err());
        assert!(tamper(&[1, 2], &[2, 1]).is_err());
        assert!(tamper(&[1, 2], &[2]).is_err());
        let mut f = s.clone();
        f.generations = Some(Tensor::from_f32(&[1.0, 2.0], &[1, 2]).unwrap());
        assert!(f.validate_response().is_err());
    }
}
