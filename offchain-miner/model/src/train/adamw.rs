//! AdamW written out on tensors, so that its state (first and second moments and the step
//! count) can be saved and restored exactly.

use crate::{safetensors_file, ModelError, Result};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{Kind, Tensor};

/// Optimizer hyper-parameters.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamWParams {
    pub(crate) beta1: f64,
    pub(crate) beta2: f64,
    pub(crate) eps: f64,
    pub(crate) weight_decay: f64,
    pub(crate) grad_clip: f64,
}

struct Slot {
    name: String,
    param: Tensor,
    m: Tensor,
    v: Tensor,
    decay: bool,
}

/// AdamW over a fixed list of named parameters.
pub(crate) struct AdamW {
    slots: Vec<Slot>,
    /// Updates applied so far.
    pub(crate) step: u64,
    params: AdamWParams,
}

impl AdamW {
    /// Zero moments for `params`; weight decay applies to matrices (2-D tensors) only, not to
    /// biases and layer-norm parameters.
    pub(crate) fn new(named: &[(String, Tensor)], params: AdamWParams) -> Result<Self> {
        let slots = named
            .iter()
            .map(|(name, p)| {
                Ok(Slot {
                    name: name.clone(),
                    param: p.shallow_clone(),
                    m: p.f_zeros_like()?.f_detach()?,
                    v: p.f_zeros_like()?.f_detach()?,
                    decay: p.dim() >= 2,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { slots, step: 0, params })
    }

    /// Clears every parameter's gradient.
    pub(crate) fn zero_grad(&self) -> Result<()> {
        for slot in &self.slots {
            let mut grad = slot.param.f_grad()?;
            if grad.defined() {
                let _ = grad.f_detach_()?.f_zero_()?;
            }
        }
        Ok(())
    }

    /// Clips the gradients to a global norm of at most `grad_clip` and applies one AdamW update
    /// at learning rate `lr`. Returns the gradient norm before clipping.
    pub(crate) fn step(&mut self, lr: f64) -> Result<f64> {
        let p = self.params;
        tch::no_grad(|| -> Result<f64> {
            let mut grads = Vec::with_capacity(self.slots.len());
            let mut sq: Option<Tensor> = None;
            for slot in &self.slots {
                let g = slot.param.f_grad()?;
                let g = if g.defined() { g } else { slot.param.f_zeros_like()? };
                let s = g.f_square()?.f_sum(Kind::Float)?;
                sq = Some(match sq {
                    None => s,
                    Some(acc) => acc.f_add(&s)?,
                });
                grads.push(g);
            }
            let norm = match sq {
                Some(s) => s.f_sqrt()?.f_double_value(&[])?,
                None => 0.0,
            };
            if !norm.is_finite() {
                return Err(ModelError::InvalidInput(format!(
                    "gradient norm is {norm}; training diverged"
                )));
            }
            let scale = if p.grad_clip > 0.0 && norm > p.grad_clip {
                p.grad_clip / (norm + 1e-6)
            } else {
                1.0
            };
            self.step = self.step.saturating_add(1);
            let t = i32::try_from(self.step).unwrap_or(i32::MAX);
            let bc1 = 1.0 - p.beta1.powi(t);
            let bc2 = 1.0 - p.beta2.powi(t);
            for (slot, g) in self.slots.iter_mut().zip(grads) {
                let g = if scale != 1.0 { g.f_mul_scalar(scale)? } else { g };
                let _ = slot.m.f_mul_scalar_(p.beta1)?;
                let _ = slot.m.f_add_(&g.f_mul_scalar(1.0 - p.beta1)?)?;
                let _ = slot.v.f_mul_scalar_(p.beta2)?;
                let _ = slot.v.f_add_(&g.f_square()?.f_mul_scalar(1.0 - p.beta2)?)?;
                let mut param = slot.param.shallow_clone();
                if slot.decay && p.weight_decay > 0.0 {
                    let _ = param.f_mul_scalar_(1.0 - lr * p.weight_decay)?;
                }
                let denom = slot.v.f_sqrt()?.f_div_scalar(bc2.sqrt())?.f_add_scalar(p.eps)?;
                let update = slot.m.f_div(&denom)?.f_mul_scalar(lr / bc1)?;
                let _ = param.f_sub_(&update)?;
            }
            Ok(norm)
        })
    }

    /// The moments as named tensors (`m.{name}`, `v.{name}`).
    pub(crate) fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(self.slots.len().saturating_mul(2));
        for slot in &self.slots {
            out.push((format!("m.{}", slot.name), slot.m.shallow_clone()));
            out.push((format!("v.{}", slot.name), slot.v.shallow_clone()));
        }
        out
    }

    /// The bytes of `optimizer.safetensors`, with the step count in its metadata.
    pub(crate) fn serialize(&self) -> Result<Vec<u8>> {
        let metadata = BTreeMap::from([
            ("format".to_owned(), "pt".to_owned()),
            ("step".to_owned(), self.step.to_string()),
        ]);
        safetensors_file::serialize(&self.state_tensors(), &metadata)
    }

    /// Restores the moments and step count from `optimizer.safetensors`.
    pub(crate) fn load(&mut self, path: &Path) -> Result<()> {
        let mut file = safetensors_file::read(path)?;
        let bad = |msg: String| ModelError::Checkpoint(format!("{}: {msg}", path.display()));
        let step = file
            .metadata
            .get("step")
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| bad("no step in the metadata".into()))?;
        let expected = self.slots.len().saturating_mul(2);
        if file.tensors.len() != expected {
            return Err(bad(format!("{} tensors, expected {expected}", file.tensors.len())));
        }
        tch::no_grad(|| -> Result<()> {
            for slot in &mut self.slots {
                for (prefix, target) in [("m", &mut slot.m), ("v", &mut slot.v)] {
                    let name = format!("{prefix}.{}", slot.name);
                    let value = file
                        .tensors
                        .remove(&name)
                        .ok_or_else(|| bad(format!("missing tensor {name:?}")))?;
                    if value.size() != target.size() || value.kind() != Kind::Float {
                        return Err(bad(format!(
                            "tensor {name:?} is {:?} {:?}, expected {:?} Float",
                            value.size(),
                            value.kind(),
                            target.size()
                        )));
                    }
                    target.f_copy_(&value)?;
                }
            }
            Ok(())
        })?;
        self.step = step;
        Ok(())
    }
}
