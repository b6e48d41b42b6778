//! `stcli axon serve`: publish the wallet hotkey's axon endpoint.

use crate::{cli::AxonCommand, Ctx, Result};
use serde_json::json;
use subtensor_client::calls;
use subtensor_wallet::ss58;

/// Runs an `axon` subcommand.
pub async fn run(ctx: &Ctx, command: AxonCommand) -> Result<()> {
    let AxonCommand::Serve { netuid, ip, port, neuron_version: version } = command;
    let wallet = ctx.wallet()?;
    let hotkey_pub = wallet.hotkeypub()?;
    let client = ctx.connect().await?;
    client.ensure_subnet(netuid).await?;
    ctx.confirm(&format!(
        "Serve the axon of {} at {ip}:{port} on subnet {netuid}?",
        ss58(&hotkey_pub)
    ))?;
    let hotkey = ctx.unlock_hotkey(&wallet)?;
    let receipt =
        ctx.submit(&client, calls::serve_axon(netuid, ip, port, version), &hotkey).await?;
    ctx.emit(
        json!({ "netuid": netuid, "hotkey": ss58(&hotkey_pub), "ip": ip.to_string(), "port": port,
                "version": version, "block": receipt.block_number }),
        || {
            println!(
                "Axon of {} served at {ip}:{port} on subnet {netuid} (block #{})",
                ss58(&hotkey_pub),
                receipt.block_number
            )
        },
    );
    Ok(())
}
