//! [`TextLastHiddenState`]: the model's last hidden state at every (or every masked) position,
//! [`NETWORK_DIM`] values wide (2022 `TextLastHiddenState`).

use super::{
    batch_and_len, check_answer_size, opt_tensor_repr, required_output, token_rows, tokens_tensor,
    Synapse,
};
use crate::{tensor::Tensor, AxonError, Result};
use serde::{Deserialize, Serialize};

/// Width of a hidden state on the wire (the 2022 `__network_dim__`).
///
/// A server whose model is narrower zero-pads every row on the right ([`pad_hidden`]); a wider
/// model has to project down. Validators can tell the real width from the trailing zeros.
pub const NETWORK_DIM: usize = 1024;

/// Zero-pads `values`, rows of `width` floats (`[N, width]` flattened), to rows of
/// [`NETWORK_DIM`] (`[N, NETWORK_DIM]`). Errors when `width` is 0 or above `NETWORK_DIM`, or
/// `values` is not a whole number of rows.
pub fn pad_hidden(values: &[f32], width: usize) -> Result<Vec<f32>> {
    if width == 0 || width > NETWORK_DIM {
        return Err(AxonError::Invalid(format!("hidden width {width} outside 1..={NETWORK_DIM}")));
    }
    if !values.len().is_multiple_of(width) {
        return Err(AxonError::Invalid(format!(
            "{} values are not whole rows of {width}",
            values.len()
        )));
    }
    let rows = values.len().checked_div(width).unwrap_or(0);
    let mut out = Vec::with_capacity(rows.saturating_mul(NETWORK_DIM));
    for row in values.chunks_exact(width) {
        out.extend_from_slice(row);
        out.resize(out.len().saturating_add(NETWORK_DIM.saturating_sub(width)), 0.0);
    }
    Ok(out)
}

/// The last hidden state of a server's model for each input position.
///
/// Request: `text_inputs`, `int64` `[B, L]` of standard-tokenizer ids, and an optional `mask`:
/// positions `< L`, strictly increasing, at least one.
/// Response: `hidden_states`, `float32` (or `float16`) `[B, L, NETWORK_DIM]`, or
/// `[B·|mask|, NETWORK_DIM]` with a mask (rows ordered by batch row, then mask position).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextLastHiddenState {
    /// Token ids, `int64` `[B, L]`, `1 ≤ B ≤ MAX_BATCH`, `1 ≤ L ≤ MAX_SEQ_LEN`, ids `< VOCAB_SIZE`.
    pub text_inputs: Tensor,
    /// Only these positions are answered, when present.
    #[serde(default)]
    pub mask: Option<Vec<u32>>,
    /// The hidden states, filled by the axon.
    #[serde(default)]
    pub hidden_states: Option<Tensor>,
}

impl TextLastHiddenState {
    /// A request for the hidden states of `tokens` (all rows the same length), only at the
    /// `mask` positions when given.
    pub fn request(tokens: &[Vec<u32>], mask: Option<Vec<u32>>) -> Result<Self> {
        let s = Self { text_inputs: tokens_tensor(tokens)?, mask, hidden_states: None };
        s.validate_request()?;
        Ok(s)
    }

    /// The validated input tokens, one row per batch entry.
    pub fn tokens(&self) -> Result<Vec<Vec<u32>>> {
        token_rows(&self.text_inputs, "text_inputs")
    }

    /// The validated mask positions, if any.
    pub fn mask_positions(&self) -> Result<Option<Vec<usize>>> {
        let Some(mask) = &self.mask else { return Ok(None) };
        let (_, l) = batch_and_len(&self.text_inputs, "text_inputs")?;
        if mask.is_empty() {
            return Err(AxonError::Invalid("mask is empty (send no mask instead)".to_owned()));
        }
        if mask.windows(2).any(|w| w.first() >= w.get(1)) {
            return Err(AxonError::Invalid("mask must be strictly increasing".to_owned()));
        }
        if let Some(p) = mask.iter().find(|&&p| p as usize >= l) {
            return Err(AxonError::Invalid(format!("mask position {p} ≥ sequence length {l}")));
        }
        Ok(Some(mask.iter().map(|&p| p as usize).collect()))
    }

    /// The response shape: `[B, L, NETWORK_DIM]`, or `[B·|mask|, NETWORK_DIM]`.
    fn answer_dims(&self) -> Result<Vec<usize>> {
        let (b, l) = batch_and_len(&self.text_inputs, "text_inputs")?;
        // The unmasked size bounds what `outputs` rebuilds, masked or not.
        check_answer_size(&[b, l, NETWORK_DIM], "hidden_states")?;
        Ok(match self.mask_positions()? {
            Some(m) => vec![b.saturating_mul(m.len()), NETWORK_DIM],
            None => vec![b, l, NETWORK_DIM],
        })
    }

