//! Model, inference, generation, tokenizer and corpus tests on tiny models built on the fly.
#![allow(
    missing_docs,
    clippy::type_complexity,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use subtensor_model::{
    Corpus, GenerateParams, GptConfig, LanguageModel, ModelError, TextTokenizer, CONFIG_FILE,
    WEIGHTS_FILE,
};
use tch::{Device, Kind, Tensor};

fn model(seed: i64) -> LanguageModel {
    LanguageModel::random(common::tiny(300), Device::Cpu, seed).unwrap()
}

fn rows() -> Vec<Vec<u32>> {
    vec![vec![1, 5, 9, 200, 17, 3], vec![299, 0, 0, 42, 42, 8]]
}

fn weights(m: &LanguageModel) -> Vec<(String, Tensor)> {
    m.named_parameters().iter().map(|(n, t)| (n.clone(), t.detach().copy())).collect()
}

fn read_weights(dir: &Path) -> Vec<(String, Tensor)> {
    Tensor::read_safetensors(dir.join(WEIGHTS_FILE)).unwrap()
}

fn write_weights(dir: &Path, tensors: &[(String, Tensor)]) {
    Tensor::write_safetensors(tensors, dir.join(WEIGHTS_FILE)).unwrap();
}

fn expect_weights_error(dir: &Path, needle: &str) {
    match LanguageModel::load(dir, Device::Cpu) {
        Err(ModelError::Weights(msg)) => assert!(msg.contains(needle), "{msg:?} lacks {needle:?}"),
        Err(other) => panic!("expected a weights error about {needle:?}, got {other}"),
        Ok(_) => panic!("expected a weights error about {needle:?}"),
    }
}

#[test]
fn save_load_round_trip_gives_identical_logits() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nested").join("model");
    let m = model(1);
    m.save(&dir).unwrap();
    let loaded = LanguageModel::load(&dir, Device::Cpu).unwrap();
    assert_eq!(loaded.config(), m.config());
    assert_eq!(loaded.num_parameters(), m.num_parameters());
    assert_eq!(m.num_parameters(), m.config().num_parameters());
    assert!(m.logits(&rows()).unwrap().equal(&loaded.logits(&rows()).unwrap()));
    for ((na, a), (nb, b)) in weights(&m).iter().zip(weights(&loaded).iter()) {
        assert_eq!(na, nb);
        assert!(a.equal(b), "{na} differs");
    }
    // HF names with the GPT2LMHeadModel prefix; no temporary files left behind.
    let names: Vec<String> = read_weights(&dir).into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"transformer.h.1.mlp.c_fc.weight".to_owned()));
    let entries: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let parent_entries = std::fs::read_dir(dir.parent().unwrap()).unwrap().count();
    assert_eq!(parent_entries, 1);
    // Saving another model over an existing directory replaces the weights and keeps other files.
    std::fs::write(dir.join("tokenizer.json"), "{}").unwrap();
    let other = model(2);
    other.save(&dir).unwrap();
    let reloaded = LanguageModel::load(&dir, Device::Cpu).unwrap();
    assert!(other.logits(&rows()).unwrap().equal(&reloaded.logits(&rows()).unwrap()));
    assert!(dir.join("tokenizer.json").is_file());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
    // A file where the directory should be is an error.
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    assert!(m.save(&file).is_err());
}

#[test]
fn config_json_is_gpt2() {
    let tmp = tempfile::tempdir().unwrap();
    let mut m = model(1);
    m.set_eos_token_id(Some(0)).unwrap();
    assert!(m.set_eos_token_id(Some(300)).is_err());
    m.save(tmp.path()).unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join(CONFIG_FILE)).unwrap()).unwrap();
    assert_eq!(v["model_type"], "gpt2");
    assert_eq!(v["architectures"][0], "GPT2LMHeadModel");
    assert_eq!(v["activation_function"], "gelu_new");
    assert_eq!(v["n_embd"], 32);
    assert_eq!(v["eos_token_id"], 0);
    let back: GptConfig = serde_json::from_value(v).unwrap();
    assert_eq!(&back, m.config());
    assert_eq!(LanguageModel::load(tmp.path(), Device::Cpu).unwrap().eos_token_id(), Some(0));
}

