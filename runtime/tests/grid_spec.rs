//! Grid specs through the runtime: `SubtensorModule::set_grid_spec` and `clear_grid_spec` sit at
//! call indices 200 and 201 of pallet 7; the subnet owner (//Alice owns the `dev` chain's
//! subnet 1) commits a spec, `GridSpecRuntimeApi_get_grid_spec` answers it as `state_call`
//! reaches it (through `api::dispatch`), and metadata V15 lists the API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use codec::{Decode, Encode};
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use sp_core::OpaqueMetadata;
use sp_genesis_builder::DEV_RUNTIME_PRESET;
use sp_keyring::Sr25519Keyring;
use sp_runtime::traits::Dispatchable;
use subtensor_primitives::{GridModelName, GridSpec, GridSpecRecord};
use subtensor_runtime::*;

/// Run `f` on the `dev` genesis state.
fn on_dev<R>(f: impl FnOnce() -> R) -> R {
    let storage = genesis_config_presets::preset_storage(DEV_RUNTIME_PRESET).unwrap();
    sp_io::TestExternalities::new(storage).execute_with(f)
}

/// `method` (as `state_call` names it) on `args`, SCALE-decoded as `T`.
fn call<T: Decode>(method: &str, args: impl Encode) -> T {
    let raw = api::dispatch(method, &args.encode()).unwrap_or_else(|| panic!("{method} exists"));
    T::decode(&mut &raw[..]).unwrap_or_else(|e| panic!("{method}: {e}"))
}

fn spec() -> GridSpec {
    GridSpec {
        model_sha256: [0xab; 32],
        sampler_version: 1,
        max_new_tokens: 64,
        max_context: 1024,
        model_name: GridModelName::truncate_from(b"grid-model".to_vec()),
    }
}

#[test]
fn grid_calls_sit_at_indices_200_and_201_of_pallet_7() {
    let netuid = NetUid(1);
    let set = RuntimeCall::SubtensorModule(pallet_subtensor::Call::set_grid_spec {
        netuid,
        spec: spec(),
    });
    let encoded = set.encode();
    assert_eq!(&encoded[..2], &[7, 200]);
    // Then the netuid and the spec, as SCALE lays them out.
    assert_eq!(&encoded[2..], &(netuid, spec()).encode()[..]);
    let clear = RuntimeCall::SubtensorModule(pallet_subtensor::Call::clear_grid_spec { netuid });
    assert_eq!(clear.encode(), vec![7, 201, 1, 0]);
}

#[test]
fn the_owner_sets_and_clears_a_spec_that_the_runtime_api_serves() {
    on_dev(|| {
        System::set_block_number(3);
        let netuid = NetUid(1);
        let alice = Sr25519Keyring::Alice.to_account_id();
        let bob = Sr25519Keyring::Bob.to_account_id();
        let none: Option<GridSpecRecord> = call("GridSpecRuntimeApi_get_grid_spec", netuid);
        assert_eq!(none, None);

        let set = RuntimeCall::SubtensorModule(pallet_subtensor::Call::set_grid_spec {
            netuid,
            spec: spec(),
        });
        assert!(set.clone().dispatch(RuntimeOrigin::signed(bob)).is_err());
        set.dispatch(RuntimeOrigin::signed(alice.clone())).unwrap();
        let record: Option<GridSpecRecord> = call("GridSpecRuntimeApi_get_grid_spec", netuid);
        assert_eq!(record, Some(GridSpecRecord { spec: spec(), set_at_block: 3 }));
        let other: Option<GridSpecRecord> = call("GridSpecRuntimeApi_get_grid_spec", NetUid(9));
        assert_eq!(other, None);

        let clear =
            RuntimeCall::SubtensorModule(pallet_subtensor::Call::clear_grid_spec { netuid });
        clear.dispatch(RuntimeOrigin::signed(alice)).unwrap();
        let cleared: Option<GridSpecRecord> = call("GridSpecRuntimeApi_get_grid_spec", netuid);
        assert_eq!(cleared, None);
    });
}

#[test]
fn metadata_v15_lists_the_grid_spec_api() {
    let opaque: Option<OpaqueMetadata> = on_dev(|| call("Metadata_metadata_at_version", 15u32));
    let prefixed = RuntimeMetadataPrefixed::decode(&mut &opaque.unwrap()[..]).unwrap();
    let RuntimeMetadata::V15(meta) = prefixed.1 else { panic!("not V15") };
    let api = meta.apis.iter().find(|a| a.name == "GridSpecRuntimeApi").expect("listed");
    let methods: Vec<(&str, Vec<&str>)> = api
        .methods
        .iter()
        .map(|m| (m.name.as_str(), m.inputs.iter().map(|i| i.name.as_str()).collect()))
        .collect();
    assert_eq!(methods, vec![("get_grid_spec", vec!["netuid"])]);
    // The reference-shaped APIs are still there, unchanged in name.
    for name in ["SubnetInfoRuntimeApi", "NeuronInfoRuntimeApi", "StakeInfoRuntimeApi"] {
        assert!(meta.apis.iter().any(|a| a.name == name), "{name}");
    }
}
