//! `stcli stake ...`: add, remove and show the wallet coldkey's stake.

use crate::{
    cli::StakeCommand,
    output::{parse_tao, tao, Table},
    CliError, Ctx, Result,
};
use serde_json::json;
use subtensor_client::calls;
use subtensor_wallet::{parse_account, ss58, AccountId32, Wallet};

/// Runs a `stake` subcommand.
pub async fn run(ctx: &Ctx, command: StakeCommand) -> Result<()> {
    match command {
        StakeCommand::Add { amount, hotkey_ss58 } => {
            change(ctx, &amount, hotkey_ss58.as_deref(), true).await
        }
        StakeCommand::Remove { amount, hotkey_ss58 } => {
            change(ctx, &amount, hotkey_ss58.as_deref(), false).await
        }
        StakeCommand::Show => show(ctx).await,
    }
}

fn target_hotkey(wallet: &Wallet, given: Option<&str>) -> Result<AccountId32> {
    Ok(match given {
        Some(address) => parse_account(address)?,
        None => wallet.hotkeypub()?,
    })
}

async fn change(ctx: &Ctx, amount: &str, hotkey: Option<&str>, add: bool) -> Result<()> {
    let amount = parse_tao(amount)?;
    if amount == 0 {
        return Err(CliError::Usage("the amount must be positive".into()));
    }
    let wallet = ctx.wallet()?;
    let coldkey = wallet.coldkeypub()?;
    let hotkey = target_hotkey(&wallet, hotkey)?;
    let client = ctx.connect().await?;
    let before = client.balances(&coldkey, None).await?;
    let staked = client.stake(&hotkey, &coldkey, None).await?;
    if add && before.free <= amount {
        return Err(CliError::InsufficientBalance(format!(
            "{} free, {} to stake plus the fee",
            tao(before.free),
            tao(amount)
        )));
    }
    if !add && staked < amount {
        return Err(CliError::InsufficientBalance(format!(
            "{} staked on {}, {} to unstake",
            tao(staked),
            ss58(&hotkey),
            tao(amount)
        )));
    }
    let (verb, call) = if add {
        ("Stake", calls::add_stake(hotkey.clone(), amount))
    } else {
        ("Unstake", calls::remove_stake(hotkey.clone(), amount))
    };
    ctx.confirm(&format!(
        "{verb} {} {} hotkey {}?",
        tao(amount),
        if add { "to" } else { "from" },
        ss58(&hotkey)
    ))?;
    let key = ctx.unlock_coldkey(&wallet)?;
    let receipt = ctx.submit(&client, call, &key).await?;
    let at = Some(receipt.block_hash);
    let after = client.balances(&coldkey, at).await?;
    let staked_after = client.stake(&hotkey, &coldkey, at).await?;
    ctx.emit(
        json!({ "hotkey": ss58(&hotkey), "coldkey": ss58(&coldkey), "amount_rao": amount,
                "added": add, "stake_before_rao": staked, "stake_after_rao": staked_after,
                "balance_before_rao": before.free, "balance_after_rao": after.free,
                "block": receipt.block_number }),
        || {
            let done = if add { "Stake added" } else { "Stake removed" };
            println!(
                "{done}: {} on {} in block #{}",
                tao(amount),
                ss58(&hotkey),
                receipt.block_number
            );
            println!("Stake: {} → {}", tao(staked), tao(staked_after));
            println!("Balance: {} → {}", tao(before.free), tao(after.free));
        },
    );
    Ok(())
}

async fn show(ctx: &Ctx) -> Result<()> {
    let wallet = ctx.wallet()?;
    let coldkey = wallet.coldkeypub()?;
    let client = ctx.connect().await?;
    let at = Some(client.best_block().await?.1);
    let mut rows = Vec::new();
    for name in wallet.hotkey_names()? {
        let Ok(hotkey) = wallet.with_hotkey(&name)?.hotkeypub() else { continue };
        let mine = client.stake(&hotkey, &coldkey, at).await?;
        let total = client.hotkey_stake(&hotkey, at).await?;
        rows.push((name, hotkey, mine, total));
    }
    let staked = client.balances(&coldkey, at).await?.staked;
    let json_rows: Vec<_> = rows
        .iter()
        .map(|(name, hk, mine, total)| {
            json!({ "hotkey_name": name, "hotkey": ss58(hk), "stake_rao": mine, "hotkey_total_rao": total })
        })
        .collect();
    ctx.emit(
        json!({ "coldkey": ss58(&coldkey), "total_staked_rao": staked, "hotkeys": json_rows }),
        || {
            let mut table = Table::new(&["HOTKEY", "SS58", "YOUR STAKE", "HOTKEY TOTAL"]);
            for (name, hk, mine, total) in &rows {
                table.row(vec![name.clone(), ss58(hk), tao(*mine), tao(*total)]);
            }
            table.print();
            println!("Total staked by {}: {}", ss58(&coldkey), tao(staked));
        },
    );
    Ok(())
}