    /// Fills the response from the hidden states at *all* positions, `[B, L, NETWORK_DIM]`
    /// flattened (pad narrower models with [`pad_hidden`]); with a mask only the masked rows
    /// are sent. With a mask, the already-selected `[B·|mask|, NETWORK_DIM]` is accepted too.
    pub fn set_outputs(&mut self, hidden: &[f32]) -> Result<()> {
        let dims = self.answer_dims()?;
        let (b, l) = batch_and_len(&self.text_inputs, "text_inputs")?;
        if let Some(i) = hidden.iter().position(|v| !v.is_finite()) {
            return Err(AxonError::Invalid(format!("non-finite hidden state at index {i}")));
        }
        let full = b.saturating_mul(l).saturating_mul(NETWORK_DIM);
        let selected = dims.iter().product::<usize>();
        let values = match self.mask_positions()? {
            Some(mask) if hidden.len() == full => {
                let mut out = Vec::with_capacity(selected);
                for row in hidden.chunks_exact(l.saturating_mul(NETWORK_DIM)) {
                    for &p in &mask {
                        let start = p.saturating_mul(NETWORK_DIM);
                        let end = start.saturating_add(NETWORK_DIM);
                        let slice = row.get(start..end).ok_or_else(|| {
                            AxonError::Invalid(format!("mask position {p} out of range"))
                        })?;
                        out.extend_from_slice(slice);
                    }
                }
                out
            }
            _ if hidden.len() == selected => hidden.to_vec(),
            _ => {
                return Err(AxonError::Invalid(format!(
                    "{} hidden values, expected {selected} for shape {dims:?}",
                    hidden.len()
                )))
            }
        };
        self.hidden_states = Some(Tensor::from_f32(&values, &dims)?);
        Ok(())
    }

    /// The answer as sent, validated: `[B, L, NETWORK_DIM]` or `[B·|mask|, NETWORK_DIM]`.
    pub fn output_rows(&self) -> Result<Vec<f32>> {
        let want = self.answer_dims()?;
        let t = required_output(self.hidden_states.as_ref(), "hidden_states")?;
        let (dims, values) = t.to_finite_f32()?;
        if dims != want {
            return Err(AxonError::Invalid(format!(
                "hidden_states is {dims:?}, expected {want:?}"
            )));
        }
        Ok(values)
    }

    /// The answer as `[B, L, NETWORK_DIM]` flattened; with a mask the unmasked positions are
    /// zero (the 2022 client's scatter).
    pub fn outputs(&self) -> Result<Vec<f32>> {
        let rows = self.output_rows()?;
        let Some(mask) = self.mask_positions()? else { return Ok(rows) };
        let (b, l) = batch_and_len(&self.text_inputs, "text_inputs")?;
        let mut out = vec![0.0f32; b.saturating_mul(l).saturating_mul(NETWORK_DIM)];
        let sent = rows.chunks_exact(NETWORK_DIM);
        let slots =
            (0..b).flat_map(|bi| mask.iter().map(move |&p| bi.saturating_mul(l).saturating_add(p)));
        for (row, slot) in sent.zip(slots) {
            let start = slot.saturating_mul(NETWORK_DIM);
            if let Some(dst) = out.get_mut(start..start.saturating_add(NETWORK_DIM)) {
                dst.copy_from_slice(row);
            }
        }
        Ok(out)
    }
}

impl Synapse for TextLastHiddenState {
    const NAME: &'static str = "TextLastHiddenState";
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &["text_inputs", "mask", "hidden_states"];
    const REQUIRED_INPUT_DEFAULTS: &'static [(&'static str, &'static str)] =
        &[("text_inputs", "{}")];

    fn hash_field_repr(&self, field: &str) -> Option<String> {
        match field {
            "text_inputs" => Some(self.text_inputs.python_repr()),
            "mask" => Some(match &self.mask {
                None => "None".to_owned(),
                Some(m) => {
                    let items: Vec<String> = m.iter().map(u32::to_string).collect();
                    format!("[{}]", items.join(", "))
                }
            }),
            "hidden_states" => Some(opt_tensor_repr(self.hidden_states.as_ref())),
            _ => None,
        }
    }

    fn validate_request(&self) -> Result<()> {
        self.answer_dims()?;
        self.tokens()?;
        if let Some(t) = &self.hidden_states {
            t.to_finite_f32()?;
        }
        Ok(())
    }

