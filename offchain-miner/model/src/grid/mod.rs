//! Grid sampler v1: verifiable sampling for homogeneous inference grids.
//!
//! A subnet names one model. A miner continues a prompt by sampling with noise derived from a
//! seed both sides know; a validator recomputes the noise, runs the named model once over the
//! prompt and the miner's output (teacher forcing) and checks, token by token, that each token
//! is the one the named model would have sampled. Sampling is Gumbel-max: with independent
//! standard Gumbel noise `g_i`, `argmax_i (l_i / T + g_i)` is an exact sample of
//! `softmax(l / T)`, so fixing the noise fixes the sample.
//!
//! Bitwise agreement between miner and validator is impossible (the miner decodes with a
//! key/value cache, the validator runs one teacher-forced pass; kernels and thread counts
//! differ), so the check is a *margin* with a tolerance: see [`token_margin`] and
//! [`GridTolerance`].
//!
//! Gumbel-max is robust to small logit changes, so a slightly different model (perturbed or
//! quantised weights) mostly samples the very same tokens. Miners therefore also report each
//! token's log-probability under the model's raw distribution ([`token_logprob`]:
//! temperature 1, no masks), and the validator compares them with its own
//! ([`GridReference::judge`], [`LanguageModel::verify_grid_claim`]): honest rounding moves
//! them by ~1e-6, a different model by far more.
//!
//! # Wire contract, version 1 ([`GRID_SAMPLER_VERSION`])
//!
//! Miner and validator must compute the same noise. For the output position `j` (0-based
//! among the generated tokens: the first generated token has `j = 0`) of a request with
//! seed `seed`:
//!
//! 1. **Key.** `key = BLAKE2b-256(b"subtensor-grid-v1" ‖ le64(seed) ‖ le64(j))`, where
//!    `le64` is the 8-byte little-endian encoding and BLAKE2b-256 is unkeyed BLAKE2b with a
//!    32-byte digest (digest length 32 in the parameter block, as Substrate's `blake2_256`;
//!    not a truncated BLAKE2b-512). The domain string is [`GRID_NOISE_DOMAIN`] (17 bytes, no
//!    terminator), so the hash input is 33 bytes. See [`noise_key`].
//! 2. **Stream.** ChaCha20 (20 rounds, the original construction with a 64-bit block
//!    counter and a 64-bit nonce) keyed with `key`, nonce 0, block counter starting at 0.
//!    The keystream is read as consecutive little-endian `u64` words: word `w` is keystream
//!    bytes `8w .. 8w + 8`. This is `rand_chacha::ChaCha20Rng::from_seed(key)` with repeated
//!    `next_u64()` (rand_chacha 0.3).
//! 3. **Uniforms.** Token id `i` (for `i` in `0..vocab`, in order) takes word `x_i = w_i`
//!    and `u_i = ((x_i >> 12) + 0.5) · 2^-52`. The 52-bit integer plus one half is exact in an
//!    IEEE-754 double, so `u_i` lies in `[2^-53, 1 - 2^-53]`: never 0 or 1. (The top 52 bits
//!    are used, not 53: with 53 bits `v + 0.5` would round and `u` could reach 1.) This is
//!    our own integer-to-float conversion; `rand`'s float sampling is never used. See
//!    [`uniform_from_bits`].
//! 4. **Gumbel.** `g_i = -ln(-ln(u_i))` in double precision ([`gumbel_from_uniform`]); it
//!    lies in about `[-3.6, 36.7]`. `ln` is the platform's: it may differ by an ulp between
//!    C libraries, far below any tolerance.
//!
//! [`gumbel_row`] returns `g_0 .. g_{vocab-1}` for one position.
//!
//! # Sampling, version 1
//!
//! See [`grid_pick`]: non-finite logits are excluded; temperature 0 is the argmax; otherwise
//! scores `s_i = (l_i - max l) / T` (the shift changes neither the distribution nor the
//! argmax, and avoids overflow), then top-k, then top-p over the softmax of the remaining
//! scores, then `argmax (s_i + g_i)` over the kept tokens, ties to the lower id.
//!
//! # Model identity, batching and calibration
//!
//! * [`model_digest`]: the SHA-256 digest that names a model in a grid spec (contract on the
//!   function).
//! * [`LanguageModel::generate_grid_batch`] decodes concurrent requests with equal-length
//!   prompts together; [`LanguageModel::teacher_forced_logits_batch`] verifies several
//!   outputs of equal total length in one pass.
//! * [`calibrate()`] measures how far cached, batched, multi-threaded decoding and batched
//!   verification stray from the reference verifier, and suggests a [`GridTolerance`]
//!   ([`suggest_tolerance`]).
//! * [`perturb_model`] and [`LanguageModel::perturbed`]: slightly perturbed copies of a model,
//!   to test that verification tells "almost the model" from the model.
//!
//! [`LanguageModel::generate_grid_batch`]: crate::LanguageModel::generate_grid_batch
//! [`LanguageModel::teacher_forced_logits_batch`]: crate::LanguageModel::teacher_forced_logits_batch
//! [`LanguageModel::perturbed`]: crate::LanguageModel::perturbed
//! [`LanguageModel::verify_grid_claim`]: crate::LanguageModel::verify_grid_claim

