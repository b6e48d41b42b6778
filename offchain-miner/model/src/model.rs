//! The GPT-2 decoder's parameters: building them at random, loading them from a Hugging Face
//! style directory and saving them to one.

use crate::config::{GptConfig, HfExtras};
use crate::init::Normal;
use crate::{fsutil, safetensors_file, ModelError, Result};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{nn, Device, Kind, Tensor};

/// File name of the model's configuration inside a model directory.
pub const CONFIG_FILE: &str = "config.json";
/// File name of the model's weights inside a model directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// File name of the tokenizer inside a model directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The prefix `GPT2LMHeadModel` puts before the names of the decoder's tensors.
const HF_PREFIX: &str = "transformer.";

#[derive(Clone, Copy, Debug)]
enum Init {
    Normal(f64),
    Zeros,
    Ones,
}

struct ParamSpec {
    name: String,
    shape: Vec<i64>,
    init: Init,
}

/// Every parameter of a model of shape `c`, in a fixed order, with its GPT-2 initialisation.
fn param_specs(c: &GptConfig) -> Vec<ParamSpec> {
    let (v, p, e) = (c.vocab_size, c.n_positions, c.n_embd);
    let e3 = e.saturating_mul(3);
    let e4 = e.saturating_mul(4);
    let std = 0.02;
    // GPT-2 scales the weights of the projections into the residual stream by 1/sqrt(2 n_layer).
    let proj_std = std / (2.0 * c.n_layer as f64).sqrt();
    let spec = |name: String, shape: Vec<i64>, init: Init| ParamSpec { name, shape, init };
    let mut out = vec![
        spec("wte.weight".into(), vec![v, e], Init::Normal(std)),
        spec("wpe.weight".into(), vec![p, e], Init::Normal(std)),
    ];
    for i in 0..c.n_layer {
        let h = format!("h.{i}");
        out.extend([
            spec(format!("{h}.ln_1.weight"), vec![e], Init::Ones),
            spec(format!("{h}.ln_1.bias"), vec![e], Init::Zeros),
            spec(format!("{h}.attn.c_attn.weight"), vec![e, e3], Init::Normal(std)),
            spec(format!("{h}.attn.c_attn.bias"), vec![e3], Init::Zeros),
            spec(format!("{h}.attn.c_proj.weight"), vec![e, e], Init::Normal(proj_std)),
            spec(format!("{h}.attn.c_proj.bias"), vec![e], Init::Zeros),
            spec(format!("{h}.ln_2.weight"), vec![e], Init::Ones),
            spec(format!("{h}.ln_2.bias"), vec![e], Init::Zeros),
            spec(format!("{h}.mlp.c_fc.weight"), vec![e, e4], Init::Normal(std)),
            spec(format!("{h}.mlp.c_fc.bias"), vec![e4], Init::Zeros),
            spec(format!("{h}.mlp.c_proj.weight"), vec![e4, e], Init::Normal(proj_std)),
            spec(format!("{h}.mlp.c_proj.bias"), vec![e], Init::Zeros),
        ]);
    }
    out.extend([
        spec("ln_f.weight".into(), vec![e], Init::Ones),
        spec("ln_f.bias".into(), vec![e], Init::Zeros),
    ]);
    out
}

/// A layer norm's scale and shift.
pub(crate) struct Norm {
    pub(crate) weight: Tensor,
    pub(crate) bias: Tensor,
}

/// A `Conv1D` of GPT-2: weight `[in, out]`, bias `[out]`, computing `x @ w + b`.
pub(crate) struct Affine {
    pub(crate) weight: Tensor,
    pub(crate) bias: Tensor,
}

/// One transformer block.
pub(crate) struct Block {
    pub(crate) ln_1: Norm,
    pub(crate) c_attn: Affine,
    pub(crate) attn_proj: Affine,
    pub(crate) ln_2: Norm,
    pub(crate) c_fc: Affine,
    pub(crate) mlp_proj: Affine,
}

