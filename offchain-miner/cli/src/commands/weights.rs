//! `stcli weights ...`: set, commit and reveal the wallet hotkey's weights.
//!
//! Weights are given on any non-negative scale and sent max-upscaled to u16 (the largest
//! becomes 65535), as the Python SDK does. A commitment is the pallet's own `commit_hash` of
//! `(hotkey, netuid, uids, values, salt, version_key)`.

use crate::{
    cli::{WeightsArgs, WeightsCommand},
    CliError, Ctx, Result,
};
use serde_json::json;
use std::hash::{BuildHasher, Hasher};
use subtensor_client::{
    calls,
    pallet_subtensor::{subnets::weights::commit_hash, NetUid},
    runtime::RuntimeCall,
};
use subtensor_wallet::ss58;

/// Length of a generated salt.
const SALT_LEN: usize = 8;

/// Runs a `weights` subcommand.
pub async fn run(ctx: &Ctx, command: WeightsCommand) -> Result<()> {
    match command {
        WeightsCommand::Set { weights } => {
            let values = to_u16(&weights)?;
            let call = calls::set_weights(
                weights.netuid,
                weights.uids.clone(),
                values,
                weights.version_key,
            );
            send(ctx, &weights, call, "set", json!({})).await
        }
        WeightsCommand::Commit { weights, salt } => {
            let values = to_u16(&weights)?;
            let salt = salt.unwrap_or_else(random_salt);
            let hotkey = ctx.wallet()?.hotkeypub()?;
            let hash = commit_hash(
                &hotkey,
                NetUid(weights.netuid),
                &weights.uids,
                &values,
                &salt,
                weights.version_key,
            );
            let call = calls::commit_weights(weights.netuid, hash);
            let extra = json!({ "salt": salt, "commit_hash": format!("{hash:?}") });
            send(ctx, &weights, call, "committed", extra).await
        }
        WeightsCommand::Reveal { weights, salt } => {
            let values = to_u16(&weights)?;
            let call = calls::reveal_weights(
                weights.netuid,
                weights.uids.clone(),
                values,
                salt.clone(),
                weights.version_key,
            );
            send(ctx, &weights, call, "revealed", json!({ "salt": salt })).await
        }
    }
}

/// Max-upscales `args.weights` to u16 after checking them against `args.uids`.
fn to_u16(args: &WeightsArgs) -> Result<Vec<u16>> {
    if args.uids.len() != args.weights.len() {
        return Err(CliError::Usage(format!(
            "{} uids but {} weights",
            args.uids.len(),
            args.weights.len()
        )));
    }
    if args.weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(CliError::Usage("weights must be finite and non-negative".into()));
    }
    let max = args.weights.iter().copied().fold(0.0, f64::max);
    if max <= 0.0 {
        return Err(CliError::Usage("at least one weight must be positive".into()));
    }
    // In [0, 65535] by construction, so the cast is exact after rounding.
    Ok(args.weights.iter().map(|w| (w / max * f64::from(u16::MAX)).round() as u16).collect())
}

/// A salt from the process's randomly keyed hasher (SipHash with OS-random keys).
fn random_salt() -> Vec<u16> {
    let state = std::collections::hash_map::RandomState::new();
    (0..SALT_LEN)
        .map(|i| {
            let mut h = state.build_hasher();
            h.write_usize(i);
            (h.finish() & u64::from(u16::MAX)) as u16
        })
        .collect()
}

async fn send(
    ctx: &Ctx,
    args: &WeightsArgs,
    call: RuntimeCall,
    done: &str,
    extra: serde_json::Value,
) -> Result<()> {
    let wallet = ctx.wallet()?;
    let hotkey_pub = wallet.hotkeypub()?;
    let client = ctx.connect().await?;
    client.ensure_subnet(args.netuid).await?;
    if client.uid(args.netuid, &hotkey_pub, None).await?.is_none() {
        return Err(CliError::Usage(format!(
            "hotkey {} is not registered on subnet {}",
            ss58(&hotkey_pub),
            args.netuid
        )));
    }
    ctx.confirm(&format!(
        "Weights {done}: {:?} → {:?} on subnet {}. Send?",
        args.uids, args.weights, args.netuid
    ))?;
    let hotkey = ctx.unlock_hotkey(&wallet)?;
    let receipt = ctx.submit(&client, call, &hotkey).await?;
    let mut out = json!({ "netuid": args.netuid, "hotkey": ss58(&hotkey_pub), "uids": args.uids,
                          "weights": args.weights, "block": receipt.block_number, "action": done });
    if let (Some(out), Some(extra)) = (out.as_object_mut(), extra.as_object()) {
        out.extend(extra.clone());
    }
    ctx.emit(out.clone(), || {
        println!("Weights {done} on subnet {} in block #{}", args.netuid, receipt.block_number);
        if let Some(salt) = out.get("salt").filter(|_| done == "committed") {
            println!(
                "Salt (needed to reveal): {}",
                salt.as_array().map_or(String::new(), |s| {
                    s.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")
                })
            );
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(uids: Vec<u16>, weights: Vec<f64>) -> WeightsArgs {
        WeightsArgs { netuid: 1, uids, weights, version_key: 0 }
    }

    #[test]
    fn weights_are_max_upscaled() {
        assert_eq!(to_u16(&args(vec![0, 1], vec![0.5, 1.0])).unwrap(), vec![32768, 65535]);
        assert_eq!(to_u16(&args(vec![3], vec![7.0])).unwrap(), vec![65535]);
        assert!(to_u16(&args(vec![0, 1], vec![1.0])).is_err());
        assert!(to_u16(&args(vec![0], vec![-1.0])).is_err());
        assert!(to_u16(&args(vec![0], vec![0.0])).is_err());
        assert_eq!(random_salt().len(), SALT_LEN);
    }
}
