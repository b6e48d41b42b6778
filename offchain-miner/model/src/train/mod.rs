//! Training a [`LanguageModel`] on a token stream: AdamW (hand-written, so its state is
//! saved), gradient clipping, linear warmup and cosine decay, seeded random windows,
//! held-out evaluation, crash-safe checkpoints and exact resumption.
//!
//! The batch of step `s` is drawn from a generator seeded with `(seed, s)` alone, so a run
//! resumed from a checkpoint at step `s` draws exactly the batches an uninterrupted run would,
//! and (on the CPU, with the same thread count) ends with bit-identical weights.

mod adamw;
mod progress;
mod schedule;

use crate::config::GptConfig;
use crate::model::{LanguageModel, CONFIG_FILE, WEIGHTS_FILE};
use crate::{fsutil, ModelError, Result};
use adamw::{AdamW, AdamWParams};
use progress::Progress;
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{Reduction, Tensor};

/// File name of the optimizer state in a checkpoint directory.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
/// File name of the training state in a checkpoint directory.
pub const STATE_FILE: &str = "train_state.json";
/// How many recent step losses the state keeps (the report's train loss is their mean over
/// the last [`REPORT_LOSSES`]).
const KEEP_LOSSES: usize = 50;
/// Recent step losses averaged into [`TrainReport::train_loss`].
const REPORT_LOSSES: usize = 10;

/// Training hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Total optimizer steps of the run (the schedule spans them).
    pub steps: usize,
    /// Windows per step.
    pub batch_size: usize,
    /// Tokens per window (at most the model's `n_positions`).
    pub seq_len: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// The learning rate decays to `learning_rate * min_lr_ratio` at the last step.
    pub min_lr_ratio: f64,
    /// Steps of linear warmup.
    pub warmup_steps: usize,
    /// Decoupled weight decay (applied to matrices, not to biases and norms).
    pub weight_decay: f64,
    /// Adam's first-moment decay.
    pub beta1: f64,
    /// Adam's second-moment decay.
    pub beta2: f64,
    /// Adam's epsilon.
    pub eps: f64,
    /// Largest global gradient norm (larger gradients are scaled down); 0 = no clipping.
    pub grad_clip: f64,
    /// Seed of the data order.
    pub seed: u64,
    /// Measure the held-out loss every this many steps (0 = only at the end).
    pub eval_every: usize,
    /// Batches of 16 windows per held-out measurement (0 = all held-out tokens).
    pub eval_batches: usize,
    /// Write a checkpoint every this many steps (0 = only at the end).
    pub checkpoint_every: usize,
    /// Stop (with a checkpoint) after this step, as if interrupted; the schedule still spans
    /// `steps`, so a later resume continues exactly.
    pub stop_after: Option<usize>,
    /// Show progress on stderr.
    pub progress: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            steps: 1000,
            batch_size: 16,
            seq_len: 64,
            learning_rate: 3e-3,
            min_lr_ratio: 0.1,
            warmup_steps: 50,
            weight_decay: 0.1,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            grad_clip: 1.0,
            seed: 0,
            eval_every: 0,
            eval_batches: 20,
            checkpoint_every: 0,
            stop_after: None,
            progress: true,
        }
    }
}

impl TrainConfig {
    /// Checks the values against each other and the model.
    pub fn validate(&self, model: &GptConfig) -> Result<()> {
        let bad = |msg: String| Err(ModelError::InvalidInput(msg));
        if self.steps == 0 || self.batch_size == 0 || self.seq_len == 0 {
            return bad("steps, batch_size and seq_len must be at least 1".into());
        }
        if i64::try_from(self.seq_len).map_or(true, |s| s > model.n_positions) {
            return bad(format!(
                "seq_len {} exceeds the model's context of {}",
                self.seq_len, model.n_positions
            ));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(format!("learning rate {} must be > 0", self.learning_rate));
        }
        let unit = |x: f64| (0.0..1.0).contains(&x);
        if !(unit(self.beta1) && unit(self.beta2)) {
            return bad(format!("betas ({}, {}) must lie in [0, 1)", self.beta1, self.beta2));
        }
        if !((0.0..=1.0).contains(&self.min_lr_ratio)
            && self.weight_decay >= 0.0
            && self.eps > 0.0
            && self.grad_clip >= 0.0)
        {
            return bad(
                "min_lr_ratio must lie in [0, 1]; weight_decay and grad_clip >= 0; eps > 0".into(),
            );
        }
        Ok(())
    }

