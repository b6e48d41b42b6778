//! Tests of the epoch: unit tests of the fixed-point helpers, cross-checks of the optimised
//! routines against straightforward versions (weighted median against the reference's
//! mid-pivot quick-select, fused passes against the step-by-step composition, the integer
//! `exp` series against `substrate_fixed`'s), `run_epoch` against the previous implementation
//! (`reference`, bit for bit), and property tests of `run_epoch` (normalisation, emission
//! bounds, robustness to any input shape, resistance to a colluding minority).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

use super::bonds::{self, moving_average_alpha, LiquidAlpha, OldBonds};
use super::consensus::{weighted_median_cols, weighted_median_cols_layout, weighted_select_rounds};
use super::math::{
    exp_safe, exp_safe_many, is_topk_nonzero, mul, normalize, normalize_64, safe_div, to_u16,
    u16_proportion, vec_max_upscale_to_u16, Divisor, ONE, ZERO,
};
use super::reference;
use super::reference::sparse::{
    col_clip, col_max_upscale, col_normalize, ema, matmul, matmul_transpose, read_rows,
    row_normalize, row_normalize_matmul, row_sums, scale_rows, StoredRows,
};
use super::sparse::{col_clip_in_place, merge_rows, read_normalized, SparseMatrix, SparseRow};
use super::{run_epoch, EpochInput, EpochOutput, EpochParams};
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;
use substrate_fixed::types::{I32F32, I64F64};

/// Proptest settings: at least `cases` cases (more with `PROPTEST_CASES`), no failure files
/// written into the source tree.
fn config(cases: u32) -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig { cases: default.cases.max(cases), failure_persistence: None, ..default }
}

fn fx(x: f64) -> I32F32 {
    I32F32::from_num(x)
}

fn f(x: I32F32) -> f64 {
    x.to_num::<f64>()
}

fn bits(b: i64) -> I32F32 {
    I32F32::from_bits(b)
}

fn sum_f(v: &[I32F32]) -> f64 {
    v.iter().map(|x| f(*x)).sum()
}

// ---------------------------------------------------------------------------------------------
// math.rs
// ---------------------------------------------------------------------------------------------

#[test]
fn to_u16_floors_and_saturates() {
    assert_eq!(to_u16(ONE), 65535);
    assert_eq!(to_u16(ZERO), 0);
    assert_eq!(to_u16(fx(0.5)), 32767); // floor(32767.5)
    assert_eq!(to_u16(fx(1.0 / 3.0)), 21844); // floor(21844.99..): truncated I32F32 of 1/3
    assert_eq!(to_u16(fx(-0.25)), 0);
    assert_eq!(to_u16(fx(3.0)), 65535);
    assert_eq!(to_u16(I32F32::max_value()), 65535);
    assert_eq!(EpochOutput::u16_of(&[ONE, fx(0.25)]), vec![65535, 16383]);
}

#[test]
fn u16_proportion_round_trips() {
    assert_eq!(u16_proportion(65535), ONE);
    assert_eq!(u16_proportion(0), ZERO);
    for x in [1u16, 2, 100, 32767, 32768, 65534] {
        // x/65535 is truncated, so the way back may lose one unit.
        let back = to_u16(u16_proportion(x));
        assert!(back == x || back + 1 == x, "{x} -> {back}");
    }
}

#[test]
fn normalize_sums_to_one_or_keeps_zeros() {
    let mut v = vec![fx(1.0), fx(2.0), fx(3.0)];
    normalize(&mut v);
    assert!((sum_f(&v) - 1.0).abs() < 1e-9);
    assert_eq!(v[0], safe_div(fx(1.0), fx(6.0)));
    let mut z = vec![ZERO; 4];
    normalize(&mut z);
    assert_eq!(z, vec![ZERO; 4]);
    let mut big = vec![I64F64::saturating_from_num(u64::MAX); 2];
    normalize_64(&mut big); // saturating sum, no panic
    assert!(big.iter().all(|x| *x <= I64F64::from_num(1)));
}

#[test]
fn safe_div_is_zero_on_zero_divisor_and_overflow() {
    assert_eq!(safe_div(ONE, ZERO), ZERO);
    assert_eq!(safe_div(I32F32::max_value(), bits(1)), ZERO); // overflow -> 0, not saturation
    assert_eq!(safe_div(fx(1.0), fx(3.0)), fx(1.0).checked_div(fx(3.0)).unwrap());
    assert_eq!(safe_div(fx(-1.0), fx(3.0)), fx(-1.0).checked_div(fx(3.0)).unwrap());
}

#[test]
fn topk_ties_drop_the_lower_uid() {
    let v = vec![fx(0.1), fx(0.2), fx(0.2), fx(0.2), ZERO, fx(0.3)];
    // k = 3: ascending stable order 4(0), 0(.1), 1(.2), 2(.2), 3(.2), 5(.3): drops 4, 0, 1.
    assert_eq!(is_topk_nonzero(&v, 3), vec![false, false, true, true, false, true]);
    // n < k keeps every non-zero value.
    assert_eq!(is_topk_nonzero(&v, 10), vec![true, true, true, true, false, true]);
    // zeros never get a permit.
    assert_eq!(is_topk_nonzero(&[ZERO, ZERO], 2), vec![false, false]);
}

#[test]
fn max_upscale_to_u16_rounds() {
    assert_eq!(vec_max_upscale_to_u16(&[]), Vec::<u16>::new());
    assert_eq!(vec_max_upscale_to_u16(&[ZERO, ZERO]), vec![0, 0]);
    assert_eq!(vec_max_upscale_to_u16(&[fx(0.5), fx(0.25), ZERO]), vec![65535, 32768, 0]);
    assert_eq!(vec_max_upscale_to_u16(&[fx(1.0), fx(1.0 / 3.0)]), vec![65535, 21845]);
}

#[test]
fn exp_safe_clamps() {
    assert_eq!(exp_safe(ZERO), ONE);
    assert!((f(exp_safe(fx(1.0))) - core::f64::consts::E).abs() < 1e-6);
    assert_eq!(exp_safe(fx(100.0)), exp_safe(fx(20.0)));
    assert_eq!(exp_safe(fx(-100.0)), exp_safe(fx(-20.0)));
    assert!(f(exp_safe(fx(-20.0))) < 1e-8);
}

/// `exp_safe` against the library's series (the previous implementation) at `x`.
fn check_exp(x: I32F32) -> Result<(), TestCaseError> {
    prop_assert_eq!(exp_safe(x), reference::math::exp_safe(x), "exp({:?})", x);
    Ok(())
}

