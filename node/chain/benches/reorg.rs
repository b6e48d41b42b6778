//! A 1,000-block reorg in the chain engine (target: the switching import under 200 ms).
//!
//! Two authorities (//Alice, //Bob; the author of slot `s` is `authorities[s % 2]`) build on a
//! common chain of 100 blocks (finalized): fork A of 1,000 blocks in the slots of one, fork B of
//! 1,001 blocks in the slots of the other. The blocks are built once on an in-memory client;
//! each run opens a fresh parity-db database (archive, as the node's default) in a temporary
//! directory, imports the common chain, finalizes its tip, imports all of fork A and all of fork
//! B but its last block (A stays best: B is not higher), then times:
//!
//! - reorg: `import_block` of B's last block, which makes B best: one execution of the block
//!   and, in the same commit, the number index rewritten along the route (1,001 entries);
//! - then, on one database, `finalize` of B's tip (the winning fork: the best chain does not
//!   move; fork A's 1,000 blocks are discarded, their headers, bodies and journals deleted and
//!   their trie node references released);
//! - and, on another, `finalize` of A's tip (the LOSING fork while B is best): the best chain
//!   moves back to A (number index rewritten over 1,001 entries) and fork B's 1,001 blocks are
//!   discarded.
//!
//! Each run does both scenarios, so the reorg is timed twice per run. Prints each run and the
//! medians.
//!
//! Run: `cargo bench -p subtensor-chain --bench reorg` (RUNS=n for more runs; default 3).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

mod common;

use common::*;
use sp_keyring::Sr25519Keyring;
use std::{sync::Arc, time::Instant};
use subtensor_chain::{ChainApi, ChainWrite, Hash, ImportOutcome, MemoryDb, ParityDb, Pruning};
use subtensor_runtime::Block;

const COMMON: u64 = 100;
const FORK_A: u64 = 1_000;
const FORK_B: u64 = 1_001;

fn import(client: &subtensor_chain::Client, block: Block) -> (Hash, bool) {
    match client.import_block(block).unwrap() {
        ImportOutcome::Imported { hash, best, .. } => (hash, best),
        other => panic!("not imported: {other:?}"),
    }
}

