//! Sparse-matrix helpers of the epoch.
//!
//! A [`SparseMatrix`] stores one row per uid in compressed-sparse-row form (row offsets, a
//! column array and a value array), each row sorted by column with unique columns (see
//! [`for_each_stored`]). Every helper keeps that order and costs O(entries + n), never O(n²);
//! [`interpolate`] walks two rows side by side.
//!
//! The arithmetic is the reference chain's (`I32F32`, saturating multiplications and sums,
//! `safe_div` divisions); see [`super::math`]. The epoch uses fused passes
//! ([`read_normalized`], [`col_clip_in_place`], `bonds::classic`, `bonds::yuma3`); the tests
//! check them against the reference's operations one by one (the previous implementation,
//! kept as a test-only copy in `reference`).

use super::math::{add, from_u16, mul, sub, zeros, Divisor, ONE, ZERO};
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

/// Whether a stored row is strictly increasing in column (as `set_weights` stores rows).
fn increasing(raw: &[(u16, u16)]) -> bool {
    raw.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0))
}

/// Calls `emit(column, value)` for the entries of a stored u16 row (`Weights` / `Bonds`) that
/// `keep` accepts, in column order. A strictly increasing row is read as it is; any other row is
/// filtered, sorted (stable) and a repeated column keeps its last value (built in `scratch`).
#[inline]
pub fn for_each_stored(
    raw: &[(u16, u16)],
    keep: impl Fn(u16) -> bool,
    scratch: &mut Vec<(u16, u16)>,
    mut emit: impl FnMut(u16, u16),
) {
    if increasing(raw) {
        for &(j, v) in raw {
            if keep(j) {
                emit(j, v);
            }
        }
        return;
    }
    scratch.clear();
    scratch.extend(raw.iter().filter(|e| keep(e.0)));
    scratch.sort_by_key(|e| e.0);
    let mut k = 0usize;
    while let Some(&(j, mut v)) = scratch.get(k) {
        k = k.saturating_add(1);
        // A repeated column keeps its last value.
        while let Some(&(j2, v2)) = scratch.get(k) {
            if j2 != j {
                break;
            }
            v = v2;
            k = k.saturating_add(1);
        }
        emit(j, v);
    }
}

/// The entries of a stored u16 row that `keep` accepts, in column order (see
/// [`for_each_stored`]), into `out` (cleared first).
pub fn stored_row_into(
    raw: &[(u16, u16)],
    keep: impl Fn(u16) -> bool,
    scratch: &mut Vec<(u16, u16)>,
    out: &mut Vec<(u16, u16)>,
) {
    out.clear();
    for_each_stored(raw, keep, scratch, |j, v| out.push((j, v)));
}

/// Reads the stored u16 `Weights` rows of `n` uids as fixed-point integers, row-normalised,
/// and returns them with `Σ_i v_i · m_ij` of the normalised matrix: the reference's read,
/// `row_normalize` and `matmul` in one pass, each row processed while it is in cache.
///
/// Row `i` is empty when `!use_row(i)`; otherwise its entries on columns `>= n` or rejected by
/// `row_keep(i)` are skipped ([`for_each_stored`]). A row is divided by its (saturating) sum
/// when that sum is positive.
pub fn read_normalized<U, R, K>(
    input: &[Vec<(u16, u16)>],
    n: usize,
    use_row: U,
    row_keep: R,
    v: &[I32F32],
) -> (SparseMatrix, Vec<I32F32>)
where
    U: Fn(usize) -> bool,
    R: Fn(usize) -> K,
    K: Fn(u16) -> bool,
{
    let used = || input.iter().enumerate().take(n).filter(|(i, _)| use_row(*i));
    let capacity = used().fold(0usize, |acc, (_, r)| acc.saturating_add(r.len()));
    let mut m = SparseMatrix::with_capacity(n, capacity);
    let mut out = zeros(n);
    let mut scratch: Vec<(u16, u16)> = Vec::new();
    for i in 0..n {
        let Some(raw) = input.get(i).filter(|r| !r.is_empty() && use_row(i)) else {
            m.end_row();
            continue;
        };
        let keep = row_keep(i);
        // The saturating fixed-point sum of the (non-negative, whole) values is their integer
        // sum, shifted, capped at the largest value (it fits 64 bits: at most 2^16 values
        // below 2^16).
        let mut sum = 0u64;
        for_each_stored(
            raw,
            |j| usize::from(j) < n && keep(j),
            &mut scratch,
            |j, w| {
                sum = sum.wrapping_add(u64::from(w));
                m.push(j, from_u16(w));
            },
        );
        m.end_row();
        let total = I32F32::from_bits(i64::try_from(sum << 32).unwrap_or(i64::MAX));
        let scale = v.get(i).copied().unwrap_or(ZERO);
        // (A zero total means every value is 0, adding nothing.)
        if total > ZERO {
            let d = Divisor::new(total);
            let (cols, vals) = m.row_mut(i);
            for (j, x) in cols.iter().zip(vals.iter_mut()) {
                *x = d.div(*x);
                if let Some(o) = out.get_mut(usize::from(*j)) {
                    *o = add(*o, mul(scale, *x));
                }
            }
        }
    }
    (m, out)
}

/// Saturating sum of each of the `n` columns (entries on columns `>= n` are ignored).
pub fn col_sums(m: &SparseMatrix, n: usize) -> Vec<I32F32> {
    let mut sums = zeros(n);
    for (j, v) in m.cols.iter().zip(m.vals.iter()) {
        if let Some(s) = sums.get_mut(usize::from(*j)) {
            *s = add(*s, *v);
        }
    }
    sums
}

/// Row sums and stake-weighted column sums of a clipped matrix (see [`col_clip_in_place`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClipSums {
    /// Saturating sum of each row of the clipped matrix.
    pub row_sums: Vec<I32F32>,
    /// `Σ_i v_i · clipped_ij` for each of the `n` columns.
    pub weighted: Vec<I32F32>,
}

/// Clips every entry at its column threshold, `min(w_ij, c_j)`, in place, an entry above a
/// threshold that is not positive being dropped (not stored as 0), as the reference's
/// `col_clip`; fused with the row sums and `Σ_i v_i · clipped_ij` of the clipped matrix: one
/// pass. With `products`, every kept entry is replaced by `v_i · clipped_ij` (the classic bond
/// delta of the entry, whose column sums are `weighted`).
pub fn col_clip_in_place(
    m: &mut SparseMatrix,
    thresholds: &[I32F32],
    v: &[I32F32],
    n: usize,
    products: bool,
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
            total = add(total, *w);
            let p = mul(scale, *w);
            if let Some(o) = weighted.get_mut(usize::from(*j)) {
                *o = add(*o, p);
            }
            if products {
                *w = p;
            }
        }
        *row_sum = total;
    }
    if any_dropped {
        m.retain(|x| x != DROPPED);
    }
    ClipSums { row_sums, weighted }
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
            let x = add(v1, mul(ratio, sub(v2, v1)));
            if x > ZERO {
                out.push(j, x);
            }
        }
        out.end_row();
    }
    out
}
