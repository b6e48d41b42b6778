//! Evaluation data: the held-out split of a corpus, tokenized once with the network's
//! standard tokenizer, and random query batches cut from it. Collection of a distillation
//! buffer (`--distill-collect`) cuts its batches from the training split the same way
//! ([`Split`]), so the held-out text stays unseen by students.
//!
//! A batch is `batch` windows at random offsets: each row's input is `context` tokens and its
//! target the `validation_len` tokens that follow (the phrase; its first token is the next
//! token). All uids of a step get the same batch, so their losses compare.
//!
//! This is the only module that uses `subtensor-model` (tokenizer and corpus loading).

use crate::{Result, ValidatorError};
use rand::Rng;
use std::path::Path;
use subtensor_axon::synapse::VOCAB_SIZE;
use subtensor_model::{Corpus, TextTokenizer};

/// Which documents of a corpus (every 20th document is held out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The training documents (what `stmodel train` learns from).
    Train,
    /// The held-out documents (what the validator scores on).
    HeldOut,
}

impl Split {
    /// The split's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "training",
            Split::HeldOut => "held-out",
        }
    }
}

/// The tokenized text of one split.
#[derive(Clone, Debug)]
pub struct EvalData {
    tokens: Vec<u32>,
    vocab_size: u32,
    split: Split,
}

/// One query's inputs and targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Input token rows, each `context` long.
    pub inputs: Vec<Vec<u32>>,
    /// Target phrases, each `validation_len` long.
    pub targets: Vec<Vec<u32>>,
}

impl EvalData {
    /// Loads `tokenizer` and `corpus` and tokenizes the corpus's held-out documents.
    pub fn load(corpus: &Path, tokenizer: &Path) -> Result<Self> {
        Self::load_split(corpus, tokenizer, Split::HeldOut)
    }

    /// Loads `tokenizer` and `corpus` and tokenizes the documents of `split`.
    pub fn load_split(corpus: &Path, tokenizer: &Path, split: Split) -> Result<Self> {
        let tok = TextTokenizer::load(tokenizer).map_err(|e| {
            ValidatorError::Data(format!("cannot load tokenizer {}: {e}", tokenizer.display()))
        })?;
        let corpus_data = Corpus::load(corpus).map_err(|e| {
            ValidatorError::Data(format!("cannot load corpus {}: {e}", corpus.display()))
        })?;
        let docs = match split {
            Split::Train => &corpus_data.train,
            Split::HeldOut => &corpus_data.held_out,
        };
        if docs.is_empty() {
            return Err(ValidatorError::Data(format!(
                "corpus {} has no {} documents (every 20th document is held out; it has {} \
                 training and {} held-out documents)",
                corpus.display(),
                split.name(),
                corpus_data.train.len(),
                corpus_data.held_out.len()
            )));
        }
        let encoded = match split {
            Split::Train => corpus_data.encode_train(&tok),
            Split::HeldOut => corpus_data.encode_held_out(&tok),
        };
        let tokens = encoded.map_err(|e| {
            ValidatorError::Data(format!("cannot tokenize the {} split: {e}", split.name()))
        })?;
        let vocab_size = u32::try_from(tok.vocab_size()).unwrap_or(u32::MAX);
        Ok(Self { split, ..Self::from_tokens(tokens, vocab_size)? })
    }

    /// Evaluation data from already tokenized text (counted as held-out). Fails if a token id
    /// is outside the vocabulary or the wire's limit ([`VOCAB_SIZE`]).
    pub fn from_tokens(tokens: Vec<u32>, vocab_size: u32) -> Result<Self> {
        if vocab_size == 0 || vocab_size > VOCAB_SIZE {
            return Err(ValidatorError::Data(format!(
                "tokenizer vocabulary of {vocab_size} tokens; the wire carries ids below {VOCAB_SIZE}"
            )));
        }
        if let Some(bad) = tokens.iter().find(|&&t| t >= vocab_size) {
            return Err(ValidatorError::Data(format!(
                "token id {bad} is outside the vocabulary of {vocab_size}"
            )));
        }
        Ok(Self { tokens, vocab_size, split: Split::HeldOut })
    }