/// A GPT-2 style decoder language model on one libtorch device.
///
/// It owns its parameters (an [`nn::VarStore`]); it can be moved to another thread (`Send`)
/// but not shared between threads (libtorch tensors are not `Sync`).
pub struct LanguageModel {
    pub(crate) vs: nn::VarStore,
    pub(crate) config: GptConfig,
    pub(crate) extras: HfExtras,
    pub(crate) wte: Tensor,
    pub(crate) wpe: Tensor,
    pub(crate) blocks: Vec<Block>,
    pub(crate) ln_f: Norm,
    /// Every parameter by its Hugging Face name (without prefix), in [`param_specs`] order.
    pub(crate) params: Vec<(String, Tensor)>,
}

impl std::fmt::Debug for LanguageModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanguageModel")
            .field("config", &self.config)
            .field("device", &self.vs.device())
            .finish_non_exhaustive()
    }
}

/// Registers a trainable copy of `value` under the dotted `name` in `vs`.
fn add_var(vs: &nn::VarStore, name: &str, value: &Tensor) -> Result<Tensor> {
    let mut parts: Vec<&str> = name.split('.').collect();
    let last =
        parts.pop().ok_or_else(|| ModelError::Weights(format!("bad tensor name {name:?}")))?;
    let mut path = vs.root();
    for part in parts {
        path = path.sub(part);
    }
    Ok(path.f_var_copy(last, value)?)
}

