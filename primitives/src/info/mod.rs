//! Return types of the neuron and subnet runtime APIs, in the reference chain's SCALE layouts.
//!
//! Python tooling decodes these by position (`bt_decode`) or by metadata field name (SDK 9+,
//! async-substrate-interface), so field names, field order and every `Compact` follow the
//! reference's `pallets/subtensor/src/rpc_info/{neuron_info,subnet_info}.rs`. Where the reference
//! wraps an integer in a newtype that encodes like the integer (`AlphaBalance`, `TaoBalance`,
//! `PerU16`), these types use the plain integer; `NetUid` is kept. Scalar compact fields are plain
//! integers tagged `#[codec(compact)]` (same bytes and same metadata as a `Compact<_>` field);
//! compact values inside tuples stay `Compact<_>`.

mod neuron;
mod subnet;

pub use neuron::{NeuronInfo, NeuronInfoLite};
pub use subnet::{SubnetHyperparams, SubnetHyperparamsV2, SubnetInfo};

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
}
