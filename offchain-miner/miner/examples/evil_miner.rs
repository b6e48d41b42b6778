//! A misbehaving miner for tests: it serves `TextCausalLMNext` through a real, signing axon
//! but answers with garbage, NaN, wrong shapes, too few phrases, huge bodies, or too late.
//!
//! Our own synapse type refuses to send such answers, so this one stands in for it under the
//! same route name with unchecked outputs. Validators must score every mode zero without
//! crashing.
//!
//! ```text
//! cargo run -p subtensor-miner --example evil_miner -- --mode nan --port 8200 \
//!     --wallet.name evil --wallet.hotkey default --wallet.path /tmp/wallets
//! ```

#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use clap::{Parser, ValueEnum};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use subtensor_axon::{axon::shutdown_signal, Axon, AxonConfig, AxonError, Caller, Synapse, Tensor};
use subtensor_wallet::Wallet;

/// How to misbehave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Random values where the compact top-k encoding should be.
    Garbage,
    /// A correctly sized answer made of NaN.
    Nan,
    /// A 2-D tensor instead of the 1-D encoding.
    Shape,
    /// Fewer phrases than `topk`.
    Short,
    /// A 48 MiB answer.
    Huge,
    /// A well-formed answer, 30 s late.
    Slow,
    /// Not a tensor at all.
    Json,
}

/// Serve TextCausalLMNext answers that are wrong in one way.
#[derive(Debug, Parser)]
struct Args {
    /// How to misbehave.
    #[arg(long, value_enum)]
    mode: Mode,
    /// Port to listen on (all interfaces).
    #[arg(long)]
    port: u16,
    /// Wallet name.
    #[arg(long = "wallet.name", default_value = "default")]
    wallet_name: String,
    /// Hotkey name.
    #[arg(long = "wallet.hotkey", default_value = "default")]
    wallet_hotkey: String,
    /// Wallets directory.
    #[arg(long = "wallet.path", default_value = subtensor_wallet::DEFAULT_WALLET_PATH)]
    wallet_path: String,
}

/// `TextCausalLMNext` with unchecked outputs.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct EvilNext {
    text_inputs: Tensor,
    topk: u32,
    #[serde(default)]
    text_outputs: Option<serde_json::Value>,
}

impl Synapse for EvilNext {
    const NAME: &'static str = "TextCausalLMNext";
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &["text_inputs", "topk", "text_outputs"];

    fn hash_field_repr(&self, field: &str) -> Option<String> {
        match field {
            "text_inputs" => Some(self.text_inputs.python_repr()),
            "topk" => Some(self.topk.to_string()),
            "text_outputs" => Some(match &self.text_outputs {
                None => "None".to_owned(),
                Some(v) => serde_json::from_value::<Tensor>(v.clone())
                    .map_or_else(|_| v.to_string(), |t| t.python_repr()),
            }),
            _ => None,
        }
    }

    fn validate_request(&self) -> subtensor_axon::Result<()> {
        Ok(())
    }

    fn validate_response(&self) -> subtensor_axon::Result<()> {
        Ok(())
    }
}

fn tensor(values: &[f32], shape: &[usize]) -> Result<serde_json::Value, String> {
    let t = Tensor::from_f32(values, shape).map_err(|e: AxonError| e.to_string())?;
    serde_json::to_value(t).map_err(|e| e.to_string())
}

/// A well-formed answer: `topk` one-token phrases of equal probability and a floor, per row.
fn uniform(batch: usize, topk: usize) -> Vec<f32> {
    let p = 0.5 / topk as f32;
    let mut out = Vec::with_capacity(batch * (2 * topk + 1));
    for _ in 0..batch {
        for id in 0..topk {
            out.push(p);
            out.push((id + 2) as f32);
        }
        out.push(1e-6);
    }
    out
}

async fn answer(mode: Mode, mut s: EvilNext) -> Result<EvilNext, String> {
    let batch = s.text_inputs.dims().map_err(|e| e.to_string())?.first().copied().unwrap_or(1);
    let topk = s.topk.max(1) as usize;
    let len = batch * (2 * topk + 1);
    s.text_outputs = Some(match mode {
        Mode::Garbage => {
            let values: Vec<f32> = (0..len).map(|i| ((i * 7919) % 100_003) as f32 * 0.37).collect();
            tensor(&values, &[len])?
        }
        Mode::Nan => tensor(&vec![f32::NAN; len], &[len])?,
        Mode::Shape => tensor(&uniform(batch, topk), &[batch, 2 * topk + 1])?,
        Mode::Short => {
            let values = uniform(batch, topk.saturating_sub(1).max(1));
            tensor(&values, &[values.len()])?
        }
        Mode::Huge => {
            let n = 12 * 1024 * 1024;
            tensor(&vec![0.25; n], &[n])?
        }
        Mode::Slow => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            let values = uniform(batch, topk);
            tensor(&values, &[values.len()])?
        }
        Mode::Json => serde_json::json!({"not": "a tensor"}),
    });
    Ok(s)
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let wallet = Wallet::new(&args.wallet_path, &args.wallet_name, &args.wallet_hotkey)
        .map_err(|e| e.to_string())?;
    let hotkey = wallet
        .hotkey(&mut || Err(subtensor_wallet::WalletError::Password("encrypted hotkey".into())))
        .map_err(|e| e.to_string())?;
    let mode = args.mode;
    let config = AxonConfig { max_timeout: Duration::from_secs(120), ..AxonConfig::default() };
    let axon =
        Axon::new(hotkey, config).attach(move |_caller: Caller, s: EvilNext| answer(mode, s));
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), args.port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| e.to_string())?;
    eprintln!("evil miner ({mode:?}) listening on {addr}");
    axon.serve(listener, shutdown_signal()).await.map_err(|e| e.to_string())
}