    fn adamw(&self) -> AdamWParams {
        AdamWParams {
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
            grad_clip: self.grad_clip,
        }
    }
}

/// Where checkpoints go, and whether to continue the one there.
#[derive(Clone, Debug, Default)]
pub struct Checkpointing {
    /// The output directory: a model directory plus `optimizer.safetensors` and
    /// `train_state.json`.
    pub dir: PathBuf,
    /// Continue the checkpoint in `dir` (its weights, optimizer state and step) instead of
    /// starting fresh. Starting fresh in a directory that holds a checkpoint is an error.
    pub resume: bool,
    /// Further files written with every checkpoint (name, contents), such as `tokenizer.json`.
    pub extra_files: Vec<(String, Vec<u8>)>,
}

/// What `train_state.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainState {
    /// Optimizer steps done.
    pub step: usize,
    /// The model's shape.
    pub model: GptConfig,
    /// The hyper-parameters of the run that wrote the checkpoint.
    pub config: TrainConfig,
    /// How the data order is drawn: the seed, and the generator of step `s`.
    pub rng: String,
    /// Training tokens consumed so far.
    pub tokens_seen: u64,
    /// Size of the training data ([`Objective::data_len`]; a resume on other data is refused).
    pub train_tokens: usize,
    /// The most recent step losses, oldest first.
    pub last_losses: Vec<f64>,
    /// Held-out losses measured so far: (step, loss).
    pub held_out: Vec<(usize, f64)>,
}

impl TrainState {
    /// Reads `train_state.json` of a checkpoint directory.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(STATE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| ModelError::json(&path, e))
    }
}

/// The outcome of [`train`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainReport {
    /// Optimizer steps done in all (including those before a resume).
    pub step: usize,
    /// Steps run by this call.
    pub steps_run: usize,
    /// Mean loss of the last 10 steps (NaN if none ran).
    pub train_loss: f64,
    /// The objective's held-out measure at the end (the held-out loss for [`train`]; `None`
    /// without held-out data).
    pub held_out_loss: Option<f64>,
    /// Every held-out measurement: (step, loss).
    pub held_out_history: Vec<(usize, f64)>,
    /// Training tokens consumed in all.
    pub tokens_seen: u64,
    /// Training tokens per second of this call (steps only; evaluation and saving excluded).
    pub tokens_per_sec: f64,
    /// Wall-clock seconds of this call.
    pub wall_time_secs: f64,
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The generator that draws the windows of `step`.
pub(crate) fn step_rng(seed: u64, step: usize) -> StdRng {
    StdRng::seed_from_u64(splitmix64(seed ^ splitmix64(step as u64)))
}

/// Inputs and targets `[batch, seq_len]` of `step`: random windows of `tokens`.
fn batch(
    tokens: &[u32],
    config: &TrainConfig,
    step: usize,
    device: tch::Device,
) -> Result<(Tensor, Tensor)> {
    let seq = config.seq_len;
    let last_start = tokens.len().saturating_sub(seq.saturating_add(1));
    let mut rng = step_rng(config.seed, step);
    let mut inputs = Vec::with_capacity(config.batch_size.saturating_mul(seq));
    let mut targets = Vec::with_capacity(config.batch_size.saturating_mul(seq));
    for _ in 0..config.batch_size {
        let start = rng.gen_range(0..=last_start);
        let window =
            tokens.get(start..start.saturating_add(seq).saturating_add(1)).ok_or_else(|| {
                ModelError::InvalidInput("training window past the end of the tokens".into())
            })?;
        inputs.extend(window.iter().take(seq).map(|&t| i64::from(t)));
        targets.extend(window.iter().skip(1).map(|&t| i64::from(t)));
    }
    let rows = i64::try_from(config.batch_size)
        .map_err(|_| ModelError::InvalidInput("batch too large".into()))?;
    let x = Tensor::f_from_slice(&inputs)?.f_view([rows, -1])?.f_to_device(device)?;
    let y = Tensor::f_from_slice(&targets)?.f_to_device(device)?;
    Ok((x, y))
}

