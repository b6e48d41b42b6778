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
    ExtBuilder::default().build_and_execute(|| {
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
    ExtBuilder::default().build_and_execute(|| {
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
    ExtBuilder::default().build_and_execute(|| {
        fund(OWNER, SubtensorModule::network_lock_cost() - 1);
        assert_noop!(
            SubtensorModule::register_network(RuntimeOrigin::signed(OWNER), OWNER_HOTKEY),
            Error::<Test>::NotEnoughBalanceToLock
        );
    });
}

#[test]
fn register_network_refuses_a_hotkey_owned_by_another_coldkey() {
    ExtBuilder::default().build_and_execute(|| {
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
    ExtBuilder::default().build_and_execute(|| {
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
    ExtBuilder::default().build_and_execute(|| {
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
    ExtBuilder::default().build_and_execute(|| {
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
