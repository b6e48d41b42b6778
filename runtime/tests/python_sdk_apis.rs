//! The runtime APIs the Python SDK 10.2 and btcli 9.20 call, as they see them: metadata V15
//! (what `Metadata_metadata_at_version(15)` returns) lists every API and method with the
//! reference chain's names and **parameter names** (clients may pass arguments by name), and
//! the structs they return have the reference's field names (clients read decoded dicts by
//! field name). Then each method answers on the `dev` genesis state through `api::dispatch`,
//! exactly as `state_call` reaches it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::type_complexity
)]

use codec::{Compact, Decode, Encode};
use frame_metadata::{
    v15::{RuntimeApiMetadata, RuntimeMetadataV15},
    RuntimeMetadata, RuntimeMetadataPrefixed,
};
use scale_info::{form::PortableForm, PortableRegistry, TypeDef};
use sp_core::OpaqueMetadata;
use sp_genesis_builder::DEV_RUNTIME_PRESET;
use sp_keyring::Sr25519Keyring;
use subtensor_primitives::{
    DelegateInfo, DelegatedInfo, DynamicInfo, Metagraph, SelectiveMetagraph, SimSwapResult,
    StakeInfo, SubnetInfov2, SubnetPrice, SubnetState,
};
use subtensor_runtime::*;

/// `(API, [(method, [parameter names])])` of the reference chain (opentensor/subtensor
/// `pallets/subtensor/runtime-api`, `pallets/swap/runtime-api`) for every method this chain
/// serves.
const APIS: &[(&str, &[(&str, &[&str])])] = &[
    (
        "NeuronInfoRuntimeApi",
        &[
            ("get_neurons", &["netuid"]),
            ("get_neuron", &["netuid", "uid"]),
            ("get_neurons_lite", &["netuid"]),
            ("get_neuron_lite", &["netuid", "uid"]),
        ],
    ),
    (
        "SubnetInfoRuntimeApi",
        &[
            ("get_subnet_info", &["netuid"]),
            ("get_subnets_info", &[]),
            ("get_subnet_info_v2", &["netuid"]),
            ("get_subnets_info_v2", &[]),
            ("get_subnet_hyperparams", &["netuid"]),
            ("get_subnet_hyperparams_v2", &["netuid"]),
            ("get_all_dynamic_info", &[]),
            ("get_all_metagraphs", &[]),
            ("get_metagraph", &["netuid"]),
            ("get_all_mechagraphs", &[]),
            ("get_mechagraph", &["netuid", "mecid"]),
            ("get_dynamic_info", &["netuid"]),
            ("get_subnet_state", &["netuid"]),
            ("get_selective_metagraph", &["netuid", "metagraph_indexes"]),
            ("get_selective_mechagraph", &["netuid", "subid", "metagraph_indexes"]),
        ],
    ),
    (
        "StakeInfoRuntimeApi",
        &[
            ("get_stake_info_for_coldkey", &["coldkey_account"]),
            ("get_stake_info_for_coldkeys", &["coldkey_accounts"]),
            (
                "get_stake_info_for_hotkey_coldkey_netuid",
                &["hotkey_account", "coldkey_account", "netuid"],
            ),
        ],
    ),
    (
        "DelegateInfoRuntimeApi",
        &[
            ("get_delegates", &[]),
            ("get_delegate", &["delegate_account"]),
            ("get_delegated", &["delegatee_account"]),
        ],
    ),
    (
        "SwapRuntimeApi",
        &[
            ("current_alpha_price", &["netuid"]),
            ("current_alpha_price_all", &[]),
            ("sim_swap_tao_for_alpha", &["netuid", "tao"]),
            ("sim_swap_alpha_for_tao", &["netuid", "alpha"]),
        ],
    ),
    ("SubnetRegistrationRuntimeApi", &[("get_network_registration_cost", &[])]),
];

