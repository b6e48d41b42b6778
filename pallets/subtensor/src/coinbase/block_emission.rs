//! The block reward: 1 TAO halving as total issuance approaches 21M TAO.
//!
//! `reward = 1 TAO / 2^floor(log2(1 / (1 - issuance / 21M)))`: the first halving happens when
//! issuance crosses 10.5M, the next at 15.75M, then 18.375M, and so on; the reward is capped so
//! that issuance never exceeds 21M. The halving count is computed in integers
//! (`max k` with `(21M - issuance) * 2^k <= 21M`), so each halving happens exactly at its
//! threshold.

use subtensor_primitives::{MAX_SUPPLY, RAO_PER_TAO};

/// The number of halvings at `issuance` rao, or `None` once the supply is exhausted.
pub fn halvings(issuance: u64) -> Option<u32> {
    let remaining = MAX_SUPPLY.checked_sub(issuance).filter(|r| *r > 0)?;
    // remaining ≥ 1 and MAX_SUPPLY < 2^64, so the loop ends before k reaches 64.
    let mut k = 0u32;
    while u128::from(remaining).checked_shl(k.saturating_add(1)).unwrap_or(u128::MAX)
        <= u128::from(MAX_SUPPLY)
    {
        k = k.saturating_add(1);
    }
    Some(k)
}

/// The rao minted in a block when the total issuance is `issuance` rao.
pub fn block_emission(issuance: u64) -> u64 {
    match halvings(issuance) {
        None => 0,
        Some(k) if k >= 64 => 0,
        Some(k) => (RAO_PER_TAO >> k).min(MAX_SUPPLY.saturating_sub(issuance)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAO: u64 = RAO_PER_TAO;

    #[test]
    fn first_era_pays_one_tao() {
        assert_eq!(block_emission(0), TAO);
        assert_eq!(block_emission(10_500_000 * TAO - 1), TAO);
    }

    #[test]
    fn halves_exactly_at_each_threshold() {
        assert_eq!(block_emission(10_500_000 * TAO), TAO / 2);
        assert_eq!(block_emission(15_750_000 * TAO - 1), TAO / 2);
        assert_eq!(block_emission(15_750_000 * TAO), TAO / 4);
        assert_eq!(block_emission(18_375_000 * TAO), TAO / 8);
    }

    #[test]
    fn never_exceeds_the_cap() {
        assert_eq!(block_emission(MAX_SUPPLY), 0);
        assert_eq!(block_emission(MAX_SUPPLY + 5), 0);
        for remaining in [1u64, 2, 3, 100, 1_000, TAO / 1_000_000] {
            let issuance = MAX_SUPPLY - remaining;
            assert!(issuance + block_emission(issuance) <= MAX_SUPPLY);
        }
    }

    #[test]
    fn halvings_count_is_floor_log2() {
        // remaining = 21M / 2^k exactly -> k halvings.
        for k in 0..20u32 {
            let remaining = MAX_SUPPLY >> k;
            let issuance = MAX_SUPPLY - remaining;
            assert_eq!(halvings(issuance), Some(k), "k = {k}");
        }
    }
}
