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
#[inline]
pub fn to_u16(x: I32F32) -> u16 {
    // For x >= 0, `mul(x, 65535)` has the bits `x_bits · 65535` (saturating), whose integer
    // part, saturated to u16, is min(65535, (x_bits · 65535) >> 32); a negative product is
    // negative, hence 0. Bits beyond 2^40 give 65535 either way, so clamping them there keeps
    // the product in 64 bits (and the code branch-free).
    let b = x.to_bits().clamp(0, 1 << 40).unsigned_abs();
    u16::try_from((b.wrapping_mul(65_535) >> 32).min(65_535)).unwrap_or(u16::MAX)
}

/// Reads a u16 proportion: `x / 65535` (the reference's `u16_proportion_to_fixed`).
///
/// `safe_div(x, 65535)` of two whole numbers is `floor(x · 2^32 / 65535)`, which is below
/// 2^32 + 1, so it is computed as one 64-bit division by a constant (checked against
/// `safe_div` for every `x` in the tests).
#[inline]
pub fn u16_proportion(x: u16) -> I32F32 {
    let q = (u64::from(x) << 32).checked_div(65_535).unwrap_or(0);
    I32F32::from_bits(i64::try_from(q).unwrap_or(0))
}

/// Converts a stored u16 value to fixed point without scaling (`I32F32::from(u16)`).
#[inline(always)]
pub fn from_u16(x: u16) -> I32F32 {
    I32F32::from_bits(i64::from(x) << 32)
}

/// `a + b` saturating: exactly `I32F32::saturating_add` (the saturating addition of the bits),
/// without the library's branch-free select.
#[inline(always)]
pub fn add(a: I32F32, b: I32F32) -> I32F32 {
    I32F32::from_bits(a.to_bits().saturating_add(b.to_bits()))
}

/// `a - b` saturating: exactly `I32F32::saturating_sub`.
#[inline(always)]
pub fn sub(a: I32F32, b: I32F32) -> I32F32 {
    I32F32::from_bits(a.to_bits().saturating_sub(b.to_bits()))
}

/// `a · b` saturating, exactly `I32F32::saturating_mul`: the library multiplies `a` by
/// `b · 2^32` in 128 bits and keeps the upper 64 bits (a floor), saturating by sign when that
/// 128-bit product overflows, which is when `floor(a · b / 2^32)` leaves the `i64` range. The
/// exact 128-bit product `a · b` gives the same with one multiplication.
/// Non-negative operands (the common case of the epoch) take an unsigned multiplication.
#[inline(always)]
pub fn mul(a: I32F32, b: I32F32) -> I32F32 {
    let (ab, bb) = (a.to_bits(), b.to_bits());
    if ab >= 0 && bb >= 0 {
        let p = u128::from(ab.unsigned_abs()).wrapping_mul(u128::from(bb.unsigned_abs())) >> 32;
        return I32F32::from_bits(i64::try_from(p).unwrap_or(i64::MAX));
    }
    let p = i128::from(ab).wrapping_mul(i128::from(bb));
    let saturated = if p < 0 { i64::MIN } else { i64::MAX };
    I32F32::from_bits(i64::try_from(p >> 32).unwrap_or(saturated))
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
/// is computed with a precomputed multiplier (one 64×64→128-bit multiplication, a
/// subtraction, an addition and two shifts: the "round-up" method of Granlund and Montgomery in
/// libdivide's branch-free form, exact for every 64-bit numerator) instead of a 128-bit
/// hardware division. Same results as [`safe_div`].
///
/// With `d > 0` and `a >= 0`: when `d` is whole, `floor(a·2^32 / d) = floor(a / den)` with
/// `den = d >> 32`; otherwise, for `a < 2^32`, it is `floor((a << 32) / den)` with `den` the
/// bits of `d`. Either way a 64-bit numerator `x = a << shift_in` is divided by `den`; every
/// other case (negative values, `a >= 2^32` with a fractional `d`, `d` of one unit) takes
/// [`safe_div`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divisor {
    d: I32F32,
    /// Magic multiplier of `den` (0 for powers of two).
    magic: u64,
    /// Numerators `a` (bits, as u64) with `a >> limit_shift == 0` take the fast path: 63 for a
    /// whole `d`, 32 for a fractional one, 0 (only `a == 0`, whose quotient is 0) when `d` is
    /// not positive or one unit.
    limit_shift: u8,
    /// `x = a << shift_in`: 0 for a whole `d`, 32 for a fractional one, and 1 for `d == 1`.
    shift_in: u8,
    /// `floor(x / den) = (((x - hi) >> 1) + hi) >> post` with `hi = mulhi(x, magic)`.
    post: u8,
}

