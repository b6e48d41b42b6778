//! Genesis presets: `dev` (one authority, Alice is sudo, loopback axons allowed) and `local`
//! (the same accounts, for a local multi-process network).
//!
//! The authorities are in the genesis state: `dev` has //Alice as its Aura authority (sr25519)
//! and GRANDPA voter (ed25519, weight 1); `local` has //Alice, //Bob, //Charlie and //Dave, in
//! that order, for both.
//!
//! Both fund the well-known dev accounts (//Alice, //Bob, //Charlie, //Dave, //Eve, //Ferdie)
//! with 1,000,000 TAO each, as the reference chain's dev specs do, and pre-create subnet 1 owned
//! by //Alice with //Alice//hot as its owner hotkey, so a dev chain is usable at block 0.

use crate::*;
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Balance of each funded dev account.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * RAO_PER_TAO;

/// The accounts funded by both presets.
pub fn endowed_accounts() -> Vec<AccountId> {
    Sr25519Keyring::iter().take(6).map(|k| k.to_account_id()).collect()
}

/// The owner hotkey of the pre-created subnet 1: `//Alice//hot`.
pub fn alice_hotkey() -> AccountId {
    use sp_core::Pair;
    let pair = sp_core::sr25519::Pair::from_string("//Alice//hot", None)
        .expect("a static dev URI parses; qed");
    AccountId::from(pair.public())
}

/// The authorities of the `dev` preset: //Alice.
pub fn dev_authorities() -> Vec<(Sr25519Keyring, Ed25519Keyring)> {
    vec![(Sr25519Keyring::Alice, Ed25519Keyring::Alice)]
}

/// The authorities of the `local` preset, in Aura order: //Alice, //Bob, //Charlie, //Dave.
pub fn local_authorities() -> Vec<(Sr25519Keyring, Ed25519Keyring)> {
    vec![
        (Sr25519Keyring::Alice, Ed25519Keyring::Alice),
        (Sr25519Keyring::Bob, Ed25519Keyring::Bob),
        (Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
        (Sr25519Keyring::Dave, Ed25519Keyring::Dave),
    ]
}

fn genesis(
    authorities: Vec<(Sr25519Keyring, Ed25519Keyring)>,
    loopback: bool,
    subnet_tempo: u16,
) -> Value {
    let alice = Sr25519Keyring::Alice.to_account_id();
    build_struct_json_patch!(RuntimeGenesisConfig {
        aura: AuraConfig {
            authorities: authorities
                .iter()
                .map(|(aura, _)| AuraId::from(aura.public()))
                .collect::<Vec<_>>(),
        },
        grandpa: GrandpaConfig {
            authorities: authorities
                .iter()
                .map(|(_, grandpa)| (GrandpaId::from(grandpa.public()), 1))
                .collect::<Vec<_>>(),
        },
        balances: BalancesConfig {
            balances: endowed_accounts()
                .into_iter()
                .map(|a| (a, DEV_ENDOWMENT))
                .collect::<Vec<_>>(),
        },
        sudo: SudoConfig { key: Some(alice.clone()) },
        subtensor_module: SubtensorModuleConfig {
            subnets: vec![pallet_subtensor::GenesisSubnet {
                netuid: 1,
                owner: alice,
                owner_hotkey: alice_hotkey(),
                tempo: Some(subnet_tempo),
            }],
            serving_allows_loopback: loopback,
            network_min_lock_cost: Some(100 * RAO_PER_TAO),
        },
    })
}

/// The JSON patch of preset `id`, if it exists.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
    let patch = match id.as_ref() {
        DEV_RUNTIME_PRESET => genesis(dev_authorities(), true, 10),
        LOCAL_TESTNET_RUNTIME_PRESET => genesis(local_authorities(), true, 100),
        _ => return None,
    };
    Some(serde_json::to_string(&patch).expect("a JSON value serialises; qed").into_bytes())
}

/// Merge JSON `patch` into `base`: objects recursively, everything else replaced.
#[cfg(feature = "std")]
fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (key, value) in p {
                merge(b.entry(key).or_insert(Value::Null), value);
            }
        }
        (b, p) => *b = p,
    }
}

/// The genesis storage of the runtime's default genesis config with `patch` applied (the
/// `runtimeGenesis.patch` of a chain spec, or a preset).
#[cfg(feature = "std")]
pub fn storage_from_patch(
    patch: Value,
) -> Result<sp_core::storage::Storage, alloc::string::String> {
    use sp_runtime::BuildStorage;
    let mut config =
        serde_json::to_value(RuntimeGenesisConfig::default()).map_err(|e| e.to_string())?;
    merge(&mut config, patch);
    let config: RuntimeGenesisConfig =
        serde_json::from_value(config).map_err(|e| alloc::format!("genesis config: {e}"))?;
    // Aura and GRANDPA panic on more genesis authorities than they hold.
    let max = usize::try_from(configs::MAX_AUTHORITIES).unwrap_or(usize::MAX);
    for (pallet, count) in
        [("aura", config.aura.authorities.len()), ("grandpa", config.grandpa.authorities.len())]
    {
        if count > max {
            return Err(alloc::format!(
                "genesis config: {count} {pallet} authorities, at most {max} are allowed"
            ));
        }
    }
    config.build_storage()
}

/// The genesis storage of preset `id` (`development`, `local_testnet`).
#[cfg(feature = "std")]
pub fn preset_storage(id: &str) -> Result<sp_core::storage::Storage, alloc::string::String> {
    let patch = get_preset(&id.into()).ok_or_else(|| alloc::format!("no genesis preset {id:?}"))?;
    storage_from_patch(serde_json::from_slice(&patch).map_err(|e| e.to_string())?)
}

/// The names of the presets.
pub fn preset_names() -> Vec<PresetId> {
    vec![PresetId::from(DEV_RUNTIME_PRESET), PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)]
}
