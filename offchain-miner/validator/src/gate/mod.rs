//! Conditional computation for loss-scored subnets (issue 14): a small gate, learnt online,
//! that predicts each miner's loss on a prompt and so chooses which miners receive a user's
//! request.
//!
//! * **Features** ([`features`]): the mean final hidden state of the prompt under a feature
//!   model (`--gate-model DIR`, a model on the standard tokenizer), standardised by the
//!   gate's running per-dimension mean and variance ([`FeatureStats`]), plus a bias.
//! * **Predictor** ([`Gate`]): per uid a weight vector, `predicted loss = w · features`,
//!   created on a uid's first measured loss (bias = that loss) and reset when its hotkey
//!   changes; trained by normalised LMS on the phrase loss of every row the validator
//!   measured ([`features::samples`]; one pair per row, the batch's loss with its mean
//!   feature when per-row losses are unavailable).
//! * **Choice** ([`Gate::choose`]): the `k` lowest predictions after Gumbel noise, each slot
//!   replaced by a uniformly random candidate with probability `exploration`.
//!
//! The validator trains the gate after each loss-scored step ([`after_step`]) and saves it
//! with its state ([`GateTrainer::save`], atomic JSON); the gateway reads the file and routes
//! user traffic with it. Incentive scoring is untouched: the validator's walk still samples
//! uniformly, so miners the gate seldom routes to are still measured and cannot starve.

pub mod features;
mod linear;

pub use linear::{
    FeatureStats, Features, Gate, UidWeights, DEFAULT_LEARNING_RATE, DEFAULT_NOISE, GATE_VERSION,
};

use crate::{state::write_atomic, step::StepReport, Result, ValidatorError};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};
use subtensor_model::{Device, LanguageModel};
use tracing::{debug, warn};

/// The gate file's name in the validator's state directory (the default `--gate-file`).
pub const GATE_FILE: &str = "gate.json";

/// Loads a feature model (`config.json`, `model.safetensors`) on the CPU and checks that its
/// vocabulary covers `vocab_size` (the standard tokenizer's).
pub fn load_feature_model(dir: &Path, vocab_size: u32) -> Result<LanguageModel> {
    let model = LanguageModel::load(dir, Device::Cpu)
        .map_err(|e| ValidatorError::Gate(format!("cannot load {}: {e}", dir.display())))?;
    if model.config().vocab_size < i64::from(vocab_size) {
        return Err(ValidatorError::Gate(format!(
            "the model in {} has {} tokens, fewer than the standard tokenizer's {vocab_size}",
            dir.display(),
            model.config().vocab_size
        )));
    }
    Ok(model)
}

/// Reads a gate file; `Ok(None)` when it does not exist.
pub fn load(path: &Path) -> Result<Option<Gate>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ValidatorError::Gate(format!("{}: {e}", path.display()))),
    };
    let gate: Gate = serde_json::from_slice(&bytes)
        .map_err(|e| ValidatorError::Gate(format!("{}: not a gate file ({e})", path.display())))?;
    gate.check().map_err(|e| ValidatorError::Gate(format!("{}: {e}", path.display())))?;
    Ok(Some(gate))
}

/// Writes `gate` to `path` atomically (temporary file, sync, rename).
pub fn save(gate: &Gate, path: &Path) -> Result<()> {
    let json = serde_json::to_vec(gate).map_err(|e| ValidatorError::Gate(e.to_string()))?;
    write_atomic(path, &json).map_err(|e| ValidatorError::Gate(format!("{}: {e}", path.display())))
}

/// Trains `gate` on a step's measured losses, with features of the batch's rows from
/// `model`; returns the number of updates.
pub fn train_on_step(
    gate: &mut Gate,
    model: &LanguageModel,
    report: &StepReport,
    vocab_size: u32,
) -> Result<usize> {
    let samples = features::samples(report, vocab_size);
    if samples.is_empty() {
        return Ok(0);
    }
    let rows = features::row_features(model, &report.batch.inputs)?;
    // One learning call per prompt (a row, or the whole batch), with every uid's loss on it.
    let mut by_prompt: BTreeMap<Option<usize>, Vec<(u16, &str, f64)>> = BTreeMap::new();
    for s in &samples {
        by_prompt.entry(s.row).or_default().push((s.uid, &s.hotkey, s.loss));
    }
    let batch_mean = Features::mean(&rows);
    for (row, losses) in &by_prompt {
        let f = match row {
            Some(i) => rows.get(*i),
            None => batch_mean.as_ref(),
        };
        let f = f.ok_or_else(|| ValidatorError::Gate("no features for a sample".into()))?;
        gate.learn(f, losses)?;
    }
    Ok(samples.len())
}

