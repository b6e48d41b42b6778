//! Consensus: the stake-weighted kappa-median of every column of the weight matrix.
//!
//! The reference (`weighted_median_col_sparse`) densifies a column × validator matrix and runs
//! a mid-pivot quick-select per column. Because fixed-point additions are exact, the value it
//! returns does not depend on the pivots: over the rows with positive active stake
//! (renormalised to `stake_sum`), with `minority = stake_sum - kappa`, it is
//!
//! * the smallest column value `w` such that the stake of rows with a value `<= w` exceeds
//!   `minority` (rows without an entry count as value 0),
//! * or, if no value qualifies (`minority >= stake_sum`), the largest value,
//! * and 0 when no row has positive active stake.
//!
//! This module computes exactly that from column lists (the rows transposed once), with an
//! O(m) weighted quick-select per column of m entries: total cost O(entries + n).

use super::math::{normalize, sum, zeros, ZERO};
use super::sparse::SparseRow;
use alloc::vec;
use alloc::vec::Vec;
use substrate_fixed::types::I32F32;

/// Stake-weighted median of each of the `n` columns of `weights` (row-normalised weights),
/// over the rows whose `active_stake` is positive, at majority `kappa`.
pub fn weighted_median_cols(
    active_stake: &[I32F32],
    weights: &[SparseRow],
    n: usize,
    kappa: I32F32,
) -> Vec<I32F32> {
    // Rows taking part, and their stake renormalised over them.
    let use_rows: Vec<usize> = active_stake
        .iter()
        .enumerate()
        .filter(|(_, s)| **s > ZERO)
        .map(|(i, _)| i)
        .collect();
    if use_rows.is_empty() {
        return zeros(n);
    }
    let mut use_stake: Vec<I32F32> = use_rows.iter().map(|&i| active_stake.get(i).copied().unwrap_or(ZERO)).collect();
    normalize(&mut use_stake);
    let stake_sum = sum(&use_stake);
    let minority = stake_sum.saturating_sub(kappa);

    // Transpose the positive entries of the rows taking part into column lists
    // (counting pass, then fill): `starts[j]..starts[j + 1]` indexes column j in `cells`.
    let mut counts: Vec<usize> = vec![0; n];
    for &i in &use_rows {
        for &(j, w) in weights.get(i).map(|r| r.as_slice()).unwrap_or(&[]) {
            if w > ZERO {
                if let Some(c) = counts.get_mut(usize::from(j)) {
                    *c = c.saturating_add(1);
                }
            }
        }
    }
    let mut starts: Vec<usize> = Vec::with_capacity(n.saturating_add(1));
    let mut total = 0usize;
    starts.push(0);
    for c in &counts {
        total = total.saturating_add(*c);
        starts.push(total);
    }
    // Next free slot of every column.
    let mut fill: Vec<usize> = starts.clone();
    fill.truncate(n);
    let mut cells: Vec<(i64, i64)> = vec![(0, 0); total];
    for (k, &i) in use_rows.iter().enumerate() {
        let s = use_stake.get(k).copied().unwrap_or(ZERO).to_bits();
        for &(j, w) in weights.get(i).map(|r| r.as_slice()).unwrap_or(&[]) {
            if w <= ZERO {
                continue;
            }
            if let Some(slot) = fill.get_mut(usize::from(j)) {
                if let Some(cell) = cells.get_mut(*slot) {
                    *cell = (w.to_bits(), s);
                }
                *slot = slot.saturating_add(1);
            }
        }
    }

    let rows = use_rows.len();
    let stake_sum_bits = stake_sum.to_bits();
    let minority_bits = minority.to_bits();
    (0..n)
        .map(|j| {
            let lo = starts.get(j).copied().unwrap_or(0);
            let hi = starts.get(j.saturating_add(1)).copied().unwrap_or(lo);
            let col = cells.get_mut(lo..hi).unwrap_or(&mut []);
            I32F32::from_bits(column_median(col, rows, stake_sum_bits, minority_bits))
        })
        .collect()
}

/// Median of one column given its positive entries `(value bits, stake bits)`, the number of
/// rows taking part and the total and minority stake (bits). Rows without a positive entry
/// hold value 0. Reorders `col`.
fn column_median(col: &mut [(i64, i64)], rows: usize, stake_sum: i64, minority: i64) -> i64 {
    let positive_stake = col.iter().fold(0i64, |acc, c| acc.saturating_add(c.1));
    let has_zero = col.len() < rows;
    let zero_stake = if has_zero { stake_sum.saturating_sub(positive_stake) } else { 0 };
    if has_zero && zero_stake > minority {
        return 0;
    }
    match weighted_select(col, minority.saturating_sub(zero_stake)) {
        Some(v) => v,
        None => col.iter().map(|c| c.0).max().unwrap_or(0),
    }
}

/// Smallest value `v` of `(value, weight)` pairs such that the weight of pairs with value
/// `<= v` exceeds `target`; `None` if the total weight does not. Weighted quick-select with a
/// three-way partition around a median-of-three pivot; O(len) on average. Reorders `cells`.
fn weighted_select(cells: &mut [(i64, i64)], target: i64) -> Option<i64> {
    let mut below: i64 = 0; // weight of values already known to lie below the current slice
    let mut slice: &mut [(i64, i64)] = cells;
    loop {
        let len = slice.len();
        if len == 0 {
            return None;
        }
        let pivot = median_of_three(
            slice.first().map_or(0, |c| c.0),
            slice.get(len / 2).map_or(0, |c| c.0),
            slice.last().map_or(0, |c| c.0),
        );
        // Dutch-flag partition: [0, lt) < pivot, [lt, i) == pivot, (gt, len) > pivot.
        let (mut lt, mut i, mut gt) = (0usize, 0usize, len);
        let (mut w_lt, mut w_eq) = (0i64, 0i64);
        while i < gt {
            let Some(&(v, w)) = slice.get(i) else { break };
            if v < pivot {
                w_lt = w_lt.saturating_add(w);
                slice.swap(lt, i);
                lt = lt.saturating_add(1);
                i = i.saturating_add(1);
            } else if v > pivot {
                gt = gt.saturating_sub(1);
                slice.swap(i, gt);
            } else {
                w_eq = w_eq.saturating_add(w);
                i = i.saturating_add(1);
            }
        }
        let taken = core::mem::take(&mut slice);
        if below.saturating_add(w_lt) > target {
            slice = taken.get_mut(..lt).unwrap_or(&mut []);
        } else if below.saturating_add(w_lt).saturating_add(w_eq) > target {
            return Some(pivot);
        } else {
            below = below.saturating_add(w_lt).saturating_add(w_eq);
            slice = taken.get_mut(gt..).unwrap_or(&mut []);
        }
    }
}

fn median_of_three(a: i64, b: i64, c: i64) -> i64 {
    if (a <= b) == (b <= c) {
        b
    } else if (b <= a) == (a <= c) {
        a
    } else {
        c
    }
}
