//! # subtensor-wallet
//!
//! Bittensor-compatible wallets: a wallet made by the Python `bittensor-wallet` package opens
//! here, and one made here opens there.
//!
//! This crate owns:
//! - [`Keypair`] ([`keypair`]): sr25519 keys from BIP-39 mnemonics of 12 to 24 words
//!   (substrate-bip39 derivation, sp-core's `Pair::from_phrase`), from seeds, private keys and
//!   secret URIs such as `//Alice`; SS58 addresses with prefix 42;
//! - [`KeyfileData`] ([`keyfile`]): the keyfile JSON (`accountId`, `publicKey`, `privateKey`,
//!   `secretPhrase`, `secretSeed`, `ss58Address`, `cryptoType`);
//! - [`encryption`]: the `$NACL` format (Argon2i key with bittensor-wallet's parameters and
//!   salt, XSalsa20-Poly1305 secretbox);
//! - [`Wallet`] ([`wallet`]): the directory layout `<path>/<name>/{coldkey, coldkeypub.txt,
//!   hotkeys/<hotkey>, hotkeys/<hotkey>pub.txt}`, written atomically with mode 0600 and never
//!   overwritten unless asked.
//!
//! It does not prompt (callers pass a password callback), talk to a chain or sign
//! transactions: see `subtensor-client` and the `stcli` command line.

pub mod encryption;
mod error;
mod fs;
pub mod keyfile;
pub mod keypair;
pub mod wallet;

pub use error::{Result, WalletError};
pub use keyfile::KeyfileData;
pub use keypair::{parse_account, ss58, Keypair, SS58_PREFIX};
pub use sp_core::crypto::AccountId32;
pub use wallet::{expand_home, list_wallets, PasswordFn, Wallet, DEFAULT_WALLET_PATH};
