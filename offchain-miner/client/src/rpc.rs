//! [`Rpc`]: the node's Substrate JSON-RPC methods over one WebSocket connection, typed.
//!
//! Only the methods this client needs, each a thin wrapper that maps JSON-RPC and transport
//! failures to [`ClientError`]: `chain_*` (hashes, headers, blocks), `state_*` (storage,
//! runtime calls, runtime version), `system_accountNextIndex` and
//! `author_submitAndWatchExtrinsic`.

use crate::{ClientError, Result};
use jsonrpsee_core::{
    client::{ClientT, Error as RpcClientError, Subscription, SubscriptionClientT},
    params::ArrayParams,
    rpc_params,
};
use jsonrpsee_ws_client::{WsClient, WsClientBuilder};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sp_core::{Bytes, H256};
use sp_version::RuntimeVersion;
use std::time::Duration;
use subtensor_runtime::{BlockNumber, Header};

/// How long a single request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A block as `chain_getBlock` returns it: header and hex extrinsics.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct BlockJson {
    /// The header.
    pub header: Header,
    /// The SCALE encodings of its extrinsics.
    pub extrinsics: Vec<Bytes>,
}

#[derive(serde::Deserialize)]
struct SignedBlockJson {
    block: BlockJson,
}

/// A connection to a node.
pub struct Rpc {
    client: WsClient,
    url: String,
}

fn call_error(method: &str, e: RpcClientError) -> ClientError {
    match e {
        RpcClientError::Call(obj) => {
            let mut message = obj.message().to_owned();
            if let Some(data) = obj.data() {
                let data = serde_json::from_str::<String>(data.get())
                    .unwrap_or_else(|_| data.get().to_owned());
                message = format!("{message}: {data}");
            }
            ClientError::Rpc { method: method.to_owned(), code: obj.code(), message }
        }
        RpcClientError::RequestTimeout => ClientError::Timeout {
            what: format!("the answer to {method}"),
            seconds: REQUEST_TIMEOUT.as_secs(),
        },
        RpcClientError::ParseError(e) => ClientError::decode(format!("the answer to {method}"), e),
        other => ClientError::Transport(other.to_string()),
    }
}

impl Rpc {
    /// Connects to `url` (`ws://host:port`), giving up after `timeout`.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self> {
        let connect_error = |reason: String| ClientError::Connect { url: url.to_owned(), reason };
        let client = WsClientBuilder::new()
            .connection_timeout(timeout)
            .request_timeout(REQUEST_TIMEOUT)
            .max_response_size(u32::MAX)
            .build(url)
            .await
            .map_err(|e| {
                let reason = match e {
                    RpcClientError::Transport(t) => {
                        // "Connection refused (os error 111)" rather than a nested chain.
                        let mut source: &dyn std::error::Error = t.as_ref();
                        while let Some(next) = source.source() {
                            source = next;
                        }
                        source.to_string()
                    }
                    other => other.to_string(),
                };
                connect_error(reason)
            })?;
        Ok(Self { client, url: url.to_owned() })
    }

    /// The endpoint this connection goes to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` with `params` and decodes the result.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: &str,
        params: ArrayParams,
    ) -> Result<T> {
        self.client.request(method, params).await.map_err(|e| call_error(method, e))
    }

    /// The hash of block `number`, or of the best block when `None`; `None` if there is none.
    pub async fn block_hash(&self, number: Option<BlockNumber>) -> Result<Option<H256>> {
        self.request("chain_getBlockHash", rpc_params![number]).await
    }

    /// The hash of the last finalized block.
    pub async fn finalized_head(&self) -> Result<H256> {
        self.request("chain_getFinalizedHead", rpc_params![]).await
    }

    /// The header of `hash` (best block when `None`).
    pub async fn header(&self, hash: Option<H256>) -> Result<Option<Header>> {
        self.request("chain_getHeader", rpc_params![hash]).await
    }

    /// Block `hash` with its extrinsics.
    pub async fn block(&self, hash: H256) -> Result<Option<BlockJson>> {
        let block: Option<SignedBlockJson> =
            self.request("chain_getBlock", rpc_params![hash]).await?;
        Ok(block.map(|b| b.block))
    }

    /// The runtime version at `at` (best block when `None`).
    pub async fn runtime_version(&self, at: Option<H256>) -> Result<RuntimeVersion> {
        self.request("state_getRuntimeVersion", rpc_params![at]).await
    }

    /// The raw value under storage `key` at `at`.
    pub async fn storage(&self, key: &[u8], at: Option<H256>) -> Result<Option<Bytes>> {
        self.request("state_getStorage", rpc_params![Bytes(key.to_vec()), at]).await
    }

    /// Up to `count` storage keys starting with `prefix`, after `start_key`.
    pub async fn storage_keys_paged(
        &self,
        prefix: &[u8],
        count: u32,
        start_key: Option<&[u8]>,
        at: Option<H256>,
    ) -> Result<Vec<Bytes>> {
        let start = start_key.map(|k| Bytes(k.to_vec()));
        self.request("state_getKeysPaged", rpc_params![Bytes(prefix.to_vec()), count, start, at])
            .await
    }

    /// The SCALE output of runtime API `method` (`Api_method`) on SCALE `args` at `at`.
    pub async fn state_call(&self, method: &str, args: &[u8], at: Option<H256>) -> Result<Vec<u8>> {
        let out: Bytes =
            self.request("state_call", rpc_params![method, Bytes(args.to_vec()), at]).await?;
        Ok(out.0)
    }

    /// The next nonce of `ss58`, counting its transactions in the pool.
    pub async fn next_index(&self, ss58: &str) -> Result<u32> {
        self.request("system_accountNextIndex", rpc_params![ss58]).await
    }

    /// Submits `extrinsic` and subscribes to its status updates.
    pub async fn submit_and_watch(&self, extrinsic: &[u8]) -> Result<Subscription<Value>> {
        let method = "author_submitAndWatchExtrinsic";
        self.client
            .subscribe(method, rpc_params![Bytes(extrinsic.to_vec())], "author_unwatchExtrinsic")
            .await
            .map_err(|e| match call_error(method, e) {
                ClientError::Rpc { message, .. } => ClientError::Rejected(message),
                other => other,
            })
    }
}
