//! Stake: `add_stake`, `remove_stake`, the running totals, delegate take, and the share of a
//! validator's dividends its nominators receive.

use super::mock::*;
use crate::staking::mul_div;
use crate::*;
use frame_support::{assert_noop, assert_ok};

const OWNER: AccountId = 1;
const OWNER_HOTKEY: AccountId = 2;
const COLDKEY: AccountId = 3;
const HOTKEY: AccountId = 10;
const NOMINATOR: AccountId = 5;

/// A subnet with `HOTKEY` (owned by `COLDKEY`) registered as UID 1.
fn setup() -> NetUid {
    let netuid = add_subnet(OWNER, OWNER_HOTKEY);
    set_param(netuid, Hyperparameter::Tempo(1000));
    register(netuid, COLDKEY, HOTKEY);
    netuid
}

fn assert_totals(
    hotkey: AccountId,
    coldkey: AccountId,
    stake: u64,
    hotkey_total: u64,
    coldkey_total: u64,
) {
    assert_eq!(Stake::<Test>::get(hotkey, coldkey), stake);
    assert_eq!(TotalHotkeyStake::<Test>::get(hotkey), hotkey_total);
    assert_eq!(TotalColdkeyStake::<Test>::get(coldkey), coldkey_total);
}

#[test]
fn add_stake_moves_balance_into_stake() {
    build_and_execute(|| {
        setup();
        fund(NOMINATOR, 10 * TAO);
        let issuance = SubtensorModule::total_issuance();

        assert_ok!(SubtensorModule::add_stake(RuntimeOrigin::signed(NOMINATOR), HOTKEY, 4 * TAO));

        assert_last_event(Event::StakeAdded {
            coldkey: NOMINATOR,
            hotkey: HOTKEY,
            amount: 4 * TAO,
        });
        assert_eq!(balance(NOMINATOR), 6 * TAO);
        assert_totals(HOTKEY, NOMINATOR, 4 * TAO, 4 * TAO, 4 * TAO);
        assert_eq!(TotalStake::<Test>::get(), 4 * TAO);
        assert_eq!(SubtensorModule::total_issuance(), issuance);

        // A second coldkey on the same hotkey, and the first on a second hotkey.
        stake(COLDKEY, HOTKEY, 2 * TAO);
        stake(NOMINATOR, OWNER_HOTKEY, TAO);
        assert_totals(HOTKEY, COLDKEY, 2 * TAO, 6 * TAO, 2 * TAO);
        assert_totals(OWNER_HOTKEY, NOMINATOR, TAO, TAO, 5 * TAO);
        assert_eq!(TotalStake::<Test>::get(), 7 * TAO);
    });
}

#[test]
fn add_stake_may_spend_the_whole_balance() {
    build_and_execute(|| {
        setup();
        fund(NOMINATOR, 3 * TAO);
        assert_ok!(SubtensorModule::add_stake(RuntimeOrigin::signed(NOMINATOR), HOTKEY, 3 * TAO));
        assert_eq!(balance(NOMINATOR), 0);
        assert!(!frame_system::Account::<Test>::contains_key(NOMINATOR));
    });
}

#[test]
fn add_stake_errors() {
    build_and_execute(|| {
        setup();
        fund(NOMINATOR, TAO);
        assert_noop!(
            SubtensorModule::add_stake(RuntimeOrigin::signed(NOMINATOR), HOTKEY, 0),
            Error::<Test>::StakeAmountZero
        );
        assert_noop!(
            SubtensorModule::add_stake(RuntimeOrigin::signed(NOMINATOR), 99, TAO),
            Error::<Test>::HotKeyAccountNotExists
        );
        assert_noop!(
            SubtensorModule::add_stake(RuntimeOrigin::signed(NOMINATOR), HOTKEY, TAO + 1),
            Error::<Test>::NotEnoughBalanceToStake
        );
    });
}

