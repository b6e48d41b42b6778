//! `stcli subnet grid show|set|clear`: a subnet's grid spec, the one model its miners serve.
//!
//! `set` checks the spec (digest, sampler version, limits, name) before it connects, and the
//! signer's right and the owner's rate limit before it sends, so a refused command sends
//! nothing and pays no fee. The owner signs directly; anyone else must hold the sudo key, and
//! the call then goes through Sudo (root is not rate limited).

use crate::{cli::GridCommand, output::Table, CliError, Ctx, Result};
use serde_json::{json, Value};
use subtensor_client::{
    calls,
    pallet_subtensor::Event as SubtensorEvent,
    primitives::{GridModelName, GridSpec, GridSpecRecord, GRID_MODEL_NAME_MAX_BYTES},
    runtime::{RuntimeCall, RuntimeEvent},
    Client, ClientError,
};
use subtensor_wallet::{ss58, AccountId32};

/// Runs a `subnet grid` subcommand.
pub async fn run(ctx: &Ctx, command: GridCommand) -> Result<()> {
    match command {
        GridCommand::Show { netuid } => show(ctx, netuid).await,
        GridCommand::Set { netuid, sha256, name, max_new_tokens, max_context, sampler_version } => {
            let spec = parse_spec(&sha256, &name, max_new_tokens, max_context, sampler_version)?;
            set(ctx, netuid, spec).await
        }
        GridCommand::Clear { netuid } => clear(ctx, netuid).await,
    }
}

/// A SHA-256 digest from 64 hex digits, with or without `0x`.
pub fn parse_sha256(text: &str) -> Result<[u8; 32]> {
    let digits = text.trim();
    let digits = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")).unwrap_or(digits);
    let bad = |why: String| CliError::Usage(format!("invalid --sha256 {text:?}: {why}"));
    if digits.len() != 64 {
        return Err(bad(format!(
            "expected 64 hex digits (a 32-byte SHA-256), got {}",
            digits.chars().count()
        )));
    }
    let bytes = hex::decode(digits).map_err(|e| bad(format!("not hex ({e})")))?;
    bytes.try_into().map_err(|_| bad("not 32 bytes".into()))
}

/// The spec the options describe, checked by the chain's own rules ([`GridSpec::validate`]).
pub fn parse_spec(
    sha256: &str,
    name: &str,
    max_new_tokens: u32,
    max_context: u32,
    sampler_version: u32,
) -> Result<GridSpec> {
    let model_sha256 = parse_sha256(sha256)?;
    let model_name = GridModelName::try_from(name.as_bytes().to_vec()).map_err(|_| {
        CliError::Usage(format!(
            "invalid --name: {} bytes, at most {GRID_MODEL_NAME_MAX_BYTES}",
            name.len()
        ))
    })?;
    let spec = GridSpec { model_sha256, sampler_version, max_new_tokens, max_context, model_name };
    spec.validate().map_err(|e| CliError::Usage(format!("invalid grid spec: {e}")))?;
    Ok(spec)
}

/// A grid spec as JSON: the shape of the node's `subtensor_getGridSpec` (the digest in
/// lowercase hex without `0x`).
pub fn grid_json(record: &GridSpecRecord) -> Value {
    let spec = &record.spec;
    json!({
        "model_sha256": hex::encode(spec.model_sha256),
        "sampler_version": spec.sampler_version,
        "max_new_tokens": spec.max_new_tokens,
        "max_context": spec.max_context,
        "model_name": String::from_utf8_lossy(&spec.model_name),
        "set_at_block": record.set_at_block,
    })
}

/// Prints a grid spec as a two-column table.
fn print_grid(record: &GridSpecRecord) {
    let mut table = Table::new(&["FIELD", "VALUE"]);
    for (field, value) in grid_json(record).as_object().into_iter().flatten() {
        let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        table.row(vec![field.clone(), text]);
    }
    table.print();
}

async fn show(ctx: &Ctx, netuid: u16) -> Result<()> {
    let client = ctx.connect().await?;
    client.ensure_subnet(netuid).await?;
    let record = client.grid_spec(netuid, None).await?;
    ctx.emit(
        json!({ "netuid": netuid, "grid": record.as_ref().map(grid_json) }),
        || match &record {
            Some(record) => {
                println!("Subnet {netuid} is a grid subnet");
                print_grid(record);
            }
            None => println!("Subnet {netuid} is not a grid subnet (no grid spec)"),
        },
    );
    Ok(())
}

/// `call` as the signer may send it on `netuid`: directly by the owner, through Sudo by the
/// sudo key; `(call, as_root)`. Anyone else is refused before anything is sent.
async fn as_owner_or_root(
    client: &Client,
    netuid: u16,
    signer: &AccountId32,
    call: RuntimeCall,
    what: &str,
) -> Result<(RuntimeCall, bool)> {
    client.ensure_subnet(netuid).await?;
    let owner = client.subnet_owner(netuid, None).await?;
    if owner.as_ref() == Some(signer) {
        return Ok((call, false));
    }
    if client.sudo_key(None).await?.as_ref() == Some(signer) {
        return Ok((calls::sudo(call), true));
    }
    let owner = owner.as_ref().map_or_else(|| "nobody".to_owned(), ss58);
    Err(CliError::Usage(format!(
        "{} is not the owner of subnet {netuid} ({owner}) nor the sudo key: only they may {what}",
        ss58(signer)
    )))
}