impl LanguageModel {
    /// Builds a model from a full set of parameter values (names as in [`param_specs`]).
    pub(crate) fn from_values(
        config: GptConfig,
        extras: HfExtras,
        device: Device,
        mut values: BTreeMap<String, Tensor>,
    ) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        let mut params = Vec::new();
        let mut vars: BTreeMap<String, Tensor> = BTreeMap::new();
        for spec in param_specs(&config) {
            let value = values
                .remove(&spec.name)
                .ok_or_else(|| ModelError::Weights(format!("missing tensor {:?}", spec.name)))?;
            let var = add_var(&vs, &spec.name, &value)?;
            params.push((spec.name.clone(), var.shallow_clone()));
            vars.insert(spec.name, var);
        }
        let mut take = |name: &str| {
            vars.remove(name).ok_or_else(|| ModelError::Weights(format!("missing tensor {name:?}")))
        };
        let mut blocks = Vec::new();
        for i in 0..config.n_layer {
            let mut norm = |n: &str| -> Result<Norm> {
                Ok(Norm {
                    weight: take(&format!("h.{i}.{n}.weight"))?,
                    bias: take(&format!("h.{i}.{n}.bias"))?,
                })
            };
            let ln_1 = norm("ln_1")?;
            let ln_2 = norm("ln_2")?;
            let mut affine = |n: &str| -> Result<Affine> {
                Ok(Affine {
                    weight: take(&format!("h.{i}.{n}.weight"))?,
                    bias: take(&format!("h.{i}.{n}.bias"))?,
                })
            };
            blocks.push(Block {
                ln_1,
                c_attn: affine("attn.c_attn")?,
                attn_proj: affine("attn.c_proj")?,
                ln_2,
                c_fc: affine("mlp.c_fc")?,
                mlp_proj: affine("mlp.c_proj")?,
            });
        }
        let wte = take("wte.weight")?;
        let wpe = take("wpe.weight")?;
        let ln_f = Norm { weight: take("ln_f.weight")?, bias: take("ln_f.bias")? };
        Ok(Self { vs, config, extras, wte, wpe, blocks, ln_f, params })
    }

    /// A model with GPT-2's initialisation (normal, std 0.02; the projections into the residual
    /// stream scaled by `1/sqrt(2 n_layer)`; zero biases; unit layer-norm scales), drawn from a
    /// generator seeded with `seed`: the same seed gives the same weights on every machine.
    pub fn random(config: GptConfig, device: Device, seed: i64) -> Result<Self> {
        config.validate()?;
        let mut normal = Normal::new(u64::from_ne_bytes(seed.to_ne_bytes()));
        let mut values = BTreeMap::new();
        for spec in param_specs(&config) {
            let opts = (Kind::Float, Device::Cpu);
            let tensor = match spec.init {
                Init::Zeros => Tensor::f_zeros(spec.shape.as_slice(), opts)?,
                Init::Ones => Tensor::f_ones(spec.shape.as_slice(), opts)?,
                Init::Normal(std) => {
                    let numel = spec
                        .shape
                        .iter()
                        .try_fold(1usize, |acc, d| {
                            usize::try_from(*d).ok().and_then(|d| acc.checked_mul(d))
                        })
                        .ok_or_else(|| {
                            ModelError::Config(format!("tensor {} is too large", spec.name))
                        })?;
                    Tensor::f_from_slice(&normal.fill(numel, std))?.f_view(spec.shape.as_slice())?
                }
            };
            values.insert(spec.name, tensor);
        }
        Self::from_values(config, HfExtras::default(), device, values)
    }

    /// Loads a model directory: `config.json` (a Hugging Face `GPT2Config`) and
    /// `model.safetensors` (names of `GPT2Model`, or of `GPT2LMHeadModel` with the
    /// `transformer.` prefix and a tied `lm_head.weight`). Missing, unknown, mis-shaped or
    /// non-finite tensors are errors naming the tensor.
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        if !dir.is_dir() {
            return Err(ModelError::io(
                dir,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such model directory"),
            ));
        }
        let (config, extras) = GptConfig::load_hf(&dir.join(CONFIG_FILE))?;
        let weights_path = dir.join(WEIGHTS_FILE);
        let file = safetensors_file::read(&weights_path)?;
        let values = map_hf_tensors(&config, file.tensors)
            .map_err(|e| ModelError::Weights(format!("{}: {e}", weights_path.display())))?;
        Self::from_values(config, extras, device, values)
    }

    /// Saves `config.json` and `model.safetensors` (Hugging Face `GPT2LMHeadModel` names, so
    /// `transformers` loads the directory) into `dir` crash-safely: a new directory appears
    /// complete or not at all; in an existing one each file is replaced whole, and other files
    /// (a tokenizer, a checkpoint) are left alone.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let files = self.serialized_files()?;
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        fsutil::write_files(dir, &refs)
    }

    /// The bytes of `model.safetensors` and `config.json`, in that order.
    pub(crate) fn serialized_files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        let named: Vec<(String, Tensor)> = tch::no_grad(|| {
            self.params.iter().map(|(name, t)| (format!("{HF_PREFIX}{name}"), t.detach())).collect()
        });
        let metadata = BTreeMap::from([("format".to_owned(), "pt".to_owned())]);
        let weights = safetensors_file::serialize(&named, &metadata)?;
        let config = serde_json::to_vec_pretty(&self.config.to_hf_value(&self.extras))
            .map_err(|e| ModelError::Config(format!("cannot serialise config.json: {e}")))?;
        Ok(vec![(WEIGHTS_FILE, weights), (CONFIG_FILE, config)])
    }

    /// The model's shape.
    pub fn config(&self) -> &GptConfig {
        &self.config
    }

    /// The device holding the weights.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Number of parameters (the output head is tied to `wte` and counted once).
    pub fn num_parameters(&self) -> i64 {
        self.params
            .iter()
            .map(|(_, t)| t.numel())
            .fold(0i64, |acc, n| acc.saturating_add(i64::try_from(n).unwrap_or(i64::MAX)))
    }

    /// The end-of-text token id recorded in `config.json` (`eos_token_id`), if any.
    pub fn eos_token_id(&self) -> Option<u32> {
        self.extras.eos_token_id
    }

    /// Records the tokenizer's end-of-text id as `bos_token_id` and `eos_token_id` of
    /// `config.json` (GPT-2 uses one token for both). Ids outside the vocabulary are refused.
    pub fn set_eos_token_id(&mut self, id: Option<u32>) -> Result<()> {
        if let Some(id) = id {
            if i64::from(id) >= self.config.vocab_size {
                return Err(ModelError::InvalidInput(format!(
                    "end-of-text id {id} is outside the vocabulary of {}",
                    self.config.vocab_size
                )));
            }
        }
        self.extras = HfExtras { bos_token_id: id, eos_token_id: id };
        Ok(())
    }

    /// The parameters by Hugging Face name (without the `transformer.` prefix), in a fixed order.
    /// The tensors share storage with the model; they are what training updates.
    pub fn named_parameters(&self) -> &[(String, Tensor)] {
        &self.params
    }

    /// Copies every parameter of `other` (same config) into this model.
    pub fn copy_weights_from(&mut self, other: &LanguageModel) -> Result<()> {
        if other.config != self.config {
            return Err(ModelError::InvalidInput(format!(
                "cannot copy weights between models of different shapes ({:?} vs {:?})",
                other.config, self.config
            )));
        }
        tch::no_grad(|| -> Result<()> {
            for ((_, dst), (_, src)) in self.params.iter().zip(other.params.iter()) {
                let mut dst = dst.shallow_clone();
                dst.f_copy_(src)?;
            }
            Ok(())
        })?;
        self.extras = other.extras;
        Ok(())
    }
}