#[test]
fn hugging_face_names_are_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(3);
    m.save(tmp.path()).unwrap();
    let expected = m.logits(&rows()).unwrap();
    let saved = read_weights(tmp.path());
    let wte = saved.iter().find(|(n, _)| n == "transformer.wte.weight").unwrap().1.copy();
    // GPT2Model names (no prefix), old attention-mask buffers, and a tied lm_head.
    let mut plain: Vec<(String, Tensor)> = saved
        .iter()
        .map(|(n, t)| (n.trim_start_matches("transformer.").to_owned(), t.copy()))
        .collect();
    plain.push(("h.0.attn.bias".into(), Tensor::ones([1, 1, 32, 32], (Kind::Bool, Device::Cpu))));
    plain.push(("h.1.attn.masked_bias".into(), Tensor::from(-1e4f32)));
    plain.push(("lm_head.weight".into(), wte.copy()));
    write_weights(tmp.path(), &plain);
    let loaded = LanguageModel::load(tmp.path(), Device::Cpu).unwrap();
    assert!(loaded.logits(&rows()).unwrap().equal(&expected));
    // Half-precision weights are converted.
    let half: Vec<(String, Tensor)> =
        saved.iter().map(|(n, t)| (n.clone(), t.to_kind(Kind::Half))).collect();
    write_weights(tmp.path(), &half);
    let loaded = LanguageModel::load(tmp.path(), Device::Cpu).unwrap();
    let diff = (loaded.logits(&rows()).unwrap() - &expected).abs().max().double_value(&[]);
    assert!(diff < 1e-2, "{diff}");
    // An untied head is refused.
    let mut untied: Vec<(String, Tensor)> =
        saved.iter().map(|(n, t)| (n.clone(), t.copy())).collect();
    untied.push(("lm_head.weight".into(), wte + 1.0));
    write_weights(tmp.path(), &untied);
    expect_weights_error(tmp.path(), "lm_head.weight");
}

#[test]
fn loader_errors_name_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let m = model(4);
    m.save(dir).unwrap();
    let saved = read_weights(dir);
    let edit = |f: &dyn Fn(&mut Vec<(String, Tensor)>)| {
        let mut t: Vec<(String, Tensor)> =
            saved.iter().map(|(n, t)| (n.clone(), t.copy())).collect();
        f(&mut t);
        write_weights(dir, &t);
    };
    edit(&|t| t.retain(|(n, _)| n != "transformer.h.1.attn.c_proj.bias"));
    expect_weights_error(dir, "missing tensor \"h.1.attn.c_proj.bias\"");
    edit(&|t| {
        for (n, v) in t.iter_mut() {
            if n == "transformer.h.0.mlp.c_fc.weight" {
                *v = Tensor::zeros([128, 32], (Kind::Float, Device::Cpu));
            }
        }
    });
    expect_weights_error(dir, "transformer.h.0.mlp.c_fc.weight\" has shape [128, 32]");
    edit(&|t| {
        t.push((
            "transformer.h.7.ln_1.weight".into(),
            Tensor::ones([32], (Kind::Float, Device::Cpu)),
        ))
    });
    expect_weights_error(dir, "unknown tensor \"transformer.h.7.ln_1.weight\"");
    edit(&|t| {
        for (n, v) in t.iter_mut() {
            if n == "transformer.ln_f.bias" {
                *v = Tensor::full([32], f64::NAN, (Kind::Float, Device::Cpu));
            }
        }
    });
    expect_weights_error(dir, "ln_f.bias");
    edit(&|t| {
        for (n, v) in t.iter_mut() {
            if n == "transformer.ln_f.bias" {
                *v = Tensor::zeros([32], (Kind::Int64, Device::Cpu));
            }
        }
    });
    expect_weights_error(dir, "floating point");
    std::fs::write(dir.join(WEIGHTS_FILE), b"not safetensors").unwrap();
    expect_weights_error(dir, "safetensors");

    // Config errors.
    m.save(dir).unwrap();
    let good: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(CONFIG_FILE)).unwrap()).unwrap();
    let bad_config = |edit: &dyn Fn(&mut serde_json::Value), needle: &str| {
        let mut v = good.clone();
        edit(&mut v);
        std::fs::write(dir.join(CONFIG_FILE), serde_json::to_vec(&v).unwrap()).unwrap();
        match LanguageModel::load(dir, Device::Cpu) {
            Err(ModelError::Config(msg)) => {
                assert!(msg.contains(needle), "{msg:?} lacks {needle:?}")
            }
            Err(other) => panic!("expected a config error about {needle}, got {other}"),
            Ok(_) => panic!("expected a config error about {needle}"),
        }
    };
    bad_config(&|v| v["n_head"] = 5.into(), "multiple of n_head");
    bad_config(&|v| v["model_type"] = "llama".into(), "model_type");
    bad_config(&|v| v["activation_function"] = "relu".into(), "activation_function");
    bad_config(&|v| v["n_layer"] = 0.into(), "n_layer");
    bad_config(&|v| v["vocab_size"] = "big".into(), "vocab_size");
    bad_config(&|v| v["tie_word_embeddings"] = false.into(), "tie_word_embeddings");
    bad_config(&|v| v["n_inner"] = 100.into(), "n_inner");
    bad_config(&|v| drop(v.as_object_mut().unwrap().remove("n_embd")), "n_embd");
    // A different (valid) size makes the weights mis-shaped.
    let mut v = good.clone();
    v["n_positions"] = 64.into();
    std::fs::write(dir.join(CONFIG_FILE), serde_json::to_vec(&v).unwrap()).unwrap();
    expect_weights_error(dir, "wpe.weight");
    std::fs::write(dir.join(CONFIG_FILE), b"{ not json").unwrap();
    assert!(matches!(LanguageModel::load(dir, Device::Cpu), Err(ModelError::Json { .. })));
    std::fs::remove_file(dir.join(CONFIG_FILE)).unwrap();
    assert!(matches!(LanguageModel::load(dir, Device::Cpu), Err(ModelError::Io { .. })));
    assert!(LanguageModel::load(&dir.join("absent"), Device::Cpu).is_err());
    // Invalid shapes are refused before any allocation.
    let bad = GptConfig { n_embd: 30, ..common::tiny(300) };
    assert!(matches!(LanguageModel::random(bad, Device::Cpu, 0), Err(ModelError::Config(_))));
}

