//! One validator step without the chain: the walk's next uids, one random batch, one fan-out,
//! every answer scored and folded into the state.
//!
//! [`run_step`] is the step itself, called by the binary ([`crate::Validator`], with the
//! metagraph's serving axons as targets), by the benchmark (`examples/bench_step.rs`) and by
//! the tests (axons on loopback). The caller supplies the uid → axon map; nothing here reads
//! or writes the chain, and the state is not saved. [`ask`] is its query (one batch to some
//! uids at once), which collection of a distillation buffer
//! ([`crate::distill::collect`]) shares.

use crate::{
    data::{Batch, EvalData},
    report,
    scoring::{evaluate, Observation, ScoringParams},
    state::State,
    Result, ValidatorError,
};
use rand::Rng;
use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};
use subtensor_axon::{AxonError, AxonTarget, Dendrite, Reply, TextCausalLMNext};
use tracing::{debug, info};

/// The step's parameters (from the command line in the binary).
#[derive(Clone, Copy, Debug)]
pub struct StepParams {
    /// Uids queried per step (`--sample-size`).
    pub sample_size: usize,
    /// Rows per query.
    pub batch: usize,
    /// Input tokens per row.
    pub context: usize,
    /// Target tokens per row.
    pub validation_len: usize,
    /// Phrases asked per row.
    pub topk: u32,
    /// The fan-out's deadline, from its start.
    pub timeout: Duration,
    /// The per-uid score update.
    pub scoring: ScoringParams,
    /// Reads the calling thread's CPU time; when given, [`StepReport::scoring_cpu`] is
    /// measured with it (the benchmark passes `CLOCK_THREAD_CPUTIME_ID`, the binary `None`).
    pub thread_cpu: Option<fn() -> Option<Duration>>,
}

/// What one queried uid came to.
#[derive(Debug)]
pub struct UidOutcome {
    /// The uid.
    pub uid: u16,
    /// Its hotkey (SS58), as the targets listed it.
    pub hotkey: String,
    /// The answer's score (or why it failed), as folded into the state.
    pub observation: Observation,
    /// The dendrite's result for this uid.
    pub reply: std::result::Result<Reply<TextCausalLMNext>, AxonError>,
}

/// What one step did.
#[derive(Debug)]
pub struct StepReport {
    /// The uids the sampler handed out, in walk order.
    pub uids: Vec<u16>,
    /// Whether this step finished a walk.
    pub completes_walk: bool,
    /// The batch drawn.
    pub batch: Batch,
    /// The request sent to every uid.
    pub request: TextCausalLMNext,
    /// One per uid queried (the handed-out uids present in the targets), in query order.
    pub outcomes: Vec<UidOutcome>,
    /// Wall time of `Dendrite::fan_out`.
    pub fan_out: Duration,
    /// Wall time of the scoring loop (evaluate, score update and log line for every uid).
    pub scoring: Duration,
    /// CPU time of the scoring loop on its thread, with [`StepParams::thread_cpu`].
    pub scoring_cpu: Option<Duration>,
}

/// One batch asked of some uids at once: what [`ask`] returns.
#[derive(Debug)]
pub struct Asked {
    /// The request sent to every uid.
    pub request: TextCausalLMNext,
    /// Each uid asked, its target and the dendrite's result, in the order given to [`ask`].
    pub replies: Vec<(u16, AxonTarget, std::result::Result<Reply<TextCausalLMNext>, AxonError>)>,
    /// Wall time of `Dendrite::fan_out`.
    pub fan_out: Duration,
}

