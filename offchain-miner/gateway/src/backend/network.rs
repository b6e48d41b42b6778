//! [`NetworkBackend`]: generations served by miners through the dendrite, routed by the
//! latency map.
//!
//! * Heterogeneous subnets (model id `subnet-N`): `TextSeq2Seq`, the prompt encoded with the
//!   network's standard tokenizer, the generated ids decoded with it and cut at its
//!   end-of-text token. `temperature` 0 becomes `topk` 1 (greedy); otherwise `topk` 50,
//!   `no_repeat_ngram_size` 0, no repetition penalty.
//! * Grid subnets (model id = the grid spec's model name): `GridGenerate` in the grid model's
//!   own ids, with the request's seed (random when absent), `temperature`, `top_p`, `top_k` 0.
//!
//! Every grid answer is verified with the grid model before it is used (the validator's
//! [`GridVerifier`]: token margins against the seed's noise, log-probability claims, length
//! and end of sequence); a rejected answer counts as a failure in the latency map and brings
//! in the backup. Every grid call's outcome (verified with its tokens per second, rejected,
//! failed) also goes to the [`OrganicLog`] for the validator's scores (organic scoring).
//!
//! Miners answer whole generations. A non-streaming request goes to [`NetworkConfig::fan_out`]
//! routed miners at once (two by default) and takes the first good answer, or, with a
//! [`NetworkConfig::reference`] model on a heterogeneous subnet, waits for all of them and
//! takes the answer the reference finds most likely ([`crate::rank`]). A streaming one goes to
//! the routed miner and is hedged to the backup after the primary's hedge delay (unless
//! [`NetworkConfig::hedge`] is off). A failure brings the backup in at once; when every
//! miner asked has failed, up to [`RETRIES`] (8) more, drawn by the same weights, are tried in
//! turn before the deadline. Every call runs
//! to its own end in the background, so every outcome (answer, unusable answer, error,
//! timeout) lands in the latency map, the losers' included.

use super::{Backend, Directory, GenerateRequest, Generation, Subnet, SubnetKind};
use crate::openai::Sampling;
use crate::{
    error::GatewayError,
    gate::GateRouter,
    latency::{now_ms, LatencyMap, OutcomeKind},
    organic::{Judged, OrganicLog, OrganicOutcome},
    rank::{best, Reference},
    route::{Candidate, RoutePolicy},
    student::Student,
    Result,
};
use std::{path::Path, sync::Arc, time::Duration};
use subtensor_axon::{
    synapse::{
        GenerationParams, GridAnswer, GridParams, MAX_GENERATE, MAX_GRID_NEW_TOKENS, MAX_SEQ_LEN,
    },
    AxonTarget, Dendrite, GridGenerate, TextSeq2Seq,
};
use subtensor_model::{GptConfig, GridTolerance, LanguageModel, TextTokenizer};
use subtensor_validator::grid::{step::tokens_per_sec, GridVerifier};
use tokio::{sync::mpsc, time::Instant};

/// Further miners tried, one at a time, when every miner asked for a request has failed (a
/// miner that does not serve the synapse at all fails in a millisecond, and a subnet may have
/// many of them).
const RETRIES: usize = 8;

/// The grid model the gateway knows (`--grid-model DIR`): its tokenizer, its context and the
/// model itself, which verifies every grid answer before it reaches a user.
#[derive(Clone)]
pub struct GridModel {
    /// The directory's name (the model id offline, where there is no grid spec).
    pub name: String,
    /// The model's own tokenizer.
    pub tokenizer: TextTokenizer,
    /// The model's context (`n_positions`).
    pub n_positions: u32,
    /// The model digest (`subtensor_model::grid::model_digest`).
    pub digest: [u8; 32],
    /// The validator's verifier over the model (CPU), shared by concurrent calls.
    pub verifier: Arc<parking_lot::Mutex<GridVerifier>>,
}

impl std::fmt::Debug for GridModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GridModel")
            .field("name", &self.name)
            .field("n_positions", &self.n_positions)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