/// `len` blocks on `parent`, the i-th in slot `first_slot + step * i`, imported on `builder`.
fn chain_of(
    builder: &subtensor_chain::Client,
    keys: &[sp_core::sr25519::Pair],
    mut parent: Hash,
    first_slot: u64,
    step: u64,
    len: u64,
) -> Vec<(Hash, Block)> {
    (0..len)
        .map(|i| {
            let block = block_in_slot(builder, keys, parent, first_slot + step * i, &[]);
            parent = import(builder, block.clone()).0;
            (parent, block)
        })
        .collect()
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

fn main() {
    let runs: usize = std::env::var("RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let keys = vec![Sr25519Keyring::Alice.pair(), Sr25519Keyring::Bob.pair()];
    let genesis = dev_storage();

    // The blocks, built once.
    let started = Instant::now();
    let builder = open_with(Arc::new(MemoryDb::new()), &genesis, &keys, Pruning::Archive);
    let genesis_hash = builder.info().genesis_hash;
    let common = chain_of(&builder, &keys, genesis_hash, 1, 1, COMMON);
    let fork_point = common.last().unwrap().0;
    // Slots after the common chain: A in even offsets (one author), B in odd ones (the other).
    let first = COMMON + 2;
    let fork_a = chain_of(&builder, &keys, fork_point, first, 2, FORK_A);
    let fork_b = chain_of(&builder, &keys, fork_point, first + 1, 2, FORK_B);
    assert_ne!(
        fork_a[0].1.header.digest, fork_b[0].1.header.digest,
        "the forks are sealed by different authorities"
    );
    let (a_tip, b_tip) = (fork_a.last().unwrap().0, fork_b.last().unwrap().0);
    println!(
        "blocks: common {COMMON}, fork A {FORK_A}, fork B {FORK_B} (empty blocks, 2 authorities), \
         built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(builder);

    let (mut reorg, mut fin_winning, mut fin_losing, mut prep) = (vec![], vec![], vec![], vec![]);
    for run in 0..runs {
        for losing in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let db = Arc::new(ParityDb::open(&dir.path().join("db")).unwrap());
            let client = open_with(db, &genesis, &keys, Pruning::Archive);

            let t = Instant::now();
            for (_, block) in &common {
                import(&client, block.clone());
            }
            client.finalize(fork_point, None).unwrap();
            for (_, block) in &fork_a {
                import(&client, block.clone());
            }
            for (_, block) in &fork_b[..fork_b.len() - 1] {
                assert!(!import(&client, block.clone()).1, "fork B is not best before its tip");
            }
            let prep_ms = ms(t);
            assert_eq!(client.info().best_hash, a_tip);

            // The reorg: B's last block makes B best.
            let t = Instant::now();
            let (hash, best) = import(&client, fork_b.last().unwrap().1.clone());
            let reorg_ms = ms(t);
            assert!(best && hash == b_tip);
            for (n, (hash, _)) in fork_b.iter().enumerate() {
                assert_eq!(client.hash((COMMON + 1) as u32 + n as u32).unwrap(), Some(*hash));
            }

            let (what, fin_ms) = if losing {
                // Finality on the losing fork: the best chain moves back to A, B is discarded.
                let t = Instant::now();
                client.finalize(a_tip, None).unwrap();
                let fin_ms = ms(t);
                assert_eq!(client.info().best_hash, a_tip);
                for (n, (hash, _)) in fork_a.iter().enumerate() {
                    assert_eq!(client.hash((COMMON + 1) as u32 + n as u32).unwrap(), Some(*hash));
                }
                assert_eq!(client.hash((COMMON + FORK_B) as u32).unwrap(), None);
                assert_eq!(client.header(b_tip).unwrap(), None, "fork B discarded");
                fin_losing.push(fin_ms);
                ("finalize A's tip (losing fork)", fin_ms)
            } else {
                // Finality on the winning fork: nothing moves, A is discarded.
                let t = Instant::now();
                client.finalize(b_tip, None).unwrap();
                let fin_ms = ms(t);
                assert_eq!(client.info().best_hash, b_tip);
                assert_eq!(client.header(a_tip).unwrap(), None, "fork A discarded");
                fin_winning.push(fin_ms);
                ("finalize B's tip (winning fork)", fin_ms)
            };
            assert_eq!(client.info().finalized_number, client.info().best_number);
            println!(
                "run {}{}: prepared {} blocks in {:.1} s; reorg import {reorg_ms:.1} ms; \
                 {what} {fin_ms:.1} ms",
                run + 1,
                if losing { "b" } else { "a" },
                COMMON + FORK_A + FORK_B - 1,
                prep_ms / 1e3,
            );
            reorg.push(reorg_ms);
            prep.push(prep_ms);
        }
    }
    let blocks = (COMMON + FORK_A + FORK_B - 1) as f64;
    let (r, w, l) =
        (median_ms(&mut reorg), median_ms(&mut fin_winning), median_ms(&mut fin_losing));
    let p = median_ms(&mut prep);
    println!("median of {} reorgs, {runs} finalizations each:", reorg.len());
    println!(
        "  reorg: import switching to the longer fork (1,001 enacted, 1,000 retracted)  {r:8.1} ms   \
         target < 200 ms: {}",
        if r < 200.0 { "met" } else { "NOT met" }
    );
    println!(
        "  finalize the winning fork's tip (1,000 blocks discarded)                     {w:8.1} ms"
    );
    println!("  finalize the losing fork's tip (best moves back, 1,001 blocks discarded)      {l:8.1} ms");
    println!(
        "  (setup: {blocks} empty blocks imported with re-execution at {:.0} blocks/s)",
        blocks / (p / 1e3)
    );
    println!("summary: reorg_ms={r:.1} finalize_winning_ms={w:.1} finalize_losing_ms={l:.1}");
}
