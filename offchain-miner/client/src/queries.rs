//! Typed reads of the chain's state: balances, subnets, hyperparameters, grid specs, neurons,
//! stake and registration terms, at the best block or any given one. Storage is read with the runtime's
//! own storage types; whole-subnet views come from the runtime APIs through `state_call`.

use crate::{Client, ClientError, Result};
use codec::Decode;
use frame_support::{storage::StoragePrefixedMap, Blake2_128Concat, StorageHasher};
use pallet_subtensor as st;
use serde::Serialize;
use sp_core::H256;
use subtensor_primitives::{GridSpecRecord, NeuronInfoLite, SubnetHyperparams, SubnetInfo};
use subtensor_runtime::{AccountId, Balance, BlockNumber, NetUid, Runtime};

/// An account's balances (rao).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Balances {
    /// Spendable (free) balance.
    pub free: Balance,
    /// Reserved balance.
    pub reserved: Balance,
    /// Stake the account holds as a coldkey, over all hotkeys.
    pub staked: Balance,
}

/// A subnet's neurons at one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metagraph {
    /// The subnet.
    pub netuid: u16,
    /// The block the view is of.
    pub block: BlockNumber,
    /// Its neurons by UID.
    pub neurons: Vec<NeuronInfoLite<AccountId>>,
}

impl Metagraph {
    /// The neuron of `hotkey`, if registered.
    pub fn neuron(&self, hotkey: &AccountId) -> Option<&NeuronInfoLite<AccountId>> {
        self.neurons.iter().find(|n| &n.hotkey == hotkey)
    }
}

/// Total stake behind a neuron (rao).
pub fn neuron_stake(neuron: &NeuronInfoLite<AccountId>) -> Balance {
    neuron.stake.iter().fold(0, |sum, (_, rao)| sum.saturating_add(rao.0))
}

impl Client {
    /// Balances of `account` at `at`.
    pub async fn balances(&self, account: &AccountId, at: Option<H256>) -> Result<Balances> {
        let info = self.map::<frame_system::Account<Runtime>, _, _>(account, at).await?;
        let staked = self.map::<st::TotalColdkeyStake<Runtime>, _, _>(account, at).await?;
        Ok(Balances { free: info.data.free, reserved: info.data.reserved, staked })
    }

    /// Whether subnet `netuid` exists.
    pub async fn subnet_exists(&self, netuid: u16, at: Option<H256>) -> Result<bool> {
        self.map::<st::NetworksAdded<Runtime>, _, _>(NetUid(netuid), at).await
    }

    /// Fails with [`ClientError::NotFound`] unless subnet `netuid` exists.
    pub async fn ensure_subnet(&self, netuid: u16) -> Result<()> {
        if self.subnet_exists(netuid, None).await? {
            Ok(())
        } else {
            Err(ClientError::NotFound(format!("subnet {netuid} does not exist")))
        }
    }

    /// Every subnet's info, by netuid.
    pub async fn subnets(&self, at: Option<H256>) -> Result<Vec<SubnetInfo<AccountId>>> {
        let all: Vec<Option<SubnetInfo<AccountId>>> =
            self.runtime_api("SubnetInfoRuntimeApi_get_subnets_info", &(), at).await?;
        Ok(all.into_iter().flatten().collect())
    }

    /// Subnet `netuid`'s info.
    pub async fn subnet(&self, netuid: u16, at: Option<H256>) -> Result<SubnetInfo<AccountId>> {
        let info: Option<SubnetInfo<AccountId>> =
            self.runtime_api("SubnetInfoRuntimeApi_get_subnet_info", &NetUid(netuid), at).await?;
        info.ok_or_else(|| ClientError::NotFound(format!("subnet {netuid} does not exist")))
    }

    /// Subnet `netuid`'s hyperparameters.
    pub async fn hyperparameters(
        &self,
        netuid: u16,
        at: Option<H256>,
    ) -> Result<SubnetHyperparams> {
        let params: Option<SubnetHyperparams> = self
            .runtime_api("SubnetInfoRuntimeApi_get_subnet_hyperparams", &NetUid(netuid), at)
            .await?;
        params.ok_or_else(|| ClientError::NotFound(format!("subnet {netuid} does not exist")))
    }

    /// Subnet `netuid`'s grid spec at `at` (`GridSpecRuntimeApi`); `None` for an ordinary
    /// subnet or one that does not exist.
    pub async fn grid_spec(&self, netuid: u16, at: Option<H256>) -> Result<Option<GridSpecRecord>> {
        self.runtime_api("GridSpecRuntimeApi_get_grid_spec", &NetUid(netuid), at).await
    }

    /// The block of the last grid spec set on `netuid` (kept across a clear), if any.
    pub async fn grid_spec_last_set(&self, netuid: u16, at: Option<H256>) -> Result<Option<u64>> {
        self.map::<st::GridSpecLastSet<Runtime>, _, _>(NetUid(netuid), at).await
    }

