//! Bonds and dividends, in the two modes of the reference chain.
//!
//! * Classic Yuma: the stored (column max-upscaled) bonds are column-normalised; the new
//!   bonds are `colnorm(alpha · colnorm(W_b ∘ S) + (1 - alpha) · B)`; dividends are
//!   `normalise(B · incentive)`; the bonds are stored column max-upscaled.
//! * Yuma-3: the stored bonds are plain u16 proportions; the EMA runs directly on the bond
//!   weights, `B' = (1 - a_ij) B + a_ij W_b`, with a fixed `a` or (liquid alpha) a per-entry
//!   sigmoid; dividends are `normalise(S_i · Σ_j colnorm(B')_ij · incentive_j)`; the bonds are
//!   stored unscaled.
//!
//! All work is per stored entry (no dense rows, no n × n alpha matrix): the previous bonds are
//! read straight from their stored rows, the new bonds are built directly as their output rows
//! and the intermediate matrices of the reference are never materialised; the u16 storage rows
//! are built in the last pass, after the weights are freed.

use super::math::{
    add, clamp, exp_safe_many, from_u16, mul, normalize, one_over, safe_div_64, sub, to_u16,
    u16_proportion, zeros, Divisor, EXP_LANES, ONE, ZERO,
};
use super::sparse::{stored_row_into, ClipSums, SparseMatrix, SparseRow};
use alloc::vec::Vec;
use substrate_fixed::types::{I32F32, I64F64};

/// New bonds, their storage rows and the dividends they earn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BondsOutcome {
    /// New bonds, one row per uid (classic: column max-upscaled; Yuma-3: the EMA values).
    pub bonds: Vec<SparseRow>,
    /// The u16 `Bonds` rows to store: `bonds` as u16 for the uids to store, empty otherwise.
    pub stored: Vec<Vec<(u16, u16)>>,
    /// Normalised dividends, one per uid.
    pub dividends: Vec<I32F32>,
}

/// The previous bonds as stored: one u16 row per uid (rows beyond the subnet ignored), and
/// which columns count (recently registered miners and out-of-range uids do not). Rows are
/// read as [`super::sparse::for_each_stored`] reads them: a strictly increasing row whose
/// columns all count (the usual case) is used as it is, any other one is filtered and sorted
/// into a buffer.
pub struct OldBonds<'a> {
    rows: &'a [Vec<(u16, u16)>],
    /// Whether a bond on column `j` counts, for the `n` columns.
    keep: Vec<bool>,
    /// Whether stored row `i` is strictly increasing with every column kept.
    clean: Vec<bool>,
}

impl<'a> OldBonds<'a> {
    /// The first `n` stored rows of `rows`, bonds on column `j` counting when `keep(j)`.
    pub fn new(rows: &'a [Vec<(u16, u16)>], n: usize, keep: impl Fn(usize) -> bool) -> Self {
        Self::with_sums(rows, n, keep, &mut [])
    }

    /// [`Self::new`], also adding the bonds, read as fixed-point integers, to the column sums
    /// `sums` (if not empty; saturating, so in any order).
    fn with_sums(
        rows: &'a [Vec<(u16, u16)>],
        n: usize,
        keep: impl Fn(usize) -> bool,
        sums: &mut [I32F32],
    ) -> Self {
        let keep: Vec<bool> = (0..n).map(keep).collect();
        let with_sums = !sums.is_empty();
        let clean: Vec<bool> = (0..n)
            .map(|i| {
                let raw = rows.get(i).map_or(&[][..], |r| r.as_slice());
                let mut prev: i32 = -1;
                let clean = raw.iter().all(|&(j, _)| {
                    let ok = i32::from(j) > prev && keep.get(usize::from(j)).copied() == Some(true);
                    prev = i32::from(j);
                    ok
                });
                if clean && with_sums {
                    for &(j, v) in raw {
                        if let Some(s) = sums.get_mut(usize::from(j)) {
                            *s = add(*s, from_u16(v));
                        }
                    }
                }
                clean
            })
            .collect();
        let old = OldBonds { rows, keep, clean };
        if with_sums {
            let (mut buf, mut scratch) = (Vec::new(), Vec::new());
            for i in 0..n {
                if !old.clean.get(i).copied().unwrap_or(true) {
                    for &(j, v) in old.row(i, &mut buf, &mut scratch) {
                        if let Some(s) = sums.get_mut(usize::from(j)) {
                            *s = add(*s, from_u16(v));
                        }
                    }
                }
            }
        }
        old
    }

