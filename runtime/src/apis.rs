//! Runtime API implementations: the only door through which the node reaches the runtime.
//!
//! Under `std`, [`sp_api::impl_runtime_apis!`] also generates `api::dispatch(method, input)`,
//! which the node calls for block building, import, transaction validation and `state_call`.

use crate::*;
use alloc::vec::Vec;
use frame_support::{
    genesis_builder_helper::{build_state, get_preset},
    weights::Weight,
};
use pallet_transaction_payment::{FeeDetails, RuntimeDispatchInfo};
use sp_core::OpaqueMetadata;
use sp_inherents::{CheckInherentsResult, InherentData};
use sp_runtime::{
    traits::Block as BlockT,
    transaction_validity::{TransactionSource, TransactionValidity},
    ApplyExtrinsicResult, ExtrinsicInclusionMode,
};
use sp_version::RuntimeVersion;
use subtensor_primitives::{
    ColdkeyStakeInfo, DelegateInfo, DelegatedInfo, DynamicInfo, GridSpecRecord, Metagraph,
    NeuronInfo, NeuronInfoLite, SelectiveMetagraph, SimSwapResult, StakeInfo, SubnetHyperparams,
    SubnetHyperparamsV2, SubnetInfo, SubnetInfov2, SubnetPrice, SubnetState,
};

