//! [`NeuronInfo`] and [`NeuronInfoLite`]: one neuron (UID) of a subnet as the metagraph sees it,
//! returned by `NeuronInfoRuntimeApi`.

use crate::{AxonInfo, NetUid, PrometheusInfo};
use alloc::vec::Vec;
use codec::{Compact, Decode, Encode};
use scale_info::TypeInfo;

/// Full view of a neuron, including its weight and bond rows (`get_neurons`, `get_neuron`).
///
/// u16 scores (`rank` … `dividends`, `pruning_score`) are fractions of `u16::MAX`; amounts are in
/// rao.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct NeuronInfo<AccountId> {
    /// Hotkey that owns the UID.
    pub hotkey: AccountId,
    /// Coldkey that owns the hotkey.
    pub coldkey: AccountId,
    /// Slot of the neuron in the subnet.
    #[codec(compact)]
    pub uid: u16,
    /// Subnet of the neuron.
    #[codec(compact)]
    pub netuid: NetUid,
    /// Whether the neuron set weights (or was updated) within the activity cutoff.
    pub active: bool,
    /// Axon endpoint (all zero if never served).
    pub axon_info: AxonInfo,
    /// Prometheus endpoint (all zero if never served).
    pub prometheus_info: PrometheusInfo,
    /// Stake behind the hotkey as `(coldkey, rao)` pairs.
    pub stake: Vec<(AccountId, Compact<u64>)>,
    /// Rank from the last epoch.
    #[codec(compact)]
    pub rank: u16,
    /// Emission of the neuron at the last epoch, in rao.
    #[codec(compact)]
    pub emission: u64,
    /// Incentive (miner share) from the last epoch.
    #[codec(compact)]
    pub incentive: u16,
    /// Consensus weight from the last epoch.
    #[codec(compact)]
    pub consensus: u16,
    /// Trust from the last epoch.
    #[codec(compact)]
    pub trust: u16,
    /// Validator trust from the last epoch.
    #[codec(compact)]
    pub validator_trust: u16,
    /// Dividends (validator share) from the last epoch.
    #[codec(compact)]
    pub dividends: u16,
    /// Block of the neuron's last weight update.
    #[codec(compact)]
    pub last_update: u64,
    /// Whether the neuron holds a validator permit.
    pub validator_permit: bool,
    /// Non-zero weights the neuron set, as `(uid, weight)`.
    pub weights: Vec<(Compact<u16>, Compact<u16>)>,
    /// Non-zero bonds the neuron holds, as `(uid, bond)`.
    pub bonds: Vec<(Compact<u16>, Compact<u16>)>,
    /// Pruning score from the last epoch.
    #[codec(compact)]
    pub pruning_score: u16,
}

/// A neuron without its weight and bond rows (`get_neurons_lite`, `get_neuron_lite`): the same
/// fields in the same order as [`NeuronInfo`], minus `weights` and `bonds`.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct NeuronInfoLite<AccountId> {
    /// Hotkey that owns the UID.
    pub hotkey: AccountId,
    /// Coldkey that owns the hotkey.
    pub coldkey: AccountId,
    /// Slot of the neuron in the subnet.
    #[codec(compact)]
    pub uid: u16,
    /// Subnet of the neuron.
    #[codec(compact)]
    pub netuid: NetUid,
    /// Whether the neuron set weights (or was updated) within the activity cutoff.
    pub active: bool,
    /// Axon endpoint (all zero if never served).
    pub axon_info: AxonInfo,
    /// Prometheus endpoint (all zero if never served).
    pub prometheus_info: PrometheusInfo,
    /// Stake behind the hotkey as `(coldkey, rao)` pairs.
    pub stake: Vec<(AccountId, Compact<u64>)>,
    /// Rank from the last epoch.
    #[codec(compact)]
    pub rank: u16,
    /// Emission of the neuron at the last epoch, in rao.
    #[codec(compact)]
    pub emission: u64,
    /// Incentive (miner share) from the last epoch.
    #[codec(compact)]
    pub incentive: u16,
    /// Consensus weight from the last epoch.
    #[codec(compact)]
    pub consensus: u16,
    /// Trust from the last epoch.
    #[codec(compact)]
    pub trust: u16,
    /// Validator trust from the last epoch.
    #[codec(compact)]
    pub validator_trust: u16,
    /// Dividends (validator share) from the last epoch.
    #[codec(compact)]
    pub dividends: u16,
    /// Block of the neuron's last weight update.
    #[codec(compact)]
    pub last_update: u64,
    /// Whether the neuron holds a validator permit.
    pub validator_permit: bool,
    /// Pruning score from the last epoch.
    #[codec(compact)]
    pub pruning_score: u16,
}

impl<AccountId> NeuronInfo<AccountId> {
    /// The full neuron: `lite` with its weight and bond rows.
    pub fn from_lite(
        lite: NeuronInfoLite<AccountId>,
        weights: Vec<(Compact<u16>, Compact<u16>)>,
        bonds: Vec<(Compact<u16>, Compact<u16>)>,
    ) -> Self {
        NeuronInfo {
            hotkey: lite.hotkey,
            coldkey: lite.coldkey,
            uid: lite.uid,
            netuid: lite.netuid,
            active: lite.active,
            axon_info: lite.axon_info,
            prometheus_info: lite.prometheus_info,
            stake: lite.stake,
            rank: lite.rank,
            emission: lite.emission,
            incentive: lite.incentive,
            consensus: lite.consensus,
            trust: lite.trust,
            validator_trust: lite.validator_trust,
            dividends: lite.dividends,
            last_update: lite.last_update,
            validator_permit: lite.validator_permit,
            weights,
            bonds,
            pruning_score: lite.pruning_score,
        }
    }
}