    /// [`Self::new`] with the column sums of the bonds read as fixed-point integers (the
    /// classic bonds' column normalisation).
    pub fn new_with_sums(
        rows: &'a [Vec<(u16, u16)>],
        n: usize,
        keep: impl Fn(usize) -> bool,
    ) -> (Self, Vec<I32F32>) {
        let mut sums = zeros(n);
        let old = Self::with_sums(rows, n, keep, &mut sums);
        (old, sums)
    }

    /// Filtered row `i`, sorted by column: the stored row itself, or `buf` filled from it.
    fn row<'s>(
        &'s self,
        i: usize,
        buf: &'s mut Vec<(u16, u16)>,
        scratch: &mut Vec<(u16, u16)>,
    ) -> &'s [(u16, u16)] {
        let raw = self.rows.get(i).map_or(&[][..], |r| r.as_slice());
        if self.clean.get(i).copied().unwrap_or(false) {
            return raw;
        }
        let keep = |j: u16| self.keep.get(usize::from(j)).copied().unwrap_or(false);
        stored_row_into(raw, keep, scratch, buf);
        buf
    }

    /// Number of rows (`n`).
    fn rows(&self) -> usize {
        self.keep.len()
    }
}

/// Column index past every `u16` column: marks an exhausted row in the merges below.
const END: u32 = 1 << 16;

/// Column of entry `k` of a row, or [`END`].
#[inline(always)]
fn col_at(cols: &[u16], k: usize) -> u32 {
    cols.get(k).map_or(END, |j| u32::from(*j))
}

/// Column of entry `k` of a stored row, or [`END`].
#[inline(always)]
fn stored_col_at(row: &[(u16, u16)], k: usize) -> u32 {
    row.get(k).map_or(END, |e| u32::from(e.0))
}

/// EMA factor of the bonds: `1 - bonds_moving_average / 1e6`.
pub fn moving_average_alpha(bonds_moving_average: u64) -> I32F32 {
    let bma = safe_div_64(
        I64F64::saturating_from_num(bonds_moving_average),
        I64F64::saturating_from_num(1_000_000_u32),
    );
    ONE.saturating_sub(I32F32::saturating_from_num(bma))
}

