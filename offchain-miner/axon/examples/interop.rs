//! Interop driver for the Python tests (`tests/test_axon_interop.py`), against bittensor 10.2.0.
//!
//! ```text
//! interop serve --uri //Bob --port 0 [--host 127.0.0.1] [--members //Alice,//Dave]
//!     Serves Dummy, TextCausalLMNext, TextCausalLM, TextLastHiddenState and TextSeq2Seq with
//!     the deterministic answers below; prints `READY {"addr":…,"hotkey":…}`, then
//!     `CALLER {"synapse":…,"hotkey":…}` per handled request; stops on SIGINT/SIGTERM.
//!     With `--members`, a MetagraphPolicy whose snapshot holds exactly those hotkeys (uid =
//!     position, stake = 1000·(position+1)) guards the axon: anyone else gets 403.
//! interop call --uri //Alice --addr 127.0.0.1:8091 --hotkey SS58 [--synapse text|dummy]
//!     [--accept-unsigned] [--timeout 5] [--repeat 1] [--concurrency 1]
//!     Queries the axon and prints one JSON line: {"ok":true,…} or {"ok":false,"error":…}.
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::arithmetic_side_effects)]

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use subtensor_axon::{
    axon::shutdown_signal,
    synapse::{floor_probability, pad_hidden, TopkPhrases, VOCAB_SIZE},
    Axon, AxonConfig, AxonError, AxonTarget, Caller, Dendrite, Member, MetagraphPolicy,
    TextCausalLM, TextCausalLMNext, TextLastHiddenState, TextSeq2Seq, TokenProbs,
    UnsignedResponses,
};
use subtensor_wallet::Keypair;

#[path = "common/dummy.rs"]
mod dummy;
use dummy::Dummy;

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

/// TextCausalLM: after token `t`, ids `(t + i) % 4096` with probabilities `2^-(i+2)`.
fn answer_causal_lm(mut s: TextCausalLM) -> Result<TextCausalLM, String> {
    let k = s.topk;
    let rows: Vec<Vec<TokenProbs>> = s
        .tokens()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|row| {
            row.iter()
                .map(|&t| TokenProbs {
                    ids: (0..k).map(|i| (t + i) % 4096).collect(),
                    probs: (0..k).map(|i| 0.5f32.powi(i as i32 + 2)).collect(),
                })
                .collect()
        })
        .collect();
    s.set_outputs(&rows).map_err(|e| e.to_string())?;
    Ok(s)
}

/// Width of the interop "model"'s hidden state, zero-padded to NETWORK_DIM.
const HIDDEN_WIDTH: usize = 8;

/// TextLastHiddenState: after token `t`, `[t + d/8 for d in 0..8]`, zero-padded.
fn answer_hidden(mut s: TextLastHiddenState) -> Result<TextLastHiddenState, String> {
    let narrow: Vec<f32> = s
        .tokens()
        .map_err(|e| e.to_string())?
        .iter()
        .flatten()
        .flat_map(|&t| (0..HIDDEN_WIDTH).map(move |d| t as f32 + d as f32 / 8.0))
        .collect();
    let hidden = pad_hidden(&narrow, HIDDEN_WIDTH).map_err(|e| e.to_string())?;
    s.set_outputs(&hidden).map_err(|e| e.to_string())?;
    Ok(s)
}

/// TextSeq2Seq: row `b` continues with `last+1, …, last+b+1` (at most num_to_generate),
/// texts `"gen{b}"`.
fn answer_seq2seq(mut s: TextSeq2Seq) -> Result<TextSeq2Seq, String> {
    let n = s.num_to_generate;
    let gens: Vec<Vec<u32>> = s
        .tokens()
        .map_err(|e| e.to_string())?
        .iter()
        .enumerate()
        .map(|(b, row)| {
            let last = row.last().copied().unwrap_or(0);
            (1..=(b as u32 + 1).min(n)).map(|i| last + i).collect()
        })
        .collect();
    let texts = (0..gens.len()).map(|b| format!("gen{b}")).collect();
    s.set_outputs(&gens, Some(texts)).map_err(|e| e.to_string())?;
    Ok(s)
}

fn emit(tag: &str, v: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{tag}{v}");
    let _ = out.flush();
}

fn args() -> Result<(String, HashMap<String, String>), String> {
    let mut it = std::env::args().skip(1);
    let cmd = it.next().ok_or("usage: interop serve|call --flag value …")?;
    let mut flags = HashMap::new();
    while let Some(a) = it.next() {
        let name = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument {a}"))?;
        if name == "accept-unsigned" {
            flags.insert(name.to_owned(), "1".to_owned());
        } else {
            let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            flags.insert(name.to_owned(), v);
        }
    }
    Ok((cmd, flags))
}

fn flag<'a>(f: &'a HashMap<String, String>, name: &str, default: &'a str) -> &'a str {
    f.get(name).map_or(default, String::as_str)
}

fn parse<T: std::str::FromStr>(
    f: &HashMap<String, String>,
    name: &str,
    d: &str,
) -> Result<T, String> {
    flag(f, name, d).parse().map_err(|_| format!("bad --{name}"))
}

