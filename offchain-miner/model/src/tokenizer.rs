//! Byte-level BPE tokenizers (GPT-2 style) in the Hugging Face `tokenizer.json` format.

use crate::{fsutil, ModelError, Result};
use serde_json::Value;
use sha3::{Digest, Sha3_256};
use std::path::Path;
use tokenizers::decoders::DecoderWrapper;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::{ModelWrapper, TrainerWrapper};
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{AddedToken, Tokenizer, TokenizerBuilder};

/// The end-of-text token: separates documents, and is the only special token we add.
pub const EOT_TOKEN: &str = "<|endoftext|>";

/// A tokenizer (any `tokenizer.json` the `tokenizers` library reads; ours are byte-level BPE).
#[derive(Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer")
            .field("vocab_size", &self.vocab_size())
            .finish_non_exhaustive()
    }
}

fn tok_err(context: &str, e: impl std::fmt::Display) -> ModelError {
    ModelError::Tokenizer(format!("{context}: {e}"))
}

impl TextTokenizer {
    /// Loads a `tokenizer.json`.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
        Self::from_bytes(&bytes).map_err(|e| match e {
            ModelError::Tokenizer(msg) => {
                ModelError::Tokenizer(format!("{}: {msg}", path.display()))
            }
            other => other,
        })
    }

    /// Parses the JSON of a `tokenizer.json`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let inner =
            Tokenizer::from_bytes(bytes).map_err(|e| tok_err("not a valid tokenizer.json", e))?;
        Ok(Self { inner })
    }

    /// The `tokenizer.json` text.
    pub fn to_json(&self) -> Result<String> {
        self.inner.to_string(false).map_err(|e| tok_err("cannot serialise", e))
    }

    /// Saves as `tokenizer.json` (written to a temporary file, then renamed).
    pub fn save(&self, path: &Path) -> Result<()> {
        fsutil::write_file(path, self.to_json()?.as_bytes())
    }

    /// Trains a byte-level BPE tokenizer like GPT-2's (no normalisation, GPT-2's pre-tokenizer
    /// regex, all 256 bytes in the base alphabet, so any text encodes) on `texts`, with
    /// `<|endoftext|>` as its one special token (id 0), up to `vocab_size` tokens in all
    /// (fewer if the texts have too few distinct pairs). Deterministic for the same texts.
    pub fn train_bpe(texts: &[String], vocab_size: usize) -> Result<Self> {
        let min_vocab = ByteLevel::alphabet().len().saturating_add(1);
        if vocab_size < min_vocab {
            return Err(ModelError::Tokenizer(format!(
                "vocab_size {vocab_size} is below {min_vocab} (the 256 bytes and {EOT_TOKEN})"
            )));
        }
        if texts.iter().all(|t| t.trim().is_empty()) {
            return Err(ModelError::Tokenizer("no text to train on".into()));
        }
        let trainer = BpeTrainerBuilder::new()
            .vocab_size(vocab_size)
            .min_frequency(2)
            .show_progress(false)
            .special_tokens(vec![AddedToken::from(EOT_TOKEN, true)])
            .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
            .build();
        let mut trainer = TrainerWrapper::BpeTrainer(trainer);
        let byte_level = ByteLevel::new(false, true, true);
        let mut tokenizer: Tokenizer = TokenizerBuilder::<
            ModelWrapper,
            NormalizerWrapper,
            PreTokenizerWrapper,
            PostProcessorWrapper,
            DecoderWrapper,
        >::new()
        .with_model(BPE::default().into())
        .with_normalizer(None)
        .with_pre_tokenizer(Some(byte_level.into()))
        .with_post_processor(Some(byte_level.into()))
        .with_decoder(Some(byte_level.into()))
        .build()
        .map_err(|e| tok_err("cannot build the tokenizer", e))?
        .into();
        tokenizer
            .train(&mut trainer, texts.iter())
            .map_err(|e| tok_err("BPE training failed", e))?;
        Ok(Self { inner: tokenizer })
    }

    /// Token ids of `text` (no special tokens added; `<|endoftext|>` in the text is matched).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let encoding = self.inner.encode(text, false).map_err(|e| tok_err("cannot encode", e))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Encodes many texts (in parallel).
    pub fn encode_batch(&self, texts: &[String]) -> Result<Vec<Vec<u32>>> {
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encodings =
            self.inner.encode_batch(inputs, false).map_err(|e| tok_err("cannot encode", e))?;
        Ok(encodings.iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// The text of `ids` (special tokens included). Ids outside the vocabulary are an error.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        let size = self.vocab_size();
        if let Some(bad) = ids.iter().find(|&&id| usize::try_from(id).map_or(true, |i| i >= size)) {
            return Err(ModelError::Tokenizer(format!(
                "token id {bad} is outside the vocabulary of {size}"
            )));
        }
        self.inner.decode(ids, false).map_err(|e| tok_err("cannot decode", e))
    }

    /// Number of tokens, special tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The id of `<|endoftext|>`, if the tokenizer has it.
    pub fn eot_id(&self) -> Option<u32> {
        self.inner.token_to_id(EOT_TOKEN)
    }

    /// The wrapped `tokenizers` tokenizer.
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }

    /// A SHA3-256 (hex) of the vocabulary (token and id), the merges in rank order and the added
    /// tokens: equal for tokenizers that split text the same way, stable across save and load.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha3_256::new();
        let mut vocab: Vec<(String, u32)> = self.inner.get_vocab(false).into_iter().collect();
        vocab.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        for (token, id) in vocab {
            hasher.update(format!("v\t{id}\t{token}\n").as_bytes());
        }
        let model = serde_json::to_value(self.inner.get_model()).unwrap_or(Value::Null);
        if let Some(kind) = model.get("type").and_then(Value::as_str) {
            hasher.update(format!("t\t{kind}\n").as_bytes());
        }
        if let Some(merges) = model.get("merges").and_then(Value::as_array) {
            for merge in merges {
                let pair = match merge {
                    Value::String(s) => s.clone(),
                    Value::Array(parts) => parts
                        .iter()
                        .map(|p| p.as_str().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => other.to_string(),
                };
                hasher.update(format!("m\t{pair}\n").as_bytes());
            }
        }
        let mut added: Vec<(u32, String, bool)> = self
            .inner
            .get_added_tokens_decoder()
            .into_iter()
            .map(|(id, t)| (id, t.content, t.special))
            .collect();
        added.sort();
        for (id, content, special) in added {
            hasher.update(format!("a\t{id}\t{content}\t{special}\n").as_bytes());
        }
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}
