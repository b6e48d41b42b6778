//! Emission split of one epoch.
//!
//! Incentive (servers) and dividends (validators) are each divided by their joint sum
//! `E = Σ incentive + Σ dividends`, so when both are non-zero servers and validators get half
//! of the emission each. When `E == 0` (no usable weights) validators get everything in
//! proportion to active stake, or to stake when no stake is active. Rao amounts are
//! `floor(share · rao_emission)` computed in `I96F32`.

use super::math::{is_zero, normalize, normalize_with_sum, share_to_rao, sum, ZERO};
use alloc::vec::Vec;
use substrate_fixed::types::I32F32;

/// Emission shares and amounts, one value per uid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmissionSplit {
    /// Server share of the emission.
    pub normalized_server: Vec<I32F32>,
    /// Validator share of the emission.
    pub normalized_validator: Vec<I32F32>,
    /// Combined share (`normalise(incentive + dividends)` or the stake fallback).
    pub normalized_combined: Vec<I32F32>,
    /// Server emission (rao).
    pub server: Vec<u64>,
    /// Validator emission (rao).
    pub validator: Vec<u64>,
    /// Combined emission (rao).
    pub combined: Vec<u64>,
}

/// Splits `rao_emission` between servers (by incentive) and validators (by dividends).
pub fn split(
    incentive: &[I32F32],
    dividends: &[I32F32],
    stake: &[I32F32],
    active_stake: &[I32F32],
    rao_emission: u64,
) -> EmissionSplit {
    let combined: Vec<I32F32> =
        incentive.iter().zip(dividends.iter()).map(|(i, d)| i.saturating_add(*d)).collect();
    let emission_sum = sum(&combined);

    let mut normalized_server = incentive.to_vec();
    let mut normalized_validator = dividends.to_vec();
    let mut normalized_combined = combined;
    normalize_with_sum(&mut normalized_server, emission_sum);
    normalize_with_sum(&mut normalized_validator, emission_sum);
    normalize(&mut normalized_combined);

    if emission_sum == ZERO {
        let fallback = if is_zero(active_stake) { stake } else { active_stake };
        normalized_validator = fallback.to_vec();
        normalized_combined = fallback.to_vec();
    }

    let to_rao =
        |v: &[I32F32]| -> Vec<u64> { v.iter().map(|x| share_to_rao(*x, rao_emission)).collect() };
    EmissionSplit {
        server: to_rao(&normalized_server),
        validator: to_rao(&normalized_validator),
        combined: to_rao(&normalized_combined),
        normalized_server,
        normalized_validator,
        normalized_combined,
    }
}
