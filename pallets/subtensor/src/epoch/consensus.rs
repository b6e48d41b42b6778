//! Consensus: the stake-weighted kappa-median of every column of the weight matrix.
//!
//! The reference (`weighted_median_col_sparse`) densifies a column × validator matrix and runs
//! a mid-pivot quick-select per column. Because fixed-point additions are exact, the value it
//! returns does not depend on the pivots: over the rows with positive active stake
//! (renormalised to `stake_sum`), with `minority = stake_sum - kappa`, it is
//!
//! * the smallest column value `w` such that the stake of rows with a value `<= w` exceeds
//!   `minority` (rows without an entry count as value 0); with `kappa = 65535` the minority
//!   can be slightly negative (the renormalised stake sums to just under 1), which selects the
//!   smallest value;
//! * or, if no value qualifies (`minority >= stake_sum`, e.g. `kappa = 0`), the largest value;
//! * and 0 when no row has positive active stake.
//!
//! This module computes exactly that from column lists (the rows transposed block by block),
//! with a weighted quick-select per column of m entries (O(m) on average, O(m log m) at
//! worst): O(entries + n) in total for any shape of the weight matrix.

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
    weighted_median_cols_layout(active_stake, weights, n, kappa, false)
}

/// [`weighted_median_cols`], optionally forcing the packed column layout (for tests).
pub(super) fn weighted_median_cols_layout(
    active_stake: &[I32F32],
    weights: &SparseMatrix,
    n: usize,
    kappa: I32F32,
    force_packed: bool,
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

    // Transpose the positive entries of the rows taking part into column lists, one block of
    // columns at a time so the buffer stays cache-resident. Each block visits the rows that
    // still have entries. Two layouts:
    // * fixed: every column of a block gets room for one entry per row, blocks of
    //   `BLOCK_CELLS / rows` columns; used while the row visits (rows × blocks) stay below
    //   the number of entries + n (always, for the usual few hundred validators);
    // * packed: columns get exactly their entry count (one counting pass first), blocks hold
    //   at most `BLOCK_CELLS` cells (or one column), so there are at most
    //   entries / BLOCK_CELLS + 1 blocks whatever the number of rows.
    // Either way the cost is O(entries + n + rows · entries / BLOCK_CELLS).
    let rows = use_rows.len();
    let entries =
        use_rows.iter().fold(0usize, |acc, i| acc.saturating_add(weights.row(*i).0.len()));
    let fixed_block = BLOCK_CELLS.checked_div(rows).unwrap_or(1).clamp(1, n.max(1));
    let fixed_visits = rows.saturating_mul(n.div_ceil(fixed_block));
    let counts: Option<Vec<usize>> = if force_packed || fixed_visits > entries.saturating_add(n) {
        let mut counts: Vec<usize> = vec![0; n];
        for &i in &use_rows {
            let (cols, vals) = weights.row(i);
            for (j, w) in cols.iter().zip(vals.iter()) {
                if *w > ZERO {
                    if let Some(c) = counts.get_mut(usize::from(*j)) {
                        *c = c.saturating_add(1);
                    }
                }
            }
        }
        Some(counts)
    } else {
        None
    };
    // Rows with entries left: (row, stake bits, position of the next entry).
    let mut pending: Vec<(usize, i64, usize)> = use_rows
        .iter()
        .zip(use_stake.iter())
        .filter(|(i, _)| !weights.row(**i).0.is_empty())
        .map(|(i, s)| (*i, s.to_bits(), 0))
        .collect();
    let (stake_sum_bits, minority_bits) = (stake_sum.to_bits(), minority.to_bits());
    let mut cells: Vec<(i64, i64)> = Vec::new();
    let mut fill: Vec<usize> = Vec::new();
    let mut median: Vec<I32F32> = Vec::with_capacity(n);
    let mut start = 0usize;
    while start < n {
        // Columns start..end, and where each one begins in `cells`.
        let mut end = start;
        let mut total = 0usize;
        fill.clear();
        match &counts {
            Some(counts) => {
                while let Some(&c) = counts.get(end) {
                    if end > start && total.saturating_add(c) > BLOCK_CELLS {
                        break;
                    }
                    fill.push(total);
                    total = total.saturating_add(c);
                    end = end.saturating_add(1);
                }
            }
            None => {
                end = start.saturating_add(fixed_block).min(n);
                for _ in start..end {
                    fill.push(total);
                    total = total.saturating_add(rows);
                }
            }
        }
        let begins = fill.clone();
        // Only the cells written below are read: no need to clear them.
        if cells.len() < total {
            cells.resize(total, (0, 0));
        }
        {
            // Plain slices keep the hot loop free of reloads of the vectors' headers.
            let (fill, cells) = (fill.as_mut_slice(), cells.as_mut_slice());
            for (i, s, pos) in pending.iter_mut() {
                let (cols, vals) = weights.row(*i);
                let (cols, vals) =
                    (cols.get(*pos..).unwrap_or(&[]), vals.get(*pos..).unwrap_or(&[]));
                let mut taken = 0usize;
                for (&j, &w) in cols.iter().zip(vals.iter()) {
                    let j = usize::from(j);
                    if j >= end {
                        break;
                    }
                    taken = taken.wrapping_add(1);
                    if w <= ZERO || j < start {
                        continue;
                    }
                    if let Some(slot) = fill.get_mut(j.wrapping_sub(start)) {
                        if let Some(cell) = cells.get_mut(*slot) {
                            *cell = (w.to_bits(), *s);
                        }
                        *slot = slot.wrapping_add(1);
                    }
                }
                *pos = pos.saturating_add(taken);
            }
        }
        pending.retain(|(i, _, pos)| *pos < weights.row(*i).0.len());
        for (lo, hi) in begins.iter().zip(fill.iter()) {
            let col = cells.get_mut(*lo..*hi).unwrap_or(&mut []);
            median.push(I32F32::from_bits(column_median(col, rows, stake_sum_bits, minority_bits)));
        }
        start = end;
    }
    median
}

/// Cells (value, stake) per column block of [`weighted_median_cols`] (1 MiB).
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
/// three-way partition around a median-of-three pivot; O(len) on average. After
/// `SELECT_ROUNDS` partitions (adversarial value orders) the rest is sorted instead, so the
/// worst case is O(len log len). Reorders `cells`.
fn weighted_select(cells: &mut [(i64, i64)], target: i64) -> Option<i64> {
    weighted_select_rounds(cells, target, SELECT_ROUNDS)
}

/// [`weighted_select`] with at most `rounds` partition rounds before sorting.
pub(super) fn weighted_select_rounds(
    cells: &mut [(i64, i64)],
    target: i64,
    rounds: usize,
) -> Option<i64> {
    let mut below: i64 = 0; // weight of values already known to lie below the current slice
    let mut slice: &mut [(i64, i64)] = cells;
    for _ in 0..rounds {
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
    slice.sort_unstable_by_key(|c| c.0);
    for &(v, w) in slice.iter() {
        below = below.saturating_add(w);
        if below > target {
            return Some(v);
        }
    }
    None
}

/// Partition rounds of [`weighted_select`] before it falls back to sorting.
const SELECT_ROUNDS: usize = 64;

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
