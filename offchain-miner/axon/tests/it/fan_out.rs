//! Fan-out to 256 axons, some dead and some too slow.

use super::*;
use subtensor_axon::{AxonError, Dendrite};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_256_with_dead_and_slow_axons() {
    const FAST: usize = 200;
    const SLOW: usize = 28;
    const DEAD: usize = 28;
    let mut targets = Vec::new();
    let mut running = Vec::new();
    for i in 0..FAST + SLOW {
        let delay = if i < FAST { Duration::ZERO } else { Duration::from_secs(60) };
        let addr = if i % 2 == 0 { "127.0.0.1:0" } else { "[::1]:0" };
        let axon = spawn_axon(addr, AxonConfig::default(), delay, None).await;
        targets.push(target(axon.addr));
        running.push(axon);
    }
    for _ in 0..DEAD {
        // A port that was just free: bind, note it, close it.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        targets.push(target(addr));
    }
    let dendrite = Dendrite::new(key("//Alice"));
    // Generous for unoptimised test builds, where ~1,000 sr25519 operations take a while.
    // The deadline leaves room for ~1,000 debug-build sr25519 operations on a loaded 2-core
    // machine; the slow axons sleep far longer, so returning within the deadline plus a
    // scheduling margin shows they cannot hold the others' results back.
    let timeout = Duration::from_secs(8);
    let started = std::time::Instant::now();
    let results = dendrite.fan_out(&targets, &request(), timeout).await;
    let elapsed = started.elapsed();
    eprintln!("fan-out of {} took {elapsed:?}", targets.len());
    assert!(elapsed < timeout + Duration::from_secs(3), "fan-out took {elapsed:?}");
    assert_eq!(results.len(), FAST + SLOW + DEAD);
    for (i, r) in results.iter().enumerate() {
        if i < FAST {
            let reply = r.as_ref().unwrap();
            assert_eq!(reply.synapse.outputs().unwrap().len(), 2);
        } else if i < FAST + SLOW {
            assert!(matches!(r, Err(AxonError::Timeout)), "slow {i}: {r:?}");
        } else {
            assert!(matches!(r, Err(AxonError::Connect(_))), "dead {i}: {r:?}");
        }
    }
    // A second round reuses pooled connections and still works.
    let again = dendrite.fan_out(&targets[..FAST], &request(), timeout).await;
    assert!(again.iter().all(Result::is_ok));
}
