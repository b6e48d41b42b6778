//! The global concurrency limit, its priority queue, and the metagraph policy, over HTTP.

use super::*;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use subtensor_axon::{AxonError, Dendrite, Member, MetagraphPolicy, Priority};
use subtensor_wallet::AccountId32;
use tokio::sync::Semaphore;

/// An axon whose `TextCausalLMNext` handler logs callers and, for `blocker`, waits for a
/// permit of `release` before answering.
struct Harness {
    axon: RunningAxon,
    handled: Arc<Mutex<Vec<String>>>,
    release: Arc<Semaphore>,
}

async fn harness(
    config: AxonConfig,
    configure: impl FnOnce(Axon) -> Axon,
    blocker: &str,
) -> Harness {
    let handled = Arc::new(Mutex::new(Vec::new()));
    let release = Arc::new(Semaphore::new(0));
    let blocker = key(blocker).ss58();
    let (log, gate) = (handled.clone(), release.clone());
    let axon = configure(Axon::new(key("//Bob"), config))
        .attach(move |c: Caller, s: TextCausalLMNext| {
            let (log, gate, blocker) = (log.clone(), gate.clone(), blocker.clone());
            async move {
                log.lock().push(c.hotkey_ss58.clone());
                if c.hotkey_ss58 == blocker {
                    gate.acquire().await.map_err(|e| e.to_string())?.forget();
                }
                answer(s)
            }
        })
        .spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    Harness { axon, handled, release }
}

async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Stakes by dev key, counting how often the axon asked.
struct Stakes {
    stakes: Vec<(AccountId32, f64)>,
    asked: AtomicUsize,
}

impl Priority for Stakes {
    fn priority(&self, hotkey: &AccountId32) -> f64 {
        self.asked.fetch_add(1, Ordering::SeqCst);
        self.stakes.iter().find(|(k, _)| k == hotkey).map_or(0.0, |(_, s)| *s)
    }
}

