//! Sparse-matrix helpers of the epoch.
//!
//! A [`SparseMatrix`] stores one row per uid in compressed-sparse-row form (row offsets, a
//! column array and a value array), each row sorted by column with unique columns (see
//! [`read_rows`]). Every helper keeps that order and costs O(entries + n), never O(n²); the
//! merging helpers ([`interpolate`], [`ema`]) walk two rows side by side.
//!
//! The arithmetic is the reference chain's (`I32F32`, saturating multiplications and sums,
//! `safe_div` divisions); see [`super::math`].

use super::math::{mul, zeros, Divisor, ONE, ZERO};
use alloc::vec::Vec;
use substrate_fixed::types::I32F32;

/// One sparse row as a list of `(column uid, value)` entries.
pub type SparseRow = Vec<(u16, I32F32)>;

/// Compressed sparse rows: row `i` holds the entries `offsets[i]..offsets[i + 1]` of `cols`
/// and `vals`, sorted by column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SparseMatrix {
    offsets: Vec<usize>,
    cols: Vec<u16>,
    vals: Vec<I32F32>,
}

impl Default for SparseMatrix {
    fn default() -> Self {
        Self::with_capacity(0, 0)
    }
}

impl SparseMatrix {
    /// Empty matrix (no rows) with room for `rows` rows and `entries` entries.
    pub fn with_capacity(rows: usize, entries: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows.saturating_add(1));
        offsets.push(0);
        SparseMatrix { offsets, cols: Vec::with_capacity(entries), vals: Vec::with_capacity(entries) }
    }

    /// Builds a matrix from rows of `(column, value)` entries, taken as they are.
    pub fn from_rows(rows: &[SparseRow]) -> Self {
        let entries = rows.iter().map(|r| r.len()).fold(0usize, |a, b| a.saturating_add(b));
        let mut m = Self::with_capacity(rows.len(), entries);
        for row in rows {
            for &(j, v) in row {
                m.push(j, v);
            }
            m.end_row();
        }
        m
    }

    /// Appends an entry to the row being built.
    #[inline]
    pub fn push(&mut self, col: u16, val: I32F32) {
        self.cols.push(col);
        self.vals.push(val);
    }

    /// Closes the row being built.
    #[inline]
    pub fn end_row(&mut self) {
        self.offsets.push(self.cols.len());
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Number of stored entries.
    pub fn entries(&self) -> usize {
        self.cols.len()
    }

    fn range(&self, i: usize) -> (usize, usize) {
        let lo = self.offsets.get(i).copied().unwrap_or(0);
        let hi = self.offsets.get(i.saturating_add(1)).copied().unwrap_or(lo);
        (lo, hi.max(lo))
    }

    /// Columns and values of row `i` (empty when out of range).
    #[inline]
    pub fn row(&self, i: usize) -> (&[u16], &[I32F32]) {
        let (lo, hi) = self.range(i);
        (self.cols.get(lo..hi).unwrap_or(&[]), self.vals.get(lo..hi).unwrap_or(&[]))
    }

    /// Columns and mutable values of row `i` (empty when out of range).
    #[inline]
    pub fn row_mut(&mut self, i: usize) -> (&[u16], &mut [I32F32]) {
        let (lo, hi) = self.range(i);
        (self.cols.get(lo..hi).unwrap_or(&[]), self.vals.get_mut(lo..hi).unwrap_or(&mut []))
    }

    /// All columns and values, row after row.
    pub fn entries_mut(&mut self) -> (&[u16], &mut [I32F32]) {
        (&self.cols, &mut self.vals)
    }

    /// Rows as lists of `(column, value)` entries.
    pub fn to_rows(&self) -> Vec<SparseRow> {
        (0..self.rows())
            .map(|i| {
                let (c, v) = self.row(i);
                c.iter().copied().zip(v.iter().copied()).collect()
            })
            .collect()
    }

    /// Rows with every value mapped by `f`.
    pub fn map_rows<T>(&self, mut f: impl FnMut(I32F32) -> T) -> Vec<Vec<(u16, T)>> {
        (0..self.rows())
            .map(|i| {
                let (c, v) = self.row(i);
                c.iter().zip(v.iter()).map(|(j, x)| (*j, f(*x))).collect()
            })
            .collect()
    }
}

