//! Writes the block file of the sync benchmark (`scripts/bench-network.sh`): a dev chain of
//! `--blocks` blocks (default 10,000), each with `--txs` signed balance transfers (default 10)
//! from the six funded dev accounts (//Alice .. //Ferdie, nonces in turn) to fresh accounts, as
//! `subtensor-node export-blocks` writes them (SCALE-encoded blocks, sealed by //Alice, one
//! after another), so that `subtensor-node import-blocks --chain dev` rebuilds the chain.
//!
//! The genesis is read from the raw chain spec of the dev chain (`subtensor-node build-spec
//! --chain dev --raw`), so the blocks belong to the node's `--chain dev`. Slots are the dev
//! chain's 1 s, ending a few slots before now (every block is in the past for the importing
//! node). The blocks are built and imported on an in-memory client that finalizes as it goes.
//!
//! Run: `cargo bench -p subtensor-chain --bench sync_chain -- --spec dev-raw.json --out
//! blocks.bin [--blocks 10000] [--txs 10]`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

mod common;

use codec::Encode;
use common::*;
use sp_core::Pair;
use sp_keyring::Sr25519Keyring;
use std::{io::Write, sync::Arc, time::Instant};
use subtensor_chain::{ChainApi, ChainWrite, ImportOutcome, MemoryDb, Pruning};
use subtensor_runtime::{AccountId, RAO_PER_TAO};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let spec =
        arg("--spec").expect("--spec: the raw dev chain spec (build-spec --chain dev --raw)");
    let out = arg("--out").expect("--out: where to write the blocks");
    let blocks: u64 = arg("--blocks").map(|n| n.parse().expect("--blocks N")).unwrap_or(10_000);
    let txs: usize = arg("--txs").map(|n| n.parse().expect("--txs K")).unwrap_or(10);
    let started = Instant::now();

    let (_, genesis) = raw_spec_storage(&spec);
    let keys = [authority()];
    let client = open_with(Arc::new(MemoryDb::new()), &genesis, &keys, Pruning::KeepLast(4));
    let genesis_hash = client.info().genesis_hash;
    let senders: Vec<_> = Sr25519Keyring::iter().take(6).map(|k| k.pair()).collect();
    let mut nonces = vec![0u32; senders.len()];
    let now_slot =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as u64
            / SLOT_MS;
    let first_slot = now_slot - blocks - 5;

    let mut file = std::io::BufWriter::new(std::fs::File::create(&out).expect("create --out"));
    let (mut parent, mut bytes, mut transfer) = (genesis_hash, 0usize, 0usize);
    for i in 0..blocks {
        let xts: Vec<_> = (0..txs)
            .map(|_| {
                let s = transfer % senders.len();
                let dest = AccountId::from(hotkey(transfer).public());
                let xt = signed(
                    &senders[s],
                    transfer_call(dest, RAO_PER_TAO + transfer as u64),
                    nonces[s],
                    genesis_hash,
                );
                nonces[s] += 1;
                transfer += 1;
                xt
            })
            .collect();
        let block = block_in_slot(&client, &keys, parent, first_slot + i, &xts);
        let encoded = block.encode();
        bytes += encoded.len();
        file.write_all(&encoded).expect("write --out");
        parent = match client.import_block(block).unwrap() {
            ImportOutcome::Imported { hash, best: true, .. } => hash,
            other => panic!("not imported as best: {other:?}"),
        };
        if (i + 1) % 256 == 0 {
            client.finalize(parent, None).unwrap();
        }
        if (i + 1) % 1000 == 0 {
            eprintln!("built #{} ({:.1} s)", i + 1, started.elapsed().as_secs_f64());
        }
    }
    file.flush().expect("write --out");
    println!(
        "wrote {out}: {blocks} blocks (#1..=#{blocks}) of {txs} transfers each, {:.1} MB, best \
         {parent:?}, genesis {genesis_hash:?} ({:.1} s)",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
}
