//! [`Client`]: a connection to one node plus what signing needs (genesis hash, runtime
//! version), with typed storage and runtime-API reads at any block.
//!
//! Storage keys and defaults come from the runtime's own storage types: a read of
//! `pallet_subtensor::Tempo<Runtime>` hashes its key with the pallet's hashers and, when the
//! value is absent, returns the pallet's default exactly as the runtime would.

use crate::{rpc::Rpc, ClientError, Result};
use codec::{Decode, Encode, EncodeLike, FullCodec, FullEncode};
use frame_support::storage::generator::{StorageDoubleMap, StorageMap, StorageValue};
use sp_core::H256;
use std::{collections::HashMap, sync::Mutex, time::Duration};
use subtensor_runtime::{AccountId, BlockNumber, Nonce, VERSION};

/// The default endpoint: a node on this machine.
pub const DEFAULT_ENDPOINT: &str = "ws://127.0.0.1:9944";

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connected client.
pub struct Client {
    pub(crate) rpc: Rpc,
    pub(crate) genesis: H256,
    /// The next nonce this client will use per signer, for several transactions in flight.
    pub(crate) nonces: Mutex<HashMap<AccountId, Nonce>>,
}

impl Client {
    /// Connects to the node at `url` and checks that it runs the runtime this client was built
    /// with (same spec name and version): extrinsics are encoded and signed with its types and
    /// its version.
    pub async fn connect(url: &str) -> Result<Self> {
        let rpc = Rpc::connect(url, CONNECT_TIMEOUT).await?;
        let genesis = rpc
            .block_hash(Some(0))
            .await?
            .ok_or_else(|| ClientError::NotFound("the node has no genesis block".into()))?;
        let version = rpc.runtime_version(None).await?;
        if version.spec_name != VERSION.spec_name || version.spec_version != VERSION.spec_version {
            return Err(ClientError::RuntimeMismatch {
                node: format!("{}/{}", version.spec_name, version.spec_version),
                ours: format!("{}/{}", VERSION.spec_name, VERSION.spec_version),
            });
        }
        Ok(Self { rpc, genesis, nonces: Mutex::new(HashMap::new()) })
    }

    /// The raw JSON-RPC connection.
    pub fn rpc(&self) -> &Rpc {
        &self.rpc
    }

    /// The chain's genesis hash.
    pub fn genesis_hash(&self) -> H256 {
        self.genesis
    }

    /// Number and hash of the best block.
    pub async fn best_block(&self) -> Result<(BlockNumber, H256)> {
        let header = self
            .rpc
            .header(None)
            .await?
            .ok_or_else(|| ClientError::NotFound("the node has no best block".into()))?;
        Ok((header.number, header.hash()))
    }

    /// The hash of block `number`.
    pub async fn block_hash(&self, number: BlockNumber) -> Result<H256> {
        self.rpc
            .block_hash(Some(number))
            .await?
            .ok_or_else(|| ClientError::NotFound(format!("block #{number} does not exist")))
    }

    /// Waits until the best block is at least `number`, for at most `timeout`.
    pub async fn wait_for_block(&self, number: BlockNumber, timeout: Duration) -> Result<H256> {
        let started = tokio::time::Instant::now();
        loop {
            let (best, hash) = self.best_block().await?;
            if best >= number {
                return Ok(hash);
            }
            if started.elapsed() >= timeout {
                return Err(ClientError::Timeout {
                    what: format!("block #{number}"),
                    seconds: timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The decoded value under raw storage `key` at `at` (best block when `None`).
    pub async fn storage_raw<V: Decode>(&self, key: &[u8], at: Option<H256>) -> Result<Option<V>> {
        match self.rpc.storage(key, at).await? {
            Some(bytes) => V::decode(&mut &bytes[..])
                .map(Some)
                .map_err(|e| ClientError::decode(format!("storage 0x{}", hex::encode(key)), e)),
            None => Ok(None),
        }
    }

    /// A storage value of the runtime, with its default when absent.
    pub async fn value<S, V>(&self, at: Option<H256>) -> Result<S::Query>
    where
        S: StorageValue<V>,
        V: FullCodec,
    {
        let raw = self.storage_raw::<V>(&S::storage_value_final_key(), at).await?;
        Ok(S::from_optional_value_to_query(raw))
    }

    /// The value of storage map `S` at `key`, with the map's default when absent.
    pub async fn map<S, K, V>(&self, key: impl EncodeLike<K>, at: Option<H256>) -> Result<S::Query>
    where
        S: StorageMap<K, V>,
        K: FullEncode,
        V: FullCodec,
    {
        let raw = self.storage_raw::<V>(&S::storage_map_final_key(key), at).await?;
        Ok(S::from_optional_value_to_query(raw))
    }

    /// The value of storage double map `S` at `(k1, k2)`, with its default when absent.
    pub async fn double_map<S, K1, K2, V>(
        &self,
        k1: impl EncodeLike<K1>,
        k2: impl EncodeLike<K2>,
        at: Option<H256>,
    ) -> Result<S::Query>
    where
        S: StorageDoubleMap<K1, K2, V>,
        K1: FullEncode,
        K2: FullEncode,
        V: FullCodec,
    {
        let raw = self.storage_raw::<V>(&S::storage_double_map_final_key(k1, k2), at).await?;
        Ok(S::from_optional_value_to_query(raw))
    }

    /// Every storage key under `prefix` at `at`, fetched in pages.
    pub async fn keys_with_prefix(&self, prefix: &[u8], at: Option<H256>) -> Result<Vec<Vec<u8>>> {
        const PAGE: u32 = 512;
        let mut keys: Vec<Vec<u8>> = Vec::new();
        loop {
            let page = self
                .rpc
                .storage_keys_paged(prefix, PAGE, keys.last().map(Vec::as_slice), at)
                .await?;
            let full = page.len() == PAGE as usize;
            keys.extend(page.into_iter().map(|k| k.0));
            if !full {
                return Ok(keys);
            }
        }
    }

    /// Calls runtime API `method` (`Api_method`, as `state_call` names it) with SCALE `args`
    /// at `at` and decodes its output.
    pub async fn runtime_api<R: Decode>(
        &self,
        method: &str,
        args: &impl Encode,
        at: Option<H256>,
    ) -> Result<R> {
        let out = self.rpc.state_call(method, &args.encode(), at).await?;
        R::decode(&mut &out[..]).map_err(|e| ClientError::decode(format!("{method} output"), e))
    }
}
