//! Runtime API declarations of the subtensor chain: `NeuronInfoRuntimeApi`,
//! `SubnetInfoRuntimeApi`, `SubnetRegistrationRuntimeApi`, `StakeInfoRuntimeApi`,
//! `DelegateInfoRuntimeApi` and `SwapRuntimeApi`, and this chain's own `GridSpecRuntimeApi`.
//!
//! API names, method names, **parameter names**, argument types and return types match the
//! reference chain's `pallets/subtensor/runtime-api` and `pallets/swap/runtime-api`, so clients
//! reach them with the same `state_call("<Api>_<method>", SCALE(args))`, and metadata-driven
//! clients (Python SDK 10, btcli 9, which look methods up in metadata V15 and may pass arguments
//! by name) find them. Results decode with the layouts in [`subtensor_primitives::info`].
//! Arguments are SCALE-encoded in declaration order: a [`NetUid`] is a little-endian `u16`, a
//! UID a `u16`, a mechanism id a `u8`, an amount a `u64` of rao.
//!
//! The dTAO-shaped views (subnet state, dynamic info, metagraphs, stake info, delegates, swaps)
//! present this classic chain as the reference presents a stable-mechanism subnet: alpha is TAO
//! at price 1, swaps are 1:1 without fee, stake is the classic (hotkey, coldkey) stake. Each
//! struct field documents what it carries here.
//!
//! `GridSpecRuntimeApi` has no counterpart on the reference chain: it serves the grid spec of
//! a homogeneous inference subnet ([`GridSpecRecord`]), in a trait of its own so that the
//! reference-shaped APIs and their versions stay exactly as the Python SDK expects them.
//!
//! This crate only declares the APIs; the runtime implements them (`impl_runtime_apis!`) by
//! calling into the pallet. It builds `no_std` for the runtime.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use subtensor_primitives::{
    AccountId, ColdkeyStakeInfo, DelegateInfo, DelegatedInfo, DynamicInfo, GridSpecRecord,
    Metagraph, NetUid, NeuronInfo, NeuronInfoLite, SelectiveMetagraph, SimSwapResult, StakeInfo,
    SubnetHyperparams, SubnetHyperparamsV2, SubnetInfo, SubnetInfov2, SubnetPrice, SubnetState,
};

