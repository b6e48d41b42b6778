//! The `author_*` namespace: submitting and watching transactions.
//!
//! Invalid transactions are refused with a JSON-RPC error on submission (codes 1001–1019, as
//! Substrate does), never reported as an `"invalid"` status: py-substrate-interface ignores that
//! status and would wait forever.

use crate::{common::send_json, RpcError, RpcResult};
use jsonrpsee::{
    core::{async_trait, SubscriptionResult},
    proc_macros::rpc,
    server::PendingSubscriptionSink,
};
use serde_json::{json, Value};
use sp_core::{Bytes, H256};
use std::{sync::Arc, time::Duration};
use subtensor_txpool::{Pool, TransactionSource, TxStatus};
use tokio::time::Instant;

/// Least time between an `inBlock` and a `finalized` notification of one transaction. With
/// instant finality the two would otherwise arrive together, and polkadot.js then loses the
/// `inBlock` event (it cancels its in-block processing when `finalized` arrives); Chopsticks
/// waits 100 ms for the same reason, 0.5 s was verified with polkadot.js.
pub const FINALIZED_AFTER_IN_BLOCK: Duration = Duration::from_millis(500);

/// The JSON of a status in `author_extrinsicUpdate` notifications (Substrate's
/// `TransactionStatus` serde form): `"ready"`, `{"inBlock":"0x.."}`, `{"finalized":"0x.."}`...
pub fn status_json(status: &TxStatus) -> Value {
    match status {
        TxStatus::Future => json!("future"),
        TxStatus::Ready => json!("ready"),
        TxStatus::InBlock(h) => json!({ "inBlock": h }),
        TxStatus::Retracted(h) => json!({ "retracted": h }),
        TxStatus::FinalityTimeout(h) => json!({ "finalityTimeout": h }),
        TxStatus::Finalized(h) => json!({ "finalized": h }),
        TxStatus::Usurped(h) => json!({ "usurped": h }),
        TxStatus::Dropped => json!("dropped"),
        TxStatus::Invalid => json!("invalid"),
    }
}

/// The `author_*` methods.
#[rpc(server)]
pub trait AuthorRpc {
    /// Validates the SCALE-encoded extrinsic and adds it to the pool; returns its hash
    /// (blake2_256 of the submitted bytes, length prefix included).
    #[method(name = "author_submitExtrinsic", blocking)]
    fn submit_extrinsic(&self, extrinsic: Bytes) -> RpcResult<H256>;

    /// The encodings of the ready transactions.
    #[method(name = "author_pendingExtrinsics")]
    fn pending_extrinsics(&self) -> RpcResult<Vec<Bytes>>;

    /// Submits like `author_submitExtrinsic` (errors come back as the call's error) and streams
    /// the transaction's statuses (`author_extrinsicUpdate`): `"future"`/`"ready"`, then
    /// `{"inBlock":h}`, `{"finalized":h}`, or a final `"dropped"`, `"invalid"`,
    /// `{"usurped":h}`, `{"finalityTimeout":h}`. The subscription ends after a final status.
    #[subscription(
        name = "author_submitAndWatchExtrinsic" => "author_extrinsicUpdate",
        unsubscribe = "author_unwatchExtrinsic",
        item = Value
    )]
    async fn watch_extrinsic(&self, extrinsic: Bytes) -> SubscriptionResult;
}

/// Implementation of [`AuthorRpcServer`].
pub struct Author {
    pool: Arc<Pool>,
}