#[test]
fn cpu_inference_is_deterministic() {
    let a = model(7);
    let b = model(7);
    let first = a.logits(&rows()).unwrap();
    for _ in 0..3 {
        assert!(a.logits(&rows()).unwrap().equal(&first));
    }
    assert!(b.logits(&rows()).unwrap().equal(&first), "same seed, same weights");
    assert!(!model(8).logits(&rows()).unwrap().equal(&first), "another seed, other weights");
    assert_eq!(first.size(), vec![2, 6, 300]);
    assert_eq!(first.kind(), Kind::Float);
    let hidden = a.hidden_states(&rows()).unwrap();
    assert_eq!(hidden.size(), vec![2, 6, 32]);
    // The logits are the hidden states times the tied embedding.
    let wte = &a.named_parameters()[0].1;
    let again = hidden.matmul(&wte.detach().tr());
    let diff = (again - &first).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "{diff}");
    // Rows are independent of each other (batching does not change results).
    let single = a.logits(&rows()[1..]).unwrap();
    let diff = (single.get(0) - first.get(1)).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "{diff}");
    // forward_t matches logits and is causal: the first positions do not see later tokens.
    let tokens = Tensor::from_slice(&[1i64, 5, 9, 200, 17, 3]).view([1, 6]);
    let direct = tch::no_grad(|| a.forward_t(&tokens, false).unwrap());
    // One row against the same row in a batch of two: libtorch may pick other kernels (and
    // summation orders) for another batch shape, so equal up to rounding, not bit for bit.
    let diff = (direct - first.get(0).unsqueeze(0)).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "{diff}");
    let prefix = a.logits(&[vec![1, 5, 9]]).unwrap();
    let diff = (prefix.get(0) - first.get(0).narrow(0, 0, 3)).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn long_rows_are_left_truncated() {
    let m = model(9);
    let long: Vec<u32> = (0..50).map(|i| (i * 7) % 300).collect();
    let tail = long[50 - 32..].to_vec();
    let a = m.logits(std::slice::from_ref(&long)).unwrap();
    let b = m.logits(std::slice::from_ref(&tail)).unwrap();
    assert_eq!(a.size(), vec![1, 32, 300]);
    assert!(a.equal(&b));
    assert_eq!(m.next_token_topk(&[long], 3).unwrap(), m.next_token_topk(&[tail], 3).unwrap());
    // forward_t itself refuses over-long input.
    let too_long = Tensor::zeros([1, 33], (Kind::Int64, Device::Cpu));
    assert!(m.forward_t(&too_long, false).is_err());
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let m = model(10);
    let bad = vec![vec![1, 2, 300]];
    assert!(matches!(m.logits(&bad), Err(ModelError::InvalidInput(_))));
    assert!(m.hidden_states(&bad).is_err());
    assert!(m.next_token_topk(&bad, 5).is_err());
    assert!(m.position_topk(&bad, 5).is_err());
    assert!(m.generate(&[1, 2, 300], &GenerateParams::default()).is_err());
    assert!(m.held_out_loss(&[1, 2, 3, 300, 4], 2, 0).is_err());
    assert!(m.generate(&[1], &GenerateParams { eos_id: Some(300), ..Default::default() }).is_err());
    let t = Tensor::from_slice(&[1i64, 300]).view([1, 2]);
    assert!(m.forward_t(&t, false).is_err());
    let t = Tensor::from_slice(&[1i64, -1]).view([1, 2]);
    assert!(m.forward_t(&t, false).is_err());
    let t = Tensor::from_slice(&[1i64, 2]);
    assert!(m.forward_t(&t, false).is_err());
    assert!(m.forward_t(&Tensor::from_slice(&[1i32, 2]).view([1, 2]), false).is_err());
    // Ragged or empty batches.
    assert!(m.logits(&[vec![1, 2], vec![3]]).is_err());
    assert!(m.position_topk(&[vec![1, 2], vec![3]], 2).is_err());
    assert!(m.logits(&[]).is_err());
    assert!(m.logits(&[vec![]]).is_err());
    assert!(m.next_token_topk(&[], 2).is_err());
    assert!(m.held_out_loss(&[1], 4, 0).is_err());
    assert!(m.generate(&[1], &GenerateParams { top_p: 0.0, ..Default::default() }).is_err());
    assert!(m.generate(&[1], &GenerateParams { temperature: -1.0, ..Default::default() }).is_err());
    assert!(m.generate(&[], &GenerateParams::default()).is_err(), "no eos to start from");
}

