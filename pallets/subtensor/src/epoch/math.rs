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
/// is computed with one 64×64→128-bit multiplication (Granlund–Montgomery division by an
/// invariant integer) instead of a hardware division. Same results as [`safe_div`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divisor {
    d: I32F32,
    /// Multiplier for the odd part of `d` (0 when `d <= 0`: plain `safe_div`).
    m: u64,
    /// Numerators (bits) below `limit` take the fast path: `x = (a << lsh) >> rsh` is
    /// `floor(a·2^32 / 2^tz(d))` without overflow.
    limit: u64,
    lsh: u8,
    rsh: u8,
    /// The two post-shifts of the magic division.
    sh1: u8,
    sh2: u8,
}

impl Divisor {
    /// Prepares division by `d`.
    pub fn new(d: I32F32) -> Self {
        let bits = d.to_bits();
        if bits <= 0 {
            return Divisor { d, m: 0, limit: 0, lsh: 0, rsh: 0, sh1: 0, sh2: 0 };
        }
        let shift = bits.trailing_zeros(); // <= 62
        let odd = bits.unsigned_abs().checked_shr(shift).unwrap_or(1).max(1);
        // l = ceil(log2(odd)); m = floor(2^64 (2^l - odd) / odd) + 1; sh1 = min(l, 1),
        // sh2 = max(l - 1, 0)  (Granlund & Montgomery 1994, figure 4.1, N = 64).
        let l = 64u32.saturating_sub(odd.saturating_sub(1).leading_zeros());
        let pow = 1u128.checked_shl(l).unwrap_or(0);
        let num = pow.saturating_sub(u128::from(odd)).checked_shl(64).unwrap_or(0);
        let m = num.checked_div(u128::from(odd)).unwrap_or(0).saturating_add(1);
        let m = u64::try_from(m).unwrap_or(u64::MAX);
        // a·2^32 / 2^shift: a left shift by 32 - shift (a < 2^(32 + shift) keeps it in 64
        // bits), or a right shift by shift - 32.
        let (lsh, rsh) = (32u32.saturating_sub(shift), shift.saturating_sub(32));
        let limit = 1u64.checked_shl(shift.saturating_add(32)).unwrap_or(u64::MAX);
        let narrow = |x: u32| u8::try_from(x).unwrap_or(u8::MAX);
        Divisor {
            d,
            m,
            limit,
            lsh: narrow(lsh),
            rsh: narrow(rsh),
            sh1: narrow(l.min(1)),
            sh2: narrow(l.saturating_sub(1)),
        }
    }

    /// A divisor that leaves every value unchanged (division by one).
    pub fn identity() -> Self {
        Self::new(ONE)
    }

    /// `safe_div(a, d)`.
    #[inline]
    pub fn div(&self, a: I32F32) -> I32F32 {
        let ab = a.to_bits();
        if ab >= 0 && ab.unsigned_abs() < self.limit {
            // floor(a·2^32 / (odd·2^shift)) = floor(floor(a·2^32 / 2^shift) / odd).
            let x = (ab.unsigned_abs() << self.lsh) >> self.rsh;
            let hi = u128::from(self.m).wrapping_mul(u128::from(x)) >> 64;
            let hi = u64::try_from(hi).unwrap_or(0);
            let q = (hi.wrapping_add(x.wrapping_sub(hi) >> self.sh1)) >> self.sh2;
            return match i64::try_from(q) {
                Ok(bits) => I32F32::from_bits(bits),
                Err(_) => ZERO,
            };
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
