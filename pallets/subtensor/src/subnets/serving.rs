//! Serving: neurons publish the axon and Prometheus endpoints they serve on a subnet.
//!
//! Addresses follow the reference chain's rules (IPv4 or IPv6, non-zero port, no broadcast),
//! and loopback addresses are refused unless [`ServingAllowsLoopback`] is set, which dev and
//! local chains do so that every neuron can run on one machine.

use crate::*;
use frame_support::{ensure, pallet_prelude::DispatchResult};
use subtensor_primitives::axon::{
    is_loopback_or_unspecified, is_valid_ip_address, is_valid_ip_type,
};

impl<T: Config> Pallet<T> {
    /// Check an endpoint's address, port and rate limit against the hotkey's previous one.
    fn check_endpoint(
        hotkey: &T::AccountId,
        netuid: NetUid,
        ip_type: u8,
        ip: u128,
        port: u16,
        allow_zero: bool,
        previous_block: Option<u64>,
    ) -> Result<u64, sp_runtime::DispatchError> {
        ensure!(Uids::<T>::contains_key(netuid, hotkey), Error::<T>::HotKeyNotRegisteredInSubNet);
        ensure!(is_valid_ip_type(ip_type), Error::<T>::InvalidIpType);
        let allow_loopback = ServingAllowsLoopback::<T>::get();
        ensure!(
            is_valid_ip_address(ip_type, ip, allow_zero, allow_loopback),
            Error::<T>::InvalidIpAddress
        );
        ensure!(
            allow_loopback || ip == 0 || !is_loopback_or_unspecified(ip_type, ip),
            Error::<T>::InvalidIpAddress
        );
        ensure!(port != 0, Error::<T>::InvalidPort);
        let now = Self::current_block();
        if let Some(previous) = previous_block {
            ensure!(
                now.saturating_sub(previous) >= ServingRateLimit::<T>::get(netuid),
                Error::<T>::ServingRateLimitExceeded
            );
        }
        Ok(now)
    }

    /// Whether `serve_axon` by `hotkey` would succeed now (pool-time validation): address,
    /// port, registration and the serving rate limit.
    pub fn validate_serve_axon(
        hotkey: &T::AccountId,
        netuid: NetUid,
        ip_type: u8,
        ip: u128,
        port: u16,
    ) -> DispatchResult {
        let previous = Axons::<T>::get(netuid, hotkey).map(|a| a.block);
        Self::check_endpoint(hotkey, netuid, ip_type, ip, port, true, previous).map(|_| ())
    }

    /// Whether `serve_prometheus` by `hotkey` would succeed now (pool-time validation).
    pub fn validate_serve_prometheus(
        hotkey: &T::AccountId,
        netuid: NetUid,
        ip_type: u8,
        ip: u128,
        port: u16,
    ) -> DispatchResult {
        let previous = Prometheus::<T>::get(netuid, hotkey).map(|p| p.block);
        Self::check_endpoint(hotkey, netuid, ip_type, ip, port, false, previous).map(|_| ())
    }

    /// `serve_axon` for `hotkey`.
    pub fn do_serve_axon(
        hotkey: &T::AccountId,
        netuid: NetUid,
        mut axon: AxonInfo,
    ) -> DispatchResult {
        let previous = Axons::<T>::get(netuid, hotkey).map(|a| a.block);
        axon.block =
            Self::check_endpoint(hotkey, netuid, axon.ip_type, axon.ip, axon.port, true, previous)?;
        Axons::<T>::insert(netuid, hotkey, axon);
        Self::deposit_event(Event::AxonServed { netuid, hotkey: hotkey.clone() });
        Ok(())
    }

    /// `serve_prometheus` for `hotkey`.
    pub fn do_serve_prometheus(
        hotkey: &T::AccountId,
        netuid: NetUid,
        mut info: PrometheusInfo,
    ) -> DispatchResult {
        let previous = Prometheus::<T>::get(netuid, hotkey).map(|p| p.block);
        info.block = Self::check_endpoint(
            hotkey,
            netuid,
            info.ip_type,
            info.ip,
            info.port,
            false,
            previous,
        )?;
        Prometheus::<T>::insert(netuid, hotkey, info);
        Self::deposit_event(Event::PrometheusServed { netuid, hotkey: hotkey.clone() });
        Ok(())
    }
}
