//! `set_hyperparameter` and `set_global_parameter`: who may set what, and value checks.

use super::mock::*;
use crate::*;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;

const OWNER: AccountId = 1;
const NETUID: NetUid = NetUid(1);

fn setup() {
    assert_eq!(add_subnet(OWNER, 2), NETUID);
}

fn owner_params() -> Vec<Hyperparameter> {
    use Hyperparameter::*;
    vec![
        Rho(11),
        ImmunityPeriod(12),
        ActivityCutoff(13),
        MaxAllowedUids(14),
        MinAllowedWeights(15),
        MaxWeightsLimit(16),
        WeightsVersionKey(17),
        BondsMovingAverage(18),
        BondsPenalty(19),
        Yuma3Enabled(true),
        LiquidAlphaEnabled(true),
        AlphaValues(20, 21),
        AlphaSigmoidSteepness(-22),
        MinBurn(23),
        MaxBurn(24),
        MinDifficulty(25),
        MaxDifficulty(26),
        AdjustmentAlpha(27),
        ServingRateLimit(28),
        RegistrationAllowed(false),
        PowRegistrationAllowed(false),
        CommitRevealEnabled(true),
        RevealPeriodEpochs(29),
        ScalingLawPower(30),
    ]
}

fn root_params() -> Vec<Hyperparameter> {
    use Hyperparameter::*;
    vec![
        Tempo(31),
        Kappa(32),
        MaxAllowedValidators(33),
        WeightsSetRateLimit(34),
        AdjustmentInterval(35),
        TargetRegistrationsPerInterval(36),
        MaxRegistrationsPerBlock(37),
        Difficulty(38),
        EmissionShare(39),
    ]
}

#[test]
fn the_owner_sets_owner_parameters() {
    build_and_execute(|| {
        setup();
        for value in owner_params() {
            assert!(!value.root_only());
            assert_ok!(SubtensorModule::set_hyperparameter(
                RuntimeOrigin::signed(OWNER),
                NETUID,
                value.clone()
            ));
            assert_last_event(Event::HyperparameterSet { netuid: NETUID, value });
        }
        assert_eq!(Rho::<Test>::get(NETUID), 11);
        assert_eq!(ImmunityPeriod::<Test>::get(NETUID), 12);
        assert_eq!(ActivityCutoff::<Test>::get(NETUID), 13);
        assert_eq!(MaxAllowedUids::<Test>::get(NETUID), 14);
        assert_eq!(MinAllowedWeights::<Test>::get(NETUID), 15);
        assert_eq!(MaxWeightsLimit::<Test>::get(NETUID), 16);
        assert_eq!(WeightsVersionKey::<Test>::get(NETUID), 17);
        assert_eq!(BondsMovingAverage::<Test>::get(NETUID), 18);
        assert_eq!(BondsPenalty::<Test>::get(NETUID), 19);
        assert!(Yuma3On::<Test>::get(NETUID));
        assert!(LiquidAlphaOn::<Test>::get(NETUID));
        assert_eq!(AlphaValues::<Test>::get(NETUID), (20, 21));
        assert_eq!(AlphaSigmoidSteepness::<Test>::get(NETUID), -22);
        assert_eq!(MinBurn::<Test>::get(NETUID), 23);
        assert_eq!(MaxBurn::<Test>::get(NETUID), 24);
        assert_eq!(MinDifficulty::<Test>::get(NETUID), 25);
        assert_eq!(MaxDifficulty::<Test>::get(NETUID), 26);
        assert_eq!(AdjustmentAlpha::<Test>::get(NETUID), 27);
        assert_eq!(ServingRateLimit::<Test>::get(NETUID), 28);
        assert!(!NetworkRegistrationAllowed::<Test>::get(NETUID));
        assert!(!NetworkPowRegistrationAllowed::<Test>::get(NETUID));
        assert!(CommitRevealWeightsEnabled::<Test>::get(NETUID));
        assert_eq!(RevealPeriodEpochs::<Test>::get(NETUID), 29);
        assert_eq!(ScalingLawPower::<Test>::get(NETUID), 30);
        // The bounds pulled burn and difficulty inside them.
        assert_eq!(Burn::<Test>::get(NETUID), 24);
        assert_eq!(Difficulty::<Test>::get(NETUID), 26);
    });
}

#[test]
fn root_sets_every_parameter() {
    build_and_execute(|| {
        setup();
        for value in root_params().into_iter().chain(owner_params()) {
            assert_ok!(SubtensorModule::set_hyperparameter(
                RuntimeOrigin::root(),
                NETUID,
                value.clone()
            ));
            assert_last_event(Event::HyperparameterSet { netuid: NETUID, value });
        }
        assert_eq!(Tempo::<Test>::get(NETUID), 31);
        assert_eq!(Kappa::<Test>::get(NETUID), 32);
        assert_eq!(MaxAllowedValidators::<Test>::get(NETUID), 33);
        assert_eq!(WeightsSetRateLimit::<Test>::get(NETUID), 34);
        assert_eq!(AdjustmentInterval::<Test>::get(NETUID), 35);
        assert_eq!(TargetRegistrationsPerInterval::<Test>::get(NETUID), 36);
        assert_eq!(MaxRegistrationsPerBlock::<Test>::get(NETUID), 37);
        assert_eq!(EmissionShare::<Test>::get(NETUID), 39);
    });
}

