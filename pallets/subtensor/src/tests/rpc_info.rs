//! The runtime-API views: neurons, subnets and hyperparameters reflect storage.

use super::mock::*;
use crate::*;
use codec::Compact;
use frame_support::assert_ok;

const OWNER: AccountId = 1;
const OWNER_HOTKEY: AccountId = 2;
const VALIDATOR: AccountId = 10;
const MINER: AccountId = 20;

/// Subnet 1 (tempo 10) with a staked validator (UID 1) weighting a serving miner (UID 2), after
/// two epochs (blocks 9 and 19).
fn setup() -> NetUid {
    let netuid = add_subnet(OWNER, OWNER_HOTKEY);
    set_param(netuid, Hyperparameter::Tempo(10));
    register(netuid, 3, VALIDATOR);
    register(netuid, 4, MINER);
    stake(3, VALIDATOR, 7 * TAO);
    stake(5, VALIDATOR, 3 * TAO);
    run_to_block(10);
    assert_ok!(SubtensorModule::set_weights(
        RuntimeOrigin::signed(VALIDATOR),
        netuid,
        vec![2],
        vec![1],
        0
    ));
    assert_ok!(SubtensorModule::serve_axon(
        RuntimeOrigin::signed(MINER),
        netuid,
        1,
        0x0102_0304,
        8091,
        4,
        0,
        0,
        0
    ));
    run_to_block(19);
    netuid
}

#[test]
fn neurons_lite_reflect_storage() {
    build_and_execute(|| {
        let netuid = setup();
        let neurons = SubtensorModule::neurons_lite(netuid);
        assert_eq!(neurons.len(), 3);
        assert_eq!(
            neurons.iter().map(|n| (n.uid, n.hotkey)).collect::<Vec<_>>(),
            vec![(0, 2), (1, 10), (2, 20)]
        );

        let validator = &neurons[1];
        assert_eq!(validator.coldkey, 3);
        assert_eq!(validator.netuid, netuid);
        let mut stake: Vec<(AccountId, u64)> =
            validator.stake.iter().map(|(c, s)| (*c, s.0)).collect();
        stake.sort();
        assert_eq!(
            stake,
            vec![(3, Stake::<Test>::get(VALIDATOR, 3)), (5, Stake::<Test>::get(VALIDATOR, 5))]
        );
        assert!(validator.validator_permit);
        assert_eq!(validator.last_update, 10);
        assert_eq!(validator.dividends, Dividends::<Test>::get(netuid)[1]);
        assert_eq!(validator.dividends, u16::MAX);
        assert_eq!(validator.validator_trust, ValidatorTrust::<Test>::get(netuid)[1]);

        let miner = &neurons[2];
        assert_eq!(miner.coldkey, 4);
        assert_eq!(miner.incentive, u16::MAX);
        assert_eq!(miner.rank, Rank::<Test>::get(netuid)[2]);
        assert_eq!(miner.consensus, Consensus::<Test>::get(netuid)[2]);
        assert_eq!(miner.trust, Trust::<Test>::get(netuid)[2]);
        assert_eq!(miner.emission, Emission::<Test>::get(netuid)[2]);
        assert!(miner.emission > 0);
        assert_eq!(miner.pruning_score, PruningScores::<Test>::get(netuid)[2]);
        assert_eq!(miner.active, Active::<Test>::get(netuid)[2]);
        assert_eq!(miner.axon_info, Axons::<Test>::get(netuid, MINER).unwrap());
        assert_eq!(miner.axon_info.port, 8091);
        assert_eq!(miner.prometheus_info, PrometheusInfo::default());
        assert_eq!(miner.stake, vec![(4, Compact(Stake::<Test>::get(MINER, 4)))]);
    });
}

#[test]
fn neuron_adds_weights_and_bonds() {
    build_and_execute(|| {
        let netuid = setup();
        let validator = SubtensorModule::neuron(netuid, 1).unwrap();
        assert_eq!(validator.weights, vec![(Compact(2), Compact(u16::MAX))]);
        assert_eq!(validator.bonds, vec![(Compact(2), Compact(u16::MAX))]);
        let lite = SubtensorModule::neuron_lite(netuid, 1).unwrap();
        assert_eq!(
            (validator.hotkey, validator.stake, validator.dividends),
            (lite.hotkey, lite.stake, lite.dividends)
        );
        assert_eq!(SubtensorModule::neurons(netuid).len(), 3);
        assert!(SubtensorModule::neuron(netuid, 2).unwrap().weights.is_empty());
    });
}

