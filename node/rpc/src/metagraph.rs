//! [`Metagraph`]: one subnet's whole metagraph as typed JSON, built from the runtime's full
//! `NeuronInfo` list and its grid spec (the result of `subtensor_getMetagraph`); and [`Grid`],
//! a grid spec as JSON (its `grid` field, and the result of `subtensor_getGridSpec`).

use serde::{Deserialize, Serialize};
use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};
use subtensor_primitives::{
    ip_from_u128, AccountId, AxonInfo, GridSpecRecord, NeuronInfo, SS58_PREFIX,
};

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

/// A grid subnet's spec: the model every miner serves, the sampler and the request limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grid {
    /// SHA-256 of the model's files (`subtensor_model::grid::model_digest`), 64 lowercase hex
    /// digits without `0x` (as `sha256sum` prints a digest).
    pub model_sha256: String,
    /// The grid sampler version.
    pub sampler_version: u32,
    /// The most tokens one request may generate.
    pub max_new_tokens: u32,
    /// The most tokens of prompt plus output one request may span.
    pub max_context: u32,
    /// The model's display name.
    pub model_name: String,
    /// The block the spec was set at.
    pub set_at_block: u64,
}

impl From<&GridSpecRecord> for Grid {
    fn from(record: &GridSpecRecord) -> Self {
        let spec = &record.spec;
        Self {
            model_sha256: hex::encode(spec.model_sha256),
            sampler_version: spec.sampler_version,
            max_new_tokens: spec.max_new_tokens,
            max_context: spec.max_context,
            model_name: String::from_utf8_lossy(&spec.model_name).into_owned(),
            set_at_block: record.set_at_block,
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
    /// The subnet's grid spec; `null` for an ordinary subnet.
    #[serde(default)]
    pub grid: Option<Grid>,
}

/// SS58 form (prefix 42) of an account: the same string as `sp_core`'s
/// `to_ss58check_with_version`, about ten times faster. A full subnet's metagraph writes 8,192
/// addresses, and the generic base58 encoder (one pass over the output per input byte) took a
/// fifth of the call.
// Fixed-size arrays indexed by constants.
#[allow(clippy::indexing_slicing)]
pub fn ss58(account: &AccountId) -> String {
    let Ok(prefix) = u8::try_from(SS58_PREFIX) else {
        return account.to_ss58check_with_version(Ss58AddressFormat::custom(SS58_PREFIX));
    };
    if prefix >= 64 {
        // Two-byte prefixes: the generic encoder.
        return account.to_ss58check_with_version(Ss58AddressFormat::custom(SS58_PREFIX));
    }
    let key: &[u8; 32] = account.as_ref();
    let mut data = [0u8; 35];
    data[0] = prefix;
    data[1..33].copy_from_slice(key);
    let mut preimage = [0u8; 7 + 33];
    preimage[..7].copy_from_slice(b"SS58PRE");
    preimage[7..].copy_from_slice(&data[..33]);
    let checksum = sp_crypto_hashing::blake2_512(&preimage);
    data[33..].copy_from_slice(&checksum[..2]);
    base58(&data)
}

/// Bitcoin-alphabet base58 of `input` (big-endian), with a '1' per leading zero byte, as the
/// `bs58` crate writes it. Works in limbs of 58^5 (fitting u32) and consumes the input four
/// bytes at a time.
// Bounded arithmetic: a limb is below 58^5 < 2^30 and a chunk at most 32 bits, so a limb shifted
// by a chunk plus the carry (below 2^shift) stays below 2^62; digits are below 58.
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
fn base58(input: &[u8]) -> String {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    const LIMB: u64 = 58 * 58 * 58 * 58 * 58; // 656,356,768 < 2^32
    let zeros = input.iter().take_while(|b| **b == 0).count();
    // Little-endian limbs of the number; each holds 5 base58 digits.
    let mut limbs: Vec<u64> = Vec::with_capacity(input.len() / 3 + 1);
    let rest = input.get(zeros..).unwrap_or_default();
    let head = rest.len() % 4;
    let chunks = std::iter::once(rest.get(..head).unwrap_or_default())
        .filter(|c| !c.is_empty())
        .chain(rest.get(head..).unwrap_or_default().chunks(4));
    for chunk in chunks {
        let shift = 8 * chunk.len() as u32;
        let mut carry = chunk.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        for limb in limbs.iter_mut() {
            let x = (*limb << shift) + carry;
            *limb = x % LIMB;
            carry = x / LIMB;
        }
        while carry > 0 {
            limbs.push(carry % LIMB);
            carry /= LIMB;
        }
    }
    let mut digits: Vec<u8> = Vec::with_capacity(zeros + limbs.len() * 5);
    for mut limb in limbs {
        for _ in 0..5 {
            digits.push((limb % 58) as u8);
            limb /= 58;
        }
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(digits.iter().rev().map(|d| char::from(ALPHABET[usize::from(*d)])));
    out
}

impl Metagraph {
    /// Builds the metagraph of `netuid` at block `block` from its neurons (any order; sorted
    /// by UID here), with weight and bond rows if `include_weights`, and its grid spec.
    pub fn build(
        netuid: u16,
        block: u32,
        mut neurons: Vec<NeuronInfo<AccountId>>,
        include_weights: bool,
        grid: Option<&GridSpecRecord>,
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
            grid: grid.map(Grid::from),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::*;

    #[test]
    fn fast_ss58_matches_sp_core() {
        let format = Ss58AddressFormat::custom(SS58_PREFIX);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut keys: Vec<[u8; 32]> = vec![[0; 32], [0xff; 32], [1; 32]];
        for _ in 0..3_000 {
            let mut key = [0u8; 32];
            for b in key.iter_mut() {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                *b = (seed >> 56) as u8;
            }
            keys.push(key);
        }
        for key in keys {
            let account = AccountId::from(key);
            assert_eq!(ss58(&account), account.to_ss58check_with_version(format));
        }
    }

    #[test]
    fn base58_with_leading_zeros_matches_the_reference_alphabet() {
        assert_eq!(base58(&[]), "");
        assert_eq!(base58(&[0]), "1");
        assert_eq!(base58(&[0, 0, 1]), "112");
        assert_eq!(base58(&[0x61]), "2g");
        assert_eq!(base58(b"Hello World!"), "2NEpo7TZRRrLZSi2U");
        assert_eq!(base58(&[0xff; 9]), "4FzkJ37568tQv");
    }
}
