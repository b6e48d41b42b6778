//! AdminUtils on a mock runtime (System, Balances, SubtensorModule, AdminUtils): the calls carry
//! the reference's names, indices and parameter names, each sets the parameter it names through
//! the subtensor pallet, and origins, errors and events are the subtensor pallet's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use crate::{self as pallet_admin_utils, *};
use frame_support::{
    assert_noop, assert_ok, derive_impl,
    dispatch::{DispatchInfo, GetDispatchInfo},
    traits::{fungible::Mutate, UnfilteredDispatchable},
};
use pallet_subtensor::{GlobalParameter, Hyperparameter};
use scale_info::{TypeDef, TypeInfo};
use sp_runtime::{BuildStorage, DispatchError};
use subtensor_primitives::NetUid;

type Block = frame_system::mocking::MockBlock<Test>;
type AccountId = u64;

frame_support::construct_runtime!(
    pub enum Test {
        System: frame_system,
        Balances: pallet_balances,
        SubtensorModule: pallet_subtensor,
        AdminUtils: pallet_admin_utils,
    }
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
    type Block = Block;
    type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
    type Balance = u64;
    type AccountStore = System;
}

impl pallet_subtensor::Config for Test {
    type Currency = Balances;
    type WeightInfo = ();
    type SubnetLifecycle = ();
}

impl Config for Test {}

const OWNER: AccountId = 1;
const OWNER_HOTKEY: AccountId = 2;
const STRANGER: AccountId = 3;
const NETUID: NetUid = NetUid(1);

/// Externalities at block 1 with subnet 1 owned by [`OWNER`].
fn new_test_ext() -> sp_io::TestExternalities {
    let subtensor = pallet_subtensor::GenesisConfig::<Test> {
        subnets: vec![pallet_subtensor::GenesisSubnet {
            netuid: NETUID.0,
            owner: OWNER,
            owner_hotkey: OWNER_HOTKEY,
            tempo: None,
        }],
        ..Default::default()
    };
    let storage = RuntimeGenesisConfig {
        system: Default::default(),
        balances: Default::default(),
        subtensor_module: subtensor,
    }
    .build_storage()
    .expect("the mock genesis is valid; qed");
    let mut ext = sp_io::TestExternalities::new(storage);
    ext.execute_with(|| System::set_block_number(1));
    ext
}

/// Dispatch `call` from `origin`.
fn dispatch(call: Call<Test>, origin: RuntimeOrigin) -> frame_support::dispatch::DispatchResult {
    call.dispatch_bypass_filter(origin).map(|_| ()).map_err(|e| e.error)
}

/// The subtensor pallet's last event.
fn last_subtensor_event() -> pallet_subtensor::Event<Test> {
    System::events()
        .into_iter()
        .filter_map(|r| match r.event {
            RuntimeEvent::SubtensorModule(e) => Some(e),
            _ => None,
        })
        .next_back()
        .expect("an event was deposited; qed")
}