async fn set(ctx: &Ctx, netuid: u16, spec: GridSpec) -> Result<()> {
    let wallet = ctx.wallet()?;
    let signer = wallet.coldkeypub()?;
    let client = ctx.connect().await?;
    let call = calls::set_grid_spec(netuid, spec.clone());
    let (call, as_root) =
        as_owner_or_root(&client, netuid, &signer, call, "set its grid spec").await?;
    if !as_root {
        // The chain checks the limit at the including block, the next one at the earliest.
        if let Some(last) = client.grid_spec_last_set(netuid, None).await? {
            let limit = client.grid_spec_rate_limit(None).await?;
            let (best, _) = client.best_block().await?;
            let next = last.saturating_add(limit);
            if u64::from(best).saturating_add(1) < next {
                return Err(CliError::Usage(format!(
                    "the grid spec of subnet {netuid} was set at block #{last}: its owner may set \
                     it again from block #{next} (rate limit {limit} blocks; now #{best})"
                )));
            }
        }
    }
    ctx.confirm(&format!(
        "Set the grid spec of subnet {netuid}{} to model {} ({})?",
        if as_root { " as root" } else { "" },
        String::from_utf8_lossy(&spec.model_name),
        hex::encode(spec.model_sha256)
    ))?;
    let key = ctx.unlock_coldkey(&wallet)?;
    let receipt = ctx.submit(&client, call, &key).await?;
    let set = receipt.find(|e| match e {
        RuntimeEvent::SubtensorModule(SubtensorEvent::GridSpecSet { netuid: n, .. }) => Some(n.0),
        _ => None,
    });
    if set != Some(netuid) {
        return Err(ClientError::NotFound("no GridSpecSet event".into()).into());
    }
    let record = GridSpecRecord { spec, set_at_block: u64::from(receipt.block_number) };
    ctx.emit(
        json!({ "netuid": netuid, "grid": grid_json(&record), "as_root": as_root,
                "block": receipt.block_number }),
        || {
            println!(
                "Set the grid spec of subnet {netuid} in block #{}{}",
                receipt.block_number,
                if as_root { " (as root)" } else { "" }
            );
            print_grid(&record);
        },
    );
    Ok(())
}

async fn clear(ctx: &Ctx, netuid: u16) -> Result<()> {
    let wallet = ctx.wallet()?;
    let signer = wallet.coldkeypub()?;
    let client = ctx.connect().await?;
    let call = calls::clear_grid_spec(netuid);
    let (call, as_root) =
        as_owner_or_root(&client, netuid, &signer, call, "clear its grid spec").await?;
    if client.grid_spec(netuid, None).await?.is_none() {
        return Err(CliError::Usage(format!("subnet {netuid} has no grid spec to clear")));
    }
    ctx.confirm(&format!(
        "Clear the grid spec of subnet {netuid}{}?",
        if as_root { " as root" } else { "" }
    ))?;
    let key = ctx.unlock_coldkey(&wallet)?;
    let receipt = ctx.submit(&client, call, &key).await?;
    ctx.emit(
        json!({ "netuid": netuid, "cleared": true, "as_root": as_root,
                "block": receipt.block_number }),
        || println!("Cleared the grid spec of subnet {netuid} in block #{}", receipt.block_number),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const DIGEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn digests_parse_with_or_without_0x() {
        let bytes = parse_sha256(DIGEST).unwrap();
        assert_eq!(hex::encode(bytes), DIGEST);
        assert_eq!(parse_sha256(&format!("0x{DIGEST}")).unwrap(), bytes);
        assert_eq!(parse_sha256(&DIGEST.to_uppercase()).unwrap(), bytes);
        for bad in
            ["", "0x", "abcd", &DIGEST[1..], &format!("{DIGEST}00"), &DIGEST.replace('9', "g")]
        {
            let error = parse_sha256(bad).unwrap_err().to_string();
            assert!(error.starts_with("invalid --sha256"), "{bad}: {error}");
        }
        let short = parse_sha256("abcd").unwrap_err().to_string();
        assert!(short.contains("expected 64 hex digits"), "{short}");
    }

    #[test]
    fn specs_are_checked_by_the_chain_rules_before_sending() {
        let spec = parse_spec(DIGEST, "tiny-gpt", 64, 2048, 1).unwrap();
        assert_eq!((spec.max_new_tokens, spec.max_context, spec.sampler_version), (64, 2048, 1));
        assert_eq!(spec.model_name_str(), Some("tiny-gpt"));
        let error = |r: Result<GridSpec>| r.unwrap_err().to_string();
        assert!(error(parse_spec(DIGEST, &"x".repeat(65), 64, 2048, 1)).contains("--name"));
        assert!(parse_spec(DIGEST, &"x".repeat(64), 64, 2048, 1).is_ok());
        for (tokens, context, version) in [(0, 10, 1), (10, 10, 1), (1, 2, 2), (1, 1 << 21, 1)] {
            let e = error(parse_spec(DIGEST, "m", tokens, context, version));
            assert!(e.starts_with("invalid grid spec"), "{e}");
        }
        assert!(error(parse_spec(&"0".repeat(64), "m", 1, 2, 1)).contains("all zeros"));
    }

    #[test]
    fn grid_json_matches_the_rpc_shape() {
        let spec = parse_spec(DIGEST, "tiny-gpt", 64, 2048, 1).unwrap();
        let record = GridSpecRecord { spec, set_at_block: 12 };
        assert_eq!(
            grid_json(&record),
            json!({ "model_sha256": DIGEST, "sampler_version": 1, "max_new_tokens": 64,
                    "max_context": 2048, "model_name": "tiny-gpt", "set_at_block": 12 })
        );
    }
}
