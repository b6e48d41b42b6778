//! Endpoints a neuron serves: [`AxonInfo`] (its axon) and [`PrometheusInfo`] (its metrics).
//!
//! Both are stored per `(netuid, hotkey)` by the pallet and embedded in [`crate::NeuronInfo`], with
//! the reference chain's layout. An address is a `u128` plus an `ip_type` of 4 or 6: IPv4 sits in
//! the low 32 bits (`127.0.0.1` is `0x7f00_0001`), IPv6 uses all 128 bits, both as the big-endian
//! integer of the address (what the Python SDK's `net.ip_to_int` produces).
//!
//! The validation helpers mirror the reference's `is_valid_ip_type` / `is_valid_ip_address`, with
//! one addition: a flag that lets dev chains accept loopback addresses.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use scale_info::TypeInfo;

/// `ip_type` of an IPv4 address.
pub const IP_TYPE_V4: u8 = 4;
/// `ip_type` of an IPv6 address.
pub const IP_TYPE_V6: u8 = 6;

/// IPv4 loopback (`127.0.0.1`) as the reference encodes it.
const IPV4_LOCALHOST: u128 = 0x7f00_0001;
/// IPv6 loopback (`::1`).
const IPV6_LOCALHOST: u128 = 1;

/// The axon endpoint a hotkey serves on a subnet (SCALE: 34 bytes, fields in this order).
#[derive(
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
    Clone,
    PartialEq,
    Eq,
    Debug,
    Default,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct AxonInfo {
    /// Block at which the axon was last served (0: never served).
    pub block: u64,
    /// Version of the neuron software (the SDK's `version_as_int`).
    pub version: u32,
    /// Address as an integer: IPv4 in the low 32 bits, or a full IPv6 address.
    pub ip: u128,
    /// TCP port.
    pub port: u16,
    /// 4 for IPv4, 6 for IPv6 (0 when never served).
    pub ip_type: u8,
    /// Transport protocol tag chosen by the neuron (the SDK sends 4); not interpreted on chain.
    pub protocol: u8,
    /// Reserved; stored as sent.
    pub placeholder1: u8,
    /// Reserved; stored as sent.
    pub placeholder2: u8,
}

/// The Prometheus metrics endpoint a hotkey serves on a subnet (SCALE: 31 bytes).
#[derive(
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
    Clone,
    PartialEq,
    Eq,
    Debug,
    Default,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct PrometheusInfo {
    /// Block at which the endpoint was last served (0: never served).
    pub block: u64,
    /// Version of the neuron software.
    pub version: u32,
    /// Address as an integer: IPv4 in the low 32 bits, or a full IPv6 address.
    pub ip: u128,
    /// TCP port.
    pub port: u16,
    /// 4 for IPv4, 6 for IPv6 (0 when never served).
    pub ip_type: u8,
}

impl AxonInfo {
    /// An axon at `ip:port` with `ip_type` set from the address; block, version, protocol and
    /// placeholders are zero.
    pub fn from_ip(ip: IpAddr, port: u16) -> Self {
        let (ip, ip_type) = ip_to_u128(ip);
        AxonInfo { ip, port, ip_type, ..Default::default() }
    }

    /// The address, or `None` if `ip_type` is not 4/6 or an IPv4 value exceeds 32 bits.
    pub fn ip_addr(&self) -> Option<IpAddr> {
        ip_from_u128(self.ip_type, self.ip)
    }

    /// The address and port, as [`AxonInfo::ip_addr`].
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        self.ip_addr().map(|ip| SocketAddr::new(ip, self.port))
    }

    /// Whether the address is loopback or unspecified (see [`is_loopback_or_unspecified`]).
    pub fn is_loopback_or_unspecified(&self) -> bool {
        is_loopback_or_unspecified(self.ip_type, self.ip)
    }
}

impl PrometheusInfo {
    /// A Prometheus endpoint at `ip:port` with `ip_type` set from the address; block and version
    /// are zero.
    pub fn from_ip(ip: IpAddr, port: u16) -> Self {
        let (ip, ip_type) = ip_to_u128(ip);
        PrometheusInfo { ip, port, ip_type, ..Default::default() }
    }

    /// The address, or `None` if `ip_type` is not 4/6 or an IPv4 value exceeds 32 bits.
    pub fn ip_addr(&self) -> Option<IpAddr> {
        ip_from_u128(self.ip_type, self.ip)
    }

    /// The address and port, as [`PrometheusInfo::ip_addr`].
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        self.ip_addr().map(|ip| SocketAddr::new(ip, self.port))
    }
}