    fn validate_response(&self) -> Result<()> {
        self.tokens()?;
        self.output_rows().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3-wide "model": row `(b, l)` is `[b, l, token]`, padded to NETWORK_DIM.
    fn model(tokens: &[Vec<u32>]) -> Vec<f32> {
        let narrow: Vec<f32> = tokens
            .iter()
            .enumerate()
            .flat_map(|(b, row)| {
                row.iter().enumerate().flat_map(move |(l, &t)| [b as f32, l as f32, t as f32])
            })
            .collect();
        pad_hidden(&narrow, 3).unwrap()
    }

    #[test]
    fn pad_hidden_pads_rows() {
        let out = pad_hidden(&[1.0, 2.0, 3.0, 4.0], 2).unwrap();
        assert_eq!(out.len(), 2 * NETWORK_DIM);
        assert_eq!(&out[..3], &[1.0, 2.0, 0.0]);
        assert_eq!(&out[NETWORK_DIM..NETWORK_DIM + 3], &[3.0, 4.0, 0.0]);
        assert!(out[2..NETWORK_DIM].iter().all(|&v| v == 0.0));
        assert!(pad_hidden(&[1.0, 2.0, 3.0], 2).is_err());
        assert!(pad_hidden(&[1.0], 0).is_err());
        assert!(pad_hidden(&vec![0.0; NETWORK_DIM + 1], NETWORK_DIM + 1).is_err());
        assert_eq!(pad_hidden(&[5.0; NETWORK_DIM], NETWORK_DIM).unwrap(), vec![5.0; NETWORK_DIM]);
    }

    #[test]
    fn unmasked_round_trip() {
        let tokens = vec![vec![7, 8, 9], vec![4, 5, 6]];
        let mut s = TextLastHiddenState::request(&tokens, None).unwrap();
        let h = s.body_hash();
        s.set_outputs(&model(&tokens)).unwrap();
        assert_ne!(s.body_hash(), h);
        s.validate_response().unwrap();
        assert_eq!(s.hidden_states.as_ref().unwrap().shape, vec![2, 3, NETWORK_DIM as i64]);
        assert_eq!(s.outputs().unwrap(), model(&tokens));
    }

    #[test]
    fn masked_rows_and_scatter() {
        let tokens = vec![vec![7, 8, 9], vec![4, 5, 6]];
        let mut s = TextLastHiddenState::request(&tokens, Some(vec![0, 2])).unwrap();
        s.set_outputs(&model(&tokens)).unwrap();
        assert_eq!(s.hidden_states.as_ref().unwrap().shape, vec![4, NETWORK_DIM as i64]);
        let rows = s.output_rows().unwrap();
        let starts: Vec<&[f32]> = rows.chunks(NETWORK_DIM).map(|r| &r[..3]).collect();
        assert_eq!(
            starts,
            vec![&[0.0, 0.0, 7.0][..], &[0.0, 2.0, 9.0], &[1.0, 0.0, 4.0], &[1.0, 2.0, 6.0]]
        );
        let full = s.outputs().unwrap();
        let expected = model(&tokens);
        for (i, (got, want)) in
            full.chunks(NETWORK_DIM).zip(expected.chunks(NETWORK_DIM)).enumerate()
        {
            if i % 3 == 1 {
                assert!(got.iter().all(|&v| v == 0.0), "row {i} should be zero");
            } else {
                assert_eq!(got, want, "row {i}");
            }
        }
        // The pre-selected rows are accepted as well and give the same answer.
        let mut again = TextLastHiddenState::request(&tokens, Some(vec![0, 2])).unwrap();
        again.set_outputs(&rows).unwrap();
        assert_eq!(again, s);
        // The mask is hashed (as Python's str of a list).
        assert_eq!(s.hash_field_repr("mask").unwrap(), "[0, 2]");
        let unmasked = TextLastHiddenState::request(&tokens, None).unwrap();
        assert_eq!(unmasked.hash_field_repr("mask").unwrap(), "None");
    }

    #[test]
    fn bad_masks_shapes_and_values() {
        let t = vec![vec![1, 2, 3]];
        for mask in [vec![], vec![1, 1], vec![2, 1], vec![3]] {
            assert!(TextLastHiddenState::request(&t, Some(mask.clone())).is_err(), "{mask:?}");
        }
        let mut s = TextLastHiddenState::request(&t, None).unwrap();
        assert!(s.set_outputs(&vec![0.0; 2 * NETWORK_DIM]).is_err());
        let mut nan = vec![0.0; 3 * NETWORK_DIM];
        nan[5] = f32::NAN;
        assert!(s.set_outputs(&nan).is_err());
        s.set_outputs(&vec![0.5; 3 * NETWORK_DIM]).unwrap();
        let mut wrong = s.clone();
        wrong.hidden_states =
            Some(Tensor::from_f32(&vec![0.5; 3 * NETWORK_DIM], &[3, NETWORK_DIM]).unwrap());
        assert!(wrong.validate_response().is_err());
        wrong.hidden_states = None;
        assert!(wrong.validate_response().is_err());
        let mut inf = vec![0.5; 3 * NETWORK_DIM];
        inf[0] = f32::INFINITY;
        wrong.hidden_states = Some(Tensor::from_f32(&inf, &[1, 3, NETWORK_DIM]).unwrap());
        assert!(wrong.validate_response().is_err());
        // Too large an answer is refused at request time.
        assert!(TextLastHiddenState::request(&vec![vec![1; 2048]; 64], None).is_err());
    }
}
