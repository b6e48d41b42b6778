//! `DelegateInfoRuntimeApi`: delegates ([`DelegateInfo`]).
//!
//! Any hotkey with an owner accepts stake (`add_stake` only asks that the hotkey be owned), so
//! every owned hotkey is a delegate, with its `Delegates` take (18% unless its owner changed it).
//!
//! Classic quantities in dTAO-shaped fields:
//! - `nominators` lists each coldkey staked on the hotkey once, with a single
//!   `(home netuid, Stake[hotkey][coldkey])` pair, the home netuid being the one
//!   `StakeInfoRuntimeApi` reports the stake under (the stake is not per subnet).
//! - `get_delegated` pairs each delegate with `(home netuid, stake)` the same way.
//! - `total_daily_return` estimates the hotkey's TAO per day from its last-epoch `Emission` on
//!   each subnet at 7200 blocks a day; `return_per_1000` is that, less the take, per 1000 TAO of
//!   the hotkey's total stake.

use super::{home, SubnetCache};
use crate::*;
use alloc::vec::Vec;
use codec::Compact;
use subtensor_primitives::{DelegateInfo, DelegatedInfo, RAO_PER_TAO};

/// Blocks in a day at 12-second blocks (the reference's constant too).
const BLOCKS_PER_DAY: u128 = 7200;

impl<T: Config> Pallet<T> {
    /// Every delegate (every owned hotkey), ordered by hotkey, with its nominators.
    pub fn delegates() -> Vec<DelegateInfo<T::AccountId>> {
        let mut hotkeys: Vec<T::AccountId> = Owner::<T>::iter_keys().collect();
        hotkeys.sort();
        let mut cache = SubnetCache::new::<T>();
        hotkeys.into_iter().filter_map(|h| Self::delegate_info(h, true, &mut cache)).collect()
    }

    /// The delegate `hotkey` with its nominators; `None` if the hotkey has no owner.
    pub fn delegate(hotkey: T::AccountId) -> Option<DelegateInfo<T::AccountId>> {
        Self::delegate_info(hotkey, true, &mut SubnetCache::new::<T>())
    }

    /// The delegates `coldkey` has stake on, ordered by hotkey, each (without its nominators,
    /// as on the reference) with `(home netuid, stake in rao)`.
    pub fn delegated(coldkey: T::AccountId) -> Vec<DelegatedInfo<T::AccountId>> {
        let mut positions = Self::stake_positions(core::slice::from_ref(&coldkey))
            .remove(&coldkey)
            .unwrap_or_default();
        positions.sort();
        let mut cache = SubnetCache::new::<T>();
        positions
            .into_iter()
            .filter_map(|(hotkey, stake)| {
                let info = Self::delegate_info(hotkey, false, &mut cache)?;
                let netuid = info.registrations.first().map(|n| n.0);
                Some((info, (Compact(home(netuid, cache.subnets())), Compact(stake))))
            })
            .collect()
    }

    /// `hotkey` as a delegate (with its nominators if `with_nominators`), if it has an owner.
    fn delegate_info(
        hotkey: T::AccountId,
        with_nominators: bool,
        cache: &mut SubnetCache,
    ) -> Option<DelegateInfo<T::AccountId>> {
        let owner = Owner::<T>::get(&hotkey)?;
        let take = Delegates::<T>::get(&hotkey);
        let regs = cache.registrations::<T>(&hotkey);
        let home_netuid = home(regs.first().map(|r| r.netuid), cache.subnets());
        let total_stake = TotalHotkeyStake::<T>::get(&hotkey);
        let mut nominators = Vec::new();
        if with_nominators && total_stake > 0 {
            let mut stakes: Vec<(T::AccountId, u64)> =
                Stake::<T>::iter_prefix(&hotkey).filter(|(_, s)| *s > 0).collect();
            stakes.sort();
            nominators = stakes
                .into_iter()
                .map(|(coldkey, stake)| {
                    (coldkey, Vec::from([(Compact(home_netuid), Compact(stake))]))
                })
                .collect();
        }
        let daily = regs.iter().fold(0u128, |acc, r| {
            let per_day = u128::from(r.emission)
                .saturating_mul(BLOCKS_PER_DAY)
                .checked_div(u128::from(r.tempo))
                .unwrap_or(0);
            acc.saturating_add(per_day)
        });
        Some(DelegateInfo {
            delegate_ss58: hotkey,
            take,
            nominators,
            owner_ss58: owner,
            registrations: regs.iter().map(|r| Compact(r.netuid)).collect(),
            validator_permits: regs
                .iter()
                .filter(|r| r.validator_permit)
                .map(|r| Compact(r.netuid))
                .collect(),
            return_per_1000: return_per_1000(daily, take, total_stake),
            total_daily_return: u64::try_from(daily).unwrap_or(u64::MAX),
        })
    }
}

/// The daily return per 1000 TAO staked on a delegate earning `daily` rao a day with `take`
/// (fraction of `u16::MAX`) and `total_stake` rao: `daily · (1 − take) · 1000 TAO / stake`.
fn return_per_1000(daily: u128, take: u16, total_stake: u64) -> u64 {
    let kept = u128::from(u16::MAX.saturating_sub(take));
    let thousand_tao = 1000u128.saturating_mul(u128::from(RAO_PER_TAO));
    let value = daily
        .saturating_mul(kept)
        .saturating_mul(thousand_tao)
        .checked_div(u128::from(u16::MAX).saturating_mul(u128::from(total_stake)))
        .unwrap_or(0);
    u64::try_from(value).unwrap_or(u64::MAX)
}
