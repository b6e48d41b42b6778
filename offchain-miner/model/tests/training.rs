//! Training tests: the loss goes down, and a resumed run is bit-identical to an uninterrupted one.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::path::Path;
use subtensor_model::train::{
    train, Checkpointing, TrainConfig, TrainState, OPTIMIZER_FILE, STATE_FILE,
};
use subtensor_model::{GptConfig, LanguageModel, ModelError, WEIGHTS_FILE};
use tch::Device;

struct Data {
    vocab: i64,
    train: Vec<u32>,
    held_out: Vec<u32>,
}

fn data() -> Data {
    let tok = common::tokenizer(400);
    let corpus = common::corpus(400);
    Data {
        vocab: tok.vocab_size() as i64,
        train: corpus.encode_train(&tok).unwrap(),
        held_out: corpus.encode_held_out(&tok).unwrap(),
    }
}

fn config(steps: usize) -> TrainConfig {
    TrainConfig {
        steps,
        batch_size: 8,
        seq_len: 24,
        learning_rate: 3e-3,
        warmup_steps: 3,
        eval_batches: 4,
        progress: false,
        ..TrainConfig::default()
    }
}

fn shape(vocab: i64) -> GptConfig {
    common::tiny(vocab)
}

fn checkpoint(dir: &Path, resume: bool) -> Checkpointing {
    Checkpointing {
        dir: dir.to_path_buf(),
        resume,
        extra_files: vec![("note.txt".into(), b"hello".to_vec())],
    }
}

#[test]
fn training_lowers_held_out_loss() {
    let d = data();
    assert!(d.held_out.len() > 100);
    let mut model = LanguageModel::random(shape(d.vocab), Device::Cpu, 0).unwrap();
    let before = model.held_out_loss(&d.held_out, 24, 4).unwrap();
    let cfg = TrainConfig { eval_every: 20, ..config(60) };
    let report = train(&mut model, &d.train, &d.held_out, &cfg, None).unwrap();
    let after = report.held_out_loss.unwrap();
    assert!(after < before - 1.5, "held-out loss {before} -> {after}");
    assert!((model.held_out_loss(&d.held_out, 24, 4).unwrap() - after).abs() < 1e-9);
    assert!(report.train_loss < before - 1.5, "train loss {}", report.train_loss);
    assert_eq!(report.step, 60);
    assert_eq!(report.steps_run, 60);
    assert_eq!(report.tokens_seen, 60 * 8 * 24);
    assert!(report.tokens_per_sec > 0.0 && report.wall_time_secs > 0.0);
    let steps: Vec<usize> = report.held_out_history.iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, vec![20, 40, 60]);
}

