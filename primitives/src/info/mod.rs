//! Return types of the neuron and subnet runtime APIs, in the reference chain's SCALE layouts.
//!
//! Python tooling decodes these by position (`bt_decode`) or by metadata field name (SDK 9+,
//! async-substrate-interface), so field names, field order and every `Compact` follow the
//! reference's `pallets/subtensor/src/rpc_info/{neuron_info,subnet_info}.rs`. Where the reference
//! wraps an integer in a newtype that encodes like the integer (`AlphaBalance`, `TaoBalance`,
//! `PerU16`), these types use the plain integer; `NetUid` is kept. Scalar compact fields are plain
//! integers tagged `#[codec(compact)]` (same bytes and same metadata as a `Compact<_>` field);
//! compact values inside tuples stay `Compact<_>`.

//!
//! The views added for the Python SDK 10 and btcli 9 ([`SubnetState`], [`DynamicInfo`],
//! [`Metagraph`], [`SelectiveMetagraph`], [`SubnetInfov2`], [`StakeInfo`], [`DelegateInfo`],
//! [`SimSwapResult`], [`SubnetPrice`]) are dTAO-shaped on the reference. This chain fills them as
//! the reference fills a *stable mechanism* (mechanism 0) subnet: alpha is TAO at price 1, swaps
//! are 1:1 without fee, and "alpha" stake is the classic (hotkey, coldkey) stake. Each field doc
//! says where a classic quantity stands in a dTAO-shaped field ("On this chain").

pub mod dynamic;
mod identity;
pub mod metagraph;
mod neuron;
mod stake;
mod subnet;
mod swap;

pub use dynamic::{compact_bytes, DynamicInfo, SubnetState};
pub use identity::{ChainIdentityV2, SubnetIdentityV3};
pub use metagraph::{Metagraph, SelectiveMetagraph, SELECTIVE_METAGRAPH_FIELDS};
pub use neuron::{NeuronInfo, NeuronInfoLite};
pub use stake::{ColdkeyStakeInfo, DelegateInfo, DelegatedInfo, StakeInfo};
pub use subnet::{SubnetHyperparams, SubnetHyperparamsV2, SubnetInfo, SubnetInfov2};
pub use swap::{SimSwapResult, SubnetPrice, STABLE_ALPHA_PRICE};

/// Metadata-driven clients (SDK 9+, async-substrate-interface) decode these types by field *name*
/// and type from metadata V15: pin what scale-info reports for each one.
#[cfg(test)]
mod metadata_tests {
    use super::*;
    use crate::AccountId;
    use scale_info::{
        form::PortableForm, meta_type, PortableRegistry, Registry, TypeDef, TypeInfo,
    };

    /// A short rendering of a registry type: `u16`, `Compact<u64>`, `Vec<(AccountId32, ...)>`, …
    fn describe(reg: &PortableRegistry, id: u32) -> String {
        let Some(ty) = reg.resolve(id) else { return "?".into() };
        match &ty.type_def {
            TypeDef::Primitive(p) => format!("{p:?}").to_lowercase(),
            TypeDef::Compact(c) => format!("Compact<{}>", describe(reg, c.type_param.id)),
            TypeDef::Sequence(s) => format!("Vec<{}>", describe(reg, s.type_param.id)),
            TypeDef::Array(a) => format!("[{}; {}]", describe(reg, a.type_param.id), a.len),
            TypeDef::Tuple(t) => {
                let inner: Vec<String> = t.fields.iter().map(|f| describe(reg, f.id)).collect();
                format!("({})", inner.join(", "))
            }
            TypeDef::Variant(_)
                if ty.path.segments.last().map(String::as_str) == Some("Option") =>
            {
                let inner = ty.type_params.first().and_then(|p| p.ty).map(|t| t.id);
                format!("Option<{}>", inner.map(|i| describe(reg, i)).unwrap_or_default())
            }
            _ => ty.path.segments.last().cloned().unwrap_or_default(),
        }
    }

