//! Neuron registration: `burned_register` and proof-of-work `register` with all their checks,
//! and the retargeting of burn and difficulty. Slot replacement is in `pruning`.

use super::mock::*;
use crate::subnets::registration::{create_seal_hash, hash_meets_difficulty};
use crate::*;
use codec::Encode;
use frame_support::{assert_noop, assert_ok};

const OWNER: AccountId = 1;
const OWNER_HOTKEY: AccountId = 2;
const COLDKEY: AccountId = 3;
const HOTKEY: AccountId = 4;

fn registered_subnet() -> NetUid {
    let netuid = add_subnet(OWNER, OWNER_HOTKEY);
    set_param(netuid, Hyperparameter::Tempo(1000));
    netuid
}

// ---------------------------------------------------------------------------------------------
// burned_register
// ---------------------------------------------------------------------------------------------

#[test]
fn burned_register_burns_and_appends_a_uid() {
    build_and_execute(|| {
        let netuid = registered_subnet();
        let burn = Burn::<Test>::get(netuid);
        assert_eq!(burn, TAO);
        fund(COLDKEY, burn + 7);
        let issuance = SubtensorModule::total_issuance();
        System::reset_events();

        assert_ok!(SubtensorModule::burned_register(
            RuntimeOrigin::signed(COLDKEY),
            netuid,
            HOTKEY
        ));

        assert_eq!(events(), vec![Event::NeuronRegistered { netuid, uid: 1, hotkey: HOTKEY }]);
        assert_eq!(balance(COLDKEY), 7);
        assert_eq!(SubtensorModule::total_issuance(), issuance - burn);
        assert_eq!(SubnetworkN::<Test>::get(netuid), 2);
        assert_eq!(Keys::<Test>::get(netuid, 1), Some(HOTKEY));
        assert_eq!(Uids::<Test>::get(netuid, HOTKEY), Some(1));
        assert!(IsNetworkMember::<Test>::get(HOTKEY, netuid));
        assert_eq!(Owner::<Test>::get(HOTKEY), Some(COLDKEY));
        assert_eq!(BlockAtRegistration::<Test>::get(netuid, 1), 1);
        assert_eq!(RegistrationsThisBlock::<Test>::get(netuid), 1);
        assert_eq!(RegistrationsThisInterval::<Test>::get(netuid), 1);
        assert_eq!(BurnRegistrationsThisInterval::<Test>::get(netuid), 1);
        assert_eq!(PowRegistrationsThisInterval::<Test>::get(netuid), 0);
        assert_eq!(LastUpdate::<Test>::get(netuid).len(), 2);
    });
}

#[test]
fn burned_register_refuses_root_and_unknown_subnets() {
    build_and_execute(|| {
        fund(COLDKEY, 10 * TAO);
        assert_noop!(
            SubtensorModule::burned_register(RuntimeOrigin::signed(COLDKEY), NetUid::ROOT, HOTKEY),
            Error::<Test>::RootNetUidNotAllowed
        );
        assert_noop!(
            SubtensorModule::burned_register(RuntimeOrigin::signed(COLDKEY), NetUid(9), HOTKEY),
            Error::<Test>::SubnetNotExists
        );
    });
}

#[test]
fn burned_register_fails_when_registration_is_disabled() {
    build_and_execute(|| {
        let netuid = registered_subnet();
        assert_ok!(SubtensorModule::set_hyperparameter(
            RuntimeOrigin::signed(OWNER),
            netuid,
            Hyperparameter::RegistrationAllowed(false)
        ));
        fund(COLDKEY, 10 * TAO);
        assert_noop!(
            SubtensorModule::burned_register(RuntimeOrigin::signed(COLDKEY), netuid, HOTKEY),
            Error::<Test>::SubNetRegistrationDisabled
        );
    });
}

#[test]
fn burned_register_caps_registrations_per_block() {
    build_and_execute(|| {
        let netuid = registered_subnet();
        set_param(netuid, Hyperparameter::MaxRegistrationsPerBlock(1));
        register(netuid, COLDKEY, HOTKEY);
        fund(COLDKEY, 10 * TAO);
        assert_noop!(
            SubtensorModule::burned_register(RuntimeOrigin::signed(COLDKEY), netuid, 5),
            Error::<Test>::TooManyRegistrationsThisBlock
        );
        step_blocks(1);
        assert_ok!(SubtensorModule::burned_register(RuntimeOrigin::signed(COLDKEY), netuid, 5));
    });
}

