//! `stcli wallet ...`: create and restore keys, list wallets, balances, transfers and the
//! overview of a wallet's neurons.

use crate::{
    cli::{KeySource, WalletCommand},
    output::{fraction, parse_tao, short, tao, Table},
    CliError, Ctx, Result,
};
use serde_json::json;
use subtensor_client::{calls, neuron_stake, primitives::NeuronInfoLite, runtime::NetUid};
use subtensor_wallet::{list_wallets, parse_account, ss58, Keypair, Wallet, WalletError};

/// Runs a `wallet` subcommand.
pub async fn run(ctx: &Ctx, command: WalletCommand) -> Result<()> {
    match command {
        WalletCommand::Create { n_words, no_password, overwrite } => {
            create(ctx, n_words, no_password, overwrite)
        }
        WalletCommand::NewHotkey { n_words, overwrite } => new_hotkey(ctx, n_words, overwrite),
        WalletCommand::RegenColdkey { source, no_password, overwrite } => {
            regen_coldkey(ctx, &source, no_password, overwrite)
        }
        WalletCommand::RegenHotkey { source, overwrite } => regen_hotkey(ctx, &source, overwrite),
        WalletCommand::List => list(ctx),
        WalletCommand::Check => check(ctx),
        WalletCommand::Balance { ss58 } => balance(ctx, ss58.as_deref()).await,
        WalletCommand::Transfer { dest, amount } => transfer(ctx, &dest, &amount).await,
        WalletCommand::Overview => overview(ctx).await,
    }
}

fn print_mnemonic(ctx: &Ctx, what: &str, key: &Keypair) {
    if let Some(phrase) = key.mnemonic() {
        ctx.note(&format!(
            "IMPORTANT: store this mnemonic in a secure (preferably offline) place; anyone who \
             has it controls the {what}.\nThe mnemonic to the new {what} is: {phrase}\nYou can use \
             it to recreate the key with `stcli wallet regen-{what} --mnemonic \"...\"`."
        ));
    }
}

/// The coldkey password to use, or `None` for a plaintext coldkey.
fn coldkey_password(ctx: &Ctx, no_password: bool) -> Result<Option<zeroize::Zeroizing<String>>> {
    if no_password {
        Ok(None)
    } else {
        ctx.new_password().map(Some)
    }
}

fn create(ctx: &Ctx, n_words: usize, no_password: bool, overwrite: bool) -> Result<()> {
    let wallet = ctx.wallet()?;
    // Refuse before asking anything when files would be replaced.
    wallet.check_coldkey_free(overwrite)?;
    wallet.check_hotkey_free(overwrite)?;
    let cold = Keypair::generate(n_words)?;
    let hot = Keypair::generate(n_words)?;
    let password = coldkey_password(ctx, no_password)?;
    ctx.note("Encrypting the coldkey...");
    wallet.write_coldkey(&cold, password.as_deref().map(String::as_str), overwrite)?;
    wallet.write_hotkey(&hot, overwrite)?;
    print_mnemonic(ctx, "coldkey", &cold);
    print_mnemonic(ctx, "hotkey", &hot);
    ctx.emit(
        json!({
            "wallet": wallet.name(), "path": wallet.dir(),
            "coldkey": cold.ss58(), "coldkey_mnemonic": cold.mnemonic(),
            "hotkey_name": wallet.hotkey_name(), "hotkey": hot.ss58(),
            "hotkey_mnemonic": hot.mnemonic(), "encrypted": password.is_some(),
        }),
        || {
            println!("Created wallet '{}' in {}", wallet.name(), wallet.dir().display());
            println!("  coldkey  {}", cold.ss58());
            println!("  hotkey   {} ({})", hot.ss58(), wallet.hotkey_name());
        },
    );
    Ok(())
}

fn new_hotkey(ctx: &Ctx, n_words: usize, overwrite: bool) -> Result<()> {
    let wallet = ctx.wallet()?;
    if !wallet.exists() {
        return Err(WalletError::NotFound { what: "wallet", path: wallet.dir().to_owned() }.into());
    }
    wallet.check_hotkey_free(overwrite)?;
    let hot = Keypair::generate(n_words)?;
    wallet.write_hotkey(&hot, overwrite)?;
    print_mnemonic(ctx, "hotkey", &hot);
    emit_key(ctx, &wallet, "hotkey", &hot);
    Ok(())
}

fn emit_key(ctx: &Ctx, wallet: &Wallet, what: &str, key: &Keypair) {
    let name = if what == "hotkey" { wallet.hotkey_name() } else { wallet.name() };
    ctx.emit(
        json!({ "wallet": wallet.name(), "kind": what, "name": name, "ss58": key.ss58() }),
        || println!("Wrote {what} '{name}' of wallet '{}': {}", wallet.name(), key.ss58()),
    );
}

