//! Test helpers (feature `test-utils`): real axons on loopback that answer `TextSeq2Seq` with
//! a fixed text after an artificial latency, fail, or stall; grid axons that serve a grid
//! model honestly or greedily (a cheat); and a small trained tokenizer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};
use subtensor_axon::{axon::RunningAxon, Axon, AxonConfig, AxonTarget, Caller, TextSeq2Seq};
use subtensor_model::TextTokenizer;
use subtensor_wallet::Keypair;

/// How a test miner answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// The fixed answer, after the latency.
    Answer,
    /// An error (500), after the latency.
    Fail,
    /// Nothing until `Duration` has passed (then the answer).
    Stall(Duration),
}

/// A running test miner.
pub struct TestMiner {
    /// The axon.
    pub axon: RunningAxon,
    /// Where to reach it.
    pub target: AxonTarget,
    /// Requests it has received.
    pub calls: Arc<AtomicUsize>,
}

/// A tokenizer trained on a few sentences (byte-level BPE, so any text encodes).
pub fn tokenizer() -> TextTokenizer {
    let text = "the quick brown fox jumps over the lazy dog. hello world, hello gateway. \
                a miner answers the prompt with generated text.";
    let texts: Vec<String> = (0..20).map(|_| text.to_owned()).collect();
    TextTokenizer::train_bpe(&texts, 300).unwrap()
}

/// A keypair from a dev URI (`//Bob`).
pub fn key(uri: &str) -> Keypair {
    Keypair::from_uri(uri).unwrap()
}

/// Starts a miner signing as `uri` that answers `TextSeq2Seq` with the tokens of `answer`
/// (cut to the request's `num_to_generate`) after `latency`, or as `behaviour` says.
pub async fn spawn_miner(
    uri: &str,
    tokenizer: &TextTokenizer,
    answer: &str,
    latency: Duration,
    behaviour: Behaviour,
) -> TestMiner {
    let ids = tokenizer.encode(answer).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let keypair = key(uri);
    let hotkey = keypair.ss58();
    let axon = Axon::new(keypair, AxonConfig::default())
        .attach(move |_caller: Caller, mut s: TextSeq2Seq| {
            let ids = ids.clone();
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(latency).await;
                match behaviour {
                    Behaviour::Fail => return Err("model exploded".to_owned()),
                    Behaviour::Stall(d) => tokio::time::sleep(d).await,
                    Behaviour::Answer => {}
                }
                let n = usize::try_from(s.num_to_generate).unwrap();
                let rows = s.tokens().map_err(|e| e.to_string())?;
                let out: Vec<Vec<u32>> =
                    rows.iter().map(|_| ids.iter().copied().take(n).collect()).collect();
                s.set_outputs(&out, None).map_err(|e| e.to_string())?;
                Ok(s)
            }
        })
        .spawn("127.0.0.1:0".parse::<SocketAddr>().unwrap())
        .await
        .unwrap();
    let target = AxonTarget { addr: axon.addr, hotkey };
    TestMiner { axon, target, calls }
}

/// The text [`reference_model`] learns.
pub const REFERENCE_TEXT: &str = "the quick brown fox jumps over the lazy dog. hello world, \
                                  hello gateway. a miner answers the prompt with generated text. ";

/// A tiny model on [`tokenizer`], trained briefly on [`REFERENCE_TEXT`] so that it finds that
/// text's continuations far likelier than shuffled words.
pub fn reference_model() -> subtensor_model::LanguageModel {
    use subtensor_model::{
        train::{train, TrainConfig},
        Device, GptConfig, LanguageModel,
    };
    let tok = tokenizer();
    let config = GptConfig {
        vocab_size: i64::try_from(tok.vocab_size()).unwrap(),
        n_positions: 64,
        n_embd: 32,
        n_layer: 1,
        n_head: 2,
        layer_norm_epsilon: 1e-5,
    };
    let mut model = LanguageModel::random(config, Device::Cpu, 5).unwrap();
    let tokens = tok.encode(&REFERENCE_TEXT.repeat(30)).unwrap();
    let train_config = TrainConfig {
        steps: 60,
        batch_size: 8,
        seq_len: 32,
        learning_rate: 1e-2,
        warmup_steps: 5,
        eval_batches: 1,
        progress: false,
        ..TrainConfig::default()
    };
    train(&mut model, &tokens, &tokens, &train_config, None).unwrap();
    model
}

/// A random grid model of the [`tokenizer`]'s vocabulary (64 positions, 2 layers), the same
/// for the same `seed`.
pub fn grid_language_model(seed: i64) -> subtensor_model::LanguageModel {
    use subtensor_model::{Device, GptConfig, LanguageModel};
    let config = GptConfig {
        vocab_size: i64::try_from(tokenizer().vocab_size()).unwrap(),
        n_positions: 64,
        n_embd: 32,
        n_layer: 2,
        n_head: 4,
        layer_norm_epsilon: 1e-5,
    };
    LanguageModel::random(config, Device::Cpu, seed).unwrap()
}

/// The gateway's [`crate::backend::GridModel`] over [`grid_language_model`]`(seed)` and the
/// [`tokenizer`] (named `name`; no digest).
pub fn grid_model(name: &str, seed: i64) -> crate::backend::GridModel {
    let model = grid_language_model(seed);
    let n_positions = u32::try_from(model.config().n_positions).unwrap();
    let verifier = subtensor_validator::grid::GridVerifier::new(
        model,
        subtensor_model::GridTolerance::default(),
    )
    .unwrap();
    crate::backend::GridModel {
        name: name.to_owned(),
        tokenizer: tokenizer(),
        n_positions,
        digest: [0; 32],
        verifier: Arc::new(parking_lot::Mutex::new(verifier)),
    }
}

/// Starts a grid miner signing as `uri` that answers `GridGenerate` with `model`'s grid
/// sample, or, with `greedy`, its greedy answer whatever the temperature (a cheat the
/// verification catches).
pub async fn spawn_grid_miner(
    uri: &str,
    model: Arc<std::sync::Mutex<subtensor_model::LanguageModel>>,
    greedy: bool,
) -> TestMiner {
    use subtensor_axon::{synapse::GridAnswer, GridGenerate};
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let keypair = key(uri);
    let hotkey = keypair.ss58();
    let axon = Axon::new(keypair, AxonConfig::default())
        .attach(move |_caller: Caller, mut s: GridGenerate| {
            let (model, counter) = (model.clone(), counter.clone());
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let prompt = s.prompt.clone();
                let mut params = s.params();
                if greedy {
                    params.temperature = 0.0;
                }
                let answer = tokio::task::spawn_blocking(move || {
                    let model = model.lock().unwrap();
                    let request = subtensor_validator::grid::verifier::grid_request(
                        &params,
                        model.eos_token_id(),
                    );
                    model.generate_grid(&prompt, &request).map(|out| GridAnswer {
                        token_times_ms: out
                            .token_times
                            .iter()
                            .map(|t| t.as_secs_f64() * 1000.0)
                            .collect(),
                        tokens: out.tokens,
                        token_logprobs: out.logprobs,
                        stopped_at_eos: out.stopped_at_eos,
                    })
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
                s.set_outputs(answer).map_err(|e| e.to_string())?;
                Ok::<_, String>(s)
            }
        })
        .spawn("127.0.0.1:0".parse::<SocketAddr>().unwrap())
        .await
        .unwrap();
    let target = AxonTarget { addr: axon.addr, hotkey };
    TestMiner { axon, target, calls }
}
