//! What the tests share: a generated corpus, two tokenizers trained on it, model directories
//! (built once per test process), a miner on loopback, and reference computations straight from
//! the model.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
use subtensor_axon::{axon::RunningAxon, Axon, AxonConfig, AxonTarget, Dendrite};
use subtensor_miner::{
    bridge::Bridge,
    engine::{Engine, EngineConfig},
    grid::{Batcher, BatcherConfig, GridLimits},
    handlers::Handlers,
};
use subtensor_model::{
    tch::{Device, Tensor},
    train::{train, TrainConfig},
    Corpus, GptConfig, LanguageModel, TextTokenizer, TokenTopk, TOKENIZER_FILE,
};
use subtensor_wallet::Keypair;

/// Vocabulary of the network's standard tokenizer in these tests.
pub(crate) const STANDARD_VOCAB: usize = 300;
/// Vocabulary of the other tokenizer (the bridged model's).
pub(crate) const OTHER_VOCAB: usize = 360;
/// Context of the tiny models.
pub(crate) const CONTEXT: i64 = 48;
/// Generous client timeout: the machine may be busy.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

/// A deterministic generator (splitmix64), so the corpus needs no `rand`.
pub(crate) struct Mix(pub(crate) u64);

impl Mix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len())]
    }
}

/// `n` documents of simple English-like sentences (about 60 bytes each).
pub(crate) fn documents(n: usize, seed: u64) -> Vec<String> {
    let subjects =
        ["the cat", "a dog", "the old man", "my sister", "the bird", "a child", "the teacher"];
    let verbs = ["sat on", "looked at", "ran to", "jumped over", "walked past", "found", "painted"];
    let objects =
        ["the mat", "a red ball", "the river", "the green door", "a tall tree", "the house"];
    let endings = [".", " today.", " again.", " in the morning.", " at night."];
    let mut mix = Mix(seed);
    (0..n)
        .map(|_| {
            let sentences = 1 + mix.below(3);
            (0..sentences)
                .map(|_| {
                    let mut s = format!(
                        "{} {} {}{}",
                        mix.pick(&subjects),
                        mix.pick(&verbs),
                        mix.pick(&objects),
                        mix.pick(&endings)
                    );
                    s[..1].make_ascii_uppercase();
                    s
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Built once per test process.
pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    /// A model trained briefly on the corpus, with the standard tokenizer (`tokenizer.json`).
    pub(crate) model_dir: PathBuf,
    /// A random model on the other tokenizer (its `tokenizer.json`).
    pub(crate) bridged_dir: PathBuf,
    /// The network's standard tokenizer.
    pub(crate) standard: TextTokenizer,
    /// A different tokenizer trained on the same text.
    pub(crate) other: TextTokenizer,
    /// Documents the model was not trained on.
    pub(crate) held_out: Vec<String>,
}

fn tiny(vocab: usize) -> GptConfig {
    GptConfig {
        vocab_size: vocab as i64,
        n_positions: CONTEXT,
        n_embd: 32,
        n_layer: 2,
        n_head: 4,
        layer_norm_epsilon: 1e-5,
    }
}

fn build() -> Fixture {
    let corpus = Corpus::from_documents(documents(400, 42));
    let standard = TextTokenizer::train_bpe(&corpus.train, STANDARD_VOCAB).unwrap();
    let other = TextTokenizer::train_bpe(&corpus.train, OTHER_VOCAB).unwrap();
    assert_eq!(standard.vocab_size(), STANDARD_VOCAB, "the corpus has too few merges");
    assert_ne!(standard.fingerprint(), other.fingerprint());
    // Under the crate's target directory. Statics are never dropped, so each run removes what
    // earlier runs left there (older than an hour: no run of these tests lasts that long).
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > Duration::from_secs(3600)));
        if stale && entry.file_name().to_string_lossy().starts_with("miner-it-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = tempfile::Builder::new().prefix("miner-it-").tempdir_in(root).unwrap();

    let mut model = LanguageModel::random(tiny(standard.vocab_size()), Device::Cpu, 7).unwrap();
    model.set_eos_token_id(standard.eot_id()).unwrap();
    let config = TrainConfig {
        steps: 80,
        batch_size: 8,
        seq_len: 32,
        learning_rate: 3e-3,
        warmup_steps: 5,
        eval_batches: 2,
        progress: false,
        ..TrainConfig::default()
    };
    let train_tokens = corpus.encode_train(&standard).unwrap();
    let held_tokens = corpus.encode_held_out(&standard).unwrap();
    train(&mut model, &train_tokens, &held_tokens, &config, None).unwrap();
    let model_dir = dir.path().join("model");
    model.save(&model_dir).unwrap();
    standard.save(&model_dir.join(TOKENIZER_FILE)).unwrap();

    let bridged = LanguageModel::random(tiny(other.vocab_size()), Device::Cpu, 11).unwrap();
    let bridged_dir = dir.path().join("bridged");
    bridged.save(&bridged_dir).unwrap();
    other.save(&bridged_dir.join(TOKENIZER_FILE)).unwrap();

    Fixture { _dir: dir, model_dir, bridged_dir, standard, other, held_out: corpus.held_out }
}

pub(crate) fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build)
}

/// Dev keys, derived once each.
pub(crate) fn key(uri: &str) -> Keypair {
    static KEYS: OnceLock<std::sync::Mutex<std::collections::HashMap<String, Keypair>>> =
        OnceLock::new();
    let keys = KEYS.get_or_init(Default::default);
    keys.lock()
        .unwrap()
        .entry(uri.to_owned())
        .or_insert_with(|| Keypair::from_uri(uri).unwrap())
        .clone()
}

pub(crate) fn load(dir: &Path) -> LanguageModel {
    LanguageModel::load(dir, Device::Cpu).unwrap()
}

/// `n` rows of `len` standard tokens, each from the start of a different held-out document
/// (documents too short are skipped).
pub(crate) fn contexts(tok: &TextTokenizer, n: usize, len: usize) -> Vec<Vec<u32>> {
    let rows: Vec<Vec<u32>> = fixture()
        .held_out
        .iter()
        .map(|d| tok.encode(d).unwrap())
        .filter(|ids| ids.len() >= len)
        .map(|ids| ids[..len].to_vec())
        .take(n)
        .collect();
    assert_eq!(rows.len(), n, "too few held-out documents of {len} tokens");
    rows
}

/// A miner on loopback: the engine, the axon serving the four synapses, and a client.
pub(crate) struct Miner {
    pub(crate) engine: Engine,
    pub(crate) axon: RunningAxon,
    pub(crate) target: AxonTarget,
    pub(crate) dendrite: Dendrite,
}

impl Miner {
    /// Serves the model in `dir` (with its `tokenizer.json`) to `standard`-tokenizer callers.
    pub(crate) async fn start(dir: &Path, standard: &TextTokenizer, config: EngineConfig) -> Self {
        Self::start_with(dir, standard, config, None).await
    }

    /// Like [`Miner::start`], in grid mode when `grid` is given.
    pub(crate) async fn start_with(
        dir: &Path,
        standard: &TextTokenizer,
        config: EngineConfig,
        grid: Option<(BatcherConfig, GridLimits)>,
    ) -> Self {
        Self::start_custom(dir, standard, config, grid, |h| h).await
    }

    /// Like [`Miner::start_with`], with the handlers passed through `customise` (added
    /// latency, a grid cheat) before they are attached.
    pub(crate) async fn start_custom(
        dir: &Path,
        standard: &TextTokenizer,
        config: EngineConfig,
        grid: Option<(BatcherConfig, GridLimits)>,
        customise: impl FnOnce(Handlers) -> Handlers,
    ) -> Self {
        let model_tokenizer = TextTokenizer::load(&dir.join(TOKENIZER_FILE)).unwrap();
        let owned = dir.to_path_buf();
        let engine =
            Engine::start(move || LanguageModel::load(&owned, Device::Cpu), config).unwrap();
        let mut handlers =
            Handlers::new(engine.clone(), Bridge::new(standard.clone(), model_tokenizer));
        if let Some((batcher, limits)) = grid {
            handlers = handlers.with_grid(Batcher::start(engine.clone(), batcher).unwrap(), limits);
        }
        let axon = customise(handlers)
            .attach(Axon::new(key("//Bob"), AxonConfig::default()))
            .spawn("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let target = AxonTarget { addr: axon.addr, hotkey: key("//Bob").ss58() };
        Self { engine, axon, target, dendrite: Dendrite::new(key("//Alice")) }
    }

    pub(crate) async fn stop(self) {
        self.axon.shutdown().await.unwrap();
    }
}

/// Row-major `f32` values of a tensor.
pub(crate) fn values(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.flatten(0, -1)).unwrap()
}

/// The model's full next-token distribution after `row` (f64 softmax of its last logits).
pub(crate) fn next_distribution(model: &LanguageModel, row: &[u32]) -> Vec<f64> {
    let logits = values(&model.logits(&[row.to_vec()]).unwrap().select(1, -1));
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f64> = logits.iter().map(|&l| (f64::from(l) - f64::from(max)).exp()).collect();
    let z: f64 = exp.iter().sum();
    exp.into_iter().map(|e| e / z).collect()
}

/// Asserts that `(ids, probs)` is the top `ids.len()` of `full`: distinct ids, each probability
/// that of its id within `tol`, descending, and no unlisted token more likely than the least
/// likely listed one (beyond `tol`).
pub(crate) fn assert_is_topk(ids: &[u32], probs: &[f32], full: &[f64], tol: f64) {
    assert_eq!(ids.len(), probs.len());
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "duplicate ids in {ids:?}");
    for (&id, &p) in ids.iter().zip(probs) {
        let want = full[id as usize];
        assert!((f64::from(p) - want).abs() <= tol, "token {id}: {p} vs {want}");
    }
    assert!(probs.windows(2).all(|w| w[0] >= w[1]), "not descending: {probs:?}");
    let least = probs.last().map_or(f64::INFINITY, |&p| f64::from(p));
    let best_unlisted = (0..full.len() as u32)
        .filter(|id| !ids.contains(id))
        .map(|id| full[id as usize])
        .fold(0.0, f64::max);
    assert!(best_unlisted <= least + tol, "an unlisted token has {best_unlisted} > {least}");
}

/// Asserts two top-k lists agree within `tol`: probabilities position by position, and ids
/// wherever the probabilities around them are more than `tol` apart (near-ties may swap).
pub(crate) fn assert_same_topk(got: &TokenTopk, want: &TokenTopk, tol: f32) {
    assert_eq!(got.ids.len(), want.ids.len());
    assert_eq!(got.probs.len(), want.probs.len());
    let n = want.probs.len();
    for i in 0..n {
        assert!((got.probs[i] - want.probs[i]).abs() <= tol, "rank {i}: {got:?} vs {want:?}");
        let apart_before = i == 0 || want.probs[i - 1] - want.probs[i] > tol;
        let apart_after = i + 1 == n || want.probs[i] - want.probs[i + 1] > tol;
        if apart_before && apart_after {
            assert_eq!(got.ids[i], want.ids[i], "rank {i}: {got:?} vs {want:?}");
        }
    }
}
