//! Stake: coldkeys stake TAO on hotkeys, and hotkeys share their dividends with the coldkeys
//! staked on them.
//!
//! Stake leaves the coldkey's free balance (the currency burns it) and is held by the pallet in
//! [`Stake`], with running totals per hotkey, per coldkey and for the chain. A validator's
//! dividends are split: its delegate take ([`Delegates`]) goes to the hotkey's owner, the rest
//! to every nominator pro rata to their stake; all of it is added as stake.
//!
//! The limit-order calls of the reference chain (`add_stake_limit`, `remove_stake_limit`) trade
//! at alpha's price, which is constant here (1 TAO, see [`crate::rpc_info::swap`]): they execute
//! as `add_stake` / `remove_stake` when the limit allows that price and fail otherwise.

use crate::*;
use alloc::vec::Vec;
use frame_support::{
    ensure,
    pallet_prelude::DispatchResult,
    traits::{
        fungible::{Inspect, Mutate},
        tokens::{Fortitude, Precision, Preservation},
    },
};

/// `amount * numerator / denominator`, floored; 0 when the denominator is 0.
pub(crate) fn mul_div(amount: u64, numerator: u64, denominator: u64) -> u64 {
    if denominator == 0 {
        return 0;
    }
    let value = u128::from(amount)
        .saturating_mul(u128::from(numerator))
        .checked_div(u128::from(denominator))
        .unwrap_or(0);
    u64::try_from(value).unwrap_or(u64::MAX)
}

impl<T: Config> Pallet<T> {
    /// Add `amount` to the stake of `coldkey` on `hotkey` and to every total.
    pub(crate) fn increase_stake(hotkey: &T::AccountId, coldkey: &T::AccountId, amount: u64) {
        if amount == 0 {
            return;
        }
        Stake::<T>::mutate(hotkey, coldkey, |s| *s = s.saturating_add(amount));
        TotalHotkeyStake::<T>::mutate(hotkey, |s| *s = s.saturating_add(amount));
        TotalColdkeyStake::<T>::mutate(coldkey, |s| *s = s.saturating_add(amount));
        TotalStake::<T>::mutate(|s| *s = s.saturating_add(amount));
    }

    /// Remove `amount` from the stake of `coldkey` on `hotkey` and from every total.
    fn decrease_stake(hotkey: &T::AccountId, coldkey: &T::AccountId, amount: u64) {
        Stake::<T>::mutate_exists(hotkey, coldkey, |s| {
            let left = s.unwrap_or(0).saturating_sub(amount);
            *s = (left > 0).then_some(left);
        });
        TotalHotkeyStake::<T>::mutate_exists(hotkey, |s| {
            let left = s.unwrap_or(0).saturating_sub(amount);
            *s = (left > 0).then_some(left);
        });
        TotalColdkeyStake::<T>::mutate_exists(coldkey, |s| {
            let left = s.unwrap_or(0).saturating_sub(amount);
            *s = (left > 0).then_some(left);
        });
        TotalStake::<T>::mutate(|s| *s = s.saturating_sub(amount));
    }

    /// `add_stake` for `coldkey`.
    pub fn do_add_stake(
        coldkey: &T::AccountId,
        hotkey: &T::AccountId,
        amount: u64,
    ) -> DispatchResult {
        ensure!(amount > 0, Error::<T>::StakeAmountZero);
        ensure!(Owner::<T>::contains_key(hotkey), Error::<T>::HotKeyAccountNotExists);
        let available =
            T::Currency::reducible_balance(coldkey, Preservation::Expendable, Fortitude::Polite);
        ensure!(available >= amount, Error::<T>::NotEnoughBalanceToStake);
        T::Currency::burn_from(
            coldkey,
            amount,
            Preservation::Expendable,
            Precision::Exact,
            Fortitude::Polite,
        )
        .map_err(|_| Error::<T>::NotEnoughBalanceToStake)?;
        Self::increase_stake(hotkey, coldkey, amount);
        Self::deposit_event(Event::StakeAdded {
            coldkey: coldkey.clone(),
            hotkey: hotkey.clone(),
            amount,
        });
        Ok(())
    }

