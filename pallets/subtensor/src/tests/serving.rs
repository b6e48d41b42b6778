//! `serve_axon` and `serve_prometheus`: address checks, the loopback switch and the rate limit.

use super::mock::*;
use crate::*;
use frame_support::{assert_noop, assert_ok, dispatch::DispatchResult};

const HOTKEY: AccountId = 10;
const NETUID: NetUid = NetUid(1);
/// 1.2.3.4
const IPV4: u128 = 0x0102_0304;
/// 2001:db8::1
const IPV6: u128 = 0x2001_0db8_0000_0000_0000_0000_0000_0001;
const IPV4_LOOPBACK: u128 = 0x7f00_0001;

fn setup() {
    assert_eq!(add_subnet(1, 2), NETUID);
    register(NETUID, 3, HOTKEY);
}

fn serve_axon(hotkey: AccountId, ip: u128, port: u16, ip_type: u8) -> DispatchResult {
    SubtensorModule::serve_axon(
        RuntimeOrigin::signed(hotkey),
        NETUID,
        7,
        ip,
        port,
        ip_type,
        4,
        0,
        0,
    )
}

fn serve_prometheus(hotkey: AccountId, ip: u128, port: u16, ip_type: u8) -> DispatchResult {
    SubtensorModule::serve_prometheus(RuntimeOrigin::signed(hotkey), NETUID, 7, ip, port, ip_type)
}

#[test]
fn serve_axon_stores_the_endpoint() {
    build_and_execute(|| {
        setup();
        run_to_block(5);
        assert_ok!(serve_axon(HOTKEY, IPV4, 8091, 4));
        assert_last_event(Event::AxonServed { netuid: NETUID, hotkey: HOTKEY });
        assert_eq!(
            Axons::<Test>::get(NETUID, HOTKEY),
            Some(AxonInfo {
                block: 5,
                version: 7,
                ip: IPV4,
                port: 8091,
                ip_type: 4,
                protocol: 4,
                placeholder1: 0,
                placeholder2: 0
            })
        );
        // IPv6, and the unspecified address (an axon that does not serve) are fine too.
        run_to_block(55);
        assert_ok!(serve_axon(HOTKEY, IPV6, 1, 6));
        run_to_block(105);
        assert_ok!(serve_axon(HOTKEY, 0, 1, 4));
        assert_eq!(Axons::<Test>::get(NETUID, HOTKEY).map(|a| (a.ip, a.block)), Some((0, 105)));
    });
}

#[test]
fn serve_prometheus_stores_the_endpoint() {
    build_and_execute(|| {
        setup();
        run_to_block(5);
        assert_ok!(serve_prometheus(HOTKEY, IPV4, 9090, 4));
        assert_last_event(Event::PrometheusServed { netuid: NETUID, hotkey: HOTKEY });
        assert_eq!(
            Prometheus::<Test>::get(NETUID, HOTKEY),
            Some(PrometheusInfo { block: 5, version: 7, ip: IPV4, port: 9090, ip_type: 4 })
        );
    });
}

#[test]
fn serving_refuses_unknown_ip_types() {
    build_and_execute(|| {
        setup();
        assert_noop!(serve_axon(HOTKEY, IPV4, 1, 5), Error::<Test>::InvalidIpType);
        assert_noop!(serve_prometheus(HOTKEY, IPV4, 1, 0), Error::<Test>::InvalidIpType);
    });
}

