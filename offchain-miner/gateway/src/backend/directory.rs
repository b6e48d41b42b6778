//! Which miners serve which subnet: the [`Directory`] trait, read from the chain's metagraph
//! ([`ChainDirectory`], refreshed periodically) or from a fixed list ([`StaticDirectory`],
//! `--offline --miner HOST:PORT`).

use crate::{error::GatewayError, Result};
use parking_lot::RwLock;
use std::{net::SocketAddr, sync::Arc, time::Duration};
use subtensor_axon::{
    wire::{TerminalInfo, AXON_PREFIX},
    AxonTarget, Dendrite, TextSeq2Seq,
};
use subtensor_client::Client;
use subtensor_wallet::ss58;

/// What a subnet's miners serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubnetKind {
    /// A heterogeneous subnet: `TextSeq2Seq` in the network's standard tokenizer.
    Seq2Seq,
    /// A grid subnet: `GridGenerate` with the one model its grid spec names.
    Grid {
        /// The model's name (the model id clients use).
        model: String,
        /// Most new tokens per request.
        max_new_tokens: u32,
        /// Most prompt plus new tokens per request.
        max_context: u32,
    },
}

/// A miner that can be queried.
#[derive(Clone, Debug, PartialEq)]
pub struct Miner {
    /// Its uid.
    pub uid: u16,
    /// Its axon.
    pub target: AxonTarget,
    /// Its incentive, 0..=1.
    pub incentive: f64,
}

/// One subnet the gateway serves.
#[derive(Clone, Debug, PartialEq)]
pub struct Subnet {
    /// The subnet.
    pub netuid: u16,
    /// What its miners serve.
    pub kind: SubnetKind,
    /// Its queryable miners.
    pub miners: Vec<Miner>,
}

impl Subnet {
    /// The model id clients use: the grid model's name, or `subnet-N`.
    pub fn model_id(&self) -> String {
        match &self.kind {
            SubnetKind::Seq2Seq => format!("subnet-{}", self.netuid),
            SubnetKind::Grid { model, .. } => model.clone(),
        }
    }
}

/// The subnets and miners known now.
pub trait Directory: Send + Sync + 'static {
    /// A snapshot of the subnets served.
    fn subnets(&self) -> Arc<Vec<Subnet>>;
}

/// A fixed directory (`--offline`).
#[derive(Clone, Debug)]
pub struct StaticDirectory(Arc<Vec<Subnet>>);

impl StaticDirectory {
    /// A directory of exactly these subnets.
    pub fn new(subnets: Vec<Subnet>) -> Self {
        Self(Arc::new(subnets))
    }
}

impl Directory for StaticDirectory {
    fn subnets(&self) -> Arc<Vec<Subnet>> {
        self.0.clone()
    }
}

/// Parses `--miner [HOTKEY@]HOST:PORT`: the address and the hotkey if given.
pub fn parse_miner(s: &str) -> Result<(SocketAddr, Option<String>)> {
    let (hotkey, addr) = match s.split_once('@') {
        Some((h, a)) => (Some(h.to_owned()), a),
        None => (None, s),
    };
    let addr =
        std::net::ToSocketAddrs::to_socket_addrs(addr).ok().and_then(|mut a| a.next()).ok_or_else(
            || GatewayError::Config(format!("--miner {s:?}: expected [HOTKEY@]HOST:PORT")),
        )?;
    if let Some(h) = &hotkey {
        subtensor_axon::wire::parse_hotkey(h)
            .map_err(|e| GatewayError::Config(format!("--miner {s:?}: bad hotkey: {e}")))?;
    }
    Ok((addr, hotkey))
}

