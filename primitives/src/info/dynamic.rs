//! [`SubnetState`] and [`DynamicInfo`]: a subnet's per-UID state and its pool summary, returned by
//! `SubnetInfoRuntimeApi` (`get_subnet_state`, `get_dynamic_info`, `get_all_dynamic_info`).
//!
//! Field names and order follow the reference chain's `rpc_info/{show_subnet,dynamic_info}.rs`.
//! The reference is a dTAO chain; this one is classic (one TAO stake per (hotkey, coldkey), no
//! subnet tokens). Every subnet is presented as the reference presents a *stable mechanism*
//! (mechanism 0) subnet: its "alpha" is TAO, priced at exactly 1 TAO, swapping 1:1 without fee.
//! Each field whose dTAO meaning is filled with a classic quantity says so ("On this chain").

use crate::{NetUid, SubnetIdentityV3};
use alloc::vec::Vec;
use codec::{Compact, Decode, Encode};
use scale_info::TypeInfo;
use substrate_fixed::types::I96F32;

/// Per-UID state of a subnet (`get_subnet_state`): what the SDK's `metagraph()` reads its stake
/// vectors (`S`, `AS`, `TS`) from. Every per-UID vector has one entry per UID, in UID order.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct SubnetState<AccountId> {
    /// The subnet.
    #[codec(compact)]
    pub netuid: NetUid,
    /// Hotkey of each UID.
    pub hotkeys: Vec<AccountId>,
    /// Coldkey owning each UID's hotkey.
    pub coldkeys: Vec<AccountId>,
    /// Whether each UID is active.
    pub active: Vec<bool>,
    /// Whether each UID holds a validator permit.
    pub validator_permit: Vec<bool>,
    /// Pruning score of each UID (fraction of `u16::MAX`).
    pub pruning_score: Vec<Compact<u16>>,
    /// Block of each UID's last weight update.
    pub last_update: Vec<Compact<u64>>,
    /// Emission of each UID at the last epoch, in rao. On this chain: TAO (the "alpha" unit is
    /// TAO).
    pub emission: Vec<Compact<u64>>,
    /// Dividends of each UID (fraction of `u16::MAX`).
    pub dividends: Vec<Compact<u16>>,
    /// Incentive of each UID (fraction of `u16::MAX`).
    pub incentives: Vec<Compact<u16>>,
    /// Consensus of each UID (fraction of `u16::MAX`).
    pub consensus: Vec<Compact<u16>>,
    /// Trust of each UID (fraction of `u16::MAX`).
    pub trust: Vec<Compact<u16>>,
    /// Rank of each UID (fraction of `u16::MAX`).
    pub rank: Vec<Compact<u16>>,
    /// Block at which each UID registered.
    pub block_at_registration: Vec<Compact<u64>>,
    /// Subnet-token stake of each UID, in rao. On this chain: the hotkey's classic TAO stake
    /// (`TotalHotkeyStake`), the stake Yuma weighs on every subnet the hotkey is in.
    pub alpha_stake: Vec<Compact<u64>>,
    /// Root (TAO) stake of each UID, in rao. On this chain: always 0 (there is no root network;
    /// the stake is in `alpha_stake`, which clients do not discount).
    pub tao_stake: Vec<Compact<u64>>,
    /// Stake weight of each UID, in rao. On this chain: equal to `alpha_stake`, so the SDK's
    /// `metagraph.S` is the classic stake.
    pub total_stake: Vec<Compact<u64>>,
    /// One vector per existing subnet (netuid order), holding each of this subnet's hotkeys'
    /// last-epoch emission there (0 where the hotkey is not registered).
    pub emission_history: Vec<Vec<Compact<u64>>>,
}

