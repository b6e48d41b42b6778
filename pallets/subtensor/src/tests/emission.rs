//! Emission: the per-block mint and its split among subnets, the epoch schedule, the owner cut,
//! the payout as stake, the conservation of issuance, and the halving near 10.5M and 21M TAO.

use super::mock::*;
use crate::coinbase::block_emission::block_emission;
use crate::staking::mul_div;
use crate::*;
use frame_support::{assert_ok, weights::Weight};
use subtensor_primitives::MAX_SUPPLY;

const NET_1: NetUid = NetUid(1);
const NET_2: NetUid = NetUid(2);

/// Two genesis subnets: 1 owned by 1 (hotkey 2), 2 owned by 3 (hotkey 4).
fn two_subnets(tempo: u16) -> ExtBuilder {
    ExtBuilder::default().subnet(1, 1, 2, tempo).subnet(2, 3, 4, tempo)
}

/// The netuids whose epoch ran in the events so far.
fn epochs() -> Vec<NetUid> {
    events()
        .into_iter()
        .filter_map(|e| match e {
            Event::EpochCompleted { netuid, .. } => Some(netuid),
            _ => None,
        })
        .collect()
}

#[test]
fn nothing_is_minted_without_subnets() {
    ExtBuilder::default().balance(9, TAO).build_and_execute(|| {
        assert_eq!(TotalIssuance::<Test>::get(), TAO);
        run_to_block(10);
        assert_eq!(SubtensorModule::total_issuance(), TAO);
        assert_eq!(TotalPendingEmission::<Test>::get(), 0);
    });
}

#[test]
fn block_emission_accumulates_pending_split_equally() {
    two_subnets(1000).build_and_execute(|| {
        run_to_block(5);
        assert_eq!(BlockEmission::<Test>::get(), TAO);
        assert_eq!(PendingEmission::<Test>::get(NET_1), 2 * TAO);
        assert_eq!(PendingEmission::<Test>::get(NET_2), 2 * TAO);
        assert_eq!(TotalPendingEmission::<Test>::get(), 4 * TAO);
        assert_eq!(SubtensorModule::total_issuance(), 4 * TAO);
        assert_eq!(TotalIssuance::<Test>::get(), 4 * TAO);
        assert_eq!(SubtensorModule::expected_emission_per_block(NET_1), TAO / 2);
    });
}

#[test]
fn emission_shares_weight_the_split_and_dust_goes_to_the_lowest_netuid() {
    two_subnets(1000).build_and_execute(|| {
        set_param(NET_1, Hyperparameter::EmissionShare(3));
        run_to_block(3);
        assert_eq!(PendingEmission::<Test>::get(NET_1), 2 * TAO * 3 / 4);
        assert_eq!(PendingEmission::<Test>::get(NET_2), 2 * TAO / 4);

        set_param(NET_1, Hyperparameter::EmissionShare(1));
        set_param(NET_2, Hyperparameter::EmissionShare(2));
        let (before_1, before_2) =
            (PendingEmission::<Test>::get(NET_1), PendingEmission::<Test>::get(NET_2));
        step_blocks(1);
        assert_eq!(PendingEmission::<Test>::get(NET_1) - before_1, 333_333_334);
        assert_eq!(PendingEmission::<Test>::get(NET_2) - before_2, 666_666_666);

        // A zero share gets nothing.
        set_param(NET_1, Hyperparameter::EmissionShare(0));
        let before_1 = PendingEmission::<Test>::get(NET_1);
        step_blocks(1);
        assert_eq!(PendingEmission::<Test>::get(NET_1), before_1);
        assert_eq!(SubtensorModule::total_issuance(), 4 * TAO);
    });
}

#[test]
fn epochs_run_every_tempo_staggered_by_netuid() {
    two_subnets(10).build_and_execute(|| {
        let mut schedule = Vec::new();
        for block in 2..=30 {
            System::reset_events();
            run_to_block(block);
            for netuid in epochs() {
                schedule.push((block, netuid.0));
                assert_eq!(LastStepBlock::<Test>::get(netuid), block);
            }
        }
        assert_eq!(schedule, vec![(8, 2), (9, 1), (18, 2), (19, 1), (28, 2), (29, 1)]);
        assert_eq!(SubtensorModule::blocks_until_next_epoch(NET_1, 30), 9);
        assert_eq!(SubtensorModule::blocks_until_next_epoch(NET_2, 30), 8);
        assert!(SubtensorModule::should_run_epoch(NET_1, 39));
    });
}

