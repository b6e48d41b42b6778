//! Request-response on every protocol, limits and failures.

use crate::common::{config, start_node, wait_until, within, Node, WAIT};
use subtensor_network::NetworkService;
use subtensor_network_api::{PeerId, Protocol, RequestError};

/// Answers requests of `protocol` on `node`: `big` gets a response one byte over the limit,
/// `drop` gets no answer, anything else is echoed after the protocol's name.
fn serve(node: &Node, protocol: Protocol) {
    let mut requests = node.handle_requests(protocol);
    tokio::spawn(async move {
        while let Some(request) = requests.recv().await {
            assert_eq!(request.protocol, protocol);
            match request.data.as_slice() {
                b"big" => {
                    let _ = request.respond.send(vec![7u8; protocol.max_response_bytes() + 1]);
                }
                b"drop" => drop(request.respond),
                data => {
                    let mut answer = format!("{protocol:?}:{}:", request.peer).into_bytes();
                    answer.extend_from_slice(data);
                    let _ = request.respond.send(answer);
                }
            }
        }
    });
}

async fn ask(
    from: &Node,
    to: &Node,
    protocol: Protocol,
    data: &[u8],
) -> Result<Vec<u8>, RequestError> {
    within(WAIT, "an answer", from.request(to.id(), protocol, data.to_vec())).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_round_trip_on_every_protocol_and_limits_hold() {
    let a = start_node(config("requests")).await;
    let mut cb = config("requests");
    cb.boot_nodes = vec![a.multiaddr()];
    let b = start_node(cb).await;
    assert!(wait_until(WAIT, || a.is_connected_to(&b) && b.is_connected_to(&a)).await);

    // No handler yet: refused.
    assert_eq!(ask(&a, &b, Protocol::Status, b"early").await, Err(RequestError::Refused));

    for protocol in Protocol::ALL {
        serve(&b, protocol);
    }
    for protocol in Protocol::ALL {
        let answer = ask(&a, &b, protocol, b"hello").await.unwrap();
        assert_eq!(answer, format!("{protocol:?}:{}:hello", a.id()).into_bytes());
    }
    // A request near its limit is fine.
    let mut large = vec![1u8; 60 * 1024];
    large[0] = b'x';
    let answer = ask(&a, &b, Protocol::Blocks, &large).await.unwrap();
    assert!(answer.ends_with(&large));

    // A response over the protocol's limit is refused while reading.
    assert_eq!(ask(&a, &b, Protocol::Status, b"big").await, Err(RequestError::TooLarge));
    assert_eq!(ask(&a, &b, Protocol::GrandpaCatchUp, b"big").await, Err(RequestError::TooLarge));
    // A dropped answer is a refusal.
    assert_eq!(ask(&a, &b, Protocol::Blocks, b"drop").await, Err(RequestError::Refused));
    // A request over the limit is not sent.
    let oversized = vec![0u8; Protocol::Status.max_request_bytes() + 1];
    assert_eq!(ask(&a, &b, Protocol::Status, &oversized).await, Err(RequestError::Refused));
    // Unknown or malformed peers are not connected.
    let stranger = start_node(config("requests-elsewhere")).await;
    assert_eq!(ask(&a, &stranger, Protocol::Status, b"hi").await, Err(RequestError::NotConnected));
    let reply = a.request(PeerId("not a peer id".into()), Protocol::Status, vec![]);
    assert_eq!(reply.await.unwrap(), Err(RequestError::NotConnected));

    // The network keeps going, both ways.
    assert!(a.is_connected_to(&b));
    serve(&a, Protocol::Status);
    let answer = ask(&b, &a, Protocol::Status, b"back").await.unwrap();
    assert_eq!(answer, format!("Status:{}:back", b.id()).into_bytes());
    assert_eq!(
        ask(&a, &b, Protocol::Status, b"again").await.unwrap().len(),
        "Status:".len() + a.id().0.len() + ":again".len()
    );

    let metrics = b.metrics().snapshot();
    assert!(metrics.requests_in_total >= 8, "{metrics:?}");
    assert!(metrics.requests_refused_total >= 2, "{metrics:?}");
    let metrics = a.metrics().snapshot();
    assert!(metrics.requests_failed_total >= 5, "{metrics:?}");
}