/// Classic Yuma bonds. `products` holds the bond deltas `W_b ∘ S` (each bond weight times its
/// row's active stake) and `delta_sums` their column sums; `old` the previous bonds as stored
/// (u16 values read as fixed-point integers) and `old_sums` their column sums
/// ([`OldBonds::new_with_sums`]); `store[i]` whether uid `i` gets a storage row.
///
/// Computes, with the reference's arithmetic and rounding,
/// `B = colnorm(alpha · colnorm(W_b ∘ S) + (1 - alpha) · colnorm(old))`,
/// `dividends = normalise(B · incentive)`, and `B` column max-upscaled, the form it is stored
/// in. Two passes over the entries (the EMA with the column sums and maxima of its result;
/// normalisation, dividends and upscaling): every value is computed
/// exactly as in the reference, only the intermediate matrices are never stored. The column
/// maximum of the normalised bonds is the normalised column maximum of the EMA, because
/// dividing by the (positive) column sum is monotonic and exact for values up to that sum.
#[allow(clippy::too_many_arguments)]
pub fn classic(
    products: SparseMatrix,
    delta_sums: &[I32F32],
    old: &OldBonds<'_>,
    old_sums: &[I32F32],
    incentive: &[I32F32],
    n: usize,
    alpha: I32F32,
    store: &[bool],
) -> BondsOutcome {
    let rows = products.rows();
    let mut buf: Vec<(u16, u16)> = Vec::new();
    let mut scratch: Vec<(u16, u16)> = Vec::new();

    // EMA of the column-normalised delta and old bonds; positive entries kept, with their
    // column sums and maxima. The rows are built directly in their output form.
    let one_minus_alpha = ONE.saturating_sub(alpha);
    let mut cols_state: Vec<EmaColumn> = old_sums
        .iter()
        .chain(core::iter::repeat(&ZERO))
        .take(n)
        .zip(delta_sums.iter().chain(core::iter::repeat(&ZERO)))
        .map(|(o, d)| EmaColumn {
            delta: divisor_unless_zero(*d),
            old: divisor_unless_zero(*o),
            sum: ZERO,
            max: ZERO,
        })
        .collect();
    let mut bonds: Vec<SparseRow> = Vec::with_capacity(rows);
    for i in 0..rows {
        let old_row = if i < old.rows() { old.row(i, &mut buf, &mut scratch) } else { &[] };
        let (cols, vals) = products.row(i);
        let mut row: SparseRow = Vec::with_capacity(cols.len().max(old_row.len()));
        // Both rows side by side: x = alpha · delta (if any) + (1 - alpha) · old (if any).
        let delta = |c: &EmaColumn, p: I32F32| mul(alpha, c.delta.div(p));
        let decay = |c: &EmaColumn, o: u16| mul(one_minus_alpha, c.old.div(from_u16(o)));
        let (mut a, mut b) = (0usize, 0usize);
        loop {
            // The run of columns present in both rows (usually all of them).
            let both = cols
                .get(a..)
                .unwrap_or(&[])
                .iter()
                .zip(vals.get(a..).unwrap_or(&[]).iter())
                .zip(old_row.get(b..).unwrap_or(&[]));
            let mut run = 0usize;
            for ((&j, &p), &(jo, o)) in both {
                if j != jo {
                    break;
                }
                run = run.wrapping_add(1);
                if let Some(c) = cols_state.get_mut(usize::from(j)) {
                    let x = add(delta(c, p), decay(c, o));
                    c.push(&mut row, j, x);
                }
            }
            a = a.wrapping_add(run);
            b = b.wrapping_add(run);
            // Then one column present in one row only.
            let (ja, jb) = (col_at(cols, a), stored_col_at(old_row, b));
            let j = ja.min(jb);
            let (Ok(j16), Some(c)) = (u16::try_from(j), cols_state.get_mut(j as usize)) else {
                break;
            };
            let x = if ja == j {
                a = a.wrapping_add(1);
                delta(c, vals.get(a.wrapping_sub(1)).copied().unwrap_or(ZERO))
            } else {
                b = b.wrapping_add(1);
                decay(c, old_row.get(b.wrapping_sub(1)).map_or(0, |e| e.1))
            };
            c.push(&mut row, j16, x);
        }
        bonds.push(row);
    }
    // Free the deltas before the storage rows are allocated.
    drop(products);

    // Column-normalise, collect dividends and upscale by the column maxima in one pass.
    let final_cols: Vec<FinalColumn> = cols_state
        .iter()
        .zip(incentive.iter().chain(core::iter::repeat(&ZERO)))
        .map(|(c, inc)| {
            let sum = divisor_unless_zero(c.sum);
            FinalColumn { sum, max: divisor_unless_zero(sum.div(c.max)), incentive: *inc }
        })
        .collect();
    drop(cols_state);
    let mut stored: Vec<Vec<(u16, u16)>> = Vec::with_capacity(rows);
    let mut dividends: Vec<I32F32> = Vec::with_capacity(rows);
    for (i, row) in bonds.iter_mut().enumerate() {
        let mut acc = ZERO;
        for (j, v) in row.iter_mut() {
            let Some(c) = final_cols.get(usize::from(*j)) else { continue };
            let b = c.sum.div(*v);
            acc = add(acc, mul(c.incentive, b));
            *v = c.max.div(b);
        }
        dividends.push(acc);
        stored.push(if store.get(i).copied().unwrap_or(false) {
            row.iter().map(|(j, v)| (*j, to_u16(*v))).collect()
        } else {
            Vec::new()
        });
    }
    normalize(&mut dividends);
    BondsOutcome { bonds, stored, dividends }
}

