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
//! All work is per stored entry (no dense rows, no n × n alpha matrix).

use super::math::{
    clamp, exp_safe, mul, normalize, safe_div_64, to_u16, u16_proportion, zeros, Divisor, ONE, ZERO,
};
use super::sparse::{
    col_sums, divisors_unless_zero, ema, merge_rows, SparseMatrix, SparseRow, StoredRows,
};
use alloc::vec::Vec;
use substrate_fixed::types::{I32F32, I64F64};

/// New bonds and the dividends they earn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BondsOutcome {
    /// New bonds, one row per uid, before the final storage scaling.
    pub bonds: Vec<SparseRow>,
    /// Per-column divisors of the final scaling (classic: the column maxima, so bonds are
    /// stored column max-upscaled; Yuma-3: none).
    pub scale: Option<Vec<Divisor>>,
    /// Normalised dividends, one per uid.
    pub dividends: Vec<I32F32>,
}

impl BondsOutcome {
    /// Applies the final scaling (one pass) and returns the bonds together with their u16
    /// storage rows; the storage row of uid `i` is empty unless `store[i]`.
    pub fn into_storage(self, store: &[bool]) -> (Vec<SparseRow>, Vec<Vec<(u16, u16)>>) {
        let BondsOutcome { mut bonds, scale, .. } = self;
        let stored = bonds
            .iter_mut()
            .enumerate()
            .map(|(i, row)| {
                if let Some(divisors) = &scale {
                    for (j, v) in row.iter_mut() {
                        *v = divide(divisors, usize::from(*j), *v);
                    }
                }
                if store.get(i).copied().unwrap_or(false) {
                    row.iter().map(|(j, v)| (*j, to_u16(*v))).collect()
                } else {
                    Vec::new()
                }
            })
            .collect();
        (bonds, stored)
    }
}

/// EMA factor of the bonds: `1 - bonds_moving_average / 1e6`.
pub fn moving_average_alpha(bonds_moving_average: u64) -> I32F32 {
    let bma = safe_div_64(
        I64F64::saturating_from_num(bonds_moving_average),
        I64F64::saturating_from_num(1_000_000_u32),
    );
    ONE.saturating_sub(I32F32::saturating_from_num(bma))
}

/// Classic Yuma bonds. `old` holds the previous bonds as stored (u16 values as fixed-point
/// integers), already masked for recently registered miners.
///
/// Computes, with the reference's arithmetic and rounding,
/// `B = colnorm(alpha · colnorm(W_b ∘ S) + (1 - alpha) · colnorm(old))`,
/// `dividends = normalise(B · incentive)`; `B` is column max-upscaled by
/// [`BondsOutcome::into_storage`]. The steps are fused into four passes over the entries:
/// every intermediate value is computed exactly as in the reference, only the intermediate
/// matrices are never stored.
pub fn classic<U, K, C>(
    weights_for_bonds: &SparseMatrix,
    old: &StoredRows<'_, U, K, C>,
    active_stake: &[I32F32],
    incentive: &[I32F32],
    n: usize,
    alpha: I32F32,
) -> BondsOutcome
where
    U: Fn(usize) -> bool,
    K: Fn(usize, u16) -> bool,
    C: Fn(u16) -> I32F32,
{
    let rows = weights_for_bonds.rows();
    let stake_of = |i: usize| active_stake.get(i).copied().unwrap_or(ZERO);
    let old_div = divisors_unless_zero(&old.col_sums());

    // Column sums of the bond deltas W_b ∘ S.
    let mut delta_sums = zeros(n);
    for i in 0..rows {
        let s = stake_of(i);
        let (cols, vals) = weights_for_bonds.row(i);
        for (j, w) in cols.iter().zip(vals.iter()) {
            if let Some(sum) = delta_sums.get_mut(usize::from(*j)) {
                *sum = sum.saturating_add(mul(*w, s));
            }
        }
    }
    let delta_div = divisors_unless_zero(&delta_sums);

    // EMA of the column-normalised delta and old bonds; positive entries kept. The rows are
    // built directly in their output form.
    let one_minus_alpha = ONE.saturating_sub(alpha);
    let mut bonds: Vec<SparseRow> = Vec::with_capacity(rows);
    let mut bond_sums = zeros(n);
    for i in 0..rows {
        let s = stake_of(i);
        let mut row: SparseRow = Vec::with_capacity(weights_for_bonds.row(i).0.len());
        for (j, w, o) in merge_rows(weights_for_bonds.row_iter(i), old.row(i)) {
            let col = usize::from(j);
            let mut x = ZERO;
            if let Some(w) = w {
                let delta = divide(&delta_div, col, mul(w, s));
                x = x.saturating_add(mul(alpha, delta));
            }
            if let Some(o) = o {
                x = x.saturating_add(mul(one_minus_alpha, divide(&old_div, col, o)));
            }
            if x > ZERO {
                row.push((j, x));
                if let Some(sum) = bond_sums.get_mut(col) {
                    *sum = sum.saturating_add(x);
                }
            }
        }
        bonds.push(row);
    }

    // Column-normalise, collect dividends and column maxima in one pass.
    let bond_div = divisors_unless_zero(&bond_sums);
    let mut maxes = zeros(n);
    let mut dividends: Vec<I32F32> = bonds
        .iter_mut()
        .map(|row| {
            let mut acc = ZERO;
            for (j, v) in row.iter_mut() {
                let col = usize::from(*j);
                *v = divide(&bond_div, col, *v);
                let inc = incentive.get(col).copied().unwrap_or(ZERO);
                acc = acc.saturating_add(mul(inc, *v));
                if let Some(mx) = maxes.get_mut(col) {
                    if *mx < *v {
                        *mx = *v;
                    }
                }
            }
            acc
        })
        .collect();
    normalize(&mut dividends);

    // Column max-upscale for storage, applied by `into_storage`.
    BondsOutcome { bonds, scale: Some(divisors_unless_zero(&maxes)), dividends }
}

