//! Sparse-matrix helpers of the epoch.
//!
//! A [`SparseMatrix`] stores one row per uid in compressed-sparse-row form (row offsets, a
//! column array and a value array), each row sorted by column with unique columns (see
//! [`read_rows`]). Every helper keeps that order and costs O(entries + n), never O(n²); the
//! merging helpers ([`interpolate`], [`ema`]) walk two rows side by side.
//!
//! The arithmetic is the reference chain's (`I32F32`, saturating multiplications and sums,
//! `safe_div` divisions); see [`super::math`]. The epoch uses fused passes
//! ([`row_normalize_matmul`], [`col_clip_in_place`], `bonds::classic`); the single steps
//! ([`row_normalize`], [`col_clip`], [`row_sums`], [`matmul`], [`col_normalize`], ...) are the
//! reference's operations one by one, against which the tests check the fused passes.

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
        SparseMatrix {
            offsets,
            cols: Vec::with_capacity(entries),
            vals: Vec::with_capacity(entries),
        }
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

    /// The entries of row `i` as `(column, value)` pairs.
    pub fn row_iter(&self, i: usize) -> impl Iterator<Item = (u16, I32F32)> + '_ {
        let (c, v) = self.row(i);
        c.iter().copied().zip(v.iter().copied())
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

    /// Keeps only the entries whose value satisfies `keep`, compacting in place.
    pub fn retain(&mut self, keep: impl Fn(I32F32) -> bool) {
        let mut write = 0usize;
        let mut lo = 0usize;
        for i in 0..self.rows() {
            let hi = self.offsets.get(i.saturating_add(1)).copied().unwrap_or(lo).max(lo);
            for read in lo..hi {
                let (Some(&j), Some(&x)) = (self.cols.get(read), self.vals.get(read)) else {
                    break;
                };
                if keep(x) {
                    if let (Some(cj), Some(cx)) =
                        (self.cols.get_mut(write), self.vals.get_mut(write))
                    {
                        *cj = j;
                        *cx = x;
                    }
                    write = write.saturating_add(1);
                }
            }
            if let Some(o) = self.offsets.get_mut(i.saturating_add(1)) {
                *o = write;
            }
            lo = hi;
        }
        self.cols.truncate(write);
        self.vals.truncate(write);
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
}

/// A read-only view of stored u16 rows (`Weights` / `Bonds`) as sparse rows over `n` columns.
///
/// Row `i` is empty when `i >= n` or `!use_row(i)`; otherwise its entries on columns `>= n` or
/// rejected by `keep(i, column)` are skipped and the values converted with `convert`. Stored
/// rows are strictly increasing in column and are read as they are; any other row is sorted
/// (stable) and a repeated column keeps its last value.
pub struct StoredRows<'a, U, K, C> {
    input: &'a [Vec<(u16, u16)>],
    n: usize,
    use_row: U,
    keep: K,
    convert: C,
}

impl<'a, U, K, C> StoredRows<'a, U, K, C>
where
    U: Fn(usize) -> bool,
    K: Fn(usize, u16) -> bool,
    C: Fn(u16) -> I32F32,
{
    /// Creates the view.
    pub fn new(input: &'a [Vec<(u16, u16)>], n: usize, use_row: U, keep: K, convert: C) -> Self {
        StoredRows { input, n, use_row, keep, convert }
    }

    /// Number of rows (`n`).
    pub fn rows(&self) -> usize {
        self.n
    }

    fn raw(&self, i: usize) -> &'a [(u16, u16)] {
        if i < self.n && (self.use_row)(i) {
            self.input.get(i).map_or(&[], |r| r.as_slice())
        } else {
            &[]
        }
    }

    fn accept(&self, i: usize, entry: &(u16, u16)) -> Option<(u16, I32F32)> {
        let (j, v) = *entry;
        (usize::from(j) < self.n && (self.keep)(i, j)).then(|| (j, (self.convert)(v)))
    }

    /// The entries of row `i`, in column order.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (u16, I32F32)> + '_ {
        let raw = self.raw(i);
        let increasing = raw.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0));
        let sorted: Option<SparseRow> = if increasing {
            None
        } else {
            let mut row: SparseRow = raw.iter().filter_map(|e| self.accept(i, e)).collect();
            row.sort_by_key(|e| e.0);
            let mut kept: SparseRow = Vec::with_capacity(row.len());
            for e in row {
                match kept.last_mut() {
                    Some(prev) if prev.0 == e.0 => *prev = e,
                    _ => kept.push(e),
                }
            }
            Some(kept)
        };
        let direct = if sorted.is_none() { raw } else { &[] };
        direct.iter().filter_map(move |e| self.accept(i, e)).chain(sorted.into_iter().flatten())
    }

    /// Saturating sum of each of the `n` columns.
    pub fn col_sums(&self) -> Vec<I32F32> {
        let mut sums = zeros(self.n);
        for i in 0..self.n {
            for (j, v) in self.row(i) {
                if let Some(s) = sums.get_mut(usize::from(j)) {
                    *s = s.saturating_add(v);
                }
            }
        }
        sums
    }

    /// The rows as a [`SparseMatrix`].
    pub fn to_matrix(&self) -> SparseMatrix {
        let capacity = (0..self.n).fold(0usize, |acc, i| acc.saturating_add(self.raw(i).len()));
        let mut m = SparseMatrix::with_capacity(self.n, capacity);
        for i in 0..self.n {
            for (j, v) in self.row(i) {
                m.push(j, v);
            }
            m.end_row();
        }
        m
    }
}

