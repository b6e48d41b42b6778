//! Spam resistance of the replay cache: refused callers leave no entry, one caller cannot take
//! more than its quota, and replays stay refused.

use super::*;
use subtensor_axon::{
    axon::LimitConfig, dendrite::PreparedRequest, Dendrite, Member, MetagraphPolicy,
};

async fn status_of(d: &Dendrite, req: &PreparedRequest) -> (u16, String) {
    let (status, _, body) = d.send(req).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    (status.as_u16(), json["message"].as_str().unwrap_or_default().to_owned())
}

fn validator(uri: &str) -> Member {
    Member { hotkey: key(uri).account_id(), uid: 0, stake: 1_000_000, validator_permit: true }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_hotkey_nonce_quota_is_429_for_that_hotkey_only() {
    let config = AxonConfig { nonce_per_hotkey: 3, ..AxonConfig::default() };
    let axon = spawn_axon("127.0.0.1:0", config, Duration::ZERO, None).await;
    let cache = axon.nonce_cache();
    let t = target(axon.addr);
    let alice = Dendrite::new(key("//Alice"));
    let mut sent = Vec::new();
    for _ in 0..3 {
        let req = alice.prepare(&t, &request(), Duration::from_secs(10)).unwrap();
        assert_eq!(status_of(&alice, &req).await.0, 200);
        sent.push(req);
    }
    let req = alice.prepare(&t, &request(), Duration::from_secs(10)).unwrap();
    let (code, message) = status_of(&alice, &req).await;
    assert_eq!(code, 429);
    assert!(message.contains("too many unexpired nonces"), "{message}");
    assert_eq!(cache.len_for(&key("//Alice").ss58()), 3, "the refused nonce is not recorded");
    // Replays of Alice's recorded nonces are still replays (401), whatever her quota.
    for req in &sent {
        let (code, message) = status_of(&alice, req).await;
        assert_eq!(code, 401);
        assert!(message.contains("already used"), "{message}");
    }
    // Others are unaffected.
    let charlie = Dendrite::new(key("//Charlie"));
    for _ in 0..3 {
        charlie.call(&t, &request(), Duration::from_secs(10)).await.unwrap();
    }
    assert_eq!(cache.len(), 6);
    axon.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_leave_no_trace_and_can_be_sent_again_once_admitted() {
    // Blacklisted: 403, nothing recorded; once registered, the very same signed request (still
    // fresh) is served, and then it is a replay.
    let policy = MetagraphPolicy::new(false, 0);
    policy.update([]);
    let axon = Axon::new(key("//Bob"), AxonConfig::default())
        .metagraph_policy(&policy)
        .attach(|_c: Caller, s: TextCausalLMNext| async move { answer(s) })
        .spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let cache = axon.nonce_cache();
    let d = Dendrite::new(key("//Alice"));
    let req = d.prepare(&target(axon.addr), &request(), Duration::from_secs(10)).unwrap();
    assert_eq!(status_of(&d, &req).await.0, 403);
    assert_eq!(status_of(&d, &req).await.0, 403, "a refusal, not a replay");
    assert!(cache.is_empty());
    policy.update([validator("//Alice")]);
    assert_eq!(status_of(&d, &req).await.0, 200);
    let (code, message) = status_of(&d, &req).await;
    assert_eq!((code, message.contains("already used")), (401, true), "{message}");
    assert_eq!(cache.len(), 1);
    axon.shutdown().await.unwrap();

    // Over the in-flight limit: 429, nothing recorded; resent once the slot frees: served.
    let limits =
        LimitConfig { rate_per_sec: 1000.0, burst: 1000.0, max_in_flight: 1, max_tracked: 16 };
    let config = AxonConfig { limits, ..AxonConfig::default() };
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let gate = release.clone();
    let axon = Axon::new(key("//Bob"), config)
        .attach(move |_c: Caller, s: TextCausalLMNext| {
            let gate = gate.clone();
            async move {
                gate.acquire().await.map_err(|e| e.to_string())?.forget();
                answer(s)
            }
        })
        .spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let cache = axon.nonce_cache();
    let t = target(axon.addr);
    let first = {
        let d = d.clone();
        let t = t.clone();
        tokio::spawn(async move { d.call(&t, &request(), Duration::from_secs(30)).await.map(drop) })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while cache.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the first request never arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let second = d.prepare(&t, &request(), Duration::from_secs(30)).unwrap();
    assert_eq!(status_of(&d, &second).await.0, 429, "the first request holds the only slot");
    assert_eq!(cache.len(), 1, "the 429 left no entry");
    release.add_permits(2);
    first.await.unwrap().unwrap();
    assert_eq!(status_of(&d, &second).await.0, 200);
    assert_eq!(status_of(&d, &second).await.0, 401);
    assert_eq!(cache.len(), 2);
    axon.shutdown().await.unwrap();
}