/// Encodes an address as `(ip, ip_type)`: IPv4 → (its `u32` value, 4), IPv6 → (its `u128`, 6).
pub fn ip_to_u128(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), IP_TYPE_V4),
        IpAddr::V6(v6) => (u128::from(v6), IP_TYPE_V6),
    }
}

/// Decodes `(ip_type, ip)` into an address; `None` for an unknown `ip_type` or an IPv4 value
/// that does not fit in 32 bits.
pub fn ip_from_u128(ip_type: u8, ip: u128) -> Option<IpAddr> {
    match ip_type {
        IP_TYPE_V4 => u32::try_from(ip).ok().map(|v| IpAddr::V4(Ipv4Addr::from(v))),
        IP_TYPE_V6 => Some(IpAddr::V6(Ipv6Addr::from(ip))),
        _ => None,
    }
}

/// Whether `ip_type` is 4 or 6 (the reference's `is_valid_ip_type`).
pub fn is_valid_ip_type(ip_type: u8) -> bool {
    matches!(ip_type, IP_TYPE_V4 | IP_TYPE_V6)
}

/// The reference's address check for `serve_axon` / `serve_prometheus`.
///
/// With `allow_loopback == false` this is the reference's `is_valid_ip_address(ip_type, addr,
/// allow_zero)` exactly:
/// - `addr == 0` is rejected unless `allow_zero` (the reference passes `true` for axons, so a
///   miner can register `0.0.0.0`, and `false` for Prometheus);
/// - IPv4: values `>= u32::MAX` are rejected (so `255.255.255.255` too), and `127.0.0.1`;
/// - IPv6: `ffff:…:ffff` and `::1` are rejected.
///
/// Only the two exact loopback addresses are refused; `127.0.0.2` passes, as on the reference
/// (use [`is_loopback_or_unspecified`] for the whole ranges). `allow_loopback == true` lifts the
/// loopback refusals, for dev and local chains whose neurons all run on one machine.
///
/// `ip_type` itself is not checked here (the reference checks it first with
/// [`is_valid_ip_type`]); an unknown type only goes through the zero check.
pub fn is_valid_ip_address(
    ip_type: u8,
    addr: u128,
    allow_zero: bool,
    allow_loopback: bool,
) -> bool {
    if !allow_zero && addr == 0 {
        return false;
    }
    match ip_type {
        IP_TYPE_V4 => addr < u128::from(u32::MAX) && (allow_loopback || addr != IPV4_LOCALHOST),
        IP_TYPE_V6 => addr != u128::MAX && (allow_loopback || addr != IPV6_LOCALHOST),
        _ => true,
    }
}