    /// `(field name, type)` of a struct, in declaration order.
    fn fields<T: TypeInfo + 'static>() -> Vec<(String, String)> {
        let mut registry = Registry::new();
        let id = registry.register_type(&meta_type::<T>()).id;
        let reg: PortableRegistry = registry.into();
        let Some(TypeDef::<PortableForm>::Composite(c)) =
            reg.resolve(id).map(|t| t.type_def.clone())
        else {
            return Vec::new();
        };
        c.fields
            .iter()
            .map(|f| (f.name.clone().unwrap_or_default(), describe(&reg, f.ty.id)))
            .collect()
    }

    fn expect(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect()
    }

    const NEURON_HEAD: &[(&str, &str)] = &[
        ("hotkey", "AccountId32"),
        ("coldkey", "AccountId32"),
        ("uid", "Compact<u16>"),
        ("netuid", "Compact<u16>"),
        ("active", "bool"),
        ("axon_info", "AxonInfo"),
        ("prometheus_info", "PrometheusInfo"),
        ("stake", "Vec<(AccountId32, Compact<u64>)>"),
        ("rank", "Compact<u16>"),
        ("emission", "Compact<u64>"),
        ("incentive", "Compact<u16>"),
        ("consensus", "Compact<u16>"),
        ("trust", "Compact<u16>"),
        ("validator_trust", "Compact<u16>"),
        ("dividends", "Compact<u16>"),
        ("last_update", "Compact<u64>"),
        ("validator_permit", "bool"),
    ];

    #[test]
    fn neuron_info_metadata() {
        let tail = [
            ("weights", "Vec<(Compact<u16>, Compact<u16>)>"),
            ("bonds", "Vec<(Compact<u16>, Compact<u16>)>"),
            ("pruning_score", "Compact<u16>"),
        ];
        assert_eq!(fields::<NeuronInfo<AccountId>>(), expect(&[NEURON_HEAD, &tail[..]].concat()));
        let lite_tail = [("pruning_score", "Compact<u16>")];
        assert_eq!(
            fields::<NeuronInfoLite<AccountId>>(),
            expect(&[NEURON_HEAD, &lite_tail[..]].concat())
        );
    }

    #[test]
    fn axon_and_prometheus_metadata() {
        let prom = [
            ("block", "u64"),
            ("version", "u32"),
            ("ip", "u128"),
            ("port", "u16"),
            ("ip_type", "u8"),
        ];
        assert_eq!(fields::<crate::PrometheusInfo>(), expect(&prom));
        let axon_tail = [("protocol", "u8"), ("placeholder1", "u8"), ("placeholder2", "u8")];
        assert_eq!(fields::<crate::AxonInfo>(), expect(&[&prom[..], &axon_tail[..]].concat()));
    }

    #[test]
    fn subnet_info_metadata() {
        let expected = [
            ("netuid", "Compact<u16>"),
            ("rho", "Compact<u16>"),
            ("kappa", "Compact<u16>"),
            ("difficulty", "Compact<u64>"),
            ("immunity_period", "Compact<u16>"),
            ("max_allowed_validators", "Compact<u16>"),
            ("min_allowed_weights", "Compact<u16>"),
            ("max_weights_limit", "Compact<u16>"),
            ("scaling_law_power", "Compact<u16>"),
            ("subnetwork_n", "Compact<u16>"),
            ("max_allowed_uids", "Compact<u16>"),
            ("blocks_since_last_step", "Compact<u64>"),
            ("tempo", "Compact<u16>"),
            ("network_modality", "Compact<u16>"),
            ("network_connect", "Vec<[u16; 2]>"),
            ("emission_values", "Compact<u64>"),
            ("burn", "Compact<u64>"),
            ("owner", "AccountId32"),
        ];
        assert_eq!(fields::<SubnetInfo<AccountId>>(), expect(&expected));
    }

    const HYPERPARAMS_V1: &[(&str, &str)] = &[
        ("rho", "Compact<u16>"),
        ("kappa", "Compact<u16>"),
        ("immunity_period", "Compact<u16>"),
        ("min_allowed_weights", "Compact<u16>"),
        ("max_weights_limit", "Compact<u16>"),
        ("tempo", "Compact<u16>"),
        ("min_difficulty", "Compact<u64>"),
        ("max_difficulty", "Compact<u64>"),
        ("weights_version", "Compact<u64>"),
        ("weights_rate_limit", "Compact<u64>"),
        ("adjustment_interval", "Compact<u16>"),
        ("activity_cutoff", "Compact<u64>"),
        ("registration_allowed", "bool"),
        ("target_regs_per_interval", "Compact<u16>"),
        ("min_burn", "Compact<u64>"),
        ("max_burn", "Compact<u64>"),
        ("bonds_moving_avg", "Compact<u64>"),
        ("max_regs_per_block", "Compact<u16>"),
        ("serving_rate_limit", "Compact<u64>"),
        ("max_validators", "Compact<u16>"),
        ("adjustment_alpha", "Compact<u64>"),
        ("difficulty", "Compact<u64>"),
        ("commit_reveal_period", "Compact<u64>"),
        ("commit_reveal_weights_enabled", "bool"),
        ("alpha_high", "Compact<u16>"),
        ("alpha_low", "Compact<u16>"),
        ("liquid_alpha_enabled", "bool"),
    ];

    #[test]
    fn subnet_hyperparams_metadata() {
        assert_eq!(fields::<SubnetHyperparams>(), expect(HYPERPARAMS_V1));
        let v2_tail = [
            ("alpha_sigmoid_steepness", "FixedI64"),
            ("yuma_version", "Compact<u16>"),
            ("subnet_is_active", "bool"),
            ("transfers_enabled", "bool"),
            ("bonds_reset_enabled", "bool"),
            ("user_liquidity_enabled", "bool"),
        ];
        assert_eq!(
            fields::<SubnetHyperparamsV2>(),
            expect(&[HYPERPARAMS_V1, &v2_tail[..]].concat())
        );
    }

    /// Pairs `(name, type)`, the reference's `AlphaBalance`/`TaoBalance` written as `u64`.
    const SUBNET_STATE: &[(&str, &str)] = &[
        ("netuid", "Compact<u16>"),
        ("hotkeys", "Vec<AccountId32>"),
        ("coldkeys", "Vec<AccountId32>"),
        ("active", "Vec<bool>"),
        ("validator_permit", "Vec<bool>"),
        ("pruning_score", "Vec<Compact<u16>>"),
        ("last_update", "Vec<Compact<u64>>"),
        ("emission", "Vec<Compact<u64>>"),
        ("dividends", "Vec<Compact<u16>>"),
        ("incentives", "Vec<Compact<u16>>"),
        ("consensus", "Vec<Compact<u16>>"),
        ("trust", "Vec<Compact<u16>>"),
        ("rank", "Vec<Compact<u16>>"),
        ("block_at_registration", "Vec<Compact<u64>>"),
        ("alpha_stake", "Vec<Compact<u64>>"),
        ("tao_stake", "Vec<Compact<u64>>"),
        ("total_stake", "Vec<Compact<u64>>"),
        ("emission_history", "Vec<Vec<Compact<u64>>>"),
    ];

    #[test]
    fn subnet_state_metadata() {
        assert_eq!(fields::<SubnetState<AccountId>>(), expect(SUBNET_STATE));
    }

    #[test]
    fn dynamic_info_metadata() {
        let expected = [
            ("netuid", "Compact<u16>"),
            ("owner_hotkey", "AccountId32"),
            ("owner_coldkey", "AccountId32"),
            ("subnet_name", "Vec<Compact<u8>>"),
            ("token_symbol", "Vec<Compact<u8>>"),
            ("tempo", "Compact<u16>"),
            ("last_step", "Compact<u64>"),
            ("blocks_since_last_step", "Compact<u64>"),
            ("emission", "Compact<u64>"),
            ("alpha_in", "Compact<u64>"),
            ("alpha_out", "Compact<u64>"),
            ("tao_in", "Compact<u64>"),
            ("alpha_out_emission", "Compact<u64>"),
            ("alpha_in_emission", "Compact<u64>"),
            ("tao_in_emission", "Compact<u64>"),
            ("pending_alpha_emission", "Compact<u64>"),
            ("pending_root_emission", "Compact<u64>"),
            ("subnet_volume", "Compact<u128>"),
            ("network_registered_at", "Compact<u64>"),
            ("subnet_identity", "Option<SubnetIdentityV3>"),
            ("moving_price", "FixedI128"),
        ];
        assert_eq!(fields::<DynamicInfo<AccountId>>(), expect(&expected));
        let identity = [
            "subnet_name",
            "github_repo",
            "subnet_contact",
            "subnet_url",
            "discord",
            "description",
            "logo_url",
            "additional",
        ];
        let bytes: Vec<(&str, &str)> = identity.iter().map(|n| (*n, "Vec<u8>")).collect();
        assert_eq!(fields::<SubnetIdentityV3>(), expect(&bytes));
        let chain = ["name", "url", "github_repo", "image", "discord", "description", "additional"];
        let bytes: Vec<(&str, &str)> = chain.iter().map(|n| (*n, "Vec<u8>")).collect();
        assert_eq!(fields::<ChainIdentityV2>(), expect(&bytes));
    }

    #[test]
    fn metagraph_metadata() {
        let full = fields::<Metagraph<AccountId>>();
        let selective = fields::<SelectiveMetagraph<AccountId>>();
        // Names: the index list, the full struct lacking the two selective-only tails.
        let names = |f: &[(String, String)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&selective), SELECTIVE_METAGRAPH_FIELDS.to_vec());
        let head: Vec<&str> = SELECTIVE_METAGRAPH_FIELDS.iter().take(72).copied().collect();
        assert_eq!(names(&full), head);
        // Types: the selective fields are the full ones in an `Option`, `netuid` excepted.
        for ((name, ty), (_, sel)) in full.iter().zip(&selective).skip(1) {
            assert_eq!(sel, &format!("Option<{ty}>"), "{name}");
        }
        let expected = [
            (0, "netuid", "Compact<u16>"),
            (1, "name", "Vec<Compact<u8>>"),
            (3, "identity", "Option<SubnetIdentityV3>"),
            (5, "owner_hotkey", "AccountId32"),
            (20, "subnet_volume", "Compact<u128>"),
            (21, "moving_price", "FixedI128"),
            (32, "burn", "Compact<u64>"),
            (34, "registration_allowed", "bool"),
            (54, "identities", "Vec<Option<ChainIdentityV2>>"),
            (55, "axons", "Vec<AxonInfo>"),
            (67, "alpha_stake", "Vec<Compact<u64>>"),
            (70, "tao_dividends_per_hotkey", "Vec<(AccountId32, Compact<u64>)>"),
            (71, "alpha_dividends_per_hotkey", "Vec<(AccountId32, Compact<u64>)>"),
        ];
        for (i, name, ty) in expected {
            assert_eq!(full.get(i), Some(&(name.to_string(), ty.to_string())), "{i}");
        }
        assert_eq!(
            selective.get(72..),
            Some(
                &expect(&[
                    ("validators", "Option<Vec<Compact<u16>>>"),
                    ("commitments", "Option<Vec<(AccountId32, Vec<Compact<u8>>)>>"),
                ])[..]
            )
        );
    }

    #[test]
    fn subnet_info_v2_metadata() {
        let v2 = fields::<SubnetInfov2<AccountId>>();
        let v1 = fields::<SubnetInfo<AccountId>>();
        assert_eq!(v2.len(), v1.len() + 1);
        for ((n1, t1), (n2, t2)) in v1.iter().zip(&v2) {
            let renamed = if n1 == "emission_values" { "emission_value" } else { n1 };
            assert_eq!((renamed, t1), (n2.as_str(), t2));
        }
        assert_eq!(
            v2.last(),
            Some(&("identity".to_string(), "Option<SubnetIdentityV3>".to_string()))
        );
    }

    #[test]
    fn stake_and_delegate_info_metadata() {
        let stake = [
            ("hotkey", "AccountId32"),
            ("coldkey", "AccountId32"),
            ("netuid", "Compact<u16>"),
            ("stake", "Compact<u64>"),
            ("locked", "Compact<u64>"),
            ("emission", "Compact<u64>"),
            ("tao_emission", "Compact<u64>"),
            ("drain", "Compact<u64>"),
            ("is_registered", "bool"),
        ];
        assert_eq!(fields::<StakeInfo<AccountId>>(), expect(&stake));
        let delegate = [
            ("delegate_ss58", "AccountId32"),
            ("take", "Compact<u16>"),
            ("nominators", "Vec<(AccountId32, Vec<(Compact<u16>, Compact<u64>)>)>"),
            ("owner_ss58", "AccountId32"),
            ("registrations", "Vec<Compact<u16>>"),
            ("validator_permits", "Vec<Compact<u16>>"),
            ("return_per_1000", "Compact<u64>"),
            ("total_daily_return", "Compact<u64>"),
        ];
        assert_eq!(fields::<DelegateInfo<AccountId>>(), expect(&delegate));
    }

    #[test]
    fn swap_results_metadata() {
        let sim = [
            ("tao_amount", "u64"),
            ("alpha_amount", "u64"),
            ("tao_fee", "u64"),
            ("alpha_fee", "u64"),
            ("tao_slippage", "u64"),
            ("alpha_slippage", "u64"),
        ];
        assert_eq!(fields::<SimSwapResult>(), expect(&sim));
        assert_eq!(fields::<SubnetPrice>(), expect(&[("netuid", "u16"), ("price", "u64")]));
    }
}
