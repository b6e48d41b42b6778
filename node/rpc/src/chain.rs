//! The `chain_*` namespace: block hashes, headers, blocks and head subscriptions.

use crate::{
    common::{at_or_best, chain_subscription},
    RpcError, RpcResult,
};
use codec::Encode;
use jsonrpsee::{
    core::{async_trait, SubscriptionResult},
    proc_macros::rpc,
    server::PendingSubscriptionSink,
};
use serde::{Deserialize, Serialize};
use sp_core::{Bytes, H256};
use std::sync::Arc;
use subtensor_chain::{ChainApi, ChainEvent};
use subtensor_runtime::{Block, BlockNumber, Header};

/// One value or a list of them (the parameter and result of `chain_getBlockHash`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ListOrValue<T> {
    /// A list.
    List(Vec<T>),
    /// One value.
    Value(T),
}

/// A block number as a JSON number or a `0x` hex string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NumberOrHex {
    /// A JSON number.
    Number(u64),
    /// A hex string such as `"0x1c"`.
    Hex(String),
}

impl NumberOrHex {
    /// The block number, if it is one (at most `u32::MAX`).
    fn block_number(&self) -> RpcResult<BlockNumber> {
        let n = match self {
            NumberOrHex::Number(n) => *n,
            NumberOrHex::Hex(s) => {
                let digits = s.strip_prefix("0x").unwrap_or(s);
                u64::from_str_radix(digits, 16)
                    .map_err(|_| RpcError::InvalidParams(format!("invalid block number {s:?}")))?
            }
        };
        BlockNumber::try_from(n).map_err(|_| {
            RpcError::InvalidParams(format!("`{n}` > u32::MAX, the max block number is u32."))
        })
    }
}

/// The result of `chain_getBlock`: `{"block":{"header":..,"extrinsics":["0x.."]},
/// "justifications":null}`. Extrinsics are written as hex of their encoding (length prefix
/// included), like Substrate's opaque extrinsics; the runtime type's own serde form would be
/// an array of numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBlockJson {
    /// The block.
    pub block: BlockJson,
    /// Always `null`: blocks carry no justifications.
    pub justifications: Option<Vec<Bytes>>,
}

/// A block as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockJson {
    /// Its header.
    pub header: Header,
    /// Its extrinsics, hex-encoded.
    pub extrinsics: Vec<Bytes>,
}

impl From<Block> for SignedBlockJson {
    fn from(block: Block) -> Self {
        let extrinsics = block.extrinsics.iter().map(|xt| Bytes(xt.encode())).collect();
        Self { block: BlockJson { header: block.header, extrinsics }, justifications: None }
    }
}

/// The `chain_*` methods.
#[rpc(server)]
pub trait ChainRpc {
    /// Hash of the canonical block at a height: `[]`/`[null]` gives the best block, `[n]` or
    /// `["0x.."]` that height (`null` if there is none), `[[a, b, ..]]` a list.
    #[method(name = "chain_getBlockHash", aliases = ["chain_getHead"], blocking)]
    fn block_hash(
        &self,
        number: Option<ListOrValue<NumberOrHex>>,
    ) -> RpcResult<ListOrValue<Option<H256>>>;

    /// Hash of the last finalized block.
    #[method(name = "chain_getFinalizedHead", aliases = ["chain_getFinalisedHead"])]
    fn finalized_head(&self) -> RpcResult<H256>;

    /// Header of block `hash` (best if absent) as Substrate's header JSON, `null` if unknown.
    #[method(name = "chain_getHeader", blocking)]
    fn header(&self, hash: Option<H256>) -> RpcResult<Option<Header>>;

    /// Block `hash` (best if absent) as `{"block":{"header","extrinsics":["0x.."]},
    /// "justifications":null}`, `null` if unknown.
    #[method(name = "chain_getBlock", blocking)]
    fn block(&self, hash: Option<H256>) -> RpcResult<Option<SignedBlockJson>>;

    /// Headers of imported blocks (`chain_allHead`), starting with the best header at once.
    #[subscription(
        name = "chain_subscribeAllHeads" => "chain_allHead",
        unsubscribe = "chain_unsubscribeAllHeads",
        item = Header
    )]
    async fn subscribe_all_heads(&self) -> SubscriptionResult;

    /// Headers of new best blocks (`chain_newHead`), starting with the best header at once.
    #[subscription(
        name = "chain_subscribeNewHeads" => "chain_newHead",
        aliases = ["chain_subscribeNewHead", "subscribe_newHead"],
        unsubscribe = "chain_unsubscribeNewHeads",
        unsubscribe_aliases = ["chain_unsubscribeNewHead", "unsubscribe_newHead"],
        item = Header
    )]
    async fn subscribe_new_heads(&self) -> SubscriptionResult;

    /// Headers of finalized blocks (`chain_finalizedHead`), starting with the last finalized
    /// header at once.
    #[subscription(
        name = "chain_subscribeFinalizedHeads" => "chain_finalizedHead",
        aliases = ["chain_subscribeFinalisedHeads"],
        unsubscribe = "chain_unsubscribeFinalizedHeads",
        unsubscribe_aliases = ["chain_unsubscribeFinalisedHeads"],
        item = Header
    )]
    async fn subscribe_finalized_heads(&self) -> SubscriptionResult;
}

