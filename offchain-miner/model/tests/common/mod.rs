//! Helpers shared by the integration tests: a small generated corpus, a tokenizer trained on
//! it and tiny model configs.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use rand::{rngs::StdRng, Rng, SeedableRng};
use subtensor_model::{Corpus, GptConfig, TextTokenizer};

/// Documents of simple, learnable English-like sentences (a few KB), seeded.
pub(crate) fn documents(n: usize, seed: u64) -> Vec<String> {
    let subjects = [
        "the cat",
        "a dog",
        "the old man",
        "my sister",
        "the bird",
        "a small child",
        "the teacher",
    ];
    let verbs = ["sat on", "looked at", "ran to", "jumped over", "walked past", "found", "painted"];
    let objects = [
        "the mat",
        "a red ball",
        "the river",
        "the green door",
        "a tall tree",
        "the house",
        "the moon",
    ];
    let endings = [".", " today.", " again.", " in the morning.", " at night."];
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let sentences = rng.gen_range(1..4);
            (0..sentences)
                .map(|_| {
                    let s = subjects[rng.gen_range(0..subjects.len())];
                    let v = verbs[rng.gen_range(0..verbs.len())];
                    let o = objects[rng.gen_range(0..objects.len())];
                    let e = endings[rng.gen_range(0..endings.len())];
                    let mut first = s.to_owned();
                    first[..1].make_ascii_uppercase();
                    format!("{first} {v} {o}{e}")
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// A corpus of `n` generated documents.
pub(crate) fn corpus(n: usize) -> Corpus {
    Corpus::from_documents(documents(n, 42))
}

/// A byte-level BPE tokenizer trained on the generated corpus.
pub(crate) fn tokenizer(vocab: usize) -> TextTokenizer {
    TextTokenizer::train_bpe(&corpus(300).train, vocab).unwrap()
}

/// A tiny model shape.
pub(crate) fn tiny(vocab_size: i64) -> GptConfig {
    GptConfig {
        vocab_size,
        n_positions: 32,
        n_embd: 32,
        n_layer: 2,
        n_head: 4,
        layer_norm_epsilon: 1e-5,
    }
}