#[test]
fn burned_register_caps_registrations_per_interval_at_three_times_the_target() {
    build_and_execute(|| {
        let netuid = registered_subnet();
        set_param(netuid, Hyperparameter::MaxRegistrationsPerBlock(100));
        set_param(netuid, Hyperparameter::TargetRegistrationsPerInterval(1));
        for hotkey in 10..13 {
            register(netuid, COLDKEY, hotkey);
        }
        fund(COLDKEY, 10 * TAO);
        assert_noop!(
            SubtensorModule::burned_register(RuntimeOrigin::signed(COLDKEY), netuid, 13),
            Error::<Test>::TooManyRegistrationsThisInterval
        );
    });
}

#[test]
fn burned_register_refuses_a_registered_hotkey() {
    build_and_execute(|| {
        let netuid = registered_subnet();
        register(netuid, COLDKEY, HOTKEY);
        fund(COLDKEY, 10 * TAO);
        assert_noop!(
            SubtensorModule::burned_register(RuntimeOrigin::signed(COLDKEY), netuid, HOTKEY),
            Error::<Test>::HotKeyAlreadyRegisteredInSubNet
        );
    });
}

#[test]
fn burned_register_refuses_a_hotkey_of_another_coldkey() {
    build_and_execute(|| {
        let first = registered_subnet();
        let second = add_subnet(5, 6);
        register(first, COLDKEY, HOTKEY);
        fund(7, 10 * TAO);
        assert_noop!(
            SubtensorModule::burned_register(RuntimeOrigin::signed(7), second, HOTKEY),
            Error::<Test>::NonAssociatedColdKey
        );
        // Its own coldkey may register it on a second subnet.
        register(second, COLDKEY, HOTKEY);
    });
}

#[test]
fn burned_register_requires_the_burn() {
    build_and_execute(|| {
        let netuid = registered_subnet();
        fund(COLDKEY, Burn::<Test>::get(netuid) - 1);
        assert_noop!(
            SubtensorModule::burned_register(RuntimeOrigin::signed(COLDKEY), netuid, HOTKEY),
            Error::<Test>::NotEnoughBalanceToBurn
        );
    });
}

#[test]
fn burned_register_fails_when_only_the_owner_could_be_pruned() {
    build_and_execute(|| {
        let netuid = registered_subnet();
        assert_ok!(SubtensorModule::set_hyperparameter(
            RuntimeOrigin::signed(OWNER),
            netuid,
            Hyperparameter::MaxAllowedUids(1)
        ));
        fund(COLDKEY, 10 * TAO);
        assert_noop!(
            SubtensorModule::burned_register(RuntimeOrigin::signed(COLDKEY), netuid, HOTKEY),
            Error::<Test>::NoNeuronToPrune
        );
    });
}

// ---------------------------------------------------------------------------------------------
// Proof-of-work register
// ---------------------------------------------------------------------------------------------

/// The first nonce whose seal of `hotkey` over block `block` meets `difficulty` (or, with
/// `meets == false`, fails it), with that seal.
fn solve(hotkey: AccountId, block: u64, difficulty: u64, meets: bool) -> (u64, Vec<u8>) {
    let block_hash = System::block_hash(block);
    (0u64..)
        .map(|nonce| (nonce, create_seal_hash(block_hash.as_ref(), &hotkey.encode(), nonce)))
        .find(|(_, seal)| hash_meets_difficulty(seal, difficulty) == meets)
        .map(|(nonce, seal)| (nonce, seal.as_bytes().to_vec()))
        .expect("a nonce exists at a low difficulty; qed")
}

/// A subnet at block 10 with difficulty 1000.
fn pow_subnet() -> NetUid {
    let netuid = registered_subnet();
    set_param(netuid, Hyperparameter::Difficulty(1000));
    run_to_block(10);
    netuid
}

fn pow_register(
    netuid: NetUid,
    block: u64,
    nonce: u64,
    work: Vec<u8>,
    hotkey: AccountId,
) -> frame_support::dispatch::DispatchResult {
    SubtensorModule::register(
        RuntimeOrigin::signed(hotkey),
        netuid,
        block,
        nonce,
        work,
        hotkey,
        COLDKEY,
    )
}

