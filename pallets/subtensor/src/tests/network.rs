//! `register_network` and `dissolve_network`: lock cost, limits, refunds and storage cleanup.

use super::mock::*;
use crate::*;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;

const OWNER: AccountId = 1;
const OWNER_HOTKEY: AccountId = 2;

fn set_global(value: GlobalParameter) {
    assert_ok!(SubtensorModule::set_global_parameter(RuntimeOrigin::root(), value));
}

#[test]
fn register_network_locks_the_cost_and_registers_the_owner_hotkey() {
    build_and_execute(|| {
        let cost = SubtensorModule::network_lock_cost();
        fund(OWNER, cost + 5);
        let issuance = SubtensorModule::total_issuance();

        assert_ok!(SubtensorModule::register_network(RuntimeOrigin::signed(OWNER), OWNER_HOTKEY));

        let netuid = NetUid(1);
        assert_eq!(balance(OWNER), 5);
        assert!(NetworksAdded::<Test>::get(netuid));
        assert_eq!(TotalNetworks::<Test>::get(), 1);
        assert_eq!(SubnetOwner::<Test>::get(netuid), Some(OWNER));
        assert_eq!(SubnetOwnerHotkey::<Test>::get(netuid), Some(OWNER_HOTKEY));
        assert_eq!(SubnetLocked::<Test>::get(netuid), cost);
        assert_eq!(TotalSubnetLocked::<Test>::get(), cost);
        assert_eq!(NetworkLastLockCost::<Test>::get(), cost);
        assert_eq!(NetworkLastRegistered::<Test>::get(), 1);
        assert_eq!(Keys::<Test>::get(netuid, 0), Some(OWNER_HOTKEY));
        assert_eq!(SubnetworkN::<Test>::get(netuid), 1);
        assert_eq!(Owner::<Test>::get(OWNER_HOTKEY), Some(OWNER));
        // The lock moves from the owner's balance into the pallet: issuance is unchanged.
        assert_eq!(SubtensorModule::total_issuance(), issuance);
        assert_eq!(
            events(),
            vec![
                Event::NeuronRegistered { netuid, uid: 0, hotkey: OWNER_HOTKEY },
                Event::NetworkAdded { netuid, owner: OWNER, lock: cost },
            ]
        );
    });
}

#[test]
fn lock_cost_doubles_then_decays_linearly_to_the_minimum() {
    let min = 100 * TAO;
    ExtBuilder::default().network_min_lock_cost(min).build_and_execute(|| {
        set_global(GlobalParameter::NetworkLockReductionInterval(100));
        // Never registered: twice the minimum, less one minimum per 100 blocks since block 0.
        assert_eq!(SubtensorModule::network_lock_cost(), 2 * min - min / 100);
        run_to_block(100);
        assert_eq!(SubtensorModule::network_lock_cost(), min);

        let first = add_subnet(OWNER, OWNER_HOTKEY);
        assert_eq!(SubnetLocked::<Test>::get(first), min);
        // Right after a registration the cost doubles ...
        assert_eq!(SubtensorModule::network_lock_cost(), 2 * min);
        // ... and falls by the last cost per interval, linearly ...
        run_to_block(125);
        assert_eq!(SubtensorModule::network_lock_cost(), 2 * min - min / 4);
        run_to_block(150);
        assert_eq!(SubtensorModule::network_lock_cost(), 2 * min - min / 2);

        let second = add_subnet(3, 4);
        assert_eq!(SubnetLocked::<Test>::get(second), 3 * min / 2);
        assert_eq!(SubtensorModule::network_lock_cost(), 3 * min);
        run_to_block(200);
        assert_eq!(SubtensorModule::network_lock_cost(), 3 * min - 3 * min / 2 * 50 / 100);
        // ... down to the minimum, never below.
        run_to_block(350);
        assert_eq!(SubtensorModule::network_lock_cost(), min);
        run_to_block(500);
        assert_eq!(SubtensorModule::network_lock_cost(), min);
    });
}

