//! End-to-end tests: a dendrite against axons on loopback (IPv4 and IPv6).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod admission;
mod fan_out;
mod rejections;
mod round_trip;
mod spam;
mod synapses;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use subtensor_axon::{
    axon::RunningAxon,
    dendrite::AxonTarget,
    synapse::{floor_probability, TopkPhrases, VOCAB_SIZE},
    Axon, AxonConfig, Caller, TextCausalLMNext,
};
use subtensor_wallet::Keypair;

/// Dev keys, derived once each (derivation is slow in unoptimised builds).
pub(crate) fn key(uri: &str) -> Keypair {
    static KEYS: std::sync::OnceLock<
        parking_lot::Mutex<std::collections::HashMap<String, Keypair>>,
    > = std::sync::OnceLock::new();
    let keys = KEYS.get_or_init(Default::default);
    keys.lock().entry(uri.to_owned()).or_insert_with(|| Keypair::from_uri(uri).unwrap()).clone()
}

/// Answers with `topk` phrases `[last_token + i]`, each with probability `0.5 / topk`.
pub(crate) fn answer(mut s: TextCausalLMNext) -> Result<TextCausalLMNext, String> {
    let tokens = s.tokens().map_err(|e| e.to_string())?;
    let k = s.topk;
    let rows: Vec<TopkPhrases> = tokens
        .iter()
        .map(|row| {
            let last = row.last().copied().unwrap_or(0);
            let phrases = (0..k).map(|i| (0.5 / k as f32, vec![(last + i) % 50_000])).collect();
            TopkPhrases { phrases, floor: floor_probability(0.5, k, VOCAB_SIZE) }
        })
        .collect();
    s.set_outputs(&rows).map_err(|e| e.to_string())?;
    Ok(s)
}

/// An axon with hotkey `//Bob` answering [`answer`] after `delay`, and recording callers.
pub(crate) async fn spawn_axon(
    addr: &str,
    config: AxonConfig,
    delay: Duration,
    seen: Option<Arc<parking_lot::Mutex<Vec<String>>>>,
) -> RunningAxon {
    Axon::new(key("//Bob"), config)
        .attach(move |caller: Caller, s: TextCausalLMNext| {
            let seen = seen.clone();
            async move {
                if let Some(seen) = seen {
                    seen.lock().push(caller.hotkey_ss58.clone());
                }
                tokio::time::sleep(delay).await;
                answer(s)
            }
        })
        .spawn(addr.parse::<SocketAddr>().unwrap())
        .await
        .unwrap()
}

pub(crate) fn target(addr: SocketAddr) -> AxonTarget {
    AxonTarget { addr, hotkey: key("//Bob").ss58() }
}

pub(crate) fn request() -> TextCausalLMNext {
    TextCausalLMNext::request(&[vec![464, 2068, 7586], vec![11, 12, 13]], 4).unwrap()
}