/// Reads stored u16 rows into a matrix of `n` rows (see [`StoredRows`]).
pub fn read_rows(
    input: &[Vec<(u16, u16)>],
    n: usize,
    use_row: impl Fn(usize) -> bool,
    convert: impl Fn(u16) -> I32F32,
    keep: impl Fn(usize, u16) -> bool,
) -> SparseMatrix {
    StoredRows::new(input, n, use_row, keep, convert).to_matrix()
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

/// [`row_normalize`] followed by [`matmul`]`(m, v, n)`, fused into one pass: normalises every
/// row in place and returns `Σ_i v_i · m_ij` of the normalised matrix.
pub fn row_normalize_matmul(m: &mut SparseMatrix, v: &[I32F32], n: usize) -> Vec<I32F32> {
    let mut out = zeros(n);
    for i in 0..m.rows() {
        let scale = v.get(i).copied().unwrap_or(ZERO);
        let (cols, vals) = m.row_mut(i);
        let total = saturating_sum(vals);
        if total > ZERO {
            let d = Divisor::new(total);
            for x in vals.iter_mut() {
                *x = d.div(*x);
            }
        }
        if scale != ZERO {
            for (j, w) in cols.iter().zip(vals.iter()) {
                if let Some(o) = out.get_mut(usize::from(*j)) {
                    *o = o.saturating_add(mul(scale, *w));
                }
            }
        }
    }
    out
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

/// Row sums and stake-weighted column sums of a clipped matrix (see [`col_clip_in_place`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClipSums {
    /// [`row_sums`] of the clipped matrix.
    pub row_sums: Vec<I32F32>,
    /// [`matmul`]`(clipped, v, n)`.
    pub weighted: Vec<I32F32>,
}

/// [`col_clip`] in place, fused with [`row_sums`] and [`matmul`]`(clipped, v, n)` of the
/// clipped matrix: one pass.
pub fn col_clip_in_place(
    m: &mut SparseMatrix,
    thresholds: &[I32F32],
    v: &[I32F32],
    n: usize,
) -> ClipSums {
    // Entries to drop are marked with a negative value (weights are never negative) and
    // removed afterwards, in the rare case there are any.
    const DROPPED: I32F32 = I32F32::from_bits(-1);
    let rows = m.rows();
    let mut row_sums = zeros(rows);
    let mut weighted = zeros(n);
    let mut any_dropped = false;
    for (i, row_sum) in row_sums.iter_mut().enumerate() {
        let scale = v.get(i).copied().unwrap_or(ZERO);
        let (cols, vals) = m.row_mut(i);
        let mut total = ZERO;
        for (j, w) in cols.iter().zip(vals.iter_mut()) {
            let c = thresholds.get(usize::from(*j)).copied().unwrap_or(ZERO);
            if c < *w {
                if c <= ZERO {
                    *w = DROPPED;
                    any_dropped = true;
                    continue;
                }
                *w = c;
            }
            total = total.saturating_add(*w);
            if let Some(o) = weighted.get_mut(usize::from(*j)) {
                *o = o.saturating_add(mul(scale, *w));
            }
        }
        *row_sum = total;
    }
    if any_dropped {
        m.retain(|x| x != DROPPED);
    }
    ClipSums { row_sums, weighted }
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

/// Iterator over the union of two rows sorted by column: yields `(column, value_a, value_b)`
/// once per column present in either row, in ascending column order (see [`merge_rows`]).
pub struct Merge<A: Iterator, B: Iterator> {
    a: core::iter::Peekable<A>,
    b: core::iter::Peekable<B>,
}

impl<A, B> Iterator for Merge<A, B>
where
    A: Iterator<Item = (u16, I32F32)>,
    B: Iterator<Item = (u16, I32F32)>,
{
    type Item = (u16, Option<I32F32>, Option<I32F32>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match (self.a.peek().copied(), self.b.peek().copied()) {
            (Some((ja, va)), Some((jb, vb))) => {
                if ja < jb {
                    self.a.next();
                    Some((ja, Some(va), None))
                } else if jb < ja {
                    self.b.next();
                    Some((jb, None, Some(vb)))
                } else {
                    self.a.next();
                    self.b.next();
                    Some((ja, Some(va), Some(vb)))
                }
            }
            (Some((ja, va)), None) => {
                self.a.next();
                Some((ja, Some(va), None))
            }
            (None, Some((jb, vb))) => {
                self.b.next();
                Some((jb, None, Some(vb)))
            }
            (None, None) => None,
        }
    }
}

/// Walks two rows sorted by column side by side: `(column, value_a, value_b)` once per column
/// present in either row, in ascending column order.
pub fn merge_rows<A, B>(a: A, b: B) -> Merge<A, B>
where
    A: Iterator<Item = (u16, I32F32)>,
    B: Iterator<Item = (u16, I32F32)>,
{
    Merge { a: a.peekable(), b: b.peekable() }
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
        for (j, va, vb) in merge_rows(a.row_iter(i), b.row_iter(i)) {
            let v1 = va.unwrap_or(ZERO);
            let v2 = vb.unwrap_or(ZERO);
            let x = v1.saturating_add(mul(ratio, v2.saturating_sub(v1)));
            if x > ZERO {
                out.push(j, x);
            }
        }
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
        for (j, vn, vo) in merge_rows(new.row_iter(i), old.row_iter(i)) {
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
        }
        out.end_row();
    }
    out
}
