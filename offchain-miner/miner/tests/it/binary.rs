//! The `stminer` binary: help, clean start-up errors, and an offline miner serving a dendrite
//! and stopping gracefully on SIGTERM.

use crate::fixture::{assert_same_topk, contexts, fixture, key, load, TIMEOUT};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use subtensor_axon::{synapse::GridParams, AxonTarget, Dendrite, GridGenerate, TextCausalLMNext};
use subtensor_model::{GridRequest, GridSampling, TokenTopk};
use subtensor_wallet::Wallet;

const STMINER: &str = env!("CARGO_BIN_EXE_stminer");

/// `stminer` with no inherited wallet or network settings.
fn stminer() -> Command {
    let mut cmd = Command::new(STMINER);
    for (name, _) in std::env::vars() {
        if name.starts_with("BT_WALLET_") || name.starts_with("STCLI_") {
            cmd.env_remove(name);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Asserts a clean failure: non-zero exit, a last stderr line starting `error: ` that contains
/// `needle`, no panic.
fn assert_clean_failure(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail:\n{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{stderr}");
    assert!(last.contains(needle), "{last:?} lacks {needle:?}");
}

fn write_hotkey(wallets: &Path, name: &str) -> String {
    let path = wallets.to_str().unwrap();
    let keypair = key("//MinerTest");
    Wallet::new(path, name, "default").unwrap().write_hotkey(&keypair, false).unwrap();
    keypair.ss58()
}

#[test]
fn help_lists_the_flags() {
    let out = stminer().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--model",
        "--tokenizer",
        "--offline",
        "--max-batch",
        "--axon.port",
        "--wallet.name",
        "--grid",
        "--grid-batch-max",
        "--grid-batch-wait-ms",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn start_up_errors_are_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let wallets = tmp.path().join("wallets");
    let wallet_args = ["--wallet.path", wallets.to_str().unwrap(), "--wallet.name", "miner"];
    // No model.
    let out = stminer()
        .args(["--offline", "--model", "/nonexistent/model"])
        .args(wallet_args)
        .output()
        .unwrap();
    assert_clean_failure(&out, "/nonexistent/model");
    // A model but no wallet.
    let model = fixture().model_dir.to_str().unwrap();
    let out = stminer().args(["--offline", "--model", model]).args(wallet_args).output().unwrap();
    assert_clean_failure(&out, "wallet");
    // A bad device.
    write_hotkey(&wallets, "miner");
    let out = stminer()
        .args(["--offline", "--model", model, "--device", "tpu"])
        .args(wallet_args)
        .output()
        .unwrap();
    assert_clean_failure(&out, "tpu");
    // Grid mode reads the subnet's grid spec before anything else: no node, no start.
    let network = format!("ws://127.0.0.1:{}", free_port());
    let out = stminer()
        .args(["--grid", "--model", model, "--network", &network])
        .args(wallet_args)
        .output()
        .unwrap();
    assert_clean_failure(&out, "cannot reach the node");
}

/// Kills the child on drop, so that a failed assertion leaves no miner behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_miner_serves_and_stops_on_sigterm() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let wallets = tmp.path().join("wallets");
    let hotkey = write_hotkey(&wallets, "miner");
    let log_path = tmp.path().join("stminer.log");
    let port = free_port();
    let child = stminer()
        .args(["--offline", "--model", f.model_dir.to_str().unwrap()])
        .args(["--wallet.path", wallets.to_str().unwrap(), "--wallet.name", "miner"])
        .args(["--axon.ip", "127.0.0.1", "--axon.port", &port.to_string(), "--threads", "1"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut miner = Running(child);
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if let Some(status) = miner.0.try_wait().unwrap() {
            panic!("stminer exited with {status} before listening:\n{}", log());
        }
        assert!(started.elapsed() < TIMEOUT, "stminer is not listening:\n{}", log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let rows = contexts(&f.standard, 2, 7);
    let target = AxonTarget { addr, hotkey };
    let request = TextCausalLMNext::request(&rows, 6).unwrap();
    let reply = Dendrite::new(key("//Alice")).call(&target, &request, TIMEOUT).await.unwrap();
    let want = load(&f.model_dir).next_token_topk(&rows, 6).unwrap();
    // The miner runs libtorch on one thread, this test on more: equal up to rounding.
    for (got, want) in reply.synapse.outputs().unwrap().iter().zip(&want) {
        let got = TokenTopk {
            ids: got.phrases.iter().map(|(_, p)| p[0]).collect(),
            probs: got.phrases.iter().map(|(p, _)| *p).collect(),
        };
        assert_same_topk(&got, want, 1e-5);
    }

    let pid = miner.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = miner.0.try_wait().unwrap() {
            break status;
        }
        assert!(stopping.elapsed() < Duration::from_secs(30), "no exit after SIGTERM:\n{}", log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let log = log();
    assert!(status.success(), "{status}:\n{log}");
    assert!(log.contains("offline"), "{log}");
    assert!(log.contains("stopped: 1 answered, 0 failed, 0 expired"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_grid_miner_serves_grid_generate() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let wallets = tmp.path().join("wallets");
    let hotkey = write_hotkey(&wallets, "miner");
    let log_path = tmp.path().join("stminer.log");
    let port = free_port();
    let child = stminer()
        .args(["--offline", "--grid", "--grid-batch-max", "2", "--grid-batch-wait-ms", "1"])
        .args(["--model", f.model_dir.to_str().unwrap()])
        .args(["--wallet.path", wallets.to_str().unwrap(), "--wallet.name", "miner"])
        .args(["--axon.ip", "127.0.0.1", "--axon.port", &port.to_string(), "--threads", "1"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut miner = Running(child);
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if let Some(status) = miner.0.try_wait().unwrap() {
            panic!("stminer exited with {status} before listening:\n{}", log());
        }
        assert!(started.elapsed() < TIMEOUT, "stminer is not listening:\n{}", log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let prompt = contexts(&f.standard, 1, 6).remove(0);
    // Greedy, so that the miner's one libtorch thread and this test's several give the same
    // tokens even if their logits differ in the last bits.
    let p = GridParams { seed: 9, temperature: 0.0, top_k: 0, top_p: 1.0, max_new_tokens: 8 };
    let request = GridGenerate::request(&prompt, &p).unwrap();
    let target = AxonTarget { addr, hotkey };
    let reply = Dendrite::new(key("//Alice")).call(&target, &request, TIMEOUT).await.unwrap();
    let model = load(&f.model_dir);
    let req = GridRequest {
        sampling: GridSampling { temperature: 0.0, top_k: 0, top_p: 1.0 },
        seed: 9,
        max_new_tokens: 8,
        eos_id: model.eos_token_id(),
    };
    let want = model.generate_grid(&prompt, &req).unwrap();
    let got = reply.synapse.outputs().unwrap();
    assert_eq!(got.tokens, want.tokens);
    assert_eq!(got.stopped_at_eos, want.stopped_at_eos);
    // Over the model's own limit (its context of 48): refused.
    let long = GridGenerate::request(&prompt, &GridParams { max_new_tokens: 48, ..p }).unwrap();
    let err = Dendrite::new(key("//Alice")).call(&target, &long, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, subtensor_axon::AxonError::Status { code: 500, .. }), "{err:?}");
    let log = log();
    assert!(log.contains("offline grid mode"), "{log}");
    assert!(log.contains(&subtensor_model::grid::model_digest_hex(&f.model_dir).unwrap()), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}