/// `value / divisors[col]`, or `value` when there is no divisor for `col`.
#[inline]
fn divide(divisors: &[Divisor], col: usize, value: I32F32) -> I32F32 {
    divisors.get(col).map_or(value, |d| d.div(value))
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

    /// Alpha of one (validator, miner) entry: a sigmoid of how far the weight is above
    /// consensus (buying) or below the bond (selling), between `low` and `high`.
    pub fn alpha(&self, consensus: I32F32, weight: I32F32, bond: I32F32) -> I32F32 {
        let half = I32F32::from_bits(1 << 31);
        let diff_buy = clamp(weight.saturating_sub(consensus), ZERO, ONE);
        let diff_sell = clamp(bond.saturating_sub(weight), ZERO, ONE);
        let diff = if weight >= bond { diff_buy } else { diff_sell };
        let slope = self.steepness.saturating_div(I32F32::from_num(-100));
        let e = exp_safe(slope.saturating_mul(diff.saturating_sub(half)));
        // `1 + e >= 1`, so the division cannot fail.
        let sigmoid = ONE.saturating_div(ONE.saturating_add(e));
        let alpha =
            self.low.saturating_add(sigmoid.saturating_mul(self.high.saturating_sub(self.low)));
        clamp(alpha, self.low, self.high)
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

/// Yuma-3 bonds. `old` holds the previous bonds as u16 proportions, already masked for
/// recently registered miners.
pub fn yuma3(
    weights_for_bonds: &SparseMatrix,
    old: &SparseMatrix,
    consensus: &[I32F32],
    active_stake: &[I32F32],
    incentive: &[I32F32],
    n: usize,
    alpha: Yuma3Alpha,
) -> BondsOutcome {
    let bonds = match alpha {
        Yuma3Alpha::Liquid(la, _) if consensus.iter().any(|c| *c != ZERO) => {
            liquid_ema(weights_for_bonds, old, consensus, &la)
        }
        Yuma3Alpha::Liquid(_, fixed) | Yuma3Alpha::Fixed(fixed) => {
            ema(weights_for_bonds, old, fixed)
        }
    };
    // Σ_j colnorm(B')_ij · incentive_j, without materialising the normalised copy.
    let divisors = divisors_unless_zero(&col_sums(&bonds, n));
    let per_validator: Vec<I32F32> = (0..bonds.rows())
        .map(|i| {
            let (cols, vals) = bonds.row(i);
            cols.iter().zip(vals.iter()).fold(ZERO, |acc, (j, v)| {
                let j = usize::from(*j);
                let b = divide(&divisors, j, *v);
                let inc = incentive.get(j).copied().unwrap_or(ZERO);
                acc.saturating_add(mul(b, inc))
            })
        })
        .collect();
    let mut dividends: Vec<I32F32> = per_validator
        .iter()
        .zip(active_stake.iter())
        .map(|(b, s)| b.checked_mul(*s).unwrap_or(ZERO))
        .collect();
    normalize(&mut dividends);
    BondsOutcome { bonds: bonds.to_rows(), scale: None, dividends }
}

/// Per-entry EMA with liquid alpha: for every entry `j` of the bond-weight row,
/// `min(1, (1 - a) · b_ij + max(0, a · w_ij))` with `a` from [`LiquidAlpha::alpha`]. Bonds on
/// miners absent from the weight row are dropped (as in the reference); only positive results
/// are kept.
fn liquid_ema(
    weights: &SparseMatrix,
    old: &SparseMatrix,
    consensus: &[I32F32],
    la: &LiquidAlpha,
) -> SparseMatrix {
    if weights.rows() != old.rows() {
        return weights.clone();
    }
    let mut out = SparseMatrix::with_capacity(weights.rows(), weights.entries());
    for i in 0..weights.rows() {
        let (w_cols, w_vals) = weights.row(i);
        let (b_cols, b_vals) = old.row(i);
        let mut b_iter = b_cols.iter().copied().zip(b_vals.iter().copied()).peekable();
        for (&j, &w) in w_cols.iter().zip(w_vals.iter()) {
            let Some(&c) = consensus.get(usize::from(j)) else { continue };
            // Rows are sorted by column: advance the bond row up to column j.
            let mut bond: Option<I32F32> = None;
            while let Some(&(jb, b)) = b_iter.peek() {
                if jb < j {
                    b_iter.next();
                } else {
                    if jb == j {
                        bond = Some(b);
                    }
                    break;
                }
            }
            let a = la.alpha(c, w, bond.unwrap_or(ZERO));
            let decayed = match bond {
                Some(b) => ONE.saturating_sub(a).saturating_mul(b),
                None => ZERO,
            };
            let inc = a.saturating_mul(w).max(ZERO);
            let v = decayed.saturating_add(inc).min(ONE);
            if v > ZERO {
                out.push(j, v);
            }
        }
        out.end_row();
    }
    out
}