/// Reads stored u16 rows into a matrix of `n` rows. Row `i` is read only if `use_row(i)`; its
/// entries on columns `>= n` or rejected by `keep(i, column)` are dropped, the rest converted
/// with `convert`. Rows are sorted by column (stable) and a repeated column keeps its last
/// value.
pub fn read_rows(
    input: &[Vec<(u16, u16)>],
    n: usize,
    use_row: impl Fn(usize) -> bool,
    convert: impl Fn(u16) -> I32F32,
    keep: impl Fn(usize, u16) -> bool,
) -> SparseMatrix {
    let capacity = input
        .iter()
        .take(n)
        .enumerate()
        .filter(|(i, _)| use_row(*i))
        .fold(0usize, |acc, (_, r)| acc.saturating_add(r.len()));
    let mut m = SparseMatrix::with_capacity(n, capacity);
    for i in 0..n {
        let row: &[(u16, u16)] = if use_row(i) { input.get(i).map_or(&[], |r| r.as_slice()) } else { &[] };
        let start = m.entries();
        let mut sorted = true;
        let mut last: Option<u16> = None;
        for &(j, v) in row {
            if usize::from(j) >= n || !keep(i, j) {
                continue;
            }
            if last.is_some_and(|prev| j <= prev) {
                sorted = false;
            }
            last = Some(j);
            m.push(j, convert(v));
        }
        if !sorted {
            sort_tail(&mut m, start);
        }
        m.end_row();
    }
    m
}

/// Sorts the entries from `start` on by column (stable) and keeps the last of equal columns.
fn sort_tail(m: &mut SparseMatrix, start: usize) {
    let cols = m.cols.split_off(start.min(m.cols.len()));
    let vals = m.vals.split_off(start.min(m.vals.len()));
    let mut tail: SparseRow = cols.into_iter().zip(vals).collect();
    tail.sort_by_key(|e| e.0);
    let mut kept: SparseRow = Vec::with_capacity(tail.len());
    for e in tail {
        match kept.last_mut() {
            Some(prev) if prev.0 == e.0 => *prev = e,
            _ => kept.push(e),
        }
    }
    for (j, v) in kept {
        m.push(j, v);
    }
}

fn saturating_sum(v: &[I32F32]) -> I32F32 {
    v.iter().fold(ZERO, |acc, x| acc.saturating_add(*x))
}

/// Saturating sum of each row.
pub fn row_sums(m: &SparseMatrix) -> Vec<I32F32> {
    (0..m.rows()).map(|i| saturating_sum(m.row(i).1)).collect()
}

/// Divides each row by its sum when the sum is positive.
pub fn row_normalize(m: &mut SparseMatrix) {
    for i in 0..m.rows() {
        let (_, vals) = m.row_mut(i);
        let total = saturating_sum(vals);
        if total > ZERO {
            let d = Divisor::new(total);
            for v in vals.iter_mut() {
                *v = d.div(*v);
            }
        }
    }
}

/// Saturating sum of each of the `n` columns (entries on columns `>= n` are ignored).
pub fn col_sums(m: &SparseMatrix, n: usize) -> Vec<I32F32> {
    let mut sums = zeros(n);
    for (j, v) in m.cols.iter().zip(m.vals.iter()) {
        if let Some(s) = sums.get_mut(usize::from(*j)) {
            *s = s.saturating_add(*v);
        }
    }
    sums
}

/// One divisor per value, the identity for zero values ("divide unless zero").
pub fn divisors_unless_zero(values: &[I32F32]) -> Vec<Divisor> {
    values.iter().map(|s| if *s == ZERO { Divisor::identity() } else { Divisor::new(*s) }).collect()
}

/// Divides every entry by `divisors[column]` (entries on columns without a divisor are kept).
pub fn divide_cols(m: &mut SparseMatrix, divisors: &[Divisor]) {
    let (cols, vals) = m.entries_mut();
    for (j, v) in cols.iter().zip(vals.iter_mut()) {
        if let Some(d) = divisors.get(usize::from(*j)) {
            *v = d.div(*v);
        }
    }
}

/// Divides each entry by its column's sum when that sum is non-zero.
pub fn col_normalize(m: &mut SparseMatrix, n: usize) {
    let divisors = divisors_unless_zero(&col_sums(m, n));
    divide_cols(m, &divisors);
}

/// Divides each entry by its column's maximum when that maximum is non-zero (so the largest
/// entry of every column becomes 1).
pub fn col_max_upscale(m: &mut SparseMatrix, n: usize) {
    let mut maxes = zeros(n);
    for (j, v) in m.cols.iter().zip(m.vals.iter()) {
        if let Some(mx) = maxes.get_mut(usize::from(*j)) {
            if *mx < *v {
                *mx = *v;
            }
        }
    }
    let divisors = divisors_unless_zero(&maxes);
    divide_cols(m, &divisors);
}

/// `result_j = Σ_i v_i · m_ij` over `n` columns (rows beyond `v` count with 0).
pub fn matmul(m: &SparseMatrix, v: &[I32F32], n: usize) -> Vec<I32F32> {
    let mut out = zeros(n);
    for i in 0..m.rows() {
        let scale = v.get(i).copied().unwrap_or(ZERO);
        if scale == ZERO {
            continue;
        }
        let (cols, vals) = m.row(i);
        for (j, w) in cols.iter().zip(vals.iter()) {
            if let Some(o) = out.get_mut(usize::from(*j)) {
                *o = o.saturating_add(mul(scale, *w));
            }
        }
    }
    out
}

