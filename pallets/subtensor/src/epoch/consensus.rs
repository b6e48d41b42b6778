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
use super::sparse::SparseMatrix;
use alloc::vec;
use alloc::vec::Vec;
use substrate_fixed::types::I32F32;

/// Stake-weighted median of each of the `n` columns of `weights` (row-normalised weights, rows
/// sorted by column with unique columns as [`super::sparse::read_rows`] builds them), over the
/// rows whose `active_stake` is positive, at majority `kappa`.
pub fn weighted_median_cols(
    active_stake: &[I32F32],
    weights: &SparseMatrix,
    n: usize,
    kappa: I32F32,
) -> Vec<I32F32> {
    // Rows taking part, and their stake renormalised over them.
    let use_rows: Vec<usize> =
        active_stake.iter().enumerate().filter(|(_, s)| **s > ZERO).map(|(i, _)| i).collect();
    if use_rows.is_empty() {
        return zeros(n);
    }
    let mut use_stake: Vec<I32F32> =
        use_rows.iter().map(|&i| active_stake.get(i).copied().unwrap_or(ZERO)).collect();
    normalize(&mut use_stake);
    let stake_sum = sum(&use_stake);
    let minority = stake_sum.saturating_sub(kappa);

    // Transpose the positive entries of the rows taking part, one block of columns at a time
    // (the block buffer stays cache-resident): column `c` of the block owns the cells
    // `c * rows .. c * rows + lens[c]`; each row has at most one entry per column.
    let rows = use_rows.len();
    let block = BLOCK_CELLS.checked_div(rows).unwrap_or(1).clamp(1, n.max(1));
    let mut cells: Vec<(i64, i64)> = vec![(0, 0); block.saturating_mul(rows)];
    let mut lens: Vec<usize> = vec![0; block];
    let mut cursor: Vec<usize> = vec![0; rows];
    let stake_bits: Vec<i64> = use_stake.iter().map(|s| s.to_bits()).collect();
    let (stake_sum_bits, minority_bits) = (stake_sum.to_bits(), minority.to_bits());
    let mut median: Vec<I32F32> = Vec::with_capacity(n);
    let mut start = 0usize;
    while start < n {
        let end = start.saturating_add(block).min(n);
        lens.iter_mut().for_each(|l| *l = 0);
        for ((&i, &s), pos) in use_rows.iter().zip(stake_bits.iter()).zip(cursor.iter_mut()) {
            let (cols, vals) = weights.row(i);
            let (cols, vals) = (cols.get(*pos..).unwrap_or(&[]), vals.get(*pos..).unwrap_or(&[]));
            for (&j, &w) in cols.iter().zip(vals.iter()) {
                let j = usize::from(j);
                if j >= end {
                    break;
                }
                *pos = pos.saturating_add(1);
                let c = j.saturating_sub(start);
                if w <= ZERO || j < start {
                    continue;
                }
                // (`len < rows` always holds for rows with unique columns.)
                if let Some(len) = lens.get_mut(c).filter(|len| **len < rows) {
                    if let Some(cell) = cells.get_mut(c.saturating_mul(rows).saturating_add(*len)) {
                        *cell = (w.to_bits(), s);
                        *len = len.saturating_add(1);
                    }
                }
            }
        }
        for (c, len) in lens.iter().enumerate().take(end.saturating_sub(start)) {
            let lo = c.saturating_mul(rows);
            let col = cells.get_mut(lo..lo.saturating_add(*len)).unwrap_or(&mut []);
            median.push(I32F32::from_bits(column_median(col, rows, stake_sum_bits, minority_bits)));
        }
        start = end;
    }
    median
}

/// Cells (value, stake) of the column-block buffer of [`weighted_median_cols`] (1 MiB).
const BLOCK_CELLS: usize = 65536;

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
        // Branch-free Lomuto partitions: [0, lt) < pivot, then [lt, le) == pivot.
        let (lt, w_lt) = partition(slice, |v| v < pivot);
        let taken = core::mem::take(&mut slice);
        // (When nothing lies below the pivot, the pivot is the answer even for a negative
        // target: the reference only descends into a non-empty lower partition.)
        if lt > 0 && below.saturating_add(w_lt) > target {
            slice = taken.get_mut(..lt).unwrap_or(&mut []);
            continue;
        }
        let rest = taken.get_mut(lt..).unwrap_or(&mut []);
        let (eq, w_eq) = partition(rest, |v| v <= pivot);
        below = below.saturating_add(w_lt).saturating_add(w_eq);
        if below > target {
            return Some(pivot);
        }
        slice = rest.get_mut(eq..).unwrap_or(&mut []);
    }
}

/// Moves the cells whose value satisfies `pred` to the front (branch-free Lomuto); returns
/// their number and total weight.
fn partition(s: &mut [(i64, i64)], pred: impl Fn(i64) -> bool) -> (usize, i64) {
    let mut k = 0usize;
    let mut weight = 0i64;
    for i in 0..s.len() {
        let (v, w) = s.get(i).copied().unwrap_or((0, 0));
        let hit = pred(v);
        s.swap(i, k);
        k = k.saturating_add(usize::from(hit));
        weight = weight.saturating_add(if hit { w } else { 0 });
    }
    (k, weight)
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