#[test]
fn pow_register_accepts_a_real_seal() {
    build_and_execute(|| {
        let netuid = pow_subnet();
        // The seal is taken over the chain's hash of the block.
        assert_eq!(System::block_hash(9), mock_block_hash(9));
        let (nonce, work) = solve(HOTKEY, 9, 1000, true);
        System::reset_events();

        assert_ok!(pow_register(netuid, 9, nonce, work.clone(), HOTKEY));

        assert_eq!(events(), vec![Event::NeuronRegistered { netuid, uid: 1, hotkey: HOTKEY }]);
        assert_eq!(Uids::<Test>::get(netuid, HOTKEY), Some(1));
        assert_eq!(Owner::<Test>::get(HOTKEY), Some(COLDKEY));
        assert_eq!(UsedWork::<Test>::get(sp_core::H256::from_slice(&work)), Some(10));
        assert_eq!(PowRegistrationsThisInterval::<Test>::get(netuid), 1);
        assert_eq!(BurnRegistrationsThisInterval::<Test>::get(netuid), 0);
        // Free: the work is the price.
        assert_eq!(balance(COLDKEY), 0);
        assert_eq!(balance(HOTKEY), 0);
    });
}

#[test]
fn pow_register_refuses_future_and_stale_blocks() {
    build_and_execute(|| {
        let netuid = pow_subnet();
        let (nonce, work) = solve(HOTKEY, 11, 1000, true);
        assert_noop!(
            pow_register(netuid, 11, nonce, work, HOTKEY),
            Error::<Test>::InvalidWorkBlock
        );
        let (nonce, work) = solve(HOTKEY, 7, 1000, true);
        assert_noop!(pow_register(netuid, 7, nonce, work, HOTKEY), Error::<Test>::InvalidWorkBlock);
        // Two blocks old is still inside the window.
        let (nonce, work) = solve(HOTKEY, 8, 1000, true);
        assert_ok!(pow_register(netuid, 8, nonce, work, HOTKEY));
    });
}

#[test]
fn pow_register_refuses_a_wrong_seal() {
    build_and_execute(|| {
        let netuid = pow_subnet();
        let (nonce, work) = solve(HOTKEY, 9, 1000, true);
        // Another nonce, another block, another hotkey, or garbage.
        assert_noop!(
            pow_register(netuid, 9, nonce + 1, work.clone(), HOTKEY),
            Error::<Test>::InvalidSeal
        );
        assert_noop!(
            pow_register(netuid, 8, nonce, work.clone(), HOTKEY),
            Error::<Test>::InvalidSeal
        );
        assert_noop!(pow_register(netuid, 9, nonce, work, 5), Error::<Test>::InvalidSeal);
        assert_noop!(
            pow_register(netuid, 9, nonce, vec![0u8; 32], HOTKEY),
            Error::<Test>::InvalidSeal
        );
    });
}

#[test]
fn pow_register_refuses_a_seal_below_the_difficulty() {
    build_and_execute(|| {
        let netuid = pow_subnet();
        let (nonce, work) = solve(HOTKEY, 9, 1000, false);
        assert_noop!(
            pow_register(netuid, 9, nonce, work, HOTKEY),
            Error::<Test>::InvalidDifficulty
        );
    });
}

#[test]
fn pow_register_refuses_repeated_work() {
    build_and_execute(|| {
        let netuid = pow_subnet();
        let other = add_subnet(5, 6);
        set_param(other, Hyperparameter::Difficulty(1000));
        let (nonce, work) = solve(HOTKEY, 9, 1000, true);
        assert_ok!(pow_register(netuid, 9, nonce, work.clone(), HOTKEY));
        assert_noop!(pow_register(other, 9, nonce, work, HOTKEY), Error::<Test>::WorkRepeated);
    });
}

