//! Batched grid decoding (one key/value cache for several requests) and batched teacher
//! forcing. The single-request entry points ([`LanguageModel::generate_grid`],
//! [`LanguageModel::teacher_forced_logits`]) run these with a batch of one.

use super::decode::{GridOutput, GridRequest};
use super::gumbel_row;
use super::sampling::{grid_pick, token_logprob};
use crate::forward::KvCache;
use crate::inference::to_f32_vec;
use crate::model::LanguageModel;
use crate::{ModelError, Result};
use std::time::Instant;
use tch::Tensor;

/// One row of a batched grid decoding: the output and, when asked for, the logits each
/// sampled token (the end-of-sequence one included) was picked from.
#[derive(Clone, Debug, Default)]
pub(crate) struct DecodedRow {
    /// What the row produced.
    pub(crate) output: GridOutput,
    /// One logits row per sampled token (empty unless logits were kept).
    pub(crate) logits: Vec<Vec<f32>>,
}

/// A row's state during decoding.
struct RowState<'a> {
    req: &'a GridRequest,
    /// The tokens to feed at the next step: the prompt, then the last sampled token (a
    /// finished row repeats its last fed token; its logits are ignored).
    feed: Vec<u32>,
    done: bool,
    row: DecodedRow,
}

/// `n` as an `i64` tensor dimension.
fn dim(n: usize) -> Result<i64> {
    i64::try_from(n).map_err(|_| ModelError::InvalidInput(format!("dimension {n} too large")))
}

/// Prefixes an invalid-input error with the row it is about.
fn in_row(i: usize) -> impl Fn(ModelError) -> ModelError {
    move |e| match e {
        ModelError::InvalidInput(msg) => ModelError::InvalidInput(format!("row {i}: {msg}")),
        other => other,
    }
}

impl LanguageModel {
    /// The last-position logits of each row after feeding `feed` (rows of equal length,
    /// continuing `cache`), one `vocab_size` row per batch row.
    fn cached_step_batch(&self, feed: &[&[u32]], cache: &mut KvCache) -> Result<Vec<Vec<f32>>> {
        let width = feed.first().map_or(0, |f| f.len());
        let ids: Vec<i64> = feed.iter().flat_map(|f| f.iter()).map(|&t| i64::from(t)).collect();
        let (rows, cols) = (dim(feed.len())?, dim(width)?);
        let flat = tch::no_grad(|| -> Result<Vec<f32>> {
            let tokens =
                Tensor::f_from_slice(&ids)?.f_view([rows, cols])?.f_to_device(self.device())?;
            let hidden = self.hidden(&tokens, Some(cache))?;
            to_f32_vec(&self.head(&hidden.f_select(1, -1)?)?)
        })?;
        Ok(flat.chunks(self.vocab_len().max(1)).map(<[f32]>::to_vec).collect())
    }

    /// Grid decoding of equal-length prompts in one batch with one key/value cache; each row
    /// follows its own request. Keeps each step's logits when `keep_logits`.
    pub(crate) fn grid_decode_batch<P: AsRef<[u32]>>(
        &self,
        prompts: &[P],
        reqs: &[GridRequest],
        keep_logits: bool,
    ) -> Result<Vec<DecodedRow>> {
        if prompts.len() != reqs.len() {
            return Err(ModelError::InvalidInput(format!(
                "{} prompts but {} grid requests",
                prompts.len(),
                reqs.len()
            )));
        }
        let width = prompts.first().map_or(0, |p| p.as_ref().len());
        for (i, (prompt, req)) in prompts.iter().zip(reqs).enumerate() {
            let prompt = prompt.as_ref();
            if prompt.len() != width {
                return Err(ModelError::InvalidInput(format!(
                    "prompts of a grid batch must have equal length: row 0 has {width} tokens, \
                     row {i} has {}",
                    prompt.len()
                )));
            }
            self.check_grid_request(prompt, req).map_err(in_row(i))?;
        }
        let start = Instant::now();
        let vocab = self.vocab_len();
        let mut states: Vec<RowState<'_>> = prompts
            .iter()
            .zip(reqs)
            .map(|(prompt, req)| RowState {
                req,
                feed: prompt.as_ref().to_vec(),
                done: req.max_new_tokens == 0,
                row: DecodedRow::default(),
            })
            .collect();
        let mut cache = KvCache::default();
        let mut position: u64 = 0;
        while states.iter().any(|s| !s.done) {
            let logits = {
                let feed: Vec<&[u32]> = states.iter().map(|s| s.feed.as_slice()).collect();
                self.cached_step_batch(&feed, &mut cache)?
            };
            for (state, logits) in states.iter_mut().zip(logits) {
                if !state.done {
                    state.advance(logits, position, vocab, keep_logits, start)?;
                }
                if state.done {
                    let last = state.feed.last().copied();
                    state.feed = last.into_iter().collect();
                }
            }
            position = position.saturating_add(1);
        }
        Ok(states.into_iter().map(|s| s.row).collect())
    }