/// Sends `batch`'s inputs as one `TextCausalLMNext` request for `topk` phrases per row to
/// every one of `targets` at once, within `timeout` (from the start of the fan-out). Fails
/// only when the request cannot be built; each uid's failure is in its reply.
pub async fn ask(
    dendrite: &Dendrite,
    batch: &Batch,
    topk: u32,
    targets: Vec<(u16, AxonTarget)>,
    timeout: Duration,
) -> Result<Asked> {
    let request = TextCausalLMNext::request(&batch.inputs, topk)
        .map_err(|e| ValidatorError::Query(e.to_string()))?;
    let (uids, queried): (Vec<u16>, Vec<AxonTarget>) = targets.into_iter().unzip();
    let started = Instant::now();
    let results = dendrite.fan_out(&queried, &request, timeout).await;
    let fan_out = started.elapsed();
    let replies = uids.into_iter().zip(queried).zip(results).map(|((u, t), r)| (u, t, r)).collect();
    Ok(Asked { request, replies, fan_out })
}

impl StepReport {
    /// Uids whose answer scored a loss.
    pub fn answered(&self) -> usize {
        self.outcomes.iter().filter(|o| !o.observation.is_failure()).count()
    }
}

/// Queries the next `params.sample_size` uids of `state`'s walk among `targets` (uid → axon,
/// the serving miners) with one batch of `data`, scores every answer and folds it into
/// `state`'s scores. Logs each failure and the step's summary (and each score at debug).
/// `Ok(None)` when the sampler hands out no uid (nothing is sampled or sent then).
pub async fn run_step(
    dendrite: &Dendrite,
    data: &EvalData,
    state: &mut State,
    targets: &BTreeMap<u16, AxonTarget>,
    params: &StepParams,
    rng: &mut impl Rng,
) -> Result<Option<StepReport>> {
    let eligible: BTreeSet<u16> = targets.keys().copied().collect();
    let step = state.sampler.next_step(params.sample_size, &eligible, rng);
    if step.uids.is_empty() {
        return Ok(None);
    }
    let batch = data.sample(rng, params.batch, params.context, params.validation_len)?;
    let asked: Vec<(u16, AxonTarget)> =
        step.uids.iter().filter_map(|u| Some((*u, targets.get(u)?.clone()))).collect();
    let started = Instant::now();
    let Asked { request, replies, fan_out } =
        ask(dendrite, &batch, params.topk, asked, params.timeout).await?;
    let cpu_before = params.thread_cpu.and_then(|clock| clock());
    let scoring_started = Instant::now();
    let (mut ok, mut failed) = (0usize, 0usize);
    let mut outcomes = Vec::with_capacity(replies.len());
    for (uid, target, reply) in replies {
        let observation = evaluate(&reply, &request, &batch.targets, data.vocab_size());
        let score = state.score_mut(uid, &target.hotkey);
        score.observe(&observation, &params.scoring);
        match &observation {
            Observation::Loss(loss) => {
                ok = ok.saturating_add(1);
                debug!(uid, loss, ema = score.ema_loss, zeroing = score.zeroing, "answer scored");
            }
            Observation::Failure(reason) => {
                failed = failed.saturating_add(1);
                info!(uid, hotkey = %report::short_hotkey(&target.hotkey), "query failed: {reason}");
            }
        }
        outcomes.push(UidOutcome { uid, hotkey: target.hotkey, observation, reply });
    }
    let scoring = scoring_started.elapsed();
    let cpu_after = params.thread_cpu.and_then(|clock| clock());
    let scoring_cpu = cpu_before.zip(cpu_after).map(|(before, after)| after.saturating_sub(before));
    info!(
        uids = ?step.uids,
        ok,
        failed,
        secs = format!("{:.2}", started.elapsed().as_secs_f64()),
        "step done"
    );
    if step.completes_walk {
        let answered = state.uids.values().filter(|s| s.zeroing > 0.0).count();
        info!(
            "walk {} complete: {} serving miners queried, {answered} with a positive score",
            state.sampler.walks,
            eligible.len()
        );
    }
    Ok(Some(StepReport {
        uids: step.uids,
        completes_walk: step.completes_walk,
        batch,
        request,
        outcomes,
        fan_out,
        scoring,
        scoring_cpu,
    }))
}
