//! Benchmark server: our axon serving the two benchmark synapses (see `scripts/bench-axon.sh`).
//!
//! ```text
//! bench_axon_server [--port 0] [--host 127.0.0.1] [--uri //Bob] [--threads 2]
//! ```
//!
//! * `Dummy`: `dummy_output = dummy_input * 2`, body hash over `dummy_input` (the same class
//!   as `tests/clients/bt_synapses.py`).
//! * `TextCausalLMNext`: answers every request with one prebuilt `k = 4096` answer (one batch
//!   row, phrases `(0.5 / k, [(LAST_TOKEN + i) % 50000])`, then the floor), so the handler's
//!   work is constant: clone the prebuilt tensor into the response. `scripts/bench-axon-server.py`
//!   builds the same answer for the Python axon; `bench_load` sends matching requests.
//!
//! The axon runs with the default settings except the per-hotkey limits (rate, in-flight and
//! the replay cache's per-hotkey quota), raised out of the way because the load generator is a
//! single hotkey (the defaults allow 100 requests/s and 8,192 live nonces per hotkey).
//! Prints `READY {"addr":…,"hotkey":…}` once listening; stops on SIGINT/SIGTERM.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use serde_json::json;
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use subtensor_axon::{
    axon::{shutdown_signal, LimitConfig},
    synapse::{encode_topk, TopkPhrases},
    Axon, AxonConfig, Caller, Tensor, TextCausalLMNext,
};
use subtensor_wallet::Keypair;

/// `k` of the benchmark's TextCausalLMNext answer.
const TOPK: u32 = 4096;
/// Last token of the benchmark request (`bench_load` sends `… 13`, GPT-2 for ".").
const LAST_TOKEN: u32 = 13;

#[path = "common/dummy.rs"]
mod dummy;
use dummy::Dummy;

/// The prebuilt answer: one row of `TOPK` single-token phrases (total probability 0.5) and the
/// floor, the remaining 0.5 spread over the other `50258 − TOPK` tokens (as the Python side).
fn prebuilt_answer() -> subtensor_axon::Result<Tensor> {
    let p = 0.5 / TOPK as f32;
    let phrases = (0..TOPK).map(|i| (p, vec![LAST_TOKEN.saturating_add(i) % 50_000])).collect();
    let floor = (0.5 / f64::from(50_258u32.saturating_sub(TOPK))) as f32;
    let row = TopkPhrases { phrases, floor };
    let values = encode_topk(&[row], TOPK)?;
    Tensor::from_f32(&values, &[values.len()])
}

fn flags() -> Result<HashMap<String, String>, String> {
    let mut it = std::env::args().skip(1);
    let mut flags = HashMap::new();
    while let Some(a) = it.next() {
        let name = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument {a}"))?;
        let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
        flags.insert(name.to_owned(), v);
    }
    Ok(flags)
}

fn flag<'a>(f: &'a HashMap<String, String>, name: &str, default: &'a str) -> &'a str {
    f.get(name).map_or(default, String::as_str)
}

async fn serve(f: &HashMap<String, String>) -> Result<(), String> {
    let key = Keypair::from_uri(flag(f, "uri", "//Bob")).map_err(|e| e.to_string())?;
    let hotkey = key.ss58();
    let addr: SocketAddr = format!("{}:{}", flag(f, "host", "127.0.0.1"), flag(f, "port", "0"))
        .parse()
        .map_err(|e| format!("bad address: {e}"))?;
    let answer = Arc::new(prebuilt_answer().map_err(|e| e.to_string())?);
    let config = AxonConfig {
        limits: LimitConfig {
            rate_per_sec: 1e9,
            burst: 1e9,
            max_in_flight: 1 << 20,
            ..LimitConfig::default()
        },
        nonce_per_hotkey: usize::MAX,
        ..AxonConfig::default()
    };
    let axon = Axon::new(key, config)
        .attach(|_c: Caller, mut s: Dummy| async move {
            s.dummy_output = Some(s.dummy_input.saturating_mul(2));
            Ok(s)
        })
        .attach(move |_c: Caller, mut s: TextCausalLMNext| {
            let answer = answer.clone();
            async move {
                s.text_outputs = Some(Tensor::clone(&answer));
                Ok(s)
            }
        });
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| e.to_string())?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "READY {}", json!({"addr": local.to_string(), "hotkey": hotkey}));
        let _ = out.flush();
    }
    axon.serve(listener, shutdown_signal()).await.map_err(|e| e.to_string())
}

fn main() {
    let result = flags().and_then(|f| {
        let threads: usize = flag(&f, "threads", "0").parse().map_err(|_| "bad --threads")?;
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if threads > 0 {
            builder.worker_threads(threads);
        }
        let rt = builder.enable_all().build().map_err(|e| e.to_string())?;
        rt.block_on(serve(&f))
    });
    if let Err(e) = result {
        eprintln!("bench_axon_server: {e}");
        std::process::exit(2);
    }
}