sp_api::decl_runtime_apis! {
    /// Per-neuron views of a subnet's metagraph.
    pub trait NeuronInfoRuntimeApi {
        /// Every neuron of `netuid` in UID order, with weights and bonds; empty if the subnet
        /// does not exist.
        fn get_neurons(netuid: NetUid) -> Vec<NeuronInfo<AccountId>>;
        /// The neuron at `uid` on `netuid`, with weights and bonds; `None` if the subnet or the
        /// UID does not exist.
        fn get_neuron(netuid: NetUid, uid: u16) -> Option<NeuronInfo<AccountId>>;
        /// Every neuron of `netuid` in UID order, without weights and bonds; empty if the subnet
        /// does not exist.
        fn get_neurons_lite(netuid: NetUid) -> Vec<NeuronInfoLite<AccountId>>;
        /// The neuron at `uid` on `netuid`, without weights and bonds; `None` if the subnet or
        /// the UID does not exist.
        fn get_neuron_lite(netuid: NetUid, uid: u16) -> Option<NeuronInfoLite<AccountId>>;
    }

    /// Subnet summaries and hyperparameters.
    pub trait SubnetInfoRuntimeApi {
        /// Summary of `netuid`; `None` if the subnet does not exist.
        fn get_subnet_info(netuid: NetUid) -> Option<SubnetInfo<AccountId>>;
        /// Summaries of all existing subnets in ascending netuid order (as on the reference,
        /// missing netuids are skipped, so every entry is `Some`).
        fn get_subnets_info() -> Vec<Option<SubnetInfo<AccountId>>>;
        /// Hyperparameters of `netuid` in the v1 layout; `None` if the subnet does not exist.
        fn get_subnet_hyperparams(netuid: NetUid) -> Option<SubnetHyperparams>;
        /// Hyperparameters of `netuid` in the v2 layout (what SDK 10's
        /// `get_subnet_hyperparameters` calls); `None` if the subnet does not exist.
        ///
        /// Opt-in: only a runtime that declares `#[api_version(2)]` on its
        /// `SubnetInfoRuntimeApi` impl must implement it, and only then does it appear in the
        /// metadata.
        #[api_version(2)]
        fn get_subnet_hyperparams_v2(netuid: NetUid) -> Option<SubnetHyperparamsV2>;

        // Version 3: the views SDK 10 and btcli 9 read. Like v2, they appear in the metadata of
        // a runtime whose impl declares `#[api_version(3)]`.

        /// Summary of `netuid` with `emission_value` and the identity (SDK 10's
        /// `get_subnet_info`); `None` if the subnet does not exist.
        #[api_version(3)]
        fn get_subnet_info_v2(netuid: NetUid) -> Option<SubnetInfov2<AccountId>>;
        /// [`Self::get_subnet_info_v2`] of every existing subnet, in netuid order.
        #[api_version(3)]
        fn get_subnets_info_v2() -> Vec<Option<SubnetInfov2<AccountId>>>;
        /// Pool summary of every existing subnet, in netuid order (each `Some`).
        #[api_version(3)]
        fn get_all_dynamic_info() -> Vec<Option<DynamicInfo<AccountId>>>;
        /// The full metagraph of every existing subnet, in netuid order.
        #[api_version(3)]
        fn get_all_metagraphs() -> Vec<Option<Metagraph<AccountId>>>;
        /// The full metagraph of `netuid`; `None` if the subnet does not exist.
        #[api_version(3)]
        fn get_metagraph(netuid: NetUid) -> Option<Metagraph<AccountId>>;
        /// The full metagraph of every mechanism of every subnet (one mechanism each here).
        #[api_version(3)]
        fn get_all_mechagraphs() -> Vec<Option<Metagraph<AccountId>>>;
        /// The full metagraph of mechanism `mecid` of `netuid`; `None` unless the subnet exists
        /// and `mecid` is 0 (every subnet has exactly one mechanism here).
        #[api_version(3)]
        fn get_mechagraph(netuid: NetUid, mecid: u8) -> Option<Metagraph<AccountId>>;
        /// Pool summary of `netuid`; `None` if the subnet does not exist.
        #[api_version(3)]
        fn get_dynamic_info(netuid: NetUid) -> Option<DynamicInfo<AccountId>>;
        /// Per-UID state of `netuid` (what SDK 10's `metagraph()` reads stake from); `None` if
        /// the subnet does not exist.
        #[api_version(3)]
        fn get_subnet_state(netuid: NetUid) -> Option<SubnetState<AccountId>>;
        /// The metagraph fields of `netuid` whose indexes are listed (`netuid` always);
        /// `None` if the subnet does not exist.
        #[api_version(3)]
        fn get_selective_metagraph(
            netuid: NetUid,
            metagraph_indexes: Vec<u16>,
        ) -> Option<SelectiveMetagraph<AccountId>>;
        /// [`Self::get_selective_metagraph`] of mechanism `subid` (the reference's parameter
        /// name); `None` unless the subnet exists and `subid` is 0.
        #[api_version(3)]
        fn get_selective_mechagraph(
            netuid: NetUid,
            subid: u8,
            metagraph_indexes: Vec<u16>,
        ) -> Option<SelectiveMetagraph<AccountId>>;
    }

    /// Subnet registration prices.
    pub trait SubnetRegistrationRuntimeApi {
        /// The rao `register_network` locks at the queried block (the cost only falls as
        /// blocks pass, so it is an upper bound for the next block).
        fn get_network_registration_cost() -> u64;
    }

    /// Stake positions. Stake is classic, one TAO amount per (hotkey, coldkey): list views
    /// report each pair once, under the hotkey's home netuid (the lowest it is registered on,
    /// else the lowest existing subnet); the per-netuid query answers it for any netuid.
    pub trait StakeInfoRuntimeApi {
        /// Every stake position of `coldkey_account`, ordered by (netuid, hotkey).
        fn get_stake_info_for_coldkey(coldkey_account: AccountId) -> Vec<StakeInfo<AccountId>>;
        /// [`Self::get_stake_info_for_coldkey`] of each coldkey, in the order given.
        fn get_stake_info_for_coldkeys(
            coldkey_accounts: Vec<AccountId>,
        ) -> Vec<ColdkeyStakeInfo<AccountId>>;
        /// The stake of `coldkey_account` on `hotkey_account`, reported on `netuid`: always
        /// `Some` (as on the reference), with `Stake[hotkey][coldkey]` if `netuid` exists and 0
        /// otherwise.
        fn get_stake_info_for_hotkey_coldkey_netuid(
            hotkey_account: AccountId,
            coldkey_account: AccountId,
            netuid: NetUid,
        ) -> Option<StakeInfo<AccountId>>;
    }

    /// Delegates: every hotkey with an owner accepts stake here.
    pub trait DelegateInfoRuntimeApi {
        /// Every delegate, ordered by hotkey, with its nominators.
        fn get_delegates() -> Vec<DelegateInfo<AccountId>>;
        /// The delegate `delegate_account`, with its nominators; `None` if the hotkey has no
        /// owner.
        fn get_delegate(delegate_account: AccountId) -> Option<DelegateInfo<AccountId>>;
        /// The delegates `delegatee_account` (a coldkey) has stake on, each (without its
        /// nominators, as on the reference) with `(home netuid, stake in rao)`.
        fn get_delegated(delegatee_account: AccountId) -> Vec<DelegatedInfo<AccountId>>;
    }

    /// Prices and simulated swaps of subnet tokens. Every subnet is a stable mechanism here:
    /// alpha is TAO at exactly 1 TAO, and swaps are 1:1 with no fee and no slippage.
    pub trait SwapRuntimeApi {
        /// Rao per subnet token: always `1_000_000_000`.
        fn current_alpha_price(netuid: NetUid) -> u64;
        /// [`Self::current_alpha_price`] of every existing subnet, in netuid order.
        fn current_alpha_price_all() -> Vec<SubnetPrice>;
        /// Staking `tao` rao on `netuid`: `alpha_amount == tao_amount == tao`, no fee; all zero
        /// if the subnet does not exist.
        fn sim_swap_tao_for_alpha(netuid: NetUid, tao: u64) -> SimSwapResult;
        /// Unstaking `alpha` rao from `netuid`: `tao_amount == alpha_amount == alpha`, no fee;
        /// all zero if the subnet does not exist.
        fn sim_swap_alpha_for_tao(netuid: NetUid, alpha: u64) -> SimSwapResult;
    }

    /// Grid specs: what a homogeneous inference subnet's miners serve.
    pub trait GridSpecRuntimeApi {
        /// The grid spec of `netuid` with the block it was set at; `None` if the subnet has
        /// none (an ordinary subnet) or does not exist.
        fn get_grid_spec(netuid: NetUid) -> Option<GridSpecRecord>;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scale_info::meta_type;
    use sp_metadata_ir::RuntimeApiMetadataIR;

    type Block =
        sp_runtime::generic::Block<sp_runtime::testing::Header, sp_runtime::OpaqueExtrinsic>;

    /// `(method, [argument names])` as the metadata lists them.
    fn shape(md: &RuntimeApiMetadataIR) -> Vec<(&'static str, Vec<&'static str>)> {
        md.methods.iter().map(|m| (m.name, m.inputs.iter().map(|i| i.name).collect())).collect()
    }

    #[test]
    fn neuron_info_api_metadata() {
        let md = runtime_decl_for_neuron_info_runtime_api::runtime_metadata::<Block>(1);
        assert_eq!(md.name, "NeuronInfoRuntimeApi");
        assert_eq!(
            shape(&md),
            vec![
                ("get_neurons", vec!["netuid"]),
                ("get_neuron", vec!["netuid", "uid"]),
                ("get_neurons_lite", vec!["netuid"]),
                ("get_neuron_lite", vec!["netuid", "uid"]),
            ]
        );
        // A netuid argument is a plain u16 to metadata-driven clients.
        let netuid_ty = md.methods.first().and_then(|m| m.inputs.first()).map(|i| i.ty);
        assert_eq!(netuid_ty, Some(meta_type::<u16>()));
        assert_eq!(
            md.methods.first().map(|m| m.output),
            Some(meta_type::<Vec<NeuronInfo<AccountId>>>())
        );
    }

    #[test]
    fn subnet_info_api_metadata_and_opt_in_v2() {
        let v1 = runtime_decl_for_subnet_info_runtime_api::runtime_metadata::<Block>(1);
        assert_eq!(v1.name, "SubnetInfoRuntimeApi");
        assert_eq!(
            shape(&v1),
            vec![
                ("get_subnet_info", vec!["netuid"]),
                ("get_subnets_info", vec![]),
                ("get_subnet_hyperparams", vec!["netuid"]),
            ]
        );
        let v2 = runtime_decl_for_subnet_info_runtime_api::runtime_metadata::<Block>(2);
        assert_eq!(shape(&v2).last(), Some(&("get_subnet_hyperparams_v2", vec!["netuid"])));
        assert_eq!(v2.methods.len(), 4);
    }

    #[test]
    fn subnet_info_api_v3_lists_the_sdk_views_with_reference_parameter_names() {
        let v3 = runtime_decl_for_subnet_info_runtime_api::runtime_metadata::<Block>(3);
        let shape = shape(&v3);
        assert_eq!(
            shape.get(4..),
            Some(
                &[
                    ("get_subnet_info_v2", vec!["netuid"]),
                    ("get_subnets_info_v2", vec![]),
                    ("get_all_dynamic_info", vec![]),
                    ("get_all_metagraphs", vec![]),
                    ("get_metagraph", vec!["netuid"]),
                    ("get_all_mechagraphs", vec![]),
                    ("get_mechagraph", vec!["netuid", "mecid"]),
                    ("get_dynamic_info", vec!["netuid"]),
                    ("get_subnet_state", vec!["netuid"]),
                    ("get_selective_metagraph", vec!["netuid", "metagraph_indexes"]),
                    ("get_selective_mechagraph", vec!["netuid", "subid", "metagraph_indexes"]),
                ][..]
            )
        );
        // The mechanism id is a u8, as the reference's `MechId`.
        let mecid = v3
            .methods
            .iter()
            .find(|m| m.name == "get_mechagraph")
            .and_then(|m| m.inputs.get(1))
            .map(|i| i.ty);
        assert_eq!(mecid, Some(meta_type::<u8>()));
        // Version 2 does not list them.
        let v2 = runtime_decl_for_subnet_info_runtime_api::runtime_metadata::<Block>(2);
        assert!(v2.methods.iter().all(|m| m.name != "get_subnet_state"));
    }

    #[test]
    fn stake_delegate_and_swap_api_metadata() {
        let stake = runtime_decl_for_stake_info_runtime_api::runtime_metadata::<Block>(1);
        assert_eq!(stake.name, "StakeInfoRuntimeApi");
        assert_eq!(
            shape(&stake),
            vec![
                ("get_stake_info_for_coldkey", vec!["coldkey_account"]),
                ("get_stake_info_for_coldkeys", vec!["coldkey_accounts"]),
                (
                    "get_stake_info_for_hotkey_coldkey_netuid",
                    vec!["hotkey_account", "coldkey_account", "netuid"]
                ),
            ]
        );
        let delegate = runtime_decl_for_delegate_info_runtime_api::runtime_metadata::<Block>(1);
        assert_eq!(delegate.name, "DelegateInfoRuntimeApi");
        assert_eq!(
            shape(&delegate),
            vec![
                ("get_delegates", vec![]),
                ("get_delegate", vec!["delegate_account"]),
                ("get_delegated", vec!["delegatee_account"]),
            ]
        );
        let swap = runtime_decl_for_swap_runtime_api::runtime_metadata::<Block>(1);
        assert_eq!(swap.name, "SwapRuntimeApi");
        assert_eq!(
            shape(&swap),
            vec![
                ("current_alpha_price", vec!["netuid"]),
                ("current_alpha_price_all", vec![]),
                ("sim_swap_tao_for_alpha", vec!["netuid", "tao"]),
                ("sim_swap_alpha_for_tao", vec!["netuid", "alpha"]),
            ]
        );
        let amount = swap.methods.get(2).and_then(|m| m.inputs.get(1)).map(|i| i.ty);
        assert_eq!(amount, Some(meta_type::<u64>()));
    }

    #[test]
    fn grid_spec_api_metadata() {
        let grid = runtime_decl_for_grid_spec_runtime_api::runtime_metadata::<Block>(1);
        assert_eq!(grid.name, "GridSpecRuntimeApi");
        assert_eq!(shape(&grid), vec![("get_grid_spec", vec!["netuid"])]);
        assert_eq!(
            grid.methods.first().map(|m| m.output),
            Some(meta_type::<Option<GridSpecRecord>>())
        );
    }
}
