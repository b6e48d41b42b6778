//! Grid mode (`stminer --grid`, issue 13): serving `GridGenerate` for a grid subnet.
//!
//! * [`check_grid_spec`]: the start-up check that the local model is the one the subnet's
//!   grid spec names and that this miner implements the spec's sampler version.
//! * [`GridLimits`]: the request limits (the spec's, and the model's context).
//! * [`Batcher`]: collects concurrent grid requests for a short window, groups them by prompt
//!   length and hands each group to the engine as one batched decoding.

use crate::{
    engine::{Answer, Engine, Request},
    MinerError, Result,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use subtensor_client::primitives::GridSpec;
use subtensor_model::{GridOutput, GridRequest};
use tokio::sync::{mpsc, oneshot};

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks that a subnet's grid `spec` names the model whose digest
/// (`subtensor_model::grid::model_digest`) is `digest` and the grid sampler version
/// `sampler_version` (this miner's: `GRID_SAMPLER_VERSION`). The errors print both digests,
/// or both versions.
pub fn check_grid_spec(spec: &GridSpec, digest: &[u8; 32], sampler_version: u32) -> Result<()> {
    if spec.model_sha256 != *digest {
        return Err(MinerError::Config(format!(
            "the model is not the subnet's grid model: the grid spec names {} ({}), the model \
             directory's digest is {}",
            hex(&spec.model_sha256),
            String::from_utf8_lossy(&spec.model_name),
            hex(digest)
        )));
    }
    if spec.sampler_version != sampler_version {
        return Err(MinerError::Config(format!(
            "the subnet's grid spec uses grid sampler version {}; this miner implements version \
             {sampler_version}",
            spec.sampler_version
        )));
    }
    Ok(())
}

/// The limits a grid request must respect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridLimits {
    /// Most new tokens per request (the spec's `max_new_tokens`).
    pub max_new_tokens: usize,
    /// Most prompt plus new tokens per request (the spec's `max_context`).
    pub max_context: usize,
    /// The model's context (`n_positions`): prompt plus new tokens must fit it as well.
    pub n_positions: usize,
}

impl GridLimits {
    /// The limits of `spec` for a model of context `n_positions`.
    pub fn of_spec(spec: &GridSpec, n_positions: usize) -> Self {
        let widen = |v: u32| usize::try_from(v).unwrap_or(usize::MAX);
        Self {
            max_new_tokens: widen(spec.max_new_tokens),
            max_context: widen(spec.max_context),
            n_positions,
        }
    }

    /// The limits of a model of context `n_positions` alone (an offline miner: no spec);
    /// `max_new_tokens` at most `cap` and below the context.
    pub fn of_model(n_positions: usize, cap: usize) -> Self {
        Self {
            max_new_tokens: cap.min(n_positions.saturating_sub(1)),
            max_context: n_positions,
            n_positions,
        }
    }

    /// Refuses a request of `prompt_len` prompt tokens and `max_new_tokens` new ones beyond
    /// the limits.
    pub fn check(&self, prompt_len: usize, max_new_tokens: usize) -> Result<()> {
        if max_new_tokens > self.max_new_tokens {
            return Err(MinerError::Request(format!(
                "max_new_tokens {max_new_tokens} exceeds the grid's limit of {}",
                self.max_new_tokens
            )));
        }
        let total = prompt_len.saturating_add(max_new_tokens);
        if total > self.max_context {
            return Err(MinerError::Request(format!(
                "prompt of {prompt_len} tokens plus {max_new_tokens} new tokens exceeds the \
                 grid's context of {}",
                self.max_context
            )));
        }
        if total > self.n_positions {
            return Err(MinerError::Request(format!(
                "prompt of {prompt_len} tokens plus {max_new_tokens} new tokens exceeds the \
                 model's context of {}",
                self.n_positions
            )));
        }
        Ok(())
    }
}

/// Settings of the [`Batcher`].
#[derive(Clone, Copy, Debug)]
pub struct BatcherConfig {
    /// Most requests decoded together (1: no batching).
    pub max_batch: usize,
    /// How long the batcher waits for more requests after the first.
    pub wait: Duration,
    /// Requests queued before new ones are refused ([`MinerError::Busy`]).
    pub queue: usize,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        Self { max_batch: 4, wait: Duration::from_millis(5), queue: 256 }
    }
}

/// One queued grid request.
struct Job {
    prompt: Vec<u32>,
    req: GridRequest,
    deadline: Instant,
    reply: oneshot::Sender<Result<(GridOutput, Instant)>>,
}

/// A handle to the grid batcher task. Cheap to clone; the task ends when every handle is gone.
///
/// The task takes the first queued request, then more until [`BatcherConfig::max_batch`] are
/// collected or [`BatcherConfig::wait`] has passed (requests already queued join at once),
/// drops those whose caller is gone or whose deadline passed, groups the rest by prompt
/// length and runs each group on the engine as one [`Request::Grid`], answering every caller
/// with its own output. Requests arriving meanwhile queue up for the next round.
#[derive(Clone)]
pub struct Batcher {
    tx: mpsc::Sender<Job>,
}

