//! The decoder's forward pass: embeddings, pre-norm attention and MLP blocks, final norm and
//! the output head tied to the token embeddings.

use crate::model::{Affine, LanguageModel, Norm};
use crate::{ModelError, Result};
use tch::{Kind, Tensor};

/// Keys and values of the positions already run, one pair per block (`[B, H, T, D]`), for
/// incremental decoding.
#[derive(Default)]
pub(crate) struct KvCache {
    layers: Vec<(Tensor, Tensor)>,
    len: i64,
}

impl KvCache {
    /// Number of positions cached.
    pub(crate) fn len(&self) -> i64 {
        self.len
    }
}

impl Norm {
    fn apply(&self, x: &Tensor, dim: i64, eps: f64) -> Result<Tensor> {
        Ok(x.f_layer_norm([dim], Some(&self.weight), Some(&self.bias), eps, true)?)
    }
}

impl Affine {
    /// `x @ w + b` over the last dimension of `x` (any leading dimensions).
    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        let size = x.size();
        let (lead, last) = size.split_at(size.len().saturating_sub(1));
        let inner = last.first().copied().unwrap_or(0);
        let out_dim = self.weight.size().get(1).copied().unwrap_or(0);
        let flat = x.f_reshape([-1, inner])?;
        let y = self.bias.f_addmm(&flat, &self.weight)?;
        let mut shape = lead.to_vec();
        shape.push(out_dim);
        Ok(y.f_view(shape.as_slice())?)
    }
}

impl LanguageModel {
    /// Runs the model on `tokens` (`[B, T]`, int64, `1 <= T <= n_positions`, every id below
    /// `vocab_size`) and returns the logits `[B, T, vocab_size]` on the model's device, with
    /// autograd tracking unless called under `tch::no_grad`. The model has no dropout, so
    /// `train` does not change the result; it is there for the usual module signature.
    pub fn forward_t(&self, tokens: &Tensor, train: bool) -> Result<Tensor> {
        let _ = train;
        self.check_tokens(tokens)?;
        let tokens = tokens.f_to_device(self.device())?;
        let hidden = self.hidden(&tokens, None)?;
        self.head(&hidden)
    }

    /// Checks the shape, kind and range of a token tensor.
    pub(crate) fn check_tokens(&self, tokens: &Tensor) -> Result<()> {
        let size = tokens.size();
        let [b, t] = size[..] else {
            return Err(ModelError::InvalidInput(format!(
                "tokens must be [batch, time], got shape {size:?}"
            )));
        };
        if b < 1 || t < 1 {
            return Err(ModelError::InvalidInput(format!("empty batch of shape {size:?}")));
        }
        if t > self.config.n_positions {
            return Err(ModelError::InvalidInput(format!(
                "{t} positions exceed the model's context of {}",
                self.config.n_positions
            )));
        }
        if tokens.kind() != Kind::Int64 {
            return Err(ModelError::InvalidInput(format!(
                "tokens must be int64, got {:?}",
                tokens.kind()
            )));
        }
        let lo = tokens.f_min()?.f_int64_value(&[])?;
        let hi = tokens.f_max()?.f_int64_value(&[])?;
        if lo < 0 || hi >= self.config.vocab_size {
            return Err(ModelError::InvalidInput(format!(
                "token ids must lie in 0..{}, got {lo}..={hi}",
                self.config.vocab_size
            )));
        }
        Ok(())
    }

    /// The final hidden states (after `ln_f`) of checked `tokens` on the model's device. With a
    /// cache, the tokens continue the cached positions and their keys and values are appended.
    pub(crate) fn hidden(&self, tokens: &Tensor, cache: Option<&mut KvCache>) -> Result<Tensor> {
        let c = &self.config;
        let (b, t) = tokens.size2()?;
        let start = cache.as_ref().map_or(0, |k| k.len);
        let end = start.checked_add(t).filter(|e| *e <= c.n_positions).ok_or_else(|| {
            ModelError::InvalidInput(format!(
                "{start} + {t} positions exceed the context of {}",
                c.n_positions
            ))
        })?;
        let positions = Tensor::f_arange_start(start, end, (Kind::Int64, self.device()))?;
        let tok = Tensor::f_embedding(&self.wte, tokens, -1, false, false)?;
        let pos = Tensor::f_embedding(&self.wpe, &positions, -1, false, false)?;
        let mut x = tok.f_add(&pos)?;
        let (e, heads, hd) = (c.n_embd, c.n_head, c.head_dim());
        let eps = c.layer_norm_epsilon;
        let mut cache = cache;
        for (i, block) in self.blocks.iter().enumerate() {
            let h = block.ln_1.apply(&x, e, eps)?;
            let qkv = block.c_attn.apply(&h)?;
            let parts = qkv.f_split(e, -1)?;
            let [q, k, v] = parts.as_slice() else {
                return Err(ModelError::InvalidInput(
                    "attention projection has the wrong width".into(),
                ));
            };
            let split_heads = |z: &Tensor| -> Result<Tensor> {
                Ok(z.f_view([b, t, heads, hd])?.f_transpose(1, 2)?)
            };
            let (q, mut k, mut v) = (split_heads(q)?, split_heads(k)?, split_heads(v)?);
            let mut causal = true;
            if let Some(cache) = cache.as_deref_mut() {
                if let Some((pk, pv)) = cache.layers.get(i) {
                    if t != 1 {
                        return Err(ModelError::InvalidInput(
                            "a cached forward pass takes one token at a time".into(),
                        ));
                    }
                    k = Tensor::f_cat(&[pk, &k], 2)?;
                    v = Tensor::f_cat(&[pv, &v], 2)?;
                    // One new query attends to every cached position and itself.
                    causal = false;
                }
                match cache.layers.get_mut(i) {
                    Some(slot) => *slot = (k.shallow_clone(), v.shallow_clone()),
                    None => cache.layers.push((k.shallow_clone(), v.shallow_clone())),
                }
            }
            let y = Tensor::f_scaled_dot_product_attention::<Tensor>(
                &q, &k, &v, None, 0.0, causal, None, false,
            )?;
            let y = y.f_transpose(1, 2)?.f_reshape([b, t, e])?;
            x = x.f_add(&block.attn_proj.apply(&y)?)?;
            let h = block.ln_2.apply(&x, e, eps)?;
            let h = block.c_fc.apply(&h)?.f_gelu("tanh")?;
            x = x.f_add(&block.mlp_proj.apply(&h)?)?;
        }
        if let Some(cache) = cache {
            cache.len = end;
        }
        self.ln_f.apply(&x, e, eps)
    }

    /// Logits `[.., vocab_size]` of hidden states `[.., n_embd]` (the head tied to `wte`).
    pub(crate) fn head(&self, hidden: &Tensor) -> Result<Tensor> {
        let size = hidden.size();
        let flat = hidden.f_reshape([-1, self.config.n_embd])?;
        let logits = flat.f_mm(&self.wte.f_tr()?)?;
        let mut shape = size;
        if let Some(last) = shape.last_mut() {
            *last = self.config.vocab_size;
        }
        Ok(logits.f_view(shape.as_slice())?)
    }
}
