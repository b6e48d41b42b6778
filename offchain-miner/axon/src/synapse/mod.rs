//! The [`Synapse`] trait (one request/response type per route), the four 2022 text synapses
//! and the grid synapse:
//!
//! * [`TextCausalLMNext`]: the next token as tokenizer-independent top-k phrases plus a floor.
//! * [`TextCausalLM`]: top-k probabilities and ids at every position.
//! * [`TextLastHiddenState`]: the last hidden state at every (or every masked) position,
//!   [`NETWORK_DIM`] wide.
//! * [`TextSeq2Seq`]: generated continuations.
//! * [`GridGenerate`]: one verifiable generation on a grid subnet (the grid sampler's seed and
//!   parameters in; tokens, per-token times and the stop reason out). Its ids are the grid
//!   model's own (the subnet's grid spec names the model and its tokenizer), not the standard
//!   tokenizer's, and it travels as plain JSON lists rather than `bt.Tensor`s.
//!
//! A synapse is one JSON object used for both the request and the response: the dendrite sends
//! it with the output fields empty, the axon returns it with them filled. Its
//! [`Synapse::REQUIRED_HASH_FIELDS`] feed the `computed_body_hash` through their Python `str()`
//! renderings ([`Synapse::hash_field_repr`]).
//!
//! Token ids on the wire of the text synapses are ids of the network's *standard tokenizer*. Since the network moved
//! off GPT-2 its vocabulary size is a run-time value (e.g. 4096, known to miners and
//! validators); [`VOCAB_SIZE`] is only the upper bound every id on the wire must respect.
//! Functions that need the real vocabulary size ([`floor_probability`],
//! [`full_log_probs`], [`crate::loss`]) take it as an argument.

mod causal_lm;
mod causal_lm_next;
mod grid_generate;
mod hidden_state;
mod seq2seq;

pub use causal_lm::{full_log_probs, TextCausalLM, TokenProbs, DEFAULT_CAUSAL_LM_TOPK};
pub use causal_lm_next::{decode_topk, encode_topk, TextCausalLMNext, TopkPhrases};
pub use grid_generate::{
    GridAnswer, GridGenerate, GridParams, MAX_GRID_LOGPROB, MAX_GRID_NEW_TOKENS, MAX_GRID_PROMPT,
    MAX_GRID_TEMPERATURE,
};
pub use hidden_state::{pad_hidden, TextLastHiddenState, NETWORK_DIM};
pub use seq2seq::{GenerationParams, TextSeq2Seq, GENERATION_PAD, MAX_GENERATE};

use crate::{
    tensor::{Tensor, MAX_ELEMENTS},
    wire::body_hash_of,
    AxonError, Result,
};
use serde::{de::DeserializeOwned, Serialize};

/// A request/response type served on `POST /{NAME}`.
pub trait Synapse: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The route and the Python class name.
    const NAME: &'static str;
    /// Fields hashed into `computed_body_hash`, in order.
    const REQUIRED_HASH_FIELDS: &'static [&'static str];

    /// The Python class's *required* fields (those without a default), each with the JSON of a
    /// default-constructed value of its type: `"0"` for `int`, `"{}"` for `dict` / `bt.Tensor`
    /// (whose `model_dump` is a dict), `"\"\""` for `str`, `"[]"` for `list`.
    ///
    /// A Python axon builds the synapse from the request *headers* before it reads the body, and
    /// answers 400 unless every required field arrives as `bt_header_input_obj_{field}` (base64
    /// of that JSON; the value is a placeholder, the real one is in the body). Our axon ignores
    /// these headers.
    const REQUIRED_INPUT_DEFAULTS: &'static [(&'static str, &'static str)] = &[];

    /// Python `str()` of `model_dump()[field]` for each of [`Self::REQUIRED_HASH_FIELDS`].
    fn hash_field_repr(&self, field: &str) -> Option<String>;

    /// Checks a request before the handler sees it (shapes, ranges, finiteness).
    fn validate_request(&self) -> Result<()>;

    /// Checks a filled response (on the axon before sending, on the dendrite after receiving).
    fn validate_response(&self) -> Result<()>;

    /// The `computed_body_hash` of this value.
    fn body_hash(&self) -> String {
        body_hash_of(
            Self::REQUIRED_HASH_FIELDS
                .iter()
                .map(|f| self.hash_field_repr(f).unwrap_or_else(|| "None".to_owned())),
        )
    }
}

/// Upper bound (exclusive) of every token id on the wire: the GPT-2 vocabulary size plus one,
/// the 2022 network constant. The standard tokenizer's real vocabulary is smaller and is passed
/// at run time where it matters.
pub const VOCAB_SIZE: u32 = 50_258;
/// Largest batch accepted.
pub const MAX_BATCH: usize = 64;
/// Longest input sequence accepted.
pub const MAX_SEQ_LEN: usize = 2048;
/// Largest `topk` accepted (the 2022 `TextCausalLMNext` default).
pub const MAX_TOPK: u32 = 4096;
/// Longest phrase (in standard tokens) accepted per top-k entry.
pub const MAX_PHRASE_LEN: usize = 64;
/// Tolerance on Σ top-k probabilities ≤ 1.
const SUM_EPS: f32 = 1e-3;

