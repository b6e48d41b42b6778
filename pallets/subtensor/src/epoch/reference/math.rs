//! Fixed-point scalar and vector helpers of the epoch.
//!
//! Every operation reproduces the reference chain's arithmetic bit for bit: `I32F32` for
//! per-uid proportions, `I64F64` for stake before normalisation, `I96F32` for rao amounts.
//! Divisions follow `safe_div` (a `checked_div` that yields 0 on a zero divisor *or* on
//! overflow), multiplications saturate, conversions to integers floor and saturate. Sums
//! saturate instead of wrapping (identical whenever the reference does not overflow).
//!
//! Nothing here panics, indexes out of bounds or overflows.

use alloc::vec;
use alloc::vec::Vec;
use substrate_fixed::transcendental::exp;
use substrate_fixed::types::{I32F32, I64F64, I96F32};

/// Fixed-point zero.
pub const ZERO: I32F32 = I32F32::from_bits(0);
/// Fixed-point one.
pub const ONE: I32F32 = I32F32::from_bits(1 << 32);

/// `u16::MAX` as a fixed-point number.
fn u16_max() -> I32F32 {
    I32F32::from_bits(65_535_i64 << 32)
}

/// Converts a proportion to the u16 form the chain stores: `floor(x * 65535)`, saturating
/// (negative → 0, above 1 → 65535). The reference's `fixed_proportion_to_u16`.
pub fn to_u16(x: I32F32) -> u16 {
    mul(x, u16_max()).saturating_to_num::<u16>()
}

/// Reads a u16 proportion: `x / 65535` (the reference's `u16_proportion_to_fixed`).
pub fn u16_proportion(x: u16) -> I32F32 {
    safe_div(I32F32::from_num(x), u16_max())
}

/// Converts a stored u16 value to fixed point without scaling (`I32F32::from(u16)`).
pub fn from_u16(x: u16) -> I32F32 {
    I32F32::from_num(x)
}

/// `a · b` saturating, exactly `I32F32::saturating_mul`, with a single 64×64→128-bit
/// multiplication when both operands are non-negative (the common case of the epoch).
#[inline]
pub fn mul(a: I32F32, b: I32F32) -> I32F32 {
    let (ab, bb) = (a.to_bits(), b.to_bits());
    if ab >= 0 && bb >= 0 {
        let p = u128::from(ab.unsigned_abs()).wrapping_mul(u128::from(bb.unsigned_abs())) >> 32;
        return match i64::try_from(p) {
            Ok(bits) => I32F32::from_bits(bits),
            Err(_) => I32F32::max_value(),
        };
    }
    a.saturating_mul(b)
}

/// `a / b` truncated like `I32F32::checked_div`, returning 0 when `b == 0` or the quotient does
/// not fit (the reference's `safe_div`).
///
/// Non-negative operands take an exact 64-bit fast path (the quotient is the same as the
/// 128-bit division of the reference); the rest falls back to `checked_div`.
pub fn safe_div(a: I32F32, b: I32F32) -> I32F32 {
    let (ab, bb) = (a.to_bits(), b.to_bits());
    if bb == 0 {
        return ZERO;
    }
    if ab >= 0 && bb > 0 {
        let (mut x, mut y) = (ab.unsigned_abs(), bb.unsigned_abs());
        if x >> 32 != 0 {
            // Remove a common power of two; the quotient is unchanged.
            let k = x.trailing_zeros().min(y.trailing_zeros());
            x >>= k;
            y >>= k;
        }
        if x >> 32 == 0 {
            let q = (x << 32).checked_div(y).unwrap_or(u64::MAX);
            return match i64::try_from(q) {
                Ok(bits) => I32F32::from_bits(bits),
                Err(_) => ZERO,
            };
        }
    }
    a.checked_div(b).unwrap_or(ZERO)
}

/// A divisor prepared for many exact [`safe_div`] divisions: the quotient `floor(a·2^32 / d)`
/// is computed with a precomputed reciprocal (one 64×64→128-bit multiplication and at most two
/// corrections) instead of a 128-bit hardware division. Same results as [`safe_div`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divisor {
    d: I32F32,
    /// Integer denominator of the 64-bit division (0 when `d <= 0`: plain `safe_div`).
    den: u64,
    /// `floor((2^64 - 1) / den)`.
    inv: u64,
    /// `d` is a whole number: `floor(a·2^32 / d) = floor(a / (d >> 32))` for every `a`.
    whole: bool,
}

impl Divisor {
    /// Prepares division by `d`.
    pub fn new(d: I32F32) -> Self {
        let bits = d.to_bits();
        if bits <= 0 {
            return Divisor { d, den: 0, inv: 0, whole: false };
        }
        let bits = bits.unsigned_abs();
        let whole = bits & 0xFFFF_FFFF == 0;
        let den = if whole { bits >> 32 } else { bits };
        let inv = u64::MAX.checked_div(den).unwrap_or(0);
        Divisor { d, den, inv, whole }
    }

    /// A divisor that leaves every value unchanged (division by one).
    pub fn identity() -> Self {
        Self::new(ONE)
    }

