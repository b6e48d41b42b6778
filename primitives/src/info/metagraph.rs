//! [`Metagraph`] and [`SelectiveMetagraph`]: a whole subnet in one value, returned by
//! `SubnetInfoRuntimeApi` (`get_metagraph`, `get_mechagraph`, `get_all_metagraphs`,
//! `get_selective_metagraph`, `get_selective_mechagraph`).
//!
//! Field names, order and types follow the reference chain's `rpc_info/metagraph.rs` (its
//! `AlphaBalance`/`TaoBalance` are plain `u64` here, same bytes and same metadata). Both structs
//! are generated from one field list, so they cannot drift apart: [`SelectiveMetagraph`] has the
//! same fields wrapped in `Option` (except `netuid`), plus `validators` and `commitments`, and a
//! field's *metagraph index* (what `get_selective_*` takes) is its position,
//! [`SELECTIVE_METAGRAPH_FIELDS`]. The SDK's `SelectiveMetagraphIndex` enum uses the same numbers.
//!
//! "On this chain" notes mark the dTAO-shaped fields that carry classic quantities; see
//! [`crate::info::dynamic`] for the stable-mechanism presentation they follow.

use crate::{AxonInfo, ChainIdentityV2, NetUid, SubnetIdentityV3};
use alloc::vec::Vec;
use codec::{Compact, Decode, Encode};
use scale_info::TypeInfo;
use substrate_fixed::types::I96F32;

