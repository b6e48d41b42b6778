//! `SwapRuntimeApi`: subnet-token prices and simulated swaps.
//!
//! Every subnet is a stable mechanism here, as the reference answers for a mechanism-0 subnet:
//! the price of alpha is exactly 1 TAO (`1_000_000_000` rao) and a swap returns what was paid
//! in, without fee or slippage. Staking `x` TAO adds `x` to the classic stake, and unstaking
//! `x` returns `x` TAO, so the 1:1 answer is exact, not an estimate.

use crate::*;
use alloc::vec::Vec;
use subtensor_primitives::{SimSwapResult, SubnetPrice, STABLE_ALPHA_PRICE};

impl<T: Config> Pallet<T> {
    /// Rao per subnet token on `netuid`: always 1 TAO.
    pub fn current_alpha_price(_netuid: NetUid) -> u64 {
        STABLE_ALPHA_PRICE
    }

    /// The price of every existing subnet's token, in netuid order.
    pub fn current_alpha_price_all() -> Vec<SubnetPrice> {
        Self::subnets()
            .into_iter()
            .map(|netuid| SubnetPrice { netuid, price: Self::current_alpha_price(netuid) })
            .collect()
    }

    /// Staking `tao` rao on `netuid`: `tao` alpha for `tao` TAO, no fee (all zero, as the
    /// reference's failed simulation, if the subnet does not exist).
    pub fn sim_swap_tao_for_alpha(netuid: NetUid, tao: u64) -> SimSwapResult {
        Self::sim_swap(netuid, tao)
    }

    /// Unstaking `alpha` rao from `netuid`: `alpha` TAO for `alpha` alpha, no fee (all zero if
    /// the subnet does not exist).
    pub fn sim_swap_alpha_for_tao(netuid: NetUid, alpha: u64) -> SimSwapResult {
        Self::sim_swap(netuid, alpha)
    }

    fn sim_swap(netuid: NetUid, amount: u64) -> SimSwapResult {
        if NetworksAdded::<T>::get(netuid) {
            SimSwapResult::one_to_one(amount)
        } else {
            SimSwapResult::default()
        }
    }
}