fn call(uri: &str, addr: SocketAddr) -> tokio::task::JoinHandle<Result<(), AxonError>> {
    let d = Dendrite::new(key(uri));
    tokio::spawn(async move {
        d.call(&target(addr), &request(), Duration::from_secs(30)).await.map(drop)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saturated_axon_admits_high_stake_waiters_first() {
    let stakes = Arc::new(Stakes {
        stakes: vec![
            (key("//Alice").account_id(), 1.0),
            (key("//Dave").account_id(), 10.0),
            (key("//Charlie").account_id(), 100.0),
        ],
        asked: AtomicUsize::new(0),
    });
    let config = AxonConfig { max_concurrent: 1, ..AxonConfig::default() };
    let p = stakes.clone();
    let h = harness(config, move |a| a.priority(p), "//Eve").await;
    let addr = h.axon.addr;

    // Eve takes the only slot and holds it.
    let blocker = call("//Eve", addr);
    wait_for("the blocker to run", || h.handled.lock().len() == 1).await;
    // Then waiters arrive low stake first: Alice ×2, Charlie ×2, Dave.
    let mut waiters = Vec::new();
    for uri in ["//Alice", "//Alice", "//Charlie", "//Charlie", "//Dave"] {
        let before = stakes.asked.load(Ordering::SeqCst);
        waiters.push(call(uri, addr));
        wait_for("the waiter to queue", || stakes.asked.load(Ordering::SeqCst) > before).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(h.handled.lock().len(), 1, "nobody else may run while the slot is held");
    h.release.add_permits(1);
    blocker.await.unwrap().unwrap();
    for w in waiters {
        w.await.unwrap().unwrap();
    }
    let order: Vec<String> = h.handled.lock().clone();
    let names = |uris: &[&str]| uris.iter().map(|u| key(u).ss58()).collect::<Vec<_>>();
    assert_eq!(order, names(&["//Eve", "//Charlie", "//Charlie", "//Dave", "//Alice", "//Alice"]));
    h.axon.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_passing_in_the_queue_is_408_without_running_the_handler() {
    let config = AxonConfig { max_concurrent: 1, ..AxonConfig::default() };
    let h = harness(config, |a| a, "//Eve").await;
    let addr = h.axon.addr;
    let blocker = call("//Eve", addr);
    wait_for("the blocker to run", || h.handled.lock().len() == 1).await;

    // A raw request (no client-side timeout) telling the axon it has one second.
    let d = Dendrite::new(key("//Alice"));
    let req = d.prepare(&target(addr), &request(), Duration::from_secs(1)).unwrap();
    let started = std::time::Instant::now();
    let (status, _, body) = d.send(&req).await.unwrap();
    assert_eq!(status, 408, "{}", String::from_utf8_lossy(&body));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(h.handled.lock().len(), 1, "the expired request never reached its handler");

    // The expired waiter left the queue: once the slot frees, the next request runs.
    h.release.add_permits(1);
    blocker.await.unwrap().unwrap();
    d.call(&target(addr), &request(), Duration::from_secs(10)).await.unwrap();
    assert_eq!(*h.handled.lock(), vec![key("//Eve").ss58(), key("//Alice").ss58()]);
    h.axon.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_is_503_and_higher_stake_displaces_the_lowest() {
    let config = AxonConfig { max_concurrent: 1, max_queued: 1, ..AxonConfig::default() };
    let stakes = Arc::new(Stakes {
        stakes: vec![(key("//Alice").account_id(), 1.0), (key("//Charlie").account_id(), 100.0)],
        asked: AtomicUsize::new(0),
    });
    let p = stakes.clone();
    let h = harness(config, move |a| a.priority(p), "//Eve").await;
    let addr = h.axon.addr;
    let blocker = call("//Eve", addr);
    wait_for("the blocker to run", || h.handled.lock().len() == 1).await;
    let queued = call("//Alice", addr);
    wait_for("Alice to queue", || stakes.asked.load(Ordering::SeqCst) == 2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Not above the lowest waiter (unknown hotkey, priority 0): refused at once.
    let err = Dendrite::new(key("//Ferdie"))
        .call(&target(addr), &request(), Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 503, .. }), "{err:?}");
    // Higher: takes Alice's place, and Alice is told.
    let charlie = call("//Charlie", addr);
    let err = queued.await.unwrap().unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 503, .. }), "{err:?}");
    h.release.add_permits(1);
    blocker.await.unwrap().unwrap();
    charlie.await.unwrap().unwrap();
    assert_eq!(*h.handled.lock(), vec![key("//Eve").ss58(), key("//Charlie").ss58()]);
    h.axon.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metagraph_policy_blocks_before_the_handler() {
    let policy = MetagraphPolicy::new(true, 50);
    let h = harness(AxonConfig::default(), |a| a.metagraph_policy(&policy), "//Nobody").await;
    let addr = h.axon.addr;
    let status = |uri: &'static str| async move {
        match Dendrite::new(key(uri)).call(&target(addr), &request(), Duration::from_secs(10)).await
        {
            Ok(_) => 200,
            Err(AxonError::Status { code, message }) => {
                assert!(code != 403 || message.contains("blacklisted"), "{message}");
                code
            }
            Err(e) => panic!("{e:?}"),
        }
    };
    // Not loaded yet: everyone is refused.
    assert_eq!(status("//Alice").await, 403);
    let member = |uri: &str, uid, stake, validator_permit| Member {
        hotkey: key(uri).account_id(),
        uid,
        stake,
        validator_permit,
    };
    policy.update([
        member("//Alice", 0, 100, true),
        member("//Charlie", 1, 100, false),
        member("//Dave", 2, 10, true),
    ]);
    assert_eq!(status("//Alice").await, 200);
    assert_eq!(status("//Charlie").await, 403, "no validator permit");
    assert_eq!(status("//Dave").await, 403, "stake below the minimum");
    assert_eq!(status("//Eve").await, 403, "not registered");
    assert_eq!(*h.handled.lock(), vec![key("//Alice").ss58()], "only Alice reached the handler");
    // Deregistered by the next update (through the clone the axon holds).
    policy.update([member("//Charlie", 1, 100, true)]);
    assert_eq!(status("//Alice").await, 403);
    assert_eq!(status("//Charlie").await, 200);
    assert_eq!(h.handled.lock().len(), 2);
    h.axon.shutdown().await.unwrap();
}
