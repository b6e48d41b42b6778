//! Yuma consensus through the chain: a colluding minority cannot pay its own miner, early
//! backers of a good miner earn more dividends through their bonds, and no weights means no
//! incentive.

use super::mock::*;
use crate::*;
use frame_support::assert_ok;

const OWNER: AccountId = 1;
const OWNER_HOTKEY: AccountId = 2;

/// A subnet (tempo 10, no weight rate limit) with validators `(hotkey, stake in TAO)` and
/// miners, registered at block 1 in that order after the owner (UID 0); returns their UIDs.
fn subnet_with(
    validators: &[(AccountId, u64)],
    miners: &[AccountId],
) -> (NetUid, Vec<u16>, Vec<u16>) {
    let netuid = add_subnet(OWNER, OWNER_HOTKEY);
    set_param(netuid, Hyperparameter::Tempo(10));
    set_param(netuid, Hyperparameter::WeightsSetRateLimit(0));
    open_registration(netuid);
    let validator_uids = validators
        .iter()
        .map(|&(hotkey, tao)| {
            let uid = register(netuid, hotkey + 1000, hotkey);
            stake(hotkey + 1000, hotkey, tao * TAO);
            uid
        })
        .collect();
    let miner_uids = miners.iter().map(|&hotkey| register(netuid, hotkey + 1000, hotkey)).collect();
    (netuid, validator_uids, miner_uids)
}

fn set_weights(netuid: NetUid, hotkey: AccountId, uids: Vec<u16>) {
    let values = vec![1; uids.len()];
    assert_ok!(SubtensorModule::set_weights(
        RuntimeOrigin::signed(hotkey),
        netuid,
        uids,
        values,
        0
    ));
}

fn at<V: Copy>(values: &[V], uid: u16) -> V {
    values[usize::from(uid)]
}

#[test]
fn a_colluding_minority_cannot_pay_its_own_miner() {
    // Honest validators hold 75% of the stake, the colluders 25%.
    let honest = [(10, 30), (11, 25), (12, 20)];
    let colluders = [(13, 15), (14, 10)];
    build_and_execute(|| {
        let validators: Vec<_> = honest.iter().chain(colluders.iter()).copied().collect();
        let (netuid, _, miners) = subnet_with(&validators, &[20, 21, 22]);
        let (good_1, good_2, colluding) = (miners[0], miners[1], miners[2]);
        // The epoch of block 9 hands out the validator permits.
        run_to_block(10);
        assert!(ValidatorPermit::<Test>::get(netuid).iter().take(6).all(|p| *p));
        for (hotkey, _) in honest {
            set_weights(netuid, hotkey, vec![good_1, good_2]);
        }
        for (hotkey, _) in colluders {
            set_weights(netuid, hotkey, vec![colluding]);
        }

        for epoch_block in [19, 29, 39, 49, 59] {
            run_to_block(epoch_block);
            let incentive = Incentive::<Test>::get(netuid);
            assert!(at(&incentive, colluding) <= 3, "block {epoch_block}: {incentive:?}");
            assert!(at(&incentive, good_1).abs_diff(u16::MAX / 2) <= 2, "{incentive:?}");
            assert!(at(&incentive, good_2).abs_diff(u16::MAX / 2) <= 2, "{incentive:?}");
            assert_eq!(at(&Consensus::<Test>::get(netuid), colluding), 0);
            // The colluders' weights are clipped away: no validator trust, no dividends.
            let trust = ValidatorTrust::<Test>::get(netuid);
            let dividends = Dividends::<Test>::get(netuid);
            for uid in 4..=5 {
                assert_eq!(at(&trust, uid), 0);
                assert!(at(&dividends, uid) <= 3, "{dividends:?}");
            }
            for uid in 1..=3 {
                assert!(at(&trust, uid) > 60_000, "{trust:?}");
                assert!(at(&dividends, uid) > 10_000, "{dividends:?}");
            }
        }
        assert_eq!(TotalHotkeyStake::<Test>::get(22), 0);
        assert!(TotalHotkeyStake::<Test>::get(20) > 0);
        assert!(TotalHotkeyStake::<Test>::get(21) > 0);
    });
}

#[test]
fn an_early_backer_of_a_good_miner_earns_more_dividends_through_bonds() {
    build_and_execute(|| {
        let (netuid, validators, miners) = subnet_with(&[(10, 60), (11, 40)], &[20]);
        let (early, late, miner) = (validators[0], validators[1], miners[0]);
        run_to_block(10);
        set_weights(netuid, 10, vec![miner]);

        // Alone, the early validator holds all the bonds and gets all the dividends.
        run_to_block(29);
        assert_eq!(at(&Dividends::<Test>::get(netuid), early), u16::MAX);
        assert_eq!(at(&Dividends::<Test>::get(netuid), late), 0);
        assert_eq!(Bonds::<Test>::get(netuid, early).into_inner(), vec![(miner, u16::MAX)]);
        assert_eq!(at(&Incentive::<Test>::get(netuid), miner), u16::MAX);

        // The late validator agrees from now on, with 40% of the stake ...
        run_to_block(30);
        set_weights(netuid, 11, vec![miner]);
        run_to_block(39);
        let dividends = Dividends::<Test>::get(netuid);
        let (early_share, late_share) = (at(&dividends, early), at(&dividends, late));
        // ... but its bond starts small (alpha 0.1 of 40%): about 4% of the dividends, against
        // 96% for the early backer.
        assert!(late_share > 0);
        assert!(early_share > 20 * late_share, "{dividends:?}");
        assert!(!Bonds::<Test>::get(netuid, late).is_empty());

        // Its share grows epoch by epoch as its bond accumulates.
        let mut previous = late_share;
        for block in [49, 59, 69] {
            run_to_block(block);
            let late_share = at(&Dividends::<Test>::get(netuid), late);
            assert!(late_share > previous, "block {block}: {late_share} <= {previous}");
            assert!(late_share < u16::MAX / 10 * 4);
            previous = late_share;
        }
    });
}