impl GridModel {
    /// Loads the model in `dir` (on the CPU, for verification) with its tokenizer and config,
    /// and computes its digest.
    pub fn load(dir: &Path) -> Result<Self> {
        let tokenizer = TextTokenizer::load(&dir.join(subtensor_model::TOKENIZER_FILE))?;
        let (config, _) = GptConfig::load_hf(&dir.join(subtensor_model::CONFIG_FILE))?;
        let n_positions = u32::try_from(config.n_positions).unwrap_or(u32::MAX);
        let digest = subtensor_model::grid::model_digest(dir)?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "grid-model".to_owned());
        let model = LanguageModel::load(dir, subtensor_model::Device::Cpu)?;
        let verifier = GridVerifier::new(model, GridTolerance::default())
            .map_err(|e| GatewayError::Config(e.to_string()))?;
        Ok(Self {
            name,
            tokenizer,
            n_positions,
            digest,
            verifier: Arc::new(parking_lot::Mutex::new(verifier)),
        })
    }

    /// The subnet kind of this model without a grid spec (offline): the model's own limits.
    pub fn offline_kind(&self) -> SubnetKind {
        SubnetKind::Grid {
            model: self.name.clone(),
            max_new_tokens: MAX_GRID_NEW_TOKENS.min(self.n_positions.saturating_sub(1)).max(1),
            max_context: self.n_positions,
        }
    }
}

/// The `TextSeq2Seq` request the gateway sends for `prompt` (from the request field `field`)
/// with `sampling` on a heterogeneous subnet, and the prompt's ids in the standard
/// `tokenizer`; a prompt or `max_tokens` beyond the synapse's limits is an
/// [`GatewayError::InvalidField`] naming the field. `temperature` 0 becomes `topk` 1.
pub fn seq2seq_request(
    tokenizer: &TextTokenizer,
    prompt: &str,
    field: &'static str,
    s: &Sampling,
) -> Result<(TextSeq2Seq, Vec<u32>)> {
    let ids = tokenizer.encode(prompt)?;
    if ids.is_empty() {
        return Err(GatewayError::field(field, "the prompt is empty"));
    }
    if ids.len() > MAX_SEQ_LEN {
        return Err(GatewayError::field(
            field,
            format!("the prompt is {} tokens; at most {MAX_SEQ_LEN} fit", ids.len()),
        ));
    }
    if s.max_tokens > MAX_GENERATE {
        return Err(GatewayError::field(
            "max_tokens",
            format!("max_tokens {} is above {MAX_GENERATE} on this model", s.max_tokens),
        ));
    }
    let greedy = s.temperature <= 0.0;
    let params = GenerationParams {
        topk: if greedy { 1 } else { 50 },
        num_to_generate: s.max_tokens,
        num_beams: 1,
        no_repeat_ngram_size: 0,
        top_p: s.top_p,
        temperature: if greedy { 1.0 } else { s.temperature },
        repetition_penalty: 1.0,
        seed: s.seed.unwrap_or_else(rand::random),
    };
    let synapse = TextSeq2Seq::request(std::slice::from_ref(&ids), &params)
        .map_err(|e| GatewayError::field(field, e.to_string()))?;
    Ok((synapse, ids))
}

/// Settings of a [`NetworkBackend`].
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// Deadline of each miner call, and the hard deadline for the first token.
    pub timeout: Duration,
    /// The routing policy.
    pub policy: RoutePolicy,
    /// Miners asked at once for a non-streaming request (1..=3).
    pub fan_out: usize,
    /// Hedge a slow primary to the backup after its hedge delay (`--no-hedge` turns it off;
    /// a failure still brings the backup in).
    pub hedge: bool,
    /// Ranks the answers of a non-streaming request to a heterogeneous subnet.
    pub reference: Option<Reference>,
    /// Answers requests to heterogeneous subnets that no miner could answer.
    pub student: Option<Student>,
    /// Restricts routing on heterogeneous subnets to the gate's choice (`--gate-file`).
    pub gate: Option<GateRouter>,
}

/// Most miners one request fans out to.
pub const MAX_FAN_OUT: usize = 3;

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            policy: RoutePolicy::default(),
            fan_out: 2,
            hedge: true,
            reference: None,
            student: None,
            gate: None,
        }
    }
}

