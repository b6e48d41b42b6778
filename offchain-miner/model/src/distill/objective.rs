//! Distillation as a training [`Objective`]: each step draws contexts from the buffer's
//! teacher mixtures and minimises `KL(teacher ‖ student)` at each context's last position,
//! plus `ce_weight` × the cross-entropy of the true tokens along the context (each context
//! token predicts the next one, the last predicts the recorded true next token).

use super::loss::{kl_per_row, TeacherTarget};
use crate::model::LanguageModel;
use crate::train::{step_rng, Objective, TrainConfig};
use crate::{ModelError, Result};
use blake2::{Blake2s256, Digest};
use rand::Rng;
use tch::{Kind, Reduction, Tensor};

/// Rows per forward pass of the held-out KL.
const EVAL_ROWS: usize = 32;

/// Splits targets into (train, held out): a context is held out when the first byte of its
/// BLAKE2s-256 (over its ids, little-endian) is below `percent`% of 256, so all answers for one
/// context fall on the same side and the split does not depend on the buffer's order.
pub fn split_held_out(
    targets: Vec<TeacherTarget>,
    percent: u8,
) -> (Vec<TeacherTarget>, Vec<TeacherTarget>) {
    let threshold = u32::from(percent.min(100)).saturating_mul(256) / 100;
    targets.into_iter().partition(|t| {
        let mut h = Blake2s256::new();
        for id in &t.context {
            h.update(id.to_le_bytes());
        }
        let first = h.finalize().first().copied().unwrap_or(0);
        u32::from(first) >= threshold
    })
}

/// The student's inputs for a batch of contexts: ids right-padded with 0 to the longest
/// (causal attention keeps the padding from affecting real positions), long contexts keeping
/// their last `n_positions` tokens; the flat index of each row's last position; and the
/// next-token targets (`-100` where there is none).
struct Batch {
    tokens: Tensor,
    last: Tensor,
    next: Tensor,
    tokens_count: u64,
}

fn make_batch(model: &LanguageModel, targets: &[&TeacherTarget]) -> Result<Batch> {
    let window = usize::try_from(model.config().n_positions).unwrap_or(usize::MAX);
    let rows: Vec<&[u32]> = targets
        .iter()
        .map(|t| t.context.get(t.context.len().saturating_sub(window)..).unwrap_or_default())
        .collect();
    let width = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    if width == 0 {
        return Err(ModelError::InvalidInput("empty distillation batch".into()));
    }
    let cells = rows.len().saturating_mul(width);
    let (mut tokens, mut next, mut last) =
        (Vec::with_capacity(cells), Vec::with_capacity(cells), Vec::with_capacity(rows.len()));
    let mut count = 0u64;
    for (i, (row, t)) in rows.iter().zip(targets).enumerate() {
        model.check_ids(row)?;
        for j in 0..width {
            tokens.push(row.get(j).map_or(0, |&id| i64::from(id)));
            let target = if j.saturating_add(1) == row.len() {
                t.true_next.map(i64::from)
            } else {
                row.get(j.saturating_add(1)).map(|&id| i64::from(id))
            };
            next.push(target.unwrap_or(-100));
        }
        let at = i.saturating_mul(width).saturating_add(row.len().saturating_sub(1));
        last.push(
            i64::try_from(at).map_err(|_| ModelError::InvalidInput("batch too large".into()))?,
        );
        count = count.saturating_add(row.len() as u64);
    }
    let n = i64::try_from(rows.len())
        .map_err(|_| ModelError::InvalidInput("batch too large".into()))?;
    let device = model.device();
    Ok(Batch {
        tokens: Tensor::f_from_slice(&tokens)?.f_view([n, -1])?.f_to_device(device)?,
        last: Tensor::f_from_slice(&last)?.f_to_device(device)?,
        next: Tensor::f_from_slice(&next)?.f_to_device(device)?,
        tokens_count: count,
    })
}

