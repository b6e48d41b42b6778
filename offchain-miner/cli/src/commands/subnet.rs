//! `stcli subnet ...`: create, list and show subnets, hyperparameters, and registration by
//! burn or proof of work. Grid specs (`subnet grid ...`) are in [`super::grid`], a gateway's
//! latency map (`subnet map`) in [`super::map`].

use super::grid;
use crate::{
    cli::SubnetCommand,
    hyperparams::parse_hyperparameter,
    output::{fraction, short, tao, Table},
    CliError, Ctx, Result,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use subtensor_client::{
    calls, neuron_stake,
    pallet_subtensor::Event as SubtensorEvent,
    pow::{self, Problem, Progress, Solver},
    register::{registered_uid, PowEvent},
    runtime::{Hash, RuntimeEvent},
    Client, ClientError,
};
use subtensor_wallet::{ss58, AccountId32, Keypair};

/// Runs a `subnet` subcommand.
pub async fn run(ctx: &Ctx, command: SubnetCommand) -> Result<()> {
    match command {
        SubnetCommand::Create => create(ctx).await,
        SubnetCommand::List => list(ctx).await,
        SubnetCommand::Show { netuid } => show(ctx, netuid).await,
        SubnetCommand::Hyperparameters { netuid } => hyperparameters(ctx, netuid).await,
        SubnetCommand::Set { param, value, netuid } => set(ctx, netuid, &param, &value).await,
        SubnetCommand::Register { netuid, pow: false, .. } => register_burned(ctx, netuid).await,
        SubnetCommand::Register { netuid, pow: true, threads, pow_timeout } => {
            let threads = threads.unwrap_or_else(Solver::all_cores);
            register_pow(ctx, netuid, threads, Duration::from_secs(pow_timeout)).await
        }
        SubnetCommand::Grid(command) => grid::run(ctx, command).await,
        SubnetCommand::Map { gateway } => super::map::run(ctx, &gateway).await,
        SubnetCommand::PowBenchmark { difficulty, threads, rounds } => {
            pow_benchmark(ctx, difficulty, threads.unwrap_or_else(Solver::all_cores), rounds)
        }
    }
}

async fn create(ctx: &Ctx) -> Result<()> {
    let wallet = ctx.wallet()?;
    let coldkey = wallet.coldkeypub()?;
    let hotkey = wallet.hotkeypub()?;
    let client = ctx.connect().await?;
    let cost = client.network_lock_cost().await?;
    let balance = client.balances(&coldkey, None).await?;
    if balance.free < cost {
        return Err(CliError::InsufficientBalance(format!(
            "{} free, the subnet lock costs {}",
            tao(balance.free),
            tao(cost)
        )));
    }
    ctx.confirm(&format!(
        "Create a subnet owned by {} (balance {}), locking {}?",
        ss58(&coldkey),
        tao(balance.free),
        tao(cost)
    ))?;
    let key = ctx.unlock_coldkey(&wallet)?;
    let receipt = ctx.submit(&client, calls::register_network(hotkey.clone()), &key).await?;
    let (netuid, lock) = receipt
        .find(|e| match e {
            RuntimeEvent::SubtensorModule(SubtensorEvent::NetworkAdded {
                netuid, lock, ..
            }) => Some((netuid.0, *lock)),
            _ => None,
        })
        .ok_or_else(|| ClientError::NotFound("no NetworkAdded event".into()))?;
    ctx.emit(
        json!({ "netuid": netuid, "lock_rao": lock, "owner": ss58(&coldkey),
                "owner_hotkey": ss58(&hotkey), "block": receipt.block_number }),
        || println!("Registered subnetwork with netuid: {netuid} (locked {})", tao(lock)),
    );
    Ok(())
}

async fn list(ctx: &Ctx) -> Result<()> {
    let client = ctx.connect().await?;
    let subnets = client.subnets(None).await?;
    let rows: Vec<Value> = subnets
        .iter()
        .map(|s| {
            json!({ "netuid": s.netuid.0, "neurons": s.subnetwork_n, "max_neurons": s.max_allowed_uids,
                    "tempo": s.tempo, "burn_rao": s.burn, "difficulty": s.difficulty,
                    "owner": ss58(&s.owner) })
        })
        .collect();
    ctx.emit(json!({ "subnets": rows }), || {
        let mut table =
            Table::new(&["NETUID", "NEURONS", "MAX_N", "TEMPO", "BURN", "DIFFICULTY", "OWNER"]);
        for s in &subnets {
            table.row(vec![
                s.netuid.0.to_string(),
                s.subnetwork_n.to_string(),
                s.max_allowed_uids.to_string(),
                s.tempo.to_string(),
                tao(s.burn),
                s.difficulty.to_string(),
                short(&ss58(&s.owner)),
            ]);
        }
        table.print();
    });
    Ok(())
}

async fn show(ctx: &Ctx, netuid: u16) -> Result<()> {
    let client = ctx.connect().await?;
    // The neurons and the grid spec of one block.
    let (_, at) = client.best_block().await?;
    let mg = client.metagraph(netuid, Some(at)).await?;
    let grid = client.grid_spec(netuid, Some(at)).await?;
    let rows: Vec<Value> = mg
        .neurons
        .iter()
        .map(|n| {
            json!({
                "uid": n.uid, "hotkey": ss58(&n.hotkey), "coldkey": ss58(&n.coldkey),
                "stake_rao": neuron_stake(n), "trust": n.trust, "consensus": n.consensus,
                "incentive": n.incentive, "dividends": n.dividends, "emission_rao": n.emission,
                "validator_trust": n.validator_trust, "validator_permit": n.validator_permit,
                "active": n.active, "last_update": n.last_update,
                "axon": n.axon_info.socket_addr().map(|a| a.to_string()),
            })
        })
        .collect();
    ctx.emit(
        json!({ "netuid": netuid, "block": mg.block, "n": mg.neurons.len(), "neurons": rows,
                "grid": grid.as_ref().map(grid::grid_json) }),
        || {
            println!("Subnet {netuid}: {} neurons at block #{}", mg.neurons.len(), mg.block);
            if let Some(g) = &grid {
                println!(
                    "Grid subnet: model {} (sha256 {}), sampler v{}, max {} new tokens, \
                     context {}",
                    String::from_utf8_lossy(&g.spec.model_name),
                    hex::encode(g.spec.model_sha256),
                    g.spec.sampler_version,
                    g.spec.max_new_tokens,
                    g.spec.max_context
                );
            }
            let mut table = Table::new(&[
                "UID",
                "HOTKEY",
                "COLDKEY",
                "STAKE",
                "CONSENSUS",
                "INCENTIVE",
                "DIVIDENDS",
                "EMISSION",
                "VTRUST",
                "VPERMIT",
                "ACTIVE",
                "UPDATED",
                "AXON",
            ]);
            for n in &mg.neurons {
                table.row(vec![
                    n.uid.to_string(),
                    short(&ss58(&n.hotkey)),
                    short(&ss58(&n.coldkey)),
                    tao(neuron_stake(n)),
                    fraction(n.consensus),
                    fraction(n.incentive),
                    fraction(n.dividends),
                    tao(n.emission),
                    fraction(n.validator_trust),
                    if n.validator_permit { "yes" } else { "no" }.into(),
                    if n.active { "yes" } else { "no" }.into(),
                    n.last_update.to_string(),
                    n.axon_info.socket_addr().map_or_else(|| "-".to_owned(), |a| a.to_string()),
                ]);
            }
            table.print();
        },
    );
    Ok(())
}

async fn hyperparameters(ctx: &Ctx, netuid: u16) -> Result<()> {
    let client = ctx.connect().await?;
    let params = client.hyperparameters(netuid, None).await?;
    let value = serde_json::to_value(&params)
        .map_err(|e| CliError::Usage(format!("cannot render the hyperparameters: {e}")))?;
    ctx.emit(json!({ "netuid": netuid, "hyperparameters": value }), || {
        println!("Subnet {netuid} hyperparameters");
        let mut table = Table::new(&["PARAMETER", "VALUE"]);
        for (name, v) in value.as_object().into_iter().flatten() {
            table.row(vec![name.clone(), v.to_string()]);
        }
        table.print();
    });
    Ok(())
}

async fn set(ctx: &Ctx, netuid: u16, param: &str, value: &str) -> Result<()> {
    let parsed = parse_hyperparameter(param, value)?;
    let wallet = ctx.wallet()?;
    let signer = wallet.coldkeypub()?;
    let client = ctx.connect().await?;
    client.ensure_subnet(netuid).await?;
    let owner = client.subnet_owner(netuid, None).await?;
    // Root-only parameters, and any parameter set by someone other than the owner, go
    // through Sudo (the chain refuses them unless the signer is the sudo key).
    let as_root = parsed.root_only() || owner.as_ref() != Some(&signer);
    let mut call = calls::set_hyperparameter(netuid, parsed.clone());
    if as_root {
        let sudo = client.sudo_key(None).await?;
        if sudo.as_ref() != Some(&signer) {
            return Err(CliError::Usage(if parsed.root_only() {
                format!("{param} is root-only: sign with the sudo key's wallet")
            } else {
                format!("only the owner of subnet {netuid} or the sudo key may set {param}")
            }));
        }
        call = calls::sudo(call);
    }
    ctx.confirm(&format!(
        "Set {parsed:?} on subnet {netuid}{}?",
        if as_root { " as root" } else { "" }
    ))?;
    let key = ctx.unlock_coldkey(&wallet)?;
    let receipt = ctx.submit(&client, call, &key).await?;
    ctx.emit(
        json!({ "netuid": netuid, "param": param, "value": value, "as_root": as_root,
                "block": receipt.block_number }),
        || println!("Set {parsed:?} on subnet {netuid} in block #{}", receipt.block_number),
    );
    Ok(())
}

/// Prints "Already registered" and returns true if `hotkey` has a UID on `netuid`.
async fn already_registered(
    ctx: &Ctx,
    client: &Client,
    netuid: u16,
    hotkey: &AccountId32,
) -> Result<bool> {
    let Some(uid) = client.uid(netuid, hotkey, None).await? else { return Ok(false) };
    ctx.emit(
        json!({ "netuid": netuid, "hotkey": ss58(hotkey), "uid": uid, "already_registered": true }),
        || println!("Already registered on netuid {netuid} with UID {uid}"),
    );
    Ok(true)
}

async fn register_burned(ctx: &Ctx, netuid: u16) -> Result<()> {
    let wallet = ctx.wallet()?;
    let coldkey = wallet.coldkeypub()?;
    let hotkey = wallet.hotkeypub()?;
    let client = ctx.connect().await?;
    client.ensure_subnet(netuid).await?;
    if already_registered(ctx, &client, netuid, &hotkey).await? {
        return Ok(());
    }
    let burn = client.burn(netuid, None).await?;
    let balance = client.balances(&coldkey, None).await?;
    if balance.free <= burn {
        return Err(CliError::InsufficientBalance(format!(
            "{} free, registration burns {} plus the fee",
            tao(balance.free),
            tao(burn)
        )));
    }
    if !ctx.global.json {
        let mut table = Table::new(&["NETUID", "COST", "HOTKEY", "COLDKEY"]);
        table.row(vec![netuid.to_string(), tao(burn), ss58(&hotkey), ss58(&coldkey)]);
        table.print();
    }
    ctx.confirm(&format!("The cost to register by recycle is {}. Register?", tao(burn)))?;
    let key = ctx.unlock_coldkey(&wallet)?;
    let receipt = ctx.submit(&client, calls::burned_register(netuid, hotkey.clone()), &key).await?;
    let uid = registered_uid(&receipt);
    ctx.emit(
        json!({ "netuid": netuid, "hotkey": ss58(&hotkey), "uid": uid, "burn_rao": burn,
                "method": "burned", "block": receipt.block_number }),
        || println!("Registered on netuid {netuid} with UID {}", uid.unwrap_or_default()),
    );
    Ok(())
}

fn progress_line(p: &Progress) -> String {
    format!(
        "block #{}  difficulty {}  {} hashes  {:.0} H/s ({:.0} H/s per core x {})  expected {:.1} s",
        p.block_number,
        p.difficulty,
        p.hashes,
        p.hash_rate(),
        p.hash_rate_per_thread(),
        p.threads,
        p.expected_seconds()
    )
}

async fn register_pow(ctx: &Ctx, netuid: u16, threads: usize, timeout: Duration) -> Result<()> {
    let wallet = ctx.wallet()?;
    let coldkey = wallet.coldkeypub()?;
    let hotkey_pub = wallet.hotkeypub()?;
    let client = ctx.connect().await?;
    client.ensure_subnet(netuid).await?;
    if already_registered(ctx, &client, netuid, &hotkey_pub).await? {
        return Ok(());
    }
    let difficulty = client.difficulty(netuid, None).await?;
    ctx.confirm(&format!(
        "Register {} on subnet {netuid} by proof of work (difficulty {difficulty}, {threads} threads)?",
        ss58(&hotkey_pub)
    ))?;
    let hotkey = ctx.unlock_hotkey(&wallet)?;
    let started = Instant::now();
    let quiet = ctx.global.json;
    let report = move |event: PowEvent| match event {
        PowEvent::Progress(p) if !quiet => eprintln!("solving: {}", progress_line(&p)),
        PowEvent::Solved(p) if !quiet => eprintln!("solved: {}", progress_line(&p)),
        PowEvent::Retry(why) if !quiet => eprintln!("retrying: {why}"),
        _ => {}
    };
    let done = client
        .register_pow(netuid, hotkey.pair(), coldkey.clone(), threads, timeout, report)
        .await?;
    let secs = done.solving.as_secs_f64();
    let rate = done.hashes as f64 / secs.max(1e-9);
    let per_core = rate / done.threads as f64;
    let total = started.elapsed().as_secs_f64();
    let (hashes, uid) = (done.hashes, done.uid);
    ctx.emit(
        json!({ "netuid": netuid, "hotkey": ss58(&hotkey_pub), "uid": uid,
                "method": "pow", "difficulty": difficulty, "threads": done.threads,
                "hashes": hashes, "solve_seconds": secs, "total_seconds": total,
                "hashes_per_second": rate, "hashes_per_second_per_core": per_core,
                "block": done.receipt.block_number }),
        || {
            println!("Registered on netuid {netuid} with UID {}", uid.unwrap_or_default());
            println!(
                "Proof of work at difficulty {difficulty}: {hashes} hashes in {secs:.2} s \
                 ({rate:.0} H/s, {per_core:.0} H/s per core on {} threads); \
                 registered after {total:.2} s",
                done.threads
            );
        },
    );
    Ok(())
}

fn pow_benchmark(ctx: &Ctx, difficulty: u64, threads: usize, rounds: u32) -> Result<()> {
    let mut total_hashes = 0u64;
    let mut total = Duration::ZERO;
    let mut times = Vec::new();
    for round in 0..rounds.max(1) {
        let problem = Problem {
            block_number: u64::from(round),
            block_hash: Hash::from_low_u64_be(u64::from(round).wrapping_add(1)),
            hotkey: Keypair::from_uri(&format!("//bench/{round}"))?.public(),
            difficulty,
        };
        let n = round.saturating_add(1);
        let (_, p) = Solver::solve_blocking(
            problem,
            threads,
            Duration::from_secs(1),
            Duration::from_secs(3600),
            |p| ctx.note(&format!("round {n}: {}", progress_line(p))),
        )?;
        ctx.note(&format!(
            "round {n} solved in {:.2} s ({} hashes)",
            p.elapsed.as_secs_f64(),
            p.hashes
        ));
        total_hashes = total_hashes.saturating_add(p.hashes);
        total = total.saturating_add(p.elapsed);
        times.push(p.elapsed.as_secs_f64());
    }
    let rate = total_hashes as f64 / total.as_secs_f64().max(1e-9);
    let mean = total.as_secs_f64() / times.len() as f64;
    ctx.emit(
        json!({ "difficulty": difficulty, "threads": threads, "rounds": times.len(),
                "hashes": total_hashes, "seconds": total.as_secs_f64(),
                "hashes_per_second": rate, "hashes_per_second_per_core": rate / threads as f64,
                "mean_solve_seconds": mean, "expected_solve_seconds": pow::expected_seconds(difficulty, rate),
                "solve_seconds": times }),
        || {
            println!(
                "{threads} threads: {rate:.0} H/s ({:.0} H/s per core); difficulty {difficulty}: \
                 mean solve {mean:.2} s over {} rounds (expected {:.2} s)",
                rate / threads as f64,
                times.len(),
                pow::expected_seconds(difficulty, rate)
            );
        },
    );
    Ok(())
}
