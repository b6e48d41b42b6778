//! Timing of a large block (run in release: `cargo test -p subtensor-chain --release --test it
//! -- --ignored --nocapture`).

use crate::common::*;
use sp_keyring::Sr25519Keyring::{Alice, Bob};
use std::{sync::Arc, time::Instant};
use subtensor_chain::{ChainApi, ChainWrite, ParityDb, Pruning};

#[test]
#[ignore = "timing; run in release"]
fn a_block_of_1000_transfers_is_built_imported_and_re_executed_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let client =
        open(Arc::new(ParityDb::open(&dir.path().join("a")).unwrap()), Pruning::KeepLast(256));
    let follower =
        open(Arc::new(ParityDb::open(&dir.path().join("b")).unwrap()), Pruning::KeepLast(256));
    let genesis = client.info().genesis_hash;
    // Warm up with one block.
    let (_, block, _) = author(&client, &[]);
    follower.import_block(block).unwrap();

    let xts: Vec<_> = (0..1000).map(|nonce| transfer(Alice, Bob, 1, nonce, genesis)).collect();
    let start = Instant::now();
    let built = client.build_block(client.info().best_hash, next_timestamp(&client), &xts).unwrap();
    let build_time = start.elapsed();
    assert_eq!(built.included.len(), 1000, "{:?}", built.rejected.first());
    let block = seal(&built);
    let start = Instant::now();
    client.import_block(block.clone()).unwrap();
    let import_time = start.elapsed();
    let start = Instant::now();
    follower.import_block(block).unwrap();
    let reexec_time = start.elapsed();
    println!("1000 transfers: build {build_time:?}, import (reused) {import_time:?}, import (re-executed) {reexec_time:?}");
}
