//! The Yuma consensus epoch of one subnet: [`run_epoch`].
//!
//! Steps, in the reference chain's order (`epoch_mechanism`, sparse):
//!
//! 1. activity: `last_update + activity_cutoff >= current_block`;
//! 2. stake: raw stake below `stake_threshold` zeroed (owner exempt), normalised (`I64F64`,
//!    then `I32F32`);
//! 3. permits: the new ones are the top-k non-zero stakes (plus the owner); this epoch masks
//!    with the previous ones (plus the owner);
//! 4. active stake: stake of active, permitted uids, normalised;
//! 5. weights: rows of unpermitted uids dropped, self weights dropped except the owner's,
//!    weights set at or before a miner's registration dropped, the commit-reveal mask, then
//!    rows normalised;
//! 6. consensus: stake-weighted kappa-median per miner ([`super::consensus`]);
//! 7. clipping at consensus, validator trust = row sums of the clipped weights;
//! 8. ranks = clipped weights · active stake, incentive = normalised ranks; legacy trust =
//!    clipped over unclipped ranks;
//! 9. bond weights = `W + penalty · (clipped - W)`;
//! 10. bonds and dividends ([`super::bonds`]), after dropping bonds on miners registered since
//!     the last epoch;
//! 11. emission split ([`super::emission`]) and storage forms (u16 bonds for uids with a new
//!     permit, pruning scores).

use super::bonds::{self, LiquidAlpha, OldBonds, Yuma3Alpha};
use super::consensus::weighted_median_cols;
use super::emission;
use super::math::{
    get_or_default, is_topk_nonzero, mul, normalize, normalize_64, safe_div, u16_proportion,
    vec_max_upscale_to_u16, zeros, ONE, ZERO,
};
use super::sparse::{col_clip_in_place, col_sums, interpolate, read_normalized, ClipSums};
use super::types::{EpochInput, EpochOutput, EpochParams};
use alloc::vec::Vec;
use substrate_fixed::types::{I32F32, I64F64};

/// Subnet size of an input: the longest of its per-uid vectors (commit blocks excluded).
pub fn subnet_size(input: &EpochInput) -> usize {
    [
        input.stake.len(),
        input.weights.len(),
        input.bonds.len(),
        input.last_update.len(),
        input.block_at_registration.len(),
        input.validator_permit.len(),
    ]
    .into_iter()
    .max()
    .unwrap_or(0)
}

/// Normalised stake of `n` uids: raw stake below `stake_threshold` counts as zero (the owner is
/// exempt), the rest is normalised in `I64F64` and truncated to `I32F32`.
///
/// Should the total exceed the `I64F64` range (more than 2^63 rao, far beyond the token
/// supply), every stake is first shifted right by the same number of bits, so the result stays
/// a normalised vector where the reference would overflow.
pub fn normalized_stake(raw: &[u64], n: usize, params: &EpochParams) -> Vec<I32F32> {
    let owner = params.owner_uid.map(usize::from);
    let kept: Vec<u64> = (0..n)
        .map(|i| {
            let s = get_or_default(raw, i);
            let below =
                I64F64::saturating_from_num(s).saturating_to_num::<u64>() < params.stake_threshold;
            if owner != Some(i) && below {
                0
            } else {
                s
            }
        })
        .collect();
    let total: u128 = kept.iter().fold(0u128, |acc, s| acc.saturating_add(u128::from(*s)));
    let limit = u128::from(i64::MAX.unsigned_abs());
    let shift = (0u32..=64).find(|k| total.checked_shr(*k).unwrap_or(0) <= limit).unwrap_or(64);
    let mut stake: Vec<I64F64> = kept
        .iter()
        .map(|s| I64F64::saturating_from_num(s.checked_shr(shift).unwrap_or(0)))
        .collect();
    normalize_64(&mut stake);
    stake.iter().map(|s| I32F32::saturating_from_num(*s)).collect()
}

/// Validator permits the epoch hands out for `n` uids with raw stake `raw`: the top
/// `max_allowed_validators` non-zero normalised stakes (among equal stakes the lower uid
/// loses), plus the owner. This is also the steady-state value of the previous permits.
pub fn topk_permits(raw: &[u64], n: usize, params: &EpochParams) -> Vec<bool> {
    permits_of(&normalized_stake(raw, n, params), params)
}

