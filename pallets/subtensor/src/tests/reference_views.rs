//! The reference chain's mechanism-era calls and storage views ([`crate::compat`]):
//! `set_mechanism_weights`, `commit_mechanism_weights` and `reveal_mechanism_weights` on
//! mechanism 0, `add_stake_limit` and `remove_stake_limit` at alpha's constant price, and the
//! storage items clients read (`MechanismCountCurrent`, `SubnetEmaTaoFlow`,
//! `BlocksSinceLastStep`, `OwnedHotkeys`, `IdentitiesV2`, `RootClaimType`).

use super::mock::*;
use crate::subnets::weights::commit_hash;
use crate::*;
use frame_support::{assert_noop, assert_ok};
use substrate_fixed::types::I64F64;

const OWNER: AccountId = 1;
const OWNER_HOTKEY: AccountId = 2;
const COLDKEY: AccountId = 3;
const VALIDATOR: AccountId = 10;
const MINER: AccountId = 20;
const NOMINATOR: AccountId = 30;
const NETUID: NetUid = NetUid(1);
const SALT: [u16; 3] = [7, 8, 9];
/// Alpha's price in rao: 1 TAO.
const PRICE: u64 = TAO;

/// Subnet 1 (tempo 10) with the owner (UID 0), a staked validator (UID 1) and a miner (UID 2),
/// at block 10, after the epoch of block 9 gave the validator its permit.
fn setup() {
    assert_eq!(add_subnet(OWNER, OWNER_HOTKEY), NETUID);
    set_param(NETUID, Hyperparameter::Tempo(10));
    assert_eq!(register(NETUID, COLDKEY, VALIDATOR), 1);
    assert_eq!(register(NETUID, COLDKEY, MINER), 2);
    stake(COLDKEY, VALIDATOR, 10 * TAO);
    run_to_block(10);
    assert!(ValidatorPermit::<Test>::get(NETUID)[1]);
}

fn row(uid: u16) -> Vec<(u16, u16)> {
    Weights::<Test>::get(NETUID, uid).into_inner()
}

// ---------------------------------------------------------------------------------------------
// Mechanism weights
// ---------------------------------------------------------------------------------------------

#[test]
fn set_mechanism_weights_on_mechanism_zero_sets_the_weights() {
    build_and_execute(|| {
        setup();
        assert_ok!(SubtensorModule::set_mechanism_weights(
            RuntimeOrigin::signed(VALIDATOR),
            NETUID,
            0,
            vec![2, 0],
            vec![100, 50],
            0
        ));
        assert_last_event(Event::WeightsSet { netuid: NETUID, uid: 1 });
        assert_eq!(row(1), vec![(0, 32768), (2, 65535)]);
        assert_eq!(LastUpdate::<Test>::get(NETUID)[1], 10);
        // It is `set_weights`: the same rate limit applies to both.
        assert_noop!(
            SubtensorModule::set_weights(
                RuntimeOrigin::signed(VALIDATOR),
                NETUID,
                vec![2],
                vec![1],
                0
            ),
            Error::<Test>::SettingWeightsTooFast
        );
    });
}

#[test]
fn set_mechanism_weights_keeps_every_check_of_set_weights() {
    build_and_execute(|| {
        setup();
        let call = |who, netuid, dests: Vec<u16>| {
            SubtensorModule::set_mechanism_weights(
                RuntimeOrigin::signed(who),
                netuid,
                0,
                dests.clone(),
                vec![1; dests.len()],
                0,
            )
        };
        assert_noop!(call(VALIDATOR, NetUid(9), vec![2]), Error::<Test>::SubnetNotExists);
        assert_noop!(call(99, NETUID, vec![2]), Error::<Test>::HotKeyNotRegisteredInSubNet);
        assert_noop!(call(MINER, NETUID, vec![1]), Error::<Test>::NeuronNoValidatorPermit);
        set_param(NETUID, Hyperparameter::CommitRevealEnabled(true));
        assert_noop!(call(VALIDATOR, NETUID, vec![2]), Error::<Test>::CommitRevealEnabled);
    });
}