    /// `remove_stake` for `coldkey`.
    pub fn do_remove_stake(
        coldkey: &T::AccountId,
        hotkey: &T::AccountId,
        amount: u64,
    ) -> DispatchResult {
        ensure!(amount > 0, Error::<T>::StakeAmountZero);
        ensure!(Stake::<T>::get(hotkey, coldkey) >= amount, Error::<T>::NotEnoughStakeToWithdraw);
        Self::decrease_stake(hotkey, coldkey, amount);
        T::Currency::mint_into(coldkey, amount)
            .map_err(|_| Error::<T>::AmountBelowExistentialDeposit)?;
        Self::deposit_event(Event::StakeRemoved {
            coldkey: coldkey.clone(),
            hotkey: hotkey.clone(),
            amount,
        });
        Ok(())
    }

    /// `add_stake_limit` for `coldkey`: [`Self::do_add_stake`] if `netuid` exists and
    /// `limit_price` (rao per alpha) allows alpha's constant price of 1 TAO. `allow_partial` is
    /// irrelevant: at a constant price a limit order fills entirely or not at all.
    pub fn do_add_stake_limit(
        coldkey: &T::AccountId,
        hotkey: &T::AccountId,
        netuid: NetUid,
        amount: u64,
        limit_price: u64,
        _allow_partial: bool,
    ) -> DispatchResult {
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        ensure!(limit_price >= Self::current_alpha_price(netuid), Error::<T>::SlippageTooHigh);
        Self::do_add_stake(coldkey, hotkey, amount)
    }

    /// `remove_stake_limit` for `coldkey`: [`Self::do_remove_stake`] if `netuid` exists and
    /// alpha's constant price of 1 TAO is at least `limit_price` (rao per alpha).
    pub fn do_remove_stake_limit(
        coldkey: &T::AccountId,
        hotkey: &T::AccountId,
        netuid: NetUid,
        amount: u64,
        limit_price: u64,
        _allow_partial: bool,
    ) -> DispatchResult {
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        ensure!(limit_price <= Self::current_alpha_price(netuid), Error::<T>::SlippageTooHigh);
        Self::do_remove_stake(coldkey, hotkey, amount)
    }

    /// `decrease_take` (`increase == false`) or `increase_take` for the owner of `hotkey`.
    pub fn do_set_take(
        coldkey: &T::AccountId,
        hotkey: &T::AccountId,
        take: u16,
        increase: bool,
    ) -> DispatchResult {
        let owner = Owner::<T>::get(hotkey).ok_or(Error::<T>::HotKeyAccountNotExists)?;
        ensure!(owner == *coldkey, Error::<T>::NonAssociatedColdKey);
        let current = Delegates::<T>::get(hotkey);
        let valid = if increase {
            take > current && take <= MaxDelegateTake::<T>::get()
        } else {
            take < current
        };
        ensure!(valid, Error::<T>::InvalidTake);
        Delegates::<T>::insert(hotkey, take);
        Self::deposit_event(Event::DelegateTakeSet { hotkey: hotkey.clone(), take });
        Ok(())
    }

    /// Pay a hotkey its epoch emission as stake: `server` (incentive) and the delegate take of
    /// `validator` (dividends) to the hotkey's owner, the rest of `validator` to its nominators
    /// pro rata (flooring dust to the owner). Returns the rao paid; 0 if the hotkey has no
    /// owner.
    pub(crate) fn emit_to_hotkey(hotkey: &T::AccountId, server: u64, validator: u64) -> u64 {
        let Some(owner) = Owner::<T>::get(hotkey) else {
            return 0;
        };
        let take = mul_div(validator, u64::from(Delegates::<T>::get(hotkey)), u64::from(u16::MAX));
        let shared = validator.saturating_sub(take);
        let total = TotalHotkeyStake::<T>::get(hotkey);
        let mut paid_to_nominators = 0u64;
        if total > 0 && shared > 0 {
            let nominators: Vec<(T::AccountId, u64)> = Stake::<T>::iter_prefix(hotkey).collect();
            for (coldkey, stake) in nominators {
                let share = mul_div(shared, stake, total);
                Self::increase_stake(hotkey, &coldkey, share);
                paid_to_nominators = paid_to_nominators.saturating_add(share);
            }
        }
        let to_owner =
            server.saturating_add(take).saturating_add(shared.saturating_sub(paid_to_nominators));
        Self::increase_stake(hotkey, &owner, to_owner);
        server.saturating_add(validator)
    }
}
