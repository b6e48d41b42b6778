//! [`DistillRecord`]: one miner's answer for one context, reduced to first tokens, and its
//! compact binary encoding.
//!
//! Encoding (little-endian, version [`RECORD_VERSION`]):
//! `u8 version | u16 uid | f32 weight | f32 floor | u32 vocab | u8 has_next | u32 next |
//! u32 n_context | n_context × u32 | u32 n_teacher | n_teacher × (u32 id, f32 prob)`.

use crate::{ModelError, Result};
use std::collections::BTreeMap;

/// The encoding version written by this build.
pub const RECORD_VERSION: u8 = 1;

/// One teacher answer for one context.
#[derive(Clone, Debug, PartialEq)]
pub struct DistillRecord {
    /// The context (standard-tokenizer ids), oldest first.
    pub context: Vec<u32>,
    /// The answer's first tokens and their probabilities (phrases sharing a first token
    /// summed), by ascending id.
    pub teacher: Vec<(u32, f32)>,
    /// The answer's floor: the probability of every token the answer does not list.
    pub floor: f32,
    /// The standard tokenizer's vocabulary size the answer is over.
    pub vocab: u32,
    /// The token that really followed the context, when known.
    pub true_next: Option<u32>,
    /// The miner's uid.
    pub uid: u16,
    /// The miner's weight in the teacher mixture (its score when the record was written).
    pub weight: f32,
}

/// Reduces `(probability, phrase)` pairs to first tokens: the probabilities of phrases with
/// the same first token are summed; empty phrases and zero probabilities are dropped (a miner
/// pads short answers with zero-probability entries). Sorted by id.
pub fn first_token_probs(phrases: &[(f32, Vec<u32>)]) -> Vec<(u32, f32)> {
    let mut sums: BTreeMap<u32, f32> = BTreeMap::new();
    for (p, phrase) in phrases {
        if let Some(&first) = phrase.first() {
            if *p > 0.0 {
                *sums.entry(first).or_insert(0.0) += *p;
            }
        }
    }
    sums.into_iter().collect()
}

fn bad(msg: impl Into<String>) -> ModelError {
    ModelError::Buffer(msg.into())
}

fn len_u32(n: usize, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| bad(format!("{what} too long")))
}

impl DistillRecord {
    /// Checks the record: a non-empty context, ids below `vocab`, probabilities and floor
    /// finite and in `[0, 1]`, the weight finite and ≥ 0, teacher ids strictly ascending.
    pub fn validate(&self) -> Result<()> {
        if self.vocab == 0 || self.context.is_empty() {
            return Err(bad("a record needs a vocabulary and a non-empty context"));
        }
        let in_vocab = |id: u32| id < self.vocab;
        if !self.context.iter().all(|&t| in_vocab(t)) || !self.true_next.is_none_or(in_vocab) {
            return Err(bad(format!("token id outside the vocabulary of {}", self.vocab)));
        }
        let unit = |p: f32| p.is_finite() && (0.0..=1.0).contains(&p);
        if !(unit(self.floor) && self.weight.is_finite() && self.weight >= 0.0) {
            return Err(bad(format!("floor {} or weight {} invalid", self.floor, self.weight)));
        }
        let mut prev: Option<u32> = None;
        for &(id, p) in &self.teacher {
            if !in_vocab(id) || !unit(p) || prev.is_some_and(|q| q >= id) {
                return Err(bad(format!("teacher entry ({id}, {p}) invalid or out of order")));
            }
            prev = Some(id);
        }
        Ok(())
    }

    /// The record's binary encoding (see the module documentation).
    pub fn encode(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let mut out = Vec::with_capacity(
            26usize
                .saturating_add(self.context.len().saturating_mul(4))
                .saturating_add(self.teacher.len().saturating_mul(8)),
        );
        out.push(RECORD_VERSION);
        out.extend_from_slice(&self.uid.to_le_bytes());
        out.extend_from_slice(&self.weight.to_le_bytes());
        out.extend_from_slice(&self.floor.to_le_bytes());
        out.extend_from_slice(&self.vocab.to_le_bytes());
        out.push(u8::from(self.true_next.is_some()));
        out.extend_from_slice(&self.true_next.unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&len_u32(self.context.len(), "context")?.to_le_bytes());
        for t in &self.context {
            out.extend_from_slice(&t.to_le_bytes());
        }
        out.extend_from_slice(&len_u32(self.teacher.len(), "teacher")?.to_le_bytes());
        for (id, p) in &self.teacher {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&p.to_le_bytes());
        }
        Ok(out)
    }

    /// Decodes (and validates) a record written by [`Self::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader { bytes };
        let version = r.take::<1>()?;
        if version != [RECORD_VERSION] {
            return Err(bad(format!("record version {version:?}, expected {RECORD_VERSION}")));
        }
        let uid = u16::from_le_bytes(r.take()?);
        let weight = f32::from_le_bytes(r.take()?);
        let floor = f32::from_le_bytes(r.take()?);
        let vocab = r.u32()?;
        let has_next = r.take::<1>()?;
        let next = r.u32()?;
        let n = r.count(4)?;
        let context = (0..n).map(|_| r.u32()).collect::<Result<Vec<_>>>()?;
        let k = r.count(8)?;
        let teacher = (0..k)
            .map(|_| Ok((r.u32()?, f32::from_le_bytes(r.take()?))))
            .collect::<Result<Vec<_>>>()?;
        if !r.bytes.is_empty() {
            return Err(bad(format!("{} trailing bytes after a record", r.bytes.len())));
        }
        let true_next = match has_next {
            [0] => None,
            [1] => Some(next),
            _ => return Err(bad("bad true-next flag")),
        };
        let record = Self { context, teacher, floor, vocab, true_next, uid, weight };
        record.validate()?;
        Ok(record)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (head, rest) =
            self.bytes.split_first_chunk::<N>().ok_or_else(|| bad("record truncated"))?;
        self.bytes = rest;
        Ok(*head)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    /// A length prefix whose items (`item` bytes each) must fit in what is left.
    fn count(&mut self, item: usize) -> Result<usize> {
        let n = usize::try_from(self.u32()?).map_err(|_| bad("length overflow"))?;
        if n.saturating_mul(item) > self.bytes.len() {
            return Err(bad("record truncated"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reduces_phrases_to_first_tokens() {
        let phrases = vec![
            (0.25, vec![7, 1]),
            (0.25, vec![7]),
            (0.0, vec![0]),
            (0.125, vec![3]),
            (0.5, vec![]),
        ];
        assert_eq!(first_token_probs(&phrases), vec![(3, 0.125), (7, 0.5)]);
    }

    #[test]
    fn encode_decode_round_trip_and_rejects_garbage() {
        let r = DistillRecord {
            context: vec![1, 2, 3],
            teacher: vec![(4, 0.5), (9, 0.25)],
            floor: 0.001,
            vocab: 16,
            true_next: Some(4),
            uid: 7,
            weight: 0.75,
        };
        let bytes = r.encode().unwrap();
        assert_eq!(DistillRecord::decode(&bytes).unwrap(), r);
        assert!(DistillRecord::decode(bytes.get(..bytes.len() - 1).unwrap()).is_err());
        let mut bad_id = r.clone();
        bad_id.teacher = vec![(16, 0.5)];
        assert!(bad_id.encode().is_err());
    }
}
