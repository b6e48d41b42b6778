//! The native runtime end to end: the `dev` preset builds a genesis state, a block with the
//! timestamp inherent and signed extrinsics is built through the same entry points the node
//! uses, and re-executing it on the genesis state reproduces its state and extrinsics roots.

use codec::{Decode, Encode};
use frame_support::traits::fungible::Inspect;
use sp_core::{sr25519, Pair, H256};
use sp_genesis_builder::DEV_RUNTIME_PRESET;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
    traits::Header as _,
    transaction_validity::{InvalidTransaction, TransactionValidityError},
};
use subtensor_runtime::*;

fn dev_storage() -> sp_core::storage::Storage {
    genesis_config_presets::preset_storage(DEV_RUNTIME_PRESET).expect("dev preset builds")
}

/// `call` signed by `pair` with `nonce` for the test externalities' genesis (whose genesis
/// block hash frame-system records as 0x6969...).
fn signed(pair: &sr25519::Pair, call: RuntimeCall, nonce: Nonce) -> UncheckedExtrinsic {
    let genesis = frame_system::BlockHash::<Runtime>::get(0);
    signing::sign_extrinsic(pair, call, nonce, 0, &signing::SigningContext::immortal(genesis))
}

fn hotkey() -> sr25519::Pair {
    sr25519::Pair::from_string("//Alice//hot", None).unwrap()
}

#[test]
fn a_built_block_re_executes_with_the_same_roots() {
    let storage = dev_storage();
    let bob = Sr25519Keyring::Bob.to_account_id();
    let alice = Sr25519Keyring::Alice.pair();
    let genesis_hash = H256::repeat_byte(0x11);

    let mut builder = sp_io::TestExternalities::new(storage.clone());
    let block = builder.execute_with(|| {
        let header = Header::new(
            1,
            Default::default(),
            Default::default(),
            genesis_hash,
            Default::default(),
        );
        Executive::initialize_block(&header);
        let mut extrinsics = vec![UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(
            pallet_timestamp::Call::set { now: 1_000 },
        ))];
        // A balance transfer from Alice.
        extrinsics.push(signed(
            &alice,
            RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
                dest: Address::Id(bob.clone()),
                value: 5 * RAO_PER_TAO,
            }),
            0,
        ));
        // A fee-free self-weight from the subnet owner's hotkey, which holds no TAO.
        extrinsics.push(signed(
            &hotkey(),
            RuntimeCall::SubtensorModule(pallet_subtensor::Call::set_weights {
                netuid: NetUid(1),
                dests: vec![0],
                weights: vec![1],
                version_key: 0,
            }),
            0,
        ));
        for xt in &extrinsics {
            assert_eq!(Executive::apply_extrinsic(xt.clone()), Ok(Ok(())), "{xt:?}");
        }
        // A fee-paying call from the key-only hotkey is refused before dispatch.
        let paying = signed(
            &hotkey(),
            RuntimeCall::Balances(pallet_balances::Call::transfer_allow_death {
                dest: Address::Id(bob.clone()),
                value: 1,
            }),
            1,
        );
        // As the node does: each extrinsic runs in its own storage transaction, rolled back
        // when the extrinsic is refused.
        sp_io::storage::start_transaction();
        assert_eq!(
            Executive::apply_extrinsic(paying),
            Err(TransactionValidityError::Invalid(InvalidTransaction::Payment))
        );
        sp_io::storage::rollback_transaction();
        assert_eq!(
            Balances::balance(&bob),
            genesis_config_presets::DEV_ENDOWMENT + 5 * RAO_PER_TAO
        );
        let header = Executive::finalize_block();
        Block { header, extrinsics }
    });

    // Decode round trip, then re-execute on a fresh copy of the genesis state: panics if the
    // state root or the extrinsics root differ.
    let block = Block::decode(&mut &block.encode()[..]).unwrap();
    let mut importer = sp_io::TestExternalities::new(storage);
    importer.execute_with(|| Executive::execute_block(block.clone().into()));
    assert_ne!(block.header.state_root, H256::zero());
}