/// Per-column state of the classic EMA pass.
struct EmaColumn {
    /// Divisor of the bond deltas (their column sum, unless zero).
    delta: Divisor,
    /// Divisor of the old bonds (their column sum, unless zero).
    old: Divisor,
    /// Saturating sum of the new bonds.
    sum: I32F32,
    /// Maximum of the new bonds (0 when there are none).
    max: I32F32,
}

impl EmaColumn {
    /// Keeps a positive new bond `x` on column `j`.
    #[inline(always)]
    fn push(&mut self, row: &mut SparseRow, j: u16, x: I32F32) {
        if x > ZERO {
            row.push((j, x));
            self.sum = add(self.sum, x);
            self.max = self.max.max(x);
        }
    }
}

/// Per-column constants of the classic normalisation pass.
struct FinalColumn {
    /// Divisor of the new bonds (their column sum, unless zero).
    sum: Divisor,
    /// Divisor of the normalised bonds (their column maximum, unless zero).
    max: Divisor,
    /// Incentive of the column.
    incentive: I32F32,
}

/// Division by `value`, or the identity when `value` is zero ("divide unless zero").
fn divisor_unless_zero(value: I32F32) -> Divisor {
    if value == ZERO {
        Divisor::identity()
    } else {
        Divisor::new(value)
    }
}

/// Liquid-alpha settings of Yuma-3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidAlpha {
    /// Lower bound of the per-entry alpha.
    pub low: I32F32,
    /// Upper bound of the per-entry alpha.
    pub high: I32F32,
    /// Sigmoid steepness (the sigmoid uses `steepness / 100`).
    pub steepness: I32F32,
}

impl LiquidAlpha {
    /// Reads the stored u16 bounds and i16 steepness.
    pub fn new(alpha_low: u16, alpha_high: u16, steepness: i16) -> Self {
        Self {
            low: u16_proportion(alpha_low),
            high: u16_proportion(alpha_high),
            steepness: I32F32::from_num(steepness),
        }
    }

    /// How far the weight is above consensus (buying, when `weight >= bond`) or below the
    /// bond (selling), clamped to `[0, 1]`. The alpha of an entry depends on this alone.
    #[inline]
    pub fn diff(consensus: I32F32, weight: I32F32, bond: I32F32) -> I32F32 {
        if weight >= bond {
            clamp(sub(weight, consensus), ZERO, ONE)
        } else {
            clamp(sub(bond, weight), ZERO, ONE)
        }
    }

    /// The slope of the sigmoid, `-steepness / 100`.
    fn slope(&self) -> I32F32 {
        self.steepness.saturating_div(I32F32::from_num(-100))
    }

    /// The argument of the sigmoid's `exp` for a [`Self::diff`] value.
    #[inline]
    fn exp_arg(slope: I32F32, diff: I32F32) -> I32F32 {
        let half = I32F32::from_bits(1 << 31);
        mul(slope, sub(diff, half))
    }

    /// Alpha from the sigmoid's `exp` value `e`: `low + (high - low) / (1 + e)`, clamped to
    /// `[low, high]`.
    #[inline]
    fn alpha_of_exp(&self, e: I32F32) -> I32F32 {
        // `1 + e >= 1`, so the division cannot fail; with `e >= 0` (every `exp` value) the
        // quotient `2^64 / (2^32 + e)` is computed as a 64-bit division.
        let sigmoid = match u64::try_from(ONE.saturating_add(e).to_bits()) {
            Ok(d) if e >= ZERO => I32F32::from_bits(i64::try_from(one_over(d)).unwrap_or(0)),
            _ => ONE.saturating_div(ONE.saturating_add(e)),
        };
        let alpha = add(self.low, mul(sigmoid, sub(self.high, self.low)));
        clamp(alpha, self.low, self.high)
    }

