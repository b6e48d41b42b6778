//! Typed identifiers: subnet ids ([`NetUid`]), neuron slots ([`Uid`]) and subnet mechanisms
//! ([`MechId`]).
//!
//! [`NetUid`] is a transparent `u16` on the wire *and* in metadata: it encodes as a bare
//! little-endian `u16`, compacts as a `Compact<u16>`, and reports the `u16` type to scale-info,
//! exactly like the reference chain's `NetUid`. Storage keys hashed with `Identity` over a
//! `NetUid` are therefore the same bytes as over a `u16`.

use codec::{Compact, CompactAs, Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt;
use scale_info::TypeInfo;

/// Position of a neuron inside a subnet's metagraph (0 .. max_allowed_uids).
pub type Uid = u16;

/// A mechanism of a subnet (the reference chain's `MechId`, a `u8` on the wire and in metadata).
/// This classic chain has exactly one mechanism per subnet, [`MAIN_MECHANISM`]; calls that take
/// a `mecid` refuse any other.
pub type MechId = u8;

/// The only mechanism of every subnet (the reference's `MechId::MAIN`).
pub const MAIN_MECHANISM: MechId = 0;

/// Identifier of a subnet. Subnet 0 is the root network ([`NetUid::ROOT`]).
#[derive(
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    Default,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(transparent))]
#[repr(transparent)]
pub struct NetUid(pub u16);

impl NetUid {
    /// The root network (netuid 0).
    pub const ROOT: NetUid = NetUid(0);

    /// Whether this is the root network.
    pub const fn is_root(self) -> bool {
        self.0 == 0
    }
}

impl From<u16> for NetUid {
    fn from(value: u16) -> Self {
        NetUid(value)
    }
}

impl From<NetUid> for u16 {
    fn from(value: NetUid) -> Self {
        value.0
    }
}

impl From<Compact<NetUid>> for NetUid {
    fn from(value: Compact<NetUid>) -> Self {
        value.0
    }
}

impl fmt::Display for NetUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// `Compact<NetUid>` encodes as `Compact<u16>`.
impl CompactAs for NetUid {
    type As = u16;

    fn encode_as(&self) -> &u16 {
        &self.0
    }

    fn decode_from(value: u16) -> Result<Self, codec::Error> {
        Ok(NetUid(value))
    }
}

/// Metadata describes a `NetUid` as a plain `u16` (as the reference does), so clients that build
/// call arguments and decode runtime-API results from metadata need no custom type.
impl TypeInfo for NetUid {
    type Identity = <u16 as TypeInfo>::Identity;

    fn type_info() -> scale_info::Type {
        <u16 as TypeInfo>::type_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scale_info::meta_type;

    #[test]
    fn netuid_encodes_as_le_u16() {
        let id = NetUid(0x0102);
        // 02 01: u16 little-endian.
        assert_eq!(hex::encode(id.encode()), "0201");
        assert_eq!(NetUid::decode(&mut &[0x02, 0x01][..]), Ok(id));
        assert_eq!(NetUid::max_encoded_len(), 2);
    }

    #[test]
    fn compact_netuid_encodes_as_compact_u16() {
        // 1: single-byte mode, 1 << 2 = 0x04.
        assert_eq!(hex::encode(Compact(NetUid(1)).encode()), "04");
        // 300: two-byte mode, (300 << 2) | 0b01 = 0x04b1, little-endian b1 04.
        assert_eq!(hex::encode(Compact(NetUid(300)).encode()), "b104");
        assert_eq!(Compact(NetUid(300)).encode(), Compact(300u16).encode());
        let back = Compact::<NetUid>::decode(&mut &[0xb1, 0x04][..]).map(NetUid::from);
        assert_eq!(back, Ok(NetUid(300)));
    }

    #[test]
    fn netuid_metadata_is_u16() {
        assert_eq!(meta_type::<NetUid>(), meta_type::<u16>());
    }

    #[test]
    fn netuid_conversions() {
        assert_eq!(NetUid::from(7u16), NetUid(7));
        assert_eq!(u16::from(NetUid(7)), 7);
        assert_eq!(NetUid(42).to_string(), "42");
        assert!(NetUid::ROOT.is_root());
        assert!(!NetUid(1).is_root());
        assert_eq!(NetUid::default(), NetUid::ROOT);
    }

    #[test]
    fn netuid_serde_is_transparent() {
        assert_eq!(serde_json::to_string(&NetUid(3)).ok().as_deref(), Some("3"));
        let back: Result<NetUid, _> = serde_json::from_str("3");
        assert_eq!(back.ok(), Some(NetUid(3)));
    }
}
