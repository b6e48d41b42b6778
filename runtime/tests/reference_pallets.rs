//! What the reference chain's clients (bittensor SDK 10.2, btcli 9.20) compose and query beyond
//! the runtime APIs, as the runtime serves it: the metadata lists `AdminUtils` at 19 and `Swap`
//! at 28, the subtensor pallet's mechanism-era calls with the reference's indices and parameter
//! names, and the storage items btcli reads; the `dev` genesis fills the per-subnet items; the
//! `sudo_set_*` calls set parameters through `Sudo` and by the subnet owner; and the pool
//! validates the new fee-free calls.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use codec::{Decode, Encode};
use frame_metadata::{
    v15::{PalletMetadata, RuntimeMetadataV15, StorageEntryType, StorageHasher},
    RuntimeMetadata, RuntimeMetadataPrefixed,
};
use frame_support::traits::UnfilteredDispatchable;
use scale_info::{form::PortableForm, TypeDef};
use sp_core::{sr25519, Pair, H256};
use sp_genesis_builder::DEV_RUNTIME_PRESET;
use sp_keyring::Sr25519Keyring;
use sp_runtime::traits::Header as _;
use sp_runtime::transaction_validity::{
    InvalidTransaction, TransactionSource, TransactionValidityError,
};
use substrate_fixed::types::U64F64;
use subtensor_runtime::*;

/// The V15 metadata clients read (`Metadata_metadata_at_version(15)`).
fn metadata() -> RuntimeMetadataV15 {
    let raw = api::dispatch("Metadata_metadata_at_version", &15u32.encode()).expect("served");
    let bytes = Option::<sp_core::OpaqueMetadata>::decode(&mut &raw[..]).unwrap().expect("V15");
    match RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap().1 {
        RuntimeMetadata::V15(meta) => meta,
        _ => panic!("not V15"),
    }
}

fn pallet<'a>(meta: &'a RuntimeMetadataV15, name: &str) -> &'a PalletMetadata<PortableForm> {
    meta.pallets.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name} missing"))
}

/// `(index, name, parameter names)` of every call of `pallet`.
fn calls(meta: &RuntimeMetadataV15, pallet_name: &str) -> Vec<(u8, String, Vec<String>)> {
    let calls = pallet(meta, pallet_name).calls.as_ref().expect("the pallet has calls");
    let TypeDef::Variant(variants) = &meta.types.resolve(calls.ty.id).unwrap().type_def else {
        panic!("calls are an enum")
    };
    variants
        .variants
        .iter()
        .map(|v| {
            let params = v.fields.iter().map(|f| f.name.clone().unwrap_or_default()).collect();
            (v.index, v.name.clone(), params)
        })
        .collect()
}

/// A storage entry of `pallet`: its hashers (empty for a value) and its value type's path or
/// primitive, as text.
fn storage(meta: &RuntimeMetadataV15, pallet_name: &str, item: &str) -> (Vec<StorageHasher>, u32) {
    let storage = pallet(meta, pallet_name).storage.as_ref().expect("the pallet has storage");
    let entry = storage
        .entries
        .iter()
        .find(|e| e.name == item)
        .unwrap_or_else(|| panic!("{pallet_name}.{item} missing"));
    match &entry.ty {
        StorageEntryType::Plain(ty) => (vec![], ty.id),
        StorageEntryType::Map { hashers, value, .. } => (hashers.clone(), value.id),
    }
}

#[test]
fn the_reference_pallets_sit_at_the_reference_indices() {
    let meta = metadata();
    assert_eq!(pallet(&meta, "AdminUtils").index, 19);
    assert_eq!(pallet(&meta, "Swap").index, 28);
    let admin = calls(&meta, "AdminUtils");
    let tempo = admin.iter().find(|(_, name, _)| name == "sudo_set_tempo").unwrap();
    assert_eq!(tempo, &(30, "sudo_set_tempo".into(), vec!["netuid".into(), "tempo".into()]));
    assert!(admin.len() >= 39, "{admin:?}");
}