fn write_checkpoint(
    model: &LanguageModel,
    opt: &AdamW,
    state: &TrainState,
    checkpoint: &Checkpointing,
) -> Result<()> {
    let model_files = model.serialized_files()?;
    let optimizer = opt.serialize()?;
    let state_json = serde_json::to_vec_pretty(state)
        .map_err(|e| ModelError::Checkpoint(format!("cannot serialise the training state: {e}")))?;
    let mut files: Vec<(&str, &[u8])> = Vec::new();
    for (name, bytes) in &model_files {
        files.push((name, bytes.as_slice()));
    }
    files.push((OPTIMIZER_FILE, optimizer.as_slice()));
    for (name, bytes) in &checkpoint.extra_files {
        files.push((name.as_str(), bytes.as_slice()));
    }
    files.push((STATE_FILE, state_json.as_slice()));
    fsutil::write_files(&checkpoint.dir, &files)
}

fn mean_tail(losses: &[f64], n: usize) -> f64 {
    let tail = losses.get(losses.len().saturating_sub(n)..).unwrap_or_default();
    if tail.is_empty() {
        f64::NAN
    } else {
        tail.iter().sum::<f64>() / tail.len() as f64
    }
}

/// What a training run optimises: the loss of each step's batch, and a held-out measure.
/// [`run`] drives any objective with the same optimizer, schedule, clipping, progress,
/// checkpoints and resume; [`train`] is next-token prediction on a token stream
/// ([`CorpusObjective`]) and [`crate::distill::DistillObjective`] is distillation.
pub trait Objective {
    /// The loss of step `step`'s batch (a scalar with gradients) and the tokens it covered.
    /// The batch must depend on `(config.seed, step)` alone, so a resumed run draws the same.
    fn loss(
        &mut self,
        model: &LanguageModel,
        step: usize,
        config: &TrainConfig,
    ) -> Result<(Tensor, u64)>;
    /// The held-out measure (`None` when there is no held-out data).
    fn held_out(&self, model: &LanguageModel, config: &TrainConfig) -> Result<Option<f64>>;
    /// Size of the training data (a checkpoint made on data of another size is not resumed).
    fn data_len(&self) -> usize;
    /// What [`Self::held_out`] measures, for progress lines (e.g. "held-out loss").
    fn metric(&self) -> &'static str;
}

/// Next-token prediction on random windows of a token stream.
#[derive(Clone, Copy, Debug)]
pub struct CorpusObjective<'a> {
    /// The training tokens.
    pub train: &'a [u32],
    /// The held-out tokens.
    pub held_out: &'a [u32],
}

impl<'a> CorpusObjective<'a> {
    /// Checks the tokens against the model and the window length of `config`.
    pub fn new(
        model: &LanguageModel,
        train: &'a [u32],
        held_out: &'a [u32],
        config: &TrainConfig,
    ) -> Result<Self> {
        if train.len() <= config.seq_len {
            return Err(ModelError::InvalidInput(format!(
                "{} training tokens are too few for windows of {} (+1) tokens",
                train.len(),
                config.seq_len
            )));
        }
        model.check_ids(train)?;
        model.check_ids(held_out)?;
        Ok(Self { train, held_out })
    }
}

