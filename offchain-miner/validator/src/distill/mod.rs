//! Feeding the distillation buffer (`--distill-buffer`): after each loss-scored step, one
//! record per (batch row, answering uid) with the row's context, the answer reduced to first
//! tokens, its floor, the true next token and the uid's current score as its teacher weight.
//!
//! [`collect`] fills a buffer on purpose instead (`--distill-collect`): the best miners by
//! incentive asked on contexts of the training split, weighted by their incentive.

pub mod collect;

use crate::data::Batch;
use crate::state::State;
use crate::step::{StepReport, UidOutcome};
use crate::{Result, ValidatorError};
use std::path::Path;
use subtensor_axon::synapse::TopkPhrases;
use subtensor_model::distill::{first_token_probs, BufferConfig, BufferWriter, DistillRecord};

/// One uid's answer rows as records: row `i` pairs `inputs[i]` with `rows[i]`, its true next
/// token being the first of `targets[i]`; `weight` is the uid's teacher weight (negative or
/// non-finite weights count as 0). Rows beyond the shorter list are ignored.
pub fn answer_records(
    inputs: &[Vec<u32>],
    targets: &[Vec<u32>],
    rows: &[TopkPhrases],
    uid: u16,
    weight: f64,
    vocab: u32,
) -> Vec<DistillRecord> {
    let weight = if weight.is_finite() && weight > 0.0 { weight as f32 } else { 0.0 };
    inputs
        .iter()
        .zip(rows)
        .enumerate()
        .map(|(i, (context, row))| DistillRecord {
            context: context.clone(),
            teacher: first_token_probs(&row.phrases),
            floor: row.floor,
            vocab,
            true_next: targets.get(i).and_then(|t| t.first().copied()),
            uid,
            weight,
        })
        .collect()
}

/// The records of `outcomes` (the answers to one `batch`): every uid whose answer scored,
/// weighted by `weight(uid)`.
pub fn outcome_records(
    outcomes: &[UidOutcome],
    batch: &Batch,
    weight: impl Fn(u16) -> f64,
    vocab: u32,
) -> Vec<DistillRecord> {
    let mut out = Vec::new();
    for outcome in outcomes.iter().filter(|o| !o.observation.is_failure()) {
        let Ok(reply) = &outcome.reply else { continue };
        let Ok(rows) = reply.synapse.outputs() else { continue };
        out.extend(answer_records(
            &batch.inputs,
            &batch.targets,
            &rows,
            outcome.uid,
            weight(outcome.uid),
            vocab,
        ));
    }
    out
}

/// The records of a step: every uid whose answer scored, weighted by its score in `state`
/// (after the step's update).
pub fn step_records(report: &StepReport, state: &State, vocab: u32) -> Vec<DistillRecord> {
    let score = |uid: u16| state.uids.get(&uid).map_or(0.0, |s| s.score);
    outcome_records(&report.outcomes, &report.batch, score, vocab)
}

/// An open distillation buffer and the vocabulary its answers are over.
#[derive(Debug)]
pub struct DistillSink {
    writer: BufferWriter,
    vocab: u32,
}

impl DistillSink {
    /// Opens (or creates) the buffer in `dir`, capped at `cap_mb` MiB.
    pub fn open(dir: &Path, cap_mb: u64, vocab: u32) -> Result<Self> {
        let config = BufferConfig::with_cap(cap_mb.saturating_mul(1 << 20));
        let writer = BufferWriter::open(dir, config)
            .map_err(|e| ValidatorError::Distill(format!("{}: {e}", dir.display())))?;
        Ok(Self { writer, vocab })
    }

    /// The vocabulary the answers are over.
    pub fn vocab(&self) -> u32 {
        self.vocab
    }

    /// The buffer's current size in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.writer.total_bytes()
    }

    /// Appends `records` as one synced batch.
    pub fn append(&mut self, records: &[DistillRecord]) -> Result<()> {
        self.writer.append_batch(records).map_err(|e| ValidatorError::Distill(e.to_string()))
    }

    /// Appends the records of `report` (one synced batch); returns how many.
    pub fn record_step(&mut self, report: &StepReport, state: &State) -> Result<usize> {
        let records = step_records(report, state, self.vocab);
        self.append(&records)?;
        Ok(records.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use subtensor_model::distill::read_records;

    #[test]
    fn answers_become_records_and_reach_the_buffer() {
        let rows = vec![
            TopkPhrases { phrases: vec![(0.5, vec![3, 4]), (0.25, vec![3])], floor: 0.125 },
            TopkPhrases { phrases: vec![(0.5, vec![1]), (0.0, vec![0])], floor: 0.25 },
        ];
        let inputs = vec![vec![1, 2], vec![2, 3]];
        let targets = vec![vec![3, 4], vec![1, 1]];
        let records = answer_records(&inputs, &targets, &rows, 9, f64::NAN, 4);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].teacher, vec![(3, 0.75)]);
        assert_eq!(records[1].teacher, vec![(1, 0.5)]);
        assert_eq!(records[0].true_next, Some(3));
        assert_eq!((records[1].uid, records[1].weight), (9, 0.0));
        let dir = tempfile::tempdir().unwrap();
        let config = BufferConfig::with_cap(1 << 20);
        BufferWriter::open(dir.path(), config).unwrap().append_batch(&records).unwrap();
        assert_eq!(read_records(dir.path()).unwrap().records, records);
    }
}