    /// Continues each of `prompts` with the grid sampler under its own request (`reqs[i]` for
    /// `prompts[i]`: seed, sampling, `eos_id` and `max_new_tokens` may all differ), decoding
    /// the rows together with one key/value cache: the batched form of
    /// [`Self::generate_grid`], for miners that serve concurrent requests.
    ///
    /// The prompts must have **equal length** (refused otherwise): a miner groups concurrent
    /// requests by prompt length. A row that has finished (end-of-sequence sampled or
    /// `max_new_tokens` reached) keeps being fed its last token until every row is done; those
    /// steps' outputs are ignored. Each row's `token_times` are measured from the start of
    /// the call. Every row must pass the checks of [`Self::generate_grid`] (errors name the
    /// row). An empty batch gives an empty result.
    ///
    /// Batching changes the floating-point reductions a little (the rows go through the same
    /// matrix products), so a row's logits may differ from those of the request decoded
    /// alone by rounding: the verifier's tolerance covers it (see [`super::calibrate()`]).
    pub fn generate_grid_batch(
        &self,
        prompts: &[Vec<u32>],
        reqs: &[GridRequest],
    ) -> Result<Vec<GridOutput>> {
        Ok(self.grid_decode_batch(prompts, reqs, false)?.into_iter().map(|r| r.output).collect())
    }

    /// Teacher-forced logits of several `(prompt, output)` pairs in one forward pass: row `i`
    /// of the result is [`Self::teacher_forced_logits`] of pair `i` (up to the rounding
    /// batching brings). Every pair must have the same total length `prompt.len() +
    /// output.len()` (the prompts may differ in length); refused otherwise, and for the
    /// conditions of the single version (errors name the row). An empty batch gives an empty
    /// result.
    pub fn teacher_forced_logits_batch(
        &self,
        prompts_and_outputs: &[(Vec<u32>, Vec<u32>)],
    ) -> Result<Vec<Vec<Vec<f32>>>> {
        self.teacher_forced_rows(prompts_and_outputs)
    }

