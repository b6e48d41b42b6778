//! Registration of a hotkey on a subnet, shared by `stcli` and the miner: by burning
//! (signed by the coldkey) or by proof of work (signed by the hotkey alone, fee-free).
//!
//! Proof of work follows the chain: the solver is moved to every new best block (a seal must be
//! over one of the last 3 blocks when it executes), a seal that went stale before submission or
//! that the chain refuses as stale (`InvalidWorkBlock`, `WorkRepeated`) is solved again, at most
//! [`POW_ATTEMPTS`] times, all within one overall deadline.

use crate::{
    calls,
    pow::{Problem, Progress, Solver},
    Client, ClientError, Receipt, Result, Wait,
};
use sp_core::{sr25519, Pair};
use std::time::{Duration, Instant};
use subtensor_runtime::{AccountId, RuntimeEvent};

/// Attempts when a seal goes stale or is refused as stale by the chain.
pub const POW_ATTEMPTS: usize = 5;

/// How long to wait for a registration's inclusion.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(120);

/// What a proof-of-work registration reports while it runs.
#[derive(Debug, Clone)]
pub enum PowEvent {
    /// The solver's figures (about once a second).
    Progress(Progress),
    /// A seal was found.
    Solved(Progress),
    /// A seal went stale or was refused; solving again.
    Retry(String),
}

/// A successful proof-of-work registration.
#[derive(Debug, Clone)]
pub struct PowRegistration {
    /// The registration's receipt.
    pub receipt: Receipt,
    /// The UID the hotkey got.
    pub uid: Option<u16>,
    /// The difficulty at the start.
    pub difficulty: u64,
    /// Hashes computed over all attempts.
    pub hashes: u64,
    /// Time spent solving over all attempts.
    pub solving: Duration,
    /// Worker threads.
    pub threads: usize,
}

/// The UID in `receipt`'s `NeuronRegistered` event.
pub fn registered_uid(receipt: &Receipt) -> Option<u16> {
    receipt.find(|e| match e {
        RuntimeEvent::SubtensorModule(pallet_subtensor::Event::NeuronRegistered {
            uid, ..
        }) => Some(*uid),
        _ => None,
    })
}

impl Client {
    /// Registers `hotkey` on `netuid` by burning the subnet's registration cost from the
    /// signing `coldkey`'s balance. Returns the receipt and the new UID.
    pub async fn register_burned(
        &self,
        netuid: u16,
        coldkey: &sr25519::Pair,
        hotkey: AccountId,
    ) -> Result<(Receipt, Option<u16>)> {
        let receipt = self
            .submit(
                calls::burned_register(netuid, hotkey),
                coldkey,
                Wait::Inclusion,
                INCLUSION_TIMEOUT,
            )
            .await?;
        let uid = registered_uid(&receipt);
        Ok((receipt, uid))
    }

    /// Registers `hotkey` on `netuid` by proof of work on `threads` threads, owned by
    /// `coldkey`, within `timeout`; `report` sees progress, solutions and retries.
    pub async fn register_pow(
        &self,
        netuid: u16,
        hotkey: &sr25519::Pair,
        coldkey: AccountId,
        threads: usize,
        timeout: Duration,
        mut report: impl FnMut(PowEvent) + Send,
    ) -> Result<PowRegistration> {
        let started = Instant::now();
        let deadline = started.checked_add(timeout).ok_or_else(|| {
            ClientError::Pow(format!("a timeout of {} s is too large", timeout.as_secs()))
        })?;
        let difficulty = self.difficulty(netuid, None).await?;
        let hotkey_pub = AccountId::from(hotkey.public());
        let (mut hashes, mut solving) = (0u64, Duration::ZERO);
        let mut last_error = None;
        for _ in 0..POW_ATTEMPTS {
            let (solution, progress) = match self
                .solve_pow(netuid, hotkey.public().0, threads, deadline, &mut report)
                .await
            {
                Ok(found) => found,
                Err(ClientError::Pow(why)) => {
                    report(PowEvent::Retry(why));
                    continue;
                }
                Err(e) => return Err(e),
            };
            hashes = hashes.saturating_add(progress.hashes);
            solving = solving.saturating_add(progress.elapsed);
            report(PowEvent::Solved(progress));
            let call = calls::pow_register(netuid, &solution, hotkey_pub.clone(), coldkey.clone());
            match self.submit(call, hotkey, Wait::Inclusion, INCLUSION_TIMEOUT).await {
                Ok(receipt) => {
                    let uid = registered_uid(&receipt);
                    return Ok(PowRegistration {
                        receipt,
                        uid,
                        difficulty,
                        hashes,
                        solving,
                        threads: threads.max(1),
                    });
                }
                Err(e) if matches!(e.module_error(), Some("InvalidWorkBlock" | "WorkRepeated")) => {
                    report(PowEvent::Retry(e.to_string()));
                    last_error = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            ClientError::Pow(format!("no fresh seal in {POW_ATTEMPTS} attempts"))
        }))
    }

    /// Solves over the best block, following the chain, until a seal is found that is still
    /// fresh enough to be accepted. A seal that went stale is a [`ClientError::Pow`].
    async fn solve_pow(
        &self,
        netuid: u16,
        hotkey: [u8; 32],
        threads: usize,
        deadline: Instant,
        report: &mut (impl FnMut(PowEvent) + Send),
    ) -> Result<(crate::pow::Solution, Progress)> {
        let problem_at = |number: u32, hash, difficulty| Problem {
            block_number: u64::from(number),
            block_hash: hash,
            hotkey,
            difficulty,
        };
        let (number, hash) = self.best_block().await?;
        let difficulty = self.difficulty(netuid, Some(hash)).await?;
        let solver = Solver::start(problem_at(number, hash, difficulty), threads)?;
        let mut last_report = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let (best, hash) = self.best_block().await?;
            if let Some(solution) = solver.solution() {
                // The seal must be over one of the last 3 blocks when it executes (at best + 1).
                if u64::from(best) < solution.block_number.saturating_add(2) {
                    return Ok((solution, solver.stop()));
                }
                return Err(ClientError::Pow("the seal went stale before submission".into()));
            }
            let difficulty = self.difficulty(netuid, Some(hash)).await?;
            solver.update(problem_at(best, hash, difficulty));
            if Instant::now() >= deadline {
                let p = solver.stop();
                return Err(ClientError::Timeout {
                    what: format!(
                        "a seal at difficulty {} after {} hashes",
                        p.difficulty, p.hashes
                    ),
                    seconds: p.elapsed.as_secs(),
                });
            }
            if last_report.elapsed() >= Duration::from_secs(1) {
                last_report = Instant::now();
                report(PowEvent::Progress(solver.progress()));
            }
        }
    }
}
