//! `set_weights` and its checks, and commit-reveal (`commit_weights`, `reveal_weights`).

use super::mock::*;
use crate::subnets::weights::commit_hash;
use crate::*;
use frame_support::{assert_noop, assert_ok};
use sp_core::H256;

const OWNER: AccountId = 1;
const OWNER_HOTKEY: AccountId = 2;
const VALIDATOR: AccountId = 10;
const MINER: AccountId = 20;
const MINER_2: AccountId = 21;
const NETUID: NetUid = NetUid(1);

/// Subnet 1 (tempo 10) with the owner (UID 0), a staked validator (UID 1) and two miners
/// (UIDs 2, 3), at block 10, after the epoch of block 9 gave the validator its permit.
fn setup() {
    setup_without_epoch();
    run_to_block(10);
    assert!(ValidatorPermit::<Test>::get(NETUID)[1]);
}

/// As [`setup`], still at block 1: no permits yet.
fn setup_without_epoch() {
    assert_eq!(add_subnet(OWNER, OWNER_HOTKEY), NETUID);
    set_param(NETUID, Hyperparameter::Tempo(10));
    assert_eq!(register(NETUID, 3, VALIDATOR), 1);
    assert_eq!(register(NETUID, 4, MINER), 2);
    assert_eq!(register(NETUID, 4, MINER_2), 3);
    stake(3, VALIDATOR, 10 * TAO);
}

fn set_weights(
    hotkey: AccountId,
    uids: Vec<u16>,
    values: Vec<u16>,
) -> frame_support::dispatch::DispatchResult {
    SubtensorModule::set_weights(RuntimeOrigin::signed(hotkey), NETUID, uids, values, 0)
}

fn owner_sets(value: Hyperparameter) {
    assert_ok!(SubtensorModule::set_hyperparameter(RuntimeOrigin::signed(OWNER), NETUID, value));
}

fn row(uid: u16) -> Vec<(u16, u16)> {
    Weights::<Test>::get(NETUID, uid).into_inner()
}

#[test]
fn set_weights_stores_the_row_sorted_and_max_upscaled() {
    build_and_execute(|| {
        setup();
        assert_ok!(set_weights(VALIDATOR, vec![3, 2], vec![50, 100]));
        assert_last_event(Event::WeightsSet { netuid: NETUID, uid: 1 });
        assert_eq!(row(1), vec![(2, 65535), (3, 32768)]);
        assert_eq!(LastUpdate::<Test>::get(NETUID)[1], 10);
    });
}

#[test]
fn set_weights_checks_lengths_subnet_and_registration() {
    build_and_execute(|| {
        setup();
        assert_noop!(
            set_weights(VALIDATOR, vec![2, 3], vec![1]),
            Error::<Test>::WeightVecNotEqualSize
        );
        assert_noop!(
            SubtensorModule::set_weights(
                RuntimeOrigin::signed(VALIDATOR),
                NetUid(9),
                vec![2],
                vec![1],
                0
            ),
            Error::<Test>::SubnetNotExists
        );
        assert_noop!(
            set_weights(VALIDATOR, vec![0, 1, 2, 3, 4], vec![1; 5]),
            Error::<Test>::UidsLengthExceedUidsInSubNet
        );
        assert_noop!(set_weights(99, vec![2], vec![1]), Error::<Test>::HotKeyNotRegisteredInSubNet);
    });
}

#[test]
fn set_weights_requires_the_stake_threshold_except_for_the_owner() {
    build_and_execute(|| {
        setup();
        assert_ok!(SubtensorModule::set_global_parameter(
            RuntimeOrigin::root(),
            GlobalParameter::StakeThreshold(100 * TAO)
        ));
        assert_noop!(
            set_weights(VALIDATOR, vec![2], vec![1]),
            Error::<Test>::NotEnoughStakeToSetWeights
        );
        assert_eq!(TotalHotkeyStake::<Test>::get(OWNER_HOTKEY), 0);
        assert_ok!(set_weights(OWNER_HOTKEY, vec![2], vec![1]));
    });
}

