//! [`CliError`], the one error type of the command line, and its [`Result`] alias.

use subtensor_client::ClientError;
use subtensor_wallet::WalletError;

/// Why a command failed. Each message is one line; `main` prints it after `error: `.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A wallet or key problem (missing wallet, wrong password, existing file, ...).
    #[error(transparent)]
    Wallet(#[from] WalletError),
    /// A node or chain problem (node down, unknown subnet, refused or failed transaction).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// The account cannot pay.
    #[error("insufficient balance: {0}")]
    InsufficientBalance(String),
    /// The user declined the confirmation.
    #[error("aborted: nothing was sent")]
    Aborted,
    /// A gateway (`stgateway`) could not be reached or answered something unexpected.
    #[error("gateway: {0}")]
    Gateway(String),
    /// Terminal input or output failed.
    #[error("terminal: {0}")]
    Io(#[from] std::io::Error),
}

/// The result type of the command line.
pub type Result<T> = std::result::Result<T, CliError>;