/// The reference's struct field names, in order (`pallets/subtensor/src/rpc_info/*.rs`, the
/// swap runtime API, `SubnetIdentityV3` and `ChainIdentityV2`), keyed by type name.
const STRUCTS: &[(&str, &[&str])] = &[
    (
        "SubnetState",
        &[
            "netuid",
            "hotkeys",
            "coldkeys",
            "active",
            "validator_permit",
            "pruning_score",
            "last_update",
            "emission",
            "dividends",
            "incentives",
            "consensus",
            "trust",
            "rank",
            "block_at_registration",
            "alpha_stake",
            "tao_stake",
            "total_stake",
            "emission_history",
        ],
    ),
    (
        "DynamicInfo",
        &[
            "netuid",
            "owner_hotkey",
            "owner_coldkey",
            "subnet_name",
            "token_symbol",
            "tempo",
            "last_step",
            "blocks_since_last_step",
            "emission",
            "alpha_in",
            "alpha_out",
            "tao_in",
            "alpha_out_emission",
            "alpha_in_emission",
            "tao_in_emission",
            "pending_alpha_emission",
            "pending_root_emission",
            "subnet_volume",
            "network_registered_at",
            "subnet_identity",
            "moving_price",
        ],
    ),
    ("Metagraph", METAGRAPH),
    ("SelectiveMetagraph", SELECTIVE_METAGRAPH),
    (
        "StakeInfo",
        &[
            "hotkey",
            "coldkey",
            "netuid",
            "stake",
            "locked",
            "emission",
            "tao_emission",
            "drain",
            "is_registered",
        ],
    ),
    (
        "DelegateInfo",
        &[
            "delegate_ss58",
            "take",
            "nominators",
            "owner_ss58",
            "registrations",
            "validator_permits",
            "return_per_1000",
            "total_daily_return",
        ],
    ),
    (
        "SimSwapResult",
        &["tao_amount", "alpha_amount", "tao_fee", "alpha_fee", "tao_slippage", "alpha_slippage"],
    ),
    ("SubnetPrice", &["netuid", "price"]),
    (
        "SubnetInfov2",
        &[
            "netuid",
            "rho",
            "kappa",
            "difficulty",
            "immunity_period",
            "max_allowed_validators",
            "min_allowed_weights",
            "max_weights_limit",
            "scaling_law_power",
            "subnetwork_n",
            "max_allowed_uids",
            "blocks_since_last_step",
            "tempo",
            "network_modality",
            "network_connect",
            "emission_value",
            "burn",
            "owner",
            "identity",
        ],
    ),
    (
        "SubnetIdentityV3",
        &[
            "subnet_name",
            "github_repo",
            "subnet_contact",
            "subnet_url",
            "discord",
            "description",
            "logo_url",
            "additional",
        ],
    ),
    (
        "ChainIdentityV2",
        &["name", "url", "github_repo", "image", "discord", "description", "additional"],
    ),
];

/// The reference's `Metagraph` fields: the SDK's `SelectiveMetagraphIndex` 0 ..= 71.
const METAGRAPH: &[&str] = &[
    "netuid",
    "name",
    "symbol",
    "identity",
    "network_registered_at",
    "owner_hotkey",
    "owner_coldkey",
    "block",
    "tempo",
    "last_step",
    "blocks_since_last_step",
    "subnet_emission",
    "alpha_in",
    "alpha_out",
    "tao_in",
    "alpha_out_emission",
    "alpha_in_emission",
    "tao_in_emission",
    "pending_alpha_emission",
    "pending_root_emission",
    "subnet_volume",
    "moving_price",
    "rho",
    "kappa",
    "min_allowed_weights",
    "max_weights_limit",
    "weights_version",
    "weights_rate_limit",
    "activity_cutoff",
    "max_validators",
    "num_uids",
    "max_uids",
    "burn",
    "difficulty",
    "registration_allowed",
    "pow_registration_allowed",
    "immunity_period",
    "min_difficulty",
    "max_difficulty",
    "min_burn",
    "max_burn",
    "adjustment_alpha",
    "adjustment_interval",
    "target_regs_per_interval",
    "max_regs_per_block",
    "serving_rate_limit",
    "commit_reveal_weights_enabled",
    "commit_reveal_period",
    "liquid_alpha_enabled",
    "alpha_high",
    "alpha_low",
    "bonds_moving_avg",
    "hotkeys",
    "coldkeys",
    "identities",
    "axons",
    "active",
    "validator_permit",
    "pruning_score",
    "last_update",
    "emission",
    "dividends",
    "incentives",
    "consensus",
    "trust",
    "rank",
    "block_at_registration",
    "alpha_stake",
    "tao_stake",
    "total_stake",
    "tao_dividends_per_hotkey",
    "alpha_dividends_per_hotkey",
];

