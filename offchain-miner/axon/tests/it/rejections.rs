//! Requests the axon must refuse with a clear status, while it keeps serving.

use super::*;
use http::HeaderValue;
use subtensor_axon::{axon::LimitConfig, tensor::Tensor, AxonError, Dendrite};

async fn status_of(d: &Dendrite, req: &subtensor_axon::dendrite::PreparedRequest) -> (u16, String) {
    let (status, _, body) = d.send(req).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    (status.as_u16(), json["message"].as_str().unwrap_or_default().to_owned())
}

async fn still_serves(d: &Dendrite, addr: SocketAddr) {
    d.call(&target(addr), &request(), Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_failures_are_401() {
    let axon = spawn_axon("127.0.0.1:0", AxonConfig::default(), Duration::ZERO, None).await;
    let d = Dendrite::new(key("//Alice"));
    let t = target(axon.addr);
    let timeout = Duration::from_secs(3);

    // Unsigned and empty signature.
    let mut req = d.prepare(&t, &request(), timeout).unwrap();
    req.headers.remove("bt_header_dendrite_signature");
    assert_eq!(status_of(&d, &req).await.0, 401);
    req.headers.insert("bt_header_dendrite_signature", HeaderValue::from_static(""));
    assert_eq!(status_of(&d, &req).await.0, 401);

    // Forged: a valid signature by Charlie while claiming Alice's hotkey.
    let charlie = Dendrite::new(key("//Charlie"));
    let forged = charlie.prepare(&t, &request(), timeout).unwrap();
    let mut req = forged.clone();
    req.headers.insert(
        "bt_header_dendrite_hotkey",
        HeaderValue::from_str(&key("//Alice").ss58()).unwrap(),
    );
    assert_eq!(status_of(&d, &req).await.0, 401);
    // Forged: a corrupted signature.
    let mut req = d.prepare(&t, &request(), timeout).unwrap();
    let sig = req.headers["bt_header_dendrite_signature"].to_str().unwrap().to_owned();
    let flipped =
        format!("{}{}", &sig[..sig.len() - 1], if sig.ends_with('0') { '1' } else { '0' });
    req.headers.insert("bt_header_dendrite_signature", HeaderValue::from_str(&flipped).unwrap());
    assert_eq!(status_of(&d, &req).await.0, 401);
    // Tampered header under a valid signature (body hash changed).
    let mut req = d.prepare(&t, &request(), timeout).unwrap();
    req.headers.insert(
        "computed_body_hash",
        HeaderValue::from_static(
            "00000000000000000000000000000000000000000000000000000000000000ff",
        ),
    );
    assert_eq!(status_of(&d, &req).await.0, 401);

    // Replay: the same signed request twice.
    let req = d.prepare(&t, &request(), timeout).unwrap();
    assert_eq!(status_of(&d, &req).await.0, 200);
    let (code, message) = status_of(&d, &req).await;
    assert_eq!(code, 401);
    assert!(message.contains("already used"), "{message}");

    // Stale: a nonce 60 s old, correctly signed.
    let mut stale = d.prepare(&t, &request(), timeout).unwrap();
    let old = stale.nonce - 60_000_000_000;
    let hash = stale.headers["computed_body_hash"].to_str().unwrap().to_owned();
    let msg = subtensor_axon::wire::request_message(old, d.hotkey(), &t.hotkey, d.uuid(), &hash);
    let sig = subtensor_axon::wire::sign(&key("//Alice"), &msg);
    stale
        .headers
        .insert("bt_header_dendrite_nonce", HeaderValue::from_str(&old.to_string()).unwrap());
    stale.headers.insert("bt_header_dendrite_signature", HeaderValue::from_str(&sig).unwrap());
    let (code, message) = status_of(&d, &stale).await;
    assert_eq!(code, 401);
    assert!(message.contains("too old"), "{message}");

    // Addressed to another axon.
    let wrong = AxonTarget { addr: axon.addr, hotkey: key("//Dave").ss58() };
    let err = d.call(&wrong, &request(), timeout).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 401, .. }), "{err:?}");

    still_serves(&d, axon.addr).await;
    axon.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blacklisted_hotkey_is_403() {
    let alice = key("//Alice").account_id();
    let axon = Axon::new(key("//Bob"), AxonConfig::default())
        .blacklist(Arc::new(move |h: &subtensor_wallet::AccountId32| *h != alice))
        .attach(|_c: Caller, s: TextCausalLMNext| async move { answer(s) })
        .spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let err = Dendrite::new(key("//Alice"))
        .call(&target(axon.addr), &request(), Duration::from_secs(3))
        .await
        .unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 403, .. }), "{err:?}");
    still_serves(&Dendrite::new(key("//Charlie")), axon.addr).await;
    axon.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_4xx() {
    let config = AxonConfig { max_body_bytes: 64 * 1024, ..AxonConfig::default() };
    let axon = spawn_axon("127.0.0.1:0", config, Duration::ZERO, None).await;
    let d = Dendrite::new(key("//Alice"));
    let t = target(axon.addr);
    let timeout = Duration::from_secs(3);

    // Malformed headers.
    let mut req = d.prepare(&t, &request(), timeout).unwrap();
    req.headers.insert("bt_header_dendrite_nonce", HeaderValue::from_static("abc"));
    assert_eq!(status_of(&d, &req).await.0, 400);
    let mut req = d.prepare(&t, &request(), timeout).unwrap();
    req.headers.remove("computed_body_hash");
    assert_eq!(status_of(&d, &req).await.0, 400);
    let mut req = d.prepare(&t, &request(), timeout).unwrap();
    req.headers.insert("timeout", HeaderValue::from_static("NaN"));
    assert_eq!(status_of(&d, &req).await.0, 400);

    // Malformed JSON under a valid signature.
    let mut req = d.prepare(&t, &request(), timeout).unwrap();
    req.body = bytes::Bytes::from_static(b"{\"text_inputs\": [");
    assert_eq!(status_of(&d, &req).await.0, 400);
    // Body that does not match the signed hash.
    let mut req = d.prepare(&t, &request(), timeout).unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    json["topk"] = 5.into();
    req.body = serde_json::to_vec(&json).unwrap().into();
    let (code, message) = status_of(&d, &req).await;
    assert_eq!(code, 400);
    assert!(message.contains("hash mismatch"), "{message}");

    // Huge body.
    let mut req = d.prepare(&t, &request(), timeout).unwrap();
    req.body = vec![b' '; 1024 * 1024].into();
    assert_eq!(status_of(&d, &req).await.0, 413);

    // NaN tensor in a field that must be finite.
    let mut nan = request();
    nan.text_outputs = Some(Tensor::from_f32(&[0.5, f32::NAN], &[2]).unwrap());
    let err = d.call(&t, &nan, timeout).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 422, .. }), "{err:?}");

    // Wrong shapes: 1-D inputs, and a declared shape that disagrees with the buffer.
    let mut flat = request();
    flat.text_inputs = Tensor::from_i64(&[1, 2, 3], &[3]).unwrap();
    let err = d.call(&t, &flat, timeout).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 422, .. }), "{err:?}");
    let mut lying = request();
    lying.text_inputs.shape = vec![3, 2];
    let err = d.call(&t, &lying, timeout).await.unwrap_err();
    assert!(
        matches!(err, AxonError::Status { code: 422, ref message } if message.contains("shape")),
        "{err:?}"
    );
    // Out-of-range topk.
    let mut big = request();
    big.topk = 1_000_000;
    let err = d.call(&t, &big, timeout).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 422, .. }), "{err:?}");

    // Unknown synapse.
    let mut req = d.prepare(&t, &request(), timeout).unwrap();
    req.uri = format!("http://{}/Nope", axon.addr);
    assert_eq!(status_of(&d, &req).await.0, 404);

    still_serves(&d, axon.addr).await;
    axon.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_deadline_is_408() {
    let axon = spawn_axon("127.0.0.1:0", AxonConfig::default(), Duration::from_secs(2), None).await;
    let d = Dendrite::new(key("//Alice"));
    let req = d.prepare(&target(axon.addr), &request(), Duration::from_millis(300)).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(status_of(&d, &req).await.0, 408);
    assert!(started.elapsed() < Duration::from_secs(1));
    axon.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_and_concurrency_limits_are_429() {
    let limits = LimitConfig { rate_per_sec: 0.01, burst: 2.0, max_in_flight: 8, max_tracked: 16 };
    let axon = spawn_axon(
        "127.0.0.1:0",
        AxonConfig { limits, ..AxonConfig::default() },
        Duration::ZERO,
        None,
    )
    .await;
    let d = Dendrite::new(key("//Alice"));
    let t = target(axon.addr);
    still_serves(&d, axon.addr).await;
    still_serves(&d, axon.addr).await;
    let err = d.call(&t, &request(), Duration::from_secs(3)).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 429, .. }), "{err:?}");
    // Other hotkeys are unaffected.
    still_serves(&Dendrite::new(key("//Charlie")), axon.addr).await;
    axon.shutdown().await.unwrap();

    let limits =
        LimitConfig { rate_per_sec: 1000.0, burst: 1000.0, max_in_flight: 1, max_tracked: 16 };
    let axon = spawn_axon(
        "127.0.0.1:0",
        AxonConfig { limits, ..AxonConfig::default() },
        Duration::from_millis(500),
        None,
    )
    .await;
    let t = target(axon.addr);
    let r = request();
    let (a, b) = tokio::join!(
        d.call(&t, &r, Duration::from_secs(3)),
        d.call(&t, &r, Duration::from_secs(3))
    );
    let codes: Vec<u16> = [a, b]
        .into_iter()
        .map(|r| match r {
            Ok(_) => 200,
            Err(e) => e.status_code().as_u16(),
        })
        .collect();
    assert!(codes.contains(&200) && codes.contains(&429), "{codes:?}");
    axon.shutdown().await.unwrap();
}
