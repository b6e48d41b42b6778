//! [`ValidatorError`], the one error type of this crate, and its [`Result`] alias.

use std::path::PathBuf;

/// Everything that stops the validator. Messages are one line, fit for users.
#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    /// A flag or a combination of flags is invalid.
    #[error("invalid option: {0}")]
    Usage(String),
    /// The wallet or its hotkey could not be loaded.
    #[error("wallet: {0}")]
    Wallet(#[from] subtensor_wallet::WalletError),
    /// The node could not be reached, or a chain read or transaction failed.
    #[error("chain: {0}")]
    Chain(#[from] subtensor_client::ClientError),
    /// The validator's hotkey is not (or no longer) registered on the subnet.
    #[error("hotkey {hotkey} is not registered on subnet {netuid}: register it first (stcli subnet register --netuid {netuid})")]
    NotRegistered {
        /// The hotkey (SS58).
        hotkey: String,
        /// The subnet.
        netuid: u16,
    },
    /// The evaluation data (corpus or tokenizer) could not be loaded or is unusable.
    #[error("evaluation data: {0}")]
    Data(String),
    /// A query could not be built (the dendrite refused the request).
    #[error("query: {0}")]
    Query(String),
    /// Reading or writing the state directory failed.
    #[error("state file {path}: {reason}")]
    State {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The subnet's grid spec changed (or appeared, or was cleared) while running: the model
    /// this validator checks answers with is no longer the subnet's.
    #[error("{0}; restart the validator (with --grid-model naming the new model, if any)")]
    GridSpecChanged(String),
    /// The distillation buffer could not be opened or written.
    #[error("distillation buffer: {0}")]
    Distill(String),
    /// `--distill-collect` has no miner to ask (none serves with a positive incentive), or none
    /// of those asked gave a usable answer.
    #[error("nothing collected: {0}")]
    NoTeacher(String),
    /// The conditional computation gate (its model, file or features) is unusable.
    #[error("gate: {0}")]
    Gate(String),
    /// The gateway's organic verdicts could not be read (`--organic-from`; logged as a
    /// warning, never fatal).
    #[error("organic verdicts: {0}")]
    Organic(String),
    /// Weights could not be set (only with `--once`, where this ends the run).
    #[error("weights not set: {0}")]
    Weights(String),
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, ValidatorError>;

impl ValidatorError {
    /// A [`ValidatorError::State`] for `path`.
    pub(crate) fn state(path: impl Into<PathBuf>, reason: impl ToString) -> Self {
        ValidatorError::State { path: path.into(), reason: reason.to_string() }
    }
}
