//! Issue 14's gate acceptance test: two miners serving real tiny models trained on disjoint
//! halves of the fortune corpus (technical text: `computers`, `linux`; verse: `songs-poems`,
//! `love`), the validator's step run over held-out windows of both halves with the gate trained
//! after each step as `stvalidator --gate-model` does, then on fresh held-out windows the gate's
//! choice (k = 1, no exploration) must have a lower mean loss than a uniformly random choice.
//!
//! The tokenizer and the three models (miner A, miner B, and the feature model trained on both
//! halves) are cached under `.local/test-models/gate/` with a stamp of their settings. Skipped
//! (with a message) where /usr/share/games/fortunes is missing.

use crate::key;
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};
use subtensor_axon::{
    axon::RunningAxon, synapse::floor_probability, Axon, AxonConfig, AxonTarget, Caller, Dendrite,
    TextCausalLMNext, TopkPhrases,
};
use subtensor_model::{
    split_documents, train::TrainConfig, Corpus, Device, GptConfig, LanguageModel, TextTokenizer,
};
use subtensor_validator::{
    data::EvalData,
    gate::{self, features::row_features, GateTrainer},
    scoring::{row_losses, ScoringParams},
    state::State,
    step::{run_step, StepParams},
};

const FORTUNES: &str = "/usr/share/games/fortunes";
const KIND_A: [&str; 2] = ["computers", "linux"];
const KIND_B: [&str; 2] = ["songs-poems", "love"];
const VOCAB: usize = 512;
const TOPK: u32 = 16;
const CONTEXT: usize = 32;
const VALIDATION_LEN: usize = 2;
const BATCH: usize = 8;
const TRAIN_STEPS: usize = 300;
const EVAL_STEPS: usize = 40;

fn documents(files: &[&str]) -> Vec<String> {
    files
        .iter()
        .flat_map(|f| {
            split_documents(&std::fs::read_to_string(Path::new(FORTUNES).join(f)).unwrap())
        })
        .collect()
}

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.local/test-models/gate")
}

/// `make` run into `path` unless `path`'s stamp holds `key` already.
fn cached(path: &Path, key: &str, make: impl FnOnce(&Path)) {
    let stamp = path.with_extension("stamp");
    if path.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(key) {
        return;
    }
    let _ = std::fs::remove_dir_all(path);
    let _ = std::fs::remove_file(path);
    make(path);
    std::fs::write(stamp, key).unwrap();
}

fn tokenizer(a: &Corpus, b: &Corpus) -> TextTokenizer {
    let path = cache_dir().join("tokenizer.json");
    std::fs::create_dir_all(cache_dir()).unwrap();
    let key = format!("{KIND_A:?} {KIND_B:?} vocab {VOCAB}");
    cached(&path, &key, |p| {
        let docs: Vec<String> = a.train.iter().chain(&b.train).cloned().collect();
        TextTokenizer::train_bpe(&docs, VOCAB).unwrap().save(p).unwrap();
    });
    TextTokenizer::load(&path).unwrap()
}

/// A tiny model (2 layers × 64 wide) trained on `train` for `steps` steps, cached as `name`.
fn model(
    name: &str,
    tok: &TextTokenizer,
    train: &[u32],
    held_out: &[u32],
    steps: usize,
) -> PathBuf {
    let dir = cache_dir().join(name);
    let key = format!("{} tokenizer {} steps {steps} 2x64 ctx 64", name, tok.fingerprint());
    cached(&dir, &key, |dir| {
        let config = GptConfig {
            vocab_size: i64::try_from(tok.vocab_size()).unwrap(),
            n_positions: 64,
            n_embd: 64,
            n_layer: 2,
            n_head: 2,
            layer_norm_epsilon: 1e-5,
        };
        let mut m = LanguageModel::random(config, Device::Cpu, 0).unwrap();
        let cfg = TrainConfig {
            steps,
            batch_size: 16,
            seq_len: 48,
            learning_rate: 5e-3,
            warmup_steps: 20,
            progress: false,
            ..TrainConfig::default()
        };
        let report = subtensor_model::train::train(&mut m, train, held_out, &cfg, None).unwrap();
        eprintln!("model {name}: {steps} steps, held-out loss {:?}", report.held_out_loss);
        m.save(dir).unwrap();
    });
    dir
}