impl Author {
    /// Serves `pool`.
    pub fn new(pool: Arc<Pool>) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl AuthorRpcServer for Author {
    fn submit_extrinsic(&self, extrinsic: Bytes) -> RpcResult<H256> {
        Ok(self.pool.submit(TransactionSource::External, &extrinsic)?)
    }

    fn pending_extrinsics(&self) -> RpcResult<Vec<Bytes>> {
        Ok(self.pool.ready().map(|tx| Bytes(tx.data.clone())).collect())
    }

    async fn watch_extrinsic(
        &self,
        pending: PendingSubscriptionSink,
        extrinsic: Bytes,
    ) -> SubscriptionResult {
        let pool = self.pool.clone();
        let submitted = tokio::task::spawn_blocking(move || {
            pool.submit_and_watch(TransactionSource::External, &extrinsic)
        })
        .await;
        let mut watcher = match submitted {
            Ok(Ok(watcher)) => watcher,
            Ok(Err(e)) => {
                pending.reject(RpcError::Pool(e)).await;
                return Ok(());
            }
            Err(e) => {
                pending.reject(RpcError::Internal(format!("submission failed: {e}"))).await;
                return Ok(());
            }
        };
        let sink = pending.accept().await?;
        let mut in_block_at: Option<Instant> = None;
        loop {
            let status = tokio::select! {
                _ = sink.closed() => return Ok(()),
                status = watcher.next() => match status {
                    Some(status) => status,
                    None => return Ok(()),
                },
            };
            match status {
                TxStatus::InBlock(_) => in_block_at = Some(Instant::now()),
                TxStatus::Finalized(_) => {
                    if let Some(deadline) =
                        in_block_at.and_then(|at| at.checked_add(FINALIZED_AFTER_IN_BLOCK))
                    {
                        tokio::time::sleep_until(deadline).await;
                    }
                }
                _ => {}
            }
            send_json(&sink, &status_json(&status)).await?;
            if status.is_final() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::test_utils::*;
    use serde_json::json;

    fn hash_hex(data: &[u8]) -> String {
        format!("{:?}", H256::from(sp_crypto_hashing::blake2_256(data)))
    }

    #[tokio::test]
    async fn submit_returns_hash_and_maps_pool_errors() {
        let h = harness();
        let tx = xt(1, 5, false);
        assert_eq!(h.ok("author_submitExtrinsic", json!([hex0x(&tx)])).await, json!(hash_hex(&tx)));
        assert_eq!(h.ok("author_pendingExtrinsics", json!([])).await, json!([hex0x(&tx)]));

        let e = h.err("author_submitExtrinsic", json!([hex0x(&tx)])).await;
        assert_eq!((e.code(), e.message()), (1013, "Transaction Already Imported"));
        let e = h.err("author_submitExtrinsic", json!(["0x0c8400"])).await;
        assert_eq!(e.code(), 1001);
        assert!(e.message().starts_with("Extrinsic has invalid format: "), "{}", e.message());
        let e = h.err("author_submitExtrinsic", json!([hex0x(&xt(1, 2, false))])).await;
        assert_eq!((e.code(), e.message()), (1010, "Invalid Transaction"));
        assert_eq!(e.data().unwrap().get(), "\"Transaction is outdated\"");
        let bad = xt(2, 0, true);
        let e = h.err("author_submitExtrinsic", json!([hex0x(&bad)])).await;
        assert_eq!(e.data().unwrap().get(), "\"Transaction has a bad signature\"");
        let e = h.err("author_submitExtrinsic", json!([hex0x(&bad)])).await;
        assert_eq!((e.code(), e.message()), (1012, "Transaction is temporarily banned"));
        assert_eq!(h.err("author_submitExtrinsic", json!(["zz"])).await.code(), -32602);
    }

    #[tokio::test]
    async fn invalid_submit_and_watch_is_an_error_not_a_status() {
        let h = harness();
        let e = h
            .subscribe("author_submitAndWatchExtrinsic", json!([hex0x(&xt(1, 0, false))]))
            .await
            .unwrap_err();
        assert_eq!((e.code(), e.message()), (1010, "Invalid Transaction"));
        assert_eq!(e.data().unwrap().get(), "\"Transaction is outdated\"");
        let e = h.subscribe("author_submitAndWatchExtrinsic", json!(["0x00"])).await.unwrap_err();
        assert_eq!(e.code(), 1001);
    }

    #[tokio::test]
    async fn watch_reports_ready_in_block_and_finalized() {
        let h = harness();
        let tx = xt(1, 5, false);
        let mut sub =
            h.subscribe("author_submitAndWatchExtrinsic", json!([hex0x(&tx)])).await.unwrap();
        assert_eq!(next(&mut sub).await, json!("ready"));
        let block = h.chain.import(std::slice::from_ref(&tx), &[]);
        h.pool.on_block_imported(block, &[H256::from(sp_crypto_hashing::blake2_256(&tx))]);
        assert_eq!(next(&mut sub).await, json!({"inBlock": format!("{block:?}")}));
        let in_block_at = Instant::now();
        h.chain.finalize(block);
        h.pool.on_block_finalized(block);
        assert_eq!(next(&mut sub).await, json!({"finalized": format!("{block:?}")}));
        assert!(in_block_at.elapsed() >= FINALIZED_AFTER_IN_BLOCK - Duration::from_millis(20));
    }

    #[tokio::test]
    async fn future_transaction_is_reported_future() {
        let h = harness();
        let mut sub = h
            .subscribe("author_submitAndWatchExtrinsic", json!([hex0x(&xt(1, 7, false))]))
            .await
            .unwrap();
        assert_eq!(next(&mut sub).await, json!("future"));
        assert_eq!(h.ok("author_pendingExtrinsics", json!([])).await, json!([]));
    }

    #[test]
    fn status_shapes() {
        let b = H256::repeat_byte(1);
        let hb = format!("{b:?}");
        assert_eq!(status_json(&TxStatus::Future), json!("future"));
        assert_eq!(status_json(&TxStatus::Ready), json!("ready"));
        assert_eq!(status_json(&TxStatus::InBlock(b)), json!({"inBlock": hb}));
        assert_eq!(status_json(&TxStatus::Retracted(b)), json!({"retracted": hb}));
        assert_eq!(status_json(&TxStatus::FinalityTimeout(b)), json!({"finalityTimeout": hb}));
        assert_eq!(status_json(&TxStatus::Finalized(b)), json!({"finalized": hb}));
        assert_eq!(status_json(&TxStatus::Usurped(b)), json!({"usurped": hb}));
        assert_eq!(status_json(&TxStatus::Dropped), json!("dropped"));
        assert_eq!(status_json(&TxStatus::Invalid), json!("invalid"));
    }
}