/// `(call index, name, parameter names after netuid)` of the reference chain's AdminUtils
/// (opentensor/subtensor `pallets/admin-utils/src/lib.rs`; 11 and 12 from releases before
/// their removal), for every call this pallet has.
const REFERENCE: &[(u8, &str, &[&str])] = &[
    (1, "sudo_set_default_take", &["default_take"]),
    (3, "sudo_set_serving_rate_limit", &["netuid", "serving_rate_limit"]),
    (4, "sudo_set_min_difficulty", &["netuid", "min_difficulty"]),
    (5, "sudo_set_max_difficulty", &["netuid", "max_difficulty"]),
    (6, "sudo_set_weights_version_key", &["netuid", "weights_version_key"]),
    (7, "sudo_set_weights_set_rate_limit", &["netuid", "weights_set_rate_limit"]),
    (8, "sudo_set_adjustment_interval", &["netuid", "adjustment_interval"]),
    (9, "sudo_set_adjustment_alpha", &["netuid", "adjustment_alpha"]),
    (11, "sudo_set_scaling_law_power", &["netuid", "scaling_law_power"]),
    (12, "sudo_set_max_weight_limit", &["netuid", "max_weight_limit"]),
    (13, "sudo_set_immunity_period", &["netuid", "immunity_period"]),
    (14, "sudo_set_min_allowed_weights", &["netuid", "min_allowed_weights"]),
    (15, "sudo_set_max_allowed_uids", &["netuid", "max_allowed_uids"]),
    (16, "sudo_set_kappa", &["netuid", "kappa"]),
    (17, "sudo_set_rho", &["netuid", "rho"]),
    (18, "sudo_set_activity_cutoff", &["netuid", "activity_cutoff"]),
    (19, "sudo_set_network_registration_allowed", &["netuid", "registration_allowed"]),
    (20, "sudo_set_network_pow_registration_allowed", &["netuid", "registration_allowed"]),
    (
        21,
        "sudo_set_target_registrations_per_interval",
        &["netuid", "target_registrations_per_interval"],
    ),
    (22, "sudo_set_min_burn", &["netuid", "min_burn"]),
    (23, "sudo_set_max_burn", &["netuid", "max_burn"]),
    (24, "sudo_set_difficulty", &["netuid", "difficulty"]),
    (25, "sudo_set_max_allowed_validators", &["netuid", "max_allowed_validators"]),
    (26, "sudo_set_bonds_moving_average", &["netuid", "bonds_moving_average"]),
    (27, "sudo_set_max_registrations_per_block", &["netuid", "max_registrations_per_block"]),
    (28, "sudo_set_subnet_owner_cut", &["subnet_owner_cut"]),
    (29, "sudo_set_network_rate_limit", &["rate_limit"]),
    (30, "sudo_set_tempo", &["netuid", "tempo"]),
    (36, "sudo_set_network_min_lock_cost", &["lock_cost"]),
    (37, "sudo_set_subnet_limit", &["max_subnets"]),
    (38, "sudo_set_lock_reduction_interval", &["interval"]),
    (42, "sudo_set_stake_threshold", &["min_stake"]),
    (49, "sudo_set_commit_reveal_weights_enabled", &["netuid", "enabled"]),
    (50, "sudo_set_liquid_alpha_enabled", &["netuid", "enabled"]),
    (51, "sudo_set_alpha_values", &["netuid", "alpha_low", "alpha_high"]),
    (57, "sudo_set_commit_reveal_weights_interval", &["netuid", "interval"]),
    (60, "sudo_set_bonds_penalty", &["netuid", "bonds_penalty"]),
    (68, "sudo_set_alpha_sigmoid_steepness", &["netuid", "steepness"]),
    (69, "sudo_set_yuma3_enabled", &["netuid", "enabled"]),
];

#[test]
fn calls_have_the_reference_names_indices_and_parameters() {
    let info = Call::<Test>::type_info();
    let TypeDef::Variant(variants) = info.type_def else { panic!("Call is an enum") };
    let mut ours: Vec<(u8, String, Vec<String>, Vec<String>)> = variants
        .variants
        .iter()
        .map(|v| {
            let names = v.fields.iter().map(|f| f.name.unwrap().to_string()).collect();
            let types = v.fields.iter().map(|f| f.type_name.unwrap().to_string()).collect();
            (v.index, v.name.to_string(), names, types)
        })
        .collect();
    ours.sort();
    let expected: Vec<(u8, String, Vec<String>)> = REFERENCE
        .iter()
        .map(|(i, n, p)| (*i, n.to_string(), p.iter().map(|s| s.to_string()).collect()))
        .collect();
    let got: Vec<(u8, String, Vec<String>)> =
        ours.iter().map(|(i, n, p, _)| (*i, n.clone(), p.clone())).collect();
    assert_eq!(got, expected);
    // btcli reads the value's type name to parse the command line: u16, u64 or bool (and the
    // netuid is `NetUid`, a u16 on the wire).
    for (_, name, params, types) in &ours {
        for (param, ty) in params.iter().zip(types) {
            let allowed: &[&str] =
                if param == "netuid" { &["NetUid"] } else { &["u16", "u64", "bool", "i16"] };
            assert!(allowed.contains(&ty.as_str()), "{name}({param}: {ty})");
        }
    }
}