    /// The blocks a subnet owner waits between two grid spec sets.
    pub async fn grid_spec_rate_limit(&self, at: Option<H256>) -> Result<u64> {
        self.value::<st::GridSpecRateLimit<Runtime>, _>(at).await
    }

    /// Subnet `netuid`'s metagraph at `at` (best block when `None`).
    pub async fn metagraph(&self, netuid: u16, at: Option<H256>) -> Result<Metagraph> {
        let at = match at {
            Some(hash) => hash,
            None => self.best_block().await?.1,
        };
        self.ensure_subnet_at(netuid, at).await?;
        let header = self
            .rpc
            .header(Some(at))
            .await?
            .ok_or_else(|| ClientError::NotFound(format!("block {at:?}")))?;
        let mut neurons: Vec<NeuronInfoLite<AccountId>> = self
            .runtime_api("NeuronInfoRuntimeApi_get_neurons_lite", &NetUid(netuid), Some(at))
            .await?;
        neurons.sort_by_key(|n| n.uid);
        Ok(Metagraph { netuid, block: header.number, neurons })
    }

    async fn ensure_subnet_at(&self, netuid: u16, at: H256) -> Result<()> {
        if self.subnet_exists(netuid, Some(at)).await? {
            Ok(())
        } else {
            Err(ClientError::NotFound(format!("subnet {netuid} does not exist")))
        }
    }

    /// The UID of `hotkey` on `netuid`, if registered.
    pub async fn uid(
        &self,
        netuid: u16,
        hotkey: &AccountId,
        at: Option<H256>,
    ) -> Result<Option<u16>> {
        self.double_map::<st::Uids<Runtime>, _, _, _>(NetUid(netuid), hotkey, at).await
    }

    /// The coldkey owning `hotkey`, if it ever registered.
    pub async fn hotkey_owner(
        &self,
        hotkey: &AccountId,
        at: Option<H256>,
    ) -> Result<Option<AccountId>> {
        self.map::<st::Owner<Runtime>, _, _>(hotkey, at).await
    }

    /// The subnets `hotkey` is registered on, ascending.
    pub async fn hotkey_netuids(&self, hotkey: &AccountId, at: Option<H256>) -> Result<Vec<u16>> {
        let mut prefix = st::IsNetworkMember::<Runtime>::final_prefix().to_vec();
        prefix.extend(Blake2_128Concat::hash(hotkey.as_ref()));
        let mut netuids = Vec::new();
        for key in self.keys_with_prefix(&prefix, at).await? {
            let tail = key.get(prefix.len()..).unwrap_or_default();
            let netuid = u16::decode(&mut &tail[..])
                .map_err(|e| ClientError::decode("an IsNetworkMember key", e))?;
            netuids.push(netuid);
        }
        netuids.sort_unstable();
        Ok(netuids)
    }

    /// Stake of `coldkey` on `hotkey` (rao).
    pub async fn stake(
        &self,
        hotkey: &AccountId,
        coldkey: &AccountId,
        at: Option<H256>,
    ) -> Result<Balance> {
        self.double_map::<st::Stake<Runtime>, _, _, _>(hotkey, coldkey, at).await
    }

    /// Total stake on `hotkey` over all its nominators (rao).
    pub async fn hotkey_stake(&self, hotkey: &AccountId, at: Option<H256>) -> Result<Balance> {
        self.map::<st::TotalHotkeyStake<Runtime>, _, _>(hotkey, at).await
    }

    /// The current burn of a registration on `netuid` (rao).
    pub async fn burn(&self, netuid: u16, at: Option<H256>) -> Result<Balance> {
        self.map::<st::Burn<Runtime>, _, _>(NetUid(netuid), at).await
    }

    /// The current proof-of-work difficulty of `netuid`.
    pub async fn difficulty(&self, netuid: u16, at: Option<H256>) -> Result<u64> {
        self.map::<st::Difficulty<Runtime>, _, _>(NetUid(netuid), at).await
    }

    /// The subnet's weights rate limit (blocks).
    pub async fn weights_rate_limit(&self, netuid: u16, at: Option<H256>) -> Result<u64> {
        self.map::<st::WeightsSetRateLimit<Runtime>, _, _>(NetUid(netuid), at).await
    }

    /// The subnet's owner coldkey.
    pub async fn subnet_owner(&self, netuid: u16, at: Option<H256>) -> Result<Option<AccountId>> {
        self.map::<st::SubnetOwner<Runtime>, _, _>(NetUid(netuid), at).await
    }

    /// The sudo key, if the chain has one.
    pub async fn sudo_key(&self, at: Option<H256>) -> Result<Option<AccountId>> {
        self.value::<pallet_sudo::Key<Runtime>, _>(at).await
    }

    /// The rao a subnet registration locks, from the runtime (`SubnetRegistrationRuntimeApi`)
    /// at the best block; the cost only falls as blocks pass, so it covers the next block.
    pub async fn network_lock_cost(&self) -> Result<Balance> {
        let (_, at) = self.best_block().await?;
        self.runtime_api(
            "SubnetRegistrationRuntimeApi_get_network_registration_cost",
            &(),
            Some(at),
        )
        .await
    }
}
