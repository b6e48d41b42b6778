//! The chain side: the node connection, metagraph syncs, hyperparameters, the off-chain
//! checks of the pallet's weight rules that need chain state (registration, stake threshold,
//! validator permit), and the signed set / commit / reveal transactions.

use crate::{state::PendingCommit, weights::WeightVector, Result, ValidatorError};
use std::{collections::BTreeMap, time::Duration};
use subtensor_axon::AxonTarget;
use subtensor_client::{
    calls,
    pallet_subtensor::{subnets::weights::commit_hash, NetUid, StakeThreshold, SubnetOwnerHotkey},
    primitives::{GridSpecRecord, NeuronInfoLite, SubnetHyperparams},
    runtime::{AccountId, Runtime},
    Client, Metagraph, Wait,
};
use subtensor_wallet::{ss58, Keypair};

/// How long to wait for a transaction's inclusion.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(120);

/// A connection to the node, for one hotkey on one subnet.
pub struct Chain {
    client: Client,
    netuid: u16,
    hotkey: Keypair,
    account: AccountId,
}

/// What the last metagraph sync says about the subnet.
#[derive(Clone, Debug)]
pub struct SubnetView {
    /// The block of the sync.
    pub block: u64,
    /// The neurons, by uid.
    pub neurons: Vec<NeuronInfoLite<AccountId>>,
    /// Our uid.
    pub own_uid: u16,
}

impl SubnetView {
    /// From a synced metagraph; fails if `account` is not registered on it.
    pub fn new(metagraph: Metagraph, account: &AccountId) -> Result<Self> {
        let own_uid = metagraph.neuron(account).map(|n| n.uid).ok_or_else(|| {
            ValidatorError::NotRegistered { hotkey: ss58(account), netuid: metagraph.netuid }
        })?;
        Ok(Self { block: u64::from(metagraph.block), neurons: metagraph.neurons, own_uid })
    }

    /// Number of neurons.
    pub fn n(&self) -> u16 {
        u16::try_from(self.neurons.len()).unwrap_or(u16::MAX)
    }

    /// uid → hotkey (SS58) of every neuron.
    pub fn hotkeys(&self) -> BTreeMap<u16, String> {
        self.neurons.iter().map(|n| (n.uid, ss58(&n.hotkey))).collect()
    }

    /// The queryable axons: neurons other than ours that serve one (ip ≠ 0, valid address).
    pub fn targets(&self) -> BTreeMap<u16, AxonTarget> {
        self.neurons
            .iter()
            .filter(|n| n.uid != self.own_uid && n.axon_info.ip != 0 && n.axon_info.port != 0)
            .filter_map(|n| {
                let addr = n.axon_info.socket_addr()?;
                Some((n.uid, AxonTarget { addr, hotkey: ss58(&n.hotkey) }))
            })
            .collect()
    }

    /// Our neuron.
    pub fn own(&self) -> Option<&NeuronInfoLite<AccountId>> {
        self.neurons.iter().find(|n| n.uid == self.own_uid)
    }
}

impl Chain {
    /// Connects to `url` and checks that subnet `netuid` exists.
    pub async fn connect(url: &str, netuid: u16, hotkey: Keypair) -> Result<Self> {
        let client = Client::connect(url).await?;
        client.ensure_subnet(netuid).await?;
        let account = hotkey.account_id();
        Ok(Self { client, netuid, hotkey, account })
    }

    /// A new connection to `url` with the same subnet and hotkey (after the node went away).
    pub async fn reconnect(&self, url: &str) -> Result<Self> {
        Self::connect(url, self.netuid, self.hotkey.clone()).await
    }

    /// Our hotkey's account.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The best block's number.
    pub async fn best_block(&self) -> Result<u64> {
        Ok(u64::from(self.client.best_block().await?.0))
    }

    /// The best block's number and hash.
    pub async fn best_block_hash(&self) -> Result<(u64, [u8; 32])> {
        let (number, hash) = self.client.best_block().await?;
        Ok((u64::from(number), hash.0))
    }

    /// The subnet's grid spec, if it is a grid subnet.
    pub async fn grid_spec(&self) -> Result<Option<GridSpecRecord>> {
        Ok(self.client.grid_spec(self.netuid, None).await?)
    }