async fn serve(f: &HashMap<String, String>) -> Result<(), String> {
    let key = Keypair::from_uri(flag(f, "uri", "//Bob")).map_err(|e| e.to_string())?;
    let hotkey = key.ss58();
    let addr: SocketAddr = format!("{}:{}", flag(f, "host", "127.0.0.1"), flag(f, "port", "0"))
        .parse()
        .map_err(|e| format!("bad address: {e}"))?;
    let mut axon = Axon::new(key, AxonConfig::default());
    if let Some(list) = f.get("members") {
        let policy = MetagraphPolicy::new(false, 0);
        let mut members = Vec::new();
        for (i, uri) in list.split(',').filter(|u| !u.is_empty()).enumerate() {
            let k = Keypair::from_uri(uri).map_err(|e| e.to_string())?;
            members.push(Member {
                hotkey: k.account_id(),
                uid: u16::try_from(i).map_err(|e| e.to_string())?,
                stake: 1000 * (i as u64 + 1),
                validator_permit: true,
            });
        }
        policy.update(members);
        axon = axon.metagraph_policy(&policy);
    }
    let axon = axon
        .attach(|c: Caller, s: TextCausalLMNext| async move {
            emit("CALLER ", &json!({"synapse": "TextCausalLMNext", "hotkey": c.hotkey_ss58}));
            answer(s)
        })
        .attach(|c: Caller, s: TextCausalLM| async move {
            emit("CALLER ", &json!({"synapse": "TextCausalLM", "hotkey": c.hotkey_ss58}));
            answer_causal_lm(s)
        })
        .attach(|c: Caller, s: TextLastHiddenState| async move {
            emit("CALLER ", &json!({"synapse": "TextLastHiddenState", "hotkey": c.hotkey_ss58}));
            answer_hidden(s)
        })
        .attach(|c: Caller, s: TextSeq2Seq| async move {
            emit("CALLER ", &json!({"synapse": "TextSeq2Seq", "hotkey": c.hotkey_ss58}));
            answer_seq2seq(s)
        })
        .attach(|c: Caller, mut s: Dummy| async move {
            emit("CALLER ", &json!({"synapse": "Dummy", "hotkey": c.hotkey_ss58}));
            s.dummy_output = Some(s.dummy_input.saturating_mul(2));
            Ok(s)
        });
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| e.to_string())?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    emit("READY ", &json!({"addr": local.to_string(), "hotkey": hotkey}));
    axon.serve(listener, shutdown_signal()).await.map_err(|e| e.to_string())
}

async fn call_once(
    d: &Dendrite,
    t: &AxonTarget,
    synapse: &str,
    timeout: Duration,
) -> Result<Value, AxonError> {
    if synapse == "dummy" {
        let r = d.call(t, &Dummy { dummy_input: 21, dummy_output: None }, timeout).await?;
        return Ok(json!({
            "dummy_output": r.synapse.dummy_output,
            "axon": r.axon,
        }));
    }
    let req = TextCausalLMNext::request(&[vec![464, 2068, 7586], vec![11, 12, 13]], 4)?;
    let r = d.call(t, &req, timeout).await?;
    let rows: Vec<Value> = r
        .synapse
        .outputs()?
        .into_iter()
        .map(|row| json!({"phrases": row.phrases, "floor": row.floor}))
        .collect();
    Ok(json!({"rows": rows, "axon": r.axon}))
}

async fn call(f: &HashMap<String, String>) -> Result<(), String> {
    let key = Keypair::from_uri(flag(f, "uri", "//Alice")).map_err(|e| e.to_string())?;
    let addr: SocketAddr = flag(f, "addr", "").parse().map_err(|e| format!("bad --addr: {e}"))?;
    let target = AxonTarget { addr, hotkey: flag(f, "hotkey", "").to_owned() };
    let policy = if f.contains_key("accept-unsigned") {
        UnsignedResponses::Accept
    } else {
        UnsignedResponses::Reject
    };
    let dendrite = Dendrite::new(key).unsigned_responses(policy);
    let synapse = flag(f, "synapse", "text").to_owned();
    let timeout = Duration::from_secs_f64(parse(f, "timeout", "5")?);
    let repeat: usize = parse(f, "repeat", "1")?;
    let concurrency: usize = parse::<usize>(f, "concurrency", "1")?.max(1);
    if repeat <= 1 {
        let v = match call_once(&dendrite, &target, &synapse, timeout).await {
            Ok(v) => json!({"ok": true, "result": v}),
            Err(e) => json!({"ok": false, "error": e.to_string()}),
        };
        emit("", &v);
        return Ok(());
    }
    // Throughput mode: `repeat` calls over `concurrency` workers.
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..concurrency {
        let n = repeat / concurrency + usize::from(w < repeat % concurrency);
        let (d, t, s) = (dendrite.clone(), target.clone(), synapse.clone());
        set.spawn(async move {
            let mut ok = 0usize;
            let mut last_err = None;
            for _ in 0..n {
                match call_once(&d, &t, &s, timeout).await {
                    Ok(_) => ok += 1,
                    Err(e) => last_err = Some(e.to_string()),
                }
            }
            (ok, last_err)
        });
    }
    let (mut ok, mut err) = (0usize, None);
    while let Some(Ok((n, e))) = set.join_next().await {
        ok += n;
        err = err.or(e);
    }
    let secs = started.elapsed().as_secs_f64();
    emit(
        "",
        &json!({"ok": ok == repeat, "calls": repeat, "succeeded": ok, "seconds": secs,
                "rps": ok as f64 / secs, "error": err}),
    );
    Ok(())
}

fn main() {
    let result = args().and_then(|(cmd, f)| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            match cmd.as_str() {
                "serve" => serve(&f).await,
                "call" => call(&f).await,
                other => Err(format!("unknown command {other}")),
            }
        })
    });
    if let Err(e) = result {
        eprintln!("interop: {e}");
        std::process::exit(2);
    }
}