/// The reference's `SelectiveMetagraph` fields: [`METAGRAPH`] then indexes 72 and 73.
const SELECTIVE_METAGRAPH: &[&str] = &[
    "netuid",
    "name",
    "symbol",
    "identity",
    "network_registered_at",
    "owner_hotkey",
    "owner_coldkey",
    "block",
    "tempo",
    "last_step",
    "blocks_since_last_step",
    "subnet_emission",
    "alpha_in",
    "alpha_out",
    "tao_in",
    "alpha_out_emission",
    "alpha_in_emission",
    "tao_in_emission",
    "pending_alpha_emission",
    "pending_root_emission",
    "subnet_volume",
    "moving_price",
    "rho",
    "kappa",
    "min_allowed_weights",
    "max_weights_limit",
    "weights_version",
    "weights_rate_limit",
    "activity_cutoff",
    "max_validators",
    "num_uids",
    "max_uids",
    "burn",
    "difficulty",
    "registration_allowed",
    "pow_registration_allowed",
    "immunity_period",
    "min_difficulty",
    "max_difficulty",
    "min_burn",
    "max_burn",
    "adjustment_alpha",
    "adjustment_interval",
    "target_regs_per_interval",
    "max_regs_per_block",
    "serving_rate_limit",
    "commit_reveal_weights_enabled",
    "commit_reveal_period",
    "liquid_alpha_enabled",
    "alpha_high",
    "alpha_low",
    "bonds_moving_avg",
    "hotkeys",
    "coldkeys",
    "identities",
    "axons",
    "active",
    "validator_permit",
    "pruning_score",
    "last_update",
    "emission",
    "dividends",
    "incentives",
    "consensus",
    "trust",
    "rank",
    "block_at_registration",
    "alpha_stake",
    "tao_stake",
    "total_stake",
    "tao_dividends_per_hotkey",
    "alpha_dividends_per_hotkey",
    "validators",
    "commitments",
];

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

/// The V15 metadata clients fetch with `state_call("Metadata_metadata_at_version", 15)`.
fn metadata_v15() -> RuntimeMetadataV15 {
    let opaque: Option<OpaqueMetadata> = on_dev(|| call("Metadata_metadata_at_version", 15u32));
    let prefixed = RuntimeMetadataPrefixed::decode(&mut &opaque.unwrap()[..]).unwrap();
    match prefixed.1 {
        RuntimeMetadata::V15(meta) => meta,
        _ => panic!("not V15"),
    }
}

fn api<'a>(meta: &'a RuntimeMetadataV15, name: &str) -> &'a RuntimeApiMetadata<PortableForm> {
    meta.apis.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("{name} in metadata"))
}