/// `result_i = Σ_j v_j · m_ij`, one value per row (columns beyond `v` count with 0).
pub fn matmul_transpose(m: &SparseMatrix, v: &[I32F32]) -> Vec<I32F32> {
    (0..m.rows())
        .map(|i| {
            let (cols, vals) = m.row(i);
            cols.iter().zip(vals.iter()).fold(ZERO, |acc, (j, w)| {
                let x = v.get(usize::from(*j)).copied().unwrap_or(ZERO);
                acc.saturating_add(mul(x, *w))
            })
        })
        .collect()
}

/// Clips every entry at its column threshold: `min(w_ij, c_j)`. An entry above a threshold
/// that is not positive is dropped (not stored as 0), as in the reference.
pub fn col_clip(m: &SparseMatrix, thresholds: &[I32F32]) -> SparseMatrix {
    let mut out = SparseMatrix::with_capacity(m.rows(), m.entries());
    for i in 0..m.rows() {
        let (cols, vals) = m.row(i);
        for (&j, &w) in cols.iter().zip(vals.iter()) {
            let c = thresholds.get(usize::from(j)).copied().unwrap_or(ZERO);
            if c < w {
                if c > ZERO {
                    out.push(j, c);
                }
            } else {
                out.push(j, w);
            }
        }
        out.end_row();
    }
    out
}

/// Multiplies row `i` by `v_i` in place; rows beyond `v` are emptied (the reference drops
/// them).
pub fn scale_rows(m: &mut SparseMatrix, v: &[I32F32]) {
    if m.rows() > v.len() {
        let keep = m.offsets.get(v.len()).copied().unwrap_or(0);
        m.cols.truncate(keep);
        m.vals.truncate(keep);
        for o in m.offsets.iter_mut().skip(v.len().saturating_add(1)) {
            *o = keep;
        }
    }
    for (i, s) in v.iter().enumerate().take(m.rows()) {
        let (_, vals) = m.row_mut(i);
        for x in vals.iter_mut() {
            *x = mul(*x, *s);
        }
    }
}

/// Walks two sorted rows side by side, calling `f(column, value_a, value_b)` once per column
/// present in either row, in ascending column order.
pub fn merge_rows(
    a: (&[u16], &[I32F32]),
    b: (&[u16], &[I32F32]),
    mut f: impl FnMut(u16, Option<I32F32>, Option<I32F32>),
) {
    let mut ai = a.0.iter().copied().zip(a.1.iter().copied()).peekable();
    let mut bi = b.0.iter().copied().zip(b.1.iter().copied()).peekable();
    loop {
        match (ai.peek().copied(), bi.peek().copied()) {
            (Some((ja, va)), Some((jb, vb))) => {
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
            (Some((ja, va)), None) => {
                f(ja, Some(va), None);
                ai.next();
            }
            (None, Some((jb, vb))) => {
                f(jb, None, Some(vb));
                bi.next();
            }
            (None, None) => break,
        }
    }
}

/// Element-wise `a + ratio · (b - a)` (missing entries count as 0). `ratio == 0` returns `a`,
/// `ratio == 1` returns `b` unchanged; otherwise only positive results are kept.
pub fn interpolate(a: SparseMatrix, b: SparseMatrix, ratio: I32F32) -> SparseMatrix {
    if ratio == ZERO {
        return a;
    }
    if ratio == ONE || a.rows() != b.rows() {
        return b;
    }
    let mut out = SparseMatrix::with_capacity(a.rows(), a.entries().max(b.entries()));
    for i in 0..a.rows() {
        merge_rows(a.row(i), b.row(i), |j, va, vb| {
            let v1 = va.unwrap_or(ZERO);
            let v2 = vb.unwrap_or(ZERO);
            let x = v1.saturating_add(mul(ratio, v2.saturating_sub(v1)));
            if x > ZERO {
                out.push(j, x);
            }
        });
        out.end_row();
    }
    out
}

/// Exponential moving average `alpha · new + (1 - alpha) · old` per entry (missing entries
/// count as 0), one row per row of `new`; only positive results are kept.
pub fn ema(new: &SparseMatrix, old: &SparseMatrix, alpha: I32F32) -> SparseMatrix {
    let one_minus_alpha = ONE.saturating_sub(alpha);
    let mut out = SparseMatrix::with_capacity(new.rows(), new.entries().max(old.entries()));
    for i in 0..new.rows() {
        merge_rows(new.row(i), old.row(i), |j, vn, vo| {
            let mut x = ZERO;
            if let Some(vn) = vn {
                x = x.saturating_add(mul(alpha, vn));
            }
            if let Some(vo) = vo {
                x = x.saturating_add(mul(one_minus_alpha, vo));
            }
            if x > ZERO {
                out.push(j, x);
            }
        });
        out.end_row();
    }
    out
}