impl Objective for CorpusObjective<'_> {
    fn loss(
        &mut self,
        model: &LanguageModel,
        step: usize,
        config: &TrainConfig,
    ) -> Result<(Tensor, u64)> {
        let (x, y) = batch(self.train, config, step, model.device())?;
        let logits = model.head(&model.hidden(&x, None)?)?;
        let loss = logits.f_view([-1, model.config().vocab_size])?.f_cross_entropy_loss::<Tensor>(
            &y,
            None,
            Reduction::Mean,
            -100,
            0.0,
        )?;
        Ok((loss, config.batch_size.saturating_mul(config.seq_len) as u64))
    }

    fn held_out(&self, model: &LanguageModel, config: &TrainConfig) -> Result<Option<f64>> {
        if self.held_out.len() < 2 {
            return Ok(None);
        }
        model.held_out_loss(self.held_out, config.seq_len, config.eval_batches).map(Some)
    }

    fn data_len(&self) -> usize {
        self.train.len()
    }

    fn metric(&self) -> &'static str {
        "held-out loss"
    }
}

/// Trains `model` on `train_tokens` for `config.steps` steps (or until `config.stop_after`),
/// measuring the loss on `held_out_tokens` every `config.eval_every` steps and at the end, and
/// checkpointing into `checkpoint.dir` every `config.checkpoint_every` steps and at the end.
/// With `checkpoint.resume`, first restores the model, optimizer and step from that directory
/// (the model's shape must match).
pub fn train(
    model: &mut LanguageModel,
    train_tokens: &[u32],
    held_out_tokens: &[u32],
    config: &TrainConfig,
    checkpoint: Option<&Checkpointing>,
) -> Result<TrainReport> {
    config.validate(model.config())?;
    let mut objective = CorpusObjective::new(model, train_tokens, held_out_tokens, config)?;
    run(model, &mut objective, config, checkpoint)
}

/// Trains `model` on `objective` for `config.steps` steps (or until `config.stop_after`):
/// AdamW with clipping, warmup and cosine decay, the held-out measure every `config.eval_every`
/// steps and at the end, checkpoints into `checkpoint.dir` every `config.checkpoint_every`
/// steps and at the end, and with `checkpoint.resume` an exact continuation of the checkpoint
/// there.
pub fn run(
    model: &mut LanguageModel,
    objective: &mut dyn Objective,
    config: &TrainConfig,
    checkpoint: Option<&Checkpointing>,
) -> Result<TrainReport> {
    let started = Instant::now();
    config.validate(model.config())?;
    let mut opt = AdamW::new(model.named_parameters(), config.adamw())?;
    let mut state = TrainState {
        step: 0,
        model: model.config().clone(),
        config: config.clone(),
        rng: format!(
            "seed {}: step s draws from StdRng(splitmix64(seed ^ splitmix64(s)))",
            config.seed
        ),
        tokens_seen: 0,
        train_tokens: objective.data_len(),
        last_losses: Vec::new(),
        held_out: Vec::new(),
    };
    if let Some(cp) = checkpoint {
        let has_state = cp.dir.join(STATE_FILE).is_file();
        if cp.resume {
            if !has_state {
                return Err(ModelError::Checkpoint(format!(
                    "{} holds no {STATE_FILE}: nothing to resume",
                    cp.dir.display()
                )));
            }
            state = resume(model, &mut opt, config, objective.data_len(), &cp.dir)?;
            state.config = config.clone();
        } else if has_state {
            return Err(ModelError::Checkpoint(format!(
                "{} already holds a training checkpoint; resume it or choose another directory",
                cp.dir.display()
            )));
        }
    }
    let end = config.stop_after.map_or(config.steps, |s| s.min(config.steps)).max(state.step);
    let first = state.step;
    let progress = Progress::new(config.progress, first, config.steps);
    let metric = objective.metric();
    let mut step_time = 0.0f64;
    let mut run_tokens = 0u64;
    for step in first..end {
        let t0 = Instant::now();
        opt.zero_grad()?;
        let (loss, tokens) = objective.loss(model, step, config)?;
        loss.f_backward()?;
        let lr = schedule::learning_rate(
            step,
            config.steps,
            config.warmup_steps,
            config.learning_rate,
            config.min_lr_ratio,
        );
        opt.step(lr)?;
        let loss = loss.f_double_value(&[])?;
        step_time += t0.elapsed().as_secs_f64();
        let done = step.saturating_add(1);
        state.step = done;
        state.tokens_seen = state.tokens_seen.saturating_add(tokens);
        run_tokens = run_tokens.saturating_add(tokens);
        state.last_losses.push(loss);
        if state.last_losses.len() > KEEP_LOSSES {
            state.last_losses.remove(0);
        }
        progress.update(done, loss, run_tokens as f64 / step_time.max(1e-9));
        if done == end {
            break;
        }
        if done.checked_rem(config.eval_every) == Some(0) {
            if let Some(l) = objective.held_out(model, config)? {
                state.held_out.push((done, l));
                progress.println(&format!("step {done}: {metric} {l:.4}"));
            }
        }
        if let Some(cp) = checkpoint {
            if done.checked_rem(config.checkpoint_every) == Some(0) {
                write_checkpoint(model, &opt, &state, cp)?;
            }
        }
    }
    progress.finish();
    let held_out_loss = objective.held_out(model, config)?;
    if let Some(l) = held_out_loss {
        if state.held_out.last().map(|(s, _)| *s) != Some(state.step) {
            state.held_out.push((state.step, l));
        }
        progress.println(&format!("step {}: {metric} {l:.4}", state.step));
    }
    if let Some(cp) = checkpoint {
        write_checkpoint(model, &opt, &state, cp)?;
    }
    let steps_run = state.step.saturating_sub(first);
    Ok(TrainReport {
        step: state.step,
        steps_run,
        train_loss: mean_tail(&state.last_losses, REPORT_LOSSES),
        held_out_loss,
        held_out_history: state.held_out.clone(),
        tokens_seen: state.tokens_seen,
        tokens_per_sec: if step_time > 0.0 { run_tokens as f64 / step_time } else { 0.0 },
        wall_time_secs: started.elapsed().as_secs_f64(),
    })
}

