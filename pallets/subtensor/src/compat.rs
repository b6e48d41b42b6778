//! Reference-chain views: storage that the reference chain's clients (bittensor SDK 10.2,
//! btcli 9.20) read, kept by this classic chain with the reference's names, types and hashers.
//!
//! Every subnet here is what the reference calls a stable-mechanism subnet (mechanism 0, alpha
//! priced at exactly 1 TAO), and its stake is classic, so these items hold constant or derived
//! values rather than state of their own:
//!
//! - [`MechanismCountCurrent`]: 1 for every subnet (only mechanism 0 exists; calls that take a
//!   `mecid` refuse any other with [`Error::MechanismDoesNotExist`]).
//! - [`SubnetEmaTaoFlow`]: `(creation block, 0)` for every subnet; classic emission does not
//!   follow stake flows.
//! - [`BlocksSinceLastStep`]: blocks since the subnet's last epoch ([`LastStepBlock`]), written
//!   for every subnet by each block's step (after its epochs ran), so it equals what the runtime
//!   APIs report as `blocks_since_last_step`.
//! - [`OwnedHotkeys`]: the inverse of [`Owner`], appended to when a hotkey gets its owner (its
//!   first registration); ownership never moves, so it only grows.
//! - [`IdentitiesV2`] and [`RootClaimType`]: declared so that clients' map queries succeed; this
//!   chain has no identities and no root claims, so they stay empty.
//!
//! The per-subnet items get their entry when the subnet is created (genesis subnets included:
//! clients list them with map queries, which do not see defaults) and lose it when the subnet is
//! dissolved. [`Config::SubnetLifecycle`] tells other pallets the same (the `Swap` shim keeps
//! `AlphaSqrtPrice` at 1.0 for every subnet).

use crate::*;
use alloc::collections::BTreeSet;
use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::{traits::Get, weights::Weight};
use scale_info::TypeInfo;
use substrate_fixed::types::I64F64;
use subtensor_primitives::OnSubnetChange;

/// A coldkey's root-claim setting (the reference's `RootClaimTypeEnum`, kept for the metadata
/// of [`RootClaimType`]; this chain has no root network and stores none).
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug, Default)]
pub enum RootClaimTypeEnum {
    /// Swap any alpha emission for TAO (the reference's default).
    #[default]
    Swap,
    /// Keep all alpha emission.
    Keep,
    /// Keep the alpha emission of the listed subnets, swap the rest.
    KeepSubnets {
        /// The subnets whose alpha emission is kept.
        subnets: BTreeSet<NetUid>,
    },
}

impl<T: Config> Pallet<T> {
    /// Write the reference-view entries of a subnet created at block `now`, and tell
    /// [`Config::SubnetLifecycle`].
    pub(crate) fn init_reference_views(netuid: NetUid, now: u64) {
        MechanismCountCurrent::<T>::insert(netuid, 1);
        SubnetEmaTaoFlow::<T>::insert(netuid, (now, I64F64::from_num(0)));
        BlocksSinceLastStep::<T>::insert(netuid, 0);
        T::SubnetLifecycle::on_subnet_added(netuid);
    }

    /// Remove the reference-view entries of a dissolved subnet, and tell
    /// [`Config::SubnetLifecycle`].
    pub(crate) fn remove_reference_views(netuid: NetUid) {
        MechanismCountCurrent::<T>::remove(netuid);
        SubnetEmaTaoFlow::<T>::remove(netuid);
        BlocksSinceLastStep::<T>::remove(netuid);
        T::SubnetLifecycle::on_subnet_removed(netuid);
    }

    /// Record that `coldkey` now owns `hotkey` (called where [`Owner`] is first written).
    pub(crate) fn record_owned_hotkey(coldkey: &T::AccountId, hotkey: &T::AccountId) {
        OwnedHotkeys::<T>::append(coldkey, hotkey.clone());
    }

    /// Set [`BlocksSinceLastStep`] of every subnet in `subnets` at block `now`; returns its
    /// weight (one read of [`LastStepBlock`] and one write per subnet).
    pub(crate) fn update_blocks_since_last_step(subnets: &[NetUid], now: u64) -> Weight {
        for &netuid in subnets {
            let since = now.saturating_sub(LastStepBlock::<T>::get(netuid));
            BlocksSinceLastStep::<T>::insert(netuid, since);
        }
        let count = u64::try_from(subnets.len()).unwrap_or(u64::MAX);
        T::DbWeight::get().reads_writes(count, count)
    }

    /// Fail with [`Error::MechanismDoesNotExist`] unless `mecid` is the main mechanism, the only
    /// one a subnet of this chain has.
    pub fn ensure_main_mechanism(mecid: MechId) -> Result<(), Error<T>> {
        frame_support::ensure!(
            mecid == subtensor_primitives::MAIN_MECHANISM,
            Error::<T>::MechanismDoesNotExist
        );
        Ok(())
    }
}
