//! Organic scoring without a chain: a grid subnet of an honest miner and a greedy cheater
//! (axons on loopback serving a random model), user requests through the gateway, its
//! verdicts over `GET /organic`, and the validator's [`OrganicFeed`] folding them into grid
//! scores: the honest miner's answers are counted, the cheater is banned, nothing counts twice, and a
//! verdict about a hotkey the validator does not have at that uid is skipped.

use crate::{http, post, start, Opts};
use http::{Method, StatusCode};
use serde_json::json;
use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{atomic::Ordering, Arc},
    time::{Duration, Instant},
};
use subtensor_axon::Dendrite;
use subtensor_gateway::{
    backend::{Miner, NetworkBackend, NetworkConfig, StaticDirectory, Subnet},
    keys::{Auth, RateLimiter},
    latency::LatencyMap,
    organic::{OrganicLog, OrganicOutcome, OrganicPage},
    server::{router, AppState},
    test_utils::{grid_language_model, grid_model, key, spawn_grid_miner, Behaviour, TestMiner},
};
use subtensor_validator::{
    grid::{GridScoring, OrganicFeed},
    state::State,
};

const NETUID: u16 = 2;
const MODEL: &str = "tiny-grid";

/// A gateway serving subnet [`NETUID`] (the grid model [`MODEL`]) from `miners` (uids in
/// order); its URL and organic log.
async fn grid_gateway(miners: &[&TestMiner]) -> (String, OrganicLog) {
    let grid = grid_model(MODEL, 7);
    let subnet = Subnet {
        netuid: NETUID,
        kind: grid.offline_kind(),
        miners: miners
            .iter()
            .enumerate()
            .map(|(i, m)| Miner { uid: i as u16, target: m.target.clone(), incentive: 0.0 })
            .collect(),
    };
    let config = NetworkConfig { timeout: Duration::from_secs(20), ..NetworkConfig::default() };
    let backend = NetworkBackend::new(
        StaticDirectory::new(vec![subnet]),
        Dendrite::new(key("//Gateway")),
        None,
        Some(grid),
        LatencyMap::new(),
        config,
    );
    let log = backend.organic_log().clone();
    let app = router(Arc::new(AppState {
        backend,
        auth: Auth::Open,
        limiter: RateLimiter::new(10_000.0, 10_000.0).unwrap(),
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .unwrap();
    });
    (format!("http://{addr}"), log)
}

/// `GET /organic?{query}`, decoded.
async fn organic_page(url: &str, query: &str) -> OrganicPage {
    let (status, body) = http(Method::GET, &format!("{url}/organic?{query}"), None, None).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn grid_verdicts_reach_the_validators_scores() {
    let model = Arc::new(std::sync::Mutex::new(grid_language_model(7)));
    let honest = spawn_grid_miner("//Honest", model.clone(), false).await;
    let cheat = spawn_grid_miner("//Cheat", model, true).await;
    let (url, log) = grid_gateway(&[&honest, &cheat]).await;

    for seed in 0..4 {
        let (status, v) = post(
            &format!("{url}/v1/completions"),
            None,
            json!({"model": MODEL, "prompt": "the quick brown fox", "max_tokens": 8,
                   "temperature": 1.0, "seed": seed}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    // Every call runs to its end in the background: wait until each one has its verdict.
    let calls = || honest.calls.load(Ordering::SeqCst) + cheat.calls.load(Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    while log.len() < calls() {
        assert!(Instant::now() < deadline, "{} verdicts for {} calls", log.len(), calls());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let page = organic_page(&url, &format!("after=0&netuid={NETUID}")).await;
    assert_eq!(page.session, log.session());
    assert_eq!((page.dropped, page.more), (0, false));
    assert_eq!(page.verdicts.len(), calls());
    assert_eq!(page.next, page.verdicts.last().unwrap().seq);
    let of = |hotkey: &str| -> Vec<OrganicOutcome> {
        page.verdicts.iter().filter(|v| v.hotkey == hotkey).map(|v| v.outcome).collect()
    };
    let honest_outcomes = of(&honest.target.hotkey);
    let cheat_outcomes = of(&cheat.target.hotkey);
    assert_eq!(honest_outcomes.len(), honest.calls.load(Ordering::SeqCst));
    assert!(honest_outcomes.len() >= 4, "every request was answered by the honest miner");
    assert!(honest_outcomes.iter().all(|o| *o == OrganicOutcome::Verified), "{page:?}");
    assert!(!cheat_outcomes.is_empty(), "the first request fans out to both miners");
    assert!(cheat_outcomes.iter().all(|o| *o == OrganicOutcome::Rejected), "{page:?}");
    for v in &page.verdicts {
        assert_eq!(v.netuid, NETUID);
        match v.outcome {
            OrganicOutcome::Verified => {
                assert!(v.tokens_per_sec.is_some_and(|t| t > 0.0) && v.reason.is_none(), "{v:?}")
            }
            _ => assert!(v.tokens_per_sec.is_none() && v.reason.is_some(), "{v:?}"),
        }
    }
    // Another subnet's filter sees nothing, and a bad parameter is a 400.
    let none = organic_page(&url, "netuid=3").await;
    assert!(none.verdicts.is_empty() && none.next == page.next, "{none:?}");
    let (status, _) = http(Method::GET, &format!("{url}/organic?after=x"), None, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The validator folds them: the honest miner's answers are counted, the cheater is banned.
    let hotkeys: BTreeMap<u16, String> =
        [(0, honest.target.hotkey.clone()), (1, cheat.target.hotkey.clone())].into();
    let scoring = GridScoring { window: 8, percentile: 20.0, success_floor: 0.8, ban_blocks: 50 };
    let mut feed = OrganicFeed::new(&url).unwrap();
    let mut state = State::new(NETUID, "5Validator");
    let summary = feed.pull(&mut state, NETUID, &hotkeys, 100, &scoring).await;
    assert_eq!(
        (summary.verified, summary.rejected, summary.failed, summary.skipped),
        (honest_outcomes.len(), cheat_outcomes.len(), 0, 0)
    );
    let h = &state.grid[&0];
    assert_eq!(
        (h.organic_verified, h.organic_rejected, h.verified),
        (honest_outcomes.len() as u64, 0, 0)
    );
    // Verified user answers are counted, but speed and reliability stay the challenges'.
    assert!(h.speeds.is_empty() && h.recent.is_empty() && !h.banned_at(100), "{h:?}");
    let c = &state.grid[&1];
    assert_eq!(c.organic_rejected, cheat_outcomes.len() as u64);
    assert_eq!(c.banned_until, Some(150));
    assert_eq!(c.score(149, &scoring), 0.0);
    let cursor = state.organic.clone().unwrap();
    assert_eq!((cursor.session.as_str(), cursor.next), (log.session(), page.next));

    // Nothing is folded twice.
    let again = feed.pull(&mut state, NETUID, &hotkeys, 101, &scoring).await;
    assert_eq!(again.folded(), 0);
    assert_eq!(state.grid[&0].organic_verified, honest_outcomes.len() as u64);

    // A validator that has another hotkey at uid 1 skips the verdicts about uid 1.
    let other: BTreeMap<u16, String> =
        [(0, honest.target.hotkey.clone()), (1, key("//Newcomer").ss58())].into();
    let mut fresh = State::new(NETUID, "5Validator");
    let summary =
        OrganicFeed::new(&url).unwrap().pull(&mut fresh, NETUID, &other, 100, &scoring).await;
    assert_eq!(summary.skipped, cheat_outcomes.len());
    assert!(!fresh.grid.contains_key(&1), "{:?}", fresh.grid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heterogeneous_subnets_record_no_verdicts() {
    let gw = start(&[(0, Behaviour::Answer), (0, Behaviour::Answer)], Opts::default()).await;
    let (status, v) = post(
        &format!("{}/v1/completions", gw.url),
        None,
        json!({"model": "subnet-1", "prompt": "hello", "max_tokens": 8}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let page = organic_page(&gw.url, "").await;
    assert!(page.verdicts.is_empty() && page.next == 0, "{page:?}");
    assert_eq!(page.session.len(), 36);
}