macro_rules! metagraph_structs {
    ($( $(#[doc = $doc:literal])* $field:ident : $ty:ty, )*) => {
        /// A subnet's full metagraph: identity, owner, tempo, pool and emission terms,
        /// hyperparameters and every per-UID vector (one entry per UID, in UID order).
        #[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
        #[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
        pub struct Metagraph<AccountId> {
            /// The subnet (metagraph index 0).
            #[codec(compact)]
            pub netuid: NetUid,
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        /// The fields of [`Metagraph`] a client asked for by metagraph index (`Some`), the others
        /// `None`; plus `validators` (index 72) and `commitments` (index 73). `netuid` is always
        /// present.
        #[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
        #[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
        pub struct SelectiveMetagraph<AccountId> {
            /// The subnet (metagraph index 0; always filled).
            #[codec(compact)]
            pub netuid: NetUid,
            $( $(#[doc = $doc])* pub $field: Option<$ty>, )*
            /// Index 72: UIDs holding a validator permit, in UID order.
            pub validators: Option<Vec<Compact<u16>>>,
            /// Index 73: `(hotkey, UTF-8 bytes)` commitments. On this chain: always empty (there
            /// is no commitments pallet).
            pub commitments: Option<Vec<(AccountId, Vec<Compact<u8>>)>>,
        }

        /// The field names of [`SelectiveMetagraph`] in metagraph-index order: entry `i` is the
        /// field that index `i` selects.
        pub const SELECTIVE_METAGRAPH_FIELDS: &[&str] =
            &["netuid", $(stringify!($field),)* "validators", "commitments"];

        impl<AccountId> SelectiveMetagraph<AccountId> {
            /// The fields of `full` whose metagraph index satisfies `wanted`, the others `None`.
            /// `validators` and `commitments`, which [`Metagraph`] lacks, are left `None` for the
            /// caller to fill.
            pub fn select(full: Metagraph<AccountId>, wanted: impl Fn(usize) -> bool) -> Self {
                // Struct expressions evaluate their fields in the order written, which is
                // metagraph-index order.
                let mut index = 0usize;
                Self {
                    netuid: full.netuid,
                    $( $field: {
                        index = index.saturating_add(1);
                        if wanted(index) { Some(full.$field) } else { None }
                    }, )*
                    validators: None,
                    commitments: None,
                }
            }
        }
    };
}

metagraph_structs! {
    /// Index 1: UTF-8 display name. On this chain: `subnet <netuid>`.
    name: Vec<Compact<u8>>,
    /// Index 2: UTF-8 token symbol. On this chain: `τ`, the subnet's "alpha" being TAO.
    symbol: Vec<Compact<u8>>,
    /// Index 3: identity of the subnet. On this chain: always `None`.
    identity: Option<SubnetIdentityV3>,
    /// Index 4: block at which the subnet was created.
    network_registered_at: Compact<u64>,
    /// Index 5: hotkey the owner registered the subnet with.
    owner_hotkey: AccountId,
    /// Index 6: owner (coldkey) of the subnet.
    owner_coldkey: AccountId,
    /// Index 7: block of the query.
    block: Compact<u64>,
    /// Index 8: blocks between epochs.
    tempo: Compact<u16>,
    /// Index 9: block of the last epoch.
    last_step: Compact<u64>,
    /// Index 10: blocks since the last epoch.
    blocks_since_last_step: Compact<u64>,
    /// Index 11: deprecated on the reference, which reports 0; so does this chain.
    subnet_emission: Compact<u64>,
    /// Index 12: subnet tokens in the pool. On this chain: the subnet's total stake (its
    /// hotkeys' `TotalHotkeyStake`), floored at 1 rao.
    alpha_in: Compact<u64>,
    /// Index 13: subnet tokens outstanding. On this chain: the same total stake as `alpha_in`.
    alpha_out: Compact<u64>,
    /// Index 14: TAO in the pool. On this chain: the same total stake as `alpha_in` (price 1).
    tao_in: Compact<u64>,
    /// Index 15: subnet tokens emitted outstanding per block. On this chain: 0.
    alpha_out_emission: Compact<u64>,
    /// Index 16: subnet tokens injected into the pool per block. On this chain: 0.
    alpha_in_emission: Compact<u64>,
    /// Index 17: TAO injected per block. On this chain: the subnet's TAO per block from the block
    /// reward.
    tao_in_emission: Compact<u64>,
    /// Index 18: emission awaiting the next epoch. On this chain: the TAO in `PendingEmission`.
    pending_alpha_emission: Compact<u64>,
    /// Index 19: root dividends awaiting distribution. On this chain: 0 (no root network).
    pending_root_emission: Compact<u64>,
    /// Index 20: traded volume. On this chain: 0.
    subnet_volume: Compact<u128>,
    /// Index 21: moving average of the price. On this chain: exactly 1.0.
    moving_price: I96F32,
    /// Index 22: Yuma `rho`.
    rho: Compact<u16>,
    /// Index 23: Yuma `kappa` (fraction of `u16::MAX`).
    kappa: Compact<u16>,
    /// Index 24: minimum number of weights a validator must set.
    min_allowed_weights: Compact<u16>,
    /// Index 25: maximum weight per UID (fraction of `u16::MAX`).
    max_weights_limit: Compact<u16>,
    /// Index 26: minimum `version_key` accepted with weights.
    weights_version: Compact<u64>,
    /// Index 27: blocks between two weight submissions of a neuron.
    weights_rate_limit: Compact<u64>,
    /// Index 28: blocks without an update after which a neuron is inactive.
    activity_cutoff: Compact<u64>,
    /// Index 29: maximum number of validator permits.
    max_validators: Compact<u16>,
    /// Index 30: registered UIDs.
    num_uids: Compact<u16>,
    /// Index 31: maximum number of UIDs.
    max_uids: Compact<u16>,
    /// Index 32: current burn registration cost, in rao.
    burn: Compact<u64>,
    /// Index 33: current proof-of-work difficulty.
    difficulty: Compact<u64>,
    /// Index 34: whether registration is open.
    registration_allowed: bool,
    /// Index 35: whether proof-of-work registration is open.
    pow_registration_allowed: bool,
    /// Index 36: blocks during which a new neuron cannot be pruned.
    immunity_period: Compact<u16>,
    /// Index 37: lower bound of the difficulty.
    min_difficulty: Compact<u64>,
    /// Index 38: upper bound of the difficulty.
    max_difficulty: Compact<u64>,
    /// Index 39: lower bound of the burn, in rao.
    min_burn: Compact<u64>,
    /// Index 40: upper bound of the burn, in rao.
    max_burn: Compact<u64>,
    /// Index 41: smoothing of registration-cost adjustments (fraction of `u64::MAX`).
    adjustment_alpha: Compact<u64>,
    /// Index 42: blocks between registration-cost adjustments.
    adjustment_interval: Compact<u16>,
    /// Index 43: target registrations per adjustment interval.
    target_regs_per_interval: Compact<u16>,
    /// Index 44: maximum registrations per block.
    max_regs_per_block: Compact<u16>,
    /// Index 45: blocks between two `serve_axon` calls of a neuron.
    serving_rate_limit: Compact<u64>,
    /// Index 46: whether weights go through commit-reveal.
    commit_reveal_weights_enabled: bool,
    /// Index 47: commit-reveal period, in epochs.
    commit_reveal_period: Compact<u64>,
    /// Index 48: whether liquid alpha (bond smoothing) is on.
    liquid_alpha_enabled: bool,
    /// Index 49: liquid-alpha upper bound (fraction of `u16::MAX`).
    alpha_high: Compact<u16>,
    /// Index 50: liquid-alpha lower bound (fraction of `u16::MAX`).
    alpha_low: Compact<u16>,
    /// Index 51: bond moving-average factor (per million).
    bonds_moving_avg: Compact<u64>,
    /// Index 52: hotkey of each UID.
    hotkeys: Vec<AccountId>,
    /// Index 53: coldkey owning each UID's hotkey.
    coldkeys: Vec<AccountId>,
    /// Index 54: identity of each UID's coldkey. On this chain: `None` for every UID.
    identities: Vec<Option<ChainIdentityV2>>,
    /// Index 55: axon of each UID (all zero if never served).
    axons: Vec<AxonInfo>,
    /// Index 56: whether each UID is active.
    active: Vec<bool>,
    /// Index 57: whether each UID holds a validator permit.
    validator_permit: Vec<bool>,
    /// Index 58: pruning score of each UID (fraction of `u16::MAX`).
    pruning_score: Vec<Compact<u16>>,
    /// Index 59: block of each UID's last weight update.
    last_update: Vec<Compact<u64>>,
    /// Index 60: emission of each UID at the last epoch, in rao. On this chain: TAO.
    emission: Vec<Compact<u64>>,
    /// Index 61: dividends of each UID (fraction of `u16::MAX`).
    dividends: Vec<Compact<u16>>,
    /// Index 62: incentive of each UID (fraction of `u16::MAX`).
    incentives: Vec<Compact<u16>>,
    /// Index 63: consensus of each UID (fraction of `u16::MAX`).
    consensus: Vec<Compact<u16>>,
    /// Index 64: trust of each UID (fraction of `u16::MAX`).
    trust: Vec<Compact<u16>>,
    /// Index 65: rank of each UID (fraction of `u16::MAX`).
    rank: Vec<Compact<u16>>,
    /// Index 66: block at which each UID registered.
    block_at_registration: Vec<Compact<u64>>,
    /// Index 67: subnet-token stake of each UID. On this chain: the hotkey's classic TAO stake
    /// (`TotalHotkeyStake`).
    alpha_stake: Vec<Compact<u64>>,
    /// Index 68: root (TAO) stake of each UID. On this chain: 0 for every UID.
    tao_stake: Vec<Compact<u64>>,
    /// Index 69: stake weight of each UID. On this chain: equal to `alpha_stake`.
    total_stake: Vec<Compact<u64>>,
    /// Index 70: root dividends per hotkey at the last epoch. On this chain: empty (no root
    /// network).
    tao_dividends_per_hotkey: Vec<(AccountId, Compact<u64>)>,
    /// Index 71: subnet dividends per hotkey at the last epoch. On this chain: empty (the epoch
    /// stores each UID's total emission, `emission`, not its dividend part).
    alpha_dividends_per_hotkey: Vec<(AccountId, Compact<u64>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selective_indexes_follow_the_reference_enum() {
        // The reference's `SelectiveMetagraphIndex` (and the SDK's) has 74 entries, 0 ..= 73.
        assert_eq!(SELECTIVE_METAGRAPH_FIELDS.len(), 74);
        let at = |name: &str| SELECTIVE_METAGRAPH_FIELDS.iter().position(|f| *f == name);
        assert_eq!(at("netuid"), Some(0));
        assert_eq!(at("moving_price"), Some(21));
        assert_eq!(at("bonds_moving_avg"), Some(51));
        assert_eq!(at("hotkeys"), Some(52));
        assert_eq!(at("identities"), Some(54));
        assert_eq!(at("axons"), Some(55));
        assert_eq!(at("total_stake"), Some(69));
        assert_eq!(at("alpha_dividends_per_hotkey"), Some(71));
        assert_eq!(at("validators"), Some(72));
        assert_eq!(at("commitments"), Some(73));
    }
}