/// The network backend over a [`Directory`].
pub struct NetworkBackend<D> {
    directory: D,
    dendrite: Dendrite,
    standard: Option<Arc<TextTokenizer>>,
    grid: Option<Arc<GridModel>>,
    map: LatencyMap,
    config: NetworkConfig,
    organic: OrganicLog,
}

/// A request in synapse form.
#[derive(Clone, Debug)]
enum Job {
    Seq(TextSeq2Seq),
    Grid(GridGenerate),
}

/// A usable answer.
#[derive(Clone, Debug)]
struct Decoded {
    text: String,
    ids: Vec<u32>,
    tokens: usize,
    stopped: bool,
    /// Grid answers: tokens generated (the end-of-sequence token included when it ended the
    /// generation) over the round trip, as the validator measures its challenges.
    tokens_per_sec: Option<f64>,
}

/// Everything one miner call needs.
#[derive(Clone)]
struct CallCtx {
    dendrite: Dendrite,
    map: LatencyMap,
    tokenizer: Arc<TextTokenizer>,
    netuid: u16,
    deadline: Instant,
    /// The grid model that verifies grid answers.
    grid: Option<Arc<GridModel>>,
    /// Where grid calls' verdicts go.
    organic: OrganicLog,
}

type Outcome = (u16, std::result::Result<Decoded, String>);

impl CallCtx {
    /// Calls one miner, records the outcome in the latency map, and reports it on `tx`.
    fn launch(&self, uid: u16, target: AxonTarget, job: Job, tx: mpsc::Sender<Outcome>) {
        let ctx = self.clone();
        let grid = matches!(job, Job::Grid(_));
        tokio::spawn(async move {
            let _guard = ctx.map.start(ctx.netuid, uid, &target.hotkey);
            let started = Instant::now();
            let result = ctx.call(&target, job).await;
            if grid {
                ctx.organic.push(judged(ctx.netuid, uid, &target.hotkey, &result));
            }
            let elapsed = started.elapsed();
            let (kind, tokens) = match &result {
                Ok(d) => (OutcomeKind::Success, d.tokens),
                Err(Failure::Unusable(_)) => (OutcomeKind::Partial, 0),
                Err(Failure::Call(_) | Failure::Rejected(_)) => (OutcomeKind::Failure, 0),
            };
            ctx.map.record(ctx.netuid, uid, &target.hotkey, kind, elapsed, tokens);
            if let Err(e) = &result {
                tracing::debug!("subnet {} uid {uid}: {e}", ctx.netuid);
            }
            let _ = tx.send((uid, result.map_err(|e| e.to_string()))).await;
        });
    }

    async fn call(&self, target: &AxonTarget, job: Job) -> std::result::Result<Decoded, Failure> {
        let deadline = self.deadline.into_std();
        let mut speed = None;
        let (mut ids, mut stopped) = match job {
            Job::Seq(s) => {
                let reply = self.dendrite.call_until(target, &s, deadline).await?;
                let rows = reply.synapse.outputs().map_err(|e| Failure::Unusable(e.to_string()))?;
                (rows.into_iter().next().unwrap_or_default(), false)
            }
            Job::Grid(g) => {
                let reply = self.dendrite.call_until(target, &g, deadline).await?;
                let answer =
                    reply.synapse.outputs().map_err(|e| Failure::Unusable(e.to_string()))?;
                self.verify_grid(&g, &answer).await?;
                speed = Some(tokens_per_sec(&answer, reply.elapsed));
                (answer.tokens, answer.stopped_at_eos)
            }
        };
        if let Some(at) = self.tokenizer.eot_id().and_then(|eot| ids.iter().position(|&t| t == eot))
        {
            ids.truncate(at);
            stopped = true;
        }
        if ids.is_empty() && !stopped {
            return Err(Failure::Unusable("empty generation".to_owned()));
        }
        let text = self.tokenizer.decode(&ids).map_err(|e| Failure::Unusable(e.to_string()))?;
        Ok(Decoded { text, tokens: ids.len(), ids, stopped, tokens_per_sec: speed })
    }
}