#[test]
fn mechanism_calls_refuse_every_mechanism_but_zero() {
    build_and_execute(|| {
        setup();
        for mecid in [1u8, 2, u8::MAX] {
            assert_noop!(
                SubtensorModule::set_mechanism_weights(
                    RuntimeOrigin::signed(VALIDATOR),
                    NETUID,
                    mecid,
                    vec![2],
                    vec![1],
                    0
                ),
                Error::<Test>::MechanismDoesNotExist
            );
        }
        set_param(NETUID, Hyperparameter::CommitRevealEnabled(true));
        let hash = commit_hash(&VALIDATOR, NETUID, &[2], &[1], &SALT, 0);
        assert_noop!(
            SubtensorModule::commit_mechanism_weights(
                RuntimeOrigin::signed(VALIDATOR),
                NETUID,
                1,
                hash
            ),
            Error::<Test>::MechanismDoesNotExist
        );
        assert_ok!(SubtensorModule::commit_weights(RuntimeOrigin::signed(VALIDATOR), NETUID, hash));
        run_to_block(19);
        assert_noop!(
            SubtensorModule::reveal_mechanism_weights(
                RuntimeOrigin::signed(VALIDATOR),
                NETUID,
                1,
                vec![2],
                vec![1],
                SALT.to_vec(),
                0
            ),
            Error::<Test>::MechanismDoesNotExist
        );
        // Nothing was revealed.
        assert_eq!(WeightCommits::<Test>::get(NETUID, VALIDATOR).len(), 1);
    });
}

#[test]
fn mechanism_commit_reveal_uses_the_classic_commitment() {
    build_and_execute(|| {
        setup();
        set_param(NETUID, Hyperparameter::CommitRevealEnabled(true));
        // The SDK's hash for mechanism 0: netuid `0 * 4096 + 1`, i.e. the classic hash.
        let hash = commit_hash(&VALIDATOR, NETUID, &[2], &[5], &SALT, 0);
        assert_ok!(SubtensorModule::commit_mechanism_weights(
            RuntimeOrigin::signed(VALIDATOR),
            NETUID,
            0,
            hash
        ));
        assert_last_event(Event::WeightsCommitted { netuid: NETUID, hotkey: VALIDATOR, hash });
        assert_eq!(
            WeightCommits::<Test>::get(NETUID, VALIDATOR).into_inner(),
            vec![WeightCommit { hash, commit_block: 10, reveal_epoch: 2 }]
        );
        run_to_block(19);
        System::reset_events();
        assert_ok!(SubtensorModule::reveal_mechanism_weights(
            RuntimeOrigin::signed(VALIDATOR),
            NETUID,
            0,
            vec![2],
            vec![5],
            SALT.to_vec(),
            0
        ));
        assert_eq!(
            events(),
            vec![
                Event::WeightsSet { netuid: NETUID, uid: 1 },
                Event::WeightsRevealed { netuid: NETUID, hotkey: VALIDATOR, hash },
            ]
        );
        assert_eq!(row(1), vec![(2, 65535)]);
        assert!(!WeightCommits::<Test>::contains_key(NETUID, VALIDATOR));
    });
}

#[test]
fn classic_and_mechanism_commit_reveal_mix() {
    build_and_execute(|| {
        setup();
        set_param(NETUID, Hyperparameter::CommitRevealEnabled(true));
        let hash = commit_hash(&VALIDATOR, NETUID, &[2], &[5], &SALT, 0);
        assert_ok!(SubtensorModule::commit_weights(RuntimeOrigin::signed(VALIDATOR), NETUID, hash));
        run_to_block(19);
        assert_ok!(SubtensorModule::reveal_mechanism_weights(
            RuntimeOrigin::signed(VALIDATOR),
            NETUID,
            0,
            vec![2],
            vec![5],
            SALT.to_vec(),
            0
        ));
        assert_eq!(row(1), vec![(2, 65535)]);
        // A mechanism commit revealed by the classic call.
        let hash = commit_hash(&VALIDATOR, NETUID, &[0], &[5], &SALT, 0);
        assert_ok!(SubtensorModule::commit_mechanism_weights(
            RuntimeOrigin::signed(VALIDATOR),
            NETUID,
            0,
            hash
        ));
        run_to_block(29);
        assert_ok!(SubtensorModule::reveal_weights(
            RuntimeOrigin::signed(VALIDATOR),
            NETUID,
            vec![0],
            vec![5],
            SALT.to_vec(),
            0
        ));
        assert_eq!(row(1), vec![(0, 65535)]);
    });
}

// ---------------------------------------------------------------------------------------------
// Limit orders at alpha's constant price
// ---------------------------------------------------------------------------------------------

fn add_limit(amount: u64, limit: u64, partial: bool) -> frame_support::dispatch::DispatchResult {
    SubtensorModule::add_stake_limit(
        RuntimeOrigin::signed(NOMINATOR),
        VALIDATOR,
        NETUID,
        amount,
        limit,
        partial,
    )
}