    /// Alpha of one (validator, miner) entry: a sigmoid of how far the weight is above
    /// consensus (buying) or below the bond (selling), between `low` and `high`.
    pub fn alpha(&self, consensus: I32F32, weight: I32F32, bond: I32F32) -> I32F32 {
        let mut alphas = [ZERO];
        self.alphas(&[Self::diff(consensus, weight, bond)], &mut alphas);
        alphas.first().copied().unwrap_or(ZERO)
    }

    /// Alpha of every [`Self::diff`] value of `diffs` into `alphas` (pairwise, at most
    /// [`EXP_LANES`] values are read): their `exp`s are evaluated side by side
    /// ([`exp_safe_many`]).
    pub fn alphas(&self, diffs: &[I32F32], alphas: &mut [I32F32]) {
        let slope = self.slope();
        let mut args = [ZERO; EXP_LANES];
        for (a, d) in args.iter_mut().zip(diffs.iter()) {
            *a = Self::exp_arg(slope, *d);
        }
        let len = diffs.len().min(EXP_LANES);
        self.alphas_of_args(args.get(..len).unwrap_or(&[]), alphas);
    }

    /// Alpha of every `exp` argument of `args` into `alphas` (at most [`EXP_LANES`]).
    fn alphas_of_args(&self, args: &[I32F32], alphas: &mut [I32F32]) {
        // `alphas` first receives the exps.
        exp_safe_many(args, alphas);
        for a in alphas.iter_mut().take(args.len().min(EXP_LANES)) {
            *a = self.alpha_of_exp(*a);
        }
    }
}

/// EMA factor of the Yuma-3 bonds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Yuma3Alpha {
    /// One factor for every entry (`1 - bonds_moving_average / 1e6`).
    Fixed(I32F32),
    /// Liquid alpha; falls back to the fixed factor when every consensus value is zero.
    Liquid(LiquidAlpha, I32F32),
}

/// Yuma-3 bonds. `old` holds the previous bonds as stored (u16 proportions); `store[i]`
/// whether uid `i` gets a storage row.
///
/// New bonds `B' = (1 - a) B + a W_b` per entry (fixed `a`: over the union of both rows, positive
/// results kept; liquid alpha: over the entries of `W_b` only, see [`liquid_row`]), stored as
/// they are; `dividends = normalise(S_i · Σ_j colnorm(B')_ij · incentive_j)`. Two passes:
/// [`yuma3_ema`], then [`yuma3_dividends`].
#[allow(clippy::too_many_arguments)]
pub fn yuma3(
    weights_for_bonds: SparseMatrix,
    old: &OldBonds<'_>,
    consensus: &[I32F32],
    active_stake: &[I32F32],
    incentive: &[I32F32],
    n: usize,
    alpha: Yuma3Alpha,
    store: &[bool],
) -> BondsOutcome {
    let (ema, _) = yuma3_ema(weights_for_bonds, old, consensus, n, alpha, None);
    yuma3_dividends(ema, active_stake, incentive, store)
}

/// The new Yuma-3 bonds, one row per uid, with their column sums.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Yuma3Ema {
    /// New bonds, one row per uid.
    pub bonds: Vec<SparseRow>,
    /// Saturating sum of each column of `bonds`.
    pub sums: Vec<I32F32>,
}

