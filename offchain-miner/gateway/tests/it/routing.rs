//! Routing through real axons: the fast miner is preferred, slow ones are probed, a failing
//! one drops out, hedging rescues a stalled one.

use crate::{post, start, Opts};
use http::StatusCode;
use serde_json::json;
use std::{
    sync::atomic::Ordering,
    time::{Duration, Instant},
};
use subtensor_gateway::test_utils::Behaviour;

const A: Behaviour = Behaviour::Answer;

fn streaming() -> serde_json::Value {
    json!({"model": "subnet-1", "prompt": "hi", "max_tokens": 3, "stream": true})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fast_miner_is_chosen_most_and_slow_one_is_probed() {
    let gw = start(&[(0, A), (50, A), (300, A)], Opts::default()).await;
    let url = format!("{}/v1/completions", gw.url);
    for _ in 0..60 {
        let (status, _) = crate::http(http::Method::POST, &url, None, Some(streaming())).await;
        assert_eq!(status, StatusCode::OK);
    }
    let calls: Vec<usize> = gw.miners.iter().map(|m| m.calls.load(Ordering::SeqCst)).collect();
    assert!(calls[0] > calls[1] && calls[0] > calls[2], "{calls:?}");
    assert!(calls[0] >= 30, "{calls:?}");
    assert!(calls[2] >= 1, "the slow miner was never probed: {calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_miner_drops_out() {
    let gw = start(&[(0, Behaviour::Fail), (20, A)], Opts::default()).await;
    let url = format!("{}/v1/completions", gw.url);
    for _ in 0..30 {
        let (status, v) = post(
            &url,
            None,
            json!({"model": "subnet-1", "prompt": "hi", "max_tokens": 3, "stream": true}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let failing = gw.miners[0].calls.load(Ordering::SeqCst);
    assert!(failing <= 3, "the failing miner got {failing} of 30 requests");
    assert_eq!(
        gw.map.summary(1, 0, &gw.miners[0].target.hotkey).consecutive_failures as usize,
        failing
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hedging_cuts_a_stalled_miners_first_token_time() {
    let gw =
        start(&[(0, Behaviour::Stall(Duration::from_secs(20))), (0, A)], Opts::default()).await;
    let url = format!("{}/v1/completions", gw.url);
    for _ in 0..8 {
        let started = Instant::now();
        let (status, _) = crate::http(http::Method::POST, &url, None, Some(streaming())).await;
        assert_eq!(status, StatusCode::OK);
        // The hedge delay of an unmeasured primary is 0.5 s; the stalled miner takes 20 s.
        assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
    }
    assert!(
        gw.miners[0].calls.load(Ordering::SeqCst) >= 1,
        "the stalled miner was never routed to"
    );
}
