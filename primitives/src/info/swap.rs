//! [`SimSwapResult`] and [`SubnetPrice`]: the reference's `SwapRuntimeApi` results (its
//! `pallets/swap/runtime-api`).
//!
//! On this chain every subnet is a stable mechanism: its "alpha" is TAO, the price is exactly 1
//! TAO (`1_000_000_000` rao per alpha) and a swap returns what was paid in, with no fee and no
//! slippage. That is what the reference itself answers for a mechanism-0 subnet.

use crate::NetUid;
use codec::{Decode, Encode};
use scale_info::TypeInfo;

/// The price of one subnet token in rao (`current_alpha_price`). On this chain: always 1 TAO.
pub const STABLE_ALPHA_PRICE: u64 = crate::RAO_PER_TAO;

/// A simulated swap (`sim_swap_tao_for_alpha`, `sim_swap_alpha_for_tao`); amounts in rao.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct SimSwapResult {
    /// TAO paid in (TAO→alpha) or received (alpha→TAO).
    pub tao_amount: u64,
    /// Alpha received (TAO→alpha) or paid in (alpha→TAO). On this chain: equal to `tao_amount`.
    pub alpha_amount: u64,
    /// Fee taken in TAO. On this chain: 0.
    pub tao_fee: u64,
    /// Fee taken in alpha. On this chain: 0.
    pub alpha_fee: u64,
    /// TAO lost to slippage. On this chain: 0.
    pub tao_slippage: u64,
    /// Alpha lost to slippage. On this chain: 0.
    pub alpha_slippage: u64,
}

impl SimSwapResult {
    /// The stable-mechanism swap of `amount` rao: the same amount on both sides, nothing lost.
    pub fn one_to_one(amount: u64) -> Self {
        SimSwapResult { tao_amount: amount, alpha_amount: amount, ..Default::default() }
    }
}

/// The price of one subnet's token (`current_alpha_price_all`).
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct SubnetPrice {
    /// The subnet (a plain `u16`, not compact, as on the reference).
    pub netuid: NetUid,
    /// Rao per subnet token. On this chain: always [`STABLE_ALPHA_PRICE`].
    pub price: u64,
}
