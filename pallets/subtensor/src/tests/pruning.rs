//! Slot replacement on a full subnet: the lowest pruning score past its immunity goes (ties:
//! earliest registration, then lowest UID), the owner hotkey never does, and immune UIDs only
//! when no other is left.

use super::mock::*;
use crate::*;
use frame_support::{assert_ok, BoundedVec};

const OWNER: AccountId = 1;
const OWNER_HOTKEY: AccountId = 2;
const COLDKEY: AccountId = 3;

fn registered_subnet() -> NetUid {
    let netuid = add_subnet(OWNER, OWNER_HOTKEY);
    set_param(netuid, Hyperparameter::Tempo(1000));
    netuid
}

fn set_pruning_scores(netuid: NetUid, scores: &[u16]) {
    PruningScores::<Test>::insert(netuid, BoundedVec::truncate_from(scores.to_vec()));
}

/// A subnet of 4 UIDs: the owner, 10 (block 1), 11 and 12 (block 2), with `immunity`.
fn full_subnet(immunity: u16) -> NetUid {
    let netuid = registered_subnet();
    assert_ok!(SubtensorModule::set_hyperparameter(
        RuntimeOrigin::signed(OWNER),
        netuid,
        Hyperparameter::MaxAllowedUids(4)
    ));
    set_param(netuid, Hyperparameter::ImmunityPeriod(immunity));
    register(netuid, COLDKEY, 10);
    run_to_block(2);
    register(netuid, COLDKEY, 11);
    register(netuid, COLDKEY, 12);
    netuid
}

#[test]
fn a_full_subnet_replaces_the_lowest_pruning_score() {
    build_and_execute(|| {
        let netuid = full_subnet(5);
        run_to_block(20);
        set_pruning_scores(netuid, &[0, 50, 10, 30]);
        Weights::<Test>::insert(netuid, 2, BoundedVec::truncate_from(vec![(1u16, 65535u16)]));
        Bonds::<Test>::insert(netuid, 2, BoundedVec::truncate_from(vec![(1u16, 100u16)]));
        Axons::<Test>::insert(
            netuid,
            11,
            AxonInfo { block: 3, port: 9, ip_type: 4, ip: 1, ..Default::default() },
        );
        System::reset_events();

        let uid = register(netuid, COLDKEY, 13);

        assert_eq!(uid, 2);
        assert_eq!(
            events(),
            vec![
                Event::NeuronDeregistered { netuid, uid: 2, hotkey: 11 },
                Event::NeuronRegistered { netuid, uid: 2, hotkey: 13 },
            ]
        );
        assert_eq!(SubnetworkN::<Test>::get(netuid), 4);
        assert_eq!(Keys::<Test>::get(netuid, 2), Some(13));
        assert_eq!(Uids::<Test>::get(netuid, 11), None);
        assert!(!IsNetworkMember::<Test>::get(11, netuid));
        assert!(Weights::<Test>::get(netuid, 2).is_empty());
        assert!(Bonds::<Test>::get(netuid, 2).is_empty());
        assert_eq!(Axons::<Test>::get(netuid, 11), None);
        assert_eq!(BlockAtRegistration::<Test>::get(netuid, 2), 20);
        assert_eq!(PruningScores::<Test>::get(netuid).to_vec(), vec![0, 50, 0, 30]);
        // The owner hotkey (score 0) is never the one replaced.
        assert_eq!(Keys::<Test>::get(netuid, 0), Some(OWNER_HOTKEY));
    });
}

#[test]
fn pruning_ties_go_to_the_earliest_registration_then_the_lowest_uid() {
    build_and_execute(|| {
        let netuid = full_subnet(0);
        run_to_block(5);
        set_pruning_scores(netuid, &[0, 10, 10, 10]);
        assert_eq!(SubtensorModule::neuron_to_prune(netuid), Some(1));
        assert_eq!(register(netuid, COLDKEY, 13), 1);

        // UID 1 now registered last: the earlier registrations (UIDs 2 and 3, same block) go
        // first, the lower UID of them before the other.
        set_pruning_scores(netuid, &[0, 10, 10, 10]);
        assert_eq!(SubtensorModule::neuron_to_prune(netuid), Some(2));
        // A lower score beats an earlier registration.
        set_pruning_scores(netuid, &[0, 9, 10, 10]);
        assert_eq!(SubtensorModule::neuron_to_prune(netuid), Some(1));
        set_pruning_scores(netuid, &[0, 10, 10, 9]);
        assert_eq!(SubtensorModule::neuron_to_prune(netuid), Some(3));
    });
}

#[test]
fn the_owner_hotkey_is_never_pruned() {
    build_and_execute(|| {
        let netuid = registered_subnet();
        set_param(netuid, Hyperparameter::ImmunityPeriod(0));
        set_param(netuid, Hyperparameter::MaxAllowedUids(2));
        register(netuid, COLDKEY, 10);
        run_to_block(3);
        set_pruning_scores(netuid, &[0, u16::MAX]);
        assert_eq!(SubtensorModule::neuron_to_prune(netuid), Some(1));
        assert_eq!(register(netuid, COLDKEY, 11), 1);
        assert_eq!(Keys::<Test>::get(netuid, 0), Some(OWNER_HOTKEY));
    });
}

#[test]
fn immune_neurons_are_pruned_only_when_all_are_immune() {
    build_and_execute(|| {
        let netuid = full_subnet(10);
        // At block 11: UID 1 (block 1) is past its immunity, UIDs 2 and 3 (block 2) are not.
        run_to_block(11);
        set_pruning_scores(netuid, &[0, 50, 1, 2]);
        assert_eq!(SubtensorModule::neuron_to_prune(netuid), Some(1));
        assert_eq!(register(netuid, COLDKEY, 13), 1);
        // Now every UID but the owner's is immune: the lowest score among them goes.
        set_pruning_scores(netuid, &[0, 8, 7, 3]);
        assert_eq!(SubtensorModule::neuron_to_prune(netuid), Some(3));
        assert_eq!(register(netuid, COLDKEY, 14), 3);
        assert_eq!(Uids::<Test>::get(netuid, 12), None);
    });
}
