//! The proof-of-work registration solver: every core searches nonces for a seal that meets the
//! subnet's difficulty, and reports its hash rate and expected time as it goes.
//!
//! The seal is the pallet's (`create_seal_hash`):
//! `keccak256(sha256(nonce_le ‖ keccak256(block_hash ‖ hotkey)))`; it meets `difficulty` when,
//! read as a big-endian 256-bit number, its product with `difficulty` fits in 256 bits. So a
//! random seal succeeds with probability about `1 / difficulty`, and the expected number of
//! hashes is `difficulty`. The inner keccak depends only on the block and the hotkey, so each
//! worker computes it once per block: two hashes per nonce.
//!
//! Workers are std threads sharing an atomic hash counter; when the chain moves on, the caller
//! hands the solver the new block with [`Solver::update`] (a seal must be over a block at most
//! 3 blocks old) and the workers switch to it.

use crate::{ClientError, Result};
use sp_core::H256;
use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, RwLock,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// Nonces a worker tries between two looks at the shared state.
const BATCH: u64 = 2048;

/// What to solve: a seal by `hotkey` over block `block_number` meeting `difficulty`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem {
    /// The block the work is over.
    pub block_number: u64,
    /// Its hash.
    pub block_hash: H256,
    /// The registering hotkey's public key.
    pub hotkey: [u8; 32],
    /// The subnet's difficulty.
    pub difficulty: u64,
}

/// A seal meeting the difficulty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Solution {
    /// The block the seal is over.
    pub block_number: u64,
    /// The nonce.
    pub nonce: u64,
    /// The seal.
    pub seal: H256,
}

/// The solver's figures so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Hashes (seals) computed, over all threads.
    pub hashes: u64,
    /// Time since the solver started.
    pub elapsed: Duration,
    /// Worker threads.
    pub threads: usize,
    /// The difficulty being solved.
    pub difficulty: u64,
    /// The block being solved over.
    pub block_number: u64,
}

impl Progress {
    /// Seals per second, over all threads.
    pub fn hash_rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.hashes as f64 / secs
        } else {
            0.0
        }
    }

    /// Seals per second per thread.
    pub fn hash_rate_per_thread(&self) -> f64 {
        self.hash_rate() / self.threads.max(1) as f64
    }

    /// Expected seconds to find a seal from scratch at this rate (`difficulty / rate`).
    pub fn expected_seconds(&self) -> f64 {
        expected_seconds(self.difficulty, self.hash_rate())
    }
}

/// Expected seconds to solve `difficulty` at `rate` seals per second (infinite at rate 0).
pub fn expected_seconds(difficulty: u64, rate: f64) -> f64 {
    if rate > 0.0 {
        difficulty as f64 / rate
    } else {
        f64::INFINITY
    }
}

/// `keccak256(block_hash ‖ hotkey)`, the per-block part of the seal.
pub fn seal_prefix(block_hash: &H256, hotkey: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(block_hash.as_bytes());
    buf[32..].copy_from_slice(hotkey);
    sp_crypto_hashing::keccak_256(&buf)
}

/// The seal of `nonce` given [`seal_prefix`].
pub fn seal_with_prefix(prefix: &[u8; 32], nonce: u64) -> H256 {
    let mut full = [0u8; 40];
    full[..8].copy_from_slice(&nonce.to_le_bytes());
    full[8..].copy_from_slice(prefix);
    H256(sp_crypto_hashing::keccak_256(&sp_crypto_hashing::sha2_256(&full)))
}

/// The seal of `hotkey` over `block_hash` with `nonce`.
pub fn seal(block_hash: &H256, hotkey: &[u8; 32], nonce: u64) -> H256 {
    seal_with_prefix(&seal_prefix(block_hash, hotkey), nonce)
}

/// Whether `seal` meets `difficulty` (the pallet's own check).
pub fn meets_difficulty(seal: &H256, difficulty: u64) -> bool {
    pallet_subtensor::subnets::registration::hash_meets_difficulty(seal, difficulty)
}

struct Shared {
    problem: RwLock<Problem>,
    generation: AtomicU64,
    stop: AtomicBool,
    hashes: AtomicU64,
    found: Mutex<Option<Solution>>,
}

/// A running search on `threads` std threads; stopped and joined when dropped.
pub struct Solver {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    started: Instant,
    threads: usize,
}

/// A random 64-bit start nonce, different per worker and per run.
fn random_start(worker: usize) -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_usize(worker);
    h.finish()
}

fn work(shared: &Shared, worker: usize) {
    let mut nonce = random_start(worker);
    while !shared.stop.load(Ordering::Relaxed) {
        let generation = shared.generation.load(Ordering::Acquire);
        let problem = match shared.problem.read() {
            Ok(p) => *p,
            Err(_) => return,
        };
        let prefix = seal_prefix(&problem.block_hash, &problem.hotkey);
        while shared.generation.load(Ordering::Acquire) == generation
            && !shared.stop.load(Ordering::Relaxed)
        {
            for _ in 0..BATCH {
                let seal = seal_with_prefix(&prefix, nonce);
                if meets_difficulty(&seal, problem.difficulty) {
                    if let Ok(mut found) = shared.found.lock() {
                        found.get_or_insert(Solution {
                            block_number: problem.block_number,
                            nonce,
                            seal,
                        });
                    }
                    shared.stop.store(true, Ordering::Relaxed);
                    break;
                }
                nonce = nonce.wrapping_add(1);
            }
            shared.hashes.fetch_add(BATCH, Ordering::Relaxed);
        }
    }
}

