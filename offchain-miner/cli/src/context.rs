//! [`Ctx`]: what every command needs from the global options: the wallet, the node
//! connection, passwords, confirmations, transaction submission and output.
//!
//! Passwords come from `STCLI_PASSWORD` when it is set, else from the terminal without echo;
//! with neither, the command fails before writing or sending anything. Confirmations are
//! asked on the terminal unless `--no-prompt`; without a terminal they fail the same way.

use crate::{
    cli::{Global, PASSWORD_ENV},
    CliError, Result,
};
use serde_json::Value;
use std::{
    io::{BufRead, IsTerminal, Write},
    time::Duration,
};
use subtensor_client::{runtime::RuntimeCall, Client, Receipt, Wait};
use subtensor_wallet::{Keypair, Wallet, WalletError};
use zeroize::Zeroizing;

/// How long to wait for a transaction's inclusion.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(120);

/// How long to wait for a transaction's finalization.
const FINALIZATION_TIMEOUT: Duration = Duration::from_secs(300);

/// The global options and the helpers built on them.
pub struct Ctx {
    /// The options.
    pub global: Global,
}

/// Reads a password: `STCLI_PASSWORD` if set, else the terminal without echo.
fn read_password(prompt: &str) -> subtensor_wallet::Result<String> {
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(password);
    }
    rpassword::prompt_password(prompt).map_err(|e| {
        WalletError::Password(format!(
            "cannot read a password ({e}): run in a terminal or set {PASSWORD_ENV}"
        ))
    })
}

impl Ctx {
    /// The selected wallet and hotkey.
    pub fn wallet(&self) -> Result<Wallet> {
        Ok(Wallet::new(
            &self.global.wallet_path,
            &self.global.wallet_name,
            &self.global.wallet_hotkey,
        )?)
    }

    /// Connects to the node.
    pub async fn connect(&self) -> Result<Client> {
        Ok(Client::connect(&self.global.network).await?)
    }

    /// The wallet's coldkey, unlocked with its password.
    pub fn unlock_coldkey(&self, wallet: &Wallet) -> Result<Keypair> {
        let prompt = format!("Password to unlock coldkey of wallet '{}': ", wallet.name());
        Ok(wallet.coldkey(&mut || read_password(&prompt))?)
    }

    /// The wallet's selected hotkey (asks a password only if it is encrypted).
    pub fn unlock_hotkey(&self, wallet: &Wallet) -> Result<Keypair> {
        let prompt = format!("Password to unlock hotkey '{}': ", wallet.hotkey_name());
        Ok(wallet.hotkey(&mut || read_password(&prompt))?)
    }

    /// A password for a new coldkey: `STCLI_PASSWORD`, or asked twice on the terminal.
    pub fn new_password(&self) -> Result<Zeroizing<String>> {
        if let Ok(password) = std::env::var(PASSWORD_ENV) {
            subtensor_wallet::encryption::check_password(&password)?;
            return Ok(Zeroizing::new(password));
        }
        let first = Zeroizing::new(read_password("Password for the new coldkey: ")?);
        subtensor_wallet::encryption::check_password(&first)?;
        let again = Zeroizing::new(read_password("Retype the password: ")?);
        if first != again {
            return Err(WalletError::Password("the passwords differ".into()).into());
        }
        Ok(first)
    }

    /// Asks `question` (yes/no) unless `--no-prompt`; a "no" is [`CliError::Aborted`].
    pub fn confirm(&self, question: &str) -> Result<()> {
        if self.global.no_prompt {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Usage(format!(
                "{question} needs confirmation: pass --no-prompt to run without a terminal"
            )));
        }
        eprint!("{question} [y/N] ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        match answer.trim().to_lowercase().as_str() {
            "y" | "yes" => Ok(()),
            _ => Err(CliError::Aborted),
        }
    }

    /// Signs `call` with `signer`, submits it and waits for inclusion (or finalization with
    /// `--wait-for-finalization`).
    pub async fn submit(
        &self,
        client: &Client,
        call: RuntimeCall,
        signer: &Keypair,
    ) -> Result<Receipt> {
        let (wait, timeout) = if self.global.wait_for_finalization {
            (Wait::Finalization, FINALIZATION_TIMEOUT)
        } else {
            (Wait::Inclusion, INCLUSION_TIMEOUT)
        };
        if !self.global.json {
            eprintln!(
                "Submitting and waiting for {}...",
                match wait {
                    Wait::Inclusion => "inclusion",
                    Wait::Finalization => "finalization",
                }
            );
        }
        Ok(client.submit(call, signer.pair(), wait, timeout).await?)
    }

    /// Prints `json` with `--json`, else runs `human`.
    pub fn emit(&self, json: Value, human: impl FnOnce()) {
        if self.global.json {
            println!("{json}");
        } else {
            human();
        }
    }

    /// Prints a progress or notice line on stderr (never with `--json`).
    pub fn note(&self, text: &str) {
        if !self.global.json {
            eprintln!("{text}");
        }
    }
}
