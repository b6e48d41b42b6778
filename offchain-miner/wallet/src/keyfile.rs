//! [`KeyfileData`]: the JSON inside a Bittensor keyfile, and its conversion to and from a
//! [`Keypair`].
//!
//! Fields (all optional, `0x`-hex for bytes): `accountId` and `publicKey` (the 32-byte public
//! key), `privateKey` (64-byte schnorrkel secret), `secretPhrase` (mnemonic), `secretSeed`
//! (32-byte mini-secret), `ss58Address`, and `cryptoType` (1 = sr25519, written by
//! bittensor-wallet 4.1). `cryptoType` is read but never written: bittensor-wallet 4.0.1, which
//! the bittensor SDK 10.2 and btcli 9.20 pin, refuses a keyfile that has it ("Failed to parse
//! keyfile data"), and 4.1 reads a file without it as sr25519. A key is loaded from the phrase if present, else the seed, else the
//! private key, as bittensor-wallet does. Public files (`coldkeypub.txt`, `<hotkey>pub.txt`)
//! hold only the public fields.

use crate::{
    keypair::{parse_account, Keypair},
    Result, WalletError,
};
use serde::{Deserialize, Serialize};
use sp_core::crypto::AccountId32;
use std::path::Path;
use zeroize::Zeroizing;

/// `cryptoType` of sr25519 keys.
pub const CRYPTO_SR25519: u64 = 1;

/// The JSON object of a keyfile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyfileData {
    /// Key type: 1 = sr25519 (absent in files of older wallets, meaning sr25519).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crypto_type: Option<u64>,
    /// Public key, `0x` hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Public key, `0x` hex (same as `accountId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// 64-byte secret key, `0x` hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// The mnemonic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_phrase: Option<String>,
    /// 32-byte mini-secret seed, `0x` hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_seed: Option<String>,
    /// SS58 address (prefix 42).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ss58_address: Option<String>,
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn unhex(text: &str) -> std::result::Result<Vec<u8>, String> {
    hex::decode(text.trim().trim_start_matches("0x")).map_err(|e| e.to_string())
}

impl KeyfileData {
    /// Every field of `keypair`, secrets included (a private keyfile).
    pub fn private(keypair: &Keypair) -> Self {
        Self {
            private_key: Some(hex0x(&keypair.private_key())),
            secret_phrase: keypair.mnemonic().map(str::to_owned),
            secret_seed: keypair.seed().map(|s| hex0x(&s)),
            ..Self::public(&keypair.account_id())
        }
    }

    /// Only the public fields of `account` (a `*pub.txt` file).
    pub fn public(account: &AccountId32) -> Self {
        let public = hex0x(account.as_ref());
        Self {
            crypto_type: None,
            account_id: Some(public.clone()),
            public_key: Some(public),
            ss58_address: Some(crate::keypair::ss58(account)),
            ..Self::default()
        }
    }