#[test]
fn register_network_fails_at_the_subnet_limit() {
    build_and_execute(|| {
        set_global(GlobalParameter::SubnetLimit(1));
        add_subnet(OWNER, OWNER_HOTKEY);
        fund(3, SubtensorModule::network_lock_cost());
        assert_noop!(
            SubtensorModule::register_network(RuntimeOrigin::signed(3), 4),
            Error::<Test>::SubnetLimitReached
        );
    });
}

#[test]
fn register_network_fails_without_the_lock_cost() {
    build_and_execute(|| {
        fund(OWNER, SubtensorModule::network_lock_cost() - 1);
        assert_noop!(
            SubtensorModule::register_network(RuntimeOrigin::signed(OWNER), OWNER_HOTKEY),
            Error::<Test>::NotEnoughBalanceToLock
        );
    });
}

#[test]
fn register_network_refuses_a_hotkey_owned_by_another_coldkey() {
    build_and_execute(|| {
        add_subnet(OWNER, OWNER_HOTKEY);
        fund(3, SubtensorModule::network_lock_cost());
        assert_noop!(
            SubtensorModule::register_network(RuntimeOrigin::signed(3), OWNER_HOTKEY),
            Error::<Test>::NonAssociatedColdKey
        );
    });
}

#[test]
fn register_network_respects_the_rate_limit() {
    ExtBuilder::default().network_min_lock_cost(TAO).build_and_execute(|| {
        set_global(GlobalParameter::NetworkRateLimit(10));
        add_subnet(OWNER, OWNER_HOTKEY);
        run_to_block(10);
        fund(3, SubtensorModule::network_lock_cost());
        assert_noop!(
            SubtensorModule::register_network(RuntimeOrigin::signed(3), 4),
            Error::<Test>::NetworkTxRateLimitExceeded
        );
        run_to_block(11);
        assert_ok!(SubtensorModule::register_network(RuntimeOrigin::signed(3), 4));
        assert_eq!(TotalNetworks::<Test>::get(), 2);
    });
}

#[test]
fn dissolve_network_refunds_the_lock_and_clears_the_subnet() {
    ExtBuilder::default().network_min_lock_cost(10 * TAO).build_and_execute(|| {
        let netuid = add_subnet(OWNER, OWNER_HOTKEY);
        let lock = SubnetLocked::<Test>::get(netuid);
        set_param(netuid, Hyperparameter::Tempo(1000));
        set_param(netuid, Hyperparameter::ImmunityPeriod(7));
        let uid = register(netuid, 3, 4);
        stake(3, 4, 5 * TAO);
        run_to_block(5);
        let pending = PendingEmission::<Test>::get(netuid);
        assert!(pending > 0);
        let issuance = SubtensorModule::total_issuance();
        let owner_balance = balance(OWNER);

        assert_ok!(SubtensorModule::dissolve_network(RuntimeOrigin::signed(OWNER), netuid));

        assert_last_event(Event::NetworkRemoved { netuid, refund: lock });
        assert_eq!(balance(OWNER), owner_balance + lock);
        // Pending emission is burned; the lock only moves back to the owner.
        assert_eq!(SubtensorModule::total_issuance(), issuance - pending);
        assert!(!NetworksAdded::<Test>::get(netuid));
        assert_eq!(TotalNetworks::<Test>::get(), 0);
        assert_eq!(SubnetOwner::<Test>::get(netuid), None);
        assert_eq!(SubnetLocked::<Test>::get(netuid), 0);
        assert_eq!(TotalSubnetLocked::<Test>::get(), 0);
        assert_eq!(PendingEmission::<Test>::get(netuid), 0);
        assert_eq!(TotalPendingEmission::<Test>::get(), 0);
        assert_eq!(SubnetworkN::<Test>::get(netuid), 0);
        assert_eq!(Keys::<Test>::get(netuid, uid), None);
        assert_eq!(Uids::<Test>::get(netuid, 4), None);
        assert!(!IsNetworkMember::<Test>::get(4, netuid));
        assert!(!IsNetworkMember::<Test>::get(OWNER_HOTKEY, netuid));
        assert!(LastUpdate::<Test>::get(netuid).is_empty());
        assert_eq!(ImmunityPeriod::<Test>::get(netuid), 4096);
        assert_eq!(Tempo::<Test>::get(netuid), 360);
        // Stake is global and stays.
        assert_eq!(Stake::<Test>::get(4, 3), 5 * TAO);

        // The netuid is free again.
        assert_eq!(add_subnet(5, 6), netuid);
        assert_eq!(SubnetworkN::<Test>::get(netuid), 1);
    });
}

