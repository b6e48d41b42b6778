//! Neuron registration: by burning TAO (`burned_register`) or by proof of work (`register`),
//! and the retargeting of burn and difficulty toward the subnet's target registration rate.

use crate::*;
use codec::Encode;
use frame_support::{
    ensure,
    pallet_prelude::DispatchResult,
    traits::{
        fungible::{Inspect, Mutate},
        tokens::{Fortitude, Precision, Preservation},
    },
};
use sp_core::{H256, U256};
use sp_runtime::SaturatedConversion;

/// How many blocks old the block of a proof of work may be.
pub const POW_BLOCK_WINDOW: u64 = 3;

/// The proof-of-work seal of `hotkey` over `block_hash` with `nonce`:
/// `keccak256(sha256(nonce_le ‖ keccak256(block_hash ‖ hotkey)))`.
pub fn create_seal_hash(block_hash: &[u8], hotkey: &[u8], nonce: u64) -> H256 {
    let mut block_and_hotkey = alloc::vec::Vec::with_capacity(64);
    block_and_hotkey.extend_from_slice(block_hash);
    block_and_hotkey.extend_from_slice(hotkey);
    let inner = sp_io::hashing::keccak_256(&block_and_hotkey);
    let mut full = [0u8; 40];
    full[..8].copy_from_slice(&nonce.to_le_bytes());
    full[8..].copy_from_slice(&inner);
    H256(sp_io::hashing::keccak_256(&sp_io::hashing::sha2_256(&full)))
}

/// Whether `seal`, read as a big-endian 256-bit number, times `difficulty` fits in 256 bits
/// (the reference chain's and the Python solver's reading).
pub fn hash_meets_difficulty(seal: &H256, difficulty: u64) -> bool {
    let value = U256::from_big_endian(seal.as_bytes());
    !value.overflowing_mul(U256::from(difficulty)).1
}

/// `current` moved toward the registration rate: `alpha * current + (1 - alpha) * current *
/// (registrations + target) / (2 * target)`, with `alpha = adjustment_alpha / u64::MAX`,
/// clamped to `[min, max]`.
pub fn retarget(
    current: u64,
    registrations: u16,
    target: u16,
    adjustment_alpha: u64,
    min: u64,
    max: u64,
) -> u64 {
    let target = U256::from(target.max(1));
    let full = U256::from(u64::MAX);
    let alpha = U256::from(adjustment_alpha);
    let current_u = U256::from(current);
    // Both divisors are non-zero (`full` is u64::MAX, `target` at least 1).
    let kept = current_u.saturating_mul(alpha).checked_div(full).unwrap_or_default();
    let moved = current_u
        .saturating_mul(full.saturating_sub(alpha))
        .saturating_mul(U256::from(registrations).saturating_add(target))
        .checked_div(full)
        .and_then(|x| x.checked_div(target.saturating_mul(U256::from(2u8))))
        .unwrap_or_default();
    let next = kept.saturating_add(moved);
    let next = if next > U256::from(u64::MAX) { u64::MAX } else { next.low_u64() };
    next.clamp(min, max.max(min))
}

impl<T: Config> Pallet<T> {
    /// Checks shared by both registration paths.
    fn ensure_can_register(
        netuid: NetUid,
        hotkey: &T::AccountId,
        coldkey: &T::AccountId,
    ) -> DispatchResult {
        ensure!(netuid != NetUid::ROOT, Error::<T>::RootNetUidNotAllowed);
        ensure!(NetworksAdded::<T>::get(netuid), Error::<T>::SubnetNotExists);
        ensure!(
            NetworkRegistrationAllowed::<T>::get(netuid),
            Error::<T>::SubNetRegistrationDisabled
        );
        ensure!(
            RegistrationsThisBlock::<T>::get(netuid) < MaxRegistrationsPerBlock::<T>::get(netuid),
            Error::<T>::TooManyRegistrationsThisBlock
        );
        ensure!(
            u32::from(RegistrationsThisInterval::<T>::get(netuid))
                < u32::from(TargetRegistrationsPerInterval::<T>::get(netuid)).saturating_mul(3),
            Error::<T>::TooManyRegistrationsThisInterval
        );
        ensure!(
            Uids::<T>::get(netuid, hotkey).is_none(),
            Error::<T>::HotKeyAlreadyRegisteredInSubNet
        );
        Self::ensure_hotkey_owner_or_free(hotkey, coldkey)?;
        if SubnetworkN::<T>::get(netuid) >= MaxAllowedUids::<T>::get(netuid) {
            ensure!(Self::neuron_to_prune(netuid).is_some(), Error::<T>::NoNeuronToPrune);
        }
        Ok(())
    }

    fn count_registration(netuid: NetUid, pow: bool) {
        RegistrationsThisBlock::<T>::mutate(netuid, |c| *c = c.saturating_add(1));
        RegistrationsThisInterval::<T>::mutate(netuid, |c| *c = c.saturating_add(1));
        if pow {
            PowRegistrationsThisInterval::<T>::mutate(netuid, |c| *c = c.saturating_add(1));
        } else {
            BurnRegistrationsThisInterval::<T>::mutate(netuid, |c| *c = c.saturating_add(1));
        }
    }