/// Every per-subnet call with a valid value, and the parameter it must set.
fn subnet_calls() -> Vec<(Call<Test>, Hyperparameter)> {
    use Call as C;
    use Hyperparameter as H;
    let n = NETUID;
    vec![
        (
            C::sudo_set_serving_rate_limit { netuid: n, serving_rate_limit: 7 },
            H::ServingRateLimit(7),
        ),
        (C::sudo_set_min_difficulty { netuid: n, min_difficulty: 2 }, H::MinDifficulty(2)),
        (
            C::sudo_set_max_difficulty { netuid: n, max_difficulty: 1 << 40 },
            H::MaxDifficulty(1 << 40),
        ),
        (
            C::sudo_set_weights_version_key { netuid: n, weights_version_key: 3 },
            H::WeightsVersionKey(3),
        ),
        (
            C::sudo_set_weights_set_rate_limit { netuid: n, weights_set_rate_limit: 4 },
            H::WeightsSetRateLimit(4),
        ),
        (
            C::sudo_set_adjustment_interval { netuid: n, adjustment_interval: 5 },
            H::AdjustmentInterval(5),
        ),
        (C::sudo_set_adjustment_alpha { netuid: n, adjustment_alpha: 6 }, H::AdjustmentAlpha(6)),
        (
            C::sudo_set_scaling_law_power { netuid: n, scaling_law_power: 40 },
            H::ScalingLawPower(40),
        ),
        (C::sudo_set_max_weight_limit { netuid: n, max_weight_limit: 9 }, H::MaxWeightsLimit(9)),
        (C::sudo_set_immunity_period { netuid: n, immunity_period: 10 }, H::ImmunityPeriod(10)),
        (
            C::sudo_set_min_allowed_weights { netuid: n, min_allowed_weights: 11 },
            H::MinAllowedWeights(11),
        ),
        (C::sudo_set_max_allowed_uids { netuid: n, max_allowed_uids: 300 }, H::MaxAllowedUids(300)),
        (C::sudo_set_kappa { netuid: n, kappa: 12 }, H::Kappa(12)),
        (C::sudo_set_rho { netuid: n, rho: 13 }, H::Rho(13)),
        (C::sudo_set_activity_cutoff { netuid: n, activity_cutoff: 14 }, H::ActivityCutoff(14)),
        (
            C::sudo_set_network_registration_allowed { netuid: n, registration_allowed: false },
            H::RegistrationAllowed(false),
        ),
        (
            C::sudo_set_network_pow_registration_allowed { netuid: n, registration_allowed: false },
            H::PowRegistrationAllowed(false),
        ),
        (
            C::sudo_set_target_registrations_per_interval {
                netuid: n,
                target_registrations_per_interval: 15,
            },
            H::TargetRegistrationsPerInterval(15),
        ),
        (C::sudo_set_min_burn { netuid: n, min_burn: 16 }, H::MinBurn(16)),
        (C::sudo_set_max_burn { netuid: n, max_burn: 1 << 36 }, H::MaxBurn(1 << 36)),
        (C::sudo_set_difficulty { netuid: n, difficulty: 17 }, H::Difficulty(17)),
        (
            C::sudo_set_max_allowed_validators { netuid: n, max_allowed_validators: 18 },
            H::MaxAllowedValidators(18),
        ),
        (
            C::sudo_set_bonds_moving_average { netuid: n, bonds_moving_average: 19 },
            H::BondsMovingAverage(19),
        ),
        (
            C::sudo_set_max_registrations_per_block { netuid: n, max_registrations_per_block: 20 },
            H::MaxRegistrationsPerBlock(20),
        ),
        (C::sudo_set_tempo { netuid: n, tempo: 21 }, H::Tempo(21)),
        (
            C::sudo_set_commit_reveal_weights_enabled { netuid: n, enabled: true },
            H::CommitRevealEnabled(true),
        ),
        (
            C::sudo_set_liquid_alpha_enabled { netuid: n, enabled: true },
            H::LiquidAlphaEnabled(true),
        ),
        (
            C::sudo_set_alpha_values { netuid: n, alpha_low: 22, alpha_high: 23 },
            H::AlphaValues(22, 23),
        ),
        (
            C::sudo_set_commit_reveal_weights_interval { netuid: n, interval: 24 },
            H::RevealPeriodEpochs(24),
        ),
        (C::sudo_set_bonds_penalty { netuid: n, bonds_penalty: 25 }, H::BondsPenalty(25)),
        (
            C::sudo_set_alpha_sigmoid_steepness { netuid: n, steepness: -26 },
            H::AlphaSigmoidSteepness(-26),
        ),
        (C::sudo_set_yuma3_enabled { netuid: n, enabled: true }, H::Yuma3Enabled(true)),
    ]
}