sp_api::impl_runtime_apis! {
    impl sp_api::Core<Block> for Runtime {
        fn version() -> RuntimeVersion {
            VERSION
        }

        fn execute_block(block: <Block as BlockT>::LazyBlock) {
            Executive::execute_block(block);
        }

        fn initialize_block(header: &<Block as BlockT>::Header) -> ExtrinsicInclusionMode {
            Executive::initialize_block(header)
        }
    }

    impl sp_api::Metadata<Block> for Runtime {
        fn metadata() -> OpaqueMetadata {
            // Bounded vectors shown as sequences (see `crate::metadata`).
            OpaqueMetadata::new(crate::metadata::metadata_v14().into())
        }

        fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
            // V15 numbered like V14, as the reference chain's is (see `crate::metadata`).
            if version == 15 {
                return Some(OpaqueMetadata::new(codec::Encode::encode(&crate::metadata::metadata_v15())));
            }
            if version == 14 {
                return Some(OpaqueMetadata::new(codec::Encode::encode(&crate::metadata::metadata_v14())));
            }
            Runtime::metadata_at_version(version)
        }

        fn metadata_versions() -> Vec<u32> {
            Runtime::metadata_versions()
        }
    }

    impl sp_block_builder::BlockBuilder<Block> for Runtime {
        fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
            Executive::apply_extrinsic(extrinsic)
        }

        fn finalize_block() -> <Block as BlockT>::Header {
            Executive::finalize_block()
        }

        fn inherent_extrinsics(data: InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
            data.create_extrinsics()
        }

        fn check_inherents(
            block: <Block as BlockT>::LazyBlock,
            data: InherentData,
        ) -> CheckInherentsResult {
            data.check_extrinsics(&block)
        }
    }

    impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
        fn validate_transaction(
            source: TransactionSource,
            tx: <Block as BlockT>::Extrinsic,
            block_hash: <Block as BlockT>::Hash,
        ) -> TransactionValidity {
            Executive::validate_transaction(source, tx, block_hash)
        }
    }

    impl sp_consensus_aura::AuraApi<Block, AuraId> for Runtime {
        fn slot_duration() -> sp_consensus_aura::SlotDuration {
            // Informational: the node's configured slot duration governs (see
            // `configs::AuraSlotDuration`).
            sp_consensus_aura::SlotDuration::from_millis(Aura::slot_duration())
        }

        fn authorities() -> Vec<AuraId> {
            pallet_aura::Authorities::<Runtime>::get().into_inner()
        }
    }

    impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
        fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
            Grandpa::grandpa_authorities()
        }

        fn current_set_id() -> sp_consensus_grandpa::SetId {
            pallet_grandpa::CurrentSetId::<Runtime>::get()
        }

        fn submit_report_equivocation_unsigned_extrinsic(
            _equivocation_proof: sp_consensus_grandpa::EquivocationProof<
                <Block as BlockT>::Hash,
                BlockNumber,
            >,
            _key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
        ) -> Option<()> {
            // No sessions, so no key ownership proofs: equivocations are not reported on chain.
            None
        }

        fn generate_key_ownership_proof(
            _set_id: sp_consensus_grandpa::SetId,
            _authority_id: GrandpaId,
        ) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
            None
        }
    }

    impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
        fn offchain_worker(header: &<Block as BlockT>::Header) {
            Executive::offchain_worker(header)
        }
    }

    impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
        fn account_nonce(account: AccountId) -> Nonce {
            System::account_nonce(account)
        }
    }

    impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance>
        for Runtime
    {
        fn query_info(
            uxt: <Block as BlockT>::Extrinsic,
            len: u32,
        ) -> RuntimeDispatchInfo<Balance> {
            TransactionPayment::query_info(uxt, len)
        }
        fn query_fee_details(uxt: <Block as BlockT>::Extrinsic, len: u32) -> FeeDetails<Balance> {
            TransactionPayment::query_fee_details(uxt, len)
        }
        fn query_weight_to_fee(weight: Weight) -> Balance {
            TransactionPayment::weight_to_fee(weight)
        }
        fn query_length_to_fee(length: u32) -> Balance {
            TransactionPayment::length_to_fee(length)
        }
    }

    impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
        for Runtime
    {
        fn query_call_info(call: RuntimeCall, len: u32) -> RuntimeDispatchInfo<Balance> {
            TransactionPayment::query_call_info(call, len)
        }
        fn query_call_fee_details(call: RuntimeCall, len: u32) -> FeeDetails<Balance> {
            TransactionPayment::query_call_fee_details(call, len)
        }
        fn query_weight_to_fee(weight: Weight) -> Balance {
            TransactionPayment::weight_to_fee(weight)
        }
        fn query_length_to_fee(length: u32) -> Balance {
            TransactionPayment::length_to_fee(length)
        }
    }

    impl subtensor_runtime_api::SubnetRegistrationRuntimeApi<Block> for Runtime {
        fn get_network_registration_cost() -> u64 {
            SubtensorModule::network_lock_cost()
        }
    }

    impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
        fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
            build_state::<RuntimeGenesisConfig>(config)
        }

        fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
            get_preset::<RuntimeGenesisConfig>(id, genesis_config_presets::get_preset)
        }

        fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
            genesis_config_presets::preset_names()
        }
    }

    impl subtensor_runtime_api::NeuronInfoRuntimeApi<Block> for Runtime {
        fn get_neurons(netuid: NetUid) -> Vec<NeuronInfo<AccountId>> {
            SubtensorModule::neurons(netuid)
        }
        fn get_neuron(netuid: NetUid, uid: u16) -> Option<NeuronInfo<AccountId>> {
            SubtensorModule::neuron(netuid, uid)
        }
        fn get_neurons_lite(netuid: NetUid) -> Vec<NeuronInfoLite<AccountId>> {
            SubtensorModule::neurons_lite(netuid)
        }
        fn get_neuron_lite(netuid: NetUid, uid: u16) -> Option<NeuronInfoLite<AccountId>> {
            SubtensorModule::neuron_lite(netuid, uid)
        }
    }

    // Version 3: v2 plus the views the Python SDK 10 and btcli 9 read (subnet state, dynamic
    // info, metagraphs), which the metadata lists only for an impl declaring version 3.
    #[api_version(3)]
    impl subtensor_runtime_api::SubnetInfoRuntimeApi<Block> for Runtime {
        fn get_subnet_info(netuid: NetUid) -> Option<SubnetInfo<AccountId>> {
            SubtensorModule::subnet_info(netuid)
        }
        fn get_subnets_info() -> Vec<Option<SubnetInfo<AccountId>>> {
            SubtensorModule::subnets_info()
        }
        fn get_subnet_hyperparams(netuid: NetUid) -> Option<SubnetHyperparams> {
            SubtensorModule::subnet_hyperparams(netuid)
        }
        fn get_subnet_hyperparams_v2(netuid: NetUid) -> Option<SubnetHyperparamsV2> {
            SubtensorModule::subnet_hyperparams_v2(netuid)
        }
        fn get_subnet_info_v2(netuid: NetUid) -> Option<SubnetInfov2<AccountId>> {
            SubtensorModule::subnet_info_v2(netuid)
        }
        fn get_subnets_info_v2() -> Vec<Option<SubnetInfov2<AccountId>>> {
            SubtensorModule::subnets_info_v2()
        }
        fn get_all_dynamic_info() -> Vec<Option<DynamicInfo<AccountId>>> {
            SubtensorModule::all_dynamic_info()
        }
        fn get_all_metagraphs() -> Vec<Option<Metagraph<AccountId>>> {
            SubtensorModule::all_metagraphs()
        }
        fn get_metagraph(netuid: NetUid) -> Option<Metagraph<AccountId>> {
            SubtensorModule::metagraph(netuid)
        }
        fn get_all_mechagraphs() -> Vec<Option<Metagraph<AccountId>>> {
            // One mechanism per subnet.
            SubtensorModule::all_metagraphs()
        }
        fn get_mechagraph(netuid: NetUid, mecid: u8) -> Option<Metagraph<AccountId>> {
            SubtensorModule::mechagraph(netuid, mecid)
        }
        fn get_dynamic_info(netuid: NetUid) -> Option<DynamicInfo<AccountId>> {
            SubtensorModule::dynamic_info(netuid)
        }
        fn get_subnet_state(netuid: NetUid) -> Option<SubnetState<AccountId>> {
            SubtensorModule::subnet_state(netuid)
        }
        fn get_selective_metagraph(
            netuid: NetUid,
            metagraph_indexes: Vec<u16>,
        ) -> Option<SelectiveMetagraph<AccountId>> {
            SubtensorModule::selective_metagraph(netuid, metagraph_indexes)
        }
        fn get_selective_mechagraph(
            netuid: NetUid,
            subid: u8,
            metagraph_indexes: Vec<u16>,
        ) -> Option<SelectiveMetagraph<AccountId>> {
            SubtensorModule::selective_mechagraph(netuid, subid, metagraph_indexes)
        }
    }

    impl subtensor_runtime_api::StakeInfoRuntimeApi<Block> for Runtime {
        fn get_stake_info_for_coldkey(coldkey_account: AccountId) -> Vec<StakeInfo<AccountId>> {
            SubtensorModule::stake_info_for_coldkey(coldkey_account)
        }
        fn get_stake_info_for_coldkeys(
            coldkey_accounts: Vec<AccountId>,
        ) -> Vec<ColdkeyStakeInfo<AccountId>> {
            SubtensorModule::stake_info_for_coldkeys(coldkey_accounts)
        }
        fn get_stake_info_for_hotkey_coldkey_netuid(
            hotkey_account: AccountId,
            coldkey_account: AccountId,
            netuid: NetUid,
        ) -> Option<StakeInfo<AccountId>> {
            SubtensorModule::stake_info_for_hotkey_coldkey_netuid(
                hotkey_account,
                coldkey_account,
                netuid,
            )
        }
    }

    impl subtensor_runtime_api::DelegateInfoRuntimeApi<Block> for Runtime {
        fn get_delegates() -> Vec<DelegateInfo<AccountId>> {
            SubtensorModule::delegates()
        }
        fn get_delegate(delegate_account: AccountId) -> Option<DelegateInfo<AccountId>> {
            SubtensorModule::delegate(delegate_account)
        }
        fn get_delegated(delegatee_account: AccountId) -> Vec<DelegatedInfo<AccountId>> {
            SubtensorModule::delegated(delegatee_account)
        }
    }

    impl subtensor_runtime_api::SwapRuntimeApi<Block> for Runtime {
        fn current_alpha_price(netuid: NetUid) -> u64 {
            SubtensorModule::current_alpha_price(netuid)
        }
        fn current_alpha_price_all() -> Vec<SubnetPrice> {
            SubtensorModule::current_alpha_price_all()
        }
        fn sim_swap_tao_for_alpha(netuid: NetUid, tao: u64) -> SimSwapResult {
            SubtensorModule::sim_swap_tao_for_alpha(netuid, tao)
        }
        fn sim_swap_alpha_for_tao(netuid: NetUid, alpha: u64) -> SimSwapResult {
            SubtensorModule::sim_swap_alpha_for_tao(netuid, alpha)
        }
    }

    impl subtensor_runtime_api::GridSpecRuntimeApi<Block> for Runtime {
        fn get_grid_spec(netuid: NetUid) -> Option<GridSpecRecord> {
            SubtensorModule::grid_spec(netuid)
        }
    }
}
