//! Slightly perturbed copies of a model: the "almost the subnet's model" a grid cheater might
//! serve (a fine-tune, a quantisation, a different checkpoint), for testing that the grid
//! verifier tells them apart.
//!
//! Every floating-point tensor `w` becomes `w + ε` with `ε ~ N(0, (scale · rms(w))²)`
//! element-wise, where `rms(w) = sqrt(mean(w²))` (a tensor of zeros stays zero). The noise is
//! deterministic: it is drawn from ChaCha20 keyed by
//! `BLAKE2b-256(b"subtensor-grid-perturb-v1" ‖ le64(seed) ‖ name)`, where `name` is the
//! tensor's name without the `transformer.` prefix, through Box–Muller on the uniforms of
//! [`uniform_from_bits`]. So [`perturb_model`] (on disk) and [`LanguageModel::perturbed`] (in
//! memory) give the same weights for the same seed, and neither depends on tensor order.

use super::uniform_from_bits;
use crate::model::{is_attention_buffer, LanguageModel, CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE};
use crate::{fsutil, safetensors_file, ModelError, Result};
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::path::Path;
use tch::{Kind, Tensor};

/// Domain-separation prefix of the perturbation noise key.
pub const PERTURB_DOMAIN: &[u8] = b"subtensor-grid-perturb-v1";

/// The prefix `GPT2LMHeadModel` puts before the decoder's tensor names.
const HF_PREFIX: &str = "transformer.";

/// Checks that `relative_scale` is finite and positive.
fn check_scale(relative_scale: f64) -> Result<()> {
    if relative_scale.is_finite() && relative_scale > 0.0 {
        Ok(())
    } else {
        Err(ModelError::InvalidInput(format!(
            "perturbation scale {relative_scale} must be finite and > 0"
        )))
    }
}

/// Standard normal samples (Box–Muller) from ChaCha20 keyed by the seed and a tensor name.
struct NoiseStream {
    rng: ChaCha20Rng,
    spare: Option<f64>,
}

impl NoiseStream {
    fn new(seed: u64, name: &str) -> Self {
        let mut hasher = Blake2b::<U32>::new();
        hasher.update(PERTURB_DOMAIN);
        hasher.update(seed.to_le_bytes());
        hasher.update(name.as_bytes());
        Self { rng: ChaCha20Rng::from_seed(hasher.finalize().into()), spare: None }
    }

    fn sample(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        // Both uniforms lie strictly inside (0, 1): ln(u1) is finite.
        let u1 = uniform_from_bits(self.rng.next_u64());
        let u2 = uniform_from_bits(self.rng.next_u64());
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f64::consts::TAU * u2;
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }
}

/// `tensor + N(0, (relative_scale · rms(tensor))²)` with the noise of `(seed, name)`, in the
/// tensor's own kind and shape, on the CPU. Non-floating-point tensors are returned unchanged.
pub(crate) fn perturb_tensor(
    tensor: &Tensor,
    name: &str,
    relative_scale: f64,
    seed: u64,
) -> Result<Tensor> {
    let cpu = tensor.f_detach()?.f_to_device(tch::Device::Cpu)?;
    if !cpu.is_floating_point() {
        return Ok(cpu);
    }
    let kind = cpu.kind();
    let shape = cpu.size();
    let values = Vec::<f64>::try_from(cpu.f_to_kind(Kind::Double)?.f_flatten(0, -1)?)?;
    let n = values.len().max(1) as f64;
    let rms = (values.iter().map(|v| v * v).sum::<f64>() / n).sqrt();
    let std = relative_scale * rms;
    let mut noise = NoiseStream::new(seed, name.strip_prefix(HF_PREFIX).unwrap_or(name));
    let out: Vec<f64> = values.iter().map(|v| v + std * noise.sample()).collect();
    Ok(Tensor::f_from_slice(&out)?.f_view(shape.as_slice())?.f_to_kind(kind)?)
}