/// Whether `(ip_type, addr)` is a loopback (`127.0.0.0/8`, `::1`, `::ffff:127.0.0.0/104`) or
/// unspecified (`0.0.0.0`, `::`) address. Unknown types and out-of-range IPv4 values are `false`.
pub fn is_loopback_or_unspecified(ip_type: u8, addr: u128) -> bool {
    match ip_from_u128(ip_type, addr) {
        Some(IpAddr::V4(v4)) => v4.is_loopback() || v4.is_unspecified(),
        Some(IpAddr::V6(v6)) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback() || v4.is_unspecified())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_axon() -> AxonInfo {
        AxonInfo {
            block: 0x0102_0304_0506_0708,
            version: 0x0a0b_0c0d,
            ip: 0xc0a8_0001, // 192.168.0.1
            port: 8091,      // 0x1f9b
            ip_type: 4,
            protocol: 4,
            placeholder1: 0xaa,
            placeholder2: 0xbb,
        }
    }

    #[test]
    fn axon_info_fixture() {
        let axon = sample_axon();
        let fixture = concat!(
            "0807060504030201",                 // block: u64 LE
            "0d0c0b0a",                         // version: u32 LE
            "0100a8c0000000000000000000000000", // ip: u128 LE (192.168.0.1)
            "9b1f",                             // port: u16 LE (8091)
            "04",                               // ip_type
            "04",                               // protocol
            "aa",                               // placeholder1
            "bb",                               // placeholder2
        );
        let bytes = axon.encode();
        assert_eq!(hex::encode(&bytes), fixture);
        assert_eq!(bytes.len(), 34);
        assert_eq!(AxonInfo::max_encoded_len(), 34);
        assert_eq!(AxonInfo::decode(&mut &bytes[..]), Ok(axon));
    }

    #[test]
    fn prometheus_info_fixture() {
        let prom = PrometheusInfo {
            block: 0x1122_3344_5566_7788,
            version: 7,
            ip: u128::from(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x42)),
            port: 9090, // 0x2382
            ip_type: 6,
        };
        let fixture = concat!(
            "8877665544332211",                 // block: u64 LE
            "07000000",                         // version: u32 LE
            "420000000000000000000000b80d0120", // ip: u128 LE (2001:db8::42)
            "8223",                             // port: u16 LE (9090)
            "06",                               // ip_type
        );
        let bytes = prom.encode();
        assert_eq!(hex::encode(&bytes), fixture);
        assert_eq!(bytes.len(), 31);
        assert_eq!(PrometheusInfo::max_encoded_len(), 31);
        assert_eq!(PrometheusInfo::decode(&mut &bytes[..]), Ok(prom));
    }

    #[test]
    fn ip_round_trips() {
        let v4: IpAddr = Ipv4Addr::new(192, 168, 0, 1).into();
        let axon = AxonInfo::from_ip(v4, 8091);
        assert_eq!((axon.ip, axon.ip_type, axon.port), (0xc0a8_0001, 4, 8091));
        assert_eq!(axon.ip_addr(), Some(v4));
        assert_eq!(axon.socket_addr(), Some(SocketAddr::new(v4, 8091)));

        let v6: IpAddr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).into();
        let prom = PrometheusInfo::from_ip(v6, 9090);
        assert_eq!(prom.ip_type, 6);
        assert_eq!(prom.ip, 0x2001_0db8_0000_0000_0000_0000_0000_0001);
        assert_eq!(prom.ip_addr(), Some(v6));

        // Unknown type, and an IPv4 value wider than 32 bits, do not decode.
        assert_eq!(ip_from_u128(5, 1), None);
        assert_eq!(ip_from_u128(4, 1 << 32), None);
        assert_eq!(AxonInfo::default().ip_addr(), None);
    }

    #[test]
    fn ip_type_validation() {
        assert!(is_valid_ip_type(4));
        assert!(is_valid_ip_type(6));
        for t in [0u8, 1, 5, 7, 255] {
            assert!(!is_valid_ip_type(t));
        }
    }

    #[test]
    fn ip_address_validation_mirrors_reference() {
        let ok = |t, a, zero| is_valid_ip_address(t, a, zero, false);
        // Zero: allowed only when asked (axons yes, prometheus no).
        assert!(ok(4, 0, true));
        assert!(!ok(4, 0, false));
        assert!(!ok(6, 0, false));
        // IPv4 range and localhost.
        assert!(ok(4, 0xc0a8_0001, false));
        assert!(ok(4, u128::from(u32::MAX) - 1, false));
        assert!(!ok(4, u128::from(u32::MAX), false));
        assert!(!ok(4, 1 << 40, false));
        assert!(!ok(4, 0x7f00_0001, true));
        assert!(ok(4, 0x7f00_0002, false)); // only the exact address is refused
                                            // IPv6 all-ones and localhost.
        assert!(!ok(6, u128::MAX, false));
        assert!(!ok(6, 1, false));
        assert!(ok(6, 2, false));
        // Other types only see the zero check.
        assert!(ok(9, 5, false));
    }

    #[test]
    fn loopback_allowed_on_dev_chains() {
        assert!(is_valid_ip_address(4, 0x7f00_0001, false, true));
        assert!(is_valid_ip_address(6, 1, false, true));
        // The other rules still hold.
        assert!(!is_valid_ip_address(4, u128::from(u32::MAX), true, true));
        assert!(!is_valid_ip_address(6, u128::MAX, true, true));
        assert!(!is_valid_ip_address(4, 0, false, true));
    }

    #[test]
    fn loopback_or_unspecified() {
        assert!(is_loopback_or_unspecified(4, 0));
        assert!(is_loopback_or_unspecified(4, 0x7f00_0001));
        assert!(is_loopback_or_unspecified(4, 0x7f12_3456));
        assert!(!is_loopback_or_unspecified(4, 0xc0a8_0001));
        assert!(is_loopback_or_unspecified(6, 0));
        assert!(is_loopback_or_unspecified(6, 1));
        assert!(is_loopback_or_unspecified(6, 0xffff_7f00_0001)); // ::ffff:127.0.0.1
        assert!(!is_loopback_or_unspecified(6, 0x2001_0db8 << 96));
        assert!(!is_loopback_or_unspecified(0, 0));
        let local = AxonInfo::from_ip(Ipv4Addr::LOCALHOST.into(), 1);
        assert!(local.is_loopback_or_unspecified());
    }

    #[test]
    fn serde_round_trip() {
        let axon = sample_axon();
        let json = serde_json::to_string(&axon).unwrap_or_default();
        let back: Option<AxonInfo> = serde_json::from_str(&json).ok();
        assert_eq!(back, Some(axon));
    }
}
