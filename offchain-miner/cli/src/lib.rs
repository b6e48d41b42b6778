//! # subtensor-cli (`stcli`)
//!
//! The command line of a subtensor network, in the shape of btcli: `wallet`, `subnet`,
//! `stake`, `weights` and `axon` command groups over a [`subtensor_wallet`] wallet and a
//! [`subtensor_client`] connection.
//!
//! Modules: [`cli`] (the clap command tree and its help), [`context`] (wallet, connection,
//! passwords, confirmations, submission, output), [`commands`] (one module per group),
//! [`hyperparams`] (parameter names to the pallet's `Hyperparameter`), [`output`] (tables,
//! TAO amounts). Errors are one [`CliError`]; the binary prints it on one line and exits 1.
//!
//! It holds no chain logic of its own: encoding, signing and reads are the client's, key
//! files the wallet's.

pub mod cli;
pub mod commands;
pub mod context;
mod error;
pub mod hyperparams;
pub mod output;

pub use cli::Cli;
pub use context::Ctx;
pub use error::{CliError, Result};
