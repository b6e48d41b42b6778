//! Sparse-matrix helpers of the epoch.
//!
//! A matrix is one row per uid, each row a list of `(column uid, value)` entries. Rows built by
//! [`read_row`] are sorted by column with unique columns; every helper keeps that order, so
//! the merging helpers ([`interpolate`], [`ema`]) can walk two rows side by side. Every helper
//! costs O(number of entries + n), never O(n²).
//!
//! The arithmetic is the reference chain's (`I32F32`, saturating multiplications and sums,
//! `safe_div` divisions); see [`super::math`].

use super::math::{safe_div, zeros, ZERO};
use alloc::vec::Vec;
use substrate_fixed::types::I32F32;

/// One sparse row: `(column uid, value)` entries sorted by column, columns unique.
pub type SparseRow = Vec<(u16, I32F32)>;
/// One sparse row per uid.
pub type SparseMatrix = Vec<SparseRow>;

/// Reads a stored u16 row into a sparse row: entries on columns `>= n` or rejected by `keep`
/// are dropped, the rest is converted with `convert`, sorted by column (stable) and
/// de-duplicated keeping the last value of a column.
pub fn read_row(
    row: &[(u16, u16)],
    n: usize,
    convert: impl Fn(u16) -> I32F32,
    keep: impl Fn(u16) -> bool,
) -> SparseRow {
    let mut out: SparseRow = Vec::with_capacity(row.len());
    let mut sorted = true;
    let mut last: Option<u16> = None;
    for &(j, v) in row {
        if usize::from(j) >= n || !keep(j) {
            continue;
        }
        if let Some(prev) = last {
            if j <= prev {
                sorted = false;
            }
        }
        last = Some(j);
        out.push((j, convert(v)));
    }
    if !sorted {
        out.sort_by_key(|e| e.0);
        // Keep the last of every run of equal columns.
        let mut deduped: SparseRow = Vec::with_capacity(out.len());
        for e in out {
            match deduped.last_mut() {
                Some(prev) if prev.0 == e.0 => *prev = e,
                _ => deduped.push(e),
            }
        }
        out = deduped;
    }
    out
}

/// Saturating sum of each row.
pub fn row_sums(m: &[SparseRow]) -> Vec<I32F32> {
    m.iter().map(|row| row.iter().fold(ZERO, |acc, e| acc.saturating_add(e.1))).collect()
}

/// Divides each row by its sum when the sum is positive.
pub fn row_normalize(m: &mut [SparseRow]) {
    for row in m.iter_mut() {
        let total = row.iter().fold(ZERO, |acc, e| acc.saturating_add(e.1));
        if total > ZERO {
            for e in row.iter_mut() {
                e.1 = safe_div(e.1, total);
            }
        }
    }
}

/// Saturating sum of each of the `n` columns (entries on columns `>= n` are ignored).
pub fn col_sums(m: &[SparseRow], n: usize) -> Vec<I32F32> {
    let mut sums = zeros(n);
    for row in m {
        for &(j, v) in row {
            if let Some(s) = sums.get_mut(usize::from(j)) {
                *s = s.saturating_add(v);
            }
        }
    }
    sums
}

/// Divides each entry by its column's sum when that sum is non-zero.
pub fn col_normalize(m: &mut [SparseRow], n: usize) {
    let sums = col_sums(m, n);
    for row in m.iter_mut() {
        for e in row.iter_mut() {
            let s = sums.get(usize::from(e.0)).copied().unwrap_or(ZERO);
            if s != ZERO {
                e.1 = safe_div(e.1, s);
            }
        }
    }
}

/// Divides each entry by its column's maximum when that maximum is non-zero
/// (so the largest entry of every column becomes 1).
pub fn col_max_upscale(m: &mut [SparseRow], n: usize) {
    let mut maxes = zeros(n);
    for row in m.iter() {
        for &(j, v) in row {
            if let Some(mx) = maxes.get_mut(usize::from(j)) {
                if *mx < v {
                    *mx = v;
                }
            }
        }
    }
    for row in m.iter_mut() {
        for e in row.iter_mut() {
            let mx = maxes.get(usize::from(e.0)).copied().unwrap_or(ZERO);
            if mx != ZERO {
                e.1 = safe_div(e.1, mx);
            }
        }
    }
}

/// `result_j = Σ_i v_i · m_ij` over `n` columns (rows beyond `v` count with 0).
pub fn matmul(m: &[SparseRow], v: &[I32F32], n: usize) -> Vec<I32F32> {
    let mut out = zeros(n);
    for (i, row) in m.iter().enumerate() {
        let scale = v.get(i).copied().unwrap_or(ZERO);
        if scale == ZERO {
            continue;
        }
        for &(j, w) in row {
            if let Some(o) = out.get_mut(usize::from(j)) {
                *o = o.saturating_add(scale.saturating_mul(w));
            }
        }
    }
    out
}