/// The floor probability of every token outside the top k:
/// `clamp(1 − Σ topk, 1e-40, 1) / max(vocab_size − k, 1)`.
pub fn floor_probability(topk_sum: f32, k: u32, vocab_size: u32) -> f32 {
    let rest = vocab_size.saturating_sub(k).max(1) as f32;
    (1.0 - topk_sum).clamp(1e-40, 1.0) / rest
}

/// Rejects a probability that is not finite or lies outside `[0, 1]`.
fn check_prob(p: f32) -> Result<()> {
    if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
        return Err(AxonError::Invalid(format!("probability {p} outside [0, 1]")));
    }
    Ok(())
}

/// Encodes equal-length token rows as an `int64` `[B, L]` tensor (ids bounded by
/// [`VOCAB_SIZE`], shape by [`MAX_BATCH`] × [`MAX_SEQ_LEN`]).
fn tokens_tensor(tokens: &[Vec<u32>]) -> Result<Tensor> {
    let len = tokens.first().map_or(0, Vec::len);
    if tokens.iter().any(|r| r.len() != len) {
        return Err(AxonError::Invalid("rows of different lengths".to_owned()));
    }
    let flat: Vec<i64> = tokens.iter().flatten().map(|&t| i64::from(t)).collect();
    let t = Tensor::from_i64(&flat, &[tokens.len(), len])?;
    token_rows(&t, "tokens")?;
    Ok(t)
}

/// Decodes and validates an `int64` `[B, L]` token tensor: `1 ≤ B ≤ MAX_BATCH`,
/// `1 ≤ L ≤ MAX_SEQ_LEN`, every id `< VOCAB_SIZE`.
fn token_rows(t: &Tensor, field: &str) -> Result<Vec<Vec<u32>>> {
    let (dims, ids) = t.to_i64()?;
    let [b, l] = dims[..] else {
        return Err(AxonError::Invalid(format!("{field} must be [B, L], got {dims:?}")));
    };
    if !(1..=MAX_BATCH).contains(&b) || !(1..=MAX_SEQ_LEN).contains(&l) {
        return Err(AxonError::Invalid(format!(
            "{field} shape [{b}, {l}] outside [1..={MAX_BATCH}, 1..={MAX_SEQ_LEN}]"
        )));
    }
    ids.chunks_exact(l)
        .map(|row| {
            row.iter()
                .map(|&id| match u32::try_from(id) {
                    Ok(id) if id < VOCAB_SIZE => Ok(id),
                    _ => Err(AxonError::Invalid(format!("{field}: token id {id} out of range"))),
                })
                .collect()
        })
        .collect()
}

/// The `[B, L]` of a token tensor, from its declared shape (no decoding).
fn batch_and_len(t: &Tensor, field: &str) -> Result<(usize, usize)> {
    match t.dims()?[..] {
        [b, l] => Ok((b, l)),
        ref other => Err(AxonError::Invalid(format!("{field} must be [B, L], got {other:?}"))),
    }
}

/// Refuses requests whose answer would exceed [`MAX_ELEMENTS`] values.
fn check_answer_size(dims: &[usize], what: &str) -> Result<()> {
    let n = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match n {
        Some(n) if n <= MAX_ELEMENTS => Ok(()),
        _ => Err(AxonError::Invalid(format!(
            "{what} would be {dims:?}, more than {MAX_ELEMENTS} values"
        ))),
    }
}

/// Python `str()` of an optional `bt.Tensor` dict.
fn opt_tensor_repr(t: Option<&Tensor>) -> String {
    t.map_or_else(|| "None".to_owned(), Tensor::python_repr)
}

/// The output tensor of a response, or an error naming the missing field.
fn required_output<'a>(t: Option<&'a Tensor>, field: &str) -> Result<&'a Tensor> {
    t.ok_or_else(|| AxonError::Invalid(format!("{field} missing")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_uses_the_given_vocabulary() {
        assert!((floor_probability(0.5, 4, 4096) - 0.5 / 4092.0).abs() < 1e-12);
        assert!((floor_probability(0.5, 4, VOCAB_SIZE) - 0.5 / 50_254.0).abs() < 1e-12);
        // More top-k entries than tokens, and an overfull sum, stay finite and positive.
        assert!((floor_probability(0.2, 10, 8) - 0.8).abs() < 1e-6);
        assert!(floor_probability(1.5, 2, 8) > 0.0);
    }

    #[test]
    fn token_tensors_are_bounded() {
        assert!(tokens_tensor(&[vec![1, 2], vec![3, 4]]).is_ok());
        assert!(tokens_tensor(&[vec![1, 2], vec![3]]).is_err());
        assert!(tokens_tensor(&[vec![VOCAB_SIZE]]).is_err());
        assert!(tokens_tensor(&[]).is_err());
        assert!(tokens_tensor(&[vec![]]).is_err());
        let t = Tensor::from_i64(&[1, -1], &[1, 2]).unwrap();
        assert!(token_rows(&t, "x").is_err());
        let t = Tensor::from_f32(&[1.0, 2.0], &[1, 2]).unwrap();
        assert!(token_rows(&t, "x").is_err());
    }
}