#[test]
fn exp_matches_the_library_at_special_points() {
    let mut points: Vec<i64> = vec![0, 1, -1, 1 << 32, -(1 << 32), i64::MAX, i64::MIN];
    for k in 0..=37 {
        for d in [-1i64, 0, 1] {
            points.push((1i64 << k) + d);
            points.push(-(1i64 << k) - d);
        }
    }
    for whole in -21i64..=21 {
        for d in [-1i64, 0, 1] {
            points.push((whole << 32) + d);
        }
    }
    for p in points {
        check_exp(bits(p)).unwrap();
    }
    // Several at a time, in chunks that do not fill the lanes.
    let xs: Vec<I32F32> = (-13i64..14).map(|k| bits(k * 3_000_000_007)).collect();
    let mut out = vec![ZERO; xs.len()];
    exp_safe_many(&xs, &mut out);
    let one_by_one: Vec<I32F32> = xs.iter().map(|x| reference::math::exp_safe(*x)).collect();
    assert_eq!(out, one_by_one);
}

#[test]
fn exp_matches_the_library_on_a_grid() {
    // Every 2^24-th value of [-21, 21] plus an odd offset, so low bits vary too.
    let step = 1i64 << 24;
    let mut x = -21i64 << 32;
    let mut k = 0i64;
    while x <= 21i64 << 32 {
        check_exp(bits(x + (k * 7919) % step)).unwrap();
        x += step;
        k += 1;
    }
}

/// The exhaustive form of `exp_matches_the_library_on_a_grid` over the liquid-alpha domain
/// actually reached with the reference's default steepness (1000): every `exp` argument
/// `slope · (diff - 1/2)` for `diff` in `[0, 1]` with a stride of `EXP_STRIDE` (default 1:
/// all 2^32 + 1 values, hours in release; 16 takes a few minutes). Run with
/// `EXP_STRIDE=16 cargo test --release -p pallet-subtensor exp_matches_the_library_exhaustively -- --ignored`.
#[test]
#[ignore]
fn exp_matches_the_library_exhaustively() {
    let stride: i64 = std::env::var("EXP_STRIDE").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let slope = fx(1000.0).saturating_div(fx(-100.0));
    let half = bits(1 << 31);
    let mut diff = 0i64;
    let mut checked = 0u64;
    while diff <= 1 << 32 {
        let args: Vec<I32F32> = (0..1024i64)
            .map(|k| diff + k * stride)
            .filter(|d| *d <= 1 << 32)
            .map(|d| slope.saturating_mul(bits(d).saturating_sub(half)))
            .collect();
        let mut out = vec![ZERO; args.len()];
        exp_safe_many(&args, &mut out);
        for (x, e) in args.iter().zip(out.iter()) {
            assert_eq!(*e, reference::math::exp_safe(*x), "exp({x:?})");
        }
        checked += args.len() as u64;
        diff += 1024 * stride;
    }
    std::println!("{checked} arguments checked");
}

#[test]
fn u16_conversions_match_the_reference_for_every_value() {
    for x in 0..=u16::MAX {
        assert_eq!(u16_proportion(x), reference::math::u16_proportion(x), "{x}");
        assert_eq!(super::math::from_u16(x), reference::math::from_u16(x), "{x}");
    }
}

#[test]
fn one_over_is_the_exact_quotient() {
    use super::math::one_over;
    let mut ds: Vec<u64> = vec![1 << 32, (1 << 32) + 1, u64::MAX, 1 << 63, (1 << 63) + 1];
    for k in 32..64 {
        ds.extend([(1u64 << k) - 1, 1u64 << k, (1u64 << k) + 1]);
    }
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..10_000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ds.push(x | (1 << 32));
        ds.push((x >> (x % 31)) | (1 << 32));
    }
    for d in ds.into_iter().filter(|d| *d >= 1 << 32) {
        assert_eq!(u128::from(one_over(d)), (1u128 << 64) / u128::from(d), "{d}");
    }
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn exp_matches_the_library(x in -(22i64 << 32)..(22i64 << 32), y in any::<i64>()) {
        check_exp(bits(x))?;
        check_exp(bits(y))?;
        check_exp(bits(x >> 8))?;
        check_exp(bits(x >> 20))?;
    }

    #[test]
    fn liquid_alpha_matches_the_reference(
        c in prop_oneof![0i64..=(1 << 32), any::<i64>()],
        w in prop_oneof![0i64..=(1 << 32), any::<i64>()],
        b in prop_oneof![0i64..=(1 << 32), Just(0i64)],
        low in any::<u16>(),
        high in any::<u16>(),
        steepness in prop_oneof![Just(1000i16), any::<i16>()],
    ) {
        let (c, w, b) = (bits(c), bits(w), bits(b));
        let ours = LiquidAlpha::new(low, high, steepness);
        let theirs = reference::bonds::LiquidAlpha::new(low, high, steepness);
        prop_assert_eq!(ours.alpha(c, w, b), theirs.alpha(c, w, b));
        prop_assert_eq!(ours.alpha(c, w, w), theirs.alpha(c, w, w));
        prop_assert_eq!(ours.alpha(c, c, b), theirs.alpha(c, c, b));
    }
}