    /// [`Self::teacher_forced_logits_batch`] over borrowed or owned rows.
    pub(crate) fn teacher_forced_rows<P: AsRef<[u32]>, O: AsRef<[u32]>>(
        &self,
        rows: &[(P, O)],
    ) -> Result<Vec<Vec<Vec<f32>>>> {
        let total =
            rows.first().map_or(0, |(p, o)| p.as_ref().len().saturating_add(o.as_ref().len()));
        let mut ids: Vec<i64> = Vec::with_capacity(rows.len().saturating_mul(total));
        for (i, (prompt, output)) in rows.iter().enumerate() {
            let (prompt, output) = (prompt.as_ref(), output.as_ref());
            self.check_teacher_forcing(prompt, output).map_err(in_row(i))?;
            let len = prompt.len().saturating_add(output.len());
            if len != total {
                return Err(ModelError::InvalidInput(format!(
                    "pairs of a teacher-forcing batch must have equal total length: row 0 has \
                     {total} tokens, row {i} has {len}"
                )));
            }
            ids.extend(prompt.iter().chain(output).map(|&t| i64::from(t)));
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let vocab = self.vocab_len().max(1);
        tch::no_grad(|| -> Result<Vec<Vec<Vec<f32>>>> {
            let tokens = Tensor::f_from_slice(&ids)?
                .f_view([dim(rows.len())?, dim(total)?])?
                .f_to_device(self.device())?;
            let hidden = self.hidden(&tokens, None)?;
            let mut out = Vec::with_capacity(rows.len());
            for (i, (prompt, output)) in rows.iter().enumerate() {
                let first = dim(prompt.as_ref().len().saturating_sub(1))?;
                let count = dim(output.as_ref().len().saturating_add(1))?;
                let h = hidden.f_select(0, dim(i)?)?.f_narrow(0, first, count)?;
                let flat = to_f32_vec(&self.head(&h)?)?;
                out.push(flat.chunks(vocab).map(<[f32]>::to_vec).collect());
            }
            Ok(out)
        })
    }

    /// Checks one teacher-forcing pair: a non-empty prompt, ids in the vocabulary, and
    /// `prompt.len() + output.len() <= n_positions`.
    fn check_teacher_forcing(&self, prompt: &[u32], output: &[u32]) -> Result<()> {
        if prompt.is_empty() {
            return Err(ModelError::InvalidInput(
                "teacher forcing needs a non-empty prompt".into(),
            ));
        }
        self.check_ids(prompt)?;
        self.check_ids(output)?;
        let len = prompt.len().saturating_add(output.len());
        if i64::try_from(len).map_or(true, |n| n > self.config.n_positions) {
            return Err(ModelError::InvalidInput(format!(
                "{len} tokens exceed the context of {}",
                self.config.n_positions
            )));
        }
        Ok(())
    }
}

impl RowState<'_> {
    /// Samples this row's token at output `position` from its step `logits`.
    fn advance(
        &mut self,
        logits: Vec<f32>,
        position: u64,
        vocab: usize,
        keep_logits: bool,
        start: Instant,
    ) -> Result<()> {
        let noise = gumbel_row(self.req.seed, position, vocab);
        let next = grid_pick(&logits, &self.req.sampling, &noise).ok_or_else(|| {
            ModelError::InvalidInput(format!("no finite logit at output position {position}"))
        })?;
        let logprob = token_logprob(&logits, next);
        if keep_logits {
            self.row.logits.push(logits);
        }
        let out = &mut self.row.output;
        if Some(next) == self.req.eos_id {
            out.stopped_at_eos = true;
            self.done = true;
            return Ok(());
        }
        out.tokens.push(next);
        out.logprobs.push(logprob);
        out.token_times.push(start.elapsed());
        self.feed = vec![next];
        self.done = out.tokens.len() >= self.req.max_new_tokens;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::super::{GridSampling, GridTolerance};
    use super::*;
    use crate::GptConfig;
    use tch::Device;

    fn tiny(seed: i64) -> LanguageModel {
        let config = GptConfig {
            vocab_size: 64,
            n_positions: 64,
            n_embd: 32,
            n_layer: 2,
            n_head: 4,
            layer_norm_epsilon: 1e-5,
        };
        LanguageModel::random(config, Device::Cpu, seed).unwrap()
    }

    fn request(seed: u64, temperature: f64, max_new_tokens: usize) -> GridRequest {
        GridRequest {
            sampling: GridSampling { temperature, top_k: 0, top_p: 1.0 },
            seed,
            max_new_tokens,
            eos_id: None,
        }
    }

    fn max_delta<'a>(
        a: impl IntoIterator<Item = &'a Vec<f32>>,
        b: impl IntoIterator<Item = &'a Vec<f32>>,
    ) -> f32 {
        a.into_iter()
            .zip(b)
            .flat_map(|(x, y)| {
                assert_eq!(x.len(), y.len());
                x.iter().zip(y).map(|(p, q)| (p - q).abs())
            })
            .fold(0.0, f32::max)
    }

    #[test]
    fn grid_batch_of_one_is_generate_grid() {
        let m = tiny(7);
        let prompt = vec![3u32, 14, 15, 9, 26, 5];
        for req in [request(1, 1.0, 30), request(2, 0.0, 30), request(3, 0.6, 0)] {
            let alone = m.generate_grid(&prompt, &req).unwrap();
            let batch = m
                .generate_grid_batch(std::slice::from_ref(&prompt), std::slice::from_ref(&req))
                .unwrap();
            assert_eq!(batch.len(), 1);
            assert_eq!(batch[0].tokens, alone.tokens);
            assert_eq!(batch[0].stopped_at_eos, alone.stopped_at_eos);
            assert_eq!(batch[0].token_times.len(), alone.tokens.len());
            assert_eq!(batch[0].logprobs, alone.logprobs);
            assert_eq!(alone.logprobs.len(), alone.tokens.len());
            assert!(alone.logprobs.iter().all(|l| l.is_finite() && *l <= 0.0));
            assert_eq!(alone.tokens.len(), req.max_new_tokens);
        }
        assert!(m.generate_grid_batch(&[], &[]).unwrap().is_empty());
    }