/// Whether `name` is one of the attention-mask buffers older `transformers` saved
/// (`h.{i}.attn.bias`, `h.{i}.attn.masked_bias`), which hold no parameters.
pub(crate) fn is_attention_buffer(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    matches!(parts[..], ["h", i, "attn", "bias" | "masked_bias"] if i.parse::<u32>().is_ok())
}

/// Maps the tensors of a Hugging Face GPT-2 checkpoint to our parameter names, checking names,
/// shapes, dtypes and values.
fn map_hf_tensors(
    config: &GptConfig,
    tensors: BTreeMap<String, Tensor>,
) -> std::result::Result<BTreeMap<String, Tensor>, String> {
    let specs = param_specs(config);
    let expected: BTreeMap<&str, &[i64]> =
        specs.iter().map(|s| (s.name.as_str(), s.shape.as_slice())).collect();
    let mut out: BTreeMap<String, Tensor> = BTreeMap::new();
    let mut lm_head = None;
    for (raw, tensor) in tensors {
        let name = raw.strip_prefix(HF_PREFIX).unwrap_or(&raw);
        if name == "lm_head.weight" {
            lm_head = Some((raw.clone(), tensor));
            continue;
        }
        if is_attention_buffer(name) {
            continue;
        }
        let Some(shape) = expected.get(name) else {
            return Err(format!(
                "unknown tensor {raw:?} (not a parameter of a GPT-2 model with this config)"
            ));
        };
        if tensor.size().as_slice() != *shape {
            return Err(format!(
                "tensor {raw:?} has shape {:?}, but config.json implies {shape:?}",
                tensor.size()
            ));
        }
        if !tensor.is_floating_point() {
            return Err(format!(
                "tensor {raw:?} has kind {:?}; weights must be floating point",
                tensor.kind()
            ));
        }
        let tensor = tensor.f_to_kind(Kind::Float).map_err(|e| e.to_string())?;
        if out.insert(name.to_owned(), tensor).is_some() {
            return Err(format!(
                "tensor {name:?} appears twice (with and without the {HF_PREFIX:?} prefix)"
            ));
        }
    }
    let missing: Vec<&str> =
        specs.iter().map(|s| s.name.as_str()).filter(|n| !out.contains_key(*n)).collect();
    if let Some(first) = missing.first() {
        let more = missing.len().saturating_sub(1);
        let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
        return Err(format!("missing tensor {first:?}{tail}"));
    }
    for (name, tensor) in &out {
        let finite = tensor
            .f_isfinite()
            .and_then(|t| t.f_all())
            .and_then(|t| t.f_int64_value(&[]))
            .map_err(|e| e.to_string())?;
        if finite == 0 {
            return Err(format!("tensor {name:?} holds NaN or infinite values"));
        }
    }
    if let Some((raw, head)) = lm_head {
        let same = out
            .get("wte.weight")
            .map(|wte| {
                head.size() == wte.size()
                    && head.f_to_kind(Kind::Float).and_then(|h| h.f_equal(wte)).unwrap_or(false)
            })
            .unwrap_or(false);
        if !same {
            return Err(format!(
                "tensor {raw:?} differs from wte.weight; only tied output heads are supported"
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attention_buffers() {
        assert!(is_attention_buffer("h.0.attn.bias"));
        assert!(is_attention_buffer("h.11.attn.masked_bias"));
        assert!(!is_attention_buffer("h.0.attn.c_attn.bias"));
        assert!(!is_attention_buffer("h.x.attn.bias"));
    }

    #[test]
    fn spec_count_matches_formula() {
        let c = GptConfig {
            vocab_size: 50,
            n_positions: 16,
            n_embd: 8,
            n_layer: 3,
            n_head: 2,
            layer_norm_epsilon: 1e-5,
        };
        let total: i64 = param_specs(&c).iter().map(|s| s.shape.iter().product::<i64>()).sum();
        assert_eq!(total, c.num_parameters());
    }
}
