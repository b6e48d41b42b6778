//! The `state_*` namespace: storage reads at any block, runtime calls, metadata, runtime
//! version, and storage / runtime-version subscriptions.

use crate::{
    common::{at_or_best, call_decode, chain_subscription},
    RpcError, RpcResult,
};
use jsonrpsee::{
    core::{async_trait, SubscriptionResult},
    proc_macros::rpc,
    server::PendingSubscriptionSink,
};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use sp_core::{Bytes, H256};
use sp_version::RuntimeVersion;
use std::{collections::BTreeMap, sync::Arc};
use subtensor_chain::{ChainApi, ChainEvent};

/// Most keys `state_getKeysPaged` returns at once (Substrate's limit).
pub const MAX_KEYS_PAGED: u32 = 1000;

/// Most keys the deprecated `state_getKeys` returns; larger prefixes must be paged.
pub const MAX_KEYS_UNPAGED: usize = 100_000;

/// Most keys one `state_subscribeStorage` or `state_queryStorageAt` may name.
pub const MAX_STORAGE_KEYS: usize = 1000;

/// Storage values at one block: the result of `state_queryStorageAt` and the notification of
/// `state_subscribeStorage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageChangeSet {
    /// The block.
    pub block: H256,
    /// `[key, value or null]` pairs.
    pub changes: Vec<(Bytes, Option<Bytes>)>,
}

/// The `state_*` methods.
#[rpc(server)]
pub trait StateRpc {
    /// Calls runtime API entry point `name` (e.g. `Metadata_metadata_at_version`) with SCALE
    /// `data` on the state after block `at` (best if absent); returns the runtime's SCALE
    /// output unchanged.
    #[method(name = "state_call", aliases = ["state_callAt"], blocking)]
    fn call(&self, name: String, data: Bytes, at: Option<H256>) -> RpcResult<Bytes>;

    /// Up to `count` (at most 1000) keys starting with `prefix`, strictly after `start_key`,
    /// in lexicographic order.
    #[method(name = "state_getKeysPaged", aliases = ["state_getKeysPagedAt"], blocking)]
    fn keys_paged(
        &self,
        prefix: Option<Bytes>,
        count: u32,
        start_key: Option<Bytes>,
        at: Option<H256>,
    ) -> RpcResult<Vec<Bytes>>;

    /// Every key starting with `prefix` (deprecated in Substrate in favour of
    /// `state_getKeysPaged`, still used by async-substrate-interface's `query_map` with
    /// `fully_exhaust`); refused with an error past [`MAX_KEYS_UNPAGED`] keys.
    #[method(name = "state_getKeys", blocking)]
    fn keys(&self, prefix: Bytes, at: Option<H256>) -> RpcResult<Vec<Bytes>>;

    /// The value at `key`, `null` if absent.
    #[method(name = "state_getStorage", aliases = ["state_getStorageAt"], blocking)]
    fn storage(&self, key: Bytes, at: Option<H256>) -> RpcResult<Option<Bytes>>;

    /// blake2_256 of the value at `key`, `null` if absent.
    #[method(name = "state_getStorageHash", aliases = ["state_getStorageHashAt"], blocking)]
    fn storage_hash(&self, key: Bytes, at: Option<H256>) -> RpcResult<Option<H256>>;

    /// Length in bytes of the value at `key`, `null` if absent.
    #[method(name = "state_getStorageSize", aliases = ["state_getStorageSizeAt"], blocking)]
    fn storage_size(&self, key: Bytes, at: Option<H256>) -> RpcResult<Option<u64>>;

    /// The runtime metadata (V14 `RuntimeMetadataPrefixed` bytes, `0x6d657461 0e ..`).
    #[method(name = "state_getMetadata", blocking)]
    fn metadata(&self, at: Option<H256>) -> RpcResult<Bytes>;

    /// The runtime version (`sp_version::RuntimeVersion` JSON).
    #[method(name = "state_getRuntimeVersion", aliases = ["chain_getRuntimeVersion"], blocking)]
    fn runtime_version(&self, at: Option<H256>) -> RpcResult<RuntimeVersion>;

