//! Runtime API declarations of the subtensor chain: `NeuronInfoRuntimeApi`,
//! `SubnetInfoRuntimeApi` and `SubnetRegistrationRuntimeApi`.
//!
//! Names, argument types and return types match the reference chain's
//! `pallets/subtensor/runtime-api`, so clients reach them with the same
//! `state_call("<Api>_<method>", SCALE(args))` and decode the results with the layouts in
//! [`subtensor_primitives::info`]. Arguments are SCALE-encoded in declaration order: a
//! [`NetUid`] is a little-endian `u16`, a UID a `u16`.
//!
//! This crate only declares the APIs; the runtime implements them (`impl_runtime_apis!`) by
//! calling into the pallet. It builds `no_std` for the runtime.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use subtensor_primitives::{
    AccountId, NetUid, NeuronInfo, NeuronInfoLite, SubnetHyperparams, SubnetHyperparamsV2,
    SubnetInfo,
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
    }

    /// Subnet registration prices.
    pub trait SubnetRegistrationRuntimeApi {
        /// The rao `register_network` locks at the queried block (the cost only falls as
        /// blocks pass, so it is an upper bound for the next block).
        fn get_network_registration_cost() -> u64;
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
}
