//! Between the network's standard tokenizer and the model's own.
//!
//! Requests carry standard token ids and `TextCausalLMNext` answers are standard-token
//! *phrases*. A miner whose model uses the standard tokenizer passes ids through and answers
//! one-token phrases. A miner with another tokenizer (a Hugging Face GPT-2 checkpoint, say)
//! decodes the standard ids to text and re-encodes them with its own tokenizer, and maps each
//! of its top-k tokens to the standard tokenization of that token's text (the 2022 design:
//! phrases make answers tokenizer-independent). Synapses that are per-position
//! (`TextCausalLM`, `TextLastHiddenState`) need the positions to line up, so they are served
//! only when the tokenizers are the same.

use crate::{MinerError, Result};
use subtensor_axon::synapse::MAX_PHRASE_LEN;
use subtensor_model::TextTokenizer;

/// The standard tokenizer and, when it differs, the model's.
pub struct Bridge {
    standard: TextTokenizer,
    model: Option<TextTokenizer>,
    /// The standard phrase of every model token, computed once (when the tokenizers differ).
    phrases: Vec<Vec<u32>>,
}

impl Bridge {
    /// A bridge for a model whose tokenizer is `model`; the same tokenizer (by fingerprint)
    /// makes the bridge a pass-through. Otherwise the standard phrase of every model token is
    /// computed here, once, instead of per request.
    pub fn new(standard: TextTokenizer, model: TextTokenizer) -> Self {
        if model.fingerprint() == standard.fingerprint() {
            return Self { standard, model: None, phrases: Vec::new() };
        }
        let vocab = u32::try_from(model.vocab_size()).unwrap_or(u32::MAX);
        let phrases = (0..vocab)
            .map(|id| {
                phrase_of(&standard, &model, id).unwrap_or_else(|_| vec![fallback(&standard)])
            })
            .collect();
        Self { standard, model: Some(model), phrases }
    }

    /// Whether ids pass through unchanged.
    pub fn is_identity(&self) -> bool {
        self.model.is_none()
    }

    /// The standard vocabulary size.
    pub fn standard_vocab(&self) -> usize {
        self.standard.vocab_size()
    }

    /// The standard tokenizer.
    pub fn standard(&self) -> &TextTokenizer {
        &self.standard
    }

    /// Standard ids → the model's ids.
    pub fn to_model(&self, ids: &[u32]) -> Result<Vec<u32>> {
        match &self.model {
            None => Ok(ids.to_vec()),
            Some(model) => {
                let text = self.standard.decode(ids)?;
                let out = model.encode(&text)?;
                if out.is_empty() {
                    return Err(MinerError::Request("the input decodes to no model tokens".into()));
                }
                Ok(out)
            }
        }
    }

    /// The model's generated ids → standard ids and text.
    pub fn generated(&self, ids: &[u32]) -> Result<(Vec<u32>, String)> {
        match &self.model {
            None => Ok((ids.to_vec(), self.standard.decode(ids)?)),
            Some(model) => {
                let text = model.decode(ids)?;
                Ok((self.standard.encode(&text)?, text))
            }
        }
    }

    /// The standard phrase of one model token: itself, or the standard tokenization of its text
    /// (cut to [`MAX_PHRASE_LEN`]; a token with no text maps to the standard end-of-text token,
    /// or id 0).
    pub fn phrase(&self, id: u32) -> Result<Vec<u32>> {
        if self.model.is_none() {
            return Ok(vec![id]);
        }
        usize::try_from(id)
            .ok()
            .and_then(|i| self.phrases.get(i))
            .cloned()
            .ok_or_else(|| MinerError::Engine(format!("model token {id} outside its vocabulary")))
    }

    /// Fails for per-position synapses when the tokenizers differ.
    pub fn require_identity(&self, synapse: &str) -> Result<()> {
        if self.is_identity() {
            Ok(())
        } else {
            Err(MinerError::Request(format!(
                "{synapse} needs a model on the network's standard tokenizer; this miner's differs"
            )))
        }
    }
}

/// The standard end-of-text id, or 0.
fn fallback(standard: &TextTokenizer) -> u32 {
    standard.eot_id().unwrap_or(0)
}

/// The standard tokenization of model token `id`'s text, cut to [`MAX_PHRASE_LEN`].
fn phrase_of(standard: &TextTokenizer, model: &TextTokenizer, id: u32) -> Result<Vec<u32>> {
    let text = model.decode(&[id])?;
    let mut phrase = standard.encode(&text)?;
    phrase.truncate(MAX_PHRASE_LEN);
    if phrase.is_empty() {
        phrase.push(fallback(standard));
    }
    Ok(phrase)
}