    /// Parses keyfile JSON read from `path` (used in error messages only).
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        let data: Self = serde_json::from_slice(bytes).map_err(|e| {
            WalletError::MalformedKeyfile { path: path.to_owned(), reason: e.to_string() }
        })?;
        match data.crypto_type {
            None | Some(CRYPTO_SR25519) => Ok(data),
            Some(other) => Err(WalletError::UnsupportedCryptoType {
                path: path.to_owned(),
                crypto_type: other,
            }),
        }
    }

    /// The JSON bytes of this keyfile (compact, as bittensor-wallet writes it).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        // Serialising plain strings and integers cannot fail.
        Zeroizing::new(serde_json::to_vec(self).unwrap_or_default())
    }

    /// The key pair: from the phrase if present, else the seed, else the private key.
    pub fn keypair(&self, path: &Path) -> Result<Keypair> {
        let malformed =
            |reason: String| WalletError::MalformedKeyfile { path: path.to_owned(), reason };
        let keypair = if let Some(phrase) = &self.secret_phrase {
            Keypair::from_mnemonic(phrase)?
        } else if let Some(seed) = &self.secret_seed {
            Keypair::from_seed(&Zeroizing::new(unhex(seed).map_err(&malformed)?))?
        } else if let Some(private) = &self.private_key {
            Keypair::from_private_key(&Zeroizing::new(unhex(private).map_err(&malformed)?))?
        } else {
            return Err(malformed("it holds no secret (a public keyfile?)".into()));
        };
        if let Ok(stated) = self.account(path) {
            if stated != keypair.account_id() {
                return Err(malformed("its secret does not match its public key".into()));
            }
        }
        Ok(keypair)
    }

    /// The account the file is for: from `publicKey`, `accountId` or `ss58Address`.
    pub fn account(&self, path: &Path) -> Result<AccountId32> {
        let text = self
            .public_key
            .as_ref()
            .or(self.account_id.as_ref())
            .or(self.ss58_address.as_ref())
            .ok_or_else(|| WalletError::MalformedKeyfile {
                path: path.to_owned(),
                reason: "it holds no public key".into(),
            })?;
        parse_account(text).map_err(|e| WalletError::MalformedKeyfile {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// A hotkey file written by bittensor-wallet 4.1.1 for `//Bob`
    /// (`create_hotkey_from_uri("//Bob")`): no phrase, no seed.
    const BOB_HOTKEY: &str = r#"{"ss58Address":"5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty","accountId":"0x8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48","publicKey":"0x8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48","privateKey":"0xe1c39e72cca724caa697d64a58e10bd95ffa63d1922962f7e27f8a09dda1370b41ae88f85d0c1bfc37be41c904e1dfc01de8c8067b0d6d5df25dd1ac0894a325","cryptoType":1}"#;

    #[test]
    fn reads_a_bittensor_wallet_hotkey_file() {
        let path = Path::new("hotkeys/h1");
        let data = KeyfileData::parse(BOB_HOTKEY.as_bytes(), path).unwrap();
        let kp = data.keypair(path).unwrap();
        assert_eq!(kp.ss58(), "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty");
        assert_eq!(kp.ss58(), Keypair::from_uri("//Bob").unwrap().ss58());
    }

    #[test]
    fn private_keyfile_round_trips() {
        let kp = Keypair::generate(12).unwrap();
        let path = Path::new("coldkey");
        let data = KeyfileData::private(&kp);
        let back = KeyfileData::parse(&data.to_bytes(), path).unwrap();
        assert_eq!(back, data);
        let restored = back.keypair(path).unwrap();
        assert_eq!(restored.ss58(), kp.ss58());
        assert_eq!(restored.mnemonic(), kp.mnemonic());
        assert_eq!(restored.seed(), kp.seed());
    }

    #[test]
    fn public_keyfile_holds_no_secret() {
        let kp = Keypair::from_uri("//Alice").unwrap();
        let path = Path::new("coldkeypub.txt");
        let data = KeyfileData::public(&kp.account_id());
        let json: serde_json::Value = serde_json::from_slice(&data.to_bytes()).unwrap();
        assert_eq!(json["ss58Address"], kp.ss58());
        assert!(json.get("privateKey").is_none() && json.get("secretPhrase").is_none());
        // bittensor-wallet 4.0.1 (under SDK 10.2 and btcli 9.20) refuses files with it.
        assert!(json.get("cryptoType").is_none());
        assert_eq!(data.account(path).unwrap(), kp.account_id());
        assert!(matches!(data.keypair(path), Err(WalletError::MalformedKeyfile { .. })));
    }

    #[test]
    fn other_key_types_and_mismatches_are_refused() {
        let path = Path::new("x");
        let ed = r#"{"cryptoType":0,"publicKey":"0x00"}"#;
        assert!(matches!(
            KeyfileData::parse(ed.as_bytes(), path),
            Err(WalletError::UnsupportedCryptoType { crypto_type: 0, .. })
        ));
        let mut data = KeyfileData::private(&Keypair::from_uri("//Alice").unwrap());
        data.public_key =
            KeyfileData::public(&Keypair::from_uri("//Bob").unwrap().account_id()).public_key;
        assert!(data.keypair(path).is_err());
        assert!(KeyfileData::parse(b"not json", path).is_err());
    }
}