/// The Yuma-3 bond EMA (see [`yuma3`]) of the bond weights `weights`.
///
/// With `clip_stake = Some(active_stake)`, `weights` are the unclipped (row-normalised)
/// weights and are clipped at consensus on the way, exactly as `sparse::col_clip_in_place`
/// does it (the bond weights with the default penalty 1 are the clipped weights): an entry
/// above a consensus that is not positive is dropped, the others become `min(w, c_j)`; the row
/// sums and `Σ_i active_stake_i · clipped_ij` of the clipped weights are returned as well.
pub fn yuma3_ema(
    weights: SparseMatrix,
    old: &OldBonds<'_>,
    consensus: &[I32F32],
    n: usize,
    alpha: Yuma3Alpha,
    clip_stake: Option<&[I32F32]>,
) -> (Yuma3Ema, Option<ClipSums>) {
    let liquid = match alpha {
        Yuma3Alpha::Liquid(la, _) if consensus.iter().any(|c| *c != ZERO) => Some(la),
        _ => None,
    };
    let fixed = match alpha {
        Yuma3Alpha::Liquid(_, fixed) | Yuma3Alpha::Fixed(fixed) => fixed,
    };
    let rows = weights.rows();
    let mut buf: Vec<(u16, u16)> = Vec::new();
    let mut scratch: Vec<(u16, u16)> = Vec::new();
    let mut liquid_scratch = LiquidScratch::default();
    let mut sums = zeros(n);
    let mut bonds: Vec<SparseRow> = Vec::with_capacity(rows);
    let mut row_sums = zeros(if clip_stake.is_some() { rows } else { 0 });
    let mut weighted = zeros(if clip_stake.is_some() { n } else { 0 });
    for i in 0..rows {
        let old_row = if i < old.rows() { old.row(i, &mut buf, &mut scratch) } else { &[] };
        let (cols, vals) = weights.row(i);
        let mut out =
            Yuma3Row { row: Vec::with_capacity(cols.len().max(old_row.len())), sums: &mut sums };
        let mut clip = Clipper {
            active: clip_stake.is_some(),
            thresholds: consensus,
            scale: clip_stake.and_then(|s| s.get(i)).copied().unwrap_or(ZERO),
            total: ZERO,
            weighted: &mut weighted,
        };
        let ls = &mut liquid_scratch;
        match (&liquid, clip.active) {
            (Some(la), true) => {
                liquid_row::<true>(cols, vals, old_row, consensus, la, ls, &mut clip, &mut out)
            }
            (Some(la), false) => {
                liquid_row::<false>(cols, vals, old_row, consensus, la, ls, &mut clip, &mut out)
            }
            (None, true) => ema_row::<true>(cols, vals, old_row, fixed, &mut clip, &mut out),
            (None, false) => ema_row::<false>(cols, vals, old_row, fixed, &mut clip, &mut out),
        }
        if let Some(t) = row_sums.get_mut(i) {
            *t = clip.total;
        }
        bonds.push(out.row);
    }
    let clipped = clip_stake.is_some().then_some(ClipSums { row_sums, weighted });
    (Yuma3Ema { bonds, sums }, clipped)
}

/// The Yuma-3 dividends `normalise(S_i · Σ_j colnorm(B')_ij · incentive_j)` (without
/// materialising the normalised copy) and the storage rows of the new bonds.
pub fn yuma3_dividends(
    ema: Yuma3Ema,
    active_stake: &[I32F32],
    incentive: &[I32F32],
    store: &[bool],
) -> BondsOutcome {
    let Yuma3Ema { bonds, sums } = ema;
    let divisors: Vec<(Divisor, I32F32)> = sums
        .iter()
        .zip(incentive.iter().chain(core::iter::repeat(&ZERO)))
        .map(|(s, inc)| (divisor_unless_zero(*s), *inc))
        .collect();
    let rows = bonds.len();
    let mut stored: Vec<Vec<(u16, u16)>> = Vec::with_capacity(rows);
    let mut dividends: Vec<I32F32> = Vec::with_capacity(rows);
    for (i, row) in bonds.iter().enumerate() {
        let b = row.iter().fold(ZERO, |acc, (j, v)| match divisors.get(usize::from(*j)) {
            Some((d, inc)) => add(acc, mul(d.div(*v), *inc)),
            None => acc,
        });
        if let Some(s) = active_stake.get(i) {
            dividends.push(b.checked_mul(*s).unwrap_or(ZERO));
        }
        stored.push(if store.get(i).copied().unwrap_or(false) {
            row.iter().map(|(j, v)| (*j, to_u16(*v))).collect()
        } else {
            Vec::new()
        });
    }
    normalize(&mut dividends);
    BondsOutcome { bonds, stored, dividends }
}