impl Batcher {
    /// Starts the batcher task on the current tokio runtime (an error outside one), feeding
    /// `engine`.
    pub fn start(engine: Engine, config: BatcherConfig) -> Result<Self> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| MinerError::Engine(format!("the grid batcher needs a runtime: {e}")))?;
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        runtime.spawn(run(engine, rx, config));
        Ok(Self { tx })
    }

    /// Queues one grid generation of `prompt` (model ids) under `req`, to be computed before
    /// `deadline`, and waits for its output and the instant decoding started.
    pub async fn generate(
        &self,
        prompt: Vec<u32>,
        req: GridRequest,
        deadline: Instant,
    ) -> Result<(GridOutput, Instant)> {
        let (reply, answer) = oneshot::channel();
        self.tx.try_send(Job { prompt, req, deadline, reply }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => MinerError::Busy,
            mpsc::error::TrySendError::Closed(_) => {
                MinerError::Engine("the grid batcher has stopped".into())
            }
        })?;
        answer.await.map_err(|_| MinerError::Engine("the grid batcher dropped a request".into()))?
    }
}

/// The batcher task: rounds of [`collect`] and [`run_group`] until every handle is gone.
async fn run(engine: Engine, mut rx: mpsc::Receiver<Job>, config: BatcherConfig) {
    while let Some(jobs) = collect(&mut rx, config).await {
        let now = Instant::now();
        let mut groups: BTreeMap<usize, Vec<Job>> = BTreeMap::new();
        for job in jobs {
            if job.reply.is_closed() {
                continue;
            }
            if job.deadline <= now {
                let _ = job.reply.send(Err(MinerError::Deadline));
                continue;
            }
            groups.entry(job.prompt.len()).or_default().push(job);
        }
        for group in groups.into_values() {
            run_group(&engine, group).await;
        }
    }
}

/// Takes the first job (waiting for it), then more until `max_batch` or `wait` has passed.
async fn collect(rx: &mut mpsc::Receiver<Job>, config: BatcherConfig) -> Option<Vec<Job>> {
    let first = rx.recv().await?;
    let mut jobs = vec![first];
    let now = tokio::time::Instant::now();
    let until = now.checked_add(config.wait).unwrap_or(now);
    while jobs.len() < config.max_batch {
        match tokio::time::timeout_at(until, rx.recv()).await {
            Ok(Some(job)) => jobs.push(job),
            Ok(None) | Err(_) => break,
        }
    }
    Some(jobs)
}

/// Decodes one group of equal-length prompts together and answers each job.
async fn run_group(engine: &Engine, group: Vec<Job>) {
    let deadline = group.iter().map(|j| j.deadline).max().unwrap_or_else(Instant::now);
    let (prompts, reqs): (Vec<Vec<u32>>, Vec<GridRequest>) =
        group.iter().map(|j| (j.prompt.clone(), j.req.clone())).unzip();
    let answer = engine.run(Request::Grid { prompts, reqs }, deadline).await;
    match answer {
        Ok(Answer::Grid { outputs, started }) if outputs.len() == group.len() => {
            for (job, output) in group.into_iter().zip(outputs) {
                let _ = job.reply.send(Ok((output, started)));
            }
        }
        Ok(_) => {
            for job in group {
                let _ = job.reply.send(Err(MinerError::Engine("wrong answer kind".into())));
            }
        }
        Err(e) => {
            for job in group {
                let _ = job.reply.send(Err(replicate(&e)));
            }
        }
    }
}

/// The same error for every job of a failed group (the kind kept where the handler cares).
fn replicate(e: &MinerError) -> MinerError {
    match e {
        MinerError::Deadline => MinerError::Deadline,
        MinerError::Busy => MinerError::Busy,
        MinerError::Request(m) => MinerError::Request(m.clone()),
        other => MinerError::Engine(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn spec(digest: [u8; 32], version: u32) -> GridSpec {
        GridSpec {
            model_sha256: digest,
            sampler_version: version,
            max_new_tokens: 16,
            max_context: 40,
            model_name: b"tiny".to_vec().try_into().unwrap(),
        }
    }

    #[test]
    fn the_spec_must_name_this_model_and_sampler() {
        let digest = [7u8; 32];
        check_grid_spec(&spec(digest, 1), &digest, 1).unwrap();
        let err = check_grid_spec(&spec([8u8; 32], 1), &digest, 1).unwrap_err().to_string();
        assert!(err.contains(&"08".repeat(32)), "{err}");
        assert!(err.contains(&"07".repeat(32)), "{err}");
        assert!(err.contains("tiny"), "{err}");
        let err = check_grid_spec(&spec(digest, 2), &digest, 1).unwrap_err().to_string();
        assert!(err.contains("version 2") && err.contains("version 1"), "{err}");
    }

    #[test]
    fn limits_come_from_the_spec_and_the_model() {
        let limits = GridLimits::of_spec(&spec([1; 32], 1), 48);
        assert_eq!(limits, GridLimits { max_new_tokens: 16, max_context: 40, n_positions: 48 });
        limits.check(24, 16).unwrap();
        limits.check(1, 1).unwrap();
        assert!(limits.check(1, 17).is_err(), "above max_new_tokens");
        assert!(limits.check(25, 16).is_err(), "above the spec's context");
        let small_model = GridLimits::of_spec(&spec([1; 32], 1), 32);
        let err = small_model.check(20, 16).unwrap_err().to_string();
        assert!(err.contains("model's context of 32"), "{err}");
        let offline = GridLimits::of_model(48, 1024);
        assert_eq!(offline, GridLimits { max_new_tokens: 47, max_context: 48, n_positions: 48 });
        assert_eq!(GridLimits::of_model(4096, 1024).max_new_tokens, 1024);
    }
}