/// Writes into `out` a copy of the model directory `src` whose weights are perturbed (see the
/// module documentation): `config.json` and `tokenizer.json` are copied byte for byte,
/// `model.safetensors` is rewritten with every floating-point parameter tensor perturbed
/// (attention-mask buffers are kept; a tied `lm_head.weight` stays tied to the perturbed
/// `wte.weight`; the metadata is kept).
///
/// Refused for a `relative_scale` that is not finite and positive, and when `out` exists and
/// is not an empty directory. The directory is built under a temporary name next to `out` and
/// renamed into place, so `out` appears complete or not at all.
pub fn perturb_model(src: &Path, out: &Path, relative_scale: f64, seed: u64) -> Result<()> {
    check_scale(relative_scale)?;
    if out.exists() {
        let empty = out.is_dir()
            && std::fs::read_dir(out).map_err(|e| ModelError::io(out, e))?.next().is_none();
        if !empty {
            return Err(ModelError::io(
                out,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "exists and is not an empty directory",
                ),
            ));
        }
        std::fs::remove_dir(out).map_err(|e| ModelError::io(out, e))?;
    }
    let read = |name: &str| {
        let path = src.join(name);
        std::fs::read(&path).map_err(|e| ModelError::io(&path, e))
    };
    let config = read(CONFIG_FILE)?;
    let tokenizer = read(TOKENIZER_FILE)?;
    let weights_path = src.join(WEIGHTS_FILE);
    let file = safetensors_file::read(&weights_path)?;
    let mut perturbed: BTreeMap<String, Tensor> = BTreeMap::new();
    let mut head = None;
    for (name, tensor) in &file.tensors {
        let bare = name.strip_prefix(HF_PREFIX).unwrap_or(name);
        if bare == "lm_head.weight" {
            head = Some(name.clone());
            continue;
        }
        let value = if is_attention_buffer(bare) {
            tensor.shallow_clone()
        } else {
            perturb_tensor(tensor, name, relative_scale, seed)?
        };
        perturbed.insert(name.clone(), value);
    }
    if let Some(head) = head {
        let wte = perturbed
            .iter()
            .find(|(n, _)| n.strip_prefix(HF_PREFIX).unwrap_or(n) == "wte.weight")
            .map(|(_, t)| t.shallow_clone())
            .ok_or_else(|| {
                ModelError::Weights(format!(
                    "{}: lm_head.weight without wte.weight",
                    weights_path.display()
                ))
            })?;
        perturbed.insert(head, wte);
    }
    let named: Vec<(String, Tensor)> = perturbed.into_iter().collect();
    let weights = safetensors_file::serialize(&named, &file.metadata)?;
    fsutil::write_files(
        out,
        &[(CONFIG_FILE, &config), (TOKENIZER_FILE, &tokenizer), (WEIGHTS_FILE, &weights)],
    )
}