/// Which heads a subscription follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heads {
    /// Every imported block, forks included.
    All,
    /// New best blocks.
    Best,
    /// Finalized blocks.
    Finalized,
}

/// Implementation of [`ChainRpcServer`].
pub struct Chain {
    chain: Arc<dyn ChainApi>,
}

impl Chain {
    /// Serves `chain`.
    pub fn new(chain: Arc<dyn ChainApi>) -> Self {
        Self { chain }
    }

    fn hash_of(&self, number: Option<NumberOrHex>) -> RpcResult<Option<H256>> {
        match number {
            None => Ok(Some(self.chain.info().best_hash)),
            Some(n) => Ok(self.chain.hash(n.block_number()?)?),
        }
    }

    fn header_of(&self, hash: H256) -> RpcResult<Header> {
        self.chain
            .header(hash)?
            .ok_or_else(|| RpcError::Internal(format!("header of head {hash:?} is missing")))
    }

    /// A head subscription: `kind` picks the events (every import, new best blocks, finalized
    /// blocks); the first value is the header of the block `current` names.
    async fn heads(
        &self,
        pending: PendingSubscriptionSink,
        current: fn(&dyn ChainApi) -> H256,
        kind: Heads,
    ) -> SubscriptionResult {
        let start = current(self.chain.as_ref());
        let mut last = start;
        chain_subscription(
            pending,
            &self.chain,
            move || self.header_of(start),
            move |event| {
                let (hash, header) = match (event, kind) {
                    (ChainEvent::Imported { hash, header }, Heads::All)
                    | (ChainEvent::NewBest { hash, header, .. }, Heads::Best)
                    | (ChainEvent::Finalized { hash, header }, Heads::Finalized) => (hash, header),
                    _ => return Ok(None),
                };
                if *hash == last {
                    return Ok(None);
                }
                last = *hash;
                Ok(Some(header.clone()))
            },
        )
        .await
    }
}

#[async_trait]
impl ChainRpcServer for Chain {
    fn block_hash(
        &self,
        number: Option<ListOrValue<NumberOrHex>>,
    ) -> RpcResult<ListOrValue<Option<H256>>> {
        match number {
            None => Ok(ListOrValue::Value(self.hash_of(None)?)),
            Some(ListOrValue::Value(n)) => Ok(ListOrValue::Value(self.hash_of(Some(n))?)),
            Some(ListOrValue::List(list)) => Ok(ListOrValue::List(
                list.into_iter().map(|n| self.hash_of(Some(n))).collect::<RpcResult<_>>()?,
            )),
        }
    }

    fn finalized_head(&self) -> RpcResult<H256> {
        Ok(self.chain.info().finalized_hash)
    }

    fn header(&self, hash: Option<H256>) -> RpcResult<Option<Header>> {
        Ok(self.chain.header(at_or_best(self.chain.as_ref(), hash))?)
    }

    fn block(&self, hash: Option<H256>) -> RpcResult<Option<SignedBlockJson>> {
        let block = self.chain.block(at_or_best(self.chain.as_ref(), hash))?;
        Ok(block.map(SignedBlockJson::from))
    }

    async fn subscribe_all_heads(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        self.heads(pending, |c| c.info().best_hash, Heads::All).await
    }

    async fn subscribe_new_heads(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        self.heads(pending, |c| c.info().best_hash, Heads::Best).await
    }