#[test]
fn remove_stake_returns_stake_to_the_balance() {
    build_and_execute(|| {
        setup();
        stake(NOMINATOR, HOTKEY, 4 * TAO);
        stake(COLDKEY, HOTKEY, TAO);
        let issuance = SubtensorModule::total_issuance();

        assert_ok!(SubtensorModule::remove_stake(RuntimeOrigin::signed(NOMINATOR), HOTKEY, TAO));

        assert_last_event(Event::StakeRemoved { coldkey: NOMINATOR, hotkey: HOTKEY, amount: TAO });
        assert_eq!(balance(NOMINATOR), TAO);
        assert_totals(HOTKEY, NOMINATOR, 3 * TAO, 4 * TAO, 3 * TAO);
        assert_eq!(TotalStake::<Test>::get(), 4 * TAO);
        assert_eq!(SubtensorModule::total_issuance(), issuance);

        // Removing everything removes the entries.
        assert_ok!(SubtensorModule::remove_stake(
            RuntimeOrigin::signed(NOMINATOR),
            HOTKEY,
            3 * TAO
        ));
        assert!(!Stake::<Test>::contains_key(HOTKEY, NOMINATOR));
        assert!(!TotalColdkeyStake::<Test>::contains_key(NOMINATOR));
        assert_eq!(TotalHotkeyStake::<Test>::get(HOTKEY), TAO);
        assert_eq!(balance(NOMINATOR), 4 * TAO);
    });
}

#[test]
fn remove_stake_errors() {
    build_and_execute(|| {
        setup();
        stake(NOMINATOR, HOTKEY, 4 * TAO);
        stake(COLDKEY, HOTKEY, 4 * TAO);
        assert_noop!(
            SubtensorModule::remove_stake(RuntimeOrigin::signed(NOMINATOR), HOTKEY, 0),
            Error::<Test>::StakeAmountZero
        );
        // Only the coldkey's own stake on that hotkey can be withdrawn.
        assert_noop!(
            SubtensorModule::remove_stake(RuntimeOrigin::signed(NOMINATOR), HOTKEY, 4 * TAO + 1),
            Error::<Test>::NotEnoughStakeToWithdraw
        );
        assert_noop!(
            SubtensorModule::remove_stake(RuntimeOrigin::signed(NOMINATOR), OWNER_HOTKEY, 1),
            Error::<Test>::NotEnoughStakeToWithdraw
        );
    });
}

#[test]
fn remove_stake_refuses_to_create_a_dust_account() {
    ExtBuilder::default().existential_deposit(100).build_and_execute(|| {
        setup();
        stake(NOMINATOR, HOTKEY, TAO);
        assert_eq!(balance(NOMINATOR), 0);
        assert_noop!(
            SubtensorModule::remove_stake(RuntimeOrigin::signed(NOMINATOR), HOTKEY, 99),
            Error::<Test>::AmountBelowExistentialDeposit
        );
        assert_ok!(SubtensorModule::remove_stake(RuntimeOrigin::signed(NOMINATOR), HOTKEY, 100));
        assert_eq!(balance(NOMINATOR), 100);
    });
}

#[test]
fn delegate_take_moves_only_in_the_direction_of_the_call() {
    build_and_execute(|| {
        setup();
        let origin = || RuntimeOrigin::signed(COLDKEY);
        assert_eq!(Delegates::<Test>::get(HOTKEY), 11796);

        assert_ok!(SubtensorModule::decrease_take(origin(), HOTKEY, 5000));
        assert_last_event(Event::DelegateTakeSet { hotkey: HOTKEY, take: 5000 });
        assert_eq!(Delegates::<Test>::get(HOTKEY), 5000);
        assert_noop!(
            SubtensorModule::decrease_take(origin(), HOTKEY, 5000),
            Error::<Test>::InvalidTake
        );
        assert_noop!(
            SubtensorModule::decrease_take(origin(), HOTKEY, 6000),
            Error::<Test>::InvalidTake
        );

        assert_ok!(SubtensorModule::increase_take(origin(), HOTKEY, 6000));
        assert_eq!(Delegates::<Test>::get(HOTKEY), 6000);
        assert_noop!(
            SubtensorModule::increase_take(origin(), HOTKEY, 6000),
            Error::<Test>::InvalidTake
        );
        assert_noop!(
            SubtensorModule::increase_take(origin(), HOTKEY, 5999),
            Error::<Test>::InvalidTake
        );
        // Never above the maximum take ...
        assert_noop!(
            SubtensorModule::increase_take(origin(), HOTKEY, 11797),
            Error::<Test>::InvalidTake
        );
        assert_ok!(SubtensorModule::increase_take(origin(), HOTKEY, 11796));
        // ... which root may raise.
        assert_ok!(SubtensorModule::set_global_parameter(
            RuntimeOrigin::root(),
            GlobalParameter::MaxDelegateTake(20_000)
        ));
        assert_ok!(SubtensorModule::increase_take(origin(), HOTKEY, 20_000));
        assert_last_event(Event::DelegateTakeSet { hotkey: HOTKEY, take: 20_000 });
    });
}