impl CallCtx {
    /// Checks a grid `answer` to the request `sent` (ours, not the echoed one) with the grid
    /// model, on a blocking thread: the same judgement as the validator's (token margins,
    /// log-probability claims, length and end of sequence). Without a grid model there is
    /// nothing to check against and the answer passes.
    async fn verify_grid(
        &self,
        sent: &GridGenerate,
        answer: &GridAnswer,
    ) -> std::result::Result<(), Failure> {
        let Some(grid) = self.grid.clone() else { return Ok(()) };
        let (prompt, params, answer) = (sent.prompt.clone(), sent.params(), answer.clone());
        let verdict = tokio::task::spawn_blocking(move || {
            grid.verifier.lock().verify(&prompt, &params, &answer)
        })
        .await
        .map_err(|e| Failure::Unusable(format!("verification did not run: {e}")))?
        .map_err(|e| Failure::Unusable(e.to_string()))?;
        match verdict.accepted {
            true => Ok(()),
            false => Err(Failure::Rejected(verdict.reason.unwrap_or_default())),
        }
    }
}

/// The organic verdict on one grid call's `result`.
fn judged(
    netuid: u16,
    uid: u16,
    hotkey: &str,
    result: &std::result::Result<Decoded, Failure>,
) -> Judged {
    let (outcome, tokens_per_sec, reason) = match result {
        Ok(d) => (OrganicOutcome::Verified, d.tokens_per_sec, None),
        Err(Failure::Rejected(why)) => (OrganicOutcome::Rejected, None, Some(why.clone())),
        Err(e @ (Failure::Call(_) | Failure::Unusable(_))) => {
            (OrganicOutcome::Failed, None, Some(e.to_string()))
        }
    };
    Judged { netuid, uid, hotkey: hotkey.to_owned(), outcome, tokens_per_sec, reason }
}

/// Why one miner call gave nothing usable.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// The call failed (refused, error status, timeout, bad signature …).
    #[error("{0}")]
    Call(#[from] subtensor_axon::AxonError),
    /// The answer arrived but cannot be used.
    #[error("unusable answer: {0}")]
    Unusable(String),
    /// A grid answer failed verification: not the grid model's sample (a cheat).
    #[error("grid answer rejected: {0}")]
    Rejected(String),
}

impl<D: Directory> NetworkBackend<D> {
    /// A backend signing with `dendrite`, with the standard tokenizer for heterogeneous
    /// subnets and the grid model for grid subnets (each optional), recording into `map` (and
    /// grid verdicts into a new [`OrganicLog`] of [`crate::organic::DEFAULT_CAPACITY`]).
    pub fn new(
        directory: D,
        dendrite: Dendrite,
        standard: Option<TextTokenizer>,
        grid: Option<GridModel>,
        map: LatencyMap,
        config: NetworkConfig,
    ) -> Self {
        Self {
            directory,
            dendrite,
            standard: standard.map(Arc::new),
            grid: grid.map(Arc::new),
            map,
            config,
            organic: OrganicLog::default(),
        }
    }

    /// The latency map.
    pub fn latency_map(&self) -> &LatencyMap {
        &self.map
    }

    /// The organic log (grid calls' verdicts).
    pub fn organic_log(&self) -> &OrganicLog {
        &self.organic
    }

