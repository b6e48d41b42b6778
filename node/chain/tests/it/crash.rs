//! Crash safety of reorgs: a child process imports blocks on two forks that overtake each
//! other at every step (each import a reorg) and finalizes now and then, into parity-db; it is
//! SIGKILLed at random moments. After each kill the database opens, the best block is the
//! highest leaf, the number index is the best chain, and every canonical block re-executes to
//! its stored state root.

use crate::{common::*, forks::*};
use std::{
    path::Path,
    process::{Command, Stdio},
    sync::Arc,
    time::Duration,
};
use subtensor_chain::{consensus, ChainApi, ChainWrite, ParityDb, Pruning};

/// Set in the child process: the database directory it works on.
const CHILD_DIR: &str = "SUBTENSOR_CHAIN_CRASH_CHILD_DIR";

/// The child: extend whichever of the two forks is shorter by two blocks, forever.
fn reorg_forever(dir: &Path) -> ! {
    let client = open_two_on(Arc::new(ParityDb::open(dir).unwrap()), Pruning::KeepLast(4));
    let mut slot = client
        .leaves()
        .iter()
        .filter_map(|leaf| consensus::slot_of(&client.header(*leaf).unwrap().unwrap()).unwrap())
        .max()
        .unwrap_or(0);
    let mut step = 0u64;
    loop {
        let info = client.info();
        let leaves = client.leaves();
        // The shorter tip (a second fork starts at the finalized block).
        let tip = if leaves.len() < 2 {
            info.finalized_hash
        } else {
            *leaves
                .iter()
                .min_by_key(|leaf| client.header(**leaf).unwrap().unwrap().number)
                .unwrap()
        };
        let mut parent = tip;
        for _ in 0..2 {
            slot += 1;
            let block = block_on(&client, parent, slot);
            let hash = block.header.hash();
            client.import_block(block).unwrap();
            parent = hash;
        }
        step += 1;
        if step % 7 == 0 {
            // Finalize an ancestor of the best block, discarding the other fork.
            let info = client.info();
            let target = info.best_number.saturating_sub(3).max(info.finalized_number);
            if let Some(hash) = client.hash(target).unwrap() {
                client.finalize(hash, None).unwrap();
            }
        }
    }
}

#[test]
fn reorgs_survive_sigkill() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        reorg_forever(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let delays = [900u64, 1_300, 700, 1_700, 1_100, 1_500];
    let mut reorgs_seen = 0;
    for delay in delays {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["crash::reorgs_survive_sigkill", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let client =
            open_two_on(Arc::new(ParityDb::open(dir.path()).unwrap()), Pruning::KeepLast(4));
        let info = client.info();
        let highest = client
            .leaves()
            .iter()
            .map(|leaf| client.header(*leaf).unwrap().unwrap().number)
            .max()
            .unwrap();
        assert_eq!(info.best_number, highest, "the best block is the highest leaf");
        assert!(info.finalized_number <= info.best_number);
        assert_index_is_best_chain(&client);
        client.verify_chain(&dev_storage()).unwrap();
        reorgs_seen += usize::from(client.leaves().len() > 1);
    }
    assert!(reorgs_seen > 0, "the child never had two forks when it was killed");
}