#[test]
fn topk_matches_softmax_of_logits() {
    let m = model(11);
    let batch = rows();
    let logits = m.logits(&batch).unwrap();
    let next = m.next_token_topk(&batch, 10).unwrap();
    assert_eq!(next.len(), 2);
    for (b, topk) in next.iter().enumerate() {
        assert_eq!(topk.ids.len(), 10);
        assert_eq!(topk.probs.len(), 10);
        assert!(topk.probs.windows(2).all(|w| w[0] >= w[1]), "descending");
        let sum: f32 = topk.probs.iter().sum();
        assert!(sum <= 1.0 + 1e-5 && sum > 0.0);
        let probs = logits.get(b as i64).get(-1).softmax(-1, Kind::Float);
        for (id, p) in topk.ids.iter().zip(&topk.probs) {
            let want = probs.double_value(&[i64::from(*id)]) as f32;
            assert!((want - p).abs() < 1e-6, "{want} vs {p}");
        }
        let best = probs.argmax(0, false).int64_value(&[]);
        assert_eq!(i64::from(topk.ids[0]), best);
    }
    // All of the vocabulary sums to one; k is capped at the vocabulary.
    let all = m.next_token_topk(&batch[..1], 10_000).unwrap();
    assert_eq!(all[0].ids.len(), 300);
    let total: f32 = all[0].probs.iter().sum();
    assert!((total - 1.0).abs() < 1e-4);
    assert!(m.next_token_topk(&batch, 0).unwrap().iter().all(|t| t.ids.is_empty()));
    // Rows of different lengths are grouped, each answer in the order of the rows.
    let ragged = vec![vec![1, 2, 3], batch[0].clone(), vec![7]];
    let out = m.next_token_topk(&ragged, 4).unwrap();
    assert_eq!(out[1], m.next_token_topk(&batch[..1], 4).unwrap()[0]);
    assert_eq!(out[2], m.next_token_topk(&[vec![7]], 4).unwrap()[0]);
    // Every position's top-k; the last one is the next-token top-k.
    let pos = m.position_topk(&batch, 4).unwrap();
    assert_eq!(pos.len(), 2);
    assert_eq!(pos[0].len(), 6);
    for (b, row) in pos.iter().enumerate() {
        let last = &row[5];
        assert_eq!(last.ids, next[b].ids[..4].to_vec());
        let p = logits.get(b as i64).get(2).softmax(-1, Kind::Float);
        assert!(
            (p.double_value(&[i64::from(row[2].ids[0])]) as f32 - row[2].probs[0]).abs() < 1e-6
        );
    }
}

