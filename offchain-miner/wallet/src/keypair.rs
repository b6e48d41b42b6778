//! [`Keypair`]: an sr25519 key together with the secrets it was made from (mnemonic, seed),
//! made the way Substrate and Bittensor make them.
//!
//! Derivation is sp-core's: a BIP-39 mnemonic becomes a 32-byte mini-secret through
//! substrate-bip39 (PBKDF2-HMAC-SHA512 over the mnemonic's *entropy*, salt `"mnemonic"`, 2048
//! rounds), which is expanded to an sr25519 key in Ed25519 mode (`Pair::from_phrase`). Secret
//! URIs (`//Alice`, `<phrase>//hard/soft`, `0x<seed>`) go through `Pair::from_string`.

use crate::{Result, WalletError};
use bip39::{Language, Mnemonic};
use sp_core::{
    crypto::{AccountId32, Ss58AddressFormat, Ss58Codec},
    sr25519, Pair,
};
use zeroize::Zeroizing;

/// The SS58 address prefix of Bittensor networks.
pub const SS58_PREFIX: u16 = 42;

/// The mnemonic lengths BIP-39 defines.
pub const WORD_COUNTS: [usize; 5] = [12, 15, 18, 21, 24];

/// An sr25519 key pair and, when known, the mnemonic and the mini-secret seed it came from.
#[derive(Clone)]
pub struct Keypair {
    pair: sr25519::Pair,
    mnemonic: Option<Zeroizing<String>>,
    seed: Option<Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keypair({})", self.ss58())
    }
}

impl Keypair {
    /// A new key from a fresh random mnemonic of `words` words (12, 15, 18, 21 or 24).
    pub fn generate(words: usize) -> Result<Self> {
        if !WORD_COUNTS.contains(&words) {
            return Err(WalletError::InvalidWordCount(words));
        }
        let mnemonic = Mnemonic::generate_in(Language::English, words)
            .map_err(|e| WalletError::InvalidMnemonic(e.to_string()))?;
        Self::from_mnemonic(&mnemonic.to_string())
    }

    /// The key of a BIP-39 English mnemonic of 12 to 24 words (no password).
    pub fn from_mnemonic(phrase: &str) -> Result<Self> {
        let normalized = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
        let parsed = Mnemonic::parse_in(Language::English, &normalized)
            .map_err(|e| WalletError::InvalidMnemonic(e.to_string()))?;
        if !WORD_COUNTS.contains(&parsed.word_count()) {
            return Err(WalletError::InvalidWordCount(parsed.word_count()));
        }
        let (pair, seed) = sr25519::Pair::from_phrase(&normalized, None)
            .map_err(|e| WalletError::InvalidMnemonic(format!("{e:?}")))?;
        Ok(Self {
            pair,
            mnemonic: Some(Zeroizing::new(normalized)),
            seed: Some(Zeroizing::new(seed)),
        })
    }

    /// The key of a 32-byte mini-secret seed (`secretSeed` of a keyfile).
    pub fn from_seed(seed: &[u8]) -> Result<Self> {
        let seed: [u8; 32] = seed.try_into().map_err(|_| {
            WalletError::InvalidKey(format!("a seed has 32 bytes, not {}", seed.len()))
        })?;
        let pair = sr25519::Pair::from_seed(&seed);
        Ok(Self { pair, mnemonic: None, seed: Some(Zeroizing::new(seed)) })
    }

    /// The key of a 64-byte schnorrkel secret key (`privateKey` of a keyfile: key ‖ nonce).
    pub fn from_private_key(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 64 {
            return Err(WalletError::InvalidKey(format!(
                "a private key has 64 bytes, not {}",
                bytes.len()
            )));
        }
        let pair = sr25519::Pair::from_seed_slice(bytes)
            .map_err(|e| WalletError::InvalidKey(format!("{e:?}")))?;
        Ok(Self { pair, mnemonic: None, seed: None })
    }

    /// The key of a secret URI: a dev URI such as `//Alice`, a mnemonic with an optional
    /// derivation path (`<phrase>//hard/soft`), or a `0x` hex seed. A plain mnemonic keeps its
    /// phrase and seed; derived keys keep only the key itself, as Bittensor wallets do.
    pub fn from_uri(uri: &str) -> Result<Self> {
        let uri = uri.trim();
        if !uri.contains('/') && uri.split_whitespace().count() > 1 {
            return Self::from_mnemonic(uri);
        }
        if let Some(hex_seed) = uri.strip_prefix("0x") {
            let bytes = hex::decode(hex_seed)
                .map_err(|e| WalletError::InvalidKey(format!("hex seed: {e}")))?;
            return Self::from_seed(&bytes);
        }
        let (pair, _) = sr25519::Pair::from_string_with_seed(uri, None)
            .map_err(|e| WalletError::InvalidKey(format!("URI {uri:?}: {e:?}")))?;
        Ok(Self { pair, mnemonic: None, seed: None })
    }

    /// The sr25519 pair, for signing.
    pub fn pair(&self) -> &sr25519::Pair {
        &self.pair
    }