mod batch;
mod calibrate;
mod decode;
mod digest;
mod perturb;
mod sampling;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

pub use calibrate::{
    calibrate, sample_challenges, suggest_tolerance, CalibrationConfig, CalibrationReport,
    CalibrationRole, CalibrationRow, GridChallenge, CALIBRATION_HARD_FLOOR,
    CALIBRATION_LOGPROB_FLOOR, CALIBRATION_LOGPROB_SAFETY, CALIBRATION_MASK_SLACK_FLOOR,
    CALIBRATION_SAFETY, CALIBRATION_SOFT_FLOOR,
};
pub use decode::{
    GridOutput, GridReference, GridRequest, GridTolerance, GridVerdict, DEFAULT_LOGPROB_TOLERANCE,
};
pub use digest::{
    file_sha256, model_digest, model_digest_hex, ModelDigest, GRID_MODEL_DOMAIN, GRID_MODEL_FILES,
};
pub use perturb::{perturb_model, PERTURB_DOMAIN};
pub use sampling::{grid_pick, token_logprob, token_margin, GridSampling};

/// Version of the grid sampler: the noise construction and the sampling rule described in the
/// module documentation. Miner and validator must agree on it.
pub const GRID_SAMPLER_VERSION: u32 = 1;

/// Domain-separation prefix of the noise key (version 1).
pub const GRID_NOISE_DOMAIN: &[u8] = b"subtensor-grid-v1";

/// `2^-52`, the spacing of the uniforms of [`uniform_from_bits`].
const UNIFORM_STEP: f64 = 1.0 / 4_503_599_627_370_496.0;

/// The 32-byte ChaCha20 key of output position `position` of a request with seed `seed`:
/// `BLAKE2b-256(GRID_NOISE_DOMAIN ‖ le64(seed) ‖ le64(position))`.
pub fn noise_key(seed: u64, position: u64) -> [u8; 32] {
    let mut hasher = Blake2b::<U32>::new();
    hasher.update(GRID_NOISE_DOMAIN);
    hasher.update(seed.to_le_bytes());
    hasher.update(position.to_le_bytes());
    hasher.finalize().into()
}

/// The uniform of one 64-bit keystream word: `((bits >> 12) + 0.5) · 2^-52`, exact, strictly
/// between 0 and 1.
pub fn uniform_from_bits(bits: u64) -> f64 {
    ((bits >> 12) as f64 + 0.5) * UNIFORM_STEP
}

/// The standard Gumbel sample `-ln(-ln(u))` of a uniform `u` in `(0, 1)`.
pub fn gumbel_from_uniform(u: f64) -> f64 {
    -(-u.ln()).ln()
}