    /// `safe_div(a, d)`.
    #[inline]
    pub fn div(&self, a: I32F32) -> I32F32 {
        let ab = a.to_bits();
        if self.den != 0 && ab >= 0 {
            let a = ab.unsigned_abs();
            // The numerator of floor(a·2^32 / d) as a 64-bit division by `den`.
            let x = if self.whole {
                Some(a)
            } else if a >> 32 == 0 {
                Some(a << 32)
            } else {
                None
            };
            if let Some(x) = x {
                // q0 = floor(x·inv / 2^64) is q, q - 1 or q - 2: correct it twice.
                let hi = u128::from(x).wrapping_mul(u128::from(self.inv)) >> 64;
                let mut q = u64::try_from(hi).unwrap_or(0);
                let mut r = x.wrapping_sub(q.wrapping_mul(self.den));
                for _ in 0..2 {
                    let carry = u64::from(r >= self.den);
                    q = q.wrapping_add(carry);
                    r = r.wrapping_sub(carry.wrapping_mul(self.den));
                }
                return match i64::try_from(q) {
                    Ok(bits) => I32F32::from_bits(bits),
                    Err(_) => ZERO,
                };
            }
        }
        safe_div(a, self.d)
    }
}

/// `I64F64` version of [`safe_div`].
pub fn safe_div_64(a: I64F64, b: I64F64) -> I64F64 {
    a.checked_div(b).unwrap_or(I64F64::from_bits(0))
}

/// Saturating sum of a fixed-point vector.
pub fn sum(x: &[I32F32]) -> I32F32 {
    x.iter().fold(ZERO, |acc, v| acc.saturating_add(*v))
}

/// Normalises `x` in place to sum 1 (each value divided by the sum); unchanged if the sum is 0.
pub fn normalize(x: &mut [I32F32]) {
    let total = sum(x);
    normalize_with_sum(x, total);
}

/// Divides every value of `x` by `total`; unchanged if `total` is 0.
pub fn normalize_with_sum(x: &mut [I32F32], total: I32F32) {
    if total == ZERO {
        return;
    }
    for v in x.iter_mut() {
        *v = safe_div(*v, total);
    }
}

/// Normalises an `I64F64` vector in place to sum 1; unchanged if the sum is 0.
pub fn normalize_64(x: &mut [I64F64]) {
    let zero = I64F64::from_bits(0);
    let total = x.iter().fold(zero, |acc, v| acc.saturating_add(*v));
    if total == zero {
        return;
    }
    for v in x.iter_mut() {
        *v = safe_div_64(*v, total);
    }
}

/// True when the vector sums to zero.
pub fn is_zero(x: &[I32F32]) -> bool {
    sum(x) == ZERO
}

/// Element `i` of `v`, or the type's default when `i` is out of range.
pub fn get_or_default<T: Copy + Default>(v: &[T], i: usize) -> T {
    v.get(i).copied().unwrap_or_default()
}

/// Top-k mask of the non-zero values: an ascending *stable* sort drops the first `n - k`
/// indices, so among equal values the lower index loses. All non-zero values are kept when
/// `n < k`.
pub fn is_topk_nonzero(v: &[I32F32], k: usize) -> Vec<bool> {
    let n = v.len();
    let mut result: Vec<bool> = v.iter().map(|x| *x != ZERO).collect();
    if n < k {
        return result;
    }
    let mut idxs: Vec<usize> = (0..n).collect();
    idxs.sort_by_key(|&i| get_or_default(v, i));
    for &i in idxs.iter().take(n.saturating_sub(k)) {
        if let Some(cell) = result.get_mut(i) {
            *cell = false;
        }
    }
    result
}

/// Scales a non-negative vector so its maximum becomes 65535 and converts it to u16, rounding
/// half away from zero (the reference's `vec_max_upscale_to_u16`, used for pruning scores).
pub fn vec_max_upscale_to_u16(v: &[I32F32]) -> Vec<u16> {
    let u16_max = u16_max();
    let Some(max) = v.iter().max().copied() else {
        return Vec::new();
    };
    if max == ZERO {
        return v.iter().map(|e| e.saturating_mul(u16_max).saturating_to_num::<u16>()).collect();
    }
    let threshold = I32F32::from_num(32_768);
    if max > threshold {
        let ratio = safe_div(u16_max, max);
        return v
            .iter()
            .map(|e| e.saturating_mul(ratio).saturating_round().saturating_to_num::<u16>())
            .collect();
    }
    v.iter()
        .map(|e| {
            safe_div(e.saturating_mul(u16_max), max).saturating_round().saturating_to_num::<u16>()
        })
        .collect()
}

/// `exp(x)` with `x` clamped to `[-20, 20]`; on an internal overflow 0 (x ≤ 0) or the maximum.
/// The Taylor series of `substrate_fixed::transcendental::exp`, as the reference uses it.
pub fn exp_safe(x: I32F32) -> I32F32 {
    let lo = I32F32::from_num(-20);
    let hi = I32F32::from_num(20);
    let clamped = if x < lo {
        lo
    } else if hi < x {
        hi
    } else {
        x
    };
    match exp::<I32F32, I32F32>(clamped) {
        Ok(v) => v,
        Err(()) => {
            if clamped <= ZERO {
                ZERO
            } else {
                I32F32::max_value()
            }
        }
    }
}

/// Clamps `value` to `[low, high]` (upper bound first, then lower bound, as the reference).
pub fn clamp(value: I32F32, low: I32F32, high: I32F32) -> I32F32 {
    value.min(high).max(low)
}

/// Rao amount of a share: `floor(share * rao)` computed in `I96F32`, saturating.
pub fn share_to_rao(share: I32F32, rao: u64) -> u64 {
    I96F32::saturating_from_num(share)
        .saturating_mul(I96F32::saturating_from_num(rao))
        .saturating_to_num::<u64>()
}

/// Vector of `n` zeros.
pub fn zeros(n: usize) -> Vec<I32F32> {
    vec![ZERO; n]
}
