//! The inference engine: one thread owns the model (tch tensors are not `Sync`) and serves
//! every request, batching concurrent next-token requests dynamically.
//!
//! Requests arrive on a bounded channel. When the thread picks one up, it takes every request
//! already queued (those that arrived during the previous pass) and waits at most
//! [`EngineConfig::batch_wait`] (default 0) for more, up to [`EngineConfig::max_batch_rows`] rows, then
//! drops requests whose deadline has passed (their callers get [`MinerError::Deadline`] without
//! the model running), merges the next-token rows of equal length into one forward pass (the
//! validators' hot path), and runs the other kinds one by one. A full queue is refused at once
//! ([`MinerError::Busy`]) instead of growing without bound.
//!
//! Grid generations ([`Request::Grid`]) arrive already batched (by [`crate::grid::Batcher`]):
//! one request holds equal-length prompts decoded together with one key/value cache.

use crate::{MinerError, Result};
use std::sync::{
    atomic::{AtomicU64, Ordering},
    mpsc, Arc,
};
use std::time::{Duration, Instant};
use subtensor_model::{GenerateParams, GridOutput, GridRequest, LanguageModel, TokenTopk};
use tokio::sync::oneshot;

/// Engine settings.
#[derive(Clone, Copy, Debug)]
pub struct EngineConfig {
    /// Most rows in one merged forward pass.
    pub max_batch_rows: usize,
    /// How long the thread waits for more requests after the first before running a batch.
    pub batch_wait: Duration,
    /// Requests queued before new ones are refused.
    pub queue: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { max_batch_rows: 32, batch_wait: Duration::ZERO, queue: 256 }
    }
}

/// What to compute. Token ids are the model's own.
#[derive(Clone, Debug)]
pub enum Request {
    /// The top-k next tokens after each row (rows may differ in length).
    Next {
        /// Input rows.
        rows: Vec<Vec<u32>>,
        /// How many tokens per row.
        topk: usize,
    },
    /// The top-k tokens at every position of each row (rows of equal length).
    Positions {
        /// Input rows.
        rows: Vec<Vec<u32>>,
        /// How many tokens per position.
        topk: usize,
    },
    /// The last hidden states of each row (rows of equal length).
    Hidden {
        /// Input rows.
        rows: Vec<Vec<u32>>,
    },
    /// A continuation of each prompt.
    Generate {
        /// Prompts.
        prompts: Vec<Vec<u32>>,
        /// Sampling parameters.
        params: GenerateParams,
    },
    /// Grid generations of equal-length prompts, decoded together
    /// ([`LanguageModel::generate_grid_batch`]).
    Grid {
        /// Prompts, all of one length.
        prompts: Vec<Vec<u32>>,
        /// One grid request per prompt.
        reqs: Vec<GridRequest>,
    },
}

/// What was computed, in the order of the request's rows.
#[derive(Clone, Debug)]
pub enum Answer {
    /// For [`Request::Next`].
    Next(Vec<TokenTopk>),
    /// For [`Request::Positions`]: `[row][position]`.
    Positions(Vec<Vec<TokenTopk>>),
    /// For [`Request::Hidden`]: row-major values and their `[B, T, C]` shape.
    Hidden {
        /// The values.
        values: Vec<f32>,
        /// `[B, T, C]`.
        dims: [usize; 3],
    },
    /// For [`Request::Generate`]: the new tokens of each prompt.
    Generate(Vec<Vec<u32>>),
    /// For [`Request::Grid`]: each prompt's output, and when decoding started (the outputs'
    /// `token_times` count from about then).
    Grid {
        /// One output per prompt.
        outputs: Vec<GridOutput>,
        /// When the inference thread started decoding.
        started: Instant,
    },
}

struct Job {
    request: Request,
    deadline: Instant,
    reply: oneshot::Sender<Result<Answer>>,
}

