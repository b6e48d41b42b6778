//! A toy miner for trying the validator without a model: an axon serving `TextCausalLMNext`
//! with a fixed guess (the next token is `last + 1`, with probability `--confidence`), or
//! misbehaving on purpose. It does not register or publish its axon: use `stcli subnet
//! register` and `stcli axon serve` for that.
//!
//! ```text
//! cargo run -p subtensor-validator --example toy_miner -- --uri //Bob --port 8091 \
//!     [--vocab 4096] [--confidence 0.5] [--mode guess|crash|slow|garbage]
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{net::SocketAddr, time::Duration};
use subtensor_axon::{
    axon::shutdown_signal,
    synapse::{floor_probability, TopkPhrases},
    Axon, AxonConfig, Caller, Tensor, TextCausalLMNext,
};
use subtensor_wallet::Keypair;

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i.saturating_add(1)))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

fn answer(
    mut s: TextCausalLMNext,
    vocab: u32,
    confidence: f32,
) -> Result<TextCausalLMNext, String> {
    let tokens = s.tokens().map_err(|e| e.to_string())?;
    let k = s.topk.min(vocab);
    let rest = if k > 1 { (1.0 - confidence) / 2.0 / k.saturating_sub(1) as f32 } else { 0.0 };
    let rows: Vec<TopkPhrases> = tokens
        .iter()
        .map(|row| {
            let last = row.last().copied().unwrap_or(0);
            let id = |i: u32| last.wrapping_add(1).wrapping_add(i).checked_rem(vocab).unwrap_or(0);
            let mut phrases = vec![(confidence, vec![id(0)])];
            phrases.extend((1..k).map(|i| (rest, vec![id(i)])));
            let sum: f32 = phrases.iter().map(|(p, _)| p).sum();
            TopkPhrases { phrases, floor: floor_probability(sum, k, vocab) }
        })
        .collect();
    s.topk = k;
    s.set_outputs(&rows).map_err(|e| e.to_string())?;
    Ok(s)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let uri = arg(&args, "--uri", "//Bob");
    let port: u16 = arg(&args, "--port", "8091").parse().unwrap_or(8091);
    let vocab: u32 = arg(&args, "--vocab", "4096").parse().unwrap_or(4096).max(2);
    let confidence: f32 = arg(&args, "--confidence", "0.5").parse().unwrap_or(0.5);
    let mode = arg(&args, "--mode", "guess");
    let key = match Keypair::from_uri(&uri) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let hotkey = key.ss58();
    let axon = Axon::new(key, AxonConfig::default()).attach(
        move |_caller: Caller, s: TextCausalLMNext| {
            let mode = mode.clone();
            async move {
                match mode.as_str() {
                    "crash" => Err("toy miner crashes on purpose".to_owned()),
                    "slow" => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        answer(s, vocab, confidence)
                    }
                    "garbage" => {
                        let mut s = answer(s, vocab, confidence)?;
                        let junk = vec![0.5f32; 7];
                        s.text_outputs =
                            Some(Tensor::from_f32(&junk, &[7]).map_err(|e| e.to_string())?);
                        Ok(s)
                    }
                    _ => answer(s, vocab, confidence),
                }
            }
        },
    );
    let addr = SocketAddr::from(([0, 0, 0, 0], port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot bind {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!("toy miner {hotkey} on {addr}");
    if let Err(e) = axon.serve(listener, shutdown_signal()).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