    /// Register `hotkey` on `netuid`, burning the subnet's current burn from `coldkey`.
    pub fn do_burned_register(
        netuid: NetUid,
        coldkey: &T::AccountId,
        hotkey: &T::AccountId,
    ) -> DispatchResult {
        Self::ensure_can_register(netuid, hotkey, coldkey)?;
        let burn = Burn::<T>::get(netuid);
        let available =
            T::Currency::reducible_balance(coldkey, Preservation::Expendable, Fortitude::Polite);
        ensure!(available >= burn, Error::<T>::NotEnoughBalanceToBurn);
        if burn > 0 {
            T::Currency::burn_from(
                coldkey,
                burn,
                Preservation::Expendable,
                Precision::Exact,
                Fortitude::Polite,
            )
            .map_err(|_| Error::<T>::NotEnoughBalanceToBurn)?;
        }
        Self::register_neuron(netuid, hotkey, coldkey)?;
        Self::count_registration(netuid, false);
        Ok(())
    }

    /// Every check of a proof-of-work registration, in order, without writing; returns the
    /// seal. Shared by dispatch and pool validation.
    fn check_pow_register(
        netuid: NetUid,
        block_number: u64,
        nonce: u64,
        work: &[u8],
        hotkey: &T::AccountId,
        coldkey: &T::AccountId,
    ) -> Result<H256, sp_runtime::DispatchError> {
        Self::ensure_can_register(netuid, hotkey, coldkey)?;
        ensure!(
            NetworkPowRegistrationAllowed::<T>::get(netuid),
            Error::<T>::PowRegistrationDisabled
        );
        let now = Self::current_block();
        ensure!(
            block_number <= now && now.saturating_sub(block_number) < POW_BLOCK_WINDOW,
            Error::<T>::InvalidWorkBlock
        );
        let block_hash = frame_system::Pallet::<T>::block_hash(
            block_number.saturated_into::<frame_system::pallet_prelude::BlockNumberFor<T>>(),
        );
        let seal = create_seal_hash(block_hash.as_ref(), &hotkey.encode(), nonce);
        ensure!(work == seal.as_bytes(), Error::<T>::InvalidSeal);
        ensure!(
            hash_meets_difficulty(&seal, Difficulty::<T>::get(netuid)),
            Error::<T>::InvalidDifficulty
        );
        ensure!(!UsedWork::<T>::contains_key(seal), Error::<T>::WorkRepeated);
        Ok(seal)
    }

    /// Whether a proof-of-work `register` would succeed now (pool-time validation): the
    /// subnet's registration limits, the hotkey's ownership, the work's block, seal, difficulty
    /// and freshness.
    pub fn validate_pow_register(
        netuid: NetUid,
        block_number: u64,
        nonce: u64,
        work: &[u8],
        hotkey: &T::AccountId,
        coldkey: &T::AccountId,
    ) -> DispatchResult {
        Self::check_pow_register(netuid, block_number, nonce, work, hotkey, coldkey).map(|_| ())
    }

    /// Register `hotkey` on `netuid` for `coldkey` with a proof of work over `block_number`.
    pub fn do_pow_register(
        netuid: NetUid,
        block_number: u64,
        nonce: u64,
        work: &[u8],
        hotkey: &T::AccountId,
        coldkey: &T::AccountId,
    ) -> DispatchResult {
        let seal = Self::check_pow_register(netuid, block_number, nonce, work, hotkey, coldkey)?;
        UsedWork::<T>::insert(seal, Self::current_block());
        Self::register_neuron(netuid, hotkey, coldkey)?;
        Self::count_registration(netuid, true);
        Ok(())
    }

    /// At the end of each adjustment interval, move burn and/or difficulty toward the target
    /// registration rate (the reference chain's six cases), then reset the interval counters.
    pub(crate) fn adjust_registration_terms(netuid: NetUid, now: u64) {
        let interval = u64::from(AdjustmentInterval::<T>::get(netuid));
        let last = LastAdjustmentBlock::<T>::get(netuid);
        if interval == 0 || now.saturating_sub(last) < interval {
            return;
        }
        let regs = RegistrationsThisInterval::<T>::get(netuid);
        let pow = PowRegistrationsThisInterval::<T>::get(netuid);
        let burned = BurnRegistrationsThisInterval::<T>::get(netuid);
        let target = TargetRegistrationsPerInterval::<T>::get(netuid);
        let alpha = AdjustmentAlpha::<T>::get(netuid);
        let burn = Burn::<T>::get(netuid);
        let difficulty = Difficulty::<T>::get(netuid);
        let next_burn = || {
            retarget(
                burn,
                regs,
                target,
                alpha,
                MinBurn::<T>::get(netuid),
                MaxBurn::<T>::get(netuid),
            )
        };
        let next_difficulty = || {
            retarget(
                difficulty,
                regs,
                target,
                alpha,
                MinDifficulty::<T>::get(netuid),
                MaxDifficulty::<T>::get(netuid),
            )
        };
        // Over target: raise the price of the dominant path. Under target: lower the price of
        // the path nobody used. A tie moves both.
        let (move_burn, move_difficulty) = if regs > target {
            (burned >= pow, pow >= burned)
        } else {
            (pow >= burned, burned >= pow)
        };
        let new_burn = if move_burn { next_burn() } else { burn };
        let new_difficulty = if move_difficulty { next_difficulty() } else { difficulty };
        Burn::<T>::insert(netuid, new_burn);
        Difficulty::<T>::insert(netuid, new_difficulty);
        RegistrationsThisInterval::<T>::remove(netuid);
        PowRegistrationsThisInterval::<T>::remove(netuid);
        BurnRegistrationsThisInterval::<T>::remove(netuid);
        LastAdjustmentBlock::<T>::insert(netuid, now);
        Self::deposit_event(Event::RegistrationTermsAdjusted {
            netuid,
            burn: new_burn,
            difficulty: new_difficulty,
        });
    }
}