#[test]
fn subnet_info_reflects_storage() {
    build_and_execute(|| {
        let netuid = setup();
        add_subnet(7, 8);
        run_to_block(23);
        let info = SubtensorModule::subnet_info(netuid).unwrap();
        assert_eq!(info.netuid, netuid);
        assert_eq!(info.owner, OWNER);
        assert_eq!(info.tempo, 10);
        assert_eq!(info.subnetwork_n, 3);
        assert_eq!(info.max_allowed_uids, 256);
        assert_eq!(info.burn, Burn::<Test>::get(netuid));
        assert_eq!(info.difficulty, Difficulty::<Test>::get(netuid));
        assert_eq!(info.kappa, 32767);
        assert_eq!(info.immunity_period, 4096);
        assert_eq!(info.blocks_since_last_step, 4);
        assert_eq!(info.emission_values, TAO / 2);
        assert_eq!(SubtensorModule::subnets_info().len(), 2);
        assert_eq!(SubtensorModule::subnets_info()[1].as_ref().map(|i| i.owner), Some(7));
    });
}

#[test]
fn subnet_hyperparams_reflect_storage() {
    build_and_execute(|| {
        let netuid = add_subnet(OWNER, OWNER_HOTKEY);
        for value in [
            Hyperparameter::Tempo(12),
            Hyperparameter::Kappa(100),
            Hyperparameter::ImmunityPeriod(13),
            Hyperparameter::WeightsVersionKey(14),
            Hyperparameter::CommitRevealEnabled(true),
            Hyperparameter::RevealPeriodEpochs(3),
            Hyperparameter::AlphaValues(1000, 2000),
            Hyperparameter::LiquidAlphaEnabled(true),
            Hyperparameter::MaxAllowedValidators(5),
        ] {
            set_param(netuid, value);
        }
        let params = SubtensorModule::subnet_hyperparams(netuid).unwrap();
        assert_eq!(params.tempo, 12);
        assert_eq!(params.kappa, 100);
        assert_eq!(params.immunity_period, 13);
        assert_eq!(params.weights_version, 14);
        assert!(params.commit_reveal_weights_enabled);
        assert_eq!(params.commit_reveal_period, 3);
        assert_eq!((params.alpha_low, params.alpha_high), (1000, 2000));
        assert!(params.liquid_alpha_enabled);
        assert_eq!(params.max_validators, 5);
        assert_eq!(params.weights_rate_limit, 100);
        assert_eq!(params.activity_cutoff, 5000);
        assert!(params.registration_allowed);
        assert_eq!(params.min_burn, 500_000);
        assert_eq!(params.max_burn, 100 * TAO);
        assert_eq!(params.bonds_moving_avg, 900_000);
    });
}

#[test]
fn unknown_subnets_and_uids_are_absent() {
    build_and_execute(|| {
        let netuid = add_subnet(OWNER, OWNER_HOTKEY);
        assert!(SubtensorModule::neuron_lite(netuid, 1).is_none());
        assert!(SubtensorModule::neuron(netuid, 1).is_none());
        assert!(SubtensorModule::neuron_lite(NetUid(9), 0).is_none());
        assert!(SubtensorModule::neurons_lite(NetUid(9)).is_empty());
        assert!(SubtensorModule::neurons(NetUid(9)).is_empty());
        assert!(SubtensorModule::subnet_info(NetUid(9)).is_none());
        assert!(SubtensorModule::subnet_hyperparams(NetUid(9)).is_none());
        assert!(SubtensorModule::subnet_info(NetUid::ROOT).is_none());
        // A dissolved subnet disappears from every view.
        assert_ok!(SubtensorModule::dissolve_network(RuntimeOrigin::root(), netuid));
        assert!(SubtensorModule::subnet_info(netuid).is_none());
        assert!(SubtensorModule::neurons_lite(netuid).is_empty());
        assert!(SubtensorModule::subnets_info().is_empty());
    });
}
