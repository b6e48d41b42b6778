//! The authorities on chain: the `dev` and `local` presets put their Aura and GRANDPA keys in the
//! genesis state, `AuraApi` and `GrandpaApi` serve them, the metadata lists Aura at 3 and
//! Grandpa at 4, and a block carrying an Aura pre-runtime digest executes and records its slot.

use codec::{Decode, Encode};
use sp_consensus_aura::{SlotDuration, AURA_ENGINE_ID};
use sp_consensus_grandpa::{AuthorityList, SetId};
use sp_core::{ed25519, sr25519, H256};
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::{traits::Header as _, Digest, DigestItem};
use subtensor_runtime::*;

/// `method`'s SCALE-decoded answer on the genesis state of preset `preset`.
fn call<T: Decode>(preset: &str, method: &str) -> T {
    let storage = genesis_config_presets::preset_storage(preset).unwrap();
    sp_io::TestExternalities::new(storage).execute_with(|| {
        let raw = api::dispatch(method, &[]).unwrap_or_else(|| panic!("{method} exists"));
        T::decode(&mut &raw[..]).unwrap()
    })
}

fn check_preset(preset: &str, keys: &[(Sr25519Keyring, Ed25519Keyring)]) {
    let aura: Vec<sr25519::Public> = call(preset, "AuraApi_authorities");
    assert_eq!(aura, keys.iter().map(|(a, _)| a.public()).collect::<Vec<_>>(), "{preset}");
    let grandpa: Vec<(ed25519::Public, u64)> = call(preset, "GrandpaApi_grandpa_authorities");
    assert_eq!(grandpa, keys.iter().map(|(_, g)| (g.public(), 1)).collect::<Vec<_>>(), "{preset}");
    // The typed forms decode the same bytes.
    let typed: Vec<AuraId> = call(preset, "AuraApi_authorities");
    assert_eq!(typed.len(), keys.len());
    let typed: AuthorityList = call(preset, "GrandpaApi_grandpa_authorities");
    assert_eq!(typed.len(), keys.len());
    let set_id: SetId = call(preset, "GrandpaApi_current_set_id");
    assert_eq!(set_id, 0);
    let slot: SlotDuration = call(preset, "AuraApi_slot_duration");
    assert_eq!(slot.as_millis(), MILLISECS_PER_BLOCK);
}

#[test]
fn the_presets_put_their_authorities_on_chain() {
    use Ed25519Keyring as E;
    use Sr25519Keyring as S;
    check_preset(DEV_RUNTIME_PRESET, &[(S::Alice, E::Alice)]);
    check_preset(
        LOCAL_TESTNET_RUNTIME_PRESET,
        &[(S::Alice, E::Alice), (S::Bob, E::Bob), (S::Charlie, E::Charlie), (S::Dave, E::Dave)],
    );
    assert_eq!(genesis_config_presets::local_authorities().len(), 4, "local has four authorities");
}

#[test]
fn too_many_genesis_authorities_are_an_error_not_a_panic() {
    let keys: Vec<String> = (0..33)
        .map(|i| {
            use sp_core::crypto::Ss58Codec;
            sr25519::Public::from_raw([i; 32]).to_ss58check()
        })
        .collect();
    let patch = serde_json::json!({ "aura": { "authorities": keys } });
    let err = genesis_config_presets::storage_from_patch(patch).unwrap_err();
    assert!(err.contains("33 aura authorities"), "{err}");
}

#[test]
fn aura_and_grandpa_sit_at_indices_3_and_4() {
    use frame_metadata::RuntimeMetadata;
    let bytes = Runtime::metadata_at_version(15).unwrap();
    let prefixed = frame_metadata::RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap();
    let RuntimeMetadata::V15(meta) = prefixed.1 else { panic!("not V15") };
    let index = |name: &str| meta.pallets.iter().find(|p| p.name == name).map(|p| p.index);
    assert_eq!(index("Aura"), Some(3));
    assert_eq!(index("Grandpa"), Some(4));
    let apis: Vec<_> = meta.apis.iter().map(|a| a.name.as_str()).collect();
    assert!(apis.contains(&"AuraApi") && apis.contains(&"GrandpaApi"), "{apis:?}");
    assert_eq!(VERSION.spec_version, 106);
}

/// A header of block `number` on `parent` announcing `slot` in its Aura pre-runtime digest.
fn header(number: BlockNumber, parent: H256, slot: u64) -> Header {
    Header::new(
        number,
        Default::default(),
        Default::default(),
        parent,
        Digest { logs: vec![DigestItem::PreRuntime(AURA_ENGINE_ID, slot.encode())] },
    )
}

/// Build a block in `slot` on the current state (initialize, timestamp, finalize) and return
/// it; the state is left after the block.
fn build(number: BlockNumber, parent: H256, slot: u64, timestamp: u64) -> Block {
    Executive::initialize_block(&header(number, parent, slot));
    let xt = UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
        now: timestamp,
    }));
    assert_eq!(Executive::apply_extrinsic(xt.clone()), Ok(Ok(())));
    let header = Executive::finalize_block();
    Block { header, extrinsics: vec![xt] }
}

#[test]
fn a_block_with_an_aura_digest_executes_and_records_its_slot() {
    let storage = genesis_config_presets::preset_storage(DEV_RUNTIME_PRESET).unwrap();
    let genesis = H256::repeat_byte(0x11);
    // The slot is not tied to the timestamp by the runtime (the node checks that).
    let (one, two) = sp_io::TestExternalities::new(storage.clone()).execute_with(|| {
        let one = build(1, genesis, 1_000, 1_000);
        assert_eq!(u64::from(pallet_aura::CurrentSlot::<Runtime>::get()), 1_000);
        let two = build(2, one.header.hash(), 1_001, 2_000);
        assert_eq!(u64::from(pallet_aura::CurrentSlot::<Runtime>::get()), 1_001);
        (one, two)
    });
    let mut importer = sp_io::TestExternalities::new(storage.clone());
    importer.execute_with(|| {
        Executive::execute_block(one.clone().into());
        Executive::execute_block(two.into());
        assert_eq!(u64::from(pallet_aura::CurrentSlot::<Runtime>::get()), 1_001);
    });
    // A slot that does not increase is what Aura refuses (a panic, which the node's executor
    // catches; the node's import refuses such blocks before executing them).
    let mut importer = sp_io::TestExternalities::new(storage);
    let refused = importer.execute_with(|| {
        Executive::execute_block(one.clone().into());
        std::panic::catch_unwind(|| {
            Executive::initialize_block(&header(2, one.header.hash(), 1_000));
        })
        .is_err()
    });
    assert!(refused);
}
