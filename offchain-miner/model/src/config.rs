//! The model's hyper-parameters and their Hugging Face `config.json` form.

use crate::{ModelError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::Path;

/// Activation names of `GPT2Config` that mean the tanh approximation of GELU (what we compute).
const TANH_GELUS: [&str; 3] = ["gelu_new", "gelu_pytorch_tanh", "gelu_fast"];

/// The shape of a GPT-2 style decoder. Field names are those of Hugging Face's `GPT2Config`, so
/// this (de)serialises straight to and from the size keys of a `config.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GptConfig {
    /// Number of tokens in the vocabulary (rows of `wte`).
    pub vocab_size: i64,
    /// Longest context the model takes (rows of `wpe`).
    pub n_positions: i64,
    /// Width of the residual stream.
    pub n_embd: i64,
    /// Number of transformer blocks.
    pub n_layer: i64,
    /// Number of attention heads per block (`n_embd` must be a multiple of it).
    pub n_head: i64,
    /// Epsilon of every layer norm.
    #[serde(default = "default_epsilon")]
    pub layer_norm_epsilon: f64,
}

fn default_epsilon() -> f64 {
    1e-5
}

impl Default for GptConfig {
    /// A small model: 2 layers, width 128, 4 heads, context 128, vocabulary 4096.
    fn default() -> Self {
        Self {
            vocab_size: 4096,
            n_positions: 128,
            n_embd: 128,
            n_layer: 2,
            n_head: 4,
            layer_norm_epsilon: 1e-5,
        }
    }
}

impl GptConfig {
    /// Checks that the sizes are positive, consistent and not absurdly large.
    pub fn validate(&self) -> Result<()> {
        let limits: [(&str, i64, i64); 5] = [
            ("vocab_size", self.vocab_size, 1 << 24),
            ("n_positions", self.n_positions, 1 << 20),
            ("n_embd", self.n_embd, 1 << 16),
            ("n_layer", self.n_layer, 1 << 10),
            ("n_head", self.n_head, 1 << 12),
        ];
        for (name, value, max) in limits {
            if value < 1 || value > max {
                return Err(ModelError::Config(format!("{name} = {value} is outside 1..={max}")));
            }
        }
        if self.n_embd.checked_rem(self.n_head) != Some(0) {
            return Err(ModelError::Config(format!(
                "n_embd = {} is not a multiple of n_head = {}",
                self.n_embd, self.n_head
            )));
        }
        if !(self.layer_norm_epsilon.is_finite() && self.layer_norm_epsilon > 0.0) {
            return Err(ModelError::Config(format!(
                "layer_norm_epsilon = {} must be a positive number",
                self.layer_norm_epsilon
            )));
        }
        Ok(())
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> i64 {
        self.n_embd.checked_div(self.n_head).unwrap_or(0)
    }

    /// Number of parameters of a model of this shape (the tied output head counted once).
    pub fn num_parameters(&self) -> i64 {
        let c = self.n_embd;
        let per_layer = c.saturating_mul(c).saturating_mul(12).saturating_add(c.saturating_mul(13));
        self.vocab_size
            .saturating_add(self.n_positions)
            .saturating_mul(c)
            .saturating_add(per_layer.saturating_mul(self.n_layer))
            .saturating_add(c.saturating_mul(2))
    }

    /// Reads and validates a Hugging Face `config.json` of a GPT-2 model.
    pub fn load_hf(path: &Path) -> Result<(Self, HfExtras)> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| ModelError::json(path, e))?;
        Self::from_hf_value(&value).map_err(|e| match e {
            ModelError::Config(msg) => ModelError::Config(format!("{}: {msg}", path.display())),
            other => other,
        })
    }

    /// Parses and validates the JSON of a Hugging Face `GPT2Config`.
    pub fn from_hf_value(value: &Value) -> Result<(Self, HfExtras)> {
        let obj = value
            .as_object()
            .ok_or_else(|| ModelError::Config("config.json is not a JSON object".into()))?;
        if let Some(kind) = obj.get("model_type") {
            if kind.as_str() != Some("gpt2") {
                return Err(ModelError::Config(format!(
                    "model_type {kind} is not supported (only \"gpt2\")"
                )));
            }
        }
        if let Some(act) = obj.get("activation_function") {
            if !act.as_str().is_some_and(|a| TANH_GELUS.contains(&a)) {
                return Err(ModelError::Config(format!(
                    "activation_function {act} is not supported (only the tanh GELU: {TANH_GELUS:?})"
                )));
            }
        }
        let flag = |key: &str, want: bool| -> Result<()> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(()),
                Some(Value::Bool(b)) if *b == want => Ok(()),
                Some(other) => Err(ModelError::Config(format!(
                    "{key} = {other} is not supported (only {want})"
                ))),
            }
        };
        flag("tie_word_embeddings", true)?;
        flag("scale_attn_weights", true)?;
        flag("scale_attn_by_inverse_layer_idx", false)?;
        flag("add_cross_attention", false)?;
        let size = |key: &str| -> Result<i64> {
            match obj.get(key) {
                None => Err(ModelError::Config(format!("missing key {key:?}"))),
                Some(v) => v
                    .as_i64()
                    .ok_or_else(|| ModelError::Config(format!("{key} = {v} is not an integer"))),
            }
        };
        let layer_norm_epsilon = match obj.get("layer_norm_epsilon") {
            None => default_epsilon(),
            Some(v) => v.as_f64().ok_or_else(|| {
                ModelError::Config(format!("layer_norm_epsilon = {v} is not a number"))
            })?,
        };
        let config = Self {
            vocab_size: size("vocab_size")?,
            n_positions: size("n_positions")?,
            n_embd: size("n_embd")?,
            n_layer: size("n_layer")?,
            n_head: size("n_head")?,
            layer_norm_epsilon,
        };
        config.validate()?;
        match obj.get("n_inner") {
            None | Some(Value::Null) => {}
            Some(v) if v.as_i64() == config.n_embd.checked_mul(4) => {}
            Some(v) => {
                return Err(ModelError::Config(format!(
                    "n_inner = {v} is not supported (only null or 4 * n_embd)"
                )))
            }
        }
        let token = |key: &str| -> Result<Option<u32>> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .and_then(|id| u32::try_from(id).ok())
                    .map(Some)
                    .ok_or_else(|| ModelError::Config(format!("{key} = {v} is not a token id"))),
            }
        };
        let extras =
            HfExtras { bos_token_id: token("bos_token_id")?, eos_token_id: token("eos_token_id")? };
        Ok((config, extras))
    }

    /// The Hugging Face `config.json` of a `GPT2LMHeadModel` of this shape.
    pub fn to_hf_value(&self, extras: &HfExtras) -> Value {
        json!({
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "vocab_size": self.vocab_size,
            "n_positions": self.n_positions,
            "n_embd": self.n_embd,
            "n_layer": self.n_layer,
            "n_head": self.n_head,
            "n_inner": null,
            "activation_function": "gelu_new",
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "resid_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "attn_pdrop": 0.0,
            "initializer_range": 0.02,
            "scale_attn_weights": true,
            "scale_attn_by_inverse_layer_idx": false,
            "reorder_and_upcast_attn": false,
            "tie_word_embeddings": true,
            "use_cache": true,
            "bos_token_id": extras.bos_token_id,
            "eos_token_id": extras.eos_token_id,
            "dtype": "float32",
        })
    }
}

/// The keys of `config.json` besides the sizes that we keep: the special token ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HfExtras {
    /// `bos_token_id`, if any.
    pub bos_token_id: Option<u32>,
    /// `eos_token_id`, if any.
    pub eos_token_id: Option<u32>,
}