    /// The subnet's current metagraph; fails with [`ValidatorError::NotRegistered`] if our
    /// hotkey is not on it.
    pub async fn sync(&self) -> Result<SubnetView> {
        let metagraph = self.client.metagraph(self.netuid, None).await?;
        SubnetView::new(metagraph, &self.account)
    }

    /// The subnet's hyperparameters.
    pub async fn hyperparameters(&self) -> Result<SubnetHyperparams> {
        Ok(self.client.hyperparameters(self.netuid, None).await?)
    }

    /// Why our hotkey may not set weights now, if it may not: the pallet requires the subnet
    /// owner's hotkey, or a validator permit and stake at least `StakeThreshold`.
    pub async fn weights_blocker(&self, view: &SubnetView) -> Result<Option<String>> {
        let owner =
            self.client.map::<SubnetOwnerHotkey<Runtime>, _, _>(NetUid(self.netuid), None).await?;
        if owner.as_ref() == Some(&self.account) {
            return Ok(None);
        }
        let threshold = self.client.value::<StakeThreshold<Runtime>, _>(None).await?;
        let stake = self.client.hotkey_stake(&self.account, None).await?;
        if stake < threshold {
            return Ok(Some(format!(
                "the hotkey's stake ({stake} rao) is below the stake threshold ({threshold} rao)"
            )));
        }
        if !view.own().is_some_and(|n| n.validator_permit) {
            return Ok(Some(
                "the hotkey has no validator permit (permits go to the top stakes at each epoch)"
                    .to_owned(),
            ));
        }
        Ok(None)
    }

    /// Sends `set_weights`; returns the including block.
    pub async fn set_weights(&self, weights: &WeightVector, version_key: u64) -> Result<u64> {
        let call = calls::set_weights(
            self.netuid,
            weights.uids.clone(),
            weights.values.clone(),
            version_key,
        );
        self.submit(call).await
    }

    /// A commitment to `weights` with a fresh random salt, expected in block `block` (the
    /// reveal epoch is `commit epoch + reveal_period`). Persist it before [`Self::commit`], so
    /// the salt survives a crash or a lost inclusion while the commitment may still land.
    pub fn prepare_commit(
        &self,
        weights: &WeightVector,
        version_key: u64,
        block: u64,
        tempo: u16,
        reveal_period: u64,
    ) -> PendingCommit {
        let salt: Vec<u16> = (0..8).map(|_| rand::random::<u16>()).collect();
        let hash = commit_hash(
            &self.account,
            NetUid(self.netuid),
            &weights.uids,
            &weights.values,
            &salt,
            version_key,
        );
        let epoch = crate::weights::epoch_index(self.netuid, tempo, block);
        PendingCommit {
            weights: weights.clone(),
            salt,
            version_key,
            hash: format!("0x{}", hex::encode(hash.as_bytes())),
            commit_block: block,
            reveal_epoch: epoch.saturating_add(reveal_period),
        }
    }

    /// Submits `pending`'s commitment; returns the including block.
    pub async fn commit(&self, pending: &PendingCommit) -> Result<u64> {
        let bytes: [u8; 32] = hex::decode(pending.hash.trim_start_matches("0x"))
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                ValidatorError::Weights(format!("bad commitment hash {}", pending.hash))
            })?;
        let hash = subtensor_client::primitives::Hash::from(bytes);
        self.submit(calls::commit_weights(self.netuid, hash)).await
    }

    /// Reveals a commitment; returns the including block.
    pub async fn reveal_weights(&self, pending: &PendingCommit) -> Result<u64> {
        let call = calls::reveal_weights(
            self.netuid,
            pending.weights.uids.clone(),
            pending.weights.values.clone(),
            pending.salt.clone(),
            pending.version_key,
        );
        self.submit(call).await
    }

    async fn submit(&self, call: subtensor_client::runtime::RuntimeCall) -> Result<u64> {
        let receipt = self
            .client
            .submit(call, self.hotkey.pair(), Wait::Inclusion, INCLUSION_TIMEOUT)
            .await?;
        Ok(u64::from(receipt.block_number))
    }
}