/// Every named composite reachable from type `id` (through `Option`, `Vec`, tuples and struct
/// fields), as `(type name, field names)`.
fn structs(reg: &PortableRegistry, id: u32, out: &mut Vec<(String, Vec<String>)>) {
    let ty = reg.resolve(id).unwrap();
    let name = ty.path.segments.last().cloned().unwrap_or_default();
    match &ty.type_def {
        TypeDef::Composite(c) => {
            let fields: Vec<String> =
                c.fields.iter().map(|f| f.name.clone().unwrap_or_default()).collect();
            if out.iter().any(|(n, f)| *n == name && *f == fields) {
                return;
            }
            out.push((name, fields));
            for f in &c.fields {
                structs(reg, f.ty.id, out);
            }
        }
        TypeDef::Variant(v) => {
            for f in v.variants.iter().flat_map(|v| &v.fields) {
                structs(reg, f.ty.id, out);
            }
        }
        TypeDef::Sequence(s) => structs(reg, s.type_param.id, out),
        TypeDef::Array(a) => structs(reg, a.type_param.id, out),
        TypeDef::Tuple(t) => t.fields.iter().for_each(|f| structs(reg, f.id, out)),
        _ => {}
    }
}

#[test]
fn metadata_v15_lists_the_sdk_apis_with_reference_parameter_names() {
    let meta = metadata_v15();
    for (api_name, methods) in APIS {
        let api = api(&meta, api_name);
        for (method, params) in *methods {
            let m = api
                .methods
                .iter()
                .find(|m| m.name == *method)
                .unwrap_or_else(|| panic!("{api_name}.{method} in metadata"));
            let names: Vec<&str> = m.inputs.iter().map(|i| i.name.as_str()).collect();
            assert_eq!(&names, params, "{api_name}.{method}");
        }
    }
    // The SDK's `metagraph()` falls back to `get_metagraph` with a malformed argument when
    // `get_selective_mechagraph` is missing: the two come together.
    let subnet_info = api(&meta, "SubnetInfoRuntimeApi");
    assert!(subnet_info.methods.iter().any(|m| m.name == "get_selective_mechagraph"));
}

#[test]
fn returned_structs_have_the_reference_field_names() {
    let meta = metadata_v15();
    let mut found = Vec::new();
    for api_name in
        ["SubnetInfoRuntimeApi", "StakeInfoRuntimeApi", "DelegateInfoRuntimeApi", "SwapRuntimeApi"]
    {
        for m in &api(&meta, api_name).methods {
            structs(&meta.types, m.output.id, &mut found);
        }
    }
    for (name, fields) in STRUCTS {
        let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        let matching: Vec<&Vec<String>> =
            found.iter().filter(|(n, _)| n == name).map(|(_, f)| f).collect();
        assert_eq!(matching, vec![&fields], "{name}");
    }
    // Fixed-point prices are `{bits}` composites, as the SDK's `fixed_to_float` reads them.
    assert!(found.iter().any(|(n, f)| n == "FixedI128" && *f == ["bits"]));
}

