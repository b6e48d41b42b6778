//! [`SubnetIdentityV3`] and [`ChainIdentityV2`]: the reference chain's on-chain identities, which
//! its subnet and metagraph views embed as `Option`s.
//!
//! This chain stores no identities: every view carries `None` where the reference would carry
//! one. The types exist so the metadata describes those `Option`s exactly as the reference does
//! (clients such as the Python SDK read `subnet_identity["subnet_name"]` and friends when present).

use alloc::vec::Vec;
use codec::{Decode, Encode};
use scale_info::TypeInfo;

/// A subnet's identity (the reference's `SubnetIdentityV3`); every field is UTF-8 bytes.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct SubnetIdentityV3 {
    /// Display name of the subnet.
    pub subnet_name: Vec<u8>,
    /// Source repository.
    pub github_repo: Vec<u8>,
    /// Contact of the subnet's team.
    pub subnet_contact: Vec<u8>,
    /// Website.
    pub subnet_url: Vec<u8>,
    /// Discord handle or invite.
    pub discord: Vec<u8>,
    /// Free-text description.
    pub description: Vec<u8>,
    /// Logo URL.
    pub logo_url: Vec<u8>,
    /// Anything else.
    pub additional: Vec<u8>,
}

/// A coldkey's identity (the reference's `ChainIdentityV2`, `ChainIdentityOfV2`); every field is
/// UTF-8 bytes.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct ChainIdentityV2 {
    /// Display name.
    pub name: Vec<u8>,
    /// Website.
    pub url: Vec<u8>,
    /// Source repository.
    pub github_repo: Vec<u8>,
    /// Image URL.
    pub image: Vec<u8>,
    /// Discord handle.
    pub discord: Vec<u8>,
    /// Free-text description.
    pub description: Vec<u8>,
    /// Anything else.
    pub additional: Vec<u8>,
}