impl Divisor {
    /// Prepares division by `d`.
    pub fn new(d: I32F32) -> Self {
        let bits = d.to_bits();
        let slow = Divisor { d, magic: 0, limit_shift: 0, shift_in: 0, post: 0 };
        if bits <= 0 {
            return slow;
        }
        let bits = bits.unsigned_abs();
        let (den, shift_in, limit_shift) =
            if bits & 0xFFFF_FFFF == 0 { (bits >> 32, 0u8, 63u8) } else { (bits, 32u8, 32u8) };
        if den == 1 {
            // Whole 1: x = a << 1, q = x >> 1. A fractional one unit (2^-32) overflows for
            // most numerators: leave it to `safe_div`.
            return if shift_in == 0 {
                Divisor { d, magic: 0, limit_shift, shift_in: 1, post: 0 }
            } else {
                slow
            };
        }
        let (magic, shift) = magic_of(den);
        // den >= 2, so shift >= 1.
        Divisor { d, magic, limit_shift, shift_in, post: shift.saturating_sub(1) }
    }

    /// A divisor that leaves every value unchanged (division by one).
    pub fn identity() -> Self {
        Self::new(ONE)
    }

    /// `safe_div(a, d)`.
    #[inline(always)]
    pub fn div(&self, a: I32F32) -> I32F32 {
        // A negative `a` reads as a u64 of at least 2^63, never on the fast path.
        let u = a.to_bits() as u64;
        if u.wrapping_shr(u32::from(self.limit_shift)) == 0 {
            let x = u.wrapping_shl(u32::from(self.shift_in));
            let hi = (u128::from(x).wrapping_mul(u128::from(self.magic)) >> 64) as u64;
            let q = (x.wrapping_sub(hi) >> 1).wrapping_add(hi).wrapping_shr(u32::from(self.post));
            // q <= x / 2 < 2^63 (den >= 2, or den == 1 with x = 2a).
            return I32F32::from_bits(q as i64);
        }
        safe_div(a, self.d)
    }
}

/// Multiplier and shift of the division by `den > 0` (see [`Divisor`]): with
/// `l = floor(log2 den)`, a power of two gets `(0, l)`; any other `den` gets
/// `(floor(2^(64+l+1) / den) + 1 - 2^64, l + 1)`, computed as libdivide does (from
/// `floor(2^(64+l) / den)` and its remainder, doubled), so that
/// `floor(n / den) = (n + mulhi(n, magic)) >> shift` for every u64 `n`.
fn magic_of(den: u64) -> (u64, u8) {
    let l = 63u8.saturating_sub(u8::try_from(den.leading_zeros()).unwrap_or(0));
    if den.is_power_of_two() {
        return (0, l);
    }
    let num = (1u128 << 64).checked_shl(u32::from(l)).unwrap_or(0);
    let m = num.checked_div(u128::from(den)).unwrap_or(0);
    let rem = u64::try_from(num.checked_rem(u128::from(den)).unwrap_or(0)).unwrap_or(0);
    // floor(2^(64+l) / den) < 2^64 because den > 2^l.
    let proposed = u64::try_from(m).unwrap_or(0);
    let twice_rem = rem.wrapping_add(rem);
    let carry = u64::from(twice_rem >= den || twice_rem < rem);
    let magic = proposed.wrapping_add(proposed).wrapping_add(carry).wrapping_add(1);
    (magic, l.saturating_add(1))
}

/// `I64F64` version of [`safe_div`].
pub fn safe_div_64(a: I64F64, b: I64F64) -> I64F64 {
    a.checked_div(b).unwrap_or(I64F64::from_bits(0))
}