/// Every chain-wide call with a valid value, and the parameter it must set.
fn global_calls() -> Vec<(Call<Test>, GlobalParameter)> {
    use Call as C;
    use GlobalParameter as G;
    vec![
        (C::sudo_set_default_take { default_take: 100 }, G::MaxDelegateTake(100)),
        (C::sudo_set_subnet_owner_cut { subnet_owner_cut: 101 }, G::SubnetOwnerCut(101)),
        (C::sudo_set_network_rate_limit { rate_limit: 102 }, G::NetworkRateLimit(102)),
        (C::sudo_set_network_min_lock_cost { lock_cost: 103 }, G::NetworkMinLockCost(103)),
        (C::sudo_set_subnet_limit { max_subnets: 104 }, G::SubnetLimit(104)),
        (
            C::sudo_set_lock_reduction_interval { interval: 105 },
            G::NetworkLockReductionInterval(105),
        ),
        (C::sudo_set_stake_threshold { min_stake: 106 }, G::StakeThreshold(106)),
    ]
}

#[test]
fn every_call_sets_its_parameter_through_the_subtensor_pallet() {
    new_test_ext().execute_with(|| {
        let calls = subnet_calls();
        assert_eq!(calls.len() + global_calls().len(), REFERENCE.len(), "a call is not tested");
        for (call, value) in calls {
            assert_eq!(dispatch(call.clone(), RuntimeOrigin::root()), Ok(()), "{call:?}");
            assert_eq!(
                last_subtensor_event(),
                pallet_subtensor::Event::HyperparameterSet { netuid: NETUID, value },
                "{call:?}"
            );
        }
        // Spot checks of the storage written.
        assert_eq!(pallet_subtensor::Tempo::<Test>::get(NETUID), 21);
        assert_eq!(pallet_subtensor::WeightsSetRateLimit::<Test>::get(NETUID), 4);
        assert_eq!(pallet_subtensor::MaxWeightsLimit::<Test>::get(NETUID), 9);
        assert_eq!(pallet_subtensor::AlphaValues::<Test>::get(NETUID), (22, 23));
        assert_eq!(pallet_subtensor::RevealPeriodEpochs::<Test>::get(NETUID), 24);
        assert!(!pallet_subtensor::NetworkRegistrationAllowed::<Test>::get(NETUID));

        for (call, value) in global_calls() {
            assert_eq!(dispatch(call.clone(), RuntimeOrigin::root()), Ok(()), "{call:?}");
            assert_eq!(
                last_subtensor_event(),
                pallet_subtensor::Event::GlobalParameterSet { value },
                "{call:?}"
            );
        }
        assert_eq!(pallet_subtensor::SubnetLimit::<Test>::get(), 104);
        assert_eq!(pallet_subtensor::MaxDelegateTake::<Test>::get(), 100);
        assert_eq!(pallet_subtensor::StakeThreshold::<Test>::get(), 106);
    });
}