#[test]
fn moving_average_alpha_matches_definition() {
    // 1 - 900000/1e6 computed in I64F64, truncated to I32F32: 0.1 up to one unit of 2^-32.
    assert!((f(moving_average_alpha(900_000)) - 0.1).abs() < 1e-9);
    assert_eq!(moving_average_alpha(0), ONE);
    assert_eq!(moving_average_alpha(1_000_000), ZERO);
    assert!(moving_average_alpha(2_000_000) < ZERO); // the reference does not clamp
    let _ = moving_average_alpha(u64::MAX); // saturates, no panic
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn divisor_matches_safe_div(a in any::<i64>(), d in any::<i64>(), small in 0i64..(1 << 33)) {
        let pairs =
            [(a, d), (small, d), (a, small), (small, small.max(1)), (a.abs() >> 20, d.abs() >> 30)];
        for (x, y) in pairs {
            let (x, y) = (bits(x), bits(y));
            prop_assert_eq!(Divisor::new(y).div(x), safe_div(x, y), "{:?} / {:?}", x, y);
            prop_assert_eq!(safe_div(x, y), x.checked_div(y).unwrap_or(ZERO));
        }
        prop_assert_eq!(Divisor::identity().div(bits(a)), bits(a));
    }

    #[test]
    fn divisor_is_exact_for_every_numerator(
        a in any::<i64>(),
        den in 1i64..(1 << 31),
        shift in 0u32..31,
        frac in any::<u32>(),
    ) {
        let a = a.abs().max(0);
        let den = (den >> shift).max(1);
        // Whole divisors: floor(a / den) for any 63-bit a.
        let whole = bits(den << 32);
        prop_assert_eq!(Divisor::new(whole).div(bits(a)), bits(a / den));
        for x in [a, a >> 31, i64::MAX, (den << 1) - 1, den, den - 1] {
            prop_assert_eq!(Divisor::new(whole).div(bits(x)), safe_div(bits(x), whole));
        }
        // Fractional divisors.
        let d = bits((den << 32) | i64::from(frac));
        for x in [a >> 32, (a >> 32) + 1, 0, (1 << 32) - 1] {
            prop_assert_eq!(Divisor::new(d).div(bits(x)), safe_div(bits(x), d));
        }
    }

    #[test]
    fn to_u16_matches_the_reference(a in any::<i64>(), s in 0i64..=(1 << 33)) {
        for x in [a, s, a >> 16, a >> 31, -s] {
            prop_assert_eq!(to_u16(bits(x)), reference::math::to_u16(bits(x)), "{}", x);
        }
    }

    #[test]
    fn add_and_sub_match_the_library(a in any::<i64>(), b in any::<i64>()) {
        for (x, y) in [(a, b), (a >> 1, b >> 1), (a, i64::MAX), (a, i64::MIN)] {
            prop_assert_eq!(super::math::add(bits(x), bits(y)), bits(x).saturating_add(bits(y)));
            prop_assert_eq!(super::math::sub(bits(x), bits(y)), bits(x).saturating_sub(bits(y)));
        }
    }

    #[test]
    fn mul_matches_saturating_mul(a in any::<i64>(), b in any::<i64>(), s in 0i64..(1 << 34)) {
        for (x, y) in [(a, b), (s, b), (a, s), (s, s), (a.abs(), b.abs()), (-s, b), (a >> 20, b >> 20)] {
            prop_assert_eq!(mul(bits(x), bits(y)), bits(x).saturating_mul(bits(y)));
        }
    }
}

#[test]
fn divisor_matches_safe_div_at_the_edges() {
    let mut divisors: Vec<i64> = vec![i64::MIN, -1, 0, i64::MAX];
    let mut numerators: Vec<i64> = vec![i64::MIN, -1, 0, i64::MAX, i64::MAX - 1];
    for k in 0..63 {
        for d in [-1i64, 0, 1] {
            divisors.push((1i64 << k) + d);
            numerators.push((1i64 << k) + d);
        }
    }
    for whole in [1i64, 2, 3, 5, 7, 255, 65535, 65536, 1 << 30, (1 << 31) - 1] {
        divisors.push(whole << 32);
        divisors.push((whole << 32) + 1);
    }
    for d in &divisors {
        let div = Divisor::new(bits(*d));
        for a in &numerators {
            assert_eq!(div.div(bits(*a)), safe_div(bits(*a), bits(*d)), "{a} / {d}");
        }
    }
}