/// Asks the axon at `addr` for its hotkey: a request signed for our own hotkey is refused as
/// misaddressed, and every axon response names the axon's hotkey in its headers. Trust on
/// first use (the answer is not authenticated): for `--offline` only.
pub async fn discover_hotkey(dendrite: &Dendrite, addr: SocketAddr) -> Result<String> {
    let probe = AxonTarget { addr, hotkey: dendrite.hotkey().to_owned() };
    let synapse = TextSeq2Seq::request(&[vec![0]], &Default::default())?;
    let req = dendrite.prepare(&probe, &synapse, Duration::from_secs(5))?;
    let (_, headers, _) = tokio::time::timeout(Duration::from_secs(5), dendrite.send(&req))
        .await
        .map_err(|_| GatewayError::Config(format!("miner {addr}: no answer in 5 s")))??;
    TerminalInfo::from_headers(AXON_PREFIX, &headers)
        .ok()
        .and_then(|t| t.hotkey)
        .filter(|h| h != dendrite.hotkey())
        .ok_or_else(|| GatewayError::Config(format!("miner {addr} did not name its hotkey")))
}

/// The chain's subnets, refreshed from the metagraph by [`ChainDirectory::refresh`].
#[derive(Debug, Default)]
pub struct ChainDirectory {
    snapshot: RwLock<Arc<Vec<Subnet>>>,
}

impl Directory for ChainDirectory {
    fn subnets(&self) -> Arc<Vec<Subnet>> {
        self.snapshot.read().clone()
    }
}

impl Directory for Arc<ChainDirectory> {
    fn subnets(&self) -> Arc<Vec<Subnet>> {
        self.snapshot.read().clone()
    }
}

impl ChainDirectory {
    /// An empty directory (filled by the first refresh).
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the subnets `netuids` (every subnet when empty) from the chain: their grid specs
    /// and metagraphs. Subnets the gateway cannot serve (a grid subnet whose spec names another model than `grid_digest`, or
    /// a heterogeneous one without the standard tokenizer) are left out, with a log line. The
    /// gateway's own hotkey and neurons without an axon are not miners.
    pub async fn refresh(
        &self,
        client: &Client,
        netuids: &[u16],
        own_hotkey: &str,
        have_standard: bool,
        grid_digest: Option<[u8; 32]>,
    ) -> Result<()> {
        let netuids: Vec<u16> = if netuids.is_empty() {
            client.subnets(None).await?.iter().map(|s| s.netuid.0).collect()
        } else {
            netuids.to_vec()
        };
        let mut subnets = Vec::new();
        for netuid in netuids {
            let kind = match client.grid_spec(netuid, None).await? {
                Some(record) => {
                    let spec = record.spec;
                    let Some(digest) = grid_digest else {
                        tracing::debug!(
                            "subnet {netuid} is a grid subnet: skipped (no --grid-model)"
                        );
                        continue;
                    };
                    if digest != spec.model_sha256 {
                        tracing::debug!(
                            "subnet {netuid}: its grid spec names another model than --grid-model"
                        );
                        continue;
                    }
                    SubnetKind::Grid {
                        model: String::from_utf8_lossy(&spec.model_name).into_owned(),
                        max_new_tokens: spec.max_new_tokens,
                        max_context: spec.max_context,
                    }
                }
                None if have_standard => SubnetKind::Seq2Seq,
                None => {
                    tracing::debug!("subnet {netuid}: skipped (no --tokenizer)");
                    continue;
                }
            };
            let metagraph = client.metagraph(netuid, None).await?;
            let miners = metagraph
                .neurons
                .iter()
                .filter(|n| n.axon_info.ip != 0 && n.axon_info.port != 0)
                .filter_map(|n| {
                    let hotkey = ss58(&n.hotkey);
                    if hotkey == own_hotkey {
                        return None;
                    }
                    let addr = n.axon_info.socket_addr()?;
                    Some(Miner {
                        uid: n.uid,
                        target: AxonTarget { addr, hotkey },
                        incentive: f64::from(n.incentive) / f64::from(u16::MAX),
                    })
                })
                .collect();
            subnets.push(Subnet { netuid, kind, miners });
        }
        *self.snapshot.write() = Arc::new(subnets);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_miner_flags() {
        let (addr, hk) = parse_miner("127.0.0.1:8091").unwrap();
        assert_eq!((addr.port(), hk), (8091, None));
        let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
        let (_, hk) = parse_miner(&format!("{alice}@127.0.0.1:1")).unwrap();
        assert_eq!(hk.as_deref(), Some(alice));
        assert!(parse_miner("nope").is_err());
        assert!(parse_miner("bad@127.0.0.1:1").is_err());
    }
}
