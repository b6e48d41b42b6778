//! Evaluation data from a real corpus and tokenizer.

use crate::corpus_and_tokenizer;
use rand::{rngs::StdRng, SeedableRng};
use subtensor_model::{Corpus, TextTokenizer};
use subtensor_validator::data::{EvalData, Split};

#[test]
fn held_out_split_is_tokenized_and_sampled() {
    let dir = tempfile::tempdir().unwrap();
    let (corpus, tokenizer) = corpus_and_tokenizer(dir.path(), 100);
    let data = EvalData::load(&corpus, &tokenizer).unwrap();
    let tok = TextTokenizer::load(&tokenizer).unwrap();
    let expected = Corpus::load(&corpus).unwrap().encode_held_out(&tok).unwrap();
    assert_eq!(data.len(), expected.len());
    assert_eq!(data.vocab_size() as usize, tok.vocab_size());
    let mut rng = StdRng::seed_from_u64(1);
    let batch = data.sample(&mut rng, 4, 8, 4).unwrap();
    assert_eq!(batch.inputs.len(), 4);
    assert!(batch
        .inputs
        .iter()
        .flatten()
        .chain(batch.targets.iter().flatten())
        .all(|&t| t < data.vocab_size()));
    // Each window is a contiguous slice of the held-out stream.
    for (input, target) in batch.inputs.iter().zip(&batch.targets) {
        let window: Vec<u32> = input.iter().chain(target).copied().collect();
        assert!(expected.windows(12).any(|w| w == window.as_slice()));
    }
}

#[test]
fn too_small_corpus_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    // Fewer than 20 documents: nothing is held out.
    let (corpus, tokenizer) = corpus_and_tokenizer(dir.path(), 10);
    let err = EvalData::load(&corpus, &tokenizer).unwrap_err().to_string();
    assert!(err.contains("no held-out documents"), "{err}");
    let missing = dir.path().join("nope.json");
    let err = EvalData::load(&corpus, &missing).unwrap_err().to_string();
    assert!(err.contains("cannot load tokenizer"), "{err}");
}

#[test]
fn training_split_is_the_other_documents() {
    let dir = tempfile::tempdir().unwrap();
    let (corpus, tokenizer) = corpus_and_tokenizer(dir.path(), 100);
    let train = EvalData::load_split(&corpus, &tokenizer, Split::Train).unwrap();
    let held_out = EvalData::load(&corpus, &tokenizer).unwrap();
    let tok = TextTokenizer::load(&tokenizer).unwrap();
    let expected = Corpus::load(&corpus).unwrap().encode_train(&tok).unwrap();
    assert_eq!((train.split(), held_out.split()), (Split::Train, Split::HeldOut));
    assert_eq!(train.len(), expected.len());
    assert!(train.len() > 10 * held_out.len(), "{} vs {}", train.len(), held_out.len());
    let mut rng = StdRng::seed_from_u64(2);
    let batch = train.sample(&mut rng, 3, 8, 1).unwrap();
    for (input, target) in batch.inputs.iter().zip(&batch.targets) {
        let window: Vec<u32> = input.iter().chain(target).copied().collect();
        assert!(expected.windows(9).any(|w| w == window.as_slice()));
    }
    // Messages name the split.
    let err = train.check_window(expected.len(), 1).unwrap_err().to_string();
    assert!(err.contains("the training split has"), "{err}");
    let err = train.check_topk(train.vocab_size()).unwrap_err().to_string();
    assert!(err.contains("--topk"), "{err}");
    assert!(train.check_topk(train.vocab_size() - 1).is_ok());
}