/// Restores the model weights, optimizer state and training state from a checkpoint.
fn resume(
    model: &mut LanguageModel,
    opt: &mut AdamW,
    config: &TrainConfig,
    train_len: usize,
    dir: &Path,
) -> Result<TrainState> {
    let state = TrainState::load(dir)?;
    if &state.model != model.config() {
        return Err(ModelError::Checkpoint(format!(
            "{} holds a model of shape {:?}, not {:?}",
            dir.display(),
            state.model,
            model.config()
        )));
    }
    if state.train_tokens != train_len {
        return Err(ModelError::Checkpoint(format!(
            "{} was trained on data of size {}, but {train_len} was given: resume on the same data and tokenizer",
            dir.display(),
            state.train_tokens
        )));
    }
    for file in [CONFIG_FILE, WEIGHTS_FILE, OPTIMIZER_FILE] {
        if !dir.join(file).is_file() {
            return Err(ModelError::Checkpoint(format!("{} has no {file}", dir.display())));
        }
    }
    let saved = LanguageModel::load(dir, model.device())?;
    model.copy_weights_from(&saved)?;
    opt.load(&dir.join(OPTIMIZER_FILE))?;
    if usize::try_from(opt.step).ok() != Some(state.step) {
        return Err(ModelError::Checkpoint(format!(
            "{}: {OPTIMIZER_FILE} is at step {} but {STATE_FILE} at step {} (an interrupted save?)",
            dir.display(),
            opt.step,
            state.step
        )));
    }
    let old = &state.config;
    let same_data = old.batch_size == config.batch_size
        && old.seq_len == config.seq_len
        && old.seed == config.seed;
    let same_opt = old.learning_rate == config.learning_rate
        && old.warmup_steps == config.warmup_steps
        && old.min_lr_ratio == config.min_lr_ratio
        && old.weight_decay == config.weight_decay
        && (old.beta1, old.beta2, old.eps, old.grad_clip)
            == (config.beta1, config.beta2, config.eps, config.grad_clip)
        && old.steps == config.steps;
    if !(same_data && same_opt) && config.progress {
        eprintln!(
            "warning: resuming with other hyper-parameters than the checkpoint's; the run will not match an uninterrupted one"
        );
    }
    Ok(state)
}