    /// The values of `keys` at block `at`, as one change set listing every key.
    #[method(name = "state_queryStorageAt", blocking)]
    fn query_storage_at(
        &self,
        keys: Vec<Bytes>,
        at: Option<H256>,
    ) -> RpcResult<Vec<StorageChangeSet>>;

    /// The runtime version (`state_runtimeVersion`): at once, then whenever a new best block
    /// changes it.
    #[subscription(
        name = "state_subscribeRuntimeVersion" => "state_runtimeVersion",
        aliases = ["chain_subscribeRuntimeVersion"],
        unsubscribe = "state_unsubscribeRuntimeVersion",
        unsubscribe_aliases = ["chain_unsubscribeRuntimeVersion"],
        item = RuntimeVersion
    )]
    async fn subscribe_runtime_version(&self) -> SubscriptionResult;

    /// Values of `keys` (`state_storage`): all of them (null for absent) at once, then at each
    /// new best block the keys whose value changed.
    #[subscription(
        name = "state_subscribeStorage" => "state_storage",
        unsubscribe = "state_unsubscribeStorage",
        item = StorageChangeSet
    )]
    async fn subscribe_storage(&self, keys: Option<Vec<Bytes>>) -> SubscriptionResult;
}

/// Implementation of [`StateRpcServer`].
pub struct State {
    chain: Arc<dyn ChainApi>,
}

impl State {
    /// Serves `chain`.
    pub fn new(chain: Arc<dyn ChainApi>) -> Self {
        Self { chain }
    }

    fn at(&self, at: Option<H256>) -> H256 {
        at_or_best(self.chain.as_ref(), at)
    }

    fn values(&self, at: H256, keys: &[Bytes]) -> RpcResult<Vec<(Bytes, Option<Bytes>)>> {
        keys.iter().map(|key| Ok((key.clone(), self.chain.storage(at, key)?.map(Bytes)))).collect()
    }
}

#[async_trait]
impl StateRpcServer for State {
    fn call(&self, name: String, data: Bytes, at: Option<H256>) -> RpcResult<Bytes> {
        Ok(Bytes(self.chain.call(self.at(at), &name, &data)?))
    }

    fn keys_paged(
        &self,
        prefix: Option<Bytes>,
        count: u32,
        start_key: Option<Bytes>,
        at: Option<H256>,
    ) -> RpcResult<Vec<Bytes>> {
        if count > MAX_KEYS_PAGED {
            return Err(RpcError::InvalidParams(format!(
                "count exceeds maximum value. value: {count}, max: {MAX_KEYS_PAGED}"
            )));
        }
        let prefix = prefix.map(|p| p.0).unwrap_or_default();
        // A start key before the prefix selects the whole prefix.
        let start = start_key.filter(|s| s.0 >= prefix);
        let keys = self.chain.storage_keys(
            self.at(at),
            &prefix,
            start.as_ref().map(|s| s.0.as_slice()),
            count,
        )?;
        Ok(keys.into_iter().map(Bytes).collect())
    }

    fn keys(&self, prefix: Bytes, at: Option<H256>) -> RpcResult<Vec<Bytes>> {
        let at = self.at(at);
        let mut keys: Vec<Vec<u8>> = Vec::new();
        loop {
            let page = self.chain.storage_keys(
                at,
                &prefix.0,
                keys.last().map(Vec::as_slice),
                MAX_KEYS_PAGED,
            )?;
            let done = page.len() < MAX_KEYS_PAGED as usize;
            keys.extend(page);
            if keys.len() > MAX_KEYS_UNPAGED {
                return Err(RpcError::InvalidParams(format!(
                    "more than {MAX_KEYS_UNPAGED} keys under this prefix: use state_getKeysPaged"
                )));
            }
            if done {
                return Ok(keys.into_iter().map(Bytes).collect());
            }
        }
    }

    fn storage(&self, key: Bytes, at: Option<H256>) -> RpcResult<Option<Bytes>> {
        Ok(self.chain.storage(self.at(at), &key)?.map(Bytes))
    }