#[test]
fn the_owner_is_refused_root_only_parameters() {
    build_and_execute(|| {
        setup();
        for value in root_params() {
            assert!(value.root_only());
            assert_noop!(
                SubtensorModule::set_hyperparameter(RuntimeOrigin::signed(OWNER), NETUID, value),
                DispatchError::BadOrigin
            );
        }
    });
}

#[test]
fn only_the_owner_or_root_sets_parameters() {
    build_and_execute(|| {
        setup();
        assert_noop!(
            SubtensorModule::set_hyperparameter(
                RuntimeOrigin::signed(7),
                NETUID,
                Hyperparameter::Rho(1)
            ),
            Error::<Test>::NotSubnetOwner
        );
        assert_noop!(
            SubtensorModule::set_hyperparameter(
                RuntimeOrigin::none(),
                NETUID,
                Hyperparameter::Rho(1)
            ),
            DispatchError::BadOrigin
        );
        // Owning another subnet gives no rights here.
        add_subnet(7, 8);
        assert_noop!(
            SubtensorModule::set_hyperparameter(
                RuntimeOrigin::signed(7),
                NETUID,
                Hyperparameter::Rho(1)
            ),
            Error::<Test>::NotSubnetOwner
        );
    });
}

#[test]
fn parameters_of_unknown_subnets_are_refused() {
    build_and_execute(|| {
        setup();
        assert_noop!(
            SubtensorModule::set_hyperparameter(
                RuntimeOrigin::root(),
                NetUid(9),
                Hyperparameter::Rho(1)
            ),
            Error::<Test>::SubnetNotExists
        );
        assert_noop!(
            SubtensorModule::set_hyperparameter(
                RuntimeOrigin::signed(OWNER),
                NetUid(9),
                Hyperparameter::Rho(1)
            ),
            Error::<Test>::SubnetNotExists
        );
    });
}

#[test]
fn out_of_range_values_are_refused() {
    build_and_execute(|| {
        setup();
        register(NETUID, 3, 4);
        use Hyperparameter::*;
        let invalid = [
            Tempo(0),
            AdjustmentInterval(0),
            TargetRegistrationsPerInterval(0),
            MaxAllowedValidators(257),
            Difficulty(0),
            Difficulty(u64::MAX),
            MaxAllowedUids(0),
            MaxAllowedUids(1),
            MaxAllowedUids(4097),
            BondsMovingAverage(1_000_001),
            AlphaValues(0, 10),
            AlphaValues(11, 10),
            MinBurn(100 * TAO + 1),
            MaxBurn(499_999),
            MinDifficulty(u64::MAX / 4 + 1),
            MaxDifficulty(0),
            RevealPeriodEpochs(0),
            ScalingLawPower(101),
        ];
        for value in invalid {
            assert_noop!(
                SubtensorModule::set_hyperparameter(RuntimeOrigin::root(), NETUID, value),
                Error::<Test>::InvalidHyperparameterValue
            );
        }
        // The edges themselves are fine.
        for value in [
            MaxAllowedUids(2),
            MaxAllowedUids(4096),
            BondsMovingAverage(1_000_000),
            AlphaValues(10, 10),
        ] {
            assert_ok!(SubtensorModule::set_hyperparameter(RuntimeOrigin::root(), NETUID, value));
        }
    });
}

#[test]
fn global_parameters_are_root_only() {
    build_and_execute(|| {
        setup();
        let value = GlobalParameter::SubnetOwnerCut(100);
        assert_noop!(
            SubtensorModule::set_global_parameter(RuntimeOrigin::signed(OWNER), value.clone()),
            DispatchError::BadOrigin
        );
        assert_ok!(SubtensorModule::set_global_parameter(RuntimeOrigin::root(), value.clone()));
        assert_last_event(Event::GlobalParameterSet { value });
        assert_eq!(SubnetOwnerCut::<Test>::get(), 100);

        use GlobalParameter as G;
        for value in [
            G::SubnetLimit(5),
            G::NetworkMinLockCost(6),
            G::NetworkLockReductionInterval(7),
            G::NetworkRateLimit(8),
            G::StakeThreshold(9),
            G::MaxDelegateTake(10),
            G::ServingAllowsLoopback(true),
        ] {
            assert_ok!(SubtensorModule::set_global_parameter(RuntimeOrigin::root(), value.clone()));
            assert_last_event(Event::GlobalParameterSet { value });
        }
        assert_eq!(SubnetLimit::<Test>::get(), 5);
        assert_eq!(NetworkMinLockCost::<Test>::get(), 6);
        assert_eq!(NetworkLockReductionInterval::<Test>::get(), 7);
        assert_eq!(NetworkRateLimit::<Test>::get(), 8);
        assert_eq!(StakeThreshold::<Test>::get(), 9);
        assert_eq!(MaxDelegateTake::<Test>::get(), 10);
        assert!(ServingAllowsLoopback::<Test>::get());
    });
}

#[test]
fn global_parameters_are_checked() {
    build_and_execute(|| {
        setup();
        add_subnet(7, 8);
        assert_noop!(
            SubtensorModule::set_global_parameter(
                RuntimeOrigin::root(),
                GlobalParameter::SubnetLimit(1)
            ),
            Error::<Test>::InvalidHyperparameterValue
        );
        assert_ok!(SubtensorModule::set_global_parameter(
            RuntimeOrigin::root(),
            GlobalParameter::SubnetLimit(2)
        ));
        assert_noop!(
            SubtensorModule::set_global_parameter(
                RuntimeOrigin::root(),
                GlobalParameter::NetworkLockReductionInterval(0)
            ),
            Error::<Test>::InvalidHyperparameterValue
        );
    });
}
