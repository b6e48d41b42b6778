//! Inference on batches of token rows: logits, hidden states, top-k distributions and the
//! held-out loss.

use crate::model::LanguageModel;
use crate::{ModelError, Result};
use tch::{Device, Kind, Reduction, Tensor};

/// The `k` most likely tokens of one distribution, most likely first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenTopk {
    /// Token ids, by descending probability.
    pub ids: Vec<u32>,
    /// Their softmax probabilities (descending; they sum to at most 1).
    pub probs: Vec<f32>,
}

/// Rows per forward pass in [`LanguageModel::held_out_loss`].
const EVAL_ROWS: usize = 16;

/// Copies a tensor into a flat `Vec<f32>` on the CPU.
pub(crate) fn to_f32_vec(t: &Tensor) -> Result<Vec<f32>> {
    let flat = t.f_to_device(Device::Cpu)?.f_to_kind(Kind::Float)?.f_contiguous()?.f_view([-1])?;
    Ok(Vec::<f32>::try_from(&flat)?)
}

fn to_i64_vec(t: &Tensor) -> Result<Vec<i64>> {
    let flat = t.f_to_device(Device::Cpu)?.f_to_kind(Kind::Int64)?.f_contiguous()?.f_view([-1])?;
    Ok(Vec::<i64>::try_from(&flat)?)
}

impl LanguageModel {
    /// Checks token ids against the vocabulary.
    pub(crate) fn check_ids(&self, ids: &[u32]) -> Result<()> {
        if let Some(bad) = ids.iter().find(|&&id| i64::from(id) >= self.config.vocab_size) {
            return Err(ModelError::InvalidInput(format!(
                "token id {bad} is outside the vocabulary of {} tokens",
                self.config.vocab_size
            )));
        }
        Ok(())
    }

    /// Validates a batch (non-empty, rows non-empty and of equal length, ids in the
    /// vocabulary), keeps the last `n_positions` tokens of each row, and returns it as an int64
    /// `[B, T]` tensor on the model's device.
    pub(crate) fn batch_tensor(&self, batch: &[Vec<u32>]) -> Result<Tensor> {
        let first = batch.first().ok_or_else(|| ModelError::InvalidInput("empty batch".into()))?;
        let len = first.len();
        if len == 0 {
            return Err(ModelError::InvalidInput("empty token row".into()));
        }
        if let Some((i, row)) = batch.iter().enumerate().find(|(_, r)| r.len() != len) {
            return Err(ModelError::InvalidInput(format!(
                "rows of a batch must have equal length: row 0 has {len} tokens, row {i} has {}",
                row.len()
            )));
        }
        let window = usize::try_from(self.config.n_positions).unwrap_or(usize::MAX);
        let keep = len.min(window);
        let skip = len.saturating_sub(keep);
        let mut flat: Vec<i64> = Vec::with_capacity(batch.len().saturating_mul(keep));
        for row in batch {
            self.check_ids(row)?;
            flat.extend(row.iter().skip(skip).map(|&id| i64::from(id)));
        }
        let rows = i64::try_from(batch.len())
            .map_err(|_| ModelError::InvalidInput("batch too large".into()))?;
        let cols =
            i64::try_from(keep).map_err(|_| ModelError::InvalidInput("rows too long".into()))?;
        Ok(Tensor::f_from_slice(&flat)?.f_view([rows, cols])?.f_to_device(self.device())?)
    }

    /// Logits `[B, T, vocab_size]` (f32, on the CPU) of a batch of equal-length rows, without
    /// gradients. Rows longer than `n_positions` keep their last `n_positions` tokens, so `T`
    /// is at most `n_positions`.
    pub fn logits(&self, batch: &[Vec<u32>]) -> Result<Tensor> {
        let tokens = self.batch_tensor(batch)?;
        tch::no_grad(|| {
            let hidden = self.hidden(&tokens, None)?;
            Ok(self.head(&hidden)?.f_to_device(Device::Cpu)?.f_to_kind(Kind::Float)?)
        })
    }

    /// The final hidden states `[B, T, n_embd]` (after `ln_f`; f32, on the CPU) of a batch of
    /// equal-length rows, without gradients; long rows are left-truncated as in [`Self::logits`].
    pub fn hidden_states(&self, batch: &[Vec<u32>]) -> Result<Tensor> {
        let tokens = self.batch_tensor(batch)?;
        tch::no_grad(|| {
            Ok(self.hidden(&tokens, None)?.f_to_device(Device::Cpu)?.f_to_kind(Kind::Float)?)
        })
    }