#[test]
fn pow_register_shares_the_checks_of_burned_registration() {
    build_and_execute(|| {
        let netuid = pow_subnet();
        let (nonce, work) = solve(HOTKEY, 9, 1000, true);
        assert_noop!(
            pow_register(NetUid::ROOT, 9, nonce, work.clone(), HOTKEY),
            Error::<Test>::RootNetUidNotAllowed
        );
        assert_noop!(
            pow_register(NetUid(9), 9, nonce, work.clone(), HOTKEY),
            Error::<Test>::SubnetNotExists
        );
        // The hotkey already belongs to another coldkey.
        register(netuid, 7, HOTKEY);
        let other = add_subnet(5, 6);
        set_param(other, Hyperparameter::Difficulty(1000));
        assert_noop!(
            pow_register(other, 9, nonce, work.clone(), HOTKEY),
            Error::<Test>::NonAssociatedColdKey
        );
        assert_noop!(
            pow_register(netuid, 9, nonce, work, HOTKEY),
            Error::<Test>::HotKeyAlreadyRegisteredInSubNet
        );
    });
}

#[test]
fn pow_register_may_be_signed_by_the_coldkey() {
    build_and_execute(|| {
        let netuid = pow_subnet();
        let (nonce, work) = solve(HOTKEY, 9, 1000, true);
        System::reset_events();

        // The Python SDK signs `register` with the coldkey.
        assert_ok!(SubtensorModule::register(
            RuntimeOrigin::signed(COLDKEY),
            netuid,
            9,
            nonce,
            work,
            HOTKEY,
            COLDKEY
        ));

        assert_eq!(events(), vec![Event::NeuronRegistered { netuid, uid: 1, hotkey: HOTKEY }]);
        assert_eq!(Uids::<Test>::get(netuid, HOTKEY), Some(1));
        assert_eq!(Owner::<Test>::get(HOTKEY), Some(COLDKEY));
        assert_eq!(OwnedHotkeys::<Test>::get(COLDKEY), vec![HOTKEY]);
        assert_eq!(PowRegistrationsThisInterval::<Test>::get(netuid), 1);
        // Still free for the coldkey.
        assert_eq!(balance(COLDKEY), 0);
    });
}

#[test]
fn pow_register_must_be_signed_by_the_hotkey_or_the_coldkey() {
    build_and_execute(|| {
        let netuid = pow_subnet();
        let (nonce, work) = solve(HOTKEY, 9, 1000, true);
        let stranger = 77;
        assert_noop!(
            SubtensorModule::register(
                RuntimeOrigin::signed(stranger),
                netuid,
                9,
                nonce,
                work.clone(),
                HOTKEY,
                COLDKEY
            ),
            Error::<Test>::TransactorAccountShouldBeHotKey
        );
        // A coldkey-signed registration still checks the hotkey's owner: hotkey 5 belongs to
        // coldkey 8 (it owns a second subnet).
        add_subnet(8, 5);
        let (nonce, work) = solve(5, 9, 1000, true);
        assert_noop!(
            SubtensorModule::register(
                RuntimeOrigin::signed(COLDKEY),
                netuid,
                9,
                nonce,
                work,
                5,
                COLDKEY
            ),
            Error::<Test>::NonAssociatedColdKey
        );
    });
}

#[test]
fn pow_register_fails_when_pow_is_disabled() {
    build_and_execute(|| {
        let netuid = pow_subnet();
        assert_ok!(SubtensorModule::set_hyperparameter(
            RuntimeOrigin::signed(OWNER),
            netuid,
            Hyperparameter::PowRegistrationAllowed(false)
        ));
        let (nonce, work) = solve(HOTKEY, 9, 1000, true);
        assert_noop!(
            pow_register(netuid, 9, nonce, work, HOTKEY),
            Error::<Test>::PowRegistrationDisabled
        );
        // Burned registration stays open.
        register(netuid, COLDKEY, HOTKEY);
    });
}

// ---------------------------------------------------------------------------------------------
// Retargeting of burn and difficulty
// ---------------------------------------------------------------------------------------------

/// A subnet created at block 1 retargeting every 10 blocks toward 1 registration.
fn retarget_subnet(difficulty: u64) -> NetUid {
    let netuid = registered_subnet();
    set_param(netuid, Hyperparameter::AdjustmentInterval(10));
    set_param(netuid, Hyperparameter::TargetRegistrationsPerInterval(1));
    set_param(netuid, Hyperparameter::Difficulty(difficulty));
    netuid
}

fn adjustments() -> Vec<Event<Test>> {
    events().into_iter().filter(|e| matches!(e, Event::RegistrationTermsAdjusted { .. })).collect()
}

