//! Test helpers (feature `test-utils`): real axons on loopback that answer `TextSeq2Seq` with
//! a fixed text after an artificial latency, fail, or stall; and a small trained tokenizer.

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
