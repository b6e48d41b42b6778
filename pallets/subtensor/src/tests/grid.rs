//! `set_grid_spec` and `clear_grid_spec`: who may set a subnet's grid spec, what a spec must
//! satisfy, the rate limit, events, and removal with the subnet.

use super::mock::*;
use crate::*;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;
use subtensor_primitives::{GridModelName, MAX_GRID_CONTEXT};

const OWNER: AccountId = 1;
const OWNER_HOTKEY: AccountId = 2;
const STRANGER: AccountId = 3;

fn setup() -> NetUid {
    add_subnet(OWNER, OWNER_HOTKEY)
}

/// A valid spec with digest byte `fill`.
fn spec(fill: u8) -> GridSpec {
    GridSpec {
        model_sha256: [fill; 32],
        sampler_version: 1,
        max_new_tokens: 128,
        max_context: 2048,
        model_name: GridModelName::truncate_from(b"tiny-gpt-v1".to_vec()),
    }
}

fn set_as(
    who: AccountId,
    netuid: NetUid,
    spec: GridSpec,
) -> frame_support::dispatch::DispatchResult {
    SubtensorModule::set_grid_spec(RuntimeOrigin::signed(who), netuid, spec)
}

#[test]
fn the_owner_sets_a_spec_with_its_block_and_an_event() {
    build_and_execute(|| {
        let netuid = setup();
        run_to_block(5);
        assert_eq!(SubtensorModule::grid_spec(netuid), None);

        assert_ok!(set_as(OWNER, netuid, spec(7)));

        let record = GridSpecRecord { spec: spec(7), set_at_block: 5 };
        assert_eq!(GridSpecs::<Test>::get(netuid), Some(record.clone()));
        assert_eq!(SubtensorModule::grid_spec(netuid), Some(record));
        assert_eq!(GridSpecLastSet::<Test>::get(netuid), Some(5));
        assert_last_event(Event::GridSpecSet { netuid, model_sha256: [7; 32], sampler_version: 1 });
    });
}

#[test]
fn only_the_owner_or_root_may_set_or_clear() {
    build_and_execute(|| {
        let netuid = setup();
        assert_noop!(set_as(STRANGER, netuid, spec(1)), Error::<Test>::NotSubnetOwner);
        // The owner's hotkey is not the owner.
        assert_noop!(set_as(OWNER_HOTKEY, netuid, spec(1)), Error::<Test>::NotSubnetOwner);
        assert_noop!(
            SubtensorModule::set_grid_spec(RuntimeOrigin::none(), netuid, spec(1)),
            DispatchError::BadOrigin
        );

        assert_ok!(SubtensorModule::set_grid_spec(RuntimeOrigin::root(), netuid, spec(2)));
        assert_eq!(GridSpecs::<Test>::get(netuid).map(|r| r.spec), Some(spec(2)));
        assert_last_event(Event::GridSpecSet { netuid, model_sha256: [2; 32], sampler_version: 1 });

        assert_noop!(
            SubtensorModule::clear_grid_spec(RuntimeOrigin::signed(STRANGER), netuid),
            Error::<Test>::NotSubnetOwner
        );
        assert_ok!(SubtensorModule::clear_grid_spec(RuntimeOrigin::root(), netuid));
        assert_last_event(Event::GridSpecCleared { netuid });
    });
}

#[test]
fn an_unknown_subnet_has_no_spec() {
    build_and_execute(|| {
        setup();
        for netuid in [NetUid::ROOT, NetUid(9)] {
            assert_noop!(set_as(OWNER, netuid, spec(1)), Error::<Test>::SubnetNotExists);
            assert_noop!(
                SubtensorModule::set_grid_spec(RuntimeOrigin::root(), netuid, spec(1)),
                Error::<Test>::SubnetNotExists
            );
            assert_noop!(
                SubtensorModule::clear_grid_spec(RuntimeOrigin::root(), netuid),
                Error::<Test>::SubnetNotExists
            );
            assert_eq!(SubtensorModule::grid_spec(netuid), None);
        }
    });
}

