//! # Swap pallet (shim)
//!
//! The reference chain prices each subnet's token (alpha) in TAO with a swap pool kept by its
//! `Swap` pallet, and btcli 9.20 reads those prices from its storage: a map query of
//! `Swap.AlphaSqrtPrice` (the square root of the price in TAO per alpha, `U64F64`). This chain
//! has classic economics, where every subnet is what the reference calls a stable mechanism:
//! alpha *is* TAO, priced at exactly 1. This pallet only declares that storage item, with the
//! reference's name, key hasher and value type, holding 1.0 for every existing subnet; it has no
//! calls, no events and no pool.
//!
//! ## Design
//!
//! The subtensor pallet owns subnets and tells this one when a subnet is created (genesis
//! subnets included) or dissolved through [`OnSubnetChange`], which [`Pallet`] implements and the
//! runtime names as the subtensor pallet's `SubnetLifecycle`. So an entry exists exactly while
//! its subnet does. A missing entry reads 0 (`ValueQuery`, as on the reference).
//!
//! The runtime places the pallet at index 28, the reference's.
#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;
use subtensor_primitives::{NetUid, OnSubnetChange};

#[cfg(test)]
mod tests;

/// The square root of alpha's price in TAO on every subnet of this chain: 1.0.
pub fn stable_sqrt_price() -> substrate_fixed::types::U64F64 {
    substrate_fixed::types::U64F64::from_num(1)
}

// frame's pallet macros expand to `expect` calls (in storage and pallet info code).
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
    use super::*;
    use frame_support::pallet_prelude::*;
    use substrate_fixed::types::U64F64;

    /// The pallet.
    #[pallet::pallet]
    pub struct Pallet<T>(_);

    /// Configuration of the pallet: nothing beyond frame-system.
    #[pallet::config]
    pub trait Config: frame_system::Config {}

    /// The square root of the price of a subnet's token in TAO per token: 1.0 for every existing
    /// subnet (alpha is TAO here), absent (reading 0) for any other netuid.
    #[pallet::storage]
    pub type AlphaSqrtPrice<T> = StorageMap<_, Twox64Concat, NetUid, U64F64, ValueQuery>;
}

impl<T: Config> OnSubnetChange for Pallet<T> {
    /// A new subnet's token is priced at 1 TAO.
    fn on_subnet_added(netuid: NetUid) {
        AlphaSqrtPrice::<T>::insert(netuid, stable_sqrt_price());
    }

    /// A dissolved subnet has no price.
    fn on_subnet_removed(netuid: NetUid) {
        AlphaSqrtPrice::<T>::remove(netuid);
    }
}
