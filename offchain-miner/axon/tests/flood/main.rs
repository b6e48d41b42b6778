//! Spam resistance over real HTTP: a flood of correctly signed requests from thousands of
//! unregistered hotkeys against an axon with a [`MetagraphPolicy`], while a registered
//! validator keeps querying it.
//!
//! A test binary of its own (cargo runs test binaries one after another), so the flood's CPU
//! load never overlaps the timing-sensitive tests of `tests/it`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use subtensor_axon::{
    dendrite::{AxonTarget, PreparedRequest},
    synapse::{floor_probability, TopkPhrases, VOCAB_SIZE},
    Axon, AxonConfig, Caller, Dendrite, Member, MetagraphPolicy, TextCausalLMNext,
};
use subtensor_wallet::Keypair;

fn key(uri: &str) -> Keypair {
    Keypair::from_uri(uri).unwrap()
}

/// A distinct, unregistered hotkey per `i` (a seed is far cheaper than a `//uri` derivation).
fn spam_key(i: usize) -> Keypair {
    let mut seed = [0x5a_u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Keypair::from_seed(&seed).unwrap()
}

/// The axon's hotkey, `//Bob` (derived once: derivation is slow in unoptimised builds).
fn target(addr: std::net::SocketAddr) -> AxonTarget {
    static BOB: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    AxonTarget { addr, hotkey: BOB.get_or_init(|| key("//Bob").ss58()).clone() }
}

fn request() -> TextCausalLMNext {
    TextCausalLMNext::request(&[vec![464, 2068, 7586], vec![11, 12, 13]], 4).unwrap()
}

/// Answers with `topk` phrases `[last_token + i]`, each with probability `0.5 / topk`.
fn answer(mut s: TextCausalLMNext) -> Result<TextCausalLMNext, String> {
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

async fn status_of(d: &Dendrite, req: &PreparedRequest) -> (u16, String) {
    let (status, _, body) = d.send(req).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    (status.as_u16(), json["message"].as_str().unwrap_or_default().to_owned())
}

/// Thousands of distinct unregistered hotkeys, each sending one correctly signed request as fast
/// as the test can sign and send them, while a registered validator keeps querying: every one
/// of the validator's requests is served, every spam request is refused (403), and the replay
/// cache never holds an entry of a refused hotkey. The cache is small on purpose (fewer entries
/// than spam requests): had refused requests been recorded, it would fill and the validator
/// would be turned away (503).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unregistered_flood_neither_enters_the_cache_nor_stops_a_validator() {
    const SPAMMERS: usize = 2000;
    const WORKERS: usize = 48;
    const STEP: usize = 20;
    let policy = MetagraphPolicy::new(true, 0);
    policy.update([Member {
        hotkey: key("//Alice").account_id(),
        uid: 0,
        stake: 1_000_000,
        validator_permit: true,
    }]);
    let config = AxonConfig { nonce_capacity: 512, nonce_per_hotkey: 400, ..AxonConfig::default() };
    let axon = Axon::new(key("//Bob"), config)
        .metagraph_policy(&policy)
        .attach(|_c: Caller, s: TextCausalLMNext| async move { answer(s) })
        .spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = axon.addr;
    let cache = axon.nonce_cache();
    let alice = key("//Alice").ss58();
    let done = Arc::new(AtomicBool::new(false));

    // Watches the cache throughout: only the validator may ever have entries.
    let monitor = {
        let (cache, alice, done) = (cache.clone(), alice.clone(), done.clone());
        tokio::spawn(async move {
            let mut looks = 0usize;
            while !done.load(Ordering::SeqCst) {
                let hotkeys = cache.hotkeys();
                assert!(
                    hotkeys.iter().all(|h| *h == alice),
                    "refused hotkeys in cache: {hotkeys:?}"
                );
                looks += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            looks
        })
    };

    // The flood: workers take the next spam key, sign a request with it and send it.
    let next = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let sender = Dendrite::new(key("//Ferdie")); // Only its connection pool is used.
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let (next, refused, sender) = (next.clone(), refused.clone(), sender.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= SPAMMERS {
                    break;
                }
                let spam = Dendrite::new(spam_key(i));
                let req = spam.prepare(&target(addr), &request(), Duration::from_secs(30)).unwrap();
                let (code, message) = status_of(&sender, &req).await;
                assert_eq!(code, 403, "spam request {i}: {message}");
                refused.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }

    // The validator queries throughout the flood, once per `STEP` spam requests answered (so
    // it stays within its rate limit and nonce quota however fast this machine is), and once
    // more after the last spam key was taken.
    let d = Dendrite::new(key("//Alice"));
    let started = std::time::Instant::now();
    let (mut served, mut slowest) = (0usize, Duration::ZERO);
    loop {
        let flood_over = next.load(Ordering::SeqCst) >= SPAMMERS
            || workers.iter().all(tokio::task::JoinHandle::is_finished);
        if refused.load(Ordering::SeqCst) < served * STEP && !flood_over {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let sent = std::time::Instant::now();
        d.call(&target(addr), &request(), Duration::from_secs(30)).await.unwrap_or_else(|e| {
            panic!("validator request {served} failed during the flood: {e:?}")
        });
        slowest = slowest.max(sent.elapsed());
        served += 1;
        if flood_over {
            break;
        }
    }
    let spam_during = refused.load(Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let looks = monitor.await.unwrap();
    eprintln!(
        "{SPAMMERS} spam requests and {served} validator requests in {:?}; slowest validator \
         request {slowest:?}; {looks} looks at the cache",
        started.elapsed()
    );

    assert_eq!(refused.load(Ordering::SeqCst), SPAMMERS);
    assert!(
        spam_during > 512 && served > 10,
        "the validator's requests overlapped the flood ({served} during {spam_during} spam)"
    );
    assert!(looks > 0);
    assert_eq!(cache.hotkeys(), vec![alice.clone()]);
    assert_eq!((cache.len(), cache.len_for(&alice)), (served, served));

    // Replays of the validator's requests are still refused while their entries live.
    let req = d.prepare(&target(addr), &request(), Duration::from_secs(30)).unwrap();
    assert_eq!(status_of(&d, &req).await.0, 200);
    let (code, message) = status_of(&d, &req).await;
    assert_eq!(code, 401);
    assert!(message.contains("already used"), "{message}");
    assert_eq!(cache.len(), served + 1);
    axon.shutdown().await.unwrap();
}