impl LanguageModel {
    /// A copy of this model (same device, config and end-of-text id) with every parameter
    /// perturbed as [`perturb_model`] perturbs it on disk: the same `seed` gives the same
    /// weights as loading the directory [`perturb_model`] writes. Refused for a
    /// `relative_scale` that is not finite and positive.
    pub fn perturbed(&self, relative_scale: f64, seed: u64) -> Result<LanguageModel> {
        check_scale(relative_scale)?;
        let mut values = BTreeMap::new();
        for (name, tensor) in &self.params {
            values.insert(name.clone(), perturb_tensor(tensor, name, relative_scale, seed)?);
        }
        LanguageModel::from_values(self.config.clone(), self.extras, self.device(), values)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::*;
    use crate::grid::model_digest;
    use crate::GptConfig;
    use tch::Device;

    fn tiny() -> LanguageModel {
        let config = GptConfig {
            vocab_size: 64,
            n_positions: 32,
            n_embd: 32,
            n_layer: 2,
            n_head: 4,
            layer_norm_epsilon: 1e-5,
        };
        let mut m = LanguageModel::random(config, Device::Cpu, 3).unwrap();
        m.set_eos_token_id(Some(0)).unwrap();
        m
    }

    fn last_logits(m: &LanguageModel) -> Vec<f32> {
        let t = m.logits(&[vec![3, 14, 15, 9, 26, 5]]).unwrap();
        Vec::<f32>::try_from(t.flatten(0, -1)).unwrap()
    }

    /// `‖a - b‖ / ‖b‖`.
    fn relative(a: &[f32], b: &[f32]) -> f64 {
        let d: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
        let n: f64 = b.iter().map(|y| f64::from(*y).powi(2)).sum();
        (d / n).sqrt()
    }

    #[test]
    fn perturbed_copy_loads_differs_slightly_and_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let m = tiny();
        m.save(&src).unwrap();
        std::fs::write(src.join(TOKENIZER_FILE), b"{\"not\": \"parsed\"}").unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        perturb_model(&src, &a, 0.01, 1).unwrap();
        // An existing empty directory is fine.
        std::fs::create_dir(&b).unwrap();
        perturb_model(&src, &b, 0.01, 1).unwrap();
        for name in [CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE] {
            assert_eq!(std::fs::read(a.join(name)).unwrap(), std::fs::read(b.join(name)).unwrap());
        }
        for name in [CONFIG_FILE, TOKENIZER_FILE] {
            assert_eq!(
                std::fs::read(a.join(name)).unwrap(),
                std::fs::read(src.join(name)).unwrap()
            );
        }
        assert_ne!(model_digest(&a).unwrap(), model_digest(&src).unwrap());
        let loaded = LanguageModel::load(&a, Device::Cpu).unwrap();
        assert_eq!(loaded.eos_token_id(), Some(0));
        let base = last_logits(&m);
        let r = relative(&last_logits(&loaded), &base);
        assert!(r > 0.0 && r < 0.1, "relative logit change {r}");
        // The in-memory copy has the same weights.
        let in_memory = m.perturbed(0.01, 1).unwrap();
        assert_eq!(last_logits(&in_memory), last_logits(&loaded));
        // Another seed, other weights; a larger scale, a larger change.
        let c = dir.path().join("c");
        perturb_model(&src, &c, 0.01, 2).unwrap();
        assert_ne!(model_digest(&c).unwrap(), model_digest(&a).unwrap());
        let big = relative(&last_logits(&m.perturbed(0.1, 1).unwrap()), &base);
        assert!(big > r, "{big} vs {r}");
    }

    #[test]
    fn bad_scales_and_occupied_outputs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        tiny().save(&src).unwrap();
        std::fs::write(src.join(TOKENIZER_FILE), b"{}").unwrap();
        let out = dir.path().join("out");
        for scale in [0.0, -0.1, f64::NAN, f64::INFINITY] {
            assert!(perturb_model(&src, &out, scale, 1).is_err(), "scale {scale}");
            assert!(tiny().perturbed(scale, 1).is_err());
        }
        assert!(!out.exists());
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("x"), b"x").unwrap();
        assert!(perturb_model(&src, &out, 0.01, 1).is_err());
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "left alone");
        // A missing tokenizer is an error and leaves nothing behind.
        std::fs::remove_file(src.join(TOKENIZER_FILE)).unwrap();
        let none = dir.path().join("none");
        assert!(perturb_model(&src, &none, 0.01, 1).is_err());
        assert!(!none.exists());
    }

    #[test]
    fn noise_is_standard_normal_and_scaled_by_rms() {
        let mut s = NoiseStream::new(9, "x");
        let draws: Vec<f64> = (0..20_000).map(|_| s.sample()).collect();
        let n = draws.len() as f64;
        let mean = draws.iter().sum::<f64>() / n;
        let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05, "mean {mean} var {var}");
        let w = Tensor::from_slice(&vec![2.0f32; 10_000]);
        let p = perturb_tensor(&w, "w", 0.1, 1).unwrap();
        let delta = Vec::<f32>::try_from(&p - &w).unwrap();
        let sd = (delta.iter().map(|d| f64::from(*d).powi(2)).sum::<f64>() / 10_000.0).sqrt();
        assert!((sd - 0.2).abs() < 0.01, "noise sd {sd}, want 0.1 x rms 2");
        let zeros = Tensor::zeros([5], (Kind::Float, Device::Cpu));
        assert!(perturb_tensor(&zeros, "z", 0.1, 1).unwrap().equal(&zeros));
        // The prefix does not change the noise.
        let q = perturb_tensor(&w, "transformer.w", 0.1, 1).unwrap();
        assert!(p.equal(&q));
    }
}