/// Clipping of one weight row at consensus inside the Yuma-3 EMA (see [`yuma3_ema`]); a no-op
/// unless `active`.
struct Clipper<'a> {
    active: bool,
    thresholds: &'a [I32F32],
    /// Active stake of the row.
    scale: I32F32,
    /// Saturating sum of the row's clipped weights.
    total: I32F32,
    /// `Σ_i active_stake_i · clipped_ij` per column.
    weighted: &'a mut [I32F32],
}

impl Clipper<'_> {
    /// The bond weight of entry (`j`, `w`): `w` itself unless `CLIP` (which must be `active`),
    /// or clipped (`None`: dropped).
    #[inline(always)]
    fn clip<const CLIP: bool>(&mut self, j: u16, w: I32F32) -> Option<I32F32> {
        if !CLIP {
            return Some(w);
        }
        let c = self.thresholds.get(usize::from(j)).copied().unwrap_or(ZERO);
        let w = if c < w {
            if c <= ZERO {
                return None;
            }
            c
        } else {
            w
        };
        self.total = add(self.total, w);
        if let Some(o) = self.weighted.get_mut(usize::from(j)) {
            *o = add(*o, mul(self.scale, w));
        }
        Some(w)
    }
}

/// One row of new Yuma-3 bonds being built, and the column sums of all rows.
struct Yuma3Row<'s> {
    row: SparseRow,
    sums: &'s mut [I32F32],
}

impl Yuma3Row<'_> {
    /// Keeps a positive new bond `v` on column `j`.
    #[inline(always)]
    fn push(&mut self, j: u16, v: I32F32) {
        if v > ZERO {
            self.row.push((j, v));
            if let Some(s) = self.sums.get_mut(usize::from(j)) {
                *s = add(*s, v);
            }
        }
    }
}

/// Fixed-alpha EMA of one row: `alpha · w + (1 - alpha) · b` over the union of the weight
/// row and the (u16 proportion) bond row, missing entries counting as 0; positive results
/// kept.
fn ema_row<const CLIP: bool>(
    cols: &[u16],
    vals: &[I32F32],
    old_row: &[(u16, u16)],
    alpha: I32F32,
    clip: &mut Clipper<'_>,
    out: &mut Yuma3Row<'_>,
) {
    let one_minus_alpha = ONE.saturating_sub(alpha);
    let (mut a, mut b) = (0usize, 0usize);
    loop {
        let (ja, jb) = (col_at(cols, a), stored_col_at(old_row, b));
        let j = ja.min(jb);
        let Ok(j16) = u16::try_from(j) else { break };
        let mut x = ZERO;
        if ja == j {
            if let Some(w) = clip.clip::<CLIP>(j16, vals.get(a).copied().unwrap_or(ZERO)) {
                x = add(x, mul(alpha, w));
            }
            a = a.wrapping_add(1);
        }
        if jb == j {
            let o = old_row.get(b).map_or(0, |e| e.1);
            x = add(x, mul(one_minus_alpha, u16_proportion(o)));
            b = b.wrapping_add(1);
        }
        out.push(j16, x);
    }
}

/// One weight entry of [`liquid_row`] waiting for its alpha.
#[derive(Clone, Copy, Default)]
struct LiquidEntry {
    col: u16,
    has_bond: bool,
    weight: I32F32,
    bond: I32F32,
    alpha: I32F32,
}

/// Per-row scratch space of [`liquid_row`]: the row's entries, and the alpha of a zero diff.
#[derive(Default)]
struct LiquidScratch {
    entries: Vec<LiquidEntry>,
    alpha_of_zero: Option<I32F32>,
}