#[test]
fn metadata_lists_the_standard_extensions_in_order_and_the_subtensor_apis() {
    use frame_metadata::RuntimeMetadata;
    let bytes = Runtime::metadata_at_version(15).expect("V15 is served");
    let prefixed = frame_metadata::RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap();
    let RuntimeMetadata::V15(meta) = prefixed.1 else { panic!("not V15") };
    let ids: Vec<_> =
        meta.extrinsic.signed_extensions.iter().map(|e| e.identifier.as_str()).collect();
    assert_eq!(
        ids,
        [
            "CheckNonZeroSender",
            "CheckSpecVersion",
            "CheckTxVersion",
            "CheckGenesis",
            "CheckMortality",
            "CheckNonce",
            "CheckWeight",
            "ChargeTransactionPayment",
            "SubtensorTransactionExtension",
            "CheckMetadataHash"
        ]
    );
    let apis: Vec<_> = meta.apis.iter().map(|a| a.name.as_str()).collect();
    for api in ["NeuronInfoRuntimeApi", "SubnetInfoRuntimeApi", "AccountNonceApi", "Metadata"] {
        assert!(apis.contains(&api), "{api} missing from {apis:?}");
    }
    let pallet = meta.pallets.iter().find(|p| p.name == "SubtensorModule").unwrap();
    assert_eq!(pallet.index, 7);
    assert!(Runtime::metadata_versions().contains(&14));
}

#[test]
fn state_call_dispatch_answers_versions_and_subnet_info() {
    let mut ext = sp_io::TestExternalities::new(dev_storage());
    ext.execute_with(|| {
        let version = api::dispatch("Core_version", &[]).expect("Core_version exists");
        let version = sp_version::RuntimeVersion::decode(&mut &version[..]).unwrap();
        assert_eq!(version.spec_name, "node-subtensor");
        assert!(api::dispatch("No_such_method", &[]).is_none());

        let raw = api::dispatch("SubnetInfoRuntimeApi_get_subnet_info", &NetUid(1).encode())
            .expect("subnet info api exists");
        let info = Option::<subtensor_primitives::SubnetInfo<AccountId>>::decode(&mut &raw[..])
            .unwrap()
            .expect("subnet 1 exists in the dev preset");
        assert_eq!(info.owner, Sr25519Keyring::Alice.to_account_id());
        assert_eq!(info.subnetwork_n, 1);
        assert_eq!(info.tempo, 10);

        let raw =
            api::dispatch("SubnetInfoRuntimeApi_get_subnet_hyperparams_v2", &NetUid(1).encode())
                .expect("hyperparams v2 is served (api version 2)");
        let params = Option::<subtensor_primitives::SubnetHyperparamsV2>::decode(&mut &raw[..])
            .unwrap()
            .expect("subnet 1 exists");
        assert_eq!((params.tempo, params.yuma_version), (10, 2));

        let raw = api::dispatch("NeuronInfoRuntimeApi_get_neurons_lite", &NetUid(1).encode())
            .expect("neuron api exists");
        let neurons =
            Vec::<subtensor_primitives::NeuronInfoLite<AccountId>>::decode(&mut &raw[..]).unwrap();
        assert_eq!(neurons.len(), 1);
        assert_eq!(neurons[0].hotkey, genesis_config_presets::alice_hotkey());
    });
}