#[test]
fn set_weights_requires_the_version_key() {
    build_and_execute(|| {
        setup();
        owner_sets(Hyperparameter::WeightsVersionKey(5));
        assert_noop!(
            SubtensorModule::set_weights(
                RuntimeOrigin::signed(VALIDATOR),
                NETUID,
                vec![2],
                vec![1],
                4
            ),
            Error::<Test>::IncorrectWeightVersionKey
        );
        assert_ok!(SubtensorModule::set_weights(
            RuntimeOrigin::signed(VALIDATOR),
            NETUID,
            vec![2],
            vec![1],
            5
        ));
    });
}

#[test]
fn set_weights_is_rate_limited() {
    build_and_execute(|| {
        setup();
        set_param(NETUID, Hyperparameter::WeightsSetRateLimit(5));
        assert_ok!(set_weights(VALIDATOR, vec![2], vec![1]));
        run_to_block(14);
        assert_noop!(
            set_weights(VALIDATOR, vec![3], vec![1]),
            Error::<Test>::SettingWeightsTooFast
        );
        run_to_block(15);
        assert_ok!(set_weights(VALIDATOR, vec![3], vec![1]));
        assert_eq!(row(1), vec![(3, 65535)]);
    });
}

#[test]
fn only_permit_holders_weight_others_but_anyone_may_weight_itself() {
    build_and_execute(|| {
        setup();
        assert!(!ValidatorPermit::<Test>::get(NETUID)[2]);
        assert_noop!(set_weights(MINER, vec![3], vec![1]), Error::<Test>::NeuronNoValidatorPermit);
        assert_noop!(
            set_weights(MINER, vec![2, 3], vec![1, 1]),
            Error::<Test>::NeuronNoValidatorPermit
        );
        assert_ok!(set_weights(MINER, vec![2], vec![7]));
        assert_eq!(row(2), vec![(2, 65535)]);
    });
}

#[test]
fn the_subnet_owner_needs_no_permit() {
    build_and_execute(|| {
        // No epoch has run: nobody holds a permit yet.
        setup_without_epoch();
        assert!(ValidatorPermit::<Test>::get(NETUID).iter().all(|p| !p));
        assert_noop!(
            set_weights(VALIDATOR, vec![2], vec![1]),
            Error::<Test>::NeuronNoValidatorPermit
        );
        assert_ok!(set_weights(OWNER_HOTKEY, vec![2, 3], vec![1, 1]));
        assert_eq!(row(0), vec![(2, 65535), (3, 65535)]);
    });
}

#[test]
fn set_weights_refuses_duplicate_and_unknown_uids() {
    build_and_execute(|| {
        setup();
        assert_noop!(set_weights(VALIDATOR, vec![2, 2], vec![1, 1]), Error::<Test>::DuplicateUids);
        assert_noop!(
            set_weights(VALIDATOR, vec![2, 4], vec![1, 1]),
            Error::<Test>::UidVecContainInvalidOne
        );
    });
}

#[test]
fn set_weights_requires_the_minimum_number_of_weights_except_for_self_weight() {
    build_and_execute(|| {
        setup();
        owner_sets(Hyperparameter::MinAllowedWeights(2));
        assert_noop!(set_weights(VALIDATOR, vec![2], vec![1]), Error::<Test>::WeightVecLengthIsLow);
        assert_ok!(set_weights(VALIDATOR, vec![2, 3], vec![1, 1]));
        assert_ok!(set_weights(MINER, vec![2], vec![1]));
        // The minimum is capped at the subnet size.
        owner_sets(Hyperparameter::MinAllowedWeights(100));
        assert_ok!(set_weights(OWNER_HOTKEY, vec![0, 1, 2, 3], vec![1, 1, 1, 1]));
    });
}

