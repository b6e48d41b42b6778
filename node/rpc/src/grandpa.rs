//! `grandpa_*`: the finality gadget's round state, finality proofs and a stream of
//! justifications, as Substrate's GRANDPA RPC serves them.

use crate::{common::send_json, node_api::GrandpaRpcApi, RpcError, RpcResult};
use jsonrpsee::{
    core::{async_trait, SubscriptionResult},
    proc_macros::rpc,
    server::PendingSubscriptionSink,
};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// The `grandpa_*` methods.
#[rpc(server)]
pub trait GrandpaRpc {
    /// The state of the current voting round: set id, round, total and threshold weights, and
    /// the prevote and precommit weights with the authorities still missing.
    #[method(name = "grandpa_roundState")]
    fn round_state(&self) -> RpcResult<serde_json::Value>;

    /// A SCALE-encoded (hex) finality proof for block `number` (Substrate's `FinalityProof`:
    /// the finalized block, its GRANDPA justification, the headers between); `null` if none is
    /// known.
    #[method(name = "grandpa_proveFinality", blocking)]
    fn prove_finality(&self, number: u32) -> RpcResult<Option<String>>;

    /// Justifications (hex, SCALE) of newly finalized blocks.
    #[subscription(
        name = "grandpa_subscribeJustifications" => "grandpa_justifications",
        unsubscribe = "grandpa_unsubscribeJustifications",
        item = String
    )]
    async fn subscribe_justifications(&self) -> SubscriptionResult;
}

/// Implementation of [`GrandpaRpcServer`].
pub struct Grandpa {
    finality: Arc<dyn GrandpaRpcApi>,
}

impl Grandpa {
    /// Serve the methods from `finality`.
    pub fn new(finality: Arc<dyn GrandpaRpcApi>) -> Self {
        Self { finality }
    }
}

fn hex_of(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

#[async_trait]
impl GrandpaRpcServer for Grandpa {
    fn round_state(&self) -> RpcResult<serde_json::Value> {
        self.finality.round_state().map_err(RpcError::Internal)
    }

    fn prove_finality(&self, number: u32) -> RpcResult<Option<String>> {
        Ok(self.finality.prove_finality(number).map_err(RpcError::Internal)?.map(|j| hex_of(&j)))
    }

    async fn subscribe_justifications(
        &self,
        pending: PendingSubscriptionSink,
    ) -> SubscriptionResult {
        let mut justifications = self.finality.justifications();
        let sink = pending.accept().await?;
        loop {
            tokio::select! {
                _ = sink.closed() => return Ok(()),
                next = justifications.recv() => match next {
                    Ok(justification) => send_json(&sink, &hex_of(&justification)).await?,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return Ok(()),
                },
            }
        }
    }
}