    async fn subscribe_finalized_heads(
        &self,
        pending: PendingSubscriptionSink,
    ) -> SubscriptionResult {
        self.heads(pending, |c| c.info().finalized_hash, Heads::Finalized).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use crate::test_utils::*;
    use codec::Encode;
    use serde_json::{json, Value};

    #[tokio::test]
    async fn block_hash_forms_and_alias() {
        let h = harness();
        let b1 = h.chain.import(&[], &[]);
        let genesis = format!("{:?}", h.chain.genesis());
        let best = format!("{b1:?}");
        assert_eq!(h.ok("chain_getBlockHash", json!([])).await, json!(best));
        assert_eq!(h.ok("chain_getBlockHash", json!([null])).await, json!(best));
        assert_eq!(h.ok("chain_getHead", json!([])).await, json!(best));
        assert_eq!(h.ok("chain_getBlockHash", json!([0])).await, json!(genesis));
        assert_eq!(h.ok("chain_getBlockHash", json!(["0x1"])).await, json!(best));
        assert_eq!(h.ok("chain_getBlockHash", json!([99])).await, Value::Null);
        assert_eq!(
            h.ok("chain_getBlockHash", json!([[0, 1, 99]])).await,
            json!([genesis, best, null])
        );
        assert_eq!(
            h.err("chain_getBlockHash", json!([u64::from(u32::MAX) + 1])).await.code(),
            -32602
        );
        assert_eq!(h.err("chain_getBlockHash", json!(["0xzz"])).await.code(), -32602);
    }

    #[tokio::test]
    async fn header_and_block_shapes() {
        let h = harness();
        let xt = xt(1, 5, false);
        let b1 = h.chain.import(std::slice::from_ref(&xt), &[]);
        let header = h.ok("chain_getHeader", json!([])).await;
        assert_eq!(header["number"], json!("0x1"));
        assert_eq!(header["parentHash"], json!(format!("{:?}", h.chain.genesis())));
        assert!(header["stateRoot"].as_str().unwrap().starts_with("0x"));
        assert!(header["extrinsicsRoot"].as_str().unwrap().starts_with("0x"));
        let log = sp_runtime::generic::DigestItem::PreRuntime(*b"aura", 1u32.encode()).encode();
        assert_eq!(header["digest"], json!({"logs": [hex0x(&log)]}));
        let genesis = h.ok("chain_getHeader", json!([format!("{:?}", h.chain.genesis())])).await;
        assert_eq!(genesis["number"], json!("0x0"));
        assert_eq!(genesis["parentHash"], json!(format!("{:?}", sp_core::H256::zero())));

        let block = h.ok("chain_getBlock", json!([format!("{b1:?}")])).await;
        assert_eq!(block["justifications"], Value::Null);
        assert_eq!(block["block"]["header"], header);
        assert_eq!(block["block"]["extrinsics"], json!([hex0x(&xt)]));
        assert_eq!(block.as_object().unwrap().len(), 2);

        let unknown = json!([format!("{:?}", sp_core::H256::repeat_byte(9))]);
        assert_eq!(h.ok("chain_getHeader", unknown.clone()).await, Value::Null);
        assert_eq!(h.ok("chain_getBlock", unknown).await, Value::Null);
        assert_eq!(h.err("chain_getHeader", json!(["0x1234"])).await.code(), -32602);
    }

    #[tokio::test]
    async fn finalized_head_and_alias() {
        let h = harness();
        let b1 = h.chain.import(&[], &[]);
        let genesis = json!(format!("{:?}", h.chain.genesis()));
        assert_eq!(h.ok("chain_getFinalizedHead", json!([])).await, genesis);
        h.chain.finalize(b1);
        assert_eq!(h.ok("chain_getFinalisedHead", json!([])).await, json!(format!("{b1:?}")));
    }

    #[tokio::test]
    async fn head_subscriptions_push_current_value_then_updates() {
        let h = harness();
        for method in ["chain_subscribeNewHeads", "chain_subscribeNewHead", "subscribe_newHead"] {
            let mut sub = h.subscribe(method, json!([])).await.unwrap();
            assert_eq!(
                next(&mut sub).await["number"],
                json!(format!("{:#x}", h.chain.info_number()))
            );
        }
        let mut new_heads = h.subscribe("chain_subscribeNewHead", json!([])).await.unwrap();
        let mut all = h.subscribe("chain_subscribeAllHeads", json!([])).await.unwrap();
        let mut fin = h.subscribe("chain_subscribeFinalisedHeads", json!([])).await.unwrap();
        assert_eq!(next(&mut new_heads).await["number"], json!("0x0"));
        assert_eq!(next(&mut all).await["number"], json!("0x0"));
        assert_eq!(next(&mut fin).await["number"], json!("0x0"));

        let b1 = h.chain.import(&[], &[]);
        assert_eq!(next(&mut new_heads).await["number"], json!("0x1"));
        assert_eq!(next(&mut all).await["number"], json!("0x1"));
        assert!(silent(&mut fin).await);
        h.chain.finalize(b1);
        assert_eq!(next(&mut fin).await["number"], json!("0x1"));
        assert!(silent(&mut new_heads).await);
    }

    impl FakeChain {
        fn info_number(&self) -> u32 {
            use subtensor_chain::ChainApi;
            self.info().best_number
        }
    }
}