#[test]
fn set_weights_enforces_the_max_weight_limit() {
    build_and_execute(|| {
        setup();
        owner_sets(Hyperparameter::MaxWeightsLimit(40_000));
        assert_noop!(
            set_weights(VALIDATOR, vec![2, 3], vec![100, 10]),
            Error::<Test>::MaxWeightExceeded
        );
        assert_ok!(set_weights(VALIDATOR, vec![2, 3], vec![50, 50]));
        // A self-weight is exempt.
        assert_ok!(set_weights(MINER, vec![2], vec![1]));
    });
}

// ---------------------------------------------------------------------------------------------
// Commit-reveal
// ---------------------------------------------------------------------------------------------

const SALT: [u16; 3] = [7, 8, 9];

fn hash_of(uids: &[u16], values: &[u16], salt: &[u16]) -> H256 {
    commit_hash(&VALIDATOR, NETUID, uids, values, salt, 0)
}

fn commit(hash: H256) -> frame_support::dispatch::DispatchResult {
    SubtensorModule::commit_weights(RuntimeOrigin::signed(VALIDATOR), NETUID, hash)
}

fn reveal(
    uids: Vec<u16>,
    values: Vec<u16>,
    salt: &[u16],
) -> frame_support::dispatch::DispatchResult {
    SubtensorModule::reveal_weights(
        RuntimeOrigin::signed(VALIDATOR),
        NETUID,
        uids,
        values,
        salt.to_vec(),
        0,
    )
}

/// [`setup`] with commit-reveal on. Epoch index of block `b` on subnet 1: `(b + 1) / 10`.
fn setup_commit_reveal() {
    setup();
    owner_sets(Hyperparameter::CommitRevealEnabled(true));
}

#[test]
fn committed_weights_are_revealed_in_the_next_epoch() {
    build_and_execute(|| {
        setup_commit_reveal();
        let hash = hash_of(&[2, 3], &[10, 20], &SALT);
        assert_ok!(commit(hash));
        assert_last_event(Event::WeightsCommitted { netuid: NETUID, hotkey: VALIDATOR, hash });
        assert_eq!(
            WeightCommits::<Test>::get(NETUID, VALIDATOR).into_inner(),
            vec![WeightCommit { hash, commit_block: 10, reveal_epoch: 2 }]
        );

        run_to_block(19);
        System::reset_events();
        assert_ok!(reveal(vec![2, 3], vec![10, 20], &SALT));

        assert_eq!(
            events(),
            vec![
                Event::WeightsSet { netuid: NETUID, uid: 1 },
                Event::WeightsRevealed { netuid: NETUID, hotkey: VALIDATOR, hash },
            ]
        );
        assert_eq!(row(1), vec![(2, 32768), (3, 65535)]);
        assert!(!WeightCommits::<Test>::contains_key(NETUID, VALIDATOR));
    });
}

#[test]
fn reveal_fails_before_the_reveal_epoch() {
    build_and_execute(|| {
        setup_commit_reveal();
        assert_ok!(commit(hash_of(&[2], &[1], &SALT)));
        assert_noop!(reveal(vec![2], vec![1], &SALT), Error::<Test>::RevealTooEarly);
        run_to_block(18);
        assert_noop!(reveal(vec![2], vec![1], &SALT), Error::<Test>::RevealTooEarly);
        run_to_block(28);
        assert_ok!(reveal(vec![2], vec![1], &SALT));
    });
}

#[test]
fn reveal_fails_after_the_reveal_epoch() {
    build_and_execute(|| {
        setup_commit_reveal();
        assert_ok!(commit(hash_of(&[2], &[1], &SALT)));
        run_to_block(29);
        assert_noop!(reveal(vec![2], vec![1], &SALT), Error::<Test>::ExpiredWeightCommit);
    });
}

