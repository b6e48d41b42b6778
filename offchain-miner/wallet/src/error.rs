//! [`WalletError`], the one error type of this crate, and its [`Result`] alias.

use std::path::PathBuf;

/// Everything that can go wrong with keys, keyfiles and wallets. Every message is one line,
/// fit to show a user as is.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// A mnemonic is not a valid BIP-39 English phrase of 12 to 24 words.
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(String),
    /// A secret seed, private key or URI could not be turned into a key.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A mnemonic length other than 12, 15, 18, 21 or 24 words was asked for.
    #[error("a mnemonic has 12, 15, 18, 21 or 24 words, not {0}")]
    InvalidWordCount(usize),
    /// An SS58 address could not be decoded.
    #[error("invalid SS58 address {0:?}")]
    InvalidAddress(String),
    /// A keyfile's JSON is malformed or holds no usable key.
    #[error("malformed keyfile {path}: {reason}")]
    MalformedKeyfile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The keyfile holds a key type other than sr25519.
    #[error("{path}: cryptoType {crypto_type} keys are not supported (only sr25519, type 1)")]
    UnsupportedCryptoType {
        /// The file.
        path: PathBuf,
        /// Its `cryptoType`.
        crypto_type: u64,
    },
    /// The keyfile is encrypted with a legacy scheme (ansible-vault or Fernet) this crate does
    /// not read.
    #[error(
        "{0}: legacy encryption ({1}) is not supported; re-encrypt it with `btcli wallet update`"
    )]
    LegacyEncryption(PathBuf, &'static str),
    /// Decryption failed: the password is wrong (or the file was altered).
    #[error("wrong password for {0}")]
    WrongPassword(PathBuf),
    /// The encrypted payload is too short to hold a nonce and a tag.
    #[error("{0}: encrypted data is truncated")]
    Truncated(PathBuf),
    /// The password is too short.
    #[error("the password must have at least {0} characters")]
    WeakPassword(usize),
    /// No password could be read (no terminal, the two entries differ, ...).
    #[error("{0}")]
    Password(String),
    /// The key derivation or the cipher failed (out of memory, bad parameters).
    #[error("encryption failed: {0}")]
    Crypto(String),
    /// The file (or wallet) does not exist.
    #[error("{what} not found: {path}")]
    NotFound {
        /// What was looked for ("wallet", "hotkey", ...).
        what: &'static str,
        /// Where.
        path: PathBuf,
    },
    /// The file exists and overwriting was not allowed.
    #[error("{0} already exists (pass --overwrite to replace it)")]
    AlreadyExists(PathBuf),
    /// A name contains a path separator or is otherwise unusable as a file name.
    #[error("invalid {what} name {name:?}: use letters, digits, '-', '_' and '.'")]
    InvalidName {
        /// "wallet" or "hotkey".
        what: &'static str,
        /// The name given.
        name: String,
    },
    /// A file system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, WalletError>;

impl WalletError {
    /// An [`WalletError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        WalletError::Io { path: path.into(), source }
    }
}
