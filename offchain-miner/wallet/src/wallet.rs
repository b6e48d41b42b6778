//! [`Wallet`]: the on-disk layout of a Bittensor wallet.
//!
//! ```text
//! <path>/<name>/coldkey                 keyfile JSON, `$NACL` encrypted when it has a password
//! <path>/<name>/coldkeypub.txt          public keyfile JSON of the coldkey
//! <path>/<name>/hotkeys/<hotkey>        keyfile JSON, plaintext (as bittensor-wallet writes it)
//! <path>/<name>/hotkeys/<hotkey>pub.txt public keyfile JSON of the hotkey
//! ```
//!
//! Every file is written atomically with mode 0600 and never replaced unless asked to.

use crate::{
    encryption::{self, Encryption},
    fs::write_private,
    keyfile::KeyfileData,
    Keypair, Result, WalletError,
};
use sp_core::crypto::AccountId32;
use std::path::{Path, PathBuf};

/// The default wallet directory of Bittensor tools.
pub const DEFAULT_WALLET_PATH: &str = "~/.bittensor/wallets";

/// A callback that supplies a password when an encrypted key must be opened.
pub type PasswordFn<'a> = &'a mut dyn FnMut() -> Result<String>;

/// One wallet (a coldkey) and the hotkey selected in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallet {
    dir: PathBuf,
    name: String,
    hotkey: String,
}

/// Expands a leading `~` to `$HOME`.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest.trim_start_matches('/')),
        _ => PathBuf::from(path),
    }
}

fn check_name(what: &'static str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(WalletError::InvalidName { what, name: name.to_owned() })
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => WalletError::NotFound { what, path: path.to_owned() },
        _ => WalletError::io(path, e),
    })
}

