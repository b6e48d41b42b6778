//! [`OnSubnetChange`]: how other pallets learn that a subnet was created or dissolved.
//!
//! The subtensor pallet owns subnets; a pallet that keeps per-subnet storage of its own (the
//! `Swap` shim's `AlphaSqrtPrice`) implements this trait and is named in the subtensor pallet's
//! `Config::SubnetLifecycle`, so its entries exist exactly while the subnet does: written when a
//! subnet is created (genesis subnets included), removed when it is dissolved.

use crate::NetUid;

/// Hooks called by the subtensor pallet when a subnet comes into or goes out of existence.
///
/// Both run inside the creating or dissolving call (or genesis), after the subtensor pallet's own
/// storage of the subnet was written or removed; they must not fail and should write O(1) items.
/// `()` does nothing.
pub trait OnSubnetChange {
    /// `netuid` was just created.
    fn on_subnet_added(netuid: NetUid);
    /// `netuid` was just dissolved.
    fn on_subnet_removed(netuid: NetUid);
}

impl OnSubnetChange for () {
    fn on_subnet_added(_netuid: NetUid) {}
    fn on_subnet_removed(_netuid: NetUid) {}
}