/// The validator's gate: the feature model, the gate and where it is saved.
#[derive(Debug)]
pub struct GateTrainer {
    model: LanguageModel,
    gate: Gate,
    path: PathBuf,
}

impl GateTrainer {
    /// Loads the feature model in `model_dir` and the gate in `path` (a new gate when the
    /// file is missing, or unusable or made for another feature width: then it is replaced
    /// at the next save, with a warning).
    pub fn load(model_dir: &Path, path: PathBuf, vocab_size: u32) -> Result<Self> {
        let model = load_feature_model(model_dir, vocab_size)?;
        let dim = features::feature_dim(&model);
        let fresh = || Gate::new(dim, DEFAULT_LEARNING_RATE, DEFAULT_NOISE);
        let gate = match load(&path) {
            Ok(Some(gate)) if gate.dim == dim.saturating_add(1) => gate,
            Ok(Some(gate)) => {
                warn!(
                    "gate file {}: made for {} features, not {dim}; starting afresh",
                    path.display(),
                    gate.dim
                );
                fresh()
            }
            Ok(None) => fresh(),
            Err(e) => {
                warn!("{e}; starting a fresh gate");
                fresh()
            }
        };
        Ok(Self { model, gate, path })
    }

    /// The gate.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// Trains the gate on one step ([`train_on_step`]).
    pub fn observe(&mut self, report: &StepReport, vocab_size: u32) -> Result<usize> {
        train_on_step(&mut self.gate, &self.model, report, vocab_size)
    }

    /// Forgets what the gate learnt about uids that left the subnet or changed hotkey
    /// ([`Gate::retain`]), so a new miner at a uid starts from the mean, not from its
    /// predecessor's record.
    pub fn retain(&mut self, hotkeys: &std::collections::BTreeMap<u16, String>) {
        self.gate.retain(hotkeys);
    }

    /// Saves the gate to its file.
    pub fn save(&self) -> Result<()> {
        save(&self.gate, &self.path)
    }
}

/// The validator's gate per `cfg` (`--gate-model`, `--gate-file`): `None` without
/// `--gate-model`. `loss_vocab` is the standard tokenizer's vocabulary on a loss-scored
/// subnet, `None` on a grid subnet, where the gate is refused.
pub fn trainer_for(cfg: &crate::Config, loss_vocab: Option<u32>) -> Result<Option<GateTrainer>> {
    let Some(dir) = &cfg.gate_model else { return Ok(None) };
    let vocab = loss_vocab.ok_or_else(|| {
        ValidatorError::Usage(format!(
            "subnet {} is a grid subnet: --gate-model is for loss-scored subnets",
            cfg.netuid
        ))
    })?;
    let trainer = GateTrainer::load(dir, cfg.gate_file(), vocab)?;
    tracing::info!(
        uids = trainer.gate.uids.len(),
        "training the routing gate with the feature model {} into {}",
        dir.display(),
        trainer.path.display()
    );
    Ok(Some(trainer))
}

/// The validator's hook after a loss-scored step: trains `trainer` (when the validator has
/// one) on `report` (when the step queried anyone). A failure is logged, never fatal: the gate
/// only routes user traffic.
pub fn after_step(trainer: Option<&mut GateTrainer>, report: Option<&StepReport>, vocab: u32) {
    let (Some(trainer), Some(report)) = (trainer, report) else { return };
    match trainer.observe(report, vocab) {
        Ok(n) => debug!(updates = n, uids = trainer.gate.uids.len(), "gate trained"),
        Err(e) => warn!("gate not trained on this step: {e}"),
    }
}

#[cfg(test)]
mod tests;