impl<AccountId> From<NeuronInfo<AccountId>> for NeuronInfoLite<AccountId> {
    /// Drops the weight and bond rows.
    fn from(n: NeuronInfo<AccountId>) -> Self {
        NeuronInfoLite {
            hotkey: n.hotkey,
            coldkey: n.coldkey,
            uid: n.uid,
            netuid: n.netuid,
            active: n.active,
            axon_info: n.axon_info,
            prometheus_info: n.prometheus_info,
            stake: n.stake,
            rank: n.rank,
            emission: n.emission,
            incentive: n.incentive,
            consensus: n.consensus,
            trust: n.trust,
            validator_trust: n.validator_trust,
            dividends: n.dividends,
            last_update: n.last_update,
            validator_permit: n.validator_permit,
            pruning_score: n.pruning_score,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountId;

    fn sample() -> NeuronInfo<AccountId> {
        NeuronInfo {
            hotkey: AccountId::new([0x11; 32]),
            coldkey: AccountId::new([0x22; 32]),
            uid: 5,
            netuid: NetUid(3),
            active: true,
            axon_info: AxonInfo {
                block: 100,
                version: 1,
                ip: 0x0102_0304,
                port: 8091,
                ip_type: 4,
                protocol: 4,
                placeholder1: 0,
                placeholder2: 0,
            },
            prometheus_info: PrometheusInfo::default(),
            stake: vec![(AccountId::new([0x22; 32]), Compact(1_000_000_000))],
            rank: 0,
            emission: 1 << 32,
            incentive: 65_535,
            consensus: 16_383,
            trust: 64,
            validator_trust: 63,
            dividends: 16_384,
            last_update: 1_000_000,
            validator_permit: true,
            weights: vec![(Compact(0), Compact(65_535)), (Compact(7), Compact(1))],
            bonds: vec![(Compact(1), Compact(300))],
            pruning_score: 12_345,
        }
    }

    /// Bytes shared by both structs up to and including `validator_permit`.
    fn common_prefix() -> String {
        [
            "1111111111111111111111111111111111111111111111111111111111111111", // hotkey
            "2222222222222222222222222222222222222222222222222222222222222222", // coldkey
            "14",                                                               // uid: Compact(5)
            "0c", // netuid: Compact(3)
            "01", // active: true
            // axon_info: block u64, version u32, ip u128, port u16, ip_type, protocol, ph1, ph2
            "6400000000000000",
            "01000000",
            "04030201000000000000000000000000",
            "9b1f",
            "04",
            "04",
            "00",
            "00",
            // prometheus_info: all zero (8 + 4 + 16 + 2 + 1 = 31 bytes)
            "00000000000000000000000000000000000000000000000000000000000000",
            "04", // stake: Vec length 1
            "2222222222222222222222222222222222222222222222222222222222222222", // coldkey
            "02286bee", // Compact(1_000_000_000): four-byte mode
            "00", // rank: Compact(0)
            "070000000001", // emission: Compact(2^32): big-integer mode, 5 bytes
            "feff0300", // incentive: Compact(65535): four-byte mode
            "fdff", // consensus: Compact(16383): two-byte mode, upper bound
            "0101", // trust: Compact(64): two-byte mode, lower bound
            "fc", // validator_trust: Compact(63): one-byte mode, upper bound
            "02000100", // dividends: Compact(16384): four-byte mode, lower bound
            "02093d00", // last_update: Compact(1_000_000)
            "01", // validator_permit: true
        ]
        .concat()
    }

    #[test]
    fn neuron_info_fixture() {
        let neuron = sample();
        let fixture = [
            common_prefix().as_str(),
            "08",       // weights: Vec length 2
            "00",       //   uid Compact(0)
            "feff0300", //   weight Compact(65535)
            "1c",       //   uid Compact(7)
            "04",       //   weight Compact(1)
            "04",       // bonds: Vec length 1
            "04",       //   uid Compact(1)
            "b104",     //   bond Compact(300)
            "e5c0",     // pruning_score: Compact(12345)
        ]
        .concat();
        let bytes = neuron.encode();
        assert_eq!(hex::encode(&bytes), fixture);
        assert_eq!(NeuronInfo::<AccountId>::decode(&mut &bytes[..]), Ok(neuron));
    }

    #[test]
    fn neuron_info_lite_fixture() {
        let lite = NeuronInfoLite::from(sample());
        let fixture = [
            common_prefix().as_str(),
            "e5c0", // pruning_score: Compact(12345); no weights, no bonds
        ]
        .concat();
        let bytes = lite.encode();
        assert_eq!(hex::encode(&bytes), fixture);
        assert_eq!(NeuronInfoLite::<AccountId>::decode(&mut &bytes[..]), Ok(lite));
    }

    #[test]
    fn vectors_of_neurons_decode() {
        let all = vec![sample(), sample()];
        let bytes = all.encode();
        assert_eq!(Vec::<NeuronInfo<AccountId>>::decode(&mut &bytes[..]), Ok(all));
        let none: Option<NeuronInfoLite<AccountId>> = None;
        assert_eq!(none.encode(), vec![0u8]);
    }

    #[test]
    fn serde_round_trip() {
        let neuron = sample();
        let json = serde_json::to_string(&neuron).unwrap_or_default();
        let back: Option<NeuronInfo<AccountId>> = serde_json::from_str(&json).ok();
        assert_eq!(back, Some(neuron));
    }
}