/// The names of the wallets (directories holding a coldkey or coldkeypub) under `path`, sorted.
pub fn list_wallets(path: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(WalletError::io(path, e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let dir = e.path();
            dir.join("coldkeypub.txt").is_file() || dir.join("coldkey").is_file()
        })
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

impl Wallet {
    /// Wallet `name` under `path` (`~` expanded), with hotkey `hotkey` selected.
    pub fn new(path: &str, name: &str, hotkey: &str) -> Result<Self> {
        check_name("wallet", name)?;
        check_name("hotkey", hotkey)?;
        Ok(Self {
            dir: expand_home(path).join(name),
            name: name.to_owned(),
            hotkey: hotkey.to_owned(),
        })
    }

    /// The same wallet with hotkey `hotkey` selected.
    pub fn with_hotkey(&self, hotkey: &str) -> Result<Self> {
        check_name("hotkey", hotkey)?;
        Ok(Self { hotkey: hotkey.to_owned(), ..self.clone() })
    }

    /// The wallet's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The selected hotkey's name.
    pub fn hotkey_name(&self) -> &str {
        &self.hotkey
    }

    /// The wallet's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<dir>/coldkey`.
    pub fn coldkey_path(&self) -> PathBuf {
        self.dir.join("coldkey")
    }

    /// `<dir>/coldkeypub.txt`.
    pub fn coldkeypub_path(&self) -> PathBuf {
        self.dir.join("coldkeypub.txt")
    }

    /// `<dir>/hotkeys`.
    pub fn hotkeys_dir(&self) -> PathBuf {
        self.dir.join("hotkeys")
    }

    /// `<dir>/hotkeys/<hotkey>`.
    pub fn hotkey_path(&self) -> PathBuf {
        self.hotkeys_dir().join(&self.hotkey)
    }

    /// `<dir>/hotkeys/<hotkey>pub.txt`.
    pub fn hotkeypub_path(&self) -> PathBuf {
        self.hotkeys_dir().join(format!("{}pub.txt", self.hotkey))
    }

    /// Whether the wallet has a coldkey (private or public).
    pub fn exists(&self) -> bool {
        self.coldkeypub_path().is_file() || self.coldkey_path().is_file()
    }

    /// Fails with [`WalletError::AlreadyExists`] if writing the coldkey would replace a file and
    /// `overwrite` is false. Call it before expensive work (key derivation, prompts).
    pub fn check_coldkey_free(&self, overwrite: bool) -> Result<()> {
        Self::check_free(&[self.coldkey_path(), self.coldkeypub_path()], overwrite)
    }

    /// As [`Wallet::check_coldkey_free`], for the selected hotkey.
    pub fn check_hotkey_free(&self, overwrite: bool) -> Result<()> {
        Self::check_free(&[self.hotkey_path(), self.hotkeypub_path()], overwrite)
    }

    fn check_free(paths: &[PathBuf], overwrite: bool) -> Result<()> {
        match paths.iter().find(|p| p.exists()) {
            Some(p) if !overwrite => Err(WalletError::AlreadyExists(p.clone())),
            _ => Ok(()),
        }
    }

    /// Writes the coldkey (encrypted with `password` if given, plaintext otherwise) and
    /// `coldkeypub.txt`.
    pub fn write_coldkey(
        &self,
        key: &Keypair,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<()> {
        self.check_coldkey_free(overwrite)?;
        let private = KeyfileData::private(key).to_bytes();
        let bytes = match password {
            Some(password) => {
                encryption::check_password(password)?;
                encryption::encrypt(&private, password)?
            }
            None => private.to_vec(),
        };
        write_private(&self.coldkey_path(), &bytes, overwrite)?;
        let public = KeyfileData::public(&key.account_id()).to_bytes();
        write_private(&self.coldkeypub_path(), &public, overwrite)
    }

    /// Writes the selected hotkey (plaintext, as bittensor-wallet does by default) and its
    /// `pub.txt`.
    pub fn write_hotkey(&self, key: &Keypair, overwrite: bool) -> Result<()> {
        self.check_hotkey_free(overwrite)?;
        write_private(&self.hotkey_path(), &KeyfileData::private(key).to_bytes(), overwrite)?;
        let public = KeyfileData::public(&key.account_id()).to_bytes();
        write_private(&self.hotkeypub_path(), &public, overwrite)
    }

    /// The coldkey's account, from `coldkeypub.txt` (no password needed).
    pub fn coldkeypub(&self) -> Result<AccountId32> {
        let path = self.coldkeypub_path();
        if !path.is_file() && !self.dir.is_dir() {
            return Err(WalletError::NotFound { what: "wallet", path: self.dir.clone() });
        }
        KeyfileData::parse(&read("coldkeypub", &path)?, &path)?.account(&path)
    }

    /// Whether the coldkey file is encrypted.
    pub fn coldkey_is_encrypted(&self) -> Result<bool> {
        let path = self.coldkey_path();
        Ok(Encryption::of(&read("coldkey", &path)?) != Encryption::None)
    }

    /// The coldkey, decrypted with the password `password` supplies (asked only if the file is
    /// encrypted).
    pub fn coldkey(&self, password: PasswordFn<'_>) -> Result<Keypair> {
        if !self.dir.is_dir() {
            return Err(WalletError::NotFound { what: "wallet", path: self.dir.clone() });
        }
        Self::open("coldkey", &self.coldkey_path(), password)
    }

    /// The selected hotkey (decrypted with `password` if it is encrypted).
    pub fn hotkey(&self, password: PasswordFn<'_>) -> Result<Keypair> {
        if !self.dir.is_dir() {
            return Err(WalletError::NotFound { what: "wallet", path: self.dir.clone() });
        }
        Self::open("hotkey", &self.hotkey_path(), password)
    }

    /// The selected hotkey's account: from `<hotkey>pub.txt`, else from the hotkey file itself
    /// when that is plaintext.
    pub fn hotkeypub(&self) -> Result<AccountId32> {
        let public = self.hotkeypub_path();
        if public.is_file() {
            return KeyfileData::parse(&read("hotkey", &public)?, &public)?.account(&public);
        }
        let path = self.hotkey_path();
        let bytes = read("hotkey", &path)?;
        if Encryption::of(&bytes) != Encryption::None {
            return Err(WalletError::NotFound { what: "public hotkey file", path: public });
        }
        KeyfileData::parse(&bytes, &path)?.account(&path)
    }

    /// The names of the wallet's hotkeys, sorted.
    pub fn hotkey_names(&self) -> Result<Vec<String>> {
        let dir = self.hotkeys_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(WalletError::io(&dir, e)),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.') && !n.ends_with("pub.txt"))
            .collect();
        names.sort();
        Ok(names)
    }

    fn open(what: &'static str, path: &Path, password: PasswordFn<'_>) -> Result<Keypair> {
        let bytes = read(what, path)?;
        let scheme = Encryption::of(&bytes);
        // Refuse legacy formats before asking for a password.
        scheme.check_supported(path)?;
        let plain = if scheme == Encryption::None {
            zeroize::Zeroizing::new(bytes)
        } else {
            let password = zeroize::Zeroizing::new(password()?);
            encryption::decrypt(&bytes, &password, path)?
        };
        KeyfileData::parse(&plain, path)?.keypair(path)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn wallet(dir: &Path, name: &str) -> Wallet {
        Wallet::new(dir.to_str().unwrap(), name, "default").unwrap()
    }

    #[test]
    fn writes_the_bittensor_layout_and_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let w = wallet(dir.path(), "w1");
        let cold = Keypair::generate(12).unwrap();
        let hot = Keypair::from_uri("//Bob").unwrap();
        w.write_coldkey(&cold, None, false).unwrap();
        w.write_hotkey(&hot, false).unwrap();
        for p in [w.coldkey_path(), w.coldkeypub_path(), w.hotkey_path(), w.hotkeypub_path()] {
            assert!(p.is_file(), "{p:?}");
        }
        assert_eq!(w.coldkeypub().unwrap(), cold.account_id());
        assert!(!w.coldkey_is_encrypted().unwrap());
        let mut never = || -> Result<String> { panic!("plaintext needs no password") };
        assert_eq!(w.coldkey(&mut never).unwrap().mnemonic(), cold.mnemonic());
        assert_eq!(w.hotkey(&mut never).unwrap().account_id(), hot.account_id());
        assert_eq!(w.hotkeypub().unwrap(), hot.account_id());
        assert_eq!(w.hotkey_names().unwrap(), vec!["default".to_owned()]);
        assert_eq!(list_wallets(dir.path()).unwrap(), vec!["w1".to_owned()]);
    }

    #[test]
    fn refuses_to_overwrite_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let w = wallet(dir.path(), "w");
        let first = Keypair::generate(12).unwrap();
        w.write_coldkey(&first, None, false).unwrap();
        let second = Keypair::generate(12).unwrap();
        assert!(matches!(
            w.write_coldkey(&second, None, false),
            Err(WalletError::AlreadyExists(_))
        ));
        assert_eq!(w.coldkeypub().unwrap(), first.account_id());
        w.write_coldkey(&second, None, true).unwrap();
        assert_eq!(w.coldkeypub().unwrap(), second.account_id());
    }

    #[test]
    fn encrypted_coldkey_needs_the_right_password() {
        let dir = tempfile::tempdir().unwrap();
        let w = wallet(dir.path(), "enc");
        let cold = Keypair::generate(12).unwrap();
        assert!(matches!(
            w.write_coldkey(&cold, Some("short"), false),
            Err(WalletError::WeakPassword(_))
        ));
        assert!(!w.coldkey_path().exists());
        w.write_coldkey(&cold, Some("a good password"), false).unwrap();
        assert!(w.coldkey_is_encrypted().unwrap());
        let mut right = || Ok("a good password".to_owned());
        assert_eq!(w.coldkey(&mut right).unwrap().account_id(), cold.account_id());
        let mut wrong = || Ok("not the password".to_owned());
        assert!(matches!(w.coldkey(&mut wrong), Err(WalletError::WrongPassword(_))));
    }

    #[test]
    fn missing_wallets_and_bad_names_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let w = wallet(dir.path(), "nope");
        assert!(matches!(w.coldkeypub(), Err(WalletError::NotFound { what: "wallet", .. })));
        let mut pw = || Ok(String::new());
        assert!(matches!(w.coldkey(&mut pw), Err(WalletError::NotFound { .. })));
        assert!(Wallet::new("/tmp", "../x", "default").is_err());
        assert!(Wallet::new("/tmp", "ok", "a/b").is_err());
        assert_eq!(expand_home("/abs"), PathBuf::from("/abs"));
    }
}
