//! Keyfile encryption as Bittensor wallets do it (`$NACL`).
//!
//! Layout: `b"$NACL"` ‖ 24-byte random nonce ‖ libsodium `crypto_secretbox_easy` output
//! (16-byte Poly1305 tag ‖ XSalsa20 ciphertext). The key is libsodium's
//! `crypto_pwhash_argon2i` (Argon2i v1.3, `OPSLIMIT_SENSITIVE` = 8 passes,
//! `MEMLIMIT_SENSITIVE` = 512 MiB, one lane, 32 bytes) of the password with bittensor-wallet's
//! fixed 16-byte salt, so a file encrypted by one implementation opens in the other.
//!
//! The legacy formats bittensor-wallet can still read (`$ANSIBLE_VAULT`, Fernet `gAAAAA`) are
//! recognised and refused with [`WalletError::LegacyEncryption`].

use crate::{Result, WalletError};
use argon2::{Algorithm, Argon2, Params, Version};
use crypto_secretbox::{
    aead::{AeadCore, AeadInPlace, KeyInit, OsRng},
    Key, Nonce, Tag, XSalsa20Poly1305,
};
use std::path::Path;
use zeroize::Zeroizing;

/// The prefix of `$NACL` encrypted keyfiles.
pub const NACL_PREFIX: &[u8] = b"$NACL";

/// bittensor-wallet's fixed Argon2i salt (`b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1"`).
const NACL_SALT: [u8; 16] = [
    0x13, 0x71, 0x83, 0xdf, 0xf1, 0x5a, 0x09, 0xbc, 0x9c, 0x90, 0xb5, 0x51, 0x87, 0x39, 0xe9, 0xb1,
];

/// libsodium's `crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE` (passes).
const OPSLIMIT_SENSITIVE: u32 = 8;

/// libsodium's `crypto_pwhash_argon2i_MEMLIMIT_SENSITIVE` (512 MiB), in KiB.
const MEMLIMIT_SENSITIVE_KIB: u32 = 512 * 1024;

/// Nonce length of XSalsa20.
const NONCE_LEN: usize = 24;

/// Poly1305 tag length.
const TAG_LEN: usize = 16;

/// The shortest password accepted for new keys (bittensor-wallet's minimum).
pub const MIN_PASSWORD_LEN: usize = 6;

/// How a keyfile's bytes are protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// Plain JSON.
    None,
    /// `$NACL` (readable and writable here).
    Nacl,
    /// `$ANSIBLE_VAULT` (legacy, not supported).
    AnsibleVault,
    /// Fernet, `gAAAAA...` (legacy, not supported).
    Fernet,
}

impl Encryption {
    /// Recognises the scheme of keyfile `data`.
    pub fn of(data: &[u8]) -> Self {
        if data.starts_with(NACL_PREFIX) {
            Encryption::Nacl
        } else if data.starts_with(b"$ANSIBLE_VAULT") {
            Encryption::AnsibleVault
        } else if data.starts_with(b"gAAAAA") {
            Encryption::Fernet
        } else {
            Encryption::None
        }
    }

    /// Fails with [`WalletError::LegacyEncryption`] for the schemes this crate cannot read.
    pub fn check_supported(self, path: &Path) -> Result<()> {
        match self {
            Encryption::None | Encryption::Nacl => Ok(()),
            Encryption::AnsibleVault => {
                Err(WalletError::LegacyEncryption(path.to_owned(), "ansible-vault"))
            }
            Encryption::Fernet => Err(WalletError::LegacyEncryption(path.to_owned(), "Fernet")),
        }
    }
}

/// Refuses passwords shorter than [`MIN_PASSWORD_LEN`] characters.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(WalletError::WeakPassword(MIN_PASSWORD_LEN));
    }
    Ok(())
}