fn remove_limit(amount: u64, limit: u64, partial: bool) -> frame_support::dispatch::DispatchResult {
    SubtensorModule::remove_stake_limit(
        RuntimeOrigin::signed(NOMINATOR),
        VALIDATOR,
        NETUID,
        amount,
        limit,
        partial,
    )
}

#[test]
fn add_stake_limit_stakes_everything_when_the_limit_allows_the_price() {
    build_and_execute(|| {
        setup();
        fund(NOMINATOR, 10 * TAO);
        let total = TotalHotkeyStake::<Test>::get(VALIDATOR);
        // At the price, and above it (what btcli sends: the price plus its tolerance).
        assert_ok!(add_limit(2 * TAO, PRICE, false));
        assert_last_event(Event::StakeAdded {
            coldkey: NOMINATOR,
            hotkey: VALIDATOR,
            amount: 2 * TAO,
        });
        assert_ok!(add_limit(3 * TAO, PRICE + PRICE / 200, true));
        assert_eq!(Stake::<Test>::get(VALIDATOR, NOMINATOR), 5 * TAO);
        assert_eq!(TotalHotkeyStake::<Test>::get(VALIDATOR), total + 5 * TAO);
        assert_eq!(balance(NOMINATOR), 5 * TAO);
    });
}

#[test]
fn add_stake_limit_below_the_price_stakes_nothing() {
    build_and_execute(|| {
        setup();
        fund(NOMINATOR, 10 * TAO);
        // A constant price fills all or nothing, partial or not.
        for partial in [false, true] {
            assert_noop!(add_limit(2 * TAO, PRICE - 1, partial), Error::<Test>::SlippageTooHigh);
            assert_noop!(add_limit(2 * TAO, 0, partial), Error::<Test>::SlippageTooHigh);
        }
        assert_eq!(balance(NOMINATOR), 10 * TAO);
    });
}

#[test]
fn add_stake_limit_needs_an_existing_subnet_and_keeps_the_add_stake_checks() {
    build_and_execute(|| {
        setup();
        fund(NOMINATOR, TAO);
        assert_noop!(
            SubtensorModule::add_stake_limit(
                RuntimeOrigin::signed(NOMINATOR),
                VALIDATOR,
                NetUid(9),
                TAO,
                PRICE,
                false
            ),
            Error::<Test>::SubnetNotExists
        );
        assert_noop!(add_limit(0, PRICE, false), Error::<Test>::StakeAmountZero);
        assert_noop!(add_limit(2 * TAO, PRICE, false), Error::<Test>::NotEnoughBalanceToStake);
        assert_noop!(
            SubtensorModule::add_stake_limit(
                RuntimeOrigin::signed(NOMINATOR),
                99,
                NETUID,
                TAO,
                PRICE,
                false
            ),
            Error::<Test>::HotKeyAccountNotExists
        );
    });
}

#[test]
fn remove_stake_limit_unstakes_everything_when_the_limit_allows_the_price() {
    build_and_execute(|| {
        setup();
        stake(NOMINATOR, VALIDATOR, 5 * TAO);
        assert_ok!(remove_limit(TAO, PRICE, false));
        assert_last_event(Event::StakeRemoved {
            coldkey: NOMINATOR,
            hotkey: VALIDATOR,
            amount: TAO,
        });
        // btcli sends the price less its tolerance.
        assert_ok!(remove_limit(2 * TAO, PRICE - PRICE / 200, true));
        assert_ok!(remove_limit(TAO, 0, false));
        assert_eq!(Stake::<Test>::get(VALIDATOR, NOMINATOR), TAO);
        assert_eq!(balance(NOMINATOR), 4 * TAO);
    });
}

#[test]
fn remove_stake_limit_above_the_price_unstakes_nothing() {
    build_and_execute(|| {
        setup();
        stake(NOMINATOR, VALIDATOR, 5 * TAO);
        for partial in [false, true] {
            assert_noop!(remove_limit(TAO, PRICE + 1, partial), Error::<Test>::SlippageTooHigh);
        }
        assert_noop!(
            SubtensorModule::remove_stake_limit(
                RuntimeOrigin::signed(NOMINATOR),
                VALIDATOR,
                NetUid(9),
                TAO,
                PRICE,
                false
            ),
            Error::<Test>::SubnetNotExists
        );
        assert_noop!(remove_limit(6 * TAO, PRICE, false), Error::<Test>::NotEnoughStakeToWithdraw);
        assert_eq!(Stake::<Test>::get(VALIDATOR, NOMINATOR), 5 * TAO);
    });
}