/// The Gumbel noise of output position `position` (0-based among the generated tokens) for
/// seed `seed`: one value per token id `0..vocab`, as specified in the module documentation.
pub fn gumbel_row(seed: u64, position: u64, vocab: usize) -> Vec<f64> {
    let mut rng = ChaCha20Rng::from_seed(noise_key(seed, position));
    (0..vocab).map(|_| gumbel_from_uniform(uniform_from_bits(rng.next_u64()))).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn primitives_match_their_standards() {
        // BLAKE2b-256 of the empty string (a 32-byte digest, not truncated BLAKE2b-512).
        assert_eq!(
            hex(&Blake2b::<U32>::digest(b"")),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
        );
        // RFC 8439 section 2.3.2 style vector: ChaCha20, zero key, zero nonce, block 0 starts
        // with the bytes 76 b8 e0 ad a0 f1 3d 90, read little-endian.
        let mut rng = ChaCha20Rng::from_seed([0u8; 32]);
        assert_eq!(rng.next_u64(), 0x903d_f1a0_ade0_b876);
    }

    #[test]
    fn uniforms_stay_strictly_inside_the_unit_interval() {
        let lo = uniform_from_bits(0);
        let hi = uniform_from_bits(u64::MAX);
        assert_eq!(lo, 2f64.powi(-53));
        assert_eq!(hi, 1.0 - 2f64.powi(-53));
        assert!(hi < 1.0);
        assert!(gumbel_from_uniform(lo).is_finite() && gumbel_from_uniform(hi).is_finite());
        assert_eq!(uniform_from_bits(1 << 63), 0.5 + 2f64.powi(-53));
    }

    /// The noise key of (seed 42, position 0), pinned.
    const KEY_42_0: &str = "8ee7259ad9dceb672001d0b1cfc52d746ca84ad2b592685979f4a7d74b592af9";

    /// Keystream words (bit-exact) and Gumbel values of seed 42, positions 0, 1 and 7, vocab 8.
    /// Cross-checked against an independent Python implementation of the contract (hashlib's
    /// `blake2b(digest_size=32)`, a from-scratch ChaCha20, `math.log`).
    #[rustfmt::skip]
    const PINNED: [(u64, [u64; 8], [f64; 8]); 3] = [
        (0,
         [0x8cbfbec568575630, 0x1359d3010389f1d7, 0xddf82c327c02a92e, 0x0e1df84e9a7d0001,
          0x172c1f6d66ba6c74, 0x1c7ac8b945b11ab3, 0x93047ef6c6a75e34, 0xdb9ef27754cda361],
         [0.5138313882449838, -0.948734595159652, 1.9474467287137132, -1.0639493206008772,
          -0.8763922652948036, -0.7866322934842093, 0.5894623601614225, 1.8755240356207226]),
        (1,
         [0x89b7554bd552f948, 0x8c786b19eff40dc7, 0xc950e3b0a2dede22, 0xe330815e42c7183e,
          0xff106c4d5ce899c8, 0xccc98f3064049f58, 0xedf9ddd8da54dcf6, 0x83b8c2006cde9b22],
         [0.47806354965263476, 0.5105243920113773, 1.4258598144765147, 2.1253339698033287,
          5.609649634878882, 1.4996630162421378, 2.617193892385627, 0.40874146467277467]),
        (7,
         [0x5334c5b724490efa, 0xcaf9244e14630ea0, 0x4685f4b482dcdaef, 0x16d9ed154be8257d,
          0x107d2775de74c25f, 0x90c10419940b6477, 0x7fc536337562b0f9, 0xc2e374d553b2fa09],
         [-0.11676587718658002, 1.4605721295147316, -0.25404885393206317, -0.8821838819801413,
          -1.0088666409243245, 0.5618699841794584, 0.3639256415632945, 1.29920025296434]),
    ];

    #[test]
    fn contract_vectors_are_pinned() {
        assert_eq!(hex(&noise_key(42, 0)), KEY_42_0);
        for (position, words, gumbels) in PINNED {
            let mut rng = ChaCha20Rng::from_seed(noise_key(42, position));
            let got: Vec<u64> = (0..8).map(|_| rng.next_u64()).collect();
            assert_eq!(got, words, "keystream of position {position}");
            let row = gumbel_row(42, position, 8);
            for (i, (g, want)) in row.iter().zip(gumbels).enumerate() {
                // Bit-exact where the C library's `ln` is correctly rounded; an ulp or two
                // elsewhere.
                assert!((g - want).abs() <= 1e-14, "position {position} id {i}: {g} vs {want}");
            }
        }
    }

    #[test]
    fn rows_are_repeatable_and_distinct() {
        let a = gumbel_row(42, 0, 64);
        assert_eq!(a, gumbel_row(42, 0, 64));
        assert_ne!(a, gumbel_row(42, 1, 64));
        assert_ne!(a, gumbel_row(43, 0, 64));
        // Seed and position are not interchangeable.
        assert_ne!(gumbel_row(1, 2, 64), gumbel_row(2, 1, 64));
        // A shorter row is a prefix of a longer one.
        assert_eq!(gumbel_row(42, 0, 8), a[..8].to_vec());
        assert!(a.iter().all(|g| g.is_finite()));
    }

    #[test]
    fn noise_is_standard_gumbel() {
        // Mean of a standard Gumbel is the Euler-Mascheroni constant, variance pi^2 / 6.
        let draws: Vec<f64> = (0..200).flat_map(|p| gumbel_row(5, p, 500)).collect();
        let n = draws.len() as f64;
        let mean = draws.iter().sum::<f64>() / n;
        let var = draws.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n;
        assert!((mean - 0.577_215_664_9).abs() < 0.01, "mean {mean}");
        assert!((var - std::f64::consts::PI.powi(2) / 6.0).abs() < 0.03, "variance {var}");
    }
}