#[test]
fn generate_is_bounded_deterministic_and_cached_correctly() {
    let mut m = model(12);
    let prompt = vec![3, 14, 15, 92, 65];
    let params =
        GenerateParams { max_new_tokens: 12, temperature: 1.0, seed: 5, ..Default::default() };
    let a = m.generate(&prompt, &params).unwrap();
    assert_eq!(a.len(), 12);
    assert_eq!(m.generate(&prompt, &params).unwrap(), a, "same seed, same tokens");
    let others: Vec<Vec<u32>> = (6..10)
        .map(|seed| m.generate(&prompt, &GenerateParams { seed, ..params.clone() }).unwrap())
        .collect();
    assert!(others.iter().any(|o| o != &a), "other seeds give other samples");
    assert!(m
        .generate(&prompt, &GenerateParams { max_new_tokens: 0, ..params.clone() })
        .unwrap()
        .is_empty());
    // Greedy decoding with the cache equals re-running the full context every step, also past
    // the context window (40 new tokens after 5 > 32 positions).
    let greedy = GenerateParams { max_new_tokens: 40, temperature: 0.0, ..Default::default() };
    let fast = m.generate(&prompt, &greedy).unwrap();
    let mut context = prompt.clone();
    let mut slow = Vec::new();
    for _ in 0..40 {
        let top = m.next_token_topk(&[context.clone()], 1).unwrap();
        slow.push(top[0].ids[0]);
        context.push(top[0].ids[0]);
    }
    assert_eq!(fast, slow);
    // Generation stops before the end-of-text token.
    let eos = slow[3];
    let stopped =
        m.generate(&prompt, &GenerateParams { eos_id: Some(eos), ..greedy.clone() }).unwrap();
    assert_eq!(stopped, slow[..slow.iter().position(|&t| t == eos).unwrap()].to_vec());
    // n-gram blocking: no bigram repeats.
    let blocked =
        m.generate(&prompt, &GenerateParams { no_repeat_ngram_size: 2, ..greedy.clone() }).unwrap();
    let all: Vec<u32> = prompt.iter().chain(&blocked).copied().collect();
    let mut seen = std::collections::HashSet::new();
    for w in all.windows(2) {
        assert!(seen.insert((w[0], w[1])), "bigram {w:?} repeated");
    }
    // An empty prompt starts from the end-of-text token when the model has one.
    m.set_eos_token_id(Some(0)).unwrap();
    assert_eq!(m.generate(&[], &greedy).unwrap(), m.generate(&[0], &greedy).unwrap());
}

#[test]
fn held_out_loss_is_mean_cross_entropy() {
    let m = model(13);
    let tokens: Vec<u32> = (0..41).map(|i| (i * 13) % 300).collect();
    // Windows of 8 (+1): 5 windows cover tokens 0..=40.
    let loss = m.held_out_loss(&tokens, 8, 0).unwrap();
    let mut total = 0.0;
    for w in 0..5 {
        let win = &tokens[w * 8..w * 8 + 9];
        let logits = m.logits(&[win[..8].to_vec()]).unwrap().get(0);
        let logp = logits.log_softmax(-1, Kind::Float);
        for t in 0..8 {
            total -= logp.double_value(&[t as i64, i64::from(win[t + 1])]);
        }
    }
    let want = total / 40.0;
    assert!((loss - want).abs() < 1e-5, "{loss} vs {want}");
    // A random model is near uniform: ln(300) = 5.70.
    assert!((loss - 300f64.ln()).abs() < 0.5, "{loss}");
    // max_batches limits the windows (one batch of 16 windows of 2 tokens = 32 targets).
    let limited = m.held_out_loss(&tokens, 2, 1).unwrap();
    assert!(limited.is_finite());
    let short = m.held_out_loss(&tokens[..3], 8, 0).unwrap();
    assert!(short.is_finite());
}

