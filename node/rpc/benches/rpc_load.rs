//! RPC throughput load generator: `state_getStorage` over WebSocket from several concurrent
//! clients against a running node, each keeping a window of requests in flight; prints
//! requests/s and the latency percentiles (target: at least 20,000 requests/s from 8 clients).
//!
//! A plain binary (no benchmark harness) with a minimal WebSocket client of its own (RFC 6455
//! handshake, masked text frames out, unmasked frames in) on tokio, so that the load generator
//! costs far less CPU than the server it measures.
//!
//! Run against a node (release build), e.g.:
//! `cargo bench -p subtensor-rpc --bench rpc_load -- --url ws://127.0.0.1:9944 --clients 8
//! --seconds 10 --key 0x26aa394eea5630e07c48ae0c9558cef702a5c1b19ab7a04f536c519aca4983ac`
//! (`scripts/bench-node.sh` does it).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter},
    net::TcpStream,
};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// One masked text frame (the zero mask key: the payload goes as is).
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(0x81);
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(payload);
    out
}

/// Read one (unmasked, unfragmented) frame: (opcode, payload).
async fn read_frame<R: AsyncReadExt + Unpin>(r: &mut R) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 2];
    r.read_exact(&mut head).await?;
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).await?;
            usize::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            r.read_exact(&mut b).await?;
            u64::from_be_bytes(b) as usize
        }
        n => usize::from(n),
    };
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).await?;
    Ok((head[0] & 0x0f, payload))
}

#[derive(serde::Deserialize)]
struct Reply {
    id: u64,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

struct ClientStats {
    done: u64,
    errors: u64,
    latencies_us: Vec<u32>,
}

async fn client(
    addr: String,
    key: String,
    depth: usize,
    start: Instant,
    warmup: Duration,
    end: Instant,
) -> ClientStats {
    let stream = TcpStream::connect(&addr).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let (read, write) = stream.into_split();
    let mut read = BufReader::with_capacity(64 * 1024, read);
    let mut write = BufWriter::new(write);
    let handshake = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    write.write_all(handshake.as_bytes()).await.unwrap();
    write.flush().await.unwrap();
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        response.push(read.read_u8().await.expect("handshake"));
    }
    assert!(response.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&response));

    let request = |id: u64| {
        frame(
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"state_getStorage","params":["{key}"]}}"#
            )
            .as_bytes(),
        )
    };
    let measured_from = start + warmup;
    let mut sent: HashMap<u64, Instant> = HashMap::with_capacity(depth * 2);
    let mut next_id = 0u64;
    for _ in 0..depth {
        write.write_all(&request(next_id)).await.unwrap();
        sent.insert(next_id, Instant::now());
        next_id += 1;
    }
    write.flush().await.unwrap();
    let mut stats = ClientStats { done: 0, errors: 0, latencies_us: Vec::with_capacity(1 << 20) };
    while !sent.is_empty() {
        let (opcode, payload) = read_frame(&mut read).await.expect("read a frame");
        match opcode {
            1 | 2 => {}
            8 => panic!("the server closed the connection"),
            _ => continue,
        }
        let reply: Reply = serde_json::from_slice(&payload).expect("a JSON-RPC reply");
        let now = Instant::now();
        let at = sent.remove(&reply.id).expect("a reply to a request in flight");
        if at >= measured_from && now < end {
            stats.done += 1;
            if reply.error.is_some() {
                stats.errors += 1;
            }
            stats.latencies_us.push(now.duration_since(at).as_micros() as u32);
        }
        if now < end {
            write.write_all(&request(next_id)).await.unwrap();
            sent.insert(next_id, Instant::now());
            next_id += 1;
            // Flush when no more replies are buffered, so requests go out in batches.
            if read.buffer().is_empty() {
                write.flush().await.unwrap();
            }
        } else {
            write.flush().await.unwrap();
        }
    }
    stats
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let url = arg("--url").unwrap_or_else(|| "ws://127.0.0.1:9944".into());
    let addr = url.trim_start_matches("ws://").trim_end_matches('/').to_owned();
    let clients: usize = arg("--clients").map(|v| v.parse().unwrap()).unwrap_or(8);
    let depth: usize = arg("--depth").map(|v| v.parse().unwrap()).unwrap_or(16);
    let seconds: f64 = arg("--seconds").map(|v| v.parse().unwrap()).unwrap_or(10.0);
    let warmup =
        Duration::from_secs_f64(arg("--warmup").map(|v| v.parse().unwrap()).unwrap_or(2.0));
    let threads: usize = arg("--threads").map(|v| v.parse().unwrap()).unwrap_or(1);
    // Default: System.Account of //Alice (twox128("System") ++ twox128("Account") ++
    // blake2_128_concat(//Alice)).
    let key = arg("--key").unwrap_or_else(|| {
        "0x26aa394eea5630e07c48ae0c9558cef7b99d880ec681799c0cf30e8886371da9de1e86a9a8c739864cf3cc5ec2bea59fd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d".into()
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap();
    let stats = runtime.block_on(async {
        let start = Instant::now();
        let end = start + warmup + Duration::from_secs_f64(seconds);
        let tasks: Vec<_> = (0..clients)
            .map(|_| tokio::spawn(client(addr.clone(), key.clone(), depth, start, warmup, end)))
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.push(t.await.unwrap());
        }
        all
    });
    let done: u64 = stats.iter().map(|s| s.done).sum();
    let errors: u64 = stats.iter().map(|s| s.errors).sum();
    let mut latencies: Vec<u32> = stats.into_iter().flat_map(|s| s.latencies_us).collect();
    latencies.sort_unstable();
    let rate = done as f64 / seconds;
    println!(
        "state_getStorage over WebSocket: {clients} clients x {depth} in flight, {seconds} s \
         (after {:.0} s warm-up), Rust load generator ({threads} thread)",
        warmup.as_secs_f64()
    );
    println!("  requests       {done} ({errors} errors)");
    println!(
        "  throughput     {rate:.0} requests/s   target >= 20000: {}",
        if rate >= 20_000.0 { "met" } else { "NOT met" }
    );
    println!(
        "  latency        p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0)
    );
    assert_eq!(errors, 0, "the node answered with errors");
}