#[test]
fn subtensor_lists_the_mechanism_era_calls_with_the_reference_parameters() {
    let meta = metadata();
    let calls = calls(&meta, "SubtensorModule");
    let expect: &[(u8, &str, &[&str])] = &[
        (6, "register", &["netuid", "block_number", "nonce", "work", "hotkey", "coldkey"]),
        (
            88,
            "add_stake_limit",
            &["hotkey", "netuid", "amount_staked", "limit_price", "allow_partial"],
        ),
        (
            89,
            "remove_stake_limit",
            &["hotkey", "netuid", "amount_unstaked", "limit_price", "allow_partial"],
        ),
        (115, "commit_mechanism_weights", &["netuid", "mecid", "commit_hash"]),
        (
            116,
            "reveal_mechanism_weights",
            &["netuid", "mecid", "uids", "values", "salt", "version_key"],
        ),
        (119, "set_mechanism_weights", &["netuid", "mecid", "dests", "weights", "version_key"]),
    ];
    for (index, name, params) in expect {
        let found = calls
            .iter()
            .find(|(_, n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} missing from {calls:?}"));
        let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
        assert_eq!(found, &(*index, name.to_string(), params));
    }
}

#[test]
fn the_storage_btcli_reads_exists_with_the_reference_hashers_and_types() {
    use StorageHasher::*;
    let meta = metadata();
    let path = |id: u32| {
        let ty = meta.types.resolve(id).unwrap();
        match &ty.type_def {
            TypeDef::Primitive(p) => format!("{p:?}"),
            TypeDef::Sequence(s) => {
                let inner = meta.types.resolve(s.type_param.id).unwrap();
                format!("Vec<{}>", inner.path.segments.join("::"))
            }
            TypeDef::Tuple(t) => format!(
                "({})",
                t.fields
                    .iter()
                    .map(|f| {
                        let inner = meta.types.resolve(f.id).unwrap();
                        match &inner.type_def {
                            TypeDef::Primitive(p) => format!("{p:?}"),
                            _ => inner.path.segments.join("::"),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => ty.path.segments.join("::"),
        }
    };
    let check = |pallet: &str, item: &str, hashers: Vec<StorageHasher>, value: &str| {
        let (found_hashers, ty) = storage(&meta, pallet, item);
        assert_eq!(found_hashers, hashers, "{pallet}.{item}");
        let found = path(ty);
        assert!(found.ends_with(value), "{pallet}.{item}: {found}, not {value}");
    };
    check("SubtensorModule", "MechanismCountCurrent", vec![Twox64Concat], "U8");
    check(
        "SubtensorModule",
        "SubnetEmaTaoFlow",
        vec![Identity],
        "(U64, substrate_fixed::FixedI128)",
    );
    check("SubtensorModule", "BlocksSinceLastStep", vec![Identity], "U64");
    check(
        "SubtensorModule",
        "OwnedHotkeys",
        vec![Blake2_128Concat],
        "Vec<sp_core::crypto::AccountId32>",
    );
    check("SubtensorModule", "IdentitiesV2", vec![Blake2_128Concat], "ChainIdentityV2");
    check("SubtensorModule", "RootClaimType", vec![Blake2_128Concat], "RootClaimTypeEnum");
    check("Swap", "AlphaSqrtPrice", vec![Twox64Concat], "substrate_fixed::FixedU128");
}

/// The `dev` genesis state at block 1, inside a block.
fn dev_block() -> sp_io::TestExternalities {
    let storage = genesis_config_presets::preset_storage(DEV_RUNTIME_PRESET).unwrap();
    let mut ext = sp_io::TestExternalities::new(storage);
    ext.execute_with(|| {
        let header = Header::new(
            1,
            Default::default(),
            Default::default(),
            H256::zero(),
            Default::default(),
        );
        Executive::initialize_block(&header);
    });
    ext
}

#[test]
fn the_dev_genesis_subnet_has_its_reference_views() {
    dev_block().execute_with(|| {
        let netuid = NetUid(1);
        let alice = Sr25519Keyring::Alice.to_account_id();
        assert_eq!(pallet_subtensor::MechanismCountCurrent::<Runtime>::get(netuid), 1);
        assert!(pallet_subtensor::SubnetEmaTaoFlow::<Runtime>::contains_key(netuid));
        assert!(pallet_subtensor::BlocksSinceLastStep::<Runtime>::contains_key(netuid));
        assert_eq!(
            pallet_subtensor::OwnedHotkeys::<Runtime>::get(&alice),
            vec![genesis_config_presets::alice_hotkey()]
        );
        assert_eq!(
            pallet_subtensor_swap::AlphaSqrtPrice::<Runtime>::get(netuid),
            U64F64::from_num(1)
        );
        // The raw key btcli's map query walks: twox128("Swap") ++ twox128("AlphaSqrtPrice") ++
        // twox64(netuid) ++ netuid, holding 1.0 as a U64F64 (u128 bits 1 << 64).
        let mut key = sp_io::hashing::twox_128(b"Swap").to_vec();
        key.extend(sp_io::hashing::twox_128(b"AlphaSqrtPrice"));
        key.extend(sp_io::hashing::twox_64(&1u16.encode()));
        key.extend(1u16.encode());
        let raw = sp_io::storage::get(&key).expect("the price is stored");
        assert_eq!(u128::decode(&mut &raw[..]).unwrap(), 1u128 << 64);
    });
}

#[test]
fn admin_utils_sets_parameters_through_sudo_and_for_the_owner() {
    dev_block().execute_with(|| {
        let alice = Sr25519Keyring::Alice.to_account_id();
        let netuid = NetUid(1);
        // What btcli sends for a root-only parameter: Sudo.sudo(AdminUtils.sudo_set_tempo).
        let tempo =
            RuntimeCall::AdminUtils(pallet_admin_utils::Call::sudo_set_tempo { netuid, tempo: 42 });
        let sudo = RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(tempo.clone()) });
        assert!(sudo.dispatch_bypass_filter(RuntimeOrigin::signed(alice.clone())).is_ok());
        assert_eq!(pallet_subtensor::Tempo::<Runtime>::get(netuid), 42);
        // Directly, the owner may not set it ...
        let refused = tempo.dispatch_bypass_filter(RuntimeOrigin::signed(alice.clone()));
        assert_eq!(refused.map_err(|e| e.error), Err(sp_runtime::DispatchError::BadOrigin));
        // ... but may set what the owner sets (Alice owns subnet 1).
        let immunity =
            RuntimeCall::AdminUtils(pallet_admin_utils::Call::sudo_set_immunity_period {
                netuid,
                immunity_period: 77,
            });
        assert!(immunity.dispatch_bypass_filter(RuntimeOrigin::signed(alice)).is_ok());
        assert_eq!(pallet_subtensor::ImmunityPeriod::<Runtime>::get(netuid), 77);
    });
}

/// `call` signed by `pair` (nonce 0, immortal) for the test externalities' genesis.
fn signed(pair: &sr25519::Pair, call: RuntimeCall) -> UncheckedExtrinsic {
    let genesis = frame_system::BlockHash::<Runtime>::get(0);
    signing::sign_extrinsic(pair, call, 0, 0, &signing::SigningContext::immortal(genesis))
}

/// The pool's verdict on `xt` and the tags it provides. Validation initializes the next block,
/// so it runs in a storage transaction that is rolled back, as the node runs it on a copy.
fn validate(xt: UncheckedExtrinsic) -> Result<Vec<Vec<u8>>, TransactionValidityError> {
    sp_io::storage::start_transaction();
    let verdict = Executive::validate_transaction(TransactionSource::External, xt, H256::zero());
    sp_io::storage::rollback_transaction();
    verdict.map(|v| v.provides)
}

fn code_of(e: pallet_subtensor::Error<Runtime>) -> TransactionValidityError {
    pallet_subtensor::transaction_extension::invalid_for(e.into())
}

#[test]
fn the_pool_validates_mechanism_weights_and_coldkey_signed_registrations() {
    use pallet_subtensor::transaction_extension::{
        fee_free_tag, FeeFreeKind, NESTED_FEE_FREE_CALL,
    };
    dev_block().execute_with(|| {
        let netuid = NetUid(1);
        let hotkey = sr25519::Pair::from_string("//Alice//hot", None).unwrap();
        let hotkey_id = AccountId::from(hotkey.public());
        assert_eq!(hotkey_id, genesis_config_presets::alice_hotkey());
        let weights = |mecid| {
            RuntimeCall::SubtensorModule(pallet_subtensor::Call::set_mechanism_weights {
                netuid,
                mecid,
                dests: vec![0],
                weights: vec![1],
                version_key: 0,
            })
        };
        // The owner's key-only hotkey sends the SDK's call for free; it shares the tag of
        // `set_weights`.
        let provides = validate(signed(&hotkey, weights(0))).expect("valid");
        assert!(provides.contains(&fee_free_tag(FeeFreeKind::SetWeights, netuid, &hotkey_id)));
        assert_eq!(
            validate(signed(&hotkey, weights(1))),
            Err(code_of(pallet_subtensor::Error::MechanismDoesNotExist))
        );
        // Hidden in a batch, it is refused like every fee-free call.
        let alice = Sr25519Keyring::Alice.pair();
        let batch = RuntimeCall::Utility(pallet_utility::Call::batch { calls: vec![weights(0)] });
        assert_eq!(
            validate(signed(&alice, batch)),
            Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
                NESTED_FEE_FREE_CALL
            )))
        );

        // A proof-of-work registration signed by the coldkey (as the SDK signs it), tagged
        // with the hotkey. Difficulty 1: any seal qualifies.
        pallet_subtensor::Difficulty::<Runtime>::insert(netuid, 1);
        let new_hot = sr25519::Pair::from_string("//Miner//hot", None).unwrap();
        let new_hot_id = AccountId::from(new_hot.public());
        let bob = Sr25519Keyring::Bob.pair();
        let bob_id = Sr25519Keyring::Bob.to_account_id();
        let block_hash = frame_system::BlockHash::<Runtime>::get(0);
        let seal = pallet_subtensor::subnets::registration::create_seal_hash(
            block_hash.as_ref(),
            &new_hot_id.encode(),
            5,
        );
        let register = RuntimeCall::SubtensorModule(pallet_subtensor::Call::register {
            netuid,
            block_number: 0,
            nonce: 5,
            work: seal.as_bytes().to_vec(),
            hotkey: new_hot_id.clone(),
            coldkey: bob_id.clone(),
        });
        let provides = validate(signed(&bob, register.clone())).expect("valid");
        assert!(provides.contains(&fee_free_tag(FeeFreeKind::Register, netuid, &new_hot_id)));
        assert_eq!(
            validate(signed(&alice, register.clone())),
            Err(code_of(pallet_subtensor::Error::TransactorAccountShouldBeHotKey))
        );
        assert_eq!(Executive::apply_extrinsic(signed(&bob, register)), Ok(Ok(())));
        assert!(pallet_subtensor::Uids::<Runtime>::contains_key(netuid, &new_hot_id));
        assert_eq!(pallet_subtensor::OwnedHotkeys::<Runtime>::get(&bob_id), vec![new_hot_id]);
    });
}
