//! Grid challenges: a prompt from the held-out corpus and a fresh, unpredictable seed.
//!
//! The seed of a challenge is
//! `le64(BLAKE2b-256(CHALLENGE_DOMAIN ‖ validator public key ‖ block hash ‖ le64(counter) ‖
//! secret)[0..8])`: the validator's hotkey and a recent block hash tie it to this validator and
//! to the present (no miner can precompute answers before the block exists), the counter makes
//! every request distinct, and a per-process random secret keeps it unpredictable even to
//! someone who knows the rest. Miners learn the seed with the request; it is not a secret from
//! them, only fresh.

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};

/// Domain-separation prefix of challenge seeds.
pub const CHALLENGE_DOMAIN: &[u8] = b"subtensor-grid-challenge-v1";

/// What a challenge seed is derived from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedSource {
    /// The validator hotkey's public key.
    pub hotkey: [u8; 32],
    /// A recent block hash.
    pub block_hash: [u8; 32],
    /// This process's random secret.
    pub secret: [u8; 32],
}

impl SeedSource {
    /// The seed of challenge number `counter`.
    pub fn seed(&self, counter: u64) -> u64 {
        let mut hasher = Blake2b::<U32>::new();
        hasher.update(CHALLENGE_DOMAIN);
        hasher.update(self.hotkey);
        hasher.update(self.block_hash);
        hasher.update(counter.to_le_bytes());
        hasher.update(self.secret);
        let digest: [u8; 32] = hasher.finalize().into();
        let mut head = [0u8; 8];
        head.copy_from_slice(digest.get(..8).unwrap_or(&[0u8; 8]));
        u64::from_le_bytes(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_changes_the_seed() {
        let base = SeedSource { hotkey: [1; 32], block_hash: [2; 32], secret: [3; 32] };
        let s = base.seed(0);
        assert_eq!(s, base.seed(0));
        assert_ne!(s, base.seed(1));
        assert_ne!(s, SeedSource { hotkey: [9; 32], ..base }.seed(0));
        assert_ne!(s, SeedSource { block_hash: [9; 32], ..base }.seed(0));
        assert_ne!(s, SeedSource { secret: [9; 32], ..base }.seed(0));
    }
}