/// The key a `regen-*` command restores: from the flags, or a mnemonic asked without echo.
fn key_from(source: &KeySource) -> Result<Keypair> {
    if let Some(phrase) = &source.mnemonic {
        return Ok(Keypair::from_mnemonic(phrase)?);
    }
    if let Some(seed) = &source.seed {
        let bytes = hex::decode(seed.trim().trim_start_matches("0x"))
            .map_err(|e| CliError::Usage(format!("invalid seed: {e}")))?;
        return Ok(Keypair::from_seed(&bytes)?);
    }
    if let Some(uri) = &source.uri {
        return Ok(Keypair::from_uri(uri)?);
    }
    let phrase = rpassword::prompt_password("Mnemonic: ").map_err(|e| {
        CliError::Usage(format!("no key given ({e}): pass --mnemonic, --seed or --uri"))
    })?;
    Ok(Keypair::from_mnemonic(&phrase)?)
}

fn regen_coldkey(ctx: &Ctx, source: &KeySource, no_password: bool, overwrite: bool) -> Result<()> {
    let wallet = ctx.wallet()?;
    wallet.check_coldkey_free(overwrite)?;
    let key = key_from(source)?;
    let password = coldkey_password(ctx, no_password)?;
    wallet.write_coldkey(&key, password.as_deref().map(String::as_str), overwrite)?;
    emit_key(ctx, &wallet, "coldkey", &key);
    Ok(())
}

fn regen_hotkey(ctx: &Ctx, source: &KeySource, overwrite: bool) -> Result<()> {
    let wallet = ctx.wallet()?;
    wallet.check_hotkey_free(overwrite)?;
    let key = key_from(source)?;
    wallet.write_hotkey(&key, overwrite)?;
    emit_key(ctx, &wallet, "hotkey", &key);
    Ok(())
}

fn check(ctx: &Ctx) -> Result<()> {
    let wallet = ctx.wallet()?;
    let mismatch = |path: std::path::PathBuf, what: &str| WalletError::MalformedKeyfile {
        path,
        reason: format!("it does not match the {what}"),
    };
    let cold = ctx.unlock_coldkey(&wallet)?;
    if wallet.coldkeypub()? != cold.account_id() {
        return Err(mismatch(wallet.coldkeypub_path(), "coldkey").into());
    }
    let hot = if wallet.hotkey_path().is_file() {
        let hot = ctx.unlock_hotkey(&wallet)?;
        if wallet.hotkeypub()? != hot.account_id() {
            return Err(mismatch(wallet.hotkeypub_path(), "hotkey").into());
        }
        Some(hot)
    } else {
        None
    };
    let encrypted = wallet.coldkey_is_encrypted()?;
    ctx.emit(
        json!({ "wallet": wallet.name(), "coldkey": cold.ss58(), "coldkey_encrypted": encrypted,
                "hotkey_name": wallet.hotkey_name(), "hotkey": hot.as_ref().map(Keypair::ss58) }),
        || {
            println!(
                "coldkey  {} ({})",
                cold.ss58(),
                if encrypted { "encrypted" } else { "plaintext" }
            );
            match &hot {
                Some(hot) => println!("hotkey   {} ({})", hot.ss58(), wallet.hotkey_name()),
                None => println!("hotkey   none named '{}'", wallet.hotkey_name()),
            }
        },
    );
    Ok(())
}

fn list(ctx: &Ctx) -> Result<()> {
    let root = subtensor_wallet::expand_home(&ctx.global.wallet_path);
    let mut wallets = Vec::new();
    for name in list_wallets(&root)? {
        let wallet = Wallet::new(&ctx.global.wallet_path, &name, "default")?;
        let coldkey = wallet.coldkeypub().ok().map(|a| ss58(&a));
        let mut hotkeys = Vec::new();
        for hotkey in wallet.hotkey_names()? {
            let address = wallet.with_hotkey(&hotkey)?.hotkeypub().ok().map(|a| ss58(&a));
            hotkeys.push(json!({ "name": hotkey, "ss58": address }));
        }
        wallets.push(json!({ "name": name, "coldkey": coldkey, "hotkeys": hotkeys }));
    }
    ctx.emit(json!({ "path": root, "wallets": wallets }), || {
        println!("Wallets in {}", root.display());
        let mut table = Table::new(&["WALLET", "HOTKEY", "SS58"]);
        for w in &wallets {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or("?").to_owned();
            table.row(vec![text(&w["name"]), "(coldkey)".into(), text(&w["coldkey"])]);
            for h in w["hotkeys"].as_array().into_iter().flatten() {
                table.row(vec![String::new(), text(&h["name"]), text(&h["ss58"])]);
            }
        }
        table.print();
    });
    Ok(())
}

async fn balance(ctx: &Ctx, address: Option<&str>) -> Result<()> {
    let account = match address {
        Some(a) => parse_account(a)?,
        None => ctx.wallet()?.coldkeypub()?,
    };
    let client = ctx.connect().await?;
    let b = client.balances(&account, None).await?;
    ctx.emit(
        json!({ "ss58": ss58(&account), "free_rao": b.free, "reserved_rao": b.reserved,
                "staked_rao": b.staked,
                "total_rao": b.free.saturating_add(b.reserved).saturating_add(b.staked) }),
        || {
            let mut table = Table::new(&["COLDKEY", "FREE", "STAKED", "TOTAL"]);
            table.row(vec![
                ss58(&account),
                tao(b.free),
                tao(b.staked),
                tao(b.free.saturating_add(b.reserved).saturating_add(b.staked)),
            ]);
            table.print();
        },
    );
    Ok(())
}