    /// The 32-byte public key.
    pub fn public(&self) -> [u8; 32] {
        self.pair.public().0
    }

    /// The account (public key) as the chain sees it.
    pub fn account_id(&self) -> AccountId32 {
        AccountId32::from(self.public())
    }

    /// The SS58 address (prefix 42, "5...").
    pub fn ss58(&self) -> String {
        ss58(&self.account_id())
    }

    /// The mnemonic, if the key was made from one.
    pub fn mnemonic(&self) -> Option<&str> {
        self.mnemonic.as_deref().map(String::as_str)
    }

    /// The 32-byte mini-secret seed, if known.
    pub fn seed(&self) -> Option<[u8; 32]> {
        self.seed.as_deref().copied()
    }

    /// The 64-byte schnorrkel secret key (key ‖ nonce).
    pub fn private_key(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.pair.to_raw_vec())
    }
}

/// The SS58 form (prefix 42) of an account.
pub fn ss58(account: &AccountId32) -> String {
    account.to_ss58check_with_version(Ss58AddressFormat::custom(SS58_PREFIX))
}

/// Parses an SS58 address (any prefix) or a `0x` hex public key into an account.
pub fn parse_account(text: &str) -> Result<AccountId32> {
    let text = text.trim();
    if let Some(hex_key) = text.strip_prefix("0x") {
        let bytes: [u8; 32] = hex::decode(hex_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| WalletError::InvalidAddress(text.to_owned()))?;
        return Ok(AccountId32::from(bytes));
    }
    AccountId32::from_ss58check_with_version(text)
        .map(|(account, _)| account)
        .map_err(|_| WalletError::InvalidAddress(text.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Produced by the Python `bittensor-wallet` 4.1.1 package
    /// (`Keypair.create_from_mnemonic(...)` and `serialized_keypair_to_keyfile_data`).
    const PHRASE: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
    const SS58: &str = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";
    const SEED: &str = "fac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e";
    const PRIVATE: &str = "05d65584630d16cd4af6d0bec10f34bb504a5dcb62dba2122d49f5a663763d0a\
                           fd190cce74df356432b410bd64682309d6dedb27c76845daf388557cbac3ca34";

    #[test]
    fn mnemonic_derivation_matches_bittensor_wallet() {
        let kp = Keypair::from_mnemonic(PHRASE).unwrap();
        assert_eq!(kp.ss58(), SS58);
        assert_eq!(hex::encode(kp.seed().unwrap()), SEED);
        assert_eq!(hex::encode(kp.private_key().as_slice()), PRIVATE);
        assert_eq!(kp.mnemonic(), Some(PHRASE));
    }

    #[test]
    fn seed_and_private_key_give_the_same_account() {
        let from_seed = Keypair::from_seed(&hex::decode(SEED).unwrap()).unwrap();
        let from_private = Keypair::from_private_key(&hex::decode(PRIVATE).unwrap()).unwrap();
        assert_eq!(from_seed.ss58(), SS58);
        assert_eq!(from_private.ss58(), SS58);
        // A signature by the private-key pair verifies under the seed pair's public key.
        let sig = from_private.pair().sign(b"msg");
        assert!(sr25519::Pair::verify(&sig, b"msg", &from_seed.pair().public()));
    }

    #[test]
    fn dev_uris_and_phrases_parse() {
        let alice = Keypair::from_uri("//Alice").unwrap();
        assert_eq!(alice.ss58(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
        assert!(alice.mnemonic().is_none());
        assert_eq!(Keypair::from_uri(PHRASE).unwrap().ss58(), SS58);
        assert_eq!(Keypair::from_uri(&format!("0x{SEED}")).unwrap().ss58(), SS58);
        assert_ne!(Keypair::from_uri(&format!("{PHRASE}//hot")).unwrap().ss58(), SS58);
        assert!(Keypair::from_uri("//").is_err() || Keypair::from_uri("not a uri at all").is_err());
    }

    #[test]
    fn generated_keys_have_the_asked_length_and_round_trip() {
        for words in WORD_COUNTS {
            let kp = Keypair::generate(words).unwrap();
            let phrase = kp.mnemonic().unwrap();
            assert_eq!(phrase.split(' ').count(), words);
            assert_eq!(Keypair::from_mnemonic(phrase).unwrap().ss58(), kp.ss58());
        }
        assert!(matches!(Keypair::generate(13), Err(WalletError::InvalidWordCount(13))));
    }

    #[test]
    fn bad_mnemonics_are_refused() {
        assert!(Keypair::from_mnemonic("bottom drive obey lake").is_err());
        assert!(Keypair::from_mnemonic(&PHRASE.replace("walk", "wall")).is_err());
        assert!(Keypair::from_private_key(&[0u8; 10]).is_err());
    }

    #[test]
    fn accounts_parse_from_ss58_and_hex() {
        let account = parse_account(SS58).unwrap();
        assert_eq!(ss58(&account), SS58);
        let hex_key = format!("0x{}", hex::encode(<[u8; 32]>::from(account.clone())));
        assert_eq!(parse_account(&hex_key).unwrap(), account);
        assert!(parse_account("5Dfh").is_err());
    }
}
