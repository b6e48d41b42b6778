//! Evaluation data from a real corpus and tokenizer.

use crate::corpus_and_tokenizer;
use rand::{rngs::StdRng, SeedableRng};
use subtensor_model::{Corpus, TextTokenizer};
use subtensor_validator::data::EvalData;

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