#[test]
fn many_burned_registrations_raise_the_burn_only() {
    build_and_execute(|| {
        let netuid = retarget_subnet(1_000_000);
        for hotkey in 10..13 {
            register(netuid, COLDKEY, hotkey);
        }
        run_to_block(10);
        assert!(adjustments().is_empty());
        run_to_block(11);
        // 3 registrations against a target of 1: burn * (3 + 1) / (2 * 1).
        assert_eq!(
            adjustments(),
            vec![Event::RegistrationTermsAdjusted { netuid, burn: 2 * TAO, difficulty: 1_000_000 }]
        );
        assert_eq!(Burn::<Test>::get(netuid), 2 * TAO);
        assert_eq!(Difficulty::<Test>::get(netuid), 1_000_000);
        assert_eq!(RegistrationsThisInterval::<Test>::get(netuid), 0);
        assert_eq!(BurnRegistrationsThisInterval::<Test>::get(netuid), 0);
        assert_eq!(LastAdjustmentBlock::<Test>::get(netuid), 11);
    });
}

#[test]
fn many_pow_registrations_raise_the_difficulty_only() {
    build_and_execute(|| {
        let netuid = retarget_subnet(100);
        run_to_block(3);
        for hotkey in 10..13 {
            let (nonce, work) = solve(hotkey, 2, 100, true);
            assert_ok!(pow_register(netuid, 2, nonce, work, hotkey));
        }
        run_to_block(11);
        assert_eq!(
            adjustments(),
            vec![Event::RegistrationTermsAdjusted { netuid, burn: TAO, difficulty: 200 }]
        );
        assert_eq!(PowRegistrationsThisInterval::<Test>::get(netuid), 0);
    });
}

#[test]
fn no_registrations_lower_burn_and_difficulty() {
    build_and_execute(|| {
        let netuid = retarget_subnet(1_000_000);
        run_to_block(11);
        assert_eq!(
            adjustments(),
            vec![Event::RegistrationTermsAdjusted { netuid, burn: TAO / 2, difficulty: 500_000 }]
        );
        run_to_block(21);
        assert_eq!(Burn::<Test>::get(netuid), TAO / 4);
        assert_eq!(Difficulty::<Test>::get(netuid), 250_000);
    });
}

#[test]
fn few_burned_registrations_lower_the_difficulty_only() {
    build_and_execute(|| {
        let netuid = retarget_subnet(1_000_000);
        set_param(netuid, Hyperparameter::TargetRegistrationsPerInterval(2));
        register(netuid, COLDKEY, 10);
        run_to_block(11);
        // 1 registration against a target of 2: difficulty * (1 + 2) / (2 * 2).
        assert_eq!(
            adjustments(),
            vec![Event::RegistrationTermsAdjusted { netuid, burn: TAO, difficulty: 750_000 }]
        );
    });
}

#[test]
fn adjustment_alpha_keeps_part_of_the_old_value() {
    build_and_execute(|| {
        let netuid = retarget_subnet(1_000_000);
        assert_ok!(SubtensorModule::set_hyperparameter(
            RuntimeOrigin::signed(OWNER),
            netuid,
            Hyperparameter::AdjustmentAlpha(u64::MAX / 2)
        ));
        for hotkey in 10..13 {
            register(netuid, COLDKEY, hotkey);
        }
        run_to_block(11);
        // Half the old burn and half of twice the old burn.
        assert!(
            Burn::<Test>::get(netuid).abs_diff(3 * TAO / 2) <= 1,
            "{}",
            Burn::<Test>::get(netuid)
        );
    });
}

#[test]
fn retargeting_stays_within_the_bounds() {
    build_and_execute(|| {
        let netuid = retarget_subnet(1_000_000);
        assert_ok!(SubtensorModule::set_hyperparameter(
            RuntimeOrigin::signed(OWNER),
            netuid,
            Hyperparameter::MinBurn(TAO * 3 / 4)
        ));
        assert_ok!(SubtensorModule::set_hyperparameter(
            RuntimeOrigin::signed(OWNER),
            netuid,
            Hyperparameter::MinDifficulty(900_000)
        ));
        run_to_block(11);
        assert_eq!(Burn::<Test>::get(netuid), TAO * 3 / 4);
        assert_eq!(Difficulty::<Test>::get(netuid), 900_000);
    });
}
