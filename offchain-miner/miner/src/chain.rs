//! The miner's chain duties: make sure its hotkey is registered on the subnet, publish its
//! axon endpoint, and keep the axon's caller policy in step with the metagraph.

use crate::{MinerError, Result};
use std::net::IpAddr;
use std::time::Duration;
use subtensor_axon::{Member, MetagraphPolicy};
use subtensor_client::{
    calls, neuron_stake, primitives::GridSpec, register::PowEvent, Client, ClientError, Metagraph,
    Wait,
};
use subtensor_wallet::{Keypair, Wallet};

/// How long to wait for an axon publication's inclusion.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(120);

/// How to register when the hotkey has no UID yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Registration {
    /// Burn the registration cost from the coldkey (asks its password: `STCLI_PASSWORD`).
    Burned,
    /// Solve the proof of work with the hotkey (no coldkey password, no fee).
    Pow,
    /// Do not register: fail if the hotkey has no UID.
    None,
}

/// Returns the hotkey's UID on `netuid`, registering it first as `how` says.
pub async fn ensure_registered(
    client: &Client,
    netuid: u16,
    wallet: &Wallet,
    hotkey: &Keypair,
    how: Registration,
    pow_threads: usize,
) -> Result<u16> {
    client.ensure_subnet(netuid).await?;
    let account = hotkey.account_id();
    if let Some(uid) = client.uid(netuid, &account, None).await? {
        tracing::info!(target: "miner", "hotkey {} is registered on subnet {netuid} as UID {uid}", hotkey.ss58());
        return Ok(uid);
    }
    let uid = match how {
        Registration::None => {
            return Err(MinerError::Config(format!(
                "hotkey {} is not registered on subnet {netuid} (use --register burned|pow)",
                hotkey.ss58()
            )))
        }
        Registration::Burned => {
            tracing::info!(target: "miner", "registering {} on subnet {netuid} by burn", hotkey.ss58());
            let coldkey = wallet.coldkey(&mut || {
                std::env::var("STCLI_PASSWORD").map_err(|_| {
                    subtensor_wallet::WalletError::Password(
                        "the coldkey is encrypted: set STCLI_PASSWORD, or use --register pow"
                            .into(),
                    )
                })
            })?;
            client.register_burned(netuid, coldkey.pair(), account.clone()).await?.1
        }
        Registration::Pow => {
            tracing::info!(target: "miner", "registering {} on subnet {netuid} by proof of work", hotkey.ss58());
            let coldkey = wallet.coldkeypub()?;
            let report = |event: PowEvent| match event {
                PowEvent::Progress(p) => tracing::info!(
                    target: "miner",
                    "solving: block #{} difficulty {} {} hashes ({:.0} H/s)",
                    p.block_number, p.difficulty, p.hashes, p.hash_rate()
                ),
                PowEvent::Solved(p) => {
                    tracing::info!(target: "miner", "solved after {} hashes", p.hashes)
                }
                PowEvent::Retry(why) => tracing::info!(target: "miner", "retrying: {why}"),
            };
            let timeout = Duration::from_secs(3600);
            client
                .register_pow(netuid, hotkey.pair(), coldkey, pow_threads, timeout, report)
                .await?
                .uid
        }
    };
    let uid = match uid {
        Some(uid) => uid,
        None => client
            .uid(netuid, &account, None)
            .await?
            .ok_or_else(|| MinerError::Config("registration left no UID".into()))?,
    };
    tracing::info!(target: "miner", "registered {} on subnet {netuid} as UID {uid}", hotkey.ss58());
    Ok(uid)
}

/// Publishes `ip:port` as the hotkey's axon on `netuid` unless the chain already has it.
pub async fn publish_axon(
    client: &Client,
    netuid: u16,
    hotkey: &Keypair,
    ip: IpAddr,
    port: u16,
    version: u32,
) -> Result<()> {
    let metagraph = client.metagraph(netuid, None).await?;
    if let Some(n) = metagraph.neuron(&hotkey.account_id()) {
        let info = &n.axon_info;
        if info.port == port && info.ip_addr() == Some(ip) && info.version == version {
            tracing::info!(target: "miner", "axon {ip}:{port} already published on subnet {netuid}");
            return Ok(());
        }
    }
    let call = calls::serve_axon(netuid, ip, port, version);
    let receipt = client.submit(call, hotkey.pair(), Wait::Inclusion, INCLUSION_TIMEOUT).await?;
    tracing::info!(
        target: "miner",
        "published axon {ip}:{port} on subnet {netuid} in block #{}", receipt.block_number
    );
    Ok(())
}

/// The policy members of a metagraph.
pub fn members(metagraph: &Metagraph) -> Vec<Member> {
    metagraph
        .neurons
        .iter()
        .map(|n| Member {
            hotkey: n.hotkey.clone(),
            uid: n.uid,
            stake: neuron_stake(n),
            validator_permit: n.validator_permit,
        })
        .collect()
}

/// Refreshes `policy` from the metagraph every `every` until the task is dropped; a failed
/// read keeps the last snapshot and is logged, and a broken connection to `url` is reopened.
pub async fn refresh_policy(
    mut client: Client,
    url: String,
    netuid: u16,
    policy: MetagraphPolicy,
    every: Duration,
) {
    let mut last_block = None;
    loop {
        match client.metagraph(netuid, None).await {
            Ok(metagraph) => {
                if last_block != Some(metagraph.block) {
                    let members = members(&metagraph);
                    tracing::debug!(
                        target: "miner",
                        "metagraph at block #{}: {} neurons", metagraph.block, members.len()
                    );
                    last_block = Some(metagraph.block);
                    policy.update(members);
                }
            }
            Err(e @ (ClientError::Connect { .. } | ClientError::Transport(_))) => {
                tracing::warn!(target: "miner", "metagraph refresh failed: {e}; reconnecting");
                match Client::connect(&url).await {
                    Ok(c) => client = c,
                    Err(e) => tracing::warn!(target: "miner", "reconnecting failed: {e}"),
                }
            }
            Err(e) => tracing::warn!(target: "miner", "metagraph refresh failed: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}

/// Reads subnet `netuid`'s grid spec every `every` until it is no longer `loaded` (changed or
/// cleared) and returns why, for the miner to stop: it serves the model the old spec named.
/// Failed reads are logged and retried (the connection to `url` is reopened).
pub async fn watch_grid_spec(
    url: String,
    netuid: u16,
    loaded: GridSpec,
    every: Duration,
) -> String {
    let mut client: Option<Client> = None;
    loop {
        tokio::time::sleep(every).await;
        if client.is_none() {
            client = Client::connect(&url).await.ok();
        }
        let Some(c) = client.as_ref() else { continue };
        match c.grid_spec(netuid, None).await {
            Ok(Some(now)) if now.spec == loaded => {}
            Ok(Some(now)) => {
                return format!(
                    "subnet {netuid}'s grid spec changed at block #{} (it now names {}): restart \
                     with the model it names",
                    now.set_at_block,
                    String::from_utf8_lossy(&now.spec.model_name)
                )
            }
            Ok(None) => {
                return format!(
                    "subnet {netuid}'s grid spec was cleared: it is no longer a grid subnet; \
                     restart without --grid"
                )
            }
            Err(e) => {
                tracing::warn!(target: "miner", "grid spec check failed: {e}; reconnecting");
                client = None;
            }
        }
    }
}