/// Counters of what the engine did.
#[derive(Debug, Default)]
pub struct EngineStats {
    /// Requests answered.
    pub served: AtomicU64,
    /// Requests dropped because their deadline passed in the queue.
    pub expired: AtomicU64,
    /// Requests whose computation failed.
    pub failed: AtomicU64,
    /// Forward passes of merged next-token rows.
    pub merged_passes: AtomicU64,
    /// Rows computed in merged passes.
    pub merged_rows: AtomicU64,
}

/// What the engine's model is, read once it is loaded.
#[derive(Clone, Copy, Debug)]
struct ModelInfo {
    vocab_size: usize,
    n_positions: usize,
    eos_token_id: Option<u32>,
}

/// A handle to the engine thread. Cheap to clone; the thread stops when every handle is gone.
#[derive(Clone)]
pub struct Engine {
    tx: mpsc::SyncSender<Job>,
    stats: Arc<EngineStats>,
    info: ModelInfo,
}

impl Engine {
    /// Starts the engine thread, which builds its model with `load` (so device state stays on
    /// that thread); returns once the model is loaded, or with the loading error.
    pub fn start<F>(load: F, config: EngineConfig) -> Result<Self>
    where
        F: FnOnce() -> subtensor_model::Result<LanguageModel> + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel::<Job>(config.queue.max(1));
        let (ready_tx, ready_rx) = mpsc::channel::<Result<ModelInfo>>();
        let stats = Arc::new(EngineStats::default());
        let thread_stats = stats.clone();
        std::thread::Builder::new()
            .name("inference".to_owned())
            .spawn(move || {
                let model = match load() {
                    Ok(model) => model,
                    Err(e) => {
                        let _ = ready_tx.send(Err(MinerError::Model(e)));
                        return;
                    }
                };
                let warm = Instant::now();
                warm_up(&model);
                tracing::debug!(target: "miner", "model warmed up in {:?}", warm.elapsed());
                let info = ModelInfo {
                    vocab_size: usize::try_from(model.config().vocab_size).unwrap_or(0),
                    n_positions: usize::try_from(model.config().n_positions).unwrap_or(0),
                    eos_token_id: model.eos_token_id(),
                };
                let _ = ready_tx.send(Ok(info));
                run(&model, &rx, config, &thread_stats);
            })
            .map_err(|e| MinerError::Engine(format!("cannot start the inference thread: {e}")))?;
        let info = ready_rx
            .recv()
            .map_err(|_| MinerError::Engine("the inference thread died while loading".into()))??;
        Ok(Self { tx, stats, info })
    }

    /// The model's vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.info.vocab_size
    }

    /// The model's context length (`n_positions`).
    pub fn n_positions(&self) -> usize {
        self.info.n_positions
    }

    /// The model's end-of-text token id (`eos_token_id` of its `config.json`), if any.
    pub fn eos_token_id(&self) -> Option<u32> {
        self.info.eos_token_id
    }

    /// What the engine did so far.
    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    /// Queues `request`, to be computed before `deadline`, and waits for the answer.
    pub async fn run(&self, request: Request, deadline: Instant) -> Result<Answer> {
        // Checked here so that one caller's bad row never fails a pass merged with others.
        check_ids(&request, self.info.vocab_size)?;
        let (reply, answer) = oneshot::channel();
        self.tx.try_send(Job { request, deadline, reply }).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => MinerError::Busy,
            mpsc::TrySendError::Disconnected(_) => {
                MinerError::Engine("the inference thread has stopped".into())
            }
        })?;
        answer
            .await
            .map_err(|_| MinerError::Engine("the inference thread dropped a request".into()))?
    }
}

/// Refuses token ids outside the model's vocabulary.
fn check_ids(request: &Request, vocab: usize) -> Result<()> {
    let rows = match request {
        Request::Next { rows, .. } | Request::Positions { rows, .. } | Request::Hidden { rows } => {
            rows
        }
        Request::Generate { prompts, .. } | Request::Grid { prompts, .. } => prompts,
    };
    match rows.iter().flatten().find(|&&id| usize::try_from(id).map_or(true, |id| id >= vocab)) {
        Some(bad) => Err(MinerError::Request(format!(
            "token id {bad} is outside the model's vocabulary of {vocab} tokens"
        ))),
        None => Ok(()),
    }
}

