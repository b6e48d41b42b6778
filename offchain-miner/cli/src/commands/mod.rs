//! One module per command group; [`run`] dispatches a parsed command line.

pub mod axon;
pub mod grid;
pub mod map;
pub mod stake;
pub mod subnet;
pub mod wallet;
pub mod weights;

use crate::{cli::Command, Cli, Ctx, Result};

/// Runs the command `cli` names.
pub async fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx { global: cli.global };
    match cli.command {
        Command::Wallet(c) => wallet::run(&ctx, c).await,
        Command::Subnet(c) => subnet::run(&ctx, c).await,
        Command::Stake(c) => stake::run(&ctx, c).await,
        Command::Weights(c) => weights::run(&ctx, c).await,
        Command::Axon(c) => axon::run(&ctx, c).await,
    }
}