    /// The synapse, tokenizer and prompt ids for `req` on `subnet`; limits are checked here.
    fn job(
        &self,
        subnet: &Subnet,
        req: &GenerateRequest,
    ) -> Result<(Job, Arc<TextTokenizer>, Vec<u32>)> {
        let s = &req.sampling;
        let field = req.prompt_field;
        let unavailable = || GatewayError::NoMiner(req.model.clone());
        match &subnet.kind {
            SubnetKind::Seq2Seq => {
                let tokenizer = self.standard.clone().ok_or_else(unavailable)?;
                let (synapse, ids) = seq2seq_request(&tokenizer, &req.prompt, field, s)?;
                Ok((Job::Seq(synapse), tokenizer, ids))
            }
            SubnetKind::Grid { max_new_tokens, max_context, .. } => {
                let grid = self.grid.clone().ok_or_else(unavailable)?;
                let ids = grid.tokenizer.encode(&req.prompt)?;
                if ids.is_empty() {
                    return Err(GatewayError::field(field, "the prompt is empty"));
                }
                if s.max_tokens > *max_new_tokens {
                    return Err(GatewayError::field(
                        "max_tokens",
                        format!(
                            "max_tokens {} is above {max_new_tokens} on this model",
                            s.max_tokens
                        ),
                    ));
                }
                let context = (*max_context).min(grid.n_positions);
                let room = usize::try_from(context.saturating_sub(s.max_tokens)).unwrap_or(0);
                if ids.len() > room {
                    return Err(GatewayError::field(
                        field,
                        format!(
                            "the prompt is {} tokens; with max_tokens {} at most {room} fit the \
                             context of {context}",
                            ids.len(),
                            s.max_tokens
                        ),
                    ));
                }
                let params = GridParams {
                    seed: s.seed.unwrap_or_else(rand::random),
                    temperature: s.temperature,
                    top_k: 0,
                    top_p: s.top_p,
                    max_new_tokens: s.max_tokens,
                };
                let synapse = GridGenerate::request(&ids, &params)
                    .map_err(|e| GatewayError::field(field, e.to_string()))?;
                Ok((Job::Grid(synapse), Arc::new(grid.tokenizer.clone()), ids))
            }
        }
    }