/// Pool summary of a subnet (`get_dynamic_info`, `get_all_dynamic_info`): what the SDK's
/// `subnet()`/`all_subnets()` and btcli's subnet and stake tables read.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct DynamicInfo<AccountId> {
    /// The subnet.
    #[codec(compact)]
    pub netuid: NetUid,
    /// Hotkey the owner registered the subnet with.
    pub owner_hotkey: AccountId,
    /// Owner (coldkey) of the subnet.
    pub owner_coldkey: AccountId,
    /// UTF-8 display name. On this chain: `subnet <netuid>` (no identities are stored).
    pub subnet_name: Vec<Compact<u8>>,
    /// UTF-8 token symbol. On this chain: `τ` for every subnet, since its "alpha" is TAO.
    pub token_symbol: Vec<Compact<u8>>,
    /// Blocks between epochs.
    #[codec(compact)]
    pub tempo: u16,
    /// Block of the last epoch.
    #[codec(compact)]
    pub last_step: u64,
    /// Blocks since the last epoch.
    #[codec(compact)]
    pub blocks_since_last_step: u64,
    /// TAO (rao) per block the subnet receives from the block reward.
    #[codec(compact)]
    pub emission: u64,
    /// Subnet tokens in the pool, in rao. On this chain: the subnet's total stake (its hotkeys'
    /// `TotalHotkeyStake` summed), floored at 1 rao so `tao_in / alpha_in` is always 1.
    #[codec(compact)]
    pub alpha_in: u64,
    /// Subnet tokens outstanding, in rao. On this chain: the same total stake as `alpha_in`.
    #[codec(compact)]
    pub alpha_out: u64,
    /// TAO in the pool, in rao. On this chain: the same total stake as `alpha_in` (price 1).
    #[codec(compact)]
    pub tao_in: u64,
    /// Subnet tokens emitted outstanding per block. On this chain: 0 (no subnet token is minted).
    #[codec(compact)]
    pub alpha_out_emission: u64,
    /// Subnet tokens injected into the pool per block. On this chain: 0.
    #[codec(compact)]
    pub alpha_in_emission: u64,
    /// TAO injected per block, in rao. On this chain: `emission`, the subnet's TAO per block.
    #[codec(compact)]
    pub tao_in_emission: u64,
    /// Emission accumulated for the next epoch, in rao. On this chain: the TAO in
    /// `PendingEmission`.
    #[codec(compact)]
    pub pending_alpha_emission: u64,
    /// Root dividends awaiting distribution. On this chain: 0 (no root network).
    #[codec(compact)]
    pub pending_root_emission: u64,
    /// Traded volume. On this chain: 0 (there is no pool to trade against).
    #[codec(compact)]
    pub subnet_volume: u128,
    /// Block at which the subnet was created.
    #[codec(compact)]
    pub network_registered_at: u64,
    /// Identity of the subnet. On this chain: always `None`.
    pub subnet_identity: Option<SubnetIdentityV3>,
    /// Exponential moving average of the price. On this chain: exactly 1.0 (bits `1 << 32`).
    pub moving_price: I96F32,
}

/// The UTF-8 bytes of `text` as the reference's `Vec<Compact<u8>>` strings.
pub fn compact_bytes(text: &[u8]) -> Vec<Compact<u8>> {
    text.iter().copied().map(Compact).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountId;

    #[test]
    fn dynamic_info_roundtrips_and_price_one_is_bits_1_shl_32() {
        let info = DynamicInfo {
            netuid: NetUid(3),
            owner_hotkey: AccountId::new([1; 32]),
            owner_coldkey: AccountId::new([2; 32]),
            subnet_name: compact_bytes(b"subnet 3"),
            token_symbol: compact_bytes("τ".as_bytes()),
            tempo: 360,
            last_step: 7,
            blocks_since_last_step: 2,
            emission: 5,
            alpha_in: 1,
            alpha_out: 1,
            tao_in: 1,
            alpha_out_emission: 0,
            alpha_in_emission: 0,
            tao_in_emission: 5,
            pending_alpha_emission: 9,
            pending_root_emission: 0,
            subnet_volume: 0,
            network_registered_at: 0,
            subnet_identity: None,
            moving_price: I96F32::from_num(1),
        };
        assert_eq!(info.moving_price.to_bits(), 1i128 << 32);
        let bytes = info.encode();
        // Ends with `subnet_identity: None` then the 16-byte little-endian fixed-point 1.0.
        let mut tail = vec![0u8];
        tail.extend_from_slice(&(1i128 << 32).to_le_bytes());
        assert!(bytes.ends_with(&tail));
        assert_eq!(DynamicInfo::<AccountId>::decode(&mut &bytes[..]), Ok(info));
    }
}