    fn storage_hash(&self, key: Bytes, at: Option<H256>) -> RpcResult<Option<H256>> {
        let value = self.chain.storage(self.at(at), &key)?;
        Ok(value.map(|v| H256::from(sp_crypto_hashing::blake2_256(&v))))
    }

    fn storage_size(&self, key: Bytes, at: Option<H256>) -> RpcResult<Option<u64>> {
        let value = self.chain.storage(self.at(at), &key)?;
        Ok(value.map(|v| u64::try_from(v.len()).unwrap_or(u64::MAX)))
    }

    fn metadata(&self, at: Option<H256>) -> RpcResult<Bytes> {
        // `Metadata_metadata` returns `OpaqueMetadata`, a SCALE `Vec<u8>`; clients get its
        // content.
        let metadata: Vec<u8> = call_decode(self.chain.as_ref(), at, "Metadata_metadata", &[])?;
        Ok(Bytes(metadata))
    }

    fn runtime_version(&self, at: Option<H256>) -> RpcResult<RuntimeVersion> {
        Ok(self.chain.runtime_version(self.at(at))?)
    }

    fn query_storage_at(
        &self,
        keys: Vec<Bytes>,
        at: Option<H256>,
    ) -> RpcResult<Vec<StorageChangeSet>> {
        if keys.len() > MAX_STORAGE_KEYS {
            return Err(RpcError::InvalidParams(format!(
                "too many keys: {}, max: {MAX_STORAGE_KEYS}",
                keys.len()
            )));
        }
        let block = self.at(at);
        Ok(vec![StorageChangeSet { block, changes: self.values(block, &keys)? }])
    }

    async fn subscribe_runtime_version(
        &self,
        pending: PendingSubscriptionSink,
    ) -> SubscriptionResult {
        let mut last: Option<RuntimeVersion> = None;
        let current = self.chain.runtime_version(self.chain.info().best_hash);
        if let Ok(version) = &current {
            last = Some(version.clone());
        }
        chain_subscription(
            pending,
            &self.chain,
            move || Ok(current?),
            move |event| {
                let ChainEvent::NewBest { hash, .. } = event else { return Ok(None) };
                let version = self.chain.runtime_version(*hash)?;
                if last.as_ref() == Some(&version) {
                    return Ok(None);
                }
                last = Some(version.clone());
                Ok(Some(version))
            },
        )
        .await
    }