#[test]
fn dissolve_network_requires_the_owner() {
    build_and_execute(|| {
        let netuid = add_subnet(OWNER, OWNER_HOTKEY);
        assert_noop!(
            SubtensorModule::dissolve_network(RuntimeOrigin::signed(3), netuid),
            Error::<Test>::NotSubnetOwner
        );
        assert_noop!(
            SubtensorModule::dissolve_network(RuntimeOrigin::none(), netuid),
            DispatchError::BadOrigin
        );
    });
}

#[test]
fn dissolve_network_fails_for_an_unknown_subnet() {
    build_and_execute(|| {
        assert_noop!(
            SubtensorModule::dissolve_network(RuntimeOrigin::root(), NetUid(3)),
            Error::<Test>::SubnetNotExists
        );
        assert_noop!(
            SubtensorModule::dissolve_network(RuntimeOrigin::signed(OWNER), NetUid(3)),
            Error::<Test>::SubnetNotExists
        );
    });
}

#[test]
fn root_may_dissolve_any_subnet() {
    build_and_execute(|| {
        let netuid = add_subnet(OWNER, OWNER_HOTKEY);
        let lock = SubnetLocked::<Test>::get(netuid);
        assert_ok!(SubtensorModule::dissolve_network(RuntimeOrigin::root(), netuid));
        assert_last_event(Event::NetworkRemoved { netuid, refund: lock });
        assert_eq!(balance(OWNER), lock);
        assert!(SubtensorModule::subnets().is_empty());
    });
}

#[test]
fn genesis_subnets_exist_without_a_lock() {
    ExtBuilder::default().subnet(3, OWNER, OWNER_HOTKEY, 7).build_and_execute(|| {
        let netuid = NetUid(3);
        assert!(NetworksAdded::<Test>::get(netuid));
        assert_eq!(Tempo::<Test>::get(netuid), 7);
        assert_eq!(SubnetLocked::<Test>::get(netuid), 0);
        assert_eq!(Keys::<Test>::get(netuid, 0), Some(OWNER_HOTKEY));
        assert_ok!(SubtensorModule::dissolve_network(RuntimeOrigin::signed(OWNER), netuid));
        assert_last_event(Event::NetworkRemoved { netuid, refund: 0 });
        assert_eq!(balance(OWNER), 0);
    });
}

/// Every key under the pallet's prefix, with the name of its storage item.
fn pallet_storage() -> std::collections::BTreeMap<Vec<u8>, String> {
    use frame_support::traits::StorageInfoTrait;
    let items = <SubtensorModule as StorageInfoTrait>::storage_info();
    let prefix = sp_io::hashing::twox_128(b"SubtensorModule");
    let mut keys = std::collections::BTreeMap::new();
    let mut key = prefix.to_vec();
    while let Some(next) = sp_io::storage::next_key(&key).filter(|k| k.starts_with(&prefix)) {
        let name = items
            .iter()
            .find(|i| next.starts_with(&i.prefix))
            .map(|i| String::from_utf8_lossy(&i.storage_name).into_owned())
            .unwrap_or_default();
        keys.insert(next.clone(), name);
        key = next;
    }
    keys
}