/// An axon answering `TextCausalLMNext` with `model`'s top-k next tokens (the miner's answer
/// on the standard tokenizer: one-token phrases plus the floor).
async fn serve(model: LanguageModel, hotkey: &str) -> RunningAxon {
    let model = Arc::new(Mutex::new(model));
    Axon::new(key(hotkey), AxonConfig::default())
        .attach(move |_caller: Caller, mut s: TextCausalLMNext| {
            let model = model.clone();
            async move {
                let tokens = s.tokens().map_err(|e| e.to_string())?;
                let k = usize::try_from(s.topk).unwrap();
                let answer =
                    model.lock().unwrap().next_token_topk(&tokens, k).map_err(|e| e.to_string())?;
                let rows: Vec<TopkPhrases> = answer
                    .into_iter()
                    .map(|t| {
                        let sum: f32 = t.probs.iter().sum();
                        TopkPhrases {
                            phrases: t
                                .probs
                                .iter()
                                .zip(&t.ids)
                                .map(|(p, id)| (*p, vec![*id]))
                                .collect(),
                            floor: floor_probability(sum.min(1.0), s.topk, VOCAB as u32),
                        }
                    })
                    .collect();
                s.set_outputs(&rows).map_err(|e| e.to_string())?;
                Ok(s)
            }
        })
        .spawn("127.0.0.1:0".parse::<SocketAddr>().unwrap())
        .await
        .unwrap()
}