    /// Sends `job` to the routed miners (see the module documentation): until one answers, or
    /// with `gather`, until every miner asked at once has ended (the answers in arrival order).
    async fn race(
        &self,
        subnet: &Subnet,
        job: Job,
        tokenizer: Arc<TextTokenizer>,
        fan_out: bool,
        gather: bool,
        allowed: Option<Vec<u16>>,
    ) -> std::result::Result<Vec<(u16, Decoded)>, Vec<String>> {
        let width = self.config.fan_out.clamp(1, MAX_FAN_OUT);
        let plan = {
            let candidates: Vec<Candidate> = subnet
                .miners
                .iter()
                .filter(|m| allowed.as_ref().is_none_or(|a| a.contains(&m.uid)))
                .map(|m| Candidate {
                    uid: m.uid,
                    incentive: m.incentive,
                    stats: self.map.summary(subnet.netuid, m.uid, &m.target.hotkey),
                })
                .collect();
            let extra = if fan_out { width.saturating_sub(2) } else { 0 };
            self.config.policy.plan_wide(
                &candidates,
                extra.saturating_add(RETRIES),
                now_ms(),
                &mut rand::thread_rng(),
            )
        };
        let Some(plan) = plan else {
            return Err(vec!["every miner is cooling down after repeated failures".to_owned()]);
        };
        let target =
            |uid: u16| subnet.miners.iter().find(|m| m.uid == uid).map(|m| m.target.clone());
        let now = Instant::now();
        let deadline = now.checked_add(self.config.timeout).unwrap_or(now);
        let ctx = CallCtx {
            dendrite: self.dendrite.clone(),
            map: self.map.clone(),
            tokenizer,
            netuid: subnet.netuid,
            deadline,
            grid: self.grid.clone(),
            organic: self.organic.clone(),
        };
        let (tx, mut rx) = mpsc::channel::<Outcome>(4);
        let mut pending = 0usize;
        let launch = |uid: u16| match target(uid) {
            Some(t) => {
                ctx.launch(uid, t, job.clone(), tx.clone());
                true
            }
            None => false,
        };
        if launch(plan.primary) {
            pending = pending.saturating_add(1);
        }
        let mut backup = plan.backup;
        // Miners drawn beyond the fan-out: asked in turn when every miner asked so far failed.
        let fanned = if fan_out { width.saturating_sub(2) } else { 0 };
        let mut retries: std::collections::VecDeque<u16> =
            plan.more.iter().skip(fanned).copied().collect();
        if fan_out && width >= 2 {
            for uid in backup.take().into_iter().chain(plan.more.iter().take(fanned).copied()) {
                if launch(uid) {
                    pending = pending.saturating_add(1);
                }
            }
        }
        let hedge = tokio::time::sleep(plan.hedge_delay);
        tokio::pin!(hedge);
        let hedging = self.config.hedge;
        let mut reasons = Vec::new();
        let mut answers = Vec::new();
        while pending > 0 || (backup.is_some() && answers.is_empty()) {
            tokio::select! {
                got = rx.recv() => match got {
                    Some((uid, Ok(answer))) if !gather => return Ok(vec![(uid, answer)]),
                    Some((uid, Ok(answer))) => {
                        answers.push((uid, answer));
                        pending = pending.saturating_sub(1);
                    }
                    Some((uid, Err(e))) => {
                        reasons.push(format!("uid {uid}: {e}"));
                        pending = pending.saturating_sub(1);
                        if let Some(b) = backup.take() {
                            if launch(b) {
                                pending = pending.saturating_add(1);
                            }
                        } else if pending == 0 && answers.is_empty() {
                            while let Some(next) = retries.pop_front() {
                                if launch(next) {
                                    pending = pending.saturating_add(1);
                                    break;
                                }
                            }
                        }
                    }
                    None => break,
                },
                () = &mut hedge, if hedging && backup.is_some() => {
                    if let Some(b) = backup.take() {
                        tracing::debug!("subnet {}: hedging to uid {b} after {:?}", subnet.netuid, plan.hedge_delay);
                        if launch(b) {
                            pending = pending.saturating_add(1);
                        }
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    reasons.push(format!("no answer within {:?}", self.config.timeout));
                    break;
                }
            }
        }
        if answers.is_empty() {
            Err(reasons)
        } else {
            Ok(answers)
        }
    }

    /// The uids the gate routes a heterogeneous request with `prompt` to (the fan-out, at
    /// least 2); `None` (every miner) without a gate, on grid subnets, or when the gate fails.
    async fn gated(&self, subnet: &Subnet, prompt: &[u32]) -> Option<Vec<u16>> {
        let router = self.config.gate.as_ref().filter(|_| subnet.kind == SubnetKind::Seq2Seq)?;
        let candidates = subnet.miners.iter().map(|m| (m.uid, m.target.hotkey.clone())).collect();
        let k = self.config.fan_out.clamp(2, MAX_FAN_OUT);
        match router.choose(prompt.to_vec(), candidates, k).await {
            Ok(Some(chosen)) if !chosen.is_empty() => {
                tracing::debug!("subnet {}: the gate routes to {chosen:?}", subnet.netuid);
                Some(chosen)
            }
            Ok(_) => None,
            Err(e) => {
                tracing::warn!("subnet {}: routing without the gate: {e}", subnet.netuid);
                None
            }
        }
    }

    /// The answer to return: the only one, or the one the reference model ranks first (the
    /// first to arrive when scoring fails).
    async fn pick(
        &self,
        netuid: u16,
        prompt: &[u32],
        eot: Option<u32>,
        mut answers: Vec<(u16, Decoded)>,
    ) -> Option<(u16, Decoded)> {
        // An empty answer (the end-of-text token at once) is never preferred to text: its
        // mean log-probability is one token's and can beat any real continuation.
        if answers.iter().any(|(_, d)| d.tokens > 0) {
            answers.retain(|(_, d)| d.tokens > 0);
        }
        let reference = match &self.config.reference {
            Some(r) if answers.len() > 1 => r,
            _ => return answers.into_iter().next(),
        };
        let continuations: Vec<Vec<u32>> = answers
            .iter()
            .map(|(_, d)| d.ids.iter().copied().chain(eot.filter(|_| d.stopped)).collect())
            .collect();
        let chosen = match reference.score(prompt.to_vec(), continuations).await {
            Ok(scores) => {
                let at = best(&scores).unwrap_or(0);
                let table: Vec<String> = answers
                    .iter()
                    .zip(&scores)
                    .map(|((uid, _), s)| match s {
                        Some(s) => format!("uid {uid} {s:.4}"),
                        None => format!("uid {uid} -"),
                    })
                    .collect();
                let winner = answers.get(at).map_or(0, |(uid, _)| *uid);
                tracing::debug!(
                    "subnet {netuid}: reference scores (mean log-prob per token): {}; uid {winner} wins",
                    table.join(", ")
                );
                at
            }
            Err(e) => {
                tracing::warn!("subnet {netuid}: cannot rank the answers: {e}");
                0
            }
        };
        if chosen < answers.len() {
            Some(answers.swap_remove(chosen))
        } else {
            answers.into_iter().next()
        }
    }
}

impl<D: Directory> Backend for NetworkBackend<D> {
    fn models(&self) -> Vec<String> {
        self.directory.subnets().iter().map(Subnet::model_id).collect()
    }

