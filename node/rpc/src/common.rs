//! Helpers shared by the namespaces: block resolution, runtime calls, subscription pumping.

use crate::{RpcError, RpcResult};
use codec::{Decode, DecodeAll};
use jsonrpsee::{
    core::SubscriptionResult,
    server::{PendingSubscriptionSink, SubscriptionMessage, SubscriptionSink},
};
use serde::Serialize;
use sp_core::H256;
use std::sync::Arc;
use subtensor_chain::{ChainApi, ChainEvent};
use tokio::sync::broadcast::error::RecvError;

/// `at`, or the best block when absent.
pub(crate) fn at_or_best(chain: &dyn ChainApi, at: Option<H256>) -> H256 {
    at.unwrap_or_else(|| chain.info().best_hash)
}

/// Calls runtime API `method` with SCALE `args` at `at` (best if absent) and decodes the whole
/// output as `T`.
pub(crate) fn call_decode<T: Decode>(
    chain: &dyn ChainApi,
    at: Option<H256>,
    method: &str,
    args: &[u8],
) -> RpcResult<T> {
    let at = at_or_best(chain, at);
    let out = chain.call(at, method, args)?;
    T::decode_all(&mut &out[..])
        .map_err(|e| RpcError::Internal(format!("{method} returned undecodable bytes: {e}")))
}

/// Sends one JSON notification.
pub(crate) async fn send_json<T: Serialize>(
    sink: &SubscriptionSink,
    value: &T,
) -> SubscriptionResult {
    let raw = serde_json::value::to_raw_value(value)?;
    sink.send(SubscriptionMessage::from(raw)).await?;
    Ok(())
}

/// Runs a chain-driven subscription: subscribes to chain events, computes the current value
/// (rejecting the subscription with its error if that fails), accepts, pushes the value at
/// once, then pushes whatever `on_event` returns for each event, until the client unsubscribes
/// or the chain's event stream ends.
///
/// If events were missed (slow consumer), `on_event` gets synthetic `NewBest` and `Finalized`
/// events for the current heads, so the subscriber still converges on the current state.
pub(crate) async fn chain_subscription<T, I, F>(
    pending: PendingSubscriptionSink,
    chain: &Arc<dyn ChainApi>,
    initial: I,
    mut on_event: F,
) -> SubscriptionResult
where
    T: Serialize,
    I: FnOnce() -> RpcResult<T>,
    F: FnMut(&ChainEvent) -> RpcResult<Option<T>>,
{
    // Subscribe before reading the current value, so that nothing falls in between.
    let mut events = chain.subscribe();
    let first = match initial() {
        Ok(value) => value,
        Err(e) => {
            pending.reject(e).await;
            return Ok(());
        }
    };
    let sink = pending.accept().await?;
    send_json(&sink, &first).await?;
    loop {
        let batch = tokio::select! {
            _ = sink.closed() => return Ok(()),
            event = events.recv() => match event {
                Ok(event) => vec![event],
                Err(RecvError::Lagged(_)) => current_heads(chain.as_ref()),
                Err(RecvError::Closed) => return Ok(()),
            },
        };
        for event in batch {
            match on_event(&event) {
                Ok(Some(value)) => send_json(&sink, &value).await?,
                Ok(None) => {}
                Err(e) => {
                    log::debug!(target: "rpc", "subscription {} skipped an event: {e}", sink.method_name());
                }
            }
        }
    }
}

/// Synthetic events for the current best and finalized blocks.
fn current_heads(chain: &dyn ChainApi) -> Vec<ChainEvent> {
    let info = chain.info();
    let mut events = Vec::new();
    if let Ok(Some(header)) = chain.header(info.best_hash) {
        events.push(ChainEvent::Imported { hash: info.best_hash, header: header.clone() });
        events.push(ChainEvent::NewBest {
            hash: info.best_hash,
            header,
            retracted: Vec::new(),
            enacted: vec![info.best_hash],
        });
    }
    if let Ok(Some(header)) = chain.header(info.finalized_hash) {
        events.push(ChainEvent::Finalized { hash: info.finalized_hash, header });
    }
    events
}