#[test]
fn tokenizer_trains_round_trips_and_fingerprints() {
    let tmp = tempfile::tempdir().unwrap();
    let tok = common::tokenizer(400);
    assert!(tok.vocab_size() <= 400 && tok.vocab_size() > 257, "{}", tok.vocab_size());
    assert_eq!(tok.eot_id(), Some(0));
    let text = "The cat sat on the mat. Ünïcödé and emoji 🦀 still encode!";
    let ids = tok.encode(text).unwrap();
    assert_eq!(tok.decode(&ids).unwrap(), text);
    assert!(ids.len() < text.len(), "merges shorten common text");
    let with_eot = tok.encode("a<|endoftext|>b").unwrap();
    assert!(with_eot.contains(&0));
    assert!(tok.decode(&[100_000]).is_err());
    let path = tmp.path().join("tokenizer.json");
    tok.save(&path).unwrap();
    let loaded = TextTokenizer::load(&path).unwrap();
    assert_eq!(loaded.fingerprint(), tok.fingerprint());
    assert_eq!(loaded.encode(text).unwrap(), ids);
    assert_eq!(
        common::tokenizer(400).fingerprint(),
        tok.fingerprint(),
        "training is deterministic"
    );
    assert_ne!(common::tokenizer(350).fingerprint(), tok.fingerprint());
    assert_eq!(tok.fingerprint().len(), 64);
    assert!(TextTokenizer::train_bpe(&["abc".to_owned()], 100).is_err());
    assert!(TextTokenizer::train_bpe(&[], 1000).is_err());
    std::fs::write(&path, "{\"not\": \"a tokenizer\"}").unwrap();
    assert!(TextTokenizer::load(&path).is_err());
    assert!(TextTokenizer::load(&tmp.path().join("absent.json")).is_err());
}

#[test]
fn corpus_reads_fortunes_and_paragraphs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("b-fortunes"), "One.\n%\nTwo\n  -- Author\n%\n").unwrap();
    std::fs::write(root.join("b-fortunes.dat"), [0u8, 1, 2, 3]).unwrap();
    std::fs::write(root.join("a-prose"), "Para A.\n\nPara B\ncontinued.\n").unwrap();
    std::fs::write(root.join("sub").join("c-more"), "Para C.").unwrap();
    std::fs::write(root.join("z-latin1"), [0x63u8, 0x61, 0x66, 0xe9]).unwrap();
    std::fs::write(root.join(".hidden"), "Hidden.").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("a-prose"), root.join("a-prose.u8")).unwrap();
    let corpus = Corpus::load(root).unwrap();
    assert_eq!(
        corpus.train,
        vec!["Para A.", "Para B\ncontinued.", "One.", "Two\n  -- Author", "Para C."]
    );
    assert!(corpus.held_out.is_empty());
    assert_eq!(corpus.bytes(), corpus.train.iter().map(String::len).sum::<usize>());
    let single = Corpus::load(&root.join("b-fortunes")).unwrap();
    assert_eq!(single.train.len(), 2);
    assert!(Corpus::load(&root.join("absent")).is_err());
    let empty = root.join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(matches!(Corpus::load(&empty), Err(ModelError::Corpus(_))));
    // Encoding joins documents with the end-of-text token.
    let tok = common::tokenizer(300);
    let docs = Corpus::from_documents(vec!["Hello there.".into(), "General Kenobi.".into()]);
    let ids = docs.encode_train(&tok).unwrap();
    assert_eq!(ids.iter().filter(|&&t| Some(t) == tok.eot_id()).count(), 2);
    assert_eq!(*ids.last().unwrap(), 0);
    assert_eq!(tok.decode(&ids).unwrap(), "Hello there.<|endoftext|>General Kenobi.<|endoftext|>");
    assert!(docs.encode_held_out(&tok).unwrap().is_empty());
}

#[test]
fn random_init_follows_gpt2() {
    let m = LanguageModel::random(
        GptConfig {
            vocab_size: 500,
            n_positions: 64,
            n_embd: 64,
            n_layer: 8,
            n_head: 4,
            layer_norm_epsilon: 1e-5,
        },
        Device::Cpu,
        0,
    )
    .unwrap();
    let params: BTreeMap<String, Tensor> = weights(&m).into_iter().collect();
    let std = |n: &str| params[n].std(true).double_value(&[]);
    assert!((std("wte.weight") - 0.02).abs() < 0.001);
    assert!((std("h.0.attn.c_attn.weight") - 0.02).abs() < 0.001);
    assert!(
        (std("h.3.mlp.c_proj.weight") - 0.02 / 4.0).abs() < 0.0005,
        "scaled by 1/sqrt(2 n_layer)"
    );
    assert_eq!(params["h.2.ln_1.weight"].sum(Kind::Float).double_value(&[]), 64.0);
    assert_eq!(params["h.2.attn.c_attn.bias"].abs().sum(Kind::Float).double_value(&[]), 0.0);
    assert_eq!(params["h.0.attn.c_attn.weight"].size(), vec![64, 192], "Conv1D layout [in, out]");
}