fn permits_of(stake: &[I32F32], params: &EpochParams) -> Vec<bool> {
    let mut permits = is_topk_nonzero(stake, usize::from(params.max_allowed_validators));
    force_owner(&mut permits, params.owner_uid);
    permits
}

fn force_owner(permits: &mut [bool], owner: Option<u16>) {
    if let Some(cell) = owner.and_then(|o| permits.get_mut(usize::from(o))) {
        *cell = true;
    }
}

/// Runs one Yuma consensus epoch. Pure, panic-free for any input; cost linear in the number of
/// stored weights and bonds plus the subnet size.
pub fn run_epoch(input: &EpochInput) -> EpochOutput {
    let p = &input.params;
    let n = subnet_size(input);
    let owner: Option<usize> = p.owner_uid.map(usize::from).filter(|o| *o < n);

    // 1. Activity.
    let last_update: Vec<u64> = (0..n).map(|i| get_or_default(&input.last_update, i)).collect();
    let registered: Vec<u64> =
        (0..n).map(|i| get_or_default(&input.block_at_registration, i)).collect();
    let active: Vec<bool> = last_update
        .iter()
        .map(|lu| lu.saturating_add(p.activity_cutoff) >= p.current_block)
        .collect();

    // 2. Stake.
    let stake = normalized_stake(&input.stake, n, p);

    // 3. Permits: previous ones mask this epoch, new ones are stored for the next.
    let mut permit_used: Vec<bool> =
        (0..n).map(|i| get_or_default(&input.validator_permit, i)).collect();
    force_owner(&mut permit_used, p.owner_uid);
    let new_permit = permits_of(&stake, p);

    // 4. Active stake.
    let mut active_stake: Vec<I32F32> = stake
        .iter()
        .zip(active.iter().zip(permit_used.iter()))
        .map(|(s, (a, v))| if *a && *v { *s } else { ZERO })
        .collect();
    normalize(&mut active_stake);

    // 5. Weights with their masks, row-normalised (with the unclipped ranks in the same pass).
    // Entry (i, j) is kept when j is not i (unless i is the owner), i's last update is after
    // j's registration and, with commit-reveal, i's commit block is not before it.
    let commit: Option<Vec<u64>> = input
        .commit_block
        .as_ref()
        .map(|cb| (0..n).map(|i| cb.get(i).copied().flatten().unwrap_or(u64::MAX)).collect());
    let reg_of = |j: u16| registered.get(usize::from(j)).copied().unwrap_or(0);
    let latest_registration = registered.iter().copied().max().unwrap_or(0);
    let (weights, preranks) = read_normalized(
        &input.weights,
        n,
        |i| get_or_default(&permit_used, i),
        |i| {
            let lu = get_or_default(&last_update, i);
            let cb = commit.as_ref().map_or(u64::MAX, |c| get_or_default(c, i));
            let self_ok = owner == Some(i);
            // Every registration is old enough for this row: no need to look them up.
            let all_registered_before = lu > latest_registration && cb >= latest_registration;
            move |j: u16| {
                (usize::from(j) != i || self_ok)
                    && (all_registered_before || {
                        let reg = reg_of(j);
                        lu > reg && cb >= reg
                    })
            }
        },
        &active_stake,
    );

    // 6. Consensus.
    let consensus = weighted_median_cols(&active_stake, &weights, n, u16_proportion(p.kappa));
    // 7. + 9. Clipping (with validator trust and ranks in the same pass) and bond weights
    // W + penalty · (clipped - W). With the default penalty 1 the bond weights are the clipped
    // weights: Yuma-3 clips inside its bond EMA pass, classic clips in place (the unclipped
    // matrix is not needed any more) and, since its bonds only need the bond deltas W_b ∘ S
    // (whose column sums with penalty 1 are the ranks), leaves those in place of the weights.
    // 10. Bonds (masked for miners registered since the last epoch) and dividends, with the
    // u16 rows to store for uids with a new permit.
    let penalty = u16_proportion(p.bonds_penalty);
    let last_tempo = if p.last_step_block == 0 {
        p.current_block.saturating_sub(u64::from(p.tempo))
    } else {
        p.last_step_block.saturating_add(1)
    };
    let old_keep = |j: usize| last_tempo > registered.get(j).copied().unwrap_or(0);
    let (old_bonds, old_sums) = if p.yuma3 {
        (OldBonds::new(&input.bonds, n, old_keep), Vec::new())
    } else {
        OldBonds::new_with_sums(&input.bonds, n, old_keep)
    };
    let alpha = bonds::moving_average_alpha(p.bonds_moving_average);
    let yuma3_mode = if p.liquid_alpha {
        Yuma3Alpha::Liquid(
            LiquidAlpha::new(p.alpha_low, p.alpha_high, p.alpha_sigmoid_steepness),
            alpha,
        )
    } else {
        Yuma3Alpha::Fixed(alpha)
    };
    // 8. Ranks, incentive, legacy trust (clipped over unclipped ranks).
    let incentive_of = |ranks: Vec<I32F32>| -> (Vec<I32F32>, Vec<I32F32>) {
        let trust = ranks.iter().zip(preranks.iter()).map(|(r, q)| safe_div(*r, *q)).collect();
        let mut incentive = ranks;
        normalize(&mut incentive);
        (incentive, trust)
    };
    let (validator_trust, incentive, trust, outcome) = if p.yuma3 && penalty == ONE {
        let (ema, sums) =
            bonds::yuma3_ema(weights, &old_bonds, &consensus, n, yuma3_mode, Some(&active_stake));
        let sums = sums.unwrap_or_else(|| ClipSums { row_sums: zeros(n), weighted: zeros(n) });
        let (incentive, trust) = incentive_of(sums.weighted);
        let outcome = bonds::yuma3_dividends(ema, &active_stake, &incentive, &new_permit);
        (sums.row_sums, incentive, trust, outcome)
    } else {
        let products = !p.yuma3 && penalty == ONE;
        let (sums, weights_for_bonds) = if penalty == ONE {
            let mut clipped = weights;
            (col_clip_in_place(&mut clipped, &consensus, &active_stake, n, products), clipped)
        } else {
            let mut clipped = weights.clone();
            let sums = col_clip_in_place(&mut clipped, &consensus, &active_stake, n, false);
            (sums, interpolate(weights, clipped, penalty))
        };
        let delta_sums = if products { Some(sums.weighted.clone()) } else { None };
        let (incentive, trust) = incentive_of(sums.weighted);
        let outcome = if p.yuma3 {
            bonds::yuma3(
                weights_for_bonds,
                &old_bonds,
                &consensus,
                &active_stake,
                &incentive,
                n,
                yuma3_mode,
                &new_permit,
            )
        } else {
            let (products, delta_sums) = match delta_sums {
                Some(sums) => (weights_for_bonds, sums),
                None => {
                    // Bond deltas W_b ∘ S of the interpolated bond weights.
                    let mut m = weights_for_bonds;
                    for i in 0..m.rows() {
                        let s = get_or_default(&active_stake, i);
                        for x in m.row_mut(i).1.iter_mut() {
                            *x = mul(*x, s);
                        }
                    }
                    let sums = col_sums(&m, n);
                    (m, sums)
                }
            };
            bonds::classic(
                products,
                &delta_sums,
                &old_bonds,
                &old_sums,
                &incentive,
                n,
                alpha,
                &new_permit,
            )
        };
        (sums.row_sums, incentive, trust, outcome)
    };

    // 11. Emission and storage forms.
    let split =
        emission::split(&incentive, &outcome.dividends, &stake, &active_stake, input.rao_emission);
    let bonds::BondsOutcome { bonds, stored: bonds_stored, dividends } = outcome;
    let pruning_scores = vec_max_upscale_to_u16(&split.normalized_combined);

    EpochOutput {
        active,
        new_validator_permit: new_permit,
        validator_permit_used: permit_used,
        stake,
        active_stake,
        consensus,
        validator_trust,
        rank: incentive.clone(),
        incentive,
        trust,
        dividends,
        normalized_server_emission: split.normalized_server,
        normalized_validator_emission: split.normalized_validator,
        normalized_combined_emission: split.normalized_combined,
        server_emission: split.server,
        validator_emission: split.validator,
        emission: split.combined,
        bonds,
        bonds_stored,
        pruning_scores,
    }
}
