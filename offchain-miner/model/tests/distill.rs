//! Distillation end to end on a tiny model: a student trained on a teacher's answers (through
//! the buffer) gets closer to it, and a run stopped and resumed ends with the same weights.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use subtensor_model::distill::{
    first_token_probs, held_out_kl, load_split, BufferConfig, BufferWriter, DistillObjective,
    DistillRecord,
};
use subtensor_model::train::{run, Checkpointing, TrainConfig};
use subtensor_model::{LanguageModel, WEIGHTS_FILE};
use tch::Device;

fn config(steps: usize, stop_after: Option<usize>) -> TrainConfig {
    TrainConfig {
        steps,
        batch_size: 16,
        seq_len: 24,
        learning_rate: 5e-3,
        warmup_steps: 2,
        progress: false,
        stop_after,
        ..TrainConfig::default()
    }
}

#[test]
fn a_student_approaches_its_teacher_and_resumes_exactly() {
    let vocab = 64i64;
    let shape = common::tiny(vocab);
    let teacher = LanguageModel::random(shape.clone(), Device::Cpu, 7).unwrap();
    let buffer = tempfile::tempdir().unwrap();
    let mut writer = BufferWriter::open(buffer.path(), BufferConfig::with_cap(1 << 24)).unwrap();
    let contexts: Vec<Vec<u32>> =
        (0..300u32).map(|i| (0..(4 + i % 12)).map(|j| (i * 7 + j * 13) % 64).collect()).collect();
    for chunk in contexts.chunks(50) {
        let answers = teacher.next_token_topk(chunk, 8).unwrap();
        let records: Vec<DistillRecord> = chunk
            .iter()
            .zip(answers)
            .map(|(context, a)| {
                let phrases: Vec<(f32, Vec<u32>)> =
                    a.ids.iter().zip(&a.probs).map(|(&id, &p)| (p, vec![id])).collect();
                let sum: f32 = a.probs.iter().sum();
                DistillRecord {
                    context: context.clone(),
                    teacher: first_token_probs(&phrases),
                    floor: (1.0 - sum) / (vocab as f32 - 8.0),
                    vocab: vocab as u32,
                    true_next: None,
                    uid: 0,
                    weight: 1.0,
                }
            })
            .collect();
        writer.append_batch(&records).unwrap();
    }
    let split = load_split(buffer.path(), 20).unwrap();
    assert!(!split.held_out.is_empty() && split.train.len() > split.held_out.len());

    let train = |stop: Option<usize>, dir: &std::path::Path, resume: bool| {
        let mut student = LanguageModel::random(shape.clone(), Device::Cpu, 1).unwrap();
        let before = held_out_kl(&student, &split.held_out).unwrap().unwrap();
        let mut objective =
            DistillObjective::new(&student, split.train.clone(), split.held_out.clone(), 0.0)
                .unwrap();
        let cp = Checkpointing { dir: dir.to_path_buf(), resume, extra_files: vec![] };
        let report = run(&mut student, &mut objective, &config(40, stop), Some(&cp)).unwrap();
        (before, report)
    };
    let whole = tempfile::tempdir().unwrap();
    let (before, report) = train(None, whole.path(), false);
    let after = report.held_out_loss.unwrap();
    assert!(after < before * 0.7, "held-out KL {before} -> {after}");

    let parts = tempfile::tempdir().unwrap();
    train(Some(15), parts.path(), false);
    let (_, resumed) = train(None, parts.path(), true);
    assert_eq!(resumed.step, 40);
    assert_eq!(
        std::fs::read(whole.path().join(WEIGHTS_FILE)).unwrap(),
        std::fs::read(parts.path().join(WEIGHTS_FILE)).unwrap()
    );
}