#[test]
fn invalid_specs_are_refused_by_name() {
    build_and_execute(|| {
        let netuid = setup();
        let cases = [
            (GridSpec { model_sha256: [0; 32], ..spec(1) }, Error::<Test>::GridModelDigestZero),
            (
                GridSpec { sampler_version: 0, ..spec(1) },
                Error::<Test>::GridSamplerVersionUnsupported,
            ),
            (
                GridSpec { sampler_version: 2, ..spec(1) },
                Error::<Test>::GridSamplerVersionUnsupported,
            ),
            (GridSpec { max_new_tokens: 0, ..spec(1) }, Error::<Test>::GridMaxNewTokensZero),
            (
                GridSpec { max_new_tokens: 2048, max_context: 2048, ..spec(1) },
                Error::<Test>::GridContextTooShort,
            ),
            (
                GridSpec { max_context: MAX_GRID_CONTEXT + 1, ..spec(1) },
                Error::<Test>::GridContextTooLong,
            ),
            (
                GridSpec { model_name: GridModelName::truncate_from(vec![0xc3, 0x28]), ..spec(1) },
                Error::<Test>::GridModelNameNotUtf8,
            ),
        ];
        for (bad, error) in cases {
            let error = DispatchError::from(error);
            assert_noop!(set_as(OWNER, netuid, bad.clone()), error);
            // Root is held to the same rules.
            assert_noop!(SubtensorModule::set_grid_spec(RuntimeOrigin::root(), netuid, bad), error);
        }
        // The edges are valid.
        let edge = GridSpec { max_new_tokens: 1, max_context: MAX_GRID_CONTEXT, ..spec(1) };
        assert_ok!(set_as(OWNER, netuid, edge));
    });
}

#[test]
fn the_owner_is_rate_limited_and_root_is_not() {
    build_and_execute(|| {
        let netuid = setup();
        assert_eq!(GridSpecRateLimit::<Test>::get(), 100);
        assert_ok!(set_as(OWNER, netuid, spec(1)));
        run_to_block(100);
        assert_noop!(set_as(OWNER, netuid, spec(2)), Error::<Test>::GridSpecRateLimitExceeded);
        // Clearing is not limited, and does not reset the limit.
        assert_ok!(SubtensorModule::clear_grid_spec(RuntimeOrigin::signed(OWNER), netuid));
        assert_eq!(GridSpecs::<Test>::get(netuid), None);
        assert_noop!(set_as(OWNER, netuid, spec(2)), Error::<Test>::GridSpecRateLimitExceeded);
        // 100 blocks after the set at block 1.
        run_to_block(101);
        assert_ok!(set_as(OWNER, netuid, spec(2)));
        assert_eq!(
            GridSpecs::<Test>::get(netuid),
            Some(GridSpecRecord { spec: spec(2), set_at_block: 101 })
        );
        // Root replaces it at once, and its set restarts the owner's limit.
        assert_ok!(SubtensorModule::set_grid_spec(RuntimeOrigin::root(), netuid, spec(3)));
        run_to_block(150);
        assert_ok!(SubtensorModule::set_grid_spec(RuntimeOrigin::root(), netuid, spec(4)));
        assert_eq!(GridSpecLastSet::<Test>::get(netuid), Some(150));
        run_to_block(249);
        assert_noop!(set_as(OWNER, netuid, spec(5)), Error::<Test>::GridSpecRateLimitExceeded);
        run_to_block(250);
        assert_ok!(set_as(OWNER, netuid, spec(5)));
    });
}

