//! Base types of the chain (accounts, balances, blocks) and the token's constants.
//!
//! They match the reference chain: sr25519/ed25519/ecdsa `MultiSignature` accounts, balances in
//! rao (10⁻⁹ TAO) held in a `u64`, `u32` block numbers and nonces, Blake2-256 `H256` hashes,
//! SS58 prefix 42.

/// Signature of a transaction: sr25519, ed25519 or ecdsa (SCALE enum tag 1, 0, 2).
pub type Signature = sp_runtime::MultiSignature;

/// An account: the 32-byte public key behind a [`Signature`] (hotkeys and coldkeys alike).
pub type AccountId = sp_runtime::AccountId32;

/// An amount of TAO, counted in rao (1 TAO = [`RAO_PER_TAO`] rao).
pub type Balance = u64;

/// Height of a block.
pub type BlockNumber = u32;

/// Per-account transaction counter.
pub type Nonce = u32;

/// Hash of a block, an extrinsic or a state root (Blake2-256).
pub type Hash = sp_core::H256;

/// Rao in one TAO (the token has 9 decimals).
pub const RAO_PER_TAO: u64 = 1_000_000_000;

/// Hard cap on the TAO that will ever be issued: 21 million TAO, in rao.
pub const MAX_SUPPLY: u64 = 21_000_000 * RAO_PER_TAO;

/// SS58 address prefix of the network (the generic Substrate prefix, as on the reference chain).
pub const SS58_PREFIX: u16 = 42;

/// Symbol of the native token.
pub const TOKEN_SYMBOL: &str = "TAO";

/// Decimal places of the native token (1 TAO = 10^9 rao).
pub const TOKEN_DECIMALS: u8 = 9;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_agree() {
        assert_eq!(10u64.pow(u32::from(TOKEN_DECIMALS)), RAO_PER_TAO);
        assert_eq!(MAX_SUPPLY, 21_000_000_000_000_000);
        // The supply cap fits in the balance type with room to spare.
        const { assert!(MAX_SUPPLY < u64::MAX / 100) };
    }
}