#[test]
fn dissolve_network_leaves_no_subnet_storage_behind() {
    build_and_execute(|| {
        let before = pallet_storage();
        let netuid = add_subnet(OWNER, OWNER_HOTKEY);
        // Touch every per-subnet item: parameters, neurons, weights, commits, endpoints,
        // registration counters, epochs.
        for value in [
            Hyperparameter::Tempo(10),
            Hyperparameter::WeightsSetRateLimit(0),
            Hyperparameter::AdjustmentInterval(7),
            Hyperparameter::MaxRegistrationsPerBlock(10),
            Hyperparameter::Kappa(30_000),
            Hyperparameter::MaxAllowedValidators(8),
            Hyperparameter::Difficulty(100),
            Hyperparameter::EmissionShare(2),
            Hyperparameter::Rho(1),
            Hyperparameter::ImmunityPeriod(1),
            Hyperparameter::ActivityCutoff(1000),
            Hyperparameter::MaxAllowedUids(8),
            Hyperparameter::MinAllowedWeights(1),
            Hyperparameter::MaxWeightsLimit(u16::MAX),
            Hyperparameter::WeightsVersionKey(1),
            Hyperparameter::BondsMovingAverage(1),
            Hyperparameter::BondsPenalty(1),
            Hyperparameter::Yuma3Enabled(false),
            Hyperparameter::LiquidAlphaEnabled(false),
            Hyperparameter::AlphaValues(1, 2),
            Hyperparameter::AlphaSigmoidSteepness(1),
            Hyperparameter::MinBurn(1),
            Hyperparameter::MaxBurn(10 * TAO),
            Hyperparameter::MinDifficulty(2),
            Hyperparameter::MaxDifficulty(1000),
            Hyperparameter::AdjustmentAlpha(1),
            Hyperparameter::ServingRateLimit(1),
            Hyperparameter::RegistrationAllowed(true),
            Hyperparameter::PowRegistrationAllowed(true),
            Hyperparameter::RevealPeriodEpochs(1),
            Hyperparameter::ScalingLawPower(1),
            Hyperparameter::TargetRegistrationsPerInterval(5),
        ] {
            set_param(netuid, value);
        }
        register(netuid, 3, 10);
        register(netuid, 3, 11);
        stake(3, 10, 10 * TAO);
        run_to_block(10);
        assert_ok!(SubtensorModule::set_weights(
            RuntimeOrigin::signed(10),
            netuid,
            vec![2],
            vec![1],
            1
        ));
        assert_ok!(SubtensorModule::serve_axon(
            RuntimeOrigin::signed(11),
            netuid,
            1,
            0x0102_0304,
            1,
            4,
            0,
            0,
            0
        ));
        assert_ok!(SubtensorModule::serve_prometheus(
            RuntimeOrigin::signed(11),
            netuid,
            1,
            0x0102_0304,
            1,
            4
        ));
        set_param(netuid, Hyperparameter::CommitRevealEnabled(true));
        assert_ok!(SubtensorModule::commit_weights(
            RuntimeOrigin::signed(10),
            netuid,
            sp_core::H256::zero()
        ));
        run_to_block(25);
        register(netuid, 3, 12);
        assert!(!Bonds::<Test>::get(netuid, 1).is_empty());

        // The reference-chain views were written with the subnet and kept by the block step.
        assert_eq!(MechanismCountCurrent::<Test>::get(netuid), 1);
        assert!(SubnetEmaTaoFlow::<Test>::contains_key(netuid));
        assert!(BlocksSinceLastStep::<Test>::contains_key(netuid));
        // A grid subnet.
        let spec = GridSpec {
            model_sha256: [9; 32],
            sampler_version: 1,
            max_new_tokens: 8,
            max_context: 64,
            model_name: Default::default(),
        };
        assert_ok!(SubtensorModule::set_grid_spec(RuntimeOrigin::signed(OWNER), netuid, spec));

        assert_ok!(SubtensorModule::dissolve_network(RuntimeOrigin::signed(OWNER), netuid));

        // Only chain-wide items may have gained keys: ownership and stake of hotkeys, the lock
        // cost history and the running totals.
        let global = [
            "Owner",
            "OwnedHotkeys",
            "Stake",
            "TotalHotkeyStake",
            "TotalColdkeyStake",
            "TotalStake",
            "NetworkLastLockCost",
            "NetworkLastRegistered",
            "TotalIssuance",
            "BlockEmission",
            "TotalNetworks",
            "TotalPendingEmission",
            "TotalSubnetLocked",
        ];
        let left: Vec<String> = pallet_storage()
            .into_iter()
            .filter(|(key, name)| !before.contains_key(key) && !global.contains(&name.as_str()))
            .map(|(_, name)| name)
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    });
}