/// Saturating sum of a fixed-point vector.
pub fn sum(x: &[I32F32]) -> I32F32 {
    x.iter().fold(ZERO, |acc, v| add(acc, *v))
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
/// Bit for bit the Taylor series of `substrate_fixed::transcendental::exp`, as the reference
/// uses it, evaluated with plain integer operations (see [`exp_series`]).
pub fn exp_safe(x: I32F32) -> I32F32 {
    let mut out = [ZERO];
    exp_safe_many(&[x], &mut out);
    out.first().copied().unwrap_or(ZERO)
}

/// [`exp_safe`] of every value of `xs` into `out` (pairwise; extra values of either are left
/// alone). Evaluates the series of [`EXP_LANES`] values side by side, so the processor overlaps
/// their (otherwise serial) chains of multiplications.
pub fn exp_safe_many(xs: &[I32F32], out: &mut [I32F32]) {
    let mut xs = xs.chunks(EXP_LANES);
    for dst in out.chunks_mut(EXP_LANES) {
        let Some(src) = xs.next() else { break };
        let mut lanes = [0u64; EXP_LANES];
        let mut args = [ZERO; EXP_LANES];
        for ((lane, arg), x) in lanes.iter_mut().zip(args.iter_mut()).zip(src.iter()) {
            *arg = clamp_exp_arg(*x);
            *lane = arg.to_bits().unsigned_abs();
        }
        let sums = exp_series(lanes);
        for ((d, arg), sum) in dst.iter_mut().zip(args.iter()).zip(sums.iter()) {
            *d = exp_finish(*arg, *sum);
        }
    }
}

/// Values evaluated side by side by [`exp_safe_many`].
pub const EXP_LANES: usize = 8;

fn clamp_exp_arg(x: I32F32) -> I32F32 {
    let lo = I32F32::from_bits(-20 << 32);
    let hi = I32F32::from_bits(20 << 32);
    if x < lo {
        lo
    } else if hi < x {
        hi
    } else {
        x
    }
}

/// `exp(arg)` from the series sum of `|arg|` ([`exp_series`]); `arg` is already clamped.
fn exp_finish(arg: I32F32, sum: Option<u64>) -> I32F32 {
    let bits = arg.to_bits();
    // The library returns exact constants for 0 and 1 (not the series): leave those two to it,
    // and any overflow (impossible in [-20, 20], where the sum stays below 2^61).
    let series = match sum {
        Some(s) if bits != 0 && bits != ONE.to_bits() => s,
        _ => return exp_library(arg),
    };
    if bits < 0 {
        // 1 / series: series > 2^32, so the quotient fits.
        I32F32::from_bits(i64::try_from(one_over(series)).unwrap_or(0))
    } else {
        I32F32::from_bits(i64::try_from(series).unwrap_or(i64::MAX))
    }
}

/// `substrate_fixed::transcendental::exp` with [`exp_safe`]'s error values.
fn exp_library(clamped: I32F32) -> I32F32 {
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

/// `floor(2^64 / d)` for `d >= 2^32` (so the quotient fits 33 bits): `floor((2^64 - 1) / d)`,
/// plus one when `d` divides `2^64` (a power of two). 0 for `d == 0`.
#[inline]
pub fn one_over(d: u64) -> u64 {
    let q = u64::MAX.checked_div(d).unwrap_or(0);
    q.wrapping_add(u64::from(d.is_power_of_two()))
}

/// Largest operand (bits) of [`exp_series`]: 20 (`exp_safe` clamps its argument to ±20).
const EXP_MAX_OPERAND: u64 = 20 << 32;

/// The Taylor series of `substrate_fixed::transcendental::exp` for `I32F32` of non-negative
/// operands (bits `u`, one per lane): `result = 1 + u`, `term = u`, then for `i` in `2..32`:
/// `term = term · u` (`checked_mul`: the 128-bit product shifted right by 32), `term = term / i`
/// (`checked_div` by the whole number `i`: `(term · 2^32) / (i · 2^32)`, truncated, which is
/// `term / i`), `result += term` (`checked_add`). All values are non-negative, so every
/// truncation is a floor and these integer operations give the library's bits exactly; the
/// divisions are by constants (multiplications).
///
/// For `u <= 20 · 2^32` nothing overflows, so the library's checks never fail: the terms are
/// at most `2^32 · 20^20 / 20! < 2^58`, a product `term · u` stays below `2^58 · 20 · 2^32 <
/// 2^95` (the limit of `checked_mul`), and the result is at most `2^32 · e^20 < 2^61`. A lane
/// beyond that bound (never passed by [`exp_safe_many`]) returns `None`. Once every lane's term
/// is 0 the remaining terms are 0 too.
fn exp_series(u: [u64; EXP_LANES]) -> [Option<u64>; EXP_LANES] {
    let mut term = u;
    let mut result = [0u64; EXP_LANES];
    for (r, x) in result.iter_mut().zip(u.iter()) {
        *r = x.wrapping_add(1 << 32);
    }
    macro_rules! step {
        ($label:lifetime, $i:literal) => {
            let mut any = 0u64;
            for ((t, r), x) in term.iter_mut().zip(result.iter_mut()).zip(u.iter()) {
                // Below 2^95 (see above), so the shifted product fits 63 bits.
                let p = (u128::from(*t).wrapping_mul(u128::from(*x)) >> 32) as u64;
                let q = p.checked_div($i).unwrap_or(0);
                *t = q;
                *r = r.wrapping_add(q);
                any |= q;
            }
            if any == 0 {
                break $label;
            }
        };
    }
    'series: {
        step!('series, 2);
        step!('series, 3);
        step!('series, 4);
        step!('series, 5);
        step!('series, 6);
        step!('series, 7);
        step!('series, 8);
        step!('series, 9);
        step!('series, 10);
        step!('series, 11);
        step!('series, 12);
        step!('series, 13);
        step!('series, 14);
        step!('series, 15);
        step!('series, 16);
        step!('series, 17);
        step!('series, 18);
        step!('series, 19);
        step!('series, 20);
        step!('series, 21);
        step!('series, 22);
        step!('series, 23);
        step!('series, 24);
        step!('series, 25);
        step!('series, 26);
        step!('series, 27);
        step!('series, 28);
        step!('series, 29);
        step!('series, 30);
        step!('series, 31);
    }
    let mut out = [None; EXP_LANES];
    for ((d, r), x) in out.iter_mut().zip(result.iter()).zip(u.iter()) {
        *d = (*x <= EXP_MAX_OPERAND).then_some(*r);
    }
    out
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
