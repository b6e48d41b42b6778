//! `stcli subnet map --gateway URL` as a real process against a tiny HTTP server on loopback
//! that serves a gateway's `/map`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::{
    io::{Read, Write},
    net::TcpListener,
    process::Command,
};

const MAP: &str = r#"{"1":{"0":{"hotkey":"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
"rtt_ewma_ms":12.34,"ttft_p50_ms":11.5,"ttft_p90_ms":19.0,"tokens_per_s":640.0,
"successes":30,"partials":1,"failures":2,"success_rate":0.9,"consecutive_failures":0,
"last_failure_ms":null,"in_flight":3,"addr":"127.0.0.1:8091","incentive":0.5},
"7":{"hotkey":"5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty","rtt_ewma_ms":null,
"ttft_p50_ms":null,"ttft_p90_ms":null,"tokens_per_s":null,"successes":0,"partials":0,
"failures":0,"success_rate":null,"consecutive_failures":0,"last_failure_ms":null,
"in_flight":0}}}"#;

/// Serves `GET /map` with [`MAP`] (anything else: 404) on a free port, for `n` connections.
fn serve(n: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let mut stream = stream.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let got = stream.read(&mut buf).unwrap();
                if got == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..got]);
            }
            let head = String::from_utf8_lossy(&request);
            let (status, body) = if head.starts_with("GET /map ") {
                ("200 OK", MAP)
            } else {
                ("404 Not Found", "{}")
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(reply.as_bytes()).unwrap();
        }
    });
    format!("http://{addr}")
}

fn stcli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stcli")).args(args).output().unwrap()
}

#[test]
fn prints_the_map_as_a_table_and_as_json() {
    let url = serve(2);
    let out = stcli(&["subnet", "map", "--gateway", &format!("{url}/")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("NETUID  UID  HOTKEY"), "{text}");
    assert!(lines[2].contains("5GrwvaEF…GKutQY"), "{text}");
    for cell in ["12.3", "11.5", "19.0", "640.0", "30/1/2", "  3"] {
        assert!(lines[2].contains(cell), "{cell} missing: {text}");
    }
    assert!(lines[3].starts_with("1       7"), "{text}");
    assert!(lines[3].contains("0/0/0"), "{text}");

    let out = stcli(&["--json", "subnet", "map", "--gateway", &url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got, serde_json::from_str::<serde_json::Value>(MAP).unwrap());
}

#[test]
fn an_unreachable_gateway_is_one_error_line() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = stcli(&["subnet", "map", "--gateway", &format!("http://127.0.0.1:{port}")]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("error: gateway: GET http://127.0.0.1:"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