#[test]
fn root_sets_the_rate_limit_as_a_global_parameter() {
    build_and_execute(|| {
        let netuid = setup();
        let value = GlobalParameter::GridSpecRateLimit(0);
        assert_noop!(
            SubtensorModule::set_global_parameter(RuntimeOrigin::signed(OWNER), value.clone()),
            DispatchError::BadOrigin
        );
        assert_ok!(SubtensorModule::set_global_parameter(RuntimeOrigin::root(), value.clone()));
        assert_last_event(Event::GlobalParameterSet { value });
        assert_eq!(GridSpecRateLimit::<Test>::get(), 0);
        // No limit: the owner sets twice in one block.
        assert_ok!(set_as(OWNER, netuid, spec(1)));
        assert_ok!(set_as(OWNER, netuid, spec(2)));
        assert_eq!(GridSpecs::<Test>::get(netuid).map(|r| r.spec), Some(spec(2)));
    });
}

#[test]
fn clear_removes_the_spec_once() {
    build_and_execute(|| {
        let netuid = setup();
        assert_noop!(
            SubtensorModule::clear_grid_spec(RuntimeOrigin::signed(OWNER), netuid),
            Error::<Test>::GridSpecNotSet
        );
        assert_ok!(set_as(OWNER, netuid, spec(1)));
        assert_ok!(SubtensorModule::clear_grid_spec(RuntimeOrigin::signed(OWNER), netuid));
        assert_last_event(Event::GridSpecCleared { netuid });
        assert_eq!(SubtensorModule::grid_spec(netuid), None);
        // The last set is remembered for the rate limit.
        assert_eq!(GridSpecLastSet::<Test>::get(netuid), Some(1));
        assert_noop!(
            SubtensorModule::clear_grid_spec(RuntimeOrigin::signed(OWNER), netuid),
            Error::<Test>::GridSpecNotSet
        );
    });
}

#[test]
fn dissolving_the_subnet_removes_its_spec() {
    build_and_execute(|| {
        let netuid = setup();
        let other = add_subnet(4, 5);
        assert_ok!(set_as(OWNER, netuid, spec(1)));
        assert_ok!(set_as(4, other, spec(2)));
        assert_ok!(SubtensorModule::dissolve_network(RuntimeOrigin::signed(OWNER), netuid));
        // The spec's end is evented as an owner's clear would be, before the removal.
        let tail: Vec<_> = events().into_iter().rev().take(2).collect();
        assert!(
            matches!(tail.first(), Some(Event::NetworkRemoved { netuid: n, .. }) if *n == netuid)
        );
        assert_eq!(tail.get(1), Some(&Event::GridSpecCleared { netuid }));
        assert_eq!(GridSpecs::<Test>::get(netuid), None);
        assert_eq!(GridSpecLastSet::<Test>::get(netuid), None);
        // Other subnets keep theirs.
        assert_eq!(GridSpecs::<Test>::get(other).map(|r| r.spec), Some(spec(2)));
        // A subnet registered again under the netuid starts as an ordinary one, without a
        // rate limit from its predecessor.
        assert_eq!(add_subnet(6, 7), netuid);
        assert_eq!(SubtensorModule::grid_spec(netuid), None);
        assert_ok!(set_as(6, netuid, spec(3)));
    });
}

#[test]
fn the_invariants_catch_a_stray_or_invalid_spec() {
    build_and_execute(|| {
        let netuid = setup();
        assert_ok!(set_as(OWNER, netuid, spec(1)));
        assert_ok!(SubtensorModule::do_try_state());
        let stray = GridSpecRecord { spec: spec(1), set_at_block: 1 };
        GridSpecs::<Test>::insert(NetUid(9), stray);
        assert!(SubtensorModule::do_try_state().is_err());
        GridSpecs::<Test>::remove(NetUid(9));
        let invalid =
            GridSpecRecord { spec: GridSpec { max_new_tokens: 0, ..spec(1) }, set_at_block: 1 };
        GridSpecs::<Test>::insert(netuid, invalid);
        assert!(SubtensorModule::do_try_state().is_err());
        GridSpecs::<Test>::insert(netuid, GridSpecRecord { spec: spec(1), set_at_block: 1 });
    });
}