    /// The `k` most likely next tokens after each row (`k` is capped at the vocabulary size).
    /// Rows may differ in length: rows of equal length share one forward pass.
    pub fn next_token_topk(&self, batch: &[Vec<u32>], k: usize) -> Result<Vec<TokenTopk>> {
        if batch.is_empty() {
            return Err(ModelError::InvalidInput("empty batch".into()));
        }
        let mut by_len: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for (i, row) in batch.iter().enumerate() {
            by_len.entry(row.len()).or_default().push(i);
        }
        let mut out: Vec<Option<TokenTopk>> = vec![None; batch.len()];
        for indices in by_len.values() {
            let rows: Vec<Vec<u32>> =
                indices.iter().filter_map(|&i| batch.get(i).cloned()).collect();
            let tokens = self.batch_tensor(&rows)?;
            let last = tch::no_grad(|| -> Result<Tensor> {
                let hidden = self.hidden(&tokens, None)?;
                let last = hidden.f_select(1, -1)?;
                self.head(&last)
            })?;
            let lists = self.topk_of_logits(&last, k)?;
            for (&i, list) in indices.iter().zip(lists) {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(list);
                }
            }
        }
        out.into_iter()
            .map(|t| t.ok_or_else(|| ModelError::InvalidInput("a row was not computed".into())))
            .collect()
    }

    /// The `k` most likely tokens at every position of each row (`[B][T]`; the distribution at
    /// position `t` is over the token following it). Rows must have equal length; long rows
    /// are left-truncated as in [`Self::logits`].
    pub fn position_topk(&self, batch: &[Vec<u32>], k: usize) -> Result<Vec<Vec<TokenTopk>>> {
        let tokens = self.batch_tensor(batch)?;
        let (b, t) = tokens.size2()?;
        let logits = tch::no_grad(|| -> Result<Tensor> {
            let hidden = self.hidden(&tokens, None)?;
            Ok(self.head(&hidden)?.f_view([b.saturating_mul(t), self.config.vocab_size])?)
        })?;
        let flat = self.topk_of_logits(&logits, k)?;
        let per_row = usize::try_from(t).unwrap_or(0).max(1);
        let mut rows: Vec<Vec<TokenTopk>> = Vec::with_capacity(batch.len());
        let mut iter = flat.into_iter();
        for _ in 0..b {
            rows.push(iter.by_ref().take(per_row).collect());
        }
        Ok(rows)
    }

    /// Top-k of the softmax of each row of `logits` (`[N, V]`).
    fn topk_of_logits(&self, logits: &Tensor, k: usize) -> Result<Vec<TokenTopk>> {
        let (n, v) = logits.size2()?;
        let k = i64::try_from(k).unwrap_or(i64::MAX).min(v);
        let rows = usize::try_from(n).unwrap_or(0);
        if k == 0 {
            return Ok(vec![TokenTopk::default(); rows]);
        }
        let (values, indices) = tch::no_grad(|| -> Result<(Tensor, Tensor)> {
            let probs = logits.f_to_kind(Kind::Float)?.f_softmax(-1, Kind::Float)?;
            Ok(probs.f_topk(k, -1, true, true)?)
        })?;
        let values = to_f32_vec(&values)?;
        let indices = to_i64_vec(&indices)?;
        let k = usize::try_from(k).unwrap_or(0);
        Ok(values
            .chunks(k)
            .zip(indices.chunks(k))
            .map(|(p, ids)| TokenTopk {
                ids: ids.iter().map(|&i| u32::try_from(i).unwrap_or(u32::MAX)).collect(),
                probs: p.to_vec(),
            })
            .collect())
    }

    /// Mean cross-entropy (nats per predicted token) of the model on `tokens`, cut into
    /// consecutive windows of `seq_len + 1` tokens (`seq_len` capped at `n_positions`), run
    /// 16 windows per batch, over at most `max_batches` batches (0 = all). If `tokens` are
    /// shorter than one window, the single window of all of them is used. Needs 2 tokens.
    pub fn held_out_loss(&self, tokens: &[u32], seq_len: usize, max_batches: usize) -> Result<f64> {
        if tokens.len() < 2 {
            return Err(ModelError::InvalidInput(format!(
                "held-out loss needs at least 2 tokens, got {}",
                tokens.len()
            )));
        }
        if seq_len == 0 {
            return Err(ModelError::InvalidInput("seq_len must be at least 1".into()));
        }
        self.check_ids(tokens)?;
        let window = usize::try_from(self.config.n_positions).unwrap_or(usize::MAX);
        let seq = seq_len.min(window).min(tokens.len().saturating_sub(1));
        let span = seq.saturating_add(1);
        let count = tokens.len().saturating_sub(1).checked_div(seq).unwrap_or(0);
        let mut starts: Vec<usize> = (0..count).map(|i| i.saturating_mul(seq)).collect();
        if max_batches > 0 {
            starts.truncate(max_batches.saturating_mul(EVAL_ROWS));
        }
        let mut total = 0.0f64;
        let mut predicted = 0usize;
        for chunk in starts.chunks(EVAL_ROWS) {
            let mut inputs: Vec<i64> = Vec::with_capacity(chunk.len().saturating_mul(seq));
            let mut targets: Vec<i64> = Vec::with_capacity(chunk.len().saturating_mul(seq));
            for &start in chunk {
                let win = tokens.get(start..start.saturating_add(span)).ok_or_else(|| {
                    ModelError::InvalidInput("window past the end of the tokens".into())
                })?;
                inputs.extend(win.iter().take(seq).map(|&t| i64::from(t)));
                targets.extend(win.iter().skip(1).map(|&t| i64::from(t)));
            }
            let rows = i64::try_from(chunk.len())
                .map_err(|_| ModelError::InvalidInput("too many windows".into()))?;
            let cols = i64::try_from(seq)
                .map_err(|_| ModelError::InvalidInput("seq_len too large".into()))?;
            let device = self.device();
            let x = Tensor::f_from_slice(&inputs)?.f_view([rows, cols])?.f_to_device(device)?;
            let y = Tensor::f_from_slice(&targets)?.f_view([-1])?.f_to_device(device)?;
            let sum = tch::no_grad(|| -> Result<f64> {
                let logits = self.head(&self.hidden(&x, None)?)?;
                let logp =
                    logits.f_view([-1, self.config.vocab_size])?.f_log_softmax(-1, Kind::Float)?;
                let loss = logp.f_nll_loss::<Tensor>(&y, None, Reduction::Sum, -100)?;
                Ok(loss.f_double_value(&[])?)
            })?;
            total += sum;
            predicted = predicted.saturating_add(targets.len());
        }
        if predicted == 0 {
            return Err(ModelError::InvalidInput("no held-out windows".into()));
        }
        Ok(total / predicted as f64)
    }
}