/// Held-out tokens of a corpus, split into the gate's training half and the evaluation half.
fn halves(corpus: &Corpus, tok: &TextTokenizer) -> (Vec<u32>, Vec<u32>) {
    let mut tokens = corpus.encode_held_out(tok).unwrap();
    let second = tokens.split_off(tokens.len() / 2);
    (tokens, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gate_routes_to_the_miner_that_knows_the_text() {
    if !Path::new(FORTUNES).join(KIND_A[0]).exists() {
        eprintln!("skipped: no fortune corpus at {FORTUNES}");
        return;
    }
    let (a, b) =
        (Corpus::from_documents(documents(&KIND_A)), Corpus::from_documents(documents(&KIND_B)));
    let tok = tokenizer(&a, &b);
    let (a_train, b_train) = (a.encode_train(&tok).unwrap(), b.encode_train(&tok).unwrap());
    let (a_gate, a_eval) = halves(&a, &tok);
    let (b_gate, b_eval) = halves(&b, &tok);
    let both: Vec<u32> = a_train.iter().chain(&b_train).copied().collect();
    let dir_a = model("miner-a", &tok, &a_train, &a_eval, 400);
    let dir_b = model("miner-b", &tok, &b_train, &b_eval, 400);
    let dir_f = model("features", &tok, &both, &a_eval, 200);

    let vocab = u32::try_from(tok.vocab_size()).unwrap();
    let mut targets = BTreeMap::new();
    let mut axons = Vec::new();
    let hotkeys = [key("//Bob").ss58(), key("//Charlie").ss58()];
    for (uid, dir, hotkey) in [(1u16, &dir_a, "//Bob"), (2, &dir_b, "//Charlie")] {
        let axon = serve(LanguageModel::load(dir, Device::Cpu).unwrap(), hotkey).await;
        targets.insert(uid, AxonTarget { addr: axon.addr, hotkey: key(hotkey).ss58() });
        axons.push(axon);
    }
    let dendrite = Dendrite::new(key("//Alice"));
    let params = StepParams {
        sample_size: 2,
        batch: BATCH,
        context: CONTEXT,
        validation_len: VALIDATION_LEN,
        topk: TOPK,
        timeout: Duration::from_secs(30),
        scoring: ScoringParams::default(),
        thread_cpu: None,
    };
    let mut state = State::new(1, key("//Alice").ss58());
    let mut rng = StdRng::seed_from_u64(14);
    let scratch = tempfile::tempdir().unwrap();
    let gate_file = scratch.path().join(gate::GATE_FILE);
    let mut trainer = GateTrainer::load(&dir_f, gate_file.clone(), vocab).unwrap();

    // Train: the validator's steps over windows of both kinds of text, the gate updated after
    // each as the binary does.
    let train_data = EvalData::from_tokens([a_gate, b_gate].concat(), vocab).unwrap();
    for _ in 0..TRAIN_STEPS {
        let report = run_step(&dendrite, &train_data, &mut state, &targets, &params, &mut rng)
            .await
            .unwrap();
        assert_eq!(report.as_ref().map(|r| r.answered()), Some(2));
        gate::after_step(Some(&mut trainer), report.as_ref(), vocab);
    }
    trainer.save().unwrap();
    let trained = gate::load(&gate_file).unwrap().unwrap();
    assert_eq!(&trained, trainer.gate());
    assert!(trained.uids.values().all(|w| w.updates == (TRAIN_STEPS * BATCH) as u64));

    // Evaluate on fresh windows: per row, both miners' losses, the gate's pick and a random pick.
    let features_model = gate::load_feature_model(&dir_f, vocab).unwrap();
    let candidates = [(1u16, hotkeys[0].as_str()), (2u16, hotkeys[1].as_str())];
    let mut figures: BTreeMap<&str, (f64, f64, f64, f64, usize)> = BTreeMap::new();
    for (kind, tokens) in [("A (computers, linux)", a_eval), ("B (songs-poems, love)", b_eval)] {
        let data = EvalData::from_tokens(tokens, vocab).unwrap();
        let entry = figures.entry(kind).or_default();
        for _ in 0..EVAL_STEPS / 2 {
            let report = run_step(&dendrite, &data, &mut state, &targets, &params, &mut rng)
                .await
                .unwrap()
                .unwrap();
            let mut losses: BTreeMap<u16, Vec<f64>> = BTreeMap::new();
            for o in &report.outcomes {
                let answer = &o.reply.as_ref().unwrap().synapse;
                losses.insert(o.uid, row_losses(answer, &report.batch.targets, vocab).unwrap());
            }
            let feats = row_features(&features_model, &report.batch.inputs).unwrap();
            for (row, f) in feats.iter().enumerate() {
                let loss = |uid: u16| losses[&uid][row];
                let chosen = trained.choose(f, &candidates, 1, 0.0, &mut rng)[0];
                let random = candidates[rng.gen_range(0..2)].0;
                entry.0 += loss(chosen);
                entry.1 += loss(random);
                entry.2 += loss(1).min(loss(2));
                entry.3 += (loss(1) + loss(2)) / 2.0;
                entry.4 += usize::from(chosen == if kind.starts_with('A') { 1 } else { 2 });
            }
        }
    }
    let rows = (EVAL_STEPS / 2 * BATCH) as f64;
    let (mut gate_sum, mut random_sum, mut mean_sum) = (0.0, 0.0, 0.0);
    for (kind, (g, r, o, m, right)) in &figures {
        eprintln!(
            "text {kind}: mean loss per row: gate {:.3}, random pick {:.3}, random expectation \
             {:.3}, oracle {:.3}; gate chose the miner trained on this text in {right} of {rows} rows",
            g / rows,
            r / rows,
            m / rows,
            o / rows
        );
        gate_sum += g;
        random_sum += r;
        mean_sum += m;
    }
    let n = rows * 2.0;
    eprintln!(
        "all: gate {:.3} nats, random pick {:.3}, random expectation {:.3}",
        gate_sum / n,
        random_sum / n,
        mean_sum / n
    );
    assert!(gate_sum < mean_sum, "gate {gate_sum} vs random expectation {mean_sum}");
    assert!(gate_sum < random_sum, "gate {gate_sum} vs random pick {random_sum}");
}