// ---------------------------------------------------------------------------------------------
// Storage views
// ---------------------------------------------------------------------------------------------

#[test]
fn subnet_views_are_written_at_creation_kept_by_the_block_step_and_removed_at_dissolve() {
    build_and_execute(|| {
        run_to_block(4);
        let netuid = add_subnet(OWNER, OWNER_HOTKEY);
        assert_eq!(MechanismCountCurrent::<Test>::get(netuid), 1);
        assert_eq!(SubnetEmaTaoFlow::<Test>::get(netuid), Some((4, I64F64::from_num(0))));
        assert_eq!(BlocksSinceLastStep::<Test>::get(netuid), 0);
        // Blocks since the last epoch: it runs where (block + 1) % 10 == 0.
        set_param(netuid, Hyperparameter::Tempo(10));
        for block in 5..=21 {
            run_to_block(block);
            let last = LastStepBlock::<Test>::get(netuid);
            assert_eq!(
                last,
                if block < 9 {
                    4
                } else if block < 19 {
                    9
                } else {
                    19
                }
            );
            assert_eq!(BlocksSinceLastStep::<Test>::get(netuid), block - last, "block {block}");
        }
        // What the runtime APIs report agrees.
        let info = SubtensorModule::dynamic_info(netuid).expect("the subnet exists; qed");
        assert_eq!(info.blocks_since_last_step, 2);

        assert_ok!(SubtensorModule::dissolve_network(RuntimeOrigin::root(), netuid));
        assert!(!MechanismCountCurrent::<Test>::contains_key(netuid));
        assert!(!SubnetEmaTaoFlow::<Test>::contains_key(netuid));
        assert!(!BlocksSinceLastStep::<Test>::contains_key(netuid));
        // The read default of a missing subnet is still one mechanism.
        assert_eq!(MechanismCountCurrent::<Test>::get(netuid), 1);
    });
}

#[test]
fn genesis_subnets_have_their_views() {
    ExtBuilder::default().subnet(3, OWNER, OWNER_HOTKEY, 7).build_and_execute(|| {
        let netuid = NetUid(3);
        assert_eq!(MechanismCountCurrent::<Test>::iter().collect::<Vec<_>>(), vec![(netuid, 1)]);
        assert_eq!(SubnetEmaTaoFlow::<Test>::get(netuid), Some((0, I64F64::from_num(0))));
        assert_eq!(BlocksSinceLastStep::<Test>::get(netuid), 0);
        assert_eq!(OwnedHotkeys::<Test>::get(OWNER), vec![OWNER_HOTKEY]);
    });
}

#[test]
fn owned_hotkeys_lists_each_hotkey_once_under_its_owner() {
    build_and_execute(|| {
        let first = add_subnet(OWNER, OWNER_HOTKEY);
        open_registration(first);
        assert_eq!(OwnedHotkeys::<Test>::get(OWNER), vec![OWNER_HOTKEY]);
        register(first, COLDKEY, VALIDATOR);
        register(first, COLDKEY, MINER);
        assert_eq!(OwnedHotkeys::<Test>::get(COLDKEY), vec![VALIDATOR, MINER]);
        // A second registration of an owned hotkey (another subnet) adds nothing.
        let second = add_subnet(OWNER, 5);
        register(second, COLDKEY, VALIDATOR);
        assert_eq!(OwnedHotkeys::<Test>::get(COLDKEY), vec![VALIDATOR, MINER]);
        assert_eq!(OwnedHotkeys::<Test>::get(OWNER), vec![OWNER_HOTKEY, 5]);
        // Ownership outlives registrations: dissolving keeps the list, as it keeps `Owner`.
        assert_ok!(SubtensorModule::dissolve_network(RuntimeOrigin::root(), first));
        assert_eq!(OwnedHotkeys::<Test>::get(COLDKEY), vec![VALIDATOR, MINER]);
        assert_eq!(Owner::<Test>::get(MINER), Some(COLDKEY));
    });
}

#[test]
fn identities_and_root_claims_exist_empty() {
    build_and_execute(|| {
        setup();
        assert_eq!(IdentitiesV2::<Test>::iter().count(), 0);
        assert_eq!(IdentitiesV2::<Test>::get(COLDKEY), None);
        assert_eq!(RootClaimType::<Test>::iter().count(), 0);
        assert_eq!(RootClaimType::<Test>::get(COLDKEY), RootClaimTypeEnum::Swap);
    });
}