#[test]
fn without_weights_there_is_no_incentive_and_stake_takes_the_emission() {
    build_and_execute(|| {
        let (netuid, validators, miners) = subnet_with(&[(10, 30), (11, 10)], &[20, 21]);
        run_to_block(40);
        let n = usize::from(SubnetworkN::<Test>::get(netuid));
        assert_eq!(Incentive::<Test>::get(netuid).to_vec(), vec![0; n]);
        assert_eq!(Dividends::<Test>::get(netuid).to_vec(), vec![0; n]);
        for &uid in &miners {
            assert_eq!(at(&Emission::<Test>::get(netuid), uid), 0);
        }
        assert_eq!(TotalHotkeyStake::<Test>::get(20), 0);
        assert_eq!(TotalHotkeyStake::<Test>::get(21), 0);
        // The validators earned by stake instead: 3 to 1.
        let emission = Emission::<Test>::get(netuid);
        let (big, small) = (at(&emission, validators[0]), at(&emission, validators[1]));
        assert!(small > 0);
        assert!(big.abs_diff(3 * small) <= big / 100_000, "{big} vs {small}");
    });
}

#[test]
fn weights_set_before_a_uid_was_replaced_do_not_pay_the_new_neuron() {
    build_and_execute(|| {
        let (netuid, _, miners) = subnet_with(&[(10, 50)], &[20, 21]);
        set_param(netuid, Hyperparameter::MaxAllowedUids(4));
        set_param(netuid, Hyperparameter::ImmunityPeriod(0));
        run_to_block(10);
        set_weights(netuid, 10, miners.clone());
        run_to_block(19);
        let incentive = Incentive::<Test>::get(netuid);
        assert!(at(&incentive, miners[0]).abs_diff(u16::MAX / 2) <= 1, "{incentive:?}");

        // The two miners tie; the earlier UID gives way to a new hotkey.
        run_to_block(20);
        assert_eq!(register(netuid, 1022, 22), miners[0]);
        run_to_block(29);
        let incentive = Incentive::<Test>::get(netuid);
        assert_eq!(at(&incentive, miners[0]), 0, "{incentive:?}");
        assert_eq!(at(&incentive, miners[1]), u16::MAX);
        assert_eq!(TotalHotkeyStake::<Test>::get(22), 0);
        // The old bond on that UID is gone.
        assert!(Bonds::<Test>::get(netuid, 1).iter().all(|(uid, _)| *uid != miners[0]));

        // Weights set after the registration count again.
        run_to_block(30);
        set_weights(netuid, 10, miners.clone());
        run_to_block(39);
        let incentive = Incentive::<Test>::get(netuid);
        assert!(at(&incentive, miners[0]).abs_diff(u16::MAX / 2) <= 1, "{incentive:?}");
        assert!(TotalHotkeyStake::<Test>::get(22) > 0);
    });
}

#[test]
fn permits_go_to_the_top_stakes_above_the_threshold() {
    build_and_execute(|| {
        let (netuid, validators, _) = subnet_with(&[(10, 30), (11, 20), (12, 10), (13, 1)], &[20]);
        set_param(netuid, Hyperparameter::MaxAllowedValidators(3));
        assert_ok!(SubtensorModule::set_global_parameter(
            RuntimeOrigin::root(),
            GlobalParameter::StakeThreshold(5 * TAO)
        ));
        run_to_block(10);
        let permits = ValidatorPermit::<Test>::get(netuid);
        // The owner always holds one; of the others, the top 3 stakes, all above the threshold.
        assert!(at(&permits, 0));
        assert_eq!(
            validators.iter().map(|uid| at(&permits, *uid)).collect::<Vec<_>>(),
            vec![true, true, true, false]
        );

        set_param(netuid, Hyperparameter::MaxAllowedValidators(2));
        run_to_block(20);
        let permits = ValidatorPermit::<Test>::get(netuid);
        assert_eq!(
            validators.iter().map(|uid| at(&permits, *uid)).collect::<Vec<_>>(),
            vec![true, true, false, false]
        );
        assert_eq!(
            SubtensorModule::set_weights(RuntimeOrigin::signed(12), netuid, vec![5], vec![1], 0),
            Err(Error::<Test>::NeuronNoValidatorPermit.into())
        );
    });
}

#[test]
fn neurons_without_recent_weights_turn_inactive() {
    build_and_execute(|| {
        let (netuid, validators, miners) = subnet_with(&[(10, 60), (11, 40)], &[20]);
        assert_ok!(SubtensorModule::set_hyperparameter(
            RuntimeOrigin::signed(OWNER),
            netuid,
            Hyperparameter::ActivityCutoff(15)
        ));
        run_to_block(10);
        set_weights(netuid, 10, miners.clone());
        set_weights(netuid, 11, miners.clone());
        run_to_block(19);
        assert!(validators.iter().all(|uid| at(&Active::<Test>::get(netuid), *uid)));
        // Only the first validator keeps its weights fresh.
        run_to_block(20);
        set_weights(netuid, 10, miners.clone());
        run_to_block(29);
        let active = Active::<Test>::get(netuid);
        assert!(at(&active, validators[0]));
        assert!(!at(&active, validators[1]));
        assert_eq!(at(&Incentive::<Test>::get(netuid), miners[0]), u16::MAX);
    });
}