    /// The split the tokens come from.
    pub fn split(&self) -> Split {
        self.split
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The tokenizer's vocabulary size.
    pub fn vocab_size(&self) -> u32 {
        self.vocab_size
    }

    /// Checks that windows of `context + validation_len` tokens fit.
    pub fn check_window(&self, context: usize, validation_len: usize) -> Result<()> {
        let window = context.saturating_add(validation_len);
        if context == 0 || validation_len == 0 {
            return Err(ValidatorError::Usage("--context and --validation-len must be ≥ 1".into()));
        }
        if self.tokens.len() < window {
            return Err(ValidatorError::Data(format!(
                "the {} split has {} tokens, fewer than one window of {window} \
                 (--context {context} + --validation-len {validation_len})",
                self.split.name(),
                self.tokens.len()
            )));
        }
        Ok(())
    }

    /// Checks that `topk` phrases per row stay below the vocabulary size: with k ≥ V the
    /// phrase loss leaves the floor out of its normaliser while still crediting it, so an
    /// answer of pure floor would score a perfect loss.
    pub fn check_topk(&self, topk: u32) -> Result<()> {
        if topk >= self.vocab_size {
            return Err(ValidatorError::Usage(format!(
                "--topk {topk} must be below the standard vocabulary size {}",
                self.vocab_size
            )));
        }
        Ok(())
    }

    /// `batch` random windows: inputs of `context` tokens, targets of the next
    /// `validation_len`.
    pub fn sample(
        &self,
        rng: &mut impl Rng,
        batch: usize,
        context: usize,
        validation_len: usize,
    ) -> Result<Batch> {
        self.check_window(context, validation_len)?;
        let window = context.saturating_add(validation_len);
        let last_start = self.tokens.len().saturating_sub(window);
        let mut inputs = Vec::with_capacity(batch);
        let mut targets = Vec::with_capacity(batch);
        for _ in 0..batch {
            let start = rng.gen_range(0..=last_start);
            let mid = start.saturating_add(context);
            let end = start.saturating_add(window);
            let (Some(input), Some(target)) =
                (self.tokens.get(start..mid), self.tokens.get(mid..end))
            else {
                return Err(ValidatorError::Data(format!(
                    "window outside the {} split",
                    self.split.name()
                )));
            };
            inputs.push(input.to_vec());
            targets.push(target.to_vec());
        }
        Ok(Batch { inputs, targets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn windows_are_contiguous_slices_of_the_text() {
        let tokens: Vec<u32> = (0..500).collect();
        let data = EvalData::from_tokens(tokens, 1000).unwrap();
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..50 {
            let b = data.sample(&mut rng, 4, 16, 8).unwrap();
            assert_eq!(b.inputs.len(), 4);
            for (input, target) in b.inputs.iter().zip(&b.targets) {
                assert_eq!((input.len(), target.len()), (16, 8));
                // Tokens are their positions: the target continues the input.
                assert_eq!(target[0], input[15] + 1);
                assert!(input.windows(2).chain(target.windows(2)).all(|w| w[1] == w[0] + 1));
                assert!(*target.last().unwrap() < 500);
            }
        }
        // A text exactly one window long has one possible window.
        let data = EvalData::from_tokens((0..24).collect(), 1000).unwrap();
        let b = data.sample(&mut rng, 2, 16, 8).unwrap();
        assert_eq!(b.inputs[0], (0..16).collect::<Vec<u32>>());
        assert_eq!(b.targets[1], (16..24).collect::<Vec<u32>>());
    }

    #[test]
    fn unusable_data_is_refused() {
        let mut rng = StdRng::seed_from_u64(6);
        let short = EvalData::from_tokens((0..10).collect(), 1000).unwrap();
        assert!(short.sample(&mut rng, 1, 8, 8).is_err());
        assert!(short.check_window(0, 1).is_err());
        assert!(EvalData::from_tokens(vec![1, 2000], 1000).is_err());
        assert!(EvalData::from_tokens(vec![1], VOCAB_SIZE + 1).is_err());
        assert!(EvalData::from_tokens(vec![1], 0).is_err());
    }
}
