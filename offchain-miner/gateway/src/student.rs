//! The distilled student (issue 15): a local model that answers when no miner can.
//!
//! `stgateway --student DIR` loads a model directory (typically one written by `stmodel
//! distill`, in the Hugging Face layout with its own tokenizer) on the CPU. When a request to a
//! heterogeneous subnet finds no miner, or every miner asked failed, the student generates the
//! answer here instead, and the response says so: its `model` field is `student:NAME` and the
//! `x-subtensor-source` header is `student` (it is `miner` otherwise). Grid subnets never fall
//! back: their answers must be the grid model's verifiable samples.

use crate::{backend::Generation, openai::Sampling, GatewayError, Result};
use std::path::Path;
use std::sync::Arc;
use subtensor_model::{GenerateParams, LanguageModel, TextTokenizer};

/// A student model and its tokenizer.
#[derive(Clone)]
pub struct Student {
    name: String,
    model: Arc<parking_lot::Mutex<LanguageModel>>,
    tokenizer: Arc<TextTokenizer>,
    n_positions: usize,
}

impl std::fmt::Debug for Student {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Student").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Student {
    /// Loads the model in `dir` (on the CPU) with its `tokenizer.json`; the student's name is
    /// the directory's.
    pub fn load(dir: &Path) -> Result<Self> {
        let tokenizer = TextTokenizer::load(&dir.join(subtensor_model::TOKENIZER_FILE))?;
        let model = LanguageModel::load(dir, subtensor_model::Device::Cpu)?;
        let n_positions = usize::try_from(model.config().n_positions).unwrap_or(0);
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "student".to_owned());
        Ok(Self {
            name,
            model: Arc::new(parking_lot::Mutex::new(model)),
            tokenizer: Arc::new(tokenizer),
            n_positions,
        })
    }

    /// The student's name (its directory's).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Continues `prompt` with `sampling` on a blocking thread. A prompt longer than the
    /// context leaves room for `max_tokens` by keeping its end; generation stops at the
    /// student's end-of-text token.
    pub async fn generate(&self, prompt: &str, sampling: &Sampling) -> Result<Generation> {
        let ids = self.tokenizer.encode(prompt)?;
        let max_new = usize::try_from(sampling.max_tokens).unwrap_or(usize::MAX);
        let max_new = max_new.min(self.n_positions.saturating_sub(1)).max(1);
        let room = self.n_positions.saturating_sub(max_new).max(1);
        let kept: Vec<u32> = ids.iter().skip(ids.len().saturating_sub(room)).copied().collect();
        let params = GenerateParams {
            max_new_tokens: max_new,
            temperature: sampling.temperature,
            top_k: 0,
            top_p: sampling.top_p,
            repetition_penalty: 1.0,
            no_repeat_ngram_size: 0,
            seed: sampling.seed.unwrap_or_else(rand::random),
            eos_id: self.tokenizer.eot_id(),
        };
        let (model, context) = (self.model.clone(), kept.clone());
        let out = tokio::task::spawn_blocking(move || model.lock().generate(&context, &params))
            .await
            .map_err(|e| GatewayError::Config(format!("the student did not run: {e}")))??;
        let stopped = out.len() < max_new;
        let text = self.tokenizer.decode(&out)?;
        Ok(Generation {
            text,
            prompt_tokens: kept.len(),
            completion_tokens: out.len(),
            stopped,
            netuid: 0,
            uid: 0,
            student: Some(self.name.clone()),
        })
    }
}