#[test]
fn failing_fee_free_calls_are_invalid_in_the_pool_and_in_blocks() {
    use sp_runtime::transaction_validity::TransactionSource;
    let mut ext = sp_io::TestExternalities::new(dev_storage());
    ext.execute_with(|| {
        let header = Header::new(
            1,
            Default::default(),
            Default::default(),
            H256::zero(),
            Default::default(),
        );
        Executive::initialize_block(&header);
        let weights = |dests: Vec<u16>| {
            RuntimeCall::SubtensorModule(pallet_subtensor::Call::set_weights {
                netuid: NetUid(1),
                dests,
                weights: vec![1],
                version_key: 0,
            })
        };
        let code_of = |e: pallet_subtensor::Error<Runtime>| {
            let sp_runtime::DispatchError::Module(m) = sp_runtime::DispatchError::from(e) else {
                panic!("a module error")
            };
            TransactionValidityError::Invalid(InvalidTransaction::Custom(m.error[0]))
        };
        // An unregistered key-only hotkey: invalid in the pool, refused by the block builder.
        let stranger = sr25519::Pair::from_string("//Stranger", None).unwrap();
        let xt = signed(&stranger, weights(vec![0]), 0);
        let expected = code_of(pallet_subtensor::Error::HotKeyNotRegisteredInSubNet);
        assert_eq!(
            Executive::validate_transaction(TransactionSource::External, xt.clone(), H256::zero()),
            Err(expected)
        );
        sp_io::storage::start_transaction();
        assert_eq!(Executive::apply_extrinsic(xt), Err(expected));
        sp_io::storage::rollback_transaction();
        // Its nonce was not bumped: nothing of it reached the state.
        let stranger_id = AccountId::from(stranger.public());
        assert_eq!(frame_system::Account::<Runtime>::get(&stranger_id).nonce, 0);

        // The owner's valid self-weight provides its (hotkey, kind, subnet) tag.
        let valid = Executive::validate_transaction(
            TransactionSource::External,
            signed(&hotkey(), weights(vec![0]), 0),
            H256::zero(),
        )
        .expect("valid");
        let owner = AccountId::from(hotkey().public());
        let tag = pallet_subtensor::transaction_extension::fee_free_tag(
            pallet_subtensor::transaction_extension::FeeFreeKind::SetWeights,
            NetUid(1),
            &owner,
        );
        assert!(valid.provides.contains(&tag), "{valid:?}");

        // A fee-free call hidden in a batch is refused, even by a signer who pays for the
        // batch (a key-only hotkey cannot send a batch at all: batches pay fees).
        let alice = Sr25519Keyring::Alice.pair();
        let batch = RuntimeCall::Utility(pallet_utility::Call::batch {
            calls: vec![weights(vec![0]), weights(vec![0])],
        });
        assert_eq!(
            Executive::validate_transaction(
                TransactionSource::External,
                signed(&alice, batch, 0),
                H256::zero()
            ),
            Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
                pallet_subtensor::transaction_extension::NESTED_FEE_FREE_CALL
            )))
        );
        // Batches of other calls are unaffected.
        let transfers = RuntimeCall::Utility(pallet_utility::Call::batch {
            calls: vec![RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
                dest: Address::Id(Sr25519Keyring::Bob.to_account_id()),
                value: RAO_PER_TAO,
            })],
        });
        assert!(Executive::validate_transaction(
            TransactionSource::External,
            signed(&alice, transfers, 0),
            H256::zero()
        )
        .is_ok());
    });
}

/// V15 numbers types as V14 does (as the reference chain's does): async-substrate-interface 1.x
/// takes ids from V14 and resolves them in V15, and takes type 0 for the account id.
#[test]
fn metadata_v15_numbers_types_as_v14() {
    use codec::Decode;
    use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
    let served = subtensor_runtime::api::dispatch("Metadata_metadata_at_version", &15u32.encode())
        .expect("served");
    let served: Option<sp_core::OpaqueMetadata> = Decode::decode(&mut &served[..]).unwrap();
    let bytes = served.expect("V15 is served");
    let RuntimeMetadata::V15(v15) = RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap().1
    else {
        panic!("not V15")
    };
    let v14_bytes = Runtime::metadata_at_version(14).expect("V14 is served");
    let RuntimeMetadata::V14(v14) = RuntimeMetadataPrefixed::decode(&mut &v14_bytes[..]).unwrap().1
    else {
        panic!("not V14")
    };
    let path = |types: &scale_info::PortableRegistry, id: u32| {
        types.resolve(id).map(|t| t.path.segments.join("::")).unwrap_or_default()
    };
    assert_eq!(path(&v15.types, 0), "sp_core::crypto::AccountId32");
    assert_eq!(v14.pallets.len(), v15.pallets.len());
    let mut compared = 0;
    for (p14, p15) in v14.pallets.iter().zip(&v15.pallets) {
        assert_eq!(p14.name, p15.name);
        for (c14, c15) in p14.constants.iter().zip(&p15.constants) {
            assert_eq!(c14.ty.id, c15.ty.id, "{}.{}", p14.name, c14.name);
            compared += 1;
        }
        if let (Some(s14), Some(s15)) = (&p14.storage, &p15.storage) {
            for (e14, e15) in s14.entries.iter().zip(&s15.entries) {
                assert_eq!(
                    format!("{:?}", e14.ty),
                    format!("{:?}", e15.ty),
                    "{}.{}",
                    p14.name,
                    e14.name
                );
                compared += 1;
            }
        }
        if let (Some(c14), Some(c15)) = (&p14.calls, &p15.calls) {
            assert_eq!(c14.ty.id, c15.ty.id, "{} calls", p14.name);
        }
        if let (Some(e14), Some(e15)) = (&p14.event, &p15.event) {
            assert_eq!(e14.ty.id, e15.ty.id, "{} events", p14.name);
        }
    }
    assert!(compared > 100, "{compared}");
    // Everything else of V15 is frame's: the same APIs and extensions.
    let frame_v15 = Runtime::metadata_at_version(15).expect("frame's V15");
    let RuntimeMetadata::V15(frame_v15) =
        RuntimeMetadataPrefixed::decode(&mut &frame_v15[..]).unwrap().1
    else {
        panic!("not V15")
    };
    assert_eq!(frame_v15.types.types.len(), v15.types.types.len());
    let names = |m: &frame_metadata::v15::RuntimeMetadataV15| -> Vec<String> {
        m.apis
            .iter()
            .flat_map(|a| a.methods.iter().map(move |x| format!("{}_{}", a.name, x.name)))
            .collect()
    };
    assert_eq!(names(&frame_v15), names(&v15));
}

