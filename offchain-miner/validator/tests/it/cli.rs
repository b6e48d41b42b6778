//! The `stvalidator` binary: help, bad flags and files, missing wallet, unreachable node.

use crate::{corpus_and_tokenizer, key};
use std::process::Command;
use subtensor_wallet::Wallet;

fn stvalidator(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stvalidator"))
        .args(args)
        .env_remove("BT_WALLET_NAME")
        .env_remove("BT_WALLET_HOTKEY")
        .env_remove("BT_WALLET_PATH")
        .env_remove("STCLI_NETWORK")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_the_options() {
    let (code, stdout, _) = stvalidator(&["--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--netuid",
        "--corpus",
        "--tokenizer",
        "--wallet.name",
        "--sample-size",
        "--once",
        "--epoch-blocks",
        "--state-dir",
        "--organic-from",
    ] {
        assert!(stdout.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn bad_flags_and_files_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (corpus, tokenizer) = corpus_and_tokenizer(dir.path(), 60);
    let (c, t) = (corpus.to_str().unwrap(), tokenizer.to_str().unwrap());
    // Missing required flag (clap's usage error, status 2).
    let (code, _, stderr) = stvalidator(&["--corpus", c, "--tokenizer", t]);
    assert_ne!(code, 0);
    assert!(stderr.contains("--netuid"), "{stderr}");
    // Out-of-range value.
    let (code, _, stderr) =
        stvalidator(&["--netuid", "1", "--corpus", c, "--tokenizer", t, "--ema-alpha", "1.5"]);
    assert_eq!(code, 1);
    assert!(stderr.starts_with("error:") && stderr.contains("--ema-alpha"), "{stderr}");
    // The gateway's base URL for organic verdicts is plain http.
    let (code, _, stderr) = stvalidator(&[
        "--netuid",
        "1",
        "--corpus",
        c,
        "--tokenizer",
        t,
        "--organic-from",
        "https://gw.example:8000",
    ]);
    assert_eq!(code, 1);
    assert!(stderr.starts_with("error:") && stderr.contains("--organic-from"), "{stderr}");
    // Missing file.
    let (code, _, stderr) =
        stvalidator(&["--netuid", "1", "--corpus", "/nonexistent/corpus", "--tokenizer", t]);
    assert_eq!(code, 1);
    assert!(stderr.contains("/nonexistent/corpus"), "{stderr}");
    // Missing wallet.
    let wallets = dir.path().join("wallets");
    let (code, _, stderr) = stvalidator(&[
        "--netuid",
        "1",
        "--corpus",
        c,
        "--tokenizer",
        t,
        "--wallet.path",
        wallets.to_str().unwrap(),
        "--wallet.name",
        "nobody",
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("error: wallet"), "{stderr}");
}

#[test]
fn unreachable_node_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (corpus, tokenizer) = corpus_and_tokenizer(dir.path(), 60);
    let wallets = dir.path().join("wallets");
    let wallet = Wallet::new(wallets.to_str().unwrap(), "val", "hk").unwrap();
    wallet.write_hotkey(&key("//Alice"), false).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let network = format!("ws://127.0.0.1:{port}");
    let (code, _, stderr) = stvalidator(&[
        "--netuid",
        "1",
        "--corpus",
        corpus.to_str().unwrap(),
        "--tokenizer",
        tokenizer.to_str().unwrap(),
        "--wallet.path",
        wallets.to_str().unwrap(),
        "--wallet.name",
        "val",
        "--wallet.hotkey",
        "hk",
        "--network",
        &network,
        "--state-dir",
        dir.path().join("state").to_str().unwrap(),
        "--topk",
        "64",
    ]);
    assert_eq!(code, 1, "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: chain: cannot reach the node"), "{stderr}");
}

#[test]
fn collect_mode_flags_are_checked() {
    let (code, stdout, _) = stvalidator(&["--help"]);
    assert_eq!(code, 0);
    for flag in ["--distill-collect", "--distill-top", "--distill-min-context"] {
        assert!(stdout.contains(flag), "{flag} missing from --help");
    }
    let dir = tempfile::tempdir().unwrap();
    let (corpus, tokenizer) = corpus_and_tokenizer(dir.path(), 60);
    let buffer = dir.path().join("buffer");
    let (c, t, b) =
        (corpus.to_str().unwrap(), tokenizer.to_str().unwrap(), buffer.to_str().unwrap());
    let with = |extra: &[&str]| {
        let mut args = vec!["--netuid", "1", "--corpus", c, "--tokenizer", t];
        args.extend_from_slice(extra);
        stvalidator(&args)
    };
    // Flags that need another (clap's usage errors).
    let (code, _, stderr) = with(&["--distill-collect", "5"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("--distill-buffer"), "{stderr}");
    let (code, _, stderr) = with(&["--distill-top", "2"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("--distill-collect"), "{stderr}");
    // Values and combinations the checks refuse, each with one `error:` line.
    for (extra, expected) in [
        (&["--distill-collect", "0"][..], "--distill-collect must be at least 1"),
        (&["--distill-collect", "5", "--distill-top", "0"][..], "--distill-top must be at least 1"),
        (&["--distill-collect", "5", "--distill-min-context", "65"][..], "--distill-min-context"),
        (&["--distill-collect", "5", "--once"][..], "not with --once"),
    ] {
        let mut args = vec!["--distill-buffer", b];
        args.extend_from_slice(extra);
        let (code, _, stderr) = with(&args);
        assert_eq!(code, 1, "{extra:?}: {stderr}");
        assert!(stderr.starts_with("error:") && stderr.contains(expected), "{extra:?}: {stderr}");
    }
    // Answers are over the standard tokenizer: it is required.
    let (code, _, stderr) = stvalidator(&[
        "--netuid",
        "1",
        "--corpus",
        c,
        "--distill-buffer",
        b,
        "--distill-collect",
        "5",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--tokenizer is required"), "{stderr}");
    assert!(!buffer.exists(), "nothing may be created before the checks pass");
}

#[test]
fn collect_mode_reports_an_unreachable_node() {
    let dir = tempfile::tempdir().unwrap();
    let (corpus, tokenizer) = corpus_and_tokenizer(dir.path(), 60);
    let wallets = dir.path().join("wallets");
    Wallet::new(wallets.to_str().unwrap(), "val", "hk")
        .unwrap()
        .write_hotkey(&key("//Alice"), false)
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let network = format!("ws://127.0.0.1:{port}");
    let buffer = dir.path().join("buffer");
    let (code, stdout, stderr) = stvalidator(&[
        "--netuid",
        "1",
        "--corpus",
        corpus.to_str().unwrap(),
        "--tokenizer",
        tokenizer.to_str().unwrap(),
        "--wallet.path",
        wallets.to_str().unwrap(),
        "--wallet.name",
        "val",
        "--wallet.hotkey",
        "hk",
        "--network",
        &network,
        "--distill-buffer",
        buffer.to_str().unwrap(),
        "--distill-collect",
        "8",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "no summary on failure: {stdout}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: chain: cannot reach the node"), "{stderr}");
}