#[test]
fn delegate_take_belongs_to_the_hotkey_owner() {
    build_and_execute(|| {
        setup();
        assert_noop!(
            SubtensorModule::decrease_take(RuntimeOrigin::signed(NOMINATOR), HOTKEY, 10),
            Error::<Test>::NonAssociatedColdKey
        );
        assert_noop!(
            SubtensorModule::increase_take(RuntimeOrigin::signed(NOMINATOR), HOTKEY, 11796),
            Error::<Test>::NonAssociatedColdKey
        );
        assert_noop!(
            SubtensorModule::decrease_take(RuntimeOrigin::signed(COLDKEY), 99, 10),
            Error::<Test>::HotKeyAccountNotExists
        );
        assert_noop!(
            SubtensorModule::increase_take(RuntimeOrigin::signed(COLDKEY), 99, 10),
            Error::<Test>::HotKeyAccountNotExists
        );
    });
}

#[test]
fn nominators_share_dividends_pro_rata_after_the_take() {
    const MINER: AccountId = 20;
    const MINER_COLDKEY: AccountId = 4;
    const NOMINATOR_2: AccountId = 6;
    build_and_execute(|| {
        let netuid = add_subnet(OWNER, OWNER_HOTKEY);
        set_param(netuid, Hyperparameter::Tempo(10));
        let validator = register(netuid, COLDKEY, HOTKEY);
        let miner = register(netuid, MINER_COLDKEY, MINER);
        stake(COLDKEY, HOTKEY, 2 * TAO);
        stake(NOMINATOR, HOTKEY, 6 * TAO);
        stake(NOMINATOR_2, HOTKEY, 2 * TAO);
        // The first epoch (block 9) gives the validator its permit.
        run_to_block(10);
        assert!(ValidatorPermit::<Test>::get(netuid)[usize::from(validator)]);
        assert_ok!(SubtensorModule::set_weights(
            RuntimeOrigin::signed(HOTKEY),
            netuid,
            vec![miner],
            vec![1],
            0
        ));

        run_to_block(18);
        let coldkeys = [COLDKEY, NOMINATOR, NOMINATOR_2];
        let before: Vec<u64> = coldkeys.iter().map(|c| Stake::<Test>::get(HOTKEY, c)).collect();
        let total_before = TotalHotkeyStake::<Test>::get(HOTKEY);
        let miner_before = Stake::<Test>::get(MINER, MINER_COLDKEY);
        run_to_block(19);

        assert_eq!(Dividends::<Test>::get(netuid)[usize::from(validator)], u16::MAX);
        assert_eq!(Incentive::<Test>::get(netuid)[usize::from(miner)], u16::MAX);
        let dividends = TotalHotkeyStake::<Test>::get(HOTKEY) - total_before;
        assert!(dividends > 0);
        let take = mul_div(dividends, 11796, 65535);
        let shared = dividends - take;
        let gains: Vec<u64> =
            coldkeys.iter().zip(&before).map(|(c, b)| Stake::<Test>::get(HOTKEY, c) - b).collect();
        // Each nominator gets its pro rata share of what the take leaves ...
        assert_eq!(gains[1], mul_div(shared, before[1], total_before));
        assert_eq!(gains[2], mul_div(shared, before[2], total_before));
        assert!(gains[1].abs_diff(3 * gains[2]) <= 2);
        // ... and the hotkey's owner the take, its own share and the rounding dust.
        assert_eq!(gains[0], dividends - gains[1] - gains[2]);
        assert!(gains[0] >= take + mul_div(shared, before[0], total_before));
        assert!(gains[0] < take + mul_div(shared, before[0], total_before) + 3);
        // The miner's incentive is paid as stake to the miner's coldkey.
        assert!(Stake::<Test>::get(MINER, MINER_COLDKEY) > miner_before);
    });
}