fn derive_key(password: &str) -> Result<Zeroizing<[u8; 32]>> {
    let params = Params::new(MEMLIMIT_SENSITIVE_KIB, OPSLIMIT_SENSITIVE, 1, Some(32))
        .map_err(|e| WalletError::Crypto(e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2i, Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password.as_bytes(), &NACL_SALT, key.as_mut())
        .map_err(|e| WalletError::Crypto(e.to_string()))?;
    Ok(key)
}

/// Encrypts `plaintext` under `password` into the `$NACL` format (takes a few seconds: the key
/// derivation is deliberately expensive).
pub fn encrypt(plaintext: &[u8], password: &str) -> Result<Vec<u8>> {
    let key = derive_key(password)?;
    let cipher = XSalsa20Poly1305::new(&Key::from(*key));
    let nonce = XSalsa20Poly1305::generate_nonce(&mut OsRng);
    let mut body = plaintext.to_vec();
    let tag = cipher
        .encrypt_in_place_detached(&nonce, b"", &mut body)
        .map_err(|e| WalletError::Crypto(e.to_string()))?;
    Ok([NACL_PREFIX, &*nonce, &*tag, body.as_slice()].concat())
}

/// Decrypts `$NACL` keyfile `data` read from `path` (named in errors) with `password`.
pub fn decrypt(data: &[u8], password: &str, path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let scheme = Encryption::of(data);
    scheme.check_supported(path)?;
    if scheme == Encryption::None {
        return Ok(Zeroizing::new(data.to_vec()));
    }
    let rest = data.get(NACL_PREFIX.len()..).unwrap_or_default();
    if rest.len() < NONCE_LEN + TAG_LEN {
        return Err(WalletError::Truncated(path.to_owned()));
    }
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let (tag, ciphertext) = sealed.split_at(TAG_LEN);
    let truncated = || WalletError::Truncated(path.to_owned());
    let nonce = Nonce::from(<[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| truncated())?);
    let tag = Tag::from(<[u8; TAG_LEN]>::try_from(tag).map_err(|_| truncated())?);
    let key = derive_key(password)?;
    let cipher = XSalsa20Poly1305::new(&Key::from(*key));
    let mut body = Zeroizing::new(ciphertext.to_vec());
    cipher
        .decrypt_in_place_detached(&nonce, b"", &mut body, &tag)
        .map_err(|_| WalletError::WrongPassword(path.to_owned()))?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::*;

    /// `encrypt_keyfile_data(PLAINTEXT, "correct horse 42")` of the Python bittensor-wallet
    /// 4.1.1 package.
    const PYTHON_VECTOR: &str = "244e41434c2e14b4da08073f52e2d35779e99f1b922da63731eff6d3222047c6\
        31a2a5fa9969a55e493eb2fb8f0f1a90f45df103442c2829f50fd203faea71b11e9092d64e625fb05b0ac328b0\
        6db3498bbb3fe8454190b7b5729c6f851d21067a347ef7a818b7598e4ec4be175c09e4c146ebcd2c7e63782558\
        d01bcae5c7cb46d3498b99";
    const PLAINTEXT: &[u8] = br#"{"secretPhrase":"bottom drive obey lake curtain smoke basket hold race lonely fit walk"}"#;
    const PASSWORD: &str = "correct horse 42";

    #[test]
    fn opens_a_file_encrypted_by_bittensor_wallet() {
        let data = hex::decode(PYTHON_VECTOR).unwrap();
        assert_eq!(Encryption::of(&data), Encryption::Nacl);
        let plain = decrypt(&data, PASSWORD, Path::new("coldkey")).unwrap();
        assert_eq!(plain.as_slice(), PLAINTEXT);
        assert!(matches!(
            decrypt(&data, "wrong password", Path::new("coldkey")),
            Err(WalletError::WrongPassword(_))
        ));
    }

    #[test]
    fn round_trips_and_uses_a_fresh_nonce() {
        let a = encrypt(PLAINTEXT, PASSWORD).unwrap();
        let b = encrypt(PLAINTEXT, PASSWORD).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), NACL_PREFIX.len() + NONCE_LEN + TAG_LEN + PLAINTEXT.len());
        assert_eq!(decrypt(&a, PASSWORD, Path::new("k")).unwrap().as_slice(), PLAINTEXT);
        let mut tampered = a.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(decrypt(&tampered, PASSWORD, Path::new("k")).is_err());
        assert!(matches!(
            decrypt(&a[..20], PASSWORD, Path::new("k")),
            Err(WalletError::Truncated(_))
        ));
    }

    #[test]
    fn recognises_schemes_and_weak_passwords() {
        assert_eq!(Encryption::of(b"{\"a\":1}"), Encryption::None);
        assert_eq!(Encryption::of(b"$ANSIBLE_VAULT;1.1"), Encryption::AnsibleVault);
        assert_eq!(Encryption::of(b"gAAAAABk"), Encryption::Fernet);
        assert!(decrypt(b"gAAAAABk", PASSWORD, Path::new("k")).is_err());
        assert!(check_password("12345").is_err());
        assert!(check_password("123456").is_ok());
    }
}