/// Runs the model once on a short prompt (a cached grid generation of a few tokens: a full
/// pass, then single-token steps) before the miner announces itself, so that libtorch's
/// one-off costs (thread pool, allocator, kernel selection) are not paid by the first
/// request, whose time a validator scores. Errors are ignored: a model that cannot do this
/// fails the real request with its reason.
fn warm_up(model: &LanguageModel) {
    let window = usize::try_from(model.config().n_positions).unwrap_or(0);
    let prompt_len = window.saturating_sub(4).clamp(1, 8);
    if window < prompt_len.saturating_add(2) {
        return;
    }
    let request = GridRequest {
        sampling: subtensor_model::GridSampling::default(),
        seed: 0,
        max_new_tokens: (window - prompt_len).min(4),
        eos_id: None,
    };
    let _ = model.generate_grid(&vec![0; prompt_len], &request);
}

/// Takes the first job (blocking), then more until the batch is full or `batch_wait` passed.
fn gather(rx: &mpsc::Receiver<Job>, config: EngineConfig) -> Option<Vec<Job>> {
    let first = rx.recv().ok()?;
    let mut rows = rows_of(&first.request);
    let mut jobs = vec![first];
    let until = Instant::now().checked_add(config.batch_wait).unwrap_or_else(Instant::now);
    while rows < config.max_batch_rows {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(job) => {
                rows = rows.saturating_add(rows_of(&job.request));
                jobs.push(job);
            }
            Err(_) => break,
        }
    }
    Some(jobs)
}

fn rows_of(request: &Request) -> usize {
    match request {
        Request::Next { rows, .. } | Request::Positions { rows, .. } | Request::Hidden { rows } => {
            rows.len()
        }
        Request::Generate { prompts, .. } | Request::Grid { prompts, .. } => prompts.len(),
    }
}

fn run(model: &LanguageModel, rx: &mpsc::Receiver<Job>, config: EngineConfig, stats: &EngineStats) {
    while let Some(jobs) = gather(rx, config) {
        let now = Instant::now();
        let (live, expired): (Vec<Job>, Vec<Job>) =
            jobs.into_iter().partition(|j| j.deadline > now);
        for job in expired {
            stats.expired.fetch_add(1, Ordering::Relaxed);
            let _ = job.reply.send(Err(MinerError::Deadline));
        }
        let (next, other): (Vec<Job>, Vec<Job>) =
            live.into_iter().partition(|j| matches!(j.request, Request::Next { .. }));
        run_next_merged(model, next, config.max_batch_rows, stats);
        for job in other {
            // The caller may have been answered (408) or gone while earlier jobs ran.
            if job.reply.is_closed() || job.deadline <= Instant::now() {
                stats.expired.fetch_add(1, Ordering::Relaxed);
                let _ = job.reply.send(Err(MinerError::Deadline));
                continue;
            }
            let answer = compute(model, &job.request, job.deadline);
            finish(job, answer, stats);
        }
    }
}

fn finish(job: Job, answer: Result<Answer>, stats: &EngineStats) {
    let counter = if answer.is_ok() { &stats.served } else { &stats.failed };
    counter.fetch_add(1, Ordering::Relaxed);
    let _ = job.reply.send(answer);
}