/// `result_i = Σ_j v_j · m_ij`, one value per row (columns beyond `v` count with 0).
pub fn matmul_transpose(m: &[SparseRow], v: &[I32F32]) -> Vec<I32F32> {
    m.iter()
        .map(|row| {
            row.iter().fold(ZERO, |acc, &(j, w)| {
                let x = v.get(usize::from(j)).copied().unwrap_or(ZERO);
                acc.saturating_add(x.saturating_mul(w))
            })
        })
        .collect()
}

/// Clips every entry at its column threshold: `min(w_ij, c_j)`. An entry above a threshold
/// that is not positive is dropped (not stored as 0), as in the reference.
pub fn col_clip(m: &[SparseRow], thresholds: &[I32F32]) -> SparseMatrix {
    m.iter()
        .map(|row| {
            let mut out: SparseRow = Vec::with_capacity(row.len());
            for &(j, w) in row {
                let c = thresholds.get(usize::from(j)).copied().unwrap_or(ZERO);
                if c < w {
                    if c > ZERO {
                        out.push((j, c));
                    }
                } else {
                    out.push((j, w));
                }
            }
            out
        })
        .collect()
}

/// Multiplies row `i` by `v_i` (rows beyond `v` are dropped, as in the reference).
pub fn row_scale(m: &[SparseRow], v: &[I32F32]) -> SparseMatrix {
    m.iter()
        .zip(v.iter())
        .map(|(row, &s)| row.iter().map(|&(j, w)| (j, w.saturating_mul(s))).collect())
        .collect()
}

/// Walks two sorted rows side by side, calling `f(column, value_a, value_b)` once per column
/// present in either row, in ascending column order.
pub fn merge_rows(
    a: &[(u16, I32F32)],
    b: &[(u16, I32F32)],
    mut f: impl FnMut(u16, Option<I32F32>, Option<I32F32>),
) {
    let mut ai = a.iter().peekable();
    let mut bi = b.iter().peekable();
    loop {
        match (ai.peek().copied(), bi.peek().copied()) {
            (Some(&(ja, va)), Some(&(jb, vb))) => {
                if ja < jb {
                    f(ja, Some(va), None);
                    ai.next();
                } else if jb < ja {
                    f(jb, None, Some(vb));
                    bi.next();
                } else {
                    f(ja, Some(va), Some(vb));
                    ai.next();
                    bi.next();
                }
            }
            (Some(&(ja, va)), None) => {
                f(ja, Some(va), None);
                ai.next();
            }
            (None, Some(&(jb, vb))) => {
                f(jb, None, Some(vb));
                bi.next();
            }
            (None, None) => break,
        }
    }
}

/// Element-wise `a + ratio · (b - a)` (missing entries count as 0). `ratio == 0` returns `a`,
/// `ratio == 1` returns `b` unchanged; otherwise only positive results are kept.
pub fn interpolate(a: &[SparseRow], b: &[SparseRow], ratio: I32F32) -> SparseMatrix {
    if ratio == ZERO {
        return a.to_vec();
    }
    if ratio == super::math::ONE {
        return b.to_vec();
    }
    if a.len() != b.len() {
        return b.to_vec();
    }
    a.iter()
        .zip(b.iter())
        .map(|(ra, rb)| {
            let mut out: SparseRow = Vec::with_capacity(ra.len().max(rb.len()));
            merge_rows(ra, rb, |j, va, vb| {
                let v1 = va.unwrap_or(ZERO);
                let v2 = vb.unwrap_or(ZERO);
                let x = v1.saturating_add(ratio.saturating_mul(v2.saturating_sub(v1)));
                if x > ZERO {
                    out.push((j, x));
                }
            });
            out
        })
        .collect()
}

/// Exponential moving average `alpha · new + (1 - alpha) · old` per entry (missing entries
/// count as 0); only positive results are kept. Rows of `old` beyond `new` are ignored, rows
/// of `new` beyond `old` use an empty old row.
pub fn ema(new: &[SparseRow], old: &[SparseRow], alpha: I32F32) -> SparseMatrix {
    let one_minus_alpha = super::math::ONE.saturating_sub(alpha);
    new.iter()
        .enumerate()
        .map(|(i, rn)| {
            let ro: &[(u16, I32F32)] = old.get(i).map(|r| r.as_slice()).unwrap_or(&[]);
            let mut out: SparseRow = Vec::with_capacity(rn.len().max(ro.len()));
            merge_rows(rn, ro, |j, vn, vo| {
                let mut x = ZERO;
                if let Some(vn) = vn {
                    x = x.saturating_add(alpha.saturating_mul(vn));
                }
                if let Some(vo) = vo {
                    x = x.saturating_add(one_minus_alpha.saturating_mul(vo));
                }
                if x > ZERO {
                    out.push((j, x));
                }
            });
            out
        })
        .collect()
}