    #[test]
    fn grid_batch_rows_match_requests_decoded_alone() {
        let m = tiny(7);
        let prompts: Vec<Vec<u32>> = vec![
            vec![3, 14, 15, 9, 26, 5],
            vec![2, 7, 1, 8, 28, 18],
            vec![1, 1, 2, 3, 5, 8],
            vec![60, 61, 62, 63, 0, 1],
        ];
        let mut reqs = vec![
            request(101, 1.0, 40),
            request(102, 0.0, 25),
            GridRequest {
                sampling: GridSampling { temperature: 0.8, top_k: 8, top_p: 0.9 },
                ..request(103, 0.8, 40)
            },
            request(104, 0.5, 33),
        ];
        // Row 0 stops at an end-of-sequence token: the first token after index 4 not seen
        // before it.
        let full = m.generate_grid(&prompts[0], &reqs[0]).unwrap().tokens;
        let j = (4..full.len()).find(|&j| !full[..j].contains(&full[j])).unwrap();
        reqs[0].eos_id = Some(full[j]);
        let batch = m.grid_decode_batch(&prompts, &reqs, true).unwrap();
        let mut worst = 0.0f32;
        for (i, (prompt, req)) in prompts.iter().zip(&reqs).enumerate() {
            let alone =
                &m.grid_decode_batch(&[prompt], std::slice::from_ref(req), true).unwrap()[0];
            let got = &batch[i];
            assert_eq!(got.output.tokens, alone.output.tokens, "row {i}");
            assert_eq!(got.output.stopped_at_eos, alone.output.stopped_at_eos, "row {i}");
            assert_eq!(got.output.token_times.len(), got.output.tokens.len());
            assert_eq!(got.logits.len(), alone.logits.len());
            // Each token's log-probability comes from the row it was picked from.
            assert_eq!(got.output.logprobs.len(), got.output.tokens.len());
            for (j, (&t, &l)) in got.output.tokens.iter().zip(&got.output.logprobs).enumerate() {
                assert_eq!(l, token_logprob(&got.logits[j], t), "row {i} token {j}");
            }
            worst = worst.max(max_delta(&got.logits, &alone.logits));
            let verdict =
                m.verify_grid(prompt, req, &got.output.tokens, &GridTolerance::default()).unwrap();
            assert!(verdict.accepted && verdict.max_margin == 0.0, "row {i}: {verdict:?}");
        }
        eprintln!("batch 4 vs alone: max |delta logit| = {worst:e}");
        assert!(worst < 1e-4);
        assert_eq!(batch[0].output.tokens, full[..j].to_vec());
        assert!(batch[0].output.stopped_at_eos);
        assert_eq!(batch[0].logits.len(), j + 1, "the end-of-sequence row is kept");
        assert_eq!(batch[1].output.tokens.len(), 25);
        assert_eq!(batch[3].output.tokens.len(), 33);
    }

    #[test]
    fn grid_batch_refusals() {
        let m = tiny(7);
        let req = request(1, 1.0, 10);
        let err = m
            .generate_grid_batch(&[vec![1, 2, 3], vec![1, 2]], &[req.clone(), req.clone()])
            .unwrap_err();
        assert!(err.to_string().contains("equal length"), "{err}");
        assert!(m.generate_grid_batch(&[vec![1, 2, 3]], &[req.clone(), req.clone()]).is_err());
        let long = GridRequest { max_new_tokens: 62, ..req.clone() };
        let err = m.generate_grid_batch(&[vec![1, 2, 3], vec![4, 5, 6]], &[req.clone(), long]);
        assert!(err.unwrap_err().to_string().contains("row 1"));
        let err = m.teacher_forced_logits_batch(&[(vec![1, 2], vec![3]), (vec![1], vec![2])]);
        assert!(err.unwrap_err().to_string().contains("equal total length"));
        let err = m.teacher_forced_logits_batch(&[(vec![1, 2], vec![3]), (vec![], vec![2, 3, 4])]);
        assert!(err.unwrap_err().to_string().contains("row 1"));
        assert!(m.teacher_forced_logits_batch(&[]).unwrap().is_empty());
    }

    #[test]
    fn grid_teacher_forcing_batch_matches_single() {
        let m = tiny(7);
        // Equal total lengths (12), different splits.
        let pairs: Vec<(Vec<u32>, Vec<u32>)> = vec![
            (vec![3, 14, 15, 9, 26, 5], vec![1, 2, 3, 4, 5, 6]),
            (vec![2, 7], vec![1, 8, 28, 18, 28, 45, 9, 0, 4, 52]),
            (vec![1; 11], vec![7]),
            (vec![5; 12], vec![]),
        ];
        let batch = m.teacher_forced_logits_batch(&pairs).unwrap();
        let mut worst = 0.0f32;
        for (i, (prompt, output)) in pairs.iter().enumerate() {
            let single = m.teacher_forced_logits(prompt, output).unwrap();
            assert_eq!(batch[i].len(), output.len() + 1);
            assert_eq!(single.len(), output.len() + 1);
            worst = worst.max(max_delta(&batch[i], &single));
        }
        eprintln!("teacher forcing batch 4 vs single: max |delta logit| = {worst:e}");
        assert!(worst < 1e-4);
        let one = m.teacher_forced_logits_batch(&pairs[..1]).unwrap();
        assert_eq!(one[0], m.teacher_forced_logits(&pairs[0].0, &pairs[0].1).unwrap());
    }
}