#[test]
fn resumed_training_is_bit_identical() {
    let d = data();
    let tmp = tempfile::tempdir().unwrap();
    let (full_dir, split_dir) = (tmp.path().join("full"), tmp.path().join("split"));
    let cfg = TrainConfig { eval_every: 4, checkpoint_every: 3, ..config(12) };

    let mut full = LanguageModel::random(shape(d.vocab), Device::Cpu, 1).unwrap();
    let full_report =
        train(&mut full, &d.train, &d.held_out, &cfg, Some(&checkpoint(&full_dir, false))).unwrap();

    let mut first = LanguageModel::random(shape(d.vocab), Device::Cpu, 1).unwrap();
    let stop = TrainConfig { stop_after: Some(6), ..cfg.clone() };
    let half =
        train(&mut first, &d.train, &d.held_out, &stop, Some(&checkpoint(&split_dir, false)))
            .unwrap();
    assert_eq!(half.step, 6);
    assert_eq!(TrainState::load(&split_dir).unwrap().step, 6);
    assert_eq!(std::fs::read(split_dir.join("note.txt")).unwrap(), b"hello");
    // The resumed model starts from other weights: everything must come from the checkpoint.
    let mut resumed = LanguageModel::random(shape(d.vocab), Device::Cpu, 99).unwrap();
    let rest =
        train(&mut resumed, &d.train, &d.held_out, &cfg, Some(&checkpoint(&split_dir, true)))
            .unwrap();
    assert_eq!(rest.step, 12);
    assert_eq!(rest.steps_run, 6);
    assert_eq!(rest.tokens_seen, full_report.tokens_seen);

    for ((name, a), (_, b)) in full.named_parameters().iter().zip(resumed.named_parameters()) {
        assert!(a.equal(b), "{name} differs after resume");
    }
    assert_eq!(rest.train_loss.to_bits(), full_report.train_loss.to_bits());
    assert_eq!(rest.held_out_loss.map(f64::to_bits), full_report.held_out_loss.map(f64::to_bits));
    for file in [WEIGHTS_FILE, OPTIMIZER_FILE] {
        assert_eq!(
            std::fs::read(full_dir.join(file)).unwrap(),
            std::fs::read(split_dir.join(file)).unwrap(),
            "{file}"
        );
    }
    let (a, b) = (TrainState::load(&full_dir).unwrap(), TrainState::load(&split_dir).unwrap());
    assert_eq!(a.last_losses, b.last_losses);
    // The interrupted run also measured the held-out loss where it stopped.
    let b_held: Vec<(usize, f64)> = b.held_out.iter().copied().filter(|(s, _)| *s != 6).collect();
    assert_eq!(a.held_out, b_held);
    // The checkpoint is a loadable model directory.
    let loaded = LanguageModel::load(&full_dir, Device::Cpu).unwrap();
    let row = vec![d.train[..10].to_vec()];
    assert!(loaded.logits(&row).unwrap().equal(&full.logits(&row).unwrap()));
    // Resuming a finished run does nothing more.
    let again =
        train(&mut resumed, &d.train, &d.held_out, &cfg, Some(&checkpoint(&split_dir, true)))
            .unwrap();
    assert_eq!(again.steps_run, 0);
}

#[test]
fn checkpoint_misuse_is_an_error() {
    let d = data();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let mut model = LanguageModel::random(shape(d.vocab), Device::Cpu, 2).unwrap();
    let cfg = config(3);
    let err =
        train(&mut model, &d.train, &d.held_out, &cfg, Some(&checkpoint(&dir, true))).unwrap_err();
    assert!(matches!(err, ModelError::Checkpoint(_)), "{err}");
    train(&mut model, &d.train, &d.held_out, &cfg, Some(&checkpoint(&dir, false))).unwrap();
    // Starting fresh over a checkpoint would destroy it.
    let err =
        train(&mut model, &d.train, &d.held_out, &cfg, Some(&checkpoint(&dir, false))).unwrap_err();
    assert!(matches!(err, ModelError::Checkpoint(_)), "{err}");
    // Another model shape.
    let mut other =
        LanguageModel::random(GptConfig { n_layer: 1, ..shape(d.vocab) }, Device::Cpu, 2).unwrap();
    let more = config(6);
    assert!(train(&mut other, &d.train, &d.held_out, &more, Some(&checkpoint(&dir, true))).is_err());
    // Other training data.
    assert!(train(&mut model, &d.train[1..], &d.held_out, &more, Some(&checkpoint(&dir, true)))
        .is_err());
    // Optimizer state and training state out of step (as after an interrupted save).
    let state_path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&state_path).unwrap();
    std::fs::write(&state_path, text.replacen("\"step\": 3", "\"step\": 2", 1)).unwrap();
    let err =
        train(&mut model, &d.train, &d.held_out, &more, Some(&checkpoint(&dir, true))).unwrap_err();
    assert!(err.to_string().contains("step"), "{err}");
    // Bad hyper-parameters and too little data.
    assert!(train(
        &mut model,
        &d.train,
        &d.held_out,
        &TrainConfig { seq_len: 33, ..config(3) },
        None
    )
    .is_err());
    assert!(train(
        &mut model,
        &d.train,
        &d.held_out,
        &TrainConfig { learning_rate: f64::NAN, ..config(3) },
        None
    )
    .is_err());
    assert!(train(&mut model, &d.train[..24], &d.held_out, &config(3), None).is_err());
    assert!(train(
        &mut model,
        &[1, 2, 9999],
        &d.held_out,
        &TrainConfig { seq_len: 2, ..config(3) },
        None
    )
    .is_err());
}