    async fn generate(&self, req: GenerateRequest) -> Result<Generation> {
        let answered = self.generate_by_miners(&req).await;
        let Some(student) = self.config.student.as_ref() else { return answered };
        match answered {
            Err(e @ (GatewayError::NoMiner(_) | GatewayError::MinersFailed { .. })) => {
                let heterogeneous = self
                    .directory
                    .subnets()
                    .iter()
                    .any(|s| s.model_id() == req.model && s.kind == SubnetKind::Seq2Seq);
                if !heterogeneous {
                    return Err(e);
                }
                tracing::warn!("{}: {e}; the student {} answers", req.model, student.name());
                student.generate(&req.prompt, &req.sampling).await
            }
            other => other,
        }
    }

    fn map_json(&self) -> serde_json::Value {
        self.map_view()
    }

    fn organic(&self) -> &OrganicLog {
        &self.organic
    }
}

impl<D: Directory> NetworkBackend<D> {
    /// [`Backend::generate`] by the miners alone.
    async fn generate_by_miners(&self, req: &GenerateRequest) -> Result<Generation> {
        let req = req.clone();
        let subnets = self.directory.subnets();
        let subnet = subnets
            .iter()
            .find(|s| s.model_id() == req.model)
            .ok_or_else(|| GatewayError::UnknownModel(req.model.clone()))?;
        let (job, tokenizer, prompt_ids) = self.job(subnet, &req)?;
        let prompt_tokens = prompt_ids.len();
        if subnet.miners.is_empty() {
            return Err(GatewayError::NoMiner(req.model.clone()));
        }
        let rank = req.fan_out
            && self.config.reference.is_some()
            && subnet.kind == SubnetKind::Seq2Seq
            && self.config.fan_out > 1;
        let eot = tokenizer.eot_id();
        let allowed = self.gated(subnet, &prompt_ids).await;
        let answers = self.race(subnet, job, tokenizer, req.fan_out, rank, allowed).await;
        let picked = match answers {
            Ok(list) => self.pick(subnet.netuid, &prompt_ids, eot, list).await.ok_or_else(Vec::new),
            Err(reasons) => Err(reasons),
        };
        match picked {
            Ok((uid, d)) => {
                tracing::info!(
                    "{}: uid {uid} answered {} tokens{}",
                    req.model,
                    d.tokens,
                    if d.stopped { " (end of text)" } else { "" }
                );
                Ok(Generation {
                    text: d.text,
                    prompt_tokens,
                    completion_tokens: d.tokens,
                    stopped: d.stopped,
                    netuid: subnet.netuid,
                    uid,
                    student: None,
                })
            }
            Err(reasons) => {
                tracing::warn!("{}: no miner answered: {}", req.model, reasons.join("; "));
                Err(GatewayError::MinersFailed { model: req.model, reasons: reasons.join("; ") })
            }
        }
    }

    /// The latency map with each miner's address and incentive, as JSON.
    fn map_view(&self) -> serde_json::Value {
        let subnets = self.directory.subnets();
        let view = self.map.view();
        let out: serde_json::Map<String, serde_json::Value> = view
            .into_iter()
            .map(|(netuid, miners)| {
                let addrs = subnets.iter().find(|s| s.netuid == netuid);
                let miners: serde_json::Map<String, serde_json::Value> = miners
                    .into_iter()
                    .map(|(uid, summary)| {
                        let mut v = serde_json::to_value(&summary).unwrap_or_default();
                        if let (Some(obj), Some(m)) = (
                            v.as_object_mut(),
                            addrs.and_then(|s| s.miners.iter().find(|m| m.uid == uid)),
                        ) {
                            obj.insert("addr".into(), m.target.addr.to_string().into());
                            obj.insert("incentive".into(), m.incentive.into());
                        }
                        (uid.to_string(), v)
                    })
                    .collect();
                (netuid.to_string(), serde_json::Value::Object(miners))
            })
            .collect();
        serde_json::Value::Object(out)
    }
}