#[test]
fn reveal_must_match_a_commitment() {
    build_and_execute(|| {
        setup_commit_reveal();
        assert_ok!(commit(hash_of(&[2], &[1], &SALT)));
        run_to_block(19);
        assert_noop!(
            reveal(vec![2], vec![1], &[7, 8]),
            Error::<Test>::InvalidRevealCommitHashNotMatch
        );
        assert_noop!(
            reveal(vec![3], vec![1], &SALT),
            Error::<Test>::InvalidRevealCommitHashNotMatch
        );
        assert_noop!(
            SubtensorModule::reveal_weights(
                RuntimeOrigin::signed(VALIDATOR),
                NETUID,
                vec![2],
                vec![1],
                SALT.to_vec(),
                1
            ),
            Error::<Test>::InvalidRevealCommitHashNotMatch
        );
    });
}

#[test]
fn commit_and_reveal_require_commit_reveal() {
    build_and_execute(|| {
        setup();
        assert_noop!(commit(hash_of(&[2], &[1], &SALT)), Error::<Test>::CommitRevealDisabled);
        assert_noop!(reveal(vec![2], vec![1], &SALT), Error::<Test>::CommitRevealDisabled);
    });
}

#[test]
fn set_weights_is_refused_under_commit_reveal() {
    build_and_execute(|| {
        setup_commit_reveal();
        assert_noop!(set_weights(VALIDATOR, vec![2], vec![1]), Error::<Test>::CommitRevealEnabled);
    });
}

#[test]
fn commit_requires_a_registered_hotkey() {
    build_and_execute(|| {
        setup_commit_reveal();
        assert_noop!(
            SubtensorModule::commit_weights(RuntimeOrigin::signed(99), NETUID, H256::zero()),
            Error::<Test>::HotKeyNotRegisteredInSubNet
        );
    });
}

#[test]
fn unrevealed_commits_are_capped_until_they_expire() {
    build_and_execute(|| {
        setup_commit_reveal();
        for i in 0..MAX_UNREVEALED_COMMITS {
            assert_ok!(commit(H256::from_low_u64_be(u64::from(i))));
        }
        assert_noop!(commit(H256::repeat_byte(0xff)), Error::<Test>::TooManyUnrevealedCommits);
        // Past their reveal epoch (2) the old commitments are dropped.
        run_to_block(29);
        assert_ok!(commit(H256::repeat_byte(0xff)));
        assert_eq!(WeightCommits::<Test>::get(NETUID, VALIDATOR).len(), 1);
    });
}

#[test]
fn revealing_one_commitment_keeps_the_others() {
    build_and_execute(|| {
        setup_commit_reveal();
        assert_ok!(commit(hash_of(&[2], &[1], &SALT)));
        assert_ok!(commit(hash_of(&[3], &[1], &SALT)));
        run_to_block(19);
        assert_ok!(reveal(vec![3], vec![1], &SALT));
        assert_eq!(row(1), vec![(3, 65535)]);
        assert_eq!(WeightCommits::<Test>::get(NETUID, VALIDATOR).len(), 1);
        assert_ok!(reveal(vec![2], vec![1], &SALT));
        assert_eq!(row(1), vec![(2, 65535)]);
    });
}

#[test]
fn a_recommitted_hash_is_revealed_from_its_live_commitment() {
    build_and_execute(|| {
        setup_commit_reveal();
        let hash = hash_of(&[2], &[1], &SALT);
        // Epoch 1: commit, to reveal in epoch 2 ...
        assert_ok!(commit(hash));
        // ... which passes unrevealed; the same weights are committed again in epoch 2.
        run_to_block(19);
        assert_ok!(commit(hash));
        assert_eq!(WeightCommits::<Test>::get(NETUID, VALIDATOR).len(), 2);
        // In epoch 3 the first commitment has expired, but the second is due.
        run_to_block(29);
        assert_ok!(reveal(vec![2], vec![1], &SALT));
        assert_eq!(row(1), vec![(2, 65535)]);
        assert_last_event(Event::WeightsRevealed { netuid: NETUID, hotkey: VALIDATOR, hash });
        assert!(!WeightCommits::<Test>::contains_key(NETUID, VALIDATOR));
        // Nothing is left to reveal.
        assert_noop!(
            reveal(vec![2], vec![1], &SALT),
            Error::<Test>::InvalidRevealCommitHashNotMatch
        );
    });
}