#[test]
fn the_owner_receives_its_cut_of_each_epoch() {
    ExtBuilder::default().subnet(1, 1, 2, 10).build_and_execute(|| {
        run_to_block(8);
        assert_eq!(PendingEmission::<Test>::get(NET_1), 7 * TAO);
        System::reset_events();
        run_to_block(9);
        let pending = 8 * TAO;
        let cut = mul_div(pending, 11796, 65535);
        assert_eq!(cut, 1_439_963_378);
        assert!((cut as f64 / pending as f64 - 0.18).abs() < 1e-4);
        assert_eq!(balance(1), cut);
        // Nobody holds stake: the rest stays pending.
        assert_last_event(Event::EpochCompleted {
            netuid: NET_1,
            owner_cut: cut,
            distributed: 0,
            carried: pending - cut,
        });
        assert_eq!(PendingEmission::<Test>::get(NET_1), pending - cut);

        // Without a cut, the owner gets nothing.
        assert_ok!(SubtensorModule::set_global_parameter(
            RuntimeOrigin::root(),
            GlobalParameter::SubnetOwnerCut(0)
        ));
        run_to_block(19);
        assert_eq!(balance(1), cut);
        assert_eq!(PendingEmission::<Test>::get(NET_1), 18 * TAO - cut);
    });
}

#[test]
fn miners_get_incentive_and_validators_dividends_as_stake() {
    const VALIDATOR: AccountId = 10;
    const MINER: AccountId = 20;
    ExtBuilder::default().subnet(1, 1, 2, 10).build_and_execute(|| {
        let validator = register(NET_1, 3, VALIDATOR);
        let miner = register(NET_1, 4, MINER);
        stake(3, VALIDATOR, 10 * TAO);
        run_to_block(10);
        assert_ok!(SubtensorModule::set_weights(
            RuntimeOrigin::signed(VALIDATOR),
            NET_1,
            vec![miner],
            vec![1],
            0
        ));
        run_to_block(18);
        let pending = PendingEmission::<Test>::get(NET_1) + TAO;
        let validator_stake = TotalHotkeyStake::<Test>::get(VALIDATOR);
        System::reset_events();
        run_to_block(19);

        let emission = Emission::<Test>::get(NET_1);
        let (to_miner, to_validator) =
            (emission[usize::from(miner)], emission[usize::from(validator)]);
        assert_eq!(Incentive::<Test>::get(NET_1)[usize::from(miner)], u16::MAX);
        assert_eq!(Dividends::<Test>::get(NET_1)[usize::from(validator)], u16::MAX);
        assert_eq!(Incentive::<Test>::get(NET_1)[usize::from(validator)], 0);
        assert_eq!(Dividends::<Test>::get(NET_1)[usize::from(miner)], 0);
        // Half to the miner, half to the validator, both as stake of their owners.
        let cut = mul_div(pending, 11796, 65535);
        assert!((to_miner as i128 - to_validator as i128).abs() <= 1);
        assert!(pending - cut - to_miner - to_validator < 10);
        assert_eq!(Stake::<Test>::get(MINER, 4), to_miner);
        assert_eq!(TotalHotkeyStake::<Test>::get(VALIDATOR), validator_stake + to_validator);
        assert_eq!(
            last_event(),
            Event::EpochCompleted {
                netuid: NET_1,
                owner_cut: cut,
                distributed: to_miner + to_validator,
                carried: pending - cut - to_miner - to_validator,
            }
        );
    });
}

#[test]
fn issuance_grows_by_exactly_the_emission_minted() {
    two_subnets(7).balance(9, 1_000 * TAO).build_and_execute(|| {
        register(NET_1, 5, 10);
        register(NET_2, 5, 11);
        stake(5, 10, 3 * TAO);
        stake(6, 11, 2 * TAO);
        let mut expected = SubtensorModule::total_issuance();
        for _ in 0..60 {
            step_blocks(1);
            expected += BlockEmission::<Test>::get();
            assert_eq!(BlockEmission::<Test>::get(), TAO);
            assert_eq!(SubtensorModule::total_issuance(), expected);
            assert_eq!(TotalIssuance::<Test>::get(), expected);
        }
        // Epochs ran and paid out along the way.
        assert!(TotalStake::<Test>::get() > 5 * TAO);
        assert!(balance(1) > 0 && balance(3) > 0);
    });
}

