//! Builders of the runtime calls a wallet, a miner or a validator sends, as the runtime's own
//! [`RuntimeCall`]. Who must sign each is stated on it.

use pallet_subtensor::{GridSpec, Hyperparameter, NetUid};
use sp_core::H256;
use std::net::IpAddr;
use subtensor_primitives::ip_to_u128;
use subtensor_runtime::{AccountId, Address, Balance, RuntimeCall};

use crate::pow::Solution;

/// The axon protocol tag published by default (4, as the Python SDK does).
pub const AXON_PROTOCOL: u8 = 4;

/// `Balances.transfer_keep_alive(dest, amount)`: signed by the payer; never reaps the payer.
pub fn transfer(dest: AccountId, amount: Balance) -> RuntimeCall {
    RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
        dest: Address::Id(dest),
        value: amount,
    })
}

/// `SubtensorModule.register_network(hotkey)`: signed by the coldkey that will own the subnet.
pub fn register_network(hotkey: AccountId) -> RuntimeCall {
    RuntimeCall::SubtensorModule(pallet_subtensor::Call::register_network { hotkey })
}

/// `SubtensorModule.burned_register(netuid, hotkey)`: signed by the paying coldkey.
pub fn burned_register(netuid: u16, hotkey: AccountId) -> RuntimeCall {
    RuntimeCall::SubtensorModule(pallet_subtensor::Call::burned_register {
        netuid: NetUid(netuid),
        hotkey,
    })
}

/// `SubtensorModule.register(...)` with a proof of work: signed by the hotkey itself.
pub fn pow_register(
    netuid: u16,
    solution: &Solution,
    hotkey: AccountId,
    coldkey: AccountId,
) -> RuntimeCall {
    RuntimeCall::SubtensorModule(pallet_subtensor::Call::register {
        netuid: NetUid(netuid),
        block_number: solution.block_number,
        nonce: solution.nonce,
        work: solution.seal.as_bytes().to_vec(),
        hotkey,
        coldkey,
    })
}

/// `SubtensorModule.add_stake(hotkey, amount)`: signed by the staking coldkey.
pub fn add_stake(hotkey: AccountId, amount: Balance) -> RuntimeCall {
    RuntimeCall::SubtensorModule(pallet_subtensor::Call::add_stake {
        hotkey,
        amount_staked: amount,
    })
}

/// `SubtensorModule.remove_stake(hotkey, amount)`: signed by the staking coldkey.
pub fn remove_stake(hotkey: AccountId, amount: Balance) -> RuntimeCall {
    RuntimeCall::SubtensorModule(pallet_subtensor::Call::remove_stake {
        hotkey,
        amount_unstaked: amount,
    })
}

/// `SubtensorModule.set_weights(...)`: signed by the hotkey.
pub fn set_weights(
    netuid: u16,
    uids: Vec<u16>,
    weights: Vec<u16>,
    version_key: u64,
) -> RuntimeCall {
    RuntimeCall::SubtensorModule(pallet_subtensor::Call::set_weights {
        netuid: NetUid(netuid),
        dests: uids,
        weights,
        version_key,
    })
}

/// `SubtensorModule.commit_weights(netuid, hash)`: signed by the hotkey.
pub fn commit_weights(netuid: u16, hash: H256) -> RuntimeCall {
    RuntimeCall::SubtensorModule(pallet_subtensor::Call::commit_weights {
        netuid: NetUid(netuid),
        commit_hash: hash,
    })
}

/// `SubtensorModule.reveal_weights(...)`: signed by the committing hotkey.
pub fn reveal_weights(
    netuid: u16,
    uids: Vec<u16>,
    values: Vec<u16>,
    salt: Vec<u16>,
    version_key: u64,
) -> RuntimeCall {
    RuntimeCall::SubtensorModule(pallet_subtensor::Call::reveal_weights {
        netuid: NetUid(netuid),
        uids,
        values,
        salt,
        version_key,
    })
}

/// `SubtensorModule.serve_axon(...)` for `ip:port`: signed by the hotkey.
pub fn serve_axon(netuid: u16, ip: IpAddr, port: u16, version: u32) -> RuntimeCall {
    let (ip, ip_type) = ip_to_u128(ip);
    RuntimeCall::SubtensorModule(pallet_subtensor::Call::serve_axon {
        netuid: NetUid(netuid),
        version,
        ip,
        port,
        ip_type,
        protocol: AXON_PROTOCOL,
        placeholder1: 0,
        placeholder2: 0,
    })
}

/// `SubtensorModule.set_hyperparameter(netuid, value)`: signed by the subnet owner, or sent
/// through [`sudo`] for root-only parameters ([`Hyperparameter::root_only`]).
pub fn set_hyperparameter(netuid: u16, value: Hyperparameter) -> RuntimeCall {
    RuntimeCall::SubtensorModule(pallet_subtensor::Call::set_hyperparameter {
        netuid: NetUid(netuid),
        value,
    })
}

/// `SubtensorModule.set_grid_spec(netuid, spec)`: signed by the subnet owner, or sent through
/// [`sudo`] by the sudo key.
pub fn set_grid_spec(netuid: u16, spec: GridSpec) -> RuntimeCall {
    RuntimeCall::SubtensorModule(pallet_subtensor::Call::set_grid_spec {
        netuid: NetUid(netuid),
        spec,
    })
}

/// `SubtensorModule.clear_grid_spec(netuid)`: signed by the subnet owner, or sent through
/// [`sudo`] by the sudo key.
pub fn clear_grid_spec(netuid: u16) -> RuntimeCall {
    RuntimeCall::SubtensorModule(pallet_subtensor::Call::clear_grid_spec { netuid: NetUid(netuid) })
}

/// `Sudo.sudo(call)`: signed by the sudo key.
pub fn sudo(call: RuntimeCall) -> RuntimeCall {
    RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) })
}
