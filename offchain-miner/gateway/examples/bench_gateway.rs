//! Gateway benchmark client (run by `scripts/bench-gateway.sh`, which starts the processes).
//!
//! ```text
//! bench_gateway --tokenizer tokenizer.json --miner HOST:PORT --gateway URL \
//!     --hedged URL --unhedged URL [--requests 200] [--seconds 5]
//! ```
//!
//! * Overhead: the same completion (greedy, 8 tokens) through `--gateway` (one miner behind
//!   it) and straight to the miner's axon with a signed `TextSeq2Seq` built by the gateway's
//!   own [`seq2seq_request`], interleaved; p50/p99 of each and their difference.
//! * Throughput: completions/s through `--gateway` with 1, 8 and 32 concurrent clients.
//! * Time to first token of streamed completions through `--hedged` and `--unhedged`
//!   (gateways over a fast and a stalled miner, with and without hedging): p50/p99/max.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::arithmetic_side_effects,
    clippy::expect_used
)]

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use serde_json::json;
use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use subtensor_axon::{AxonTarget, Dendrite};
use subtensor_gateway::{
    backend::{discover_hotkey, seq2seq_request},
    latency::quantile,
    openai::Sampling,
};
use subtensor_model::TextTokenizer;
use subtensor_wallet::Keypair;

const PROMPT: &str = "The quick brown fox";
const MAX_TOKENS: u32 = 8;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    tokenizer: PathBuf,
    #[arg(long)]
    miner: SocketAddr,
    #[arg(long)]
    gateway: String,
    #[arg(long)]
    hedged: String,
    #[arg(long)]
    unhedged: String,
    #[arg(long, default_value_t = 200)]
    requests: usize,
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
}

type Http = Client<HttpConnector, Full<Bytes>>;

fn body(stream: bool) -> Bytes {
    Bytes::from(
        json!({"model": "subnet-1", "prompt": PROMPT, "max_tokens": MAX_TOKENS,
               "temperature": 0, "seed": 1, "stream": stream})
        .to_string(),
    )
}

/// POSTs a completion; with `first_frame`, returns once the first body frame arrives
/// (the time to first token of a stream), else after the whole body.
async fn complete(http: &Http, url: &str, stream: bool, first_frame: bool) -> Result<(), String> {
    let req = http::Request::post(format!("{url}/v1/completions"))
        .header("content-type", "application/json")
        .body(Full::new(body(stream)))
        .map_err(|e| e.to_string())?;
    let resp = http.request(req).await.map_err(|e| e.to_string())?;
    if resp.status() != http::StatusCode::OK {
        return Err(format!("status {}", resp.status()));
    }
    let mut body = resp.into_body();
    if first_frame {
        body.frame().await.ok_or("empty body")?.map_err(|e| e.to_string())?;
        // Drain the rest so the connection is reused.
        while let Some(frame) = body.frame().await {
            frame.map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    body.collect().await.map_err(|e| e.to_string())?;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn q(values: &[f64], p: f64) -> f64 {
    quantile(values, p).unwrap_or(f64::NAN)
}

async fn overhead(args: &Args, http: &Http, tok: &TextTokenizer) -> (Vec<f64>, Vec<f64>) {
    let dendrite = Dendrite::new(Keypair::from_uri("//Bench").expect("a dev key"));
    let hotkey = discover_hotkey(&dendrite, args.miner).await.expect("the miner names its hotkey");
    let target = AxonTarget { addr: args.miner, hotkey };
    let sampling = Sampling {
        max_tokens: MAX_TOKENS,
        temperature: 0.0,
        top_p: 1.0,
        seed: Some(1),
        stop: Vec::new(),
    };
    let (synapse, _) = seq2seq_request(tok, PROMPT, "prompt", &sampling).expect("a request");
    let (mut direct, mut via) = (Vec::new(), Vec::new());
    for i in 0..args.requests + 20 {
        let started = Instant::now();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        dendrite.call_until(&target, &synapse, deadline).await.expect("the miner answers");
        let d = ms(started.elapsed());
        let started = Instant::now();
        complete(http, &args.gateway, false, false).await.expect("the gateway answers");
        let g = ms(started.elapsed());
        if i >= 20 {
            direct.push(d);
            via.push(g);
        }
    }
    (direct, via)
}

async fn throughput(args: &Args, http: &Http, clients: usize) -> (f64, usize) {
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(args.seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, url) = (http.clone(), args.gateway.clone());
            let (ok, failed) = (ok.clone(), failed.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    match complete(&http, &url, false, false).await {
                        Ok(()) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("a client task");
    }
    let rate = ok.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    (rate, failed.load(Ordering::Relaxed))
}

async fn ttft(args: &Args, http: &Http, url: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for _ in 0..args.requests {
        let started = Instant::now();
        complete(http, url, true, true).await.expect("the gateway streams");
        out.push(ms(started.elapsed()));
    }
    out
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let tok = TextTokenizer::load(&args.tokenizer).expect("the tokenizer");
    let http: Http = Client::builder(TokioExecutor::new()).build(HttpConnector::new());

    let (direct, via) = overhead(&args, &http, &tok).await;
    println!("\n(a) one completion ({MAX_TOKENS} tokens, greedy), {} requests each", direct.len());
    println!("| path | p50 ms | p99 ms |");
    println!("|---|---|---|");
    println!(
        "| miner axon, signed TextSeq2Seq | {:.2} | {:.2} |",
        q(&direct, 0.5),
        q(&direct, 0.99)
    );
    println!("| through the gateway | {:.2} | {:.2} |", q(&via, 0.5), q(&via, 0.99));
    println!(
        "| gateway overhead | {:.2} | {:.2} |",
        q(&via, 0.5) - q(&direct, 0.5),
        q(&via, 0.99) - q(&direct, 0.99)
    );

    println!("\n(b) completions/s through the gateway ({} s per level)", args.seconds);
    println!("| clients | requests/s | errors |");
    println!("|---|---|---|");
    for clients in [1, 8, 32] {
        let (rate, failed) = throughput(&args, &http, clients).await;
        println!("| {clients} | {rate:.1} | {failed} |");
    }

    println!(
        "\n(c) streaming time to first token, one of two miners stalled, {} requests each",
        args.requests
    );
    println!("| gateway | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|");
    for (name, url) in [("hedging", &args.hedged), ("--no-hedge", &args.unhedged)] {
        let t = ttft(&args, &http, url).await;
        println!("| {name} | {:.2} | {:.2} | {:.2} |", q(&t, 0.5), q(&t, 0.99), q(&t, 1.0));
    }
}