impl Solver {
    /// Starts solving `problem` on `threads` threads (at least one).
    pub fn start(problem: Problem, threads: usize) -> Result<Self> {
        let threads = threads.max(1);
        let shared = Arc::new(Shared {
            problem: RwLock::new(problem),
            generation: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            hashes: AtomicU64::new(0),
            found: Mutex::new(None),
        });
        let mut workers = Vec::with_capacity(threads);
        for worker in 0..threads {
            let shared = shared.clone();
            let handle = std::thread::Builder::new()
                .name(format!("pow-{worker}"))
                .spawn(move || work(&shared, worker))
                .map_err(|e| ClientError::Pow(format!("cannot start a worker thread: {e}")))?;
            workers.push(handle);
        }
        Ok(Self { shared, workers, started: Instant::now(), threads })
    }

    /// All cores of this machine.
    pub fn all_cores() -> usize {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    }

    /// Switches the workers to `problem` (a newer block, or a changed difficulty).
    pub fn update(&self, problem: Problem) {
        if let Ok(mut p) = self.shared.problem.write() {
            if *p == problem {
                return;
            }
            *p = problem;
        }
        self.shared.generation.fetch_add(1, Ordering::Release);
    }

    /// The figures so far.
    pub fn progress(&self) -> Progress {
        let problem = self.shared.problem.read().map(|p| *p).ok();
        Progress {
            hashes: self.shared.hashes.load(Ordering::Relaxed),
            elapsed: self.started.elapsed(),
            threads: self.threads,
            difficulty: problem.map_or(0, |p| p.difficulty),
            block_number: problem.map_or(0, |p| p.block_number),
        }
    }

    /// The solution, once found (the workers stop when one is).
    pub fn solution(&self) -> Option<Solution> {
        self.shared.found.lock().ok().and_then(|f| *f)
    }

    /// Stops the workers and waits for them.
    pub fn stop(mut self) -> Progress {
        self.halt();
        self.progress()
    }

    fn halt(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }

    /// Solves `problem` to the end, calling `report` about every `interval`; gives up after
    /// `timeout`.
    pub fn solve_blocking(
        problem: Problem,
        threads: usize,
        interval: Duration,
        timeout: Duration,
        mut report: impl FnMut(&Progress),
    ) -> Result<(Solution, Progress)> {
        let solver = Self::start(problem, threads)?;
        let started = Instant::now();
        let mut last_report = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(20));
            if let Some(solution) = solver.solution() {
                return Ok((solution, solver.stop()));
            }
            if started.elapsed() >= timeout {
                return Err(ClientError::Timeout {
                    what: format!("a seal at difficulty {}", problem.difficulty),
                    seconds: timeout.as_secs(),
                });
            }
            if last_report.elapsed() >= interval {
                last_report = Instant::now();
                report(&solver.progress());
            }
        }
    }
}

impl Drop for Solver {
    fn drop(&mut self) {
        self.halt();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]
    use super::*;
    use pallet_subtensor::subnets::registration::{create_seal_hash, hash_meets_difficulty};

    #[test]
    fn seal_equals_the_pallets_create_seal_hash() {
        for i in 0..50u64 {
            let block = H256(sp_crypto_hashing::blake2_256(&i.to_le_bytes()));
            let hotkey = sp_crypto_hashing::blake2_256(&(i + 1000).to_le_bytes());
            let nonce = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            assert_eq!(
                seal(&block, &hotkey, nonce),
                create_seal_hash(block.as_bytes(), &hotkey, nonce)
            );
        }
    }

    #[test]
    fn difficulty_reading_is_big_endian_overflow() {
        let mut small = [0u8; 32];
        small[31] = 1;
        assert!(meets_difficulty(&H256(small), u64::MAX));
        let big = H256([0xff; 32]);
        assert!(meets_difficulty(&big, 1));
        assert!(!meets_difficulty(&big, 2));
        assert_eq!(meets_difficulty(&big, 2), hash_meets_difficulty(&big, 2));
    }

    #[test]
    fn solver_finds_a_seal_the_pallet_accepts() {
        let problem = Problem {
            block_number: 7,
            block_hash: H256::repeat_byte(3),
            hotkey: [5u8; 32],
            difficulty: 5_000,
        };
        let (solution, progress) = Solver::solve_blocking(
            problem,
            2,
            Duration::from_millis(100),
            Duration::from_secs(120),
            |_| {},
        )
        .unwrap();
        assert_eq!(solution.block_number, 7);
        let expected =
            create_seal_hash(problem.block_hash.as_bytes(), &problem.hotkey, solution.nonce);
        assert_eq!(solution.seal, expected);
        assert!(hash_meets_difficulty(&expected, problem.difficulty));
        assert!(progress.hashes > 0 && progress.hash_rate() > 0.0);
        assert!(progress.expected_seconds().is_finite());
    }

    #[test]
    fn update_switches_the_block() {
        let problem = Problem {
            block_number: 1,
            block_hash: H256::repeat_byte(1),
            hotkey: [9u8; 32],
            difficulty: u64::MAX / 2,
        };
        let solver = Solver::start(problem, 1).unwrap();
        solver.update(Problem { block_number: 2, difficulty: 10, ..problem });
        let deadline = Instant::now() + Duration::from_secs(60);
        while solver.solution().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(solver.solution().unwrap().block_number, 2);
        assert_eq!(solver.stop().block_number, 2);
    }
}