#[test]
fn the_owner_sets_what_set_hyperparameter_lets_it_set() {
    new_test_ext().execute_with(|| {
        for (call, value) in subnet_calls() {
            let owner_may = !value.root_only()
                && !matches!(
                    call,
                    Call::sudo_set_min_difficulty { .. }
                        | Call::sudo_set_network_registration_allowed { .. }
                );
            let result = dispatch(call.clone(), RuntimeOrigin::signed(OWNER));
            if owner_may {
                assert_eq!(result, Ok(()), "{call:?}");
            } else {
                assert_eq!(result, Err(DispatchError::BadOrigin), "{call:?}");
            }
        }
        // Tempo is root-only on both chains.
        assert_noop!(
            dispatch(
                Call::sudo_set_tempo { netuid: NETUID, tempo: 5 },
                RuntimeOrigin::signed(OWNER)
            ),
            DispatchError::BadOrigin
        );
        // The two calls the reference keeps for root, which `set_hyperparameter` opens to the
        // owner.
        assert_ok!(SubtensorModule::set_hyperparameter(
            RuntimeOrigin::signed(OWNER),
            NETUID,
            Hyperparameter::MinDifficulty(3)
        ));
    });
}

#[test]
fn others_are_refused_with_the_subtensor_errors() {
    new_test_ext().execute_with(|| {
        let immunity = |netuid| Call::sudo_set_immunity_period { netuid, immunity_period: 1 };
        assert_noop!(
            dispatch(immunity(NETUID), RuntimeOrigin::signed(STRANGER)),
            pallet_subtensor::Error::<Test>::NotSubnetOwner
        );
        assert_noop!(
            dispatch(immunity(NetUid(9)), RuntimeOrigin::root()),
            pallet_subtensor::Error::<Test>::SubnetNotExists
        );
        assert_noop!(dispatch(immunity(NETUID), RuntimeOrigin::none()), DispatchError::BadOrigin);
        for (call, _) in global_calls() {
            assert_noop!(dispatch(call, RuntimeOrigin::signed(OWNER)), DispatchError::BadOrigin);
        }
    });
}

#[test]
fn invalid_values_are_refused_as_set_hyperparameter_refuses_them() {
    new_test_ext().execute_with(|| {
        let invalid = || pallet_subtensor::Error::<Test>::InvalidHyperparameterValue;
        assert_noop!(
            dispatch(Call::sudo_set_tempo { netuid: NETUID, tempo: 0 }, RuntimeOrigin::root()),
            invalid()
        );
        assert_noop!(
            dispatch(
                Call::sudo_set_alpha_values { netuid: NETUID, alpha_low: 5, alpha_high: 4 },
                RuntimeOrigin::root()
            ),
            invalid()
        );
        assert_noop!(
            dispatch(
                Call::sudo_set_bonds_moving_average {
                    netuid: NETUID,
                    bonds_moving_average: 1_000_001
                },
                RuntimeOrigin::signed(OWNER)
            ),
            invalid()
        );
        let subnets = pallet_subtensor::TotalNetworks::<Test>::get();
        assert_eq!(subnets, 1);
        // A second subnet, then a limit below the number of subnets.
        let cost = pallet_subtensor::Pallet::<Test>::network_lock_cost();
        assert_ok!(<Balances as Mutate<AccountId>>::mint_into(&STRANGER, cost));
        assert_ok!(SubtensorModule::register_network(RuntimeOrigin::signed(STRANGER), 4));
        assert_noop!(
            dispatch(Call::sudo_set_subnet_limit { max_subnets: 1 }, RuntimeOrigin::root()),
            invalid()
        );
    });
}

#[test]
fn weights_are_those_of_the_subtensor_setters() {
    let subnet_weight = <() as pallet_subtensor::WeightInfo>::set_hyperparameter();
    let global_weight = <() as pallet_subtensor::WeightInfo>::set_global_parameter();
    for (call, _) in subnet_calls() {
        let info: DispatchInfo = call.get_dispatch_info();
        assert_eq!(info.call_weight, subnet_weight, "{call:?}");
    }
    for (call, _) in global_calls() {
        assert_eq!(call.get_dispatch_info().call_weight, global_weight, "{call:?}");
    }
}