/// The served V14 and V15 show bounded vectors as the sequences they encode as (the SDK's
/// decoder returns a one-field composite as a tuple around the list): no `BoundedVec` type is
/// left, and `LastUpdate` (a bounded vector in our storage) is a sequence of u64.
#[test]
fn served_metadata_presents_bounded_vecs_as_sequences() {
    use codec::Decode;
    use frame_metadata::{v14::StorageEntryType, RuntimeMetadata, RuntimeMetadataPrefixed};
    use scale_info::{form::PortableForm, PortableRegistry, TypeDef, TypeDefPrimitive};
    let served = |method: &str, args: Vec<u8>| -> Vec<u8> {
        let out = subtensor_runtime::api::dispatch(method, &args).expect("served");
        let opaque: Option<sp_core::OpaqueMetadata> = if method == "Metadata_metadata" {
            Some(Decode::decode(&mut &out[..]).unwrap())
        } else {
            Decode::decode(&mut &out[..]).unwrap()
        };
        opaque.expect("version served").to_vec()
    };
    let check = |types: &PortableRegistry, last_update: u32| {
        let bounded: Vec<String> = types
            .types
            .iter()
            .map(|t| t.ty.path.segments.join("::"))
            .filter(|p| p.ends_with("BoundedVec"))
            .collect();
        assert!(bounded.is_empty(), "{bounded:?}");
        let TypeDef::Sequence(seq) = &types.resolve(last_update).unwrap().type_def else {
            panic!("LastUpdate is not a sequence")
        };
        let element: &scale_info::Type<PortableForm> = types.resolve(seq.type_param.id).unwrap();
        assert_eq!(element.type_def, TypeDef::Primitive(TypeDefPrimitive::U64));
    };
    let value_of = |ty: &StorageEntryType<PortableForm>| match ty {
        StorageEntryType::Map { value, .. } => value.id,
        StorageEntryType::Plain(v) => v.id,
    };
    for (method, args) in [
        ("Metadata_metadata", Vec::new()),
        ("Metadata_metadata_at_version", 14u32.encode()),
        ("Metadata_metadata_at_version", 15u32.encode()),
    ] {
        let bytes = served(method, args);
        let (types, pallets) = match RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap().1 {
            RuntimeMetadata::V14(m) => {
                (m.types, m.pallets.into_iter().map(|p| (p.name, p.storage)).collect::<Vec<_>>())
            }
            RuntimeMetadata::V15(m) => {
                (m.types, m.pallets.into_iter().map(|p| (p.name, p.storage)).collect())
            }
            _ => panic!("unexpected version"),
        };
        let storage = pallets.into_iter().find(|(n, _)| n == "SubtensorModule").unwrap().1.unwrap();
        let entry = storage.entries.iter().find(|e| e.name == "LastUpdate").unwrap();
        check(&types, value_of(&entry.ty));
    }
}
