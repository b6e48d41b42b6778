//! Integration tests: the scoring path against real axons on loopback, evaluation data from a
//! real tokenizer and corpus, and the binary's command line.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod cli;
mod collect;
mod data;
mod gate;
mod grid;
mod miners;

use subtensor_wallet::Keypair;

/// Dev keys, derived once each (derivation is slow in unoptimised builds).
pub(crate) fn key(uri: &str) -> Keypair {
    static KEYS: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, Keypair>>> =
        std::sync::OnceLock::new();
    let keys = KEYS.get_or_init(Default::default);
    keys.lock()
        .unwrap()
        .entry(uri.to_owned())
        .or_insert_with(|| Keypair::from_uri(uri).unwrap())
        .clone()
}

/// A corpus file of `n` short documents in the `fortune` format and a BPE tokenizer trained
/// on it, in `dir`; returns their paths.
pub(crate) fn corpus_and_tokenizer(
    dir: &std::path::Path,
    n: usize,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let docs: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "Fortune {i}: the quick brown fox jumps over the lazy dog number {i}, \
                 and a validator scores every miner once per walk."
            )
        })
        .collect();
    let corpus = dir.join("corpus.txt");
    std::fs::write(&corpus, docs.join("\n%\n")).unwrap();
    let tok = subtensor_model::TextTokenizer::train_bpe(&docs, 400).unwrap();
    let tokenizer = dir.join("tokenizer.json");
    tok.save(&tokenizer).unwrap();
    (corpus, tokenizer)
}
