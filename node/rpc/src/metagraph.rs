//! [`Metagraph`]: one subnet's whole metagraph as typed JSON, built from the runtime's full
//! `NeuronInfo` list (the result of `subtensor_getMetagraph`).

use serde::{Deserialize, Serialize};
use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};
use subtensor_primitives::{ip_from_u128, AccountId, AxonInfo, NeuronInfo, SS58_PREFIX};

/// An axon endpoint with its address written out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Axon {
    /// The address (`"1.2.3.4"`, `"::1"`), `"0.0.0.0"` if never served.
    pub ip: String,
    /// TCP port.
    pub port: u16,
    /// 4 or 6 (0 if never served).
    pub ip_type: u8,
    /// Neuron software version.
    pub version: u32,
    /// Protocol tag chosen by the neuron.
    pub protocol: u8,
}

impl From<&AxonInfo> for Axon {
    fn from(axon: &AxonInfo) -> Self {
        let ip = ip_from_u128(axon.ip_type, axon.ip)
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "0.0.0.0".to_owned());
        Self {
            ip,
            port: axon.port,
            ip_type: axon.ip_type,
            version: axon.version,
            protocol: axon.protocol,
        }
    }
}

/// A subnet's metagraph, one entry per UID in every per-neuron list (column layout, like the
/// SDK's metagraph). Scores (`rank` ... `validator_trust`) are fractions of 65535 as stored on
/// chain; amounts are in rao.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metagraph {
    /// The subnet.
    pub netuid: u16,
    /// Number of the block whose state this is.
    pub block: u32,
    /// Number of neurons.
    pub n: u16,
    /// UIDs, ascending.
    pub uids: Vec<u16>,
    /// Hotkeys (SS58, prefix 42).
    pub hotkeys: Vec<String>,
    /// Coldkeys owning the hotkeys (SS58, prefix 42).
    pub coldkeys: Vec<String>,
    /// Total stake behind each hotkey, in rao.
    pub stake: Vec<u64>,
    /// Rank.
    pub rank: Vec<u16>,
    /// Trust.
    pub trust: Vec<u16>,
    /// Consensus.
    pub consensus: Vec<u16>,
    /// Incentive.
    pub incentive: Vec<u16>,
    /// Dividends.
    pub dividends: Vec<u16>,
    /// Emission at the last epoch, in rao.
    pub emission: Vec<u64>,
    /// Validator trust.
    pub validator_trust: Vec<u16>,
    /// Whether each neuron holds a validator permit.
    pub validator_permit: Vec<bool>,
    /// Whether each neuron is active.
    pub active: Vec<bool>,
    /// Block of each neuron's last update.
    pub last_update: Vec<u64>,
    /// Pruning score.
    pub pruning_score: Vec<u16>,
    /// Axon endpoints.
    pub axons: Vec<Axon>,
    /// Weight rows as sparse `[uid, weight]` pairs (only with `include_weights`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub weights: Option<Vec<Vec<(u16, u16)>>>,
    /// Bond rows as sparse `[uid, bond]` pairs (only with `include_weights`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bonds: Option<Vec<Vec<(u16, u16)>>>,
}

/// SS58 form (prefix 42) of an account.
pub fn ss58(account: &AccountId) -> String {
    account.to_ss58check_with_version(Ss58AddressFormat::custom(SS58_PREFIX))
}

impl Metagraph {
    /// Builds the metagraph of `netuid` at block `block` from its neurons (any order; sorted
    /// by UID here), with weight and bond rows if `include_weights`.
    pub fn build(
        netuid: u16,
        block: u32,
        mut neurons: Vec<NeuronInfo<AccountId>>,
        include_weights: bool,
    ) -> Self {
        neurons.sort_by_key(|n| n.uid);
        let col = |f: fn(&NeuronInfo<AccountId>) -> u16| neurons.iter().map(f).collect();
        let sparse = |row: &Vec<(codec::Compact<u16>, codec::Compact<u16>)>| {
            row.iter().map(|(uid, value)| (uid.0, value.0)).collect::<Vec<_>>()
        };
        Self {
            netuid,
            block,
            n: u16::try_from(neurons.len()).unwrap_or(u16::MAX),
            uids: col(|n| n.uid),
            hotkeys: neurons.iter().map(|n| ss58(&n.hotkey)).collect(),
            coldkeys: neurons.iter().map(|n| ss58(&n.coldkey)).collect(),
            stake: neurons
                .iter()
                .map(|n| n.stake.iter().fold(0u64, |sum, (_, rao)| sum.saturating_add(rao.0)))
                .collect(),
            rank: col(|n| n.rank),
            trust: col(|n| n.trust),
            consensus: col(|n| n.consensus),
            incentive: col(|n| n.incentive),
            dividends: col(|n| n.dividends),
            emission: neurons.iter().map(|n| n.emission).collect(),
            validator_trust: col(|n| n.validator_trust),
            validator_permit: neurons.iter().map(|n| n.validator_permit).collect(),
            active: neurons.iter().map(|n| n.active).collect(),
            last_update: neurons.iter().map(|n| n.last_update).collect(),
            pruning_score: col(|n| n.pruning_score),
            axons: neurons.iter().map(|n| Axon::from(&n.axon_info)).collect(),
            weights: include_weights.then(|| neurons.iter().map(|n| sparse(&n.weights)).collect()),
            bonds: include_weights.then(|| neurons.iter().map(|n| sparse(&n.bonds)).collect()),
        }
    }
}