#[test]
fn block_emission_halves_exactly_when_issuance_crosses_10_5m_tao() {
    let start = 10_500_000 * TAO - 5 * TAO / 2;
    ExtBuilder::default().balance(9, start).subnet(1, 1, 2, 5).build_and_execute(|| {
        let mut minted = Vec::new();
        for _ in 0..5 {
            let issuance = SubtensorModule::total_issuance();
            step_blocks(1);
            minted.push(BlockEmission::<Test>::get());
            assert_eq!(SubtensorModule::total_issuance(), issuance + BlockEmission::<Test>::get());
        }
        assert_eq!(minted, vec![TAO, TAO, TAO, TAO / 2, TAO / 2]);
        assert_eq!(SubtensorModule::total_issuance(), 10_500_000 * TAO + 3 * TAO / 2);
    });
}

#[test]
fn block_emission_halves_again_at_15_75m_tao() {
    let start = 15_750_000 * TAO - TAO / 4;
    ExtBuilder::default().balance(9, start).subnet(1, 1, 2, 5).build_and_execute(|| {
        step_blocks(1);
        assert_eq!(BlockEmission::<Test>::get(), TAO / 2);
        step_blocks(1);
        assert_eq!(BlockEmission::<Test>::get(), TAO / 4);
        assert_eq!(SubtensorModule::total_issuance(), 15_750_000 * TAO + TAO / 2);
    });
}

#[test]
fn issuance_never_exceeds_21m_tao_near_the_cap() {
    let start = MAX_SUPPLY - TAO;
    ExtBuilder::default().balance(9, start).subnet(1, 1, 2, 5).build_and_execute(|| {
        let reward = block_emission(start);
        assert!(reward > 0 && reward < TAO / 1000);
        for _ in 0..50 {
            let issuance = SubtensorModule::total_issuance();
            step_blocks(1);
            assert_eq!(SubtensorModule::total_issuance(), issuance + BlockEmission::<Test>::get());
            assert!(SubtensorModule::total_issuance() <= MAX_SUPPLY);
        }
        assert_eq!(SubtensorModule::total_issuance(), start + 50 * reward);
    });
}

#[test]
fn nothing_is_minted_at_the_cap() {
    ExtBuilder::default().balance(9, MAX_SUPPLY).subnet(1, 1, 2, 5).build_and_execute(|| {
        run_to_block(20);
        assert_eq!(BlockEmission::<Test>::get(), 0);
        assert_eq!(SubtensorModule::total_issuance(), MAX_SUPPLY);
        assert_eq!(TotalPendingEmission::<Test>::get(), 0);
    });
}

/// Three genesis subnets whose epochs all come due at block 9 (tempos 10, 11, 12).
fn three_subnets_due_together() -> ExtBuilder {
    ExtBuilder::default().subnet(1, 1, 2, 10).subnet(2, 3, 4, 11).subnet(3, 5, 6, 12)
}

#[test]
fn epochs_due_together_within_the_budget_run_in_one_block() {
    three_subnets_due_together().build_and_execute(|| {
        run_to_block(9);
        assert_eq!(epochs(), vec![NET_1, NET_2, NetUid(3)]);
        assert!(EpochQueue::<Test>::get().is_empty());
    });
}

#[test]
fn epochs_beyond_the_block_budget_wait_for_the_following_blocks_in_order() {
    three_subnets_due_together().build_and_execute(|| {
        // A budget (half the block) of one and a half epochs: one epoch per block.
        let bound = SubtensorModule::epoch_weight_bound(NET_1);
        MockBlockWeights::set(frame_system::limits::BlockWeights::simple_max(Weight::from_parts(
            bound.ref_time() * 3,
            u64::MAX / 4,
        )));
        run_to_block(9);
        assert_eq!(epochs(), vec![NET_1]);
        assert_eq!(EpochQueue::<Test>::get().into_inner(), vec![NET_2, NetUid(3)]);
        run_to_block(10);
        assert_eq!(epochs(), vec![NET_1, NET_2]);
        assert_eq!(LastStepBlock::<Test>::get(NET_2), 10);
        run_to_block(11);
        assert_eq!(epochs(), vec![NET_1, NET_2, NetUid(3)]);
        assert_eq!(LastStepBlock::<Test>::get(NetUid(3)), 11);
        assert!(EpochQueue::<Test>::get().is_empty());
        // An epoch larger than the whole budget still runs (first in its block).
        MockBlockWeights::set(frame_system::limits::BlockWeights::simple_max(Weight::from_parts(
            bound.ref_time() / 4,
            u64::MAX / 4,
        )));
        run_to_block(19);
        assert_eq!(epochs().last(), Some(&NET_1));
        assert!(EpochQueue::<Test>::get().is_empty());
    });
}