    async fn subscribe_storage(
        &self,
        pending: PendingSubscriptionSink,
        keys: Option<Vec<Bytes>>,
    ) -> SubscriptionResult {
        let keys = match keys {
            Some(keys) if keys.len() <= MAX_STORAGE_KEYS => keys,
            Some(keys) => {
                let msg = format!("too many keys: {}, max: {MAX_STORAGE_KEYS}", keys.len());
                pending.reject(RpcError::InvalidParams(msg)).await;
                return Ok(());
            }
            None => {
                // Substrate would stream every storage change; this chain reports no change
                // sets, so a subscription must name its keys.
                let msg = "subscribing to all storage changes is not supported; pass keys";
                pending.reject(RpcError::InvalidParams(msg.into())).await;
                return Ok(());
            }
        };
        // (block of the last notification, last value sent per key); shared by both closures.
        let seen: Mutex<(H256, BTreeMap<Bytes, Option<Bytes>>)> = Mutex::default();
        let first_keys = keys.clone();
        chain_subscription(
            pending,
            &self.chain,
            || {
                let block = self.chain.info().best_hash;
                let changes = self.values(block, &first_keys)?;
                *seen.lock() = (block, changes.iter().cloned().collect());
                Ok(StorageChangeSet { block, changes })
            },
            |event| {
                let ChainEvent::NewBest { hash, .. } = event else { return Ok(None) };
                let mut seen = seen.lock();
                let (last_block, last) = &mut *seen;
                if hash == last_block {
                    return Ok(None);
                }
                *last_block = *hash;
                let changes: Vec<(Bytes, Option<Bytes>)> = self
                    .values(*hash, &keys)?
                    .into_iter()
                    .filter(|(key, value)| last.get(key) != Some(value))
                    .collect();
                if changes.is_empty() {
                    return Ok(None);
                }
                for (key, value) in &changes {
                    last.insert(key.clone(), value.clone());
                }
                Ok(Some(StorageChangeSet { block: *hash, changes }))
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use crate::test_utils::*;
    use serde_json::{json, Value};

    #[tokio::test]
    async fn storage_reads_and_aliases() {
        let h = harness();
        assert_eq!(h.ok("state_getStorage", json!(["0x0102"])).await, json!("0xbb"));
        assert_eq!(h.ok("state_getStorage", json!(["0x09"])).await, Value::Null);
        let b1 = h.chain.import(&[], &[(vec![1, 2], Some(vec![0xee, 0xff]))]);
        let genesis = format!("{:?}", h.chain.genesis());
        assert_eq!(h.ok("state_getStorageAt", json!(["0x0102", genesis])).await, json!("0xbb"));
        assert_eq!(
            h.ok("state_getStorageAt", json!(["0x0102", format!("{b1:?}")])).await,
            json!("0xeeff")
        );
        let hash = sp_core::H256::from(sp_crypto_hashing::blake2_256(&[0xee, 0xff]));
        assert_eq!(
            h.ok("state_getStorageHash", json!(["0x0102"])).await,
            json!(format!("{hash:?}"))
        );
        assert_eq!(h.ok("state_getStorageHashAt", json!(["0x09", null])).await, Value::Null);
        assert_eq!(h.ok("state_getStorageSize", json!(["0x0102"])).await, json!(2));
        assert_eq!(h.ok("state_getStorageSizeAt", json!(["0x09"])).await, Value::Null);
        // Unknown block: an error, not null (as Substrate).
        let unknown = format!("{:?}", sp_core::H256::repeat_byte(7));
        assert_eq!(h.err("state_getStorage", json!(["0x01", unknown])).await.code(), -32000);
        // Bad hex and bad hashes are invalid params.
        assert_eq!(h.err("state_getStorage", json!(["0xzz"])).await.code(), -32602);
        assert_eq!(h.err("state_getStorage", json!(["0x01", "0x1234"])).await.code(), -32602);
    }

    #[tokio::test]
    async fn get_keys_returns_every_key_under_the_prefix() {
        let h = harness();
        assert_eq!(
            h.ok("state_getKeys", json!(["0x01"])).await,
            json!(["0x01", "0x0102", "0x0103"])
        );
        assert_eq!(h.ok("state_getKeys", json!(["0x0102", null])).await, json!(["0x0102"]));
        assert_eq!(h.ok("state_getKeys", json!(["0x09"])).await, json!([]));
    }

    #[tokio::test]
    async fn keys_paged_semantics() {
        let h = harness();
        assert_eq!(
            h.ok("state_getKeysPaged", json!(["0x01", 10])).await,
            json!(["0x01", "0x0102", "0x0103"])
        );
        // PSI passes the prefix itself as the first start key: strictly after it.
        assert_eq!(
            h.ok("state_getKeysPaged", json!(["0x01", 10, "0x01"])).await,
            json!(["0x0102", "0x0103"])
        );
        assert_eq!(
            h.ok("state_getKeysPagedAt", json!(["0x01", 1, "0x0102", null])).await,
            json!(["0x0103"])
        );
        // A start key before the prefix starts at the prefix.
        assert_eq!(
            h.ok("state_getKeysPaged", json!(["0x01", 2, "0x00"])).await,
            json!(["0x01", "0x0102"])
        );
        assert_eq!(
            h.ok("state_getKeysPaged", json!([null, 10])).await.as_array().unwrap().len(),
            4
        );
        assert_eq!(
            h.ok("state_getKeysPaged", json!(["0x01", 1000])).await.as_array().unwrap().len(),
            3
        );
        let e = h.err("state_getKeysPaged", json!(["0x01", 1001])).await;
        assert_eq!(e.code(), -32602);
        assert_eq!(e.message(), "count exceeds maximum value. value: 1001, max: 1000");
    }

    #[tokio::test]
    async fn query_storage_at_lists_every_key() {
        let h = harness();
        let genesis = format!("{:?}", h.chain.genesis());
        let r = h.ok("state_queryStorageAt", json!([["0x01", "0x09"], genesis])).await;
        assert_eq!(r, json!([{"block": genesis, "changes": [["0x01", "0xaa"], ["0x09", null]]}]));
    }

    #[tokio::test]
    async fn metadata_call_and_runtime_version() {
        let h = harness();
        assert_eq!(h.ok("state_getMetadata", json!([])).await, json!(hex0x(METADATA)));
        // `state_call` returns the runtime's bytes unchanged: `Option<Vec<u8>>` here.
        let v15 = h.ok("state_call", json!(["Metadata_metadata_at_version", "0x0f000000"])).await;
        let mut expected = vec![1u8, (METADATA.len() as u8) << 2];
        expected.extend_from_slice(METADATA);
        assert_eq!(v15, json!(hex0x(&expected)));
        assert_eq!(
            h.ok("state_callAt", json!(["Metadata_metadata_at_version", "0x10000000", null])).await,
            json!("0x00")
        );
        let e = h.err("state_call", json!(["Metadata_nope", "0x"])).await;
        assert_eq!(e.code(), -32002);
        assert_eq!(
            e.message(),
            "Client error: Execution failed: Other: Exported method Metadata_nope is not found"
        );
        assert_eq!(
            h.err("state_call", json!(["Core_panics", "0x"])).await.message(),
            "Client error: Execution failed: boom"
        );

        for method in ["state_getRuntimeVersion", "chain_getRuntimeVersion"] {
            let v = h.ok(method, json!([])).await;
            assert_eq!(v["specName"], json!("node-subtensor"));
            assert_eq!(v["specVersion"], json!(100));
            assert_eq!(
                v["transactionVersion"],
                json!(subtensor_runtime::VERSION.transaction_version)
            );
            assert!(v["apis"][0][0].as_str().unwrap().len() == 18, "{v}");
        }
    }

    #[tokio::test]
    async fn storage_subscription_sends_all_keys_then_changes() {
        let h = harness();
        let mut sub =
            h.subscribe("state_subscribeStorage", json!([["0x01", "0x02", "0x09"]])).await.unwrap();
        let genesis = format!("{:?}", h.chain.genesis());
        assert_eq!(
            next(&mut sub).await,
            json!({"block": genesis, "changes": [["0x01", "0xaa"], ["0x02", "0xdd"], ["0x09", null]]})
        );
        // A block changing nothing watched sends nothing.
        h.chain.import(&[], &[(vec![7], Some(vec![1]))]);
        assert!(silent(&mut sub).await);
        let b2 = h.chain.import(&[], &[(vec![2], None), (vec![9], Some(vec![0x99]))]);
        assert_eq!(
            next(&mut sub).await,
            json!({"block": format!("{b2:?}"), "changes": [["0x02", null], ["0x09", "0x99"]]})
        );
        assert_eq!(
            h.subscribe("state_subscribeStorage", json!([])).await.unwrap_err().code(),
            -32602
        );
    }

    #[tokio::test]
    async fn runtime_version_subscription_pushes_at_once_and_on_change() {
        let h = harness();
        for method in ["state_subscribeRuntimeVersion", "chain_subscribeRuntimeVersion"] {
            let mut sub = h.subscribe(method, json!([])).await.unwrap();
            assert_eq!(next(&mut sub).await["specVersion"], json!(100));
        }
        let mut sub = h.subscribe("state_subscribeRuntimeVersion", json!([])).await.unwrap();
        next(&mut sub).await;
        h.chain.import(&[], &[]);
        assert!(silent(&mut sub).await);
        h.chain.state.lock().spec_version = 101;
        h.chain.import(&[], &[]);
        assert_eq!(next(&mut sub).await["specVersion"], json!(101));
    }
}