async fn transfer(ctx: &Ctx, dest: &str, amount: &str) -> Result<()> {
    let dest = parse_account(dest)?;
    let amount = parse_tao(amount)?;
    if amount == 0 {
        return Err(CliError::Usage("the amount must be positive".into()));
    }
    let wallet = ctx.wallet()?;
    let from = wallet.coldkeypub()?;
    let client = ctx.connect().await?;
    let before = client.balances(&from, None).await?;
    if before.free <= amount {
        return Err(CliError::InsufficientBalance(format!(
            "{} free, {} to send plus the fee",
            tao(before.free),
            tao(amount)
        )));
    }
    ctx.confirm(&format!("Transfer {} from {} to {}?", tao(amount), ss58(&from), ss58(&dest)))?;
    let key = ctx.unlock_coldkey(&wallet)?;
    let receipt = ctx.submit(&client, calls::transfer(dest.clone(), amount), &key).await?;
    let after = client.balances(&from, Some(receipt.block_hash)).await?;
    ctx.emit(
        json!({ "from": ss58(&from), "to": ss58(&dest), "amount_rao": amount,
                "fee_rao": receipt.fee, "block": receipt.block_number,
                "balance_before_rao": before.free, "balance_after_rao": after.free }),
        || {
            println!(
                "Transferred {} to {} in block #{}",
                tao(amount),
                ss58(&dest),
                receipt.block_number
            );
            println!(
                "Balance: {} → {} (fee {})",
                tao(before.free),
                tao(after.free),
                tao(receipt.fee)
            );
        },
    );
    Ok(())
}

async fn overview(ctx: &Ctx) -> Result<()> {
    let wallet = ctx.wallet()?;
    let coldkey = wallet.coldkeypub()?;
    let client = ctx.connect().await?;
    let (block, at) = client.best_block().await?;
    let at = Some(at);
    let balances = client.balances(&coldkey, at).await?;
    let mut rows = Vec::new();
    for name in wallet.hotkey_names()? {
        let Ok(hotkey) = wallet.with_hotkey(&name)?.hotkeypub() else { continue };
        let netuids = client.hotkey_netuids(&hotkey, at).await?;
        if netuids.is_empty() {
            rows.push(json!({ "hotkey_name": name, "hotkey": ss58(&hotkey), "netuid": null }));
        }
        for netuid in netuids {
            let Some(uid) = client.uid(netuid, &hotkey, at).await? else { continue };
            let neuron: Option<NeuronInfoLite<_>> = client
                .runtime_api("NeuronInfoRuntimeApi_get_neuron_lite", &(NetUid(netuid), uid), at)
                .await?;
            let Some(n) = neuron else { continue };
            rows.push(json!({
                "hotkey_name": name, "hotkey": ss58(&hotkey), "netuid": netuid, "uid": uid,
                "stake_rao": neuron_stake(&n), "incentive": n.incentive, "dividends": n.dividends,
                "emission_rao": n.emission, "validator_permit": n.validator_permit,
                "active": n.active, "axon": n.axon_info.socket_addr().map(|a| a.to_string()),
            }));
        }
    }
    ctx.emit(
        json!({ "wallet": wallet.name(), "coldkey": ss58(&coldkey), "block": block,
                "free_rao": balances.free, "staked_rao": balances.staked, "neurons": rows }),
        || {
            println!("Wallet '{}'  coldkey {}  (block #{block})", wallet.name(), ss58(&coldkey));
            println!("Free {}   Staked {}", tao(balances.free), tao(balances.staked));
            let mut table = Table::new(&[
                "HOTKEY",
                "SS58",
                "NETUID",
                "UID",
                "STAKE",
                "INCENTIVE",
                "DIVIDENDS",
                "EMISSION",
                "VPERMIT",
                "AXON",
            ]);
            for r in &rows {
                let num = |k: &str| r[k].as_u64().unwrap_or(0);
                let fr = |k: &str| fraction(u16::try_from(num(k)).unwrap_or(0));
                if r["netuid"].is_null() {
                    table.row(vec![
                        r["hotkey_name"].as_str().unwrap_or("").to_owned(),
                        short(r["hotkey"].as_str().unwrap_or("")),
                        "-".into(),
                        "(not registered)".into(),
                    ]);
                    continue;
                }
                table.row(vec![
                    r["hotkey_name"].as_str().unwrap_or("").to_owned(),
                    short(r["hotkey"].as_str().unwrap_or("")),
                    num("netuid").to_string(),
                    num("uid").to_string(),
                    tao(num("stake_rao")),
                    fr("incentive"),
                    fr("dividends"),
                    tao(num("emission_rao")),
                    if r["validator_permit"].as_bool() == Some(true) { "yes" } else { "no" }.into(),
                    r["axon"].as_str().unwrap_or("-").to_owned(),
                ]);
            }
            table.print();
        },
    );
    Ok(())
}