#[test]
fn serving_refuses_invalid_addresses() {
    build_and_execute(|| {
        setup();
        // Broadcast and out-of-range IPv4, all-ones IPv6.
        assert_noop!(serve_axon(HOTKEY, 0xffff_ffff, 1, 4), Error::<Test>::InvalidIpAddress);
        assert_noop!(serve_axon(HOTKEY, 1 << 40, 1, 4), Error::<Test>::InvalidIpAddress);
        assert_noop!(serve_axon(HOTKEY, u128::MAX, 1, 6), Error::<Test>::InvalidIpAddress);
        // Loopback, the whole range, in both families.
        assert_noop!(serve_axon(HOTKEY, IPV4_LOOPBACK, 1, 4), Error::<Test>::InvalidIpAddress);
        assert_noop!(serve_axon(HOTKEY, 0x7f00_0002, 1, 4), Error::<Test>::InvalidIpAddress);
        assert_noop!(serve_axon(HOTKEY, 1, 1, 6), Error::<Test>::InvalidIpAddress);
        assert_noop!(serve_axon(HOTKEY, 0xffff_7f00_0001, 1, 6), Error::<Test>::InvalidIpAddress);
        assert_noop!(
            serve_prometheus(HOTKEY, IPV4_LOOPBACK, 1, 4),
            Error::<Test>::InvalidIpAddress
        );
        // Prometheus must name an address.
        assert_noop!(serve_prometheus(HOTKEY, 0, 1, 4), Error::<Test>::InvalidIpAddress);
    });
}

#[test]
fn loopback_is_allowed_when_the_chain_allows_it() {
    ExtBuilder::default().serving_allows_loopback(true).build_and_execute(|| {
        setup();
        assert_ok!(serve_axon(HOTKEY, IPV4_LOOPBACK, 8091, 4));
        assert_ok!(serve_prometheus(HOTKEY, IPV4_LOOPBACK, 9090, 4));
        // Broadcast stays refused.
        run_to_block(100);
        assert_noop!(serve_axon(HOTKEY, 0xffff_ffff, 1, 4), Error::<Test>::InvalidIpAddress);
        // Root can switch it off again.
        assert_ok!(SubtensorModule::set_global_parameter(
            RuntimeOrigin::root(),
            GlobalParameter::ServingAllowsLoopback(false)
        ));
        assert_noop!(serve_axon(HOTKEY, IPV4_LOOPBACK, 8091, 4), Error::<Test>::InvalidIpAddress);
    });
}

#[test]
fn serving_refuses_port_zero() {
    build_and_execute(|| {
        setup();
        assert_noop!(serve_axon(HOTKEY, IPV4, 0, 4), Error::<Test>::InvalidPort);
        assert_noop!(serve_prometheus(HOTKEY, IPV4, 0, 4), Error::<Test>::InvalidPort);
    });
}

#[test]
fn serving_is_rate_limited_per_endpoint() {
    build_and_execute(|| {
        setup();
        assert_ok!(serve_axon(HOTKEY, IPV4, 1, 4));
        run_to_block(50);
        assert_noop!(serve_axon(HOTKEY, IPV4, 2, 4), Error::<Test>::ServingRateLimitExceeded);
        // The Prometheus endpoint has its own clock.
        assert_ok!(serve_prometheus(HOTKEY, IPV4, 2, 4));
        run_to_block(51);
        assert_ok!(serve_axon(HOTKEY, IPV4, 2, 4));
        assert_noop!(serve_prometheus(HOTKEY, IPV4, 3, 4), Error::<Test>::ServingRateLimitExceeded);
        // The owner may change the limit.
        assert_ok!(SubtensorModule::set_hyperparameter(
            RuntimeOrigin::signed(1),
            NETUID,
            Hyperparameter::ServingRateLimit(1)
        ));
        run_to_block(52);
        assert_ok!(serve_axon(HOTKEY, IPV4, 3, 4));
    });
}

#[test]
fn serving_requires_a_registered_hotkey() {
    build_and_execute(|| {
        setup();
        assert_noop!(serve_axon(99, IPV4, 1, 4), Error::<Test>::HotKeyNotRegisteredInSubNet);
        assert_noop!(serve_prometheus(99, IPV4, 1, 4), Error::<Test>::HotKeyNotRegisteredInSubNet);
        assert_noop!(
            SubtensorModule::serve_axon(
                RuntimeOrigin::signed(HOTKEY),
                NetUid(9),
                0,
                IPV4,
                1,
                4,
                0,
                0,
                0
            ),
            Error::<Test>::HotKeyNotRegisteredInSubNet
        );
    });
}