#[test]
fn the_sdk_apis_answer_on_the_dev_genesis() {
    on_dev(|| {
        let netuid = NetUid(1);
        let hotkey = genesis_config_presets::alice_hotkey();
        let alice = Sr25519Keyring::Alice.to_account_id();

        let state: Option<SubnetState<AccountId>> =
            call("SubnetInfoRuntimeApi_get_subnet_state", netuid);
        let state = state.unwrap();
        assert_eq!(state.hotkeys, vec![hotkey.clone()]);
        assert_eq!(state.coldkeys, vec![alice.clone()]);
        assert_eq!(state.tao_stake, vec![Compact(0)]);

        let every: Vec<u16> = (0..74).collect();
        let selective: Option<SelectiveMetagraph<AccountId>> =
            call("SubnetInfoRuntimeApi_get_selective_mechagraph", (netuid, 0u8, every));
        let selective = selective.unwrap();
        assert_eq!(selective.hotkeys, Some(vec![hotkey.clone()]));
        assert_eq!(selective.tempo, Some(Compact(10)));
        let other: Option<SelectiveMetagraph<AccountId>> =
            call("SubnetInfoRuntimeApi_get_selective_mechagraph", (netuid, 1u8, vec![0u16]));
        assert!(other.is_none());

        let full: Option<Metagraph<AccountId>> =
            call("SubnetInfoRuntimeApi_get_mechagraph", (netuid, 0u8));
        assert_eq!(full.as_ref().map(|m| m.owner_coldkey.clone()), Some(alice.clone()));
        let same: Option<Metagraph<AccountId>> = call("SubnetInfoRuntimeApi_get_metagraph", netuid);
        assert_eq!(same, full);
        let all: Vec<Option<Metagraph<AccountId>>> =
            call("SubnetInfoRuntimeApi_get_all_mechagraphs", ());
        assert_eq!(all, vec![full]);

        let dynamic: Vec<Option<DynamicInfo<AccountId>>> =
            call("SubnetInfoRuntimeApi_get_all_dynamic_info", ());
        // The empty root network first (btcli's `subnets list` looks for it), then subnet 1.
        assert_eq!(dynamic.len(), 2);
        assert_eq!(dynamic[0].as_ref().map(|d| d.netuid), Some(NetUid::ROOT));
        let dynamic = dynamic[1].clone().unwrap();
        assert_eq!((dynamic.netuid, dynamic.owner_hotkey.clone()), (netuid, hotkey.clone()));
        assert_eq!((dynamic.tao_in, dynamic.alpha_in), (1, 1));
        assert_eq!(dynamic.moving_price.to_bits(), 1 << 32);
        let one: Option<DynamicInfo<AccountId>> =
            call("SubnetInfoRuntimeApi_get_dynamic_info", netuid);
        assert_eq!(one, Some(dynamic));

        let info: Vec<Option<SubnetInfov2<AccountId>>> =
            call("SubnetInfoRuntimeApi_get_subnets_info_v2", ());
        assert_eq!(info.len(), 1);
        assert_eq!(info[0].as_ref().map(|i| i.owner.clone()), Some(alice.clone()));

        let price: u64 = call("SwapRuntimeApi_current_alpha_price", netuid);
        assert_eq!(price, 1_000_000_000);
        let prices: Vec<SubnetPrice> = call("SwapRuntimeApi_current_alpha_price_all", ());
        assert_eq!(prices, vec![SubnetPrice { netuid, price }]);
        let sim: SimSwapResult = call("SwapRuntimeApi_sim_swap_tao_for_alpha", (netuid, 5u64));
        assert_eq!((sim.tao_amount, sim.alpha_amount, sim.tao_fee), (5, 5, 0));
        let sim: SimSwapResult = call("SwapRuntimeApi_sim_swap_alpha_for_tao", (netuid, 6u64));
        assert_eq!((sim.tao_amount, sim.alpha_amount, sim.alpha_fee), (6, 6, 0));

        let position: Option<StakeInfo<AccountId>> = call(
            "StakeInfoRuntimeApi_get_stake_info_for_hotkey_coldkey_netuid",
            (hotkey.clone(), alice.clone(), netuid),
        );
        let position = position.unwrap();
        assert_eq!((position.netuid, position.stake, position.is_registered), (netuid, 0, true));
        let positions: Vec<(AccountId, Vec<StakeInfo<AccountId>>)> =
            call("StakeInfoRuntimeApi_get_stake_info_for_coldkeys", vec![alice.clone()]);
        assert_eq!(positions, vec![(alice.clone(), vec![])]);
        let positions: Vec<StakeInfo<AccountId>> =
            call("StakeInfoRuntimeApi_get_stake_info_for_coldkey", alice.clone());
        assert!(positions.is_empty());

        let delegates: Vec<DelegateInfo<AccountId>> =
            call("DelegateInfoRuntimeApi_get_delegates", ());
        assert_eq!(delegates.len(), 1);
        assert_eq!(delegates[0].delegate_ss58, hotkey);
        assert_eq!(delegates[0].registrations, vec![Compact(netuid)]);
        let delegate: Option<DelegateInfo<AccountId>> =
            call("DelegateInfoRuntimeApi_get_delegate", hotkey);
        assert_eq!(delegate, Some(delegates[0].clone()));
        let delegated: Vec<DelegatedInfo<AccountId>> =
            call("DelegateInfoRuntimeApi_get_delegated", alice);
        assert!(delegated.is_empty());
    });
}