/// Runs every row of the next-token `jobs`, merging rows of equal length into passes of at
/// most `max_rows`, and answers each job with its own rows cut to its own `topk`.
fn run_next_merged(model: &LanguageModel, jobs: Vec<Job>, max_rows: usize, stats: &EngineStats) {
    // (job index, row index, tokens) grouped by length; BTreeMap keeps the order stable.
    let mut by_len: std::collections::BTreeMap<usize, Vec<(usize, usize)>> = Default::default();
    let mut results: Vec<Vec<Option<TokenTopk>>> = Vec::with_capacity(jobs.len());
    let mut errors: Vec<Option<MinerError>> = Vec::with_capacity(jobs.len());
    let mut max_k = 1usize;
    for (j, job) in jobs.iter().enumerate() {
        if let Request::Next { rows, topk } = &job.request {
            max_k = max_k.max(*topk);
            results.push(vec![None; rows.len()]);
            for (r, row) in rows.iter().enumerate() {
                by_len.entry(row.len()).or_default().push((j, r));
            }
        } else {
            results.push(Vec::new());
        }
        errors.push(None);
    }
    for refs in by_len.values() {
        for chunk in refs.chunks(max_rows.max(1)) {
            let rows: Vec<Vec<u32>> = chunk
                .iter()
                .filter_map(|&(j, r)| match jobs.get(j).map(|job| &job.request) {
                    Some(Request::Next { rows, .. }) => rows.get(r).cloned(),
                    _ => None,
                })
                .collect();
            stats.merged_passes.fetch_add(1, Ordering::Relaxed);
            stats.merged_rows.fetch_add(rows.len() as u64, Ordering::Relaxed);
            match model.next_token_topk(&rows, max_k) {
                Ok(out) => {
                    for (&(j, r), topk) in chunk.iter().zip(out) {
                        if let Some(slot) = results.get_mut(j).and_then(|v| v.get_mut(r)) {
                            *slot = Some(topk);
                        }
                    }
                }
                Err(e) => {
                    for &(j, _) in chunk {
                        if let Some(slot) = errors.get_mut(j) {
                            *slot = Some(MinerError::Engine(e.to_string()));
                        }
                    }
                }
            }
        }
    }
    for ((job, rows), error) in jobs.into_iter().zip(results).zip(errors) {
        let Request::Next { topk, .. } = job.request else { continue };
        let answer = match error {
            Some(e) => Err(e),
            None => rows
                .into_iter()
                .map(|row| {
                    row.map(|mut t| {
                        t.ids.truncate(topk);
                        t.probs.truncate(topk);
                        t
                    })
                    .ok_or_else(|| MinerError::Engine("a row was not computed".into()))
                })
                .collect::<Result<Vec<_>>>()
                .map(Answer::Next),
        };
        finish(job, answer, stats);
    }
}

/// Computes one request; generation checks `deadline` between prompts.
fn compute(model: &LanguageModel, request: &Request, deadline: Instant) -> Result<Answer> {
    Ok(match request {
        Request::Next { rows, topk } => Answer::Next(model.next_token_topk(rows, *topk)?),
        Request::Positions { rows, topk } => Answer::Positions(model.position_topk(rows, *topk)?),
        Request::Hidden { rows } => {
            let hidden = model.hidden_states(rows)?;
            let size = hidden.size();
            let dims = match size[..] {
                [b, t, c] => [b, t, c].map(|d| usize::try_from(d).unwrap_or(0)),
                _ => return Err(MinerError::Engine(format!("hidden states of shape {size:?}"))),
            };
            let values = Vec::<f32>::try_from(hidden.flatten(0, -1))
                .map_err(|e| MinerError::Engine(format!("reading hidden states: {e}")))?;
            Answer::Hidden { values, dims }
        }
        Request::Generate { prompts, params } => {
            let mut out = Vec::with_capacity(prompts.len());
            for prompt in prompts {
                if Instant::now() >= deadline {
                    return Err(MinerError::Deadline);
                }
                out.push(model.generate(prompt, params)?);
            }
            Answer::Generate(out)
        }
        Request::Grid { prompts, reqs } => {
            let started = Instant::now();
            let outputs = model.generate_grid_batch(prompts, reqs)?;
            Answer::Grid { outputs, started }
        }
    })
}