/// The student's mean KL over `targets` (and, with `ce_weight > 0`, the cross-entropy term),
/// with gradients; returns (KL, CE, tokens).
fn batch_losses(
    model: &LanguageModel,
    targets: &[&TeacherTarget],
    with_ce: bool,
) -> Result<(Tensor, Option<Tensor>, u64)> {
    let b = make_batch(model, targets)?;
    let vocab = model.config().vocab_size;
    let logits = model.head(&model.hidden(&b.tokens, None)?)?.f_view([-1, vocab])?;
    let last = logits.f_index_select(0, &b.last)?.f_log_softmax(-1, Kind::Float)?;
    let kl = kl_per_row(&last, targets)?.f_mean(Kind::Float)?;
    let ce = if with_ce {
        Some(logits.f_cross_entropy_loss::<Tensor>(&b.next, None, Reduction::Mean, -100, 0.0)?)
    } else {
        None
    };
    Ok((kl, ce, b.tokens_count))
}

/// The mean KL(teacher ‖ model) over `targets` (no gradients; 0 targets give `None`).
pub fn held_out_kl(model: &LanguageModel, targets: &[TeacherTarget]) -> Result<Option<f64>> {
    if targets.is_empty() {
        return Ok(None);
    }
    let mut sum = 0.0;
    for chunk in targets.chunks(EVAL_ROWS) {
        let refs: Vec<&TeacherTarget> = chunk.iter().collect();
        let (kl, _, _) = tch::no_grad(|| batch_losses(model, &refs, false))?;
        sum += kl.f_double_value(&[])? * chunk.len() as f64;
    }
    Ok(Some(sum / targets.len() as f64))
}

/// Distillation on a buffer's teacher mixtures (see the module documentation).
#[derive(Clone, Debug)]
pub struct DistillObjective {
    /// Training contexts.
    pub train: Vec<TeacherTarget>,
    /// Held-out contexts (the held-out measure is their mean KL).
    pub held_out: Vec<TeacherTarget>,
    /// Weight of the cross-entropy of the true tokens (0 = pure distillation).
    pub ce_weight: f64,
}

impl DistillObjective {
    /// Checks that there is training data and that its vocabulary is the model's.
    pub fn new(
        model: &LanguageModel,
        train: Vec<TeacherTarget>,
        held_out: Vec<TeacherTarget>,
        ce_weight: f64,
    ) -> Result<Self> {
        if train.is_empty() {
            return Err(ModelError::InvalidInput("no training contexts in the buffer".into()));
        }
        if !(ce_weight.is_finite() && ce_weight >= 0.0) {
            return Err(ModelError::InvalidInput(format!("ce weight {ce_weight} must be >= 0")));
        }
        let vocab = model.config().vocab_size;
        if let Some(t) = train.iter().chain(&held_out).find(|t| i64::from(t.vocab) != vocab) {
            return Err(ModelError::InvalidInput(format!(
                "the buffer's answers are over {} tokens but the student has {vocab}",
                t.vocab
            )));
        }
        Ok(Self { train, held_out, ce_weight })
    }
}

impl Objective for DistillObjective {
    fn loss(
        &mut self,
        model: &LanguageModel,
        step: usize,
        config: &TrainConfig,
    ) -> Result<(Tensor, u64)> {
        let mut rng = step_rng(config.seed, step);
        let picked: Vec<&TeacherTarget> = (0..config.batch_size)
            .filter_map(|_| self.train.get(rng.gen_range(0..self.train.len())))
            .collect();
        let (kl, ce, tokens) = batch_losses(model, &picked, self.ce_weight > 0.0)?;
        let loss = match ce {
            Some(ce) => kl.f_add(&ce.f_mul_scalar(self.ce_weight)?)?,
            None => kl,
        };
        Ok((loss, tokens))
    }

    fn held_out(&self, model: &LanguageModel, config: &TrainConfig) -> Result<Option<f64>> {
        let n = match config.eval_batches {
            0 => self.held_out.len(),
            b => b.saturating_mul(16).min(self.held_out.len()),
        };
        held_out_kl(model, self.held_out.get(..n).unwrap_or_default())
    }

    fn data_len(&self) -> usize {
        self.train.len()
    }

    fn metric(&self) -> &'static str {
        "held-out KL"
    }
}
