//! Successful queries, IPv4 and IPv6, connection reuse, graceful shutdown.

use super::*;
use subtensor_axon::{AxonError, Dendrite, Synapse};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_ipv4_and_ipv6() {
    for addr in ["127.0.0.1:0", "[::1]:0"] {
        let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let axon =
            spawn_axon(addr, AxonConfig::default(), Duration::ZERO, Some(seen.clone())).await;
        let dendrite = Dendrite::new(key("//Alice"));
        for _ in 0..3 {
            let reply = dendrite
                .call(&target(axon.addr), &request(), Duration::from_secs(5))
                .await
                .unwrap();
            let rows = reply.synapse.outputs().unwrap();
            assert_eq!(rows.len(), 2);
            assert_eq!(rows[0].phrases.len(), 4);
            assert_eq!(rows[0].phrases[1].1, vec![7587]);
            assert_eq!(rows[1].phrases[0].1, vec![13]);
            assert_eq!(reply.axon.status_code, Some(200));
            assert_eq!(reply.axon.hotkey.as_deref(), Some(key("//Bob").ss58().as_str()));
            assert_eq!(reply.synapse.text_inputs, request().text_inputs);
        }
        // The handler saw the verified hotkey.
        assert_eq!(*seen.lock(), vec![key("//Alice").ss58(); 3]);
        axon.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_serving() {
    let axon = spawn_axon("127.0.0.1:0", AxonConfig::default(), Duration::ZERO, None).await;
    let addr = axon.addr;
    axon.shutdown().await.unwrap();
    let dendrite = Dendrite::new(key("//Alice"));
    let err = dendrite.call(&target(addr), &request(), Duration::from_secs(2)).await.unwrap_err();
    assert!(matches!(err, AxonError::Connect(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_body_carries_the_envelope() {
    let axon = spawn_axon("127.0.0.1:0", AxonConfig::default(), Duration::ZERO, None).await;
    let dendrite = Dendrite::new(key("//Alice"));
    let req = dendrite.prepare(&target(axon.addr), &request(), Duration::from_secs(3)).unwrap();
    let (status, headers, body) = dendrite.send(&req).await.unwrap();
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["name"], "TextCausalLMNext");
    assert_eq!(json["axon"]["status_code"], 200);
    assert_eq!(json["dendrite"]["hotkey"], key("//Alice").ss58());
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["bt_header_axon_status_code"], "200");
    let out: TextCausalLMNext = serde_json::from_slice(&body).unwrap();
    assert_eq!(headers["computed_body_hash"], out.body_hash().as_str());
    axon.shutdown().await.unwrap();
}