#[test]
fn mul_saturates_like_the_library_at_the_edges() {
    let edges = [
        i64::MIN,
        i64::MIN + 1,
        i64::MAX,
        -1,
        0,
        1,
        1 << 47,
        -(1 << 47),
        (1 << 47) - 1,
        1 << 48,
        -(1 << 48),
        (1 << 48) + 1,
        1 << 31,
        -(1 << 31),
        1 << 32,
        -(1 << 32),
    ];
    for x in edges {
        for y in edges {
            assert_eq!(mul(bits(x), bits(y)), bits(x).saturating_mul(bits(y)), "{x} * {y}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// consensus.rs: weighted median against the reference's quick-select
// ---------------------------------------------------------------------------------------------

/// The reference algorithm, written out: over the rows with positive stake (renormalised),
/// a quick-select with the middle element of the current partition as pivot; returns the pivot
/// once the stake below it is `<= minority` and the stake up to it is `> minority`.
fn median_by_quickselect(stake: &[I32F32], column: &[I32F32], kappa: I32F32) -> I32F32 {
    let mut use_stake: Vec<I32F32> = stake.iter().copied().filter(|s| *s > ZERO).collect();
    let score: Vec<I32F32> =
        stake.iter().zip(column).filter(|(s, _)| **s > ZERO).map(|(_, c)| *c).collect();
    normalize(&mut use_stake);
    let total = use_stake.iter().fold(ZERO, |a, b| a.saturating_add(*b));
    let minority = total.saturating_sub(kappa);
    let mut part: Vec<usize> = (0..use_stake.len()).collect();
    let (mut lo, mut hi) = (ZERO, total);
    loop {
        match part.len() {
            0 => return ZERO,
            1 => return score[part[0]],
            len => {
                let pivot = score[part[len / 2]];
                let below: Vec<usize> =
                    part.iter().copied().filter(|&i| score[i] < pivot).collect();
                let above: Vec<usize> =
                    part.iter().copied().filter(|&i| score[i] > pivot).collect();
                let w_below = below.iter().fold(ZERO, |a, &i| a.saturating_add(use_stake[i]));
                let w_above = above.iter().fold(ZERO, |a, &i| a.saturating_add(use_stake[i]));
                if minority < lo.saturating_add(w_below) && !below.is_empty() {
                    hi = lo.saturating_add(w_below);
                    part = below;
                } else if hi.saturating_sub(w_above) <= minority && !above.is_empty() {
                    lo = hi.saturating_sub(w_above);
                    part = above;
                } else {
                    return pivot;
                }
            }
        }
    }
}

#[test]
fn weighted_median_hand_example() {
    // README tiny_2v3m: stakes 0.6 / 0.4, rows [1/2, 1/3, 1/6] and [1/3, 1/3, 1/3].
    let stake = vec![fx(0.6), fx(0.4), ZERO, ZERO, ZERO];
    let mut w = reference::sparse::SparseMatrix::from_rows(&[
        vec![(2, fx(3.0)), (3, fx(2.0)), (4, fx(1.0))],
        vec![(2, fx(1.0)), (3, fx(1.0)), (4, fx(1.0))],
        vec![],
        vec![],
        vec![],
    ]);
    row_normalize(&mut w);
    let w = ours(&w);
    let c = weighted_median_cols(&stake, &w, 5, u16_proportion(32767));
    assert_eq!(c[0], ZERO);
    assert_eq!(c[2], w.row(0).1[0]); // 1/2
    assert_eq!(c[3], w.row(1).1[1]); // 1/3
    assert_eq!(c[4], w.row(0).1[2]); // 1/6
}

#[test]
fn weighted_median_edge_cases() {
    let w = SparseMatrix::from_rows(&[vec![(0, fx(0.5))], vec![(0, fx(0.25))]]);
    // No stake: every median is zero.
    assert_eq!(weighted_median_cols(&[ZERO, ZERO], &w, 2, fx(0.5)), vec![ZERO, ZERO]);
    // kappa 0: the largest value; kappa 1: the smallest.
    let s = [fx(0.5), fx(0.5)];
    assert_eq!(weighted_median_cols(&s, &w, 1, ZERO), vec![fx(0.5)]);
    assert_eq!(weighted_median_cols(&s, &w, 1, ONE), vec![fx(0.25)]);
    // n = 0.
    assert_eq!(weighted_median_cols(&s, &w, 0, fx(0.5)), Vec::<I32F32>::new());
}

/// Raw stakes, stored weight rows and kappa of a weighted-median case.
type ColumnCase = (Vec<u32>, Vec<Vec<(u16, u16)>>, u16);

fn arb_column_case() -> impl Strategy<Value = ColumnCase> {
    (1usize..12, 1usize..8).prop_flat_map(|(rows, cols)| {
        (
            prop::collection::vec(prop_oneof![Just(0u32), 1u32..1000, Just(u32::MAX)], rows),
            prop::collection::vec(
                prop::collection::btree_map(
                    0..cols as u16,
                    prop_oneof![Just(0u16), 1u16..8, any::<u16>()],
                    0..=cols,
                ),
                rows,
            )
            .prop_map(|rows| rows.into_iter().map(|m| m.into_iter().collect()).collect()),
            prop_oneof![Just(32767u16), Just(0u16), Just(65535u16), any::<u16>()],
        )
    })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn weighted_median_matches_reference_quickselect((stake, rows, kappa) in arb_column_case()) {
        let n = 8usize;
        let mut stake: Vec<I32F32> =
            stake.iter().map(|s| I32F32::saturating_from_num(*s)).collect();
        normalize(&mut stake);
        let mut w = read_rows(&rows, n, |_| true, I32F32::from_num, |_, _| true);
        row_normalize(&mut w);
        let w = ours(&w);
        let kappa = u16_proportion(kappa);
        let ours = weighted_median_cols(&stake, &w, n, kappa);
        prop_assert_eq!(&ours, &weighted_median_cols_layout(&stake, &w, n, kappa, true));
        for (j, median) in ours.iter().enumerate() {
            let column: Vec<I32F32> = (0..stake.len())
                .map(|i| {
                    w.row_iter(i).find(|e| usize::from(e.0) == j).map_or(ZERO, |e| e.1)
                })
                .collect();
            prop_assert_eq!(*median, median_by_quickselect(&stake, &column, kappa), "column {}", j);
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn weighted_select_matches_a_sorted_scan(
        cells in prop::collection::vec((0i64..50, 0i64..20), 0..60),
        target in -5i64..400,
        order in 0u8..4,
    ) {
        let mut cells = cells;
        match order {
            1 => cells.sort_unstable(),
            2 => cells.sort_unstable_by(|a, b| b.cmp(a)),
            3 => cells.iter_mut().for_each(|c| c.0 = 7),
            _ => {}
        }
        let mut sorted = cells.clone();
        sorted.sort_unstable_by_key(|c| c.0);
        let mut acc = 0i64;
        let expected = sorted.iter().find(|c| {
            acc += c.1;
            acc > target
        }).map(|c| c.0);
        for rounds in [0usize, 1, 2, 64] {
            let mut work = cells.clone();
            let got = weighted_select_rounds(&mut work, target, rounds);
            prop_assert_eq!(got, expected, "rounds {}", rounds);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// sparse.rs
// ---------------------------------------------------------------------------------------------

/// A matrix of the reference implementation as one of ours (same rows).
fn ours(m: &reference::sparse::SparseMatrix) -> SparseMatrix {
    SparseMatrix::from_rows(&m.to_rows())
}

#[test]
fn read_normalized_sorts_dedupes_and_filters() {
    let input = vec![vec![(3, 30), (1, 10), (9, 90), (1, 11)], vec![(0, 5)], vec![(2, 7)]];
    let v = [fx(0.5), fx(0.25), fx(0.25), ZERO];
    let (m, pre) = read_normalized(&input, 4, |i| i != 1, |_| |j| j != 2, &v);
    assert_eq!(m.rows(), 4);
    // 9 out of range, the last 1 kept; normalised by 41.
    assert_eq!(
        m.to_rows()[0],
        vec![(1, safe_div(fx(11.0), fx(41.0))), (3, safe_div(fx(30.0), fx(41.0)))]
    );
    assert!(m.to_rows()[1].is_empty()); // row not used
    assert!(m.to_rows()[2].is_empty()); // column 2 rejected
    assert!(m.to_rows()[3].is_empty()); // missing row
    let mut plain = read_rows(&input, 4, |i| i != 1, I32F32::from_num, |_, j| j != 2);
    let reference_pre = row_normalize_matmul(&mut plain, &v, 4);
    assert_eq!(m, ours(&plain));
    assert_eq!(pre, reference_pre);
}

proptest! {
    #![proptest_config(config(256))]

    /// Reading, filtering and normalising in one pass is the reference's `read_rows` followed
    /// by `row_normalize_matmul`, for rows in any order with repeated and out-of-range columns.
    #[test]
    fn read_normalized_matches_read_then_normalize(
        rows in prop::collection::vec(
            prop::collection::vec((0u16..12, prop_oneof![Just(0u16), Just(65535u16), any::<u16>()]), 0..14),
            0..12,
        ),
        sorted in any::<bool>(),
        use_mask in any::<u16>(),
        banned in 0u16..14,
        stake in prop::collection::vec(0u32..1000, 10),
    ) {
        let n = 10;
        let mut rows = rows;
        if sorted {
            for r in rows.iter_mut() {
                r.sort_by_key(|e| e.0);
                r.dedup_by_key(|e| e.0);
            }
        }
        let mut v: Vec<I32F32> = stake.iter().map(|x| I32F32::from_num(*x)).collect();
        normalize(&mut v);
        let use_row = |i: usize| use_mask >> (i % 16) & 1 == 1;
        let (m, pre) = read_normalized(&rows, n, use_row, |i| move |j: u16| j != banned || i == 3, &v);
        let mut plain = read_rows(&rows, n, use_row, I32F32::from_num, |i, j| j != banned || i == 3);
        let reference_pre = row_normalize_matmul(&mut plain, &v, n);
        prop_assert_eq!(&m, &ours(&plain));
        prop_assert_eq!(pre, reference_pre);
    }
}

#[test]
fn merge_rows_walks_the_union() {
    let a = [(1u16, fx(1.0)), (3, fx(3.0))];
    let b = [(0u16, fx(0.5)), (3, fx(0.25)), (7, fx(7.0))];
    let seen: Vec<_> = merge_rows(a.iter().copied(), b.iter().copied()).collect();
    assert_eq!(
        seen,
        vec![
            (0, None, Some(fx(0.5))),
            (1, Some(fx(1.0)), None),
            (3, Some(fx(3.0)), Some(fx(0.25))),
            (7, None, Some(fx(7.0)))
        ]
    );
}

#[test]
fn clip_drops_entries_above_a_zero_threshold() {
    let mut m =
        SparseMatrix::from_rows(&[vec![(0, fx(0.5)), (1, fx(0.5)), (2, ZERO)], vec![(1, fx(0.2))]]);
    let th = [fx(0.3), ZERO, ZERO];
    let reference = col_clip(&reference::sparse::SparseMatrix::from_rows(&m.to_rows()), &th);
    let v = [fx(0.75), fx(0.25)];
    let mut products = m.clone();
    let sums = col_clip_in_place(&mut m, &th, &v, 3, false);
    assert_eq!(m, ours(&reference));
    assert_eq!(m.to_rows(), vec![vec![(0, fx(0.3)), (2, ZERO)], vec![]]);
    assert_eq!(sums.row_sums, row_sums(&reference));
    assert_eq!(sums.weighted, matmul(&reference, &v, 3));
    // With `products` the kept entries become v_i · clipped_ij.
    assert_eq!(col_clip_in_place(&mut products, &th, &v, 3, true), sums);
    assert_eq!(products.to_rows(), vec![vec![(0, mul(fx(0.75), fx(0.3))), (2, ZERO)], vec![]]);
}

/// Classic bonds step by step, as the reference composes them.
fn classic_step_by_step(
    wfb: &reference::sparse::SparseMatrix,
    old: &reference::sparse::SparseMatrix,
    stake: &[I32F32],
    incentive: &[I32F32],
    n: usize,
    alpha: I32F32,
) -> (Vec<SparseRow>, Vec<I32F32>) {
    let mut old = old.clone();
    col_normalize(&mut old, n);
    let mut delta = wfb.clone();
    scale_rows(&mut delta, stake);
    col_normalize(&mut delta, n);
    let mut b = ema(&delta, &old, alpha);
    col_normalize(&mut b, n);
    let mut dividends = matmul_transpose(&b, incentive);
    normalize(&mut dividends);
    col_max_upscale(&mut b, n);
    (b.to_rows(), dividends)
}

fn arb_matrix(n: usize) -> impl Strategy<Value = Vec<Vec<(u16, u16)>>> {
    prop::collection::vec(
        prop::collection::btree_map(0..n as u16, any::<u16>(), 0..=n)
            .prop_map(|m| m.into_iter().collect::<Vec<_>>()),
        n,
    )
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn fused_steps_match_step_by_step(
        w in arb_matrix(9),
        b in arb_matrix(9),
        stake in prop::collection::vec(0u32..1000, 9),
        bma in prop_oneof![Just(900_000u64), 0u64..1_000_000, any::<u64>()],
    ) {
        let n = 9;
        let mut s: Vec<I32F32> = stake.iter().map(|x| I32F32::from_num(*x)).collect();
        normalize(&mut s);
        let (wm, pre) = read_normalized(&w, n, |_| true, |_| |_| true, &s);
        let mut plain = read_rows(&w, n, |_| true, I32F32::from_num, |_, _| true);
        row_normalize(&mut plain);
        prop_assert_eq!(&wm, &ours(&plain));
        prop_assert_eq!(&pre, &matmul(&plain, &s, n));

        let mut inc = pre.clone();
        normalize(&mut inc);
        // Bond deltas W ∘ S and their column sums, as `run_epoch` hands them over.
        let mut products = wm.clone();
        for (i, si) in s.iter().enumerate() {
            for x in products.row_mut(i).1.iter_mut() {
                *x = mul(*x, *si);
            }
        }
        let delta_sums = super::sparse::col_sums(&products, n);
        let (old, old_sums) = OldBonds::new_with_sums(&b, n, |_| true);
        let alpha = moving_average_alpha(bma);
        let fused =
            bonds::classic(products, &delta_sums, &old, &old_sums, &inc, n, alpha, &[true, false]);
        let view = StoredRows::new(&b, n, |_| true, |_, _| true, I32F32::from_num);
        let (rows, dividends) = classic_step_by_step(&plain, &view.to_matrix(), &s, &inc, n, alpha);
        prop_assert_eq!(&fused.dividends, &dividends);
        prop_assert_eq!(&fused.bonds, &rows);
        let first: Vec<(u16, u16)> = rows[0].iter().map(|(j, v)| (*j, to_u16(*v))).collect();
        prop_assert_eq!(&fused.stored[0], &first);
        prop_assert!(fused.stored[1..].iter().all(|r| r.is_empty()));
    }
}

// ---------------------------------------------------------------------------------------------
// run_epoch properties
// ---------------------------------------------------------------------------------------------

fn params(n: usize) -> EpochParams {
    EpochParams {
        current_block: 1_000,
        tempo: 360,
        last_step_block: 0,
        activity_cutoff: 5_000,
        kappa: 32_767,
        bonds_moving_average: 900_000,
        bonds_penalty: 65_535,
        max_allowed_validators: n as u16,
        stake_threshold: 0,
        owner_uid: None,
        yuma3: false,
        liquid_alpha: false,
        alpha_low: 45_875,
        alpha_high: 58_982,
        alpha_sigmoid_steepness: 1_000,
    }
}

fn input(stake: Vec<u64>, weights: Vec<Vec<(u16, u16)>>, permits: Vec<bool>) -> EpochInput {
    let n = stake.len();
    EpochInput {
        stake,
        weights,
        bonds: vec![vec![]; n],
        last_update: vec![990; n],
        block_at_registration: vec![0; n],
        validator_permit: permits,
        commit_block: None,
        rao_emission: 1_000_000_000,
        params: params(n),
    }
}

fn check_output_invariants(inp: &EpochInput, out: &EpochOutput) -> Result<(), TestCaseError> {
    let n = super::subnet_size(inp);
    for (name, len) in [
        ("active", out.active.len()),
        ("new_validator_permit", out.new_validator_permit.len()),
        ("validator_permit_used", out.validator_permit_used.len()),
        ("stake", out.stake.len()),
        ("active_stake", out.active_stake.len()),
        ("consensus", out.consensus.len()),
        ("validator_trust", out.validator_trust.len()),
        ("incentive", out.incentive.len()),
        ("rank", out.rank.len()),
        ("trust", out.trust.len()),
        ("dividends", out.dividends.len()),
        ("normalized_server_emission", out.normalized_server_emission.len()),
        ("normalized_validator_emission", out.normalized_validator_emission.len()),
        ("normalized_combined_emission", out.normalized_combined_emission.len()),
        ("server_emission", out.server_emission.len()),
        ("validator_emission", out.validator_emission.len()),
        ("emission", out.emission.len()),
        ("bonds", out.bonds.len()),
        ("bonds_stored", out.bonds_stored.len()),
        ("pruning_scores", out.pruning_scores.len()),
    ] {
        prop_assert_eq!(len, n, "{} has length {} for n = {}", name, len, n);
    }
    // Normalised vectors sum to 1 (up to one or two truncations of 2^-32 per value) or are
    // all zero.
    let tol = 5e-10 * n as f64 + 1e-9;
    for (name, v) in [
        ("stake", &out.stake),
        ("active_stake", &out.active_stake),
        ("incentive", &out.incentive),
        ("dividends", &out.dividends),
    ] {
        let total = sum_f(v);
        prop_assert!(v.iter().all(|x| *x >= ZERO), "{} has a negative value", name);
        prop_assert!(total == 0.0 || (total - 1.0).abs() < tol, "{} sums to {}", name, total);
    }
    for v in [&out.consensus, &out.validator_trust, &out.trust] {
        prop_assert!(v.iter().all(|x| *x >= ZERO && *x <= ONE + bits(1 << 8)));
    }
    let rao = u128::from(inp.rao_emission);
    let sum = |v: &[u64]| v.iter().map(|x| u128::from(*x)).sum::<u128>();
    prop_assert!(sum(&out.emission) <= rao, "emission {} > {}", sum(&out.emission), rao);
    prop_assert!(sum(&out.server_emission) + sum(&out.validator_emission) <= rao);
    prop_assert_eq!(&out.rank, &out.incentive);
    for (row, permitted) in out.bonds_stored.iter().zip(&out.new_validator_permit) {
        prop_assert!(*permitted || row.is_empty());
    }
    for row in out.bonds.iter() {
        prop_assert!(row.windows(2).all(|w| w[0].0 < w[1].0), "bond row not sorted");
        prop_assert!(row.iter().all(|(j, v)| usize::from(*j) < n && *v >= ZERO));
    }
    Ok(())
}

#[test]
fn tiny_hand_example() {
    let inp = input(
        vec![600_000_000_000, 400_000_000_000, 0, 0, 0],
        vec![
            vec![(2, 65535), (3, 43690), (4, 21845)],
            vec![(2, 65535), (3, 65535), (4, 65535)],
            vec![],
            vec![],
            vec![],
        ],
        vec![true, true, false, false, false],
    );
    let out = run_epoch(&inp);
    assert_eq!(EpochOutput::u16_of(&out.consensus), vec![0, 0, 32767, 21844, 10922]);
    assert_eq!(EpochOutput::u16_of(&out.incentive), vec![0, 0, 30426, 23405, 11702]);
    assert_eq!(EpochOutput::u16_of(&out.dividends), vec![42129, 23405, 0, 0, 0]);
    assert_eq!(out.server_emission, vec![0, 0, 232142857, 178571428, 89285714]);
    assert_eq!(out.validator_emission, vec![321428572, 178571427, 0, 0, 0]);
    assert_eq!(out.bonds_stored[1], vec![(2, 29126), (3, 43689), (4, 43689)]);
    check_output_invariants(&inp, &out).unwrap();
}

#[test]
fn empty_subnet() {
    let out = run_epoch(&input(vec![], vec![], vec![]));
    assert!(out.emission.is_empty() && out.bonds.is_empty() && out.pruning_scores.is_empty());
}

#[test]
fn no_weights_means_no_incentive_and_validators_take_all() {
    let inp = input(vec![10, 20, 30, 0], vec![vec![]; 4], vec![true, true, true, false]);
    let out = run_epoch(&inp);
    assert!(out.incentive.iter().all(|x| *x == ZERO));
    assert!(out.server_emission.iter().all(|x| *x == 0));
    // Validators are paid by active stake.
    assert_eq!(out.normalized_validator_emission, out.active_stake);
    assert!(out.validator_emission[2] > out.validator_emission[1]);
    check_output_invariants(&inp, &out).unwrap();
}

#[test]
fn owner_keeps_self_weight_permit_and_stake() {
    let mut inp = input(
        vec![10, 100, 100, 40],
        vec![vec![(0, 65535)], vec![(3, 65535)], vec![(3, 65535)], vec![(3, 65535)]],
        vec![false, true, true, true],
    );
    inp.params.owner_uid = Some(0);
    inp.params.max_allowed_validators = 2;
    inp.params.stake_threshold = 50;
    let out = run_epoch(&inp);
    // The owner is exempt from the stake threshold; uid 3 is not.
    assert!(out.stake[0] > ZERO);
    assert_eq!(out.stake[3], ZERO);
    // The owner holds both permits (top-2 of stake are uids 1 and 2).
    assert_eq!(out.validator_permit_used, vec![true, true, true, true]);
    assert_eq!(out.new_validator_permit, vec![true, true, true, false]);
    // Its self weight is kept (not masked like uid 3's weight on itself).
    assert!(out.consensus[3] == ONE && out.incentive[3] == ONE);
    assert_eq!(out.consensus[0], ZERO); // 10/210 of the stake is no majority
    assert!(out.validator_trust[0] == ZERO && out.validator_trust[1] == ONE);
    check_output_invariants(&inp, &out).unwrap();
}

#[test]
fn commit_reveal_and_outdated_masks() {
    let mut inp = input(
        vec![100, 0, 0],
        vec![vec![(1, 65535), (2, 65535)], vec![], vec![]],
        vec![true, false, false],
    );
    inp.block_at_registration = vec![0, 10, 100];
    let open = run_epoch(&inp);
    assert_eq!(open.incentive, vec![ZERO, fx(0.5), fx(0.5)]);
    // uid 0's earliest live commit (block 50) predates miner 2's registration (block 100).
    inp.commit_block = Some(vec![Some(50)]);
    let masked = run_epoch(&inp);
    assert_eq!(masked.incentive, vec![ZERO, ONE, ZERO]);
    check_output_invariants(&inp, &masked).unwrap();
    // Weights set at or before a registration are outdated.
    inp.commit_block = None;
    inp.last_update = vec![100, 0, 0];
    assert_eq!(run_epoch(&inp).incentive, vec![ZERO, ONE, ZERO]);
}

#[test]
fn many_validators_with_few_weights_stay_linear() {
    // 20 000 validators, each weighting only the last uid: the median must not visit every
    // validator once per column block (that would be quadratic).
    let n = 20_000usize;
    let last = (n - 1) as u16;
    let weights: Vec<Vec<(u16, u16)>> = (0..n).map(|_| vec![(last, 65535)]).collect();
    let mut inp = input(vec![1_000; n], weights, vec![true; n]);
    inp.params.max_allowed_validators = u16::MAX;
    let out = run_epoch(&inp);
    assert_eq!(out.consensus[n - 1], ONE);
    assert_eq!(out.incentive[n - 1], ONE);
    check_output_invariants(&inp, &out).unwrap();
}

/// A subnet of `h` honest validators and `c` colluders (the first `h + c` uids, equal stake
/// each unless given), `m` honest miners, one cabal miner (the last uid).
fn collusion_input(
    h: usize,
    c: usize,
    m: usize,
    honest_stake: u64,
    cabal_stake: u64,
) -> EpochInput {
    let n = h + c + m + 1;
    let cabal = (n - 1) as u16;
    let mut stake = vec![0u64; n];
    let mut weights = vec![vec![]; n];
    let mut permits = vec![false; n];
    for i in 0..h + c {
        permits[i] = true;
        if i < h {
            stake[i] = honest_stake;
            weights[i] = (0..m).map(|k| ((h + c + k) as u16, 65535)).collect();
        } else {
            stake[i] = cabal_stake;
            weights[i] = vec![(cabal, 65535)];
        }
    }
    let mut inp = input(stake, weights, permits);
    inp.params.max_allowed_validators = (h + c) as u16;
    inp
}

#[test]
fn colluding_minority_gets_nothing() {
    // 60% honest stake, 40% colluding stake.
    let inp = collusion_input(6, 4, 10, 100, 100);
    let out = run_epoch(&inp);
    let cabal = out.incentive.len() - 1;
    assert_eq!(out.incentive[cabal], ZERO);
    assert_eq!(out.server_emission[cabal], 0);
    assert!(out.dividends[6..10].iter().all(|d| *d == ZERO), "colluders earn dividends");
    check_output_invariants(&inp, &out).unwrap();
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn colluding_minority_miner_gets_no_incentive(
        h in 1usize..8, c in 1usize..8, m in 1usize..10,
        honest in 1_000u64..1_000_000, share in 0.01f64..0.49,
    ) {
        // Colluders hold `share` (< 1/2) of the total stake.
        let cabal_total = (honest as f64 * h as f64) * share / (1.0 - share);
        let per = ((cabal_total / c as f64) as u64).max(1);
        let (cabal, honest_total) = ((per * c as u64) as f64, (honest * h as u64) as f64);
        prop_assume!(cabal / (cabal + honest_total) < 0.499);
        let inp = collusion_input(h, c, m, honest, per);
        let out = run_epoch(&inp);
        let cabal = out.incentive.len() - 1;
        prop_assert_eq!(out.incentive[cabal], ZERO);
        prop_assert_eq!(out.server_emission[cabal], 0);
        check_output_invariants(&inp, &out)?;
    }
}

/// Arbitrary, possibly malformed inputs: ragged vectors, out-of-range and repeated uids,
/// unsorted rows, extreme stakes and parameters.
fn arb_input() -> impl Strategy<Value = EpochInput> {
    let n_max = 24usize;
    let uid = 0u16..(n_max as u16 + 4);
    let entry = (uid, prop_oneof![Just(0u16), Just(65535u16), any::<u16>()]);
    let row = prop::collection::vec(entry, 0..12);
    let block = prop_oneof![0u64..2_000, Just(u64::MAX), any::<u64>()];
    let stake = prop_oneof![0u64..1_000, 0u64..u64::MAX, Just(u64::MAX), Just(0u64)];
    (
        (
            prop::collection::vec(stake, 0..n_max),
            prop::collection::vec(row.clone(), 0..n_max),
            prop::collection::vec(row, 0..n_max),
            prop::collection::vec(block.clone(), 0..n_max),
            prop::collection::vec(block.clone(), 0..n_max),
            prop::collection::vec(any::<bool>(), 0..n_max),
            prop::option::of(prop::collection::vec(prop::option::of(block.clone()), 0..n_max)),
            prop_oneof![Just(1_000_000_000u64), any::<u64>(), Just(0u64)],
        ),
        (
            block.clone(),
            any::<u16>(),
            block.clone(),
            prop_oneof![Just(5_000u64), any::<u64>()],
            prop_oneof![Just(32_767u16), any::<u16>()],
            prop_oneof![Just(900_000u64), any::<u64>()],
            prop_oneof![Just(65_535u16), any::<u16>()],
            prop_oneof![Just(64u16), any::<u16>()],
            prop_oneof![Just(0u64), any::<u64>()],
            prop::option::of(0u16..(n_max as u16 + 4)),
        ),
        (any::<bool>(), any::<bool>(), any::<u16>(), any::<u16>(), any::<i16>()),
    )
        .prop_map(
            |(
                (
                    stake,
                    weights,
                    bonds,
                    last_update,
                    block_at_registration,
                    validator_permit,
                    commit_block,
                    rao_emission,
                ),
                (
                    current_block,
                    tempo,
                    last_step_block,
                    activity_cutoff,
                    kappa,
                    bma,
                    penalty,
                    max_validators,
                    threshold,
                    owner,
                ),
                (yuma3, liquid_alpha, alpha_low, alpha_high, steepness),
            )| EpochInput {
                stake,
                weights,
                bonds,
                last_update,
                block_at_registration,
                validator_permit,
                commit_block,
                rao_emission,
                params: EpochParams {
                    current_block,
                    tempo,
                    last_step_block,
                    activity_cutoff,
                    kappa,
                    bonds_moving_average: bma,
                    bonds_penalty: penalty,
                    max_allowed_validators: max_validators,
                    stake_threshold: threshold,
                    owner_uid: owner,
                    yuma3,
                    liquid_alpha,
                    alpha_low,
                    alpha_high,
                    alpha_sigmoid_steepness: steepness,
                },
            },
        )
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn never_panics_and_outputs_are_consistent(inp in arb_input()) {
        let out = run_epoch(&inp);
        prop_assert_eq!(&out, &run_epoch(&inp)); // deterministic
        check_output_invariants(&inp, &out)?;
    }

    #[test]
    fn incentive_is_zero_without_weights(mut inp in arb_input()) {
        inp.weights = vec![];
        let out = run_epoch(&inp);
        prop_assert!(out.incentive.iter().all(|x| *x == ZERO));
        prop_assert!(out.consensus.iter().all(|x| *x == ZERO));
        prop_assert!(out.server_emission.iter().all(|x| *x == 0));
    }

    #[test]
    fn well_formed_subnets_pay_out_the_emission(
        n in 2usize..30,
        seed in any::<u64>(),
        yuma3 in any::<bool>(),
        liquid in any::<bool>(),
    ) {
        // Every uid validates and weights every other uid: incentive and dividends are both
        // non-zero, so servers and validators each get half of the emission (minus rounding).
        let mut x = seed;
        let mut next = move || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            x >> 33
        };
        let stake: Vec<u64> = (0..n).map(|_| 1 + next() % 1_000_000).collect();
        let weights: Vec<Vec<(u16, u16)>> = (0..n)
            .map(|i| {
                (0..n)
                    .filter(|j| *j != i)
                    .map(|j| (j as u16, 1 + (next() % 65535) as u16))
                    .collect()
            })
            .collect();
        let mut inp = input(stake, weights, vec![true; n]);
        inp.params.yuma3 = yuma3;
        inp.params.liquid_alpha = liquid;
        let out = run_epoch(&inp);
        check_output_invariants(&inp, &out)?;
        prop_assert!((sum_f(&out.incentive) - 1.0).abs() < 1e-6);
        prop_assert!((sum_f(&out.dividends) - 1.0).abs() < 1e-6);
        let total: u64 = out.emission.iter().sum();
        let rao = inp.rao_emission;
        prop_assert!(total <= rao && total + 2 * n as u64 >= rao, "{}", total);
        let servers: u64 = out.server_emission.iter().sum();
        prop_assert!((servers as i64 - 500_000_000).abs() <= n as i64 + 1, "{}", servers);
    }
}

// ---------------------------------------------------------------------------------------------
// run_epoch against the previous implementation (`reference`), bit for bit
// ---------------------------------------------------------------------------------------------

/// A dense subnet as the benchmark builds it: `v` validators spread over `n` uids weight
/// every uid (`density` of 1..=4 quarters of them) and hold a bond on every uid (random u16
/// values, or small ones as a running chain has).
fn dense_subnet(n: usize, v: usize, seed: u64, density: u64, small_bonds: bool) -> EpochInput {
    let mut x = seed;
    let mut next = move || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        x >> 33
    };
    let stride = (n / v.max(1)).max(1);
    let is_validator = |i: usize| i.is_multiple_of(stride) && i / stride < v;
    let stake: Vec<u64> = (0..n)
        .map(|i| {
            if is_validator(i) {
                1_000_000_000 + next() % 1_000_000_000_000
            } else {
                next() % 1_000_000
            }
        })
        .collect();
    let mut row = |bond: bool| -> Vec<(u16, u16)> {
        let mut r: Vec<(u16, u16)> = Vec::new();
        for j in 0..n {
            if next() % 4 < density {
                let value = if bond && small_bonds { next() % 2_000 } else { 1 + next() % 65_535 };
                r.push((j as u16, value as u16));
            }
        }
        if let Some(e) = r.first_mut() {
            e.1 = 65_535;
        }
        r
    };
    let weights: Vec<Vec<(u16, u16)>> =
        (0..n).map(|i| if is_validator(i) { row(false) } else { Vec::new() }).collect();
    let bonds: Vec<Vec<(u16, u16)>> =
        (0..n).map(|i| if is_validator(i) { row(true) } else { Vec::new() }).collect();
    let current_block = 100_000u64;
    let last_update: Vec<u64> = (0..n).map(|_| current_block - next() % 1_000).collect();
    let block_at_registration: Vec<u64> = (0..n)
        .map(|_| if next() % 50 == 0 { current_block - 100 } else { next() % 50_000 })
        .collect();
    EpochInput {
        stake,
        weights,
        bonds,
        last_update,
        block_at_registration,
        validator_permit: (0..n).map(is_validator).collect(),
        commit_block: None,
        rao_emission: 1_000_000_000,
        params: EpochParams {
            current_block,
            tempo: 360,
            last_step_block: current_block - 361,
            activity_cutoff: 5_000,
            kappa: 32_767,
            bonds_moving_average: 900_000,
            bonds_penalty: 65_535,
            max_allowed_validators: v as u16,
            stake_threshold: 0,
            owner_uid: Some(1),
            yuma3: false,
            liquid_alpha: false,
            alpha_low: 45_875,
            alpha_high: 58_982,
            alpha_sigmoid_steepness: 1_000,
        },
    }
}

/// Runs `epochs` epochs of both implementations, feeding the stored bonds and permits back.
fn check_against_reference(mut inp: EpochInput, epochs: usize) -> Result<(), TestCaseError> {
    for _ in 0..epochs {
        let out = run_epoch(&inp);
        let expected = reference::run_epoch(&inp);
        prop_assert!(out == expected, "outputs differ from the reference for {:?}", inp.params);
        inp.bonds = out.bonds_stored.clone();
        inp.validator_permit = out.new_validator_permit.clone();
        inp.params.last_step_block = inp.params.current_block;
        inp.params.current_block += u64::from(inp.params.tempo);
        for lu in inp.last_update.iter_mut() {
            *lu += u64::from(inp.params.tempo);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn matches_the_reference_on_any_input(inp in arb_input()) {
        prop_assert_eq!(run_epoch(&inp), reference::run_epoch(&inp));
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn matches_the_reference_on_dense_subnets(
        n in 2usize..96,
        v in 1usize..24,
        seed in any::<u64>(),
        density in 1u64..=4,
        small_bonds in any::<bool>(),
        mode in 0u8..3,
        penalty in prop_oneof![Just(65_535u16), Just(0u16), any::<u16>()],
        kappa in prop_oneof![Just(32_767u16), any::<u16>()],
        alpha in (any::<u16>(), any::<u16>(), prop_oneof![Just(1_000i16), any::<i16>()]),
        unsorted in any::<bool>(),
    ) {
        let mut inp = dense_subnet(n, v, seed, density, small_bonds);
        inp.params.yuma3 = mode > 0;
        inp.params.liquid_alpha = mode > 1;
        inp.params.bonds_penalty = penalty;
        inp.params.kappa = kappa;
        if seed % 3 == 0 {
            (inp.params.alpha_low, inp.params.alpha_high, inp.params.alpha_sigmoid_steepness) = alpha;
        }
        if unsorted {
            // Stored rows in reverse order, one entry repeated: read through the sorting path.
            for r in inp.weights.iter_mut().chain(inp.bonds.iter_mut()) {
                r.reverse();
                if let Some(e) = r.first().copied() {
                    r.push((e.0, e.1 / 2));
                }
            }
        }
        check_against_reference(inp, 3)?;
    }
}

#[test]
fn matches_the_reference_on_a_large_subnet() {
    for mode in 0..3u8 {
        for penalty in [65_535u16, 0, 40_000] {
            let mut inp = dense_subnet(512, 64, 42 + u64::from(mode), 4, mode == 2);
            inp.params.yuma3 = mode > 0;
            inp.params.liquid_alpha = mode > 1;
            inp.params.bonds_penalty = penalty;
            check_against_reference(inp, 2).unwrap();
        }
    }
}