/// Liquid-alpha EMA of one row: for every entry `j` of the weight row,
/// `min(1, (1 - a) · b_ij + max(0, a · w_ij))` with `a` from [`LiquidAlpha::alpha`]. Bonds on
/// miners absent from the weight row are dropped (as in the reference); positive results are
/// kept. A diff of 0 (a weight at or below consensus and at or above the bond, the usual
/// buying case) reuses one alpha; the others are computed [`EXP_LANES`] at a time as the row
/// is read, grouped by the magnitude of the `exp` argument (the series of a group stops when
/// all of its terms are 0, which takes fewer terms for smaller arguments).
#[allow(clippy::too_many_arguments)]
fn liquid_row<const CLIP: bool>(
    cols: &[u16],
    vals: &[I32F32],
    old_row: &[(u16, u16)],
    consensus: &[I32F32],
    la: &LiquidAlpha,
    scratch: &mut LiquidScratch,
    clip: &mut Clipper<'_>,
    out: &mut Yuma3Row<'_>,
) {
    let alpha_of_zero = *scratch.alpha_of_zero.get_or_insert_with(|| la.alpha(ZERO, ZERO, ZERO));
    let slope = la.slope();
    let entries = &mut scratch.entries;
    entries.clear();
    let mut groups = [ExpBatch::default(); EXP_GROUPS];
    let mut b = 0usize;
    for (&j, &w) in cols.iter().zip(vals.iter()) {
        let Some(w) = clip.clip::<CLIP>(j, w) else { continue };
        // The bond on column j, if any (rows are sorted by column).
        while stored_col_at(old_row, b) < u32::from(j) {
            b = b.wrapping_add(1);
        }
        let (bond, has_bond) = match old_row.get(b) {
            Some(&(jb, v)) if jb == j => (u16_proportion(v), true),
            _ => (ZERO, false),
        };
        let c = consensus.get(usize::from(j)).copied().unwrap_or(ZERO);
        let diff = LiquidAlpha::diff(c, w, bond);
        let k = entries.len();
        entries.push(LiquidEntry { col: j, has_bond, weight: w, bond, alpha: alpha_of_zero });
        if diff != ZERO {
            let arg = LiquidAlpha::exp_arg(slope, diff);
            if let Some(g) = groups.get_mut(exp_group(arg)) {
                if g.push(k, arg) {
                    g.flush(la, entries);
                }
            }
        }
    }
    for g in groups.iter_mut() {
        g.flush(la, entries);
    }
    for e in entries.iter() {
        let decayed = if e.has_bond { mul(sub(ONE, e.alpha), e.bond) } else { ZERO };
        let inc = mul(e.alpha, e.weight).max(ZERO);
        out.push(e.col, add(decayed, inc).min(ONE));
    }
}

/// Number of magnitude groups of `exp` arguments in [`liquid_row`].
const EXP_GROUPS: usize = 11;

/// Group of an `exp` argument: 0 below 2^-4 in magnitude, then one per power of two.
fn exp_group(arg: I32F32) -> usize {
    let u = arg.to_bits().unsigned_abs() >> 28;
    (64u32.saturating_sub(u.leading_zeros()) as usize).min(EXP_GROUPS.saturating_sub(1))
}

/// Entries waiting for their alphas, with their `exp` arguments.
#[derive(Clone, Copy, Default)]
struct ExpBatch {
    entries: [usize; EXP_LANES],
    args: [I32F32; EXP_LANES],
    filled: usize,
}

impl ExpBatch {
    /// Adds an entry; true when the batch is full.
    #[inline]
    fn push(&mut self, k: usize, arg: I32F32) -> bool {
        if let (Some(e), Some(a)) =
            (self.entries.get_mut(self.filled), self.args.get_mut(self.filled))
        {
            *e = k;
            *a = arg;
        }
        self.filled = self.filled.wrapping_add(1);
        self.filled >= EXP_LANES
    }

    /// Computes the alphas of the waiting entries and writes them to `entries`.
    fn flush(&mut self, la: &LiquidAlpha, entries: &mut [LiquidEntry]) {
        let filled = self.filled.min(EXP_LANES);
        if filled == 0 {
            return;
        }
        let mut alphas = [ZERO; EXP_LANES];
        la.alphas_of_args(self.args.get(..filled).unwrap_or(&[]), &mut alphas);
        for (k, a) in self.entries.iter().zip(alphas.iter()).take(filled) {
            if let Some(e) = entries.get_mut(*k) {
                e.alpha = *a;
            }
        }
        self.filled = 0;
    }
}
