//! Collecting a distillation buffer on purpose (`stvalidator --distill-collect N`).
//!
//! The `--distill-top` miners with the highest incentive ([`top_miners`]) are asked for
//! next-token answers on N random contexts of the corpus's **training** split (the held-out
//! split stays unseen by students), with the validator's own query ([`step::ask`]: one batch of
//! `--batch` rows to every teacher at once) and its own checks of the answers
//! ([`scoring::evaluate`]). Every usable answer becomes one record per context
//! ([`super::outcome_records`]) weighted by the miner's share of the subnet's incentive, so the
//! teacher mixture of a context is incentive-weighted. Each query draws one context length in
//! `--distill-min-context..=--context` (the rows of a query share a length), so the records
//! cover short prompts as well as long ones.
//!
//! [`top_miners`] chooses (pure); [`collect`] asks and writes without the chain (the tests run
//! it against axons on loopback); [`run`] is the mode itself: wallet, chain, data, buffer, and
//! the [`Summary`] the binary prints. Nothing here sets weights or touches the validator's
//! state.

use super::{outcome_records, DistillSink};
use crate::{
    chain::{Chain, SubnetView},
    config::Config,
    data::{EvalData, Split},
    scoring::{evaluate, Observation},
    step::{self, UidOutcome},
    validator::{dendrite_for, load_hotkey, shutdown_signal},
    Result, ValidatorError,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::Serialize;
use std::{
    collections::BTreeMap,
    future::Future,
    net::SocketAddr,
    path::PathBuf,
    time::{Duration, Instant},
};
use subtensor_axon::{AxonTarget, Dendrite};
use tracing::{debug, info, warn};

/// A miner asked for answers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Teacher {
    /// Its uid.
    pub uid: u16,
    /// Its hotkey (SS58).
    pub hotkey: String,
    /// Its axon.
    pub axon: SocketAddr,
    /// Its incentive at the metagraph's block (a share of `u16::MAX`).
    pub incentive: u16,
    /// Its weight in the teacher mixture: the incentive as a fraction, in [0, 1].
    pub weight: f64,
}

impl Teacher {
    /// The teacher at `target` with `incentive`; its weight is `incentive / u16::MAX`.
    pub fn new(uid: u16, target: &AxonTarget, incentive: u16) -> Self {
        Self {
            uid,
            hotkey: target.hotkey.clone(),
            axon: target.addr,
            incentive,
            weight: f64::from(incentive) / f64::from(u16::MAX),
        }
    }

    /// The dendrite's target.
    pub fn target(&self) -> AxonTarget {
        AxonTarget { addr: self.axon, hotkey: self.hotkey.clone() }
    }
}

/// The (up to) `k` miners of `view` to learn from: neurons other than ours that serve a valid
/// axon ([`SubnetView::targets`]) and have a positive incentive, highest incentive first, ties
/// to the lower uid.
pub fn top_miners(view: &SubnetView, k: usize) -> Vec<Teacher> {
    let targets = view.targets();
    let mut ranked: Vec<Teacher> = view
        .neurons
        .iter()
        .filter(|n| n.incentive > 0)
        .filter_map(|n| Some(Teacher::new(n.uid, targets.get(&n.uid)?, n.incentive)))
        .collect();
    ranked.sort_by(|a, b| b.incentive.cmp(&a.incentive).then(a.uid.cmp(&b.uid)));
    ranked.truncate(k);
    ranked
}

/// What a collection asks, and how.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CollectParams {
    /// Contexts to ask (`--distill-collect`).
    pub contexts: usize,
    /// Contexts per query (`--batch`).
    pub batch: usize,
    /// Shortest context (`--distill-min-context`).
    pub min_context: usize,
    /// Longest context (`--context`).
    pub max_context: usize,
    /// Tokens after each context kept as its target (`--validation-len`): the first is the
    /// recorded true next token; all of them check the answer as the validator does.
    pub validation_len: usize,
    /// Phrases asked per context (`--topk`).
    pub topk: u32,
    /// Deadline of each query (`--timeout`).
    pub timeout: Duration,
    /// Pause between two queries (`--step-interval`).
    pub pause: Duration,
}

impl CollectParams {
    /// The parameters of `cfg`'s flags, for `contexts` contexts.
    pub fn from_config(cfg: &Config, contexts: usize) -> Self {
        Self {
            contexts,
            batch: cfg.batch,
            min_context: cfg.distill_min_context(),
            max_context: cfg.context,
            validation_len: cfg.validation_len,
            topk: cfg.topk,
            timeout: cfg.timeout(),
            pause: cfg.step_interval(),
        }
    }
}

/// What a collection did: the counts of the JSON summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Collected {
    /// Contexts asked.
    pub contexts: usize,
    /// Queries sent (each to every teacher at once).
    pub queries: usize,
    /// Records written.
    pub records: usize,
    /// Records written per uid (the contexts it answered usably).
    pub answers: BTreeMap<u16, usize>,
    /// Failed queries per uid (a failed query loses all its contexts for that uid).
    pub failures: BTreeMap<u16, usize>,
    /// Why each failing uid's last failed query failed.
    pub last_failure: BTreeMap<u16, String>,
    /// Each answering uid's mean phrase loss over its usable answers (nats, the validator's
    /// measure against the true continuation).
    pub mean_loss: BTreeMap<u16, f64>,
    /// Whether SIGINT/SIGTERM ended the collection early (what was written stays).
    pub interrupted: bool,
    /// Wall time in seconds.
    pub secs: f64,
}

/// The summary of a `--distill-collect` run (the JSON line `stvalidator` prints).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The subnet.
    pub netuid: u16,
    /// The block of the metagraph the teachers were chosen from.
    pub block: u64,
    /// The buffer directory.
    pub buffer: PathBuf,
    /// The buffer's size afterwards, in bytes.
    pub buffer_bytes: u64,
    /// The miners asked, best first.
    pub teachers: Vec<Teacher>,
    /// What was asked and written.
    #[serde(flatten)]
    pub collected: Collected,
}

/// Logs progress at every tenth of the contexts.
struct Progress {
    total: usize,
    tenths: usize,
    started: Instant,
}

impl Progress {
    fn new(total: usize) -> Self {
        Self { total, tenths: 0, started: Instant::now() }
    }

    fn update(&mut self, done: &Collected) {
        let tenths = done.contexts.saturating_mul(10).checked_div(self.total).unwrap_or(10);
        if tenths <= self.tenths {
            return;
        }
        self.tenths = tenths;
        let secs = self.started.elapsed().as_secs_f64();
        let failed: usize = done.failures.values().sum();
        info!(
            "collected {}/{} contexts ({}%): {} records, {failed} failed queries, {:.1} contexts/s",
            done.contexts,
            self.total,
            tenths.saturating_mul(10),
            done.records,
            if secs > 0.0 { done.contexts as f64 / secs } else { 0.0 },
        );
    }
}

/// Asks `teachers` for answers on `params.contexts` random contexts of `data` (its training
/// split, in the binary), one query of up to `params.batch` contexts at a time, and appends
/// one record per context and usable answer to `sink`, weighted by the teacher's
/// [`Teacher::weight`]. Logs progress at every tenth and each uid's first failure. Stops
/// early, with [`Collected::interrupted`], when `stop` resolves. Fails if a query cannot be
/// built or the buffer cannot be written.
pub async fn collect(
    dendrite: &Dendrite,
    data: &EvalData,
    teachers: &[Teacher],
    params: &CollectParams,
    sink: &mut DistillSink,
    rng: &mut impl Rng,
    stop: impl Future<Output = ()>,
) -> Result<Collected> {
    tokio::pin!(stop);
    let started = Instant::now();
    let weights: BTreeMap<u16, f64> = teachers.iter().map(|t| (t.uid, t.weight)).collect();
    let mut done = Collected::default();
    let mut losses: BTreeMap<u16, (f64, usize)> = BTreeMap::new();
    let mut progress = Progress::new(params.contexts);
    let min_context = params.min_context.clamp(1, params.max_context.max(1));
    while done.contexts < params.contexts {
        let rows = params.batch.max(1).min(params.contexts.saturating_sub(done.contexts));
        let len = rng.gen_range(min_context..=params.max_context.max(min_context));
        let batch = data.sample(rng, rows, len, params.validation_len)?;
        let targets = teachers.iter().map(|t| (t.uid, t.target())).collect();
        let asked = tokio::select! {
            biased;
            () = &mut stop => {
                done.interrupted = true;
                break;
            }
            asked = step::ask(dendrite, &batch, params.topk, targets, params.timeout) => asked?,
        };
        let mut outcomes = Vec::with_capacity(asked.replies.len());
        for (uid, target, reply) in asked.replies {
            let observation = evaluate(&reply, &asked.request, &batch.targets, data.vocab_size());
            match &observation {
                Observation::Loss(loss) => {
                    let (sum, n) = losses.entry(uid).or_insert((0.0, 0));
                    *sum += loss;
                    *n = n.saturating_add(1);
                }
                Observation::Failure(reason) => {
                    let failures = done.failures.entry(uid).or_insert(0);
                    *failures = failures.saturating_add(1);
                    if *failures == 1 {
                        warn!(uid, "query failed: {reason} (further failures at debug level)");
                    } else {
                        debug!(uid, "query failed: {reason}");
                    }
                    done.last_failure.insert(uid, reason.clone());
                }
            }
            outcomes.push(UidOutcome { uid, hotkey: target.hotkey, observation, reply });
        }
        let weight = |uid: u16| weights.get(&uid).copied().unwrap_or(0.0);
        let records = outcome_records(&outcomes, &batch, weight, data.vocab_size());
        sink.append(&records)?;
        for record in &records {
            let answers = done.answers.entry(record.uid).or_insert(0);
            *answers = answers.saturating_add(1);
        }
        done.records = done.records.saturating_add(records.len());
        done.contexts = done.contexts.saturating_add(rows);
        done.queries = done.queries.saturating_add(1);
        debug!(len, rows, records = records.len(), "query done");
        progress.update(&done);
        if !params.pause.is_zero() && done.contexts < params.contexts {
            tokio::select! {
                biased;
                () = &mut stop => {
                    done.interrupted = true;
                    break;
                }
                () = tokio::time::sleep(params.pause) => {}
            }
        }
    }
    done.mean_loss = losses
        .into_iter()
        .filter(|(_, (_, n))| *n > 0)
        .map(|(uid, (sum, n))| (uid, sum / n as f64))
        .collect();
    done.secs = started.elapsed().as_secs_f64();
    Ok(done)
}

/// Why nothing can be collected from `view`: no serving miner, or none with incentive.
fn no_teacher(view: &SubnetView, netuid: u16) -> ValidatorError {
    let serving = view.targets().len();
    ValidatorError::NoTeacher(if serving == 0 {
        format!("no miner on subnet {netuid} serves an axon")
    } else {
        format!(
            "{serving} miners serve an axon on subnet {netuid} but none has incentive yet (it \
             comes from validators' weights at the next epoch)"
        )
    })
}

/// The `--distill-collect` mode: loads the hotkey, connects, refuses a grid subnet, loads the
/// corpus's training split, chooses the teachers from the current metagraph, [`collect`]s
/// into `--distill-buffer` (stopping early on SIGINT/SIGTERM) and returns the summary. Fails
/// when no miner can be asked or none gave a usable answer.
pub async fn run(cfg: &Config) -> Result<Summary> {
    cfg.check()?;
    let usage = |m: &str| ValidatorError::Usage(m.to_owned());
    let contexts = cfg.distill_collect.ok_or_else(|| usage("--distill-collect is not set"))?;
    let dir = cfg.distill_buffer.as_ref().ok_or_else(|| usage("--distill-buffer is required"))?;
    let tokenizer = cfg.tokenizer.as_ref().ok_or_else(|| {
        usage("--tokenizer is required: answers are collected over the standard tokenizer")
    })?;
    let hotkey = load_hotkey(cfg)?;
    let dendrite = dendrite_for(cfg, &hotkey);
    let chain = Chain::connect(&cfg.network, cfg.netuid, hotkey).await?;
    if let Some(spec) = chain.grid_spec().await? {
        return Err(ValidatorError::Usage(format!(
            "subnet {} is a grid subnet (serving {}): its miners generate text, they do not \
             answer next-token distributions; --distill-collect is for loss-scored subnets",
            cfg.netuid,
            String::from_utf8_lossy(&spec.spec.model_name)
        )));
    }
    let data = EvalData::load_split(&cfg.corpus, tokenizer, Split::Train)?;
    data.check_window(cfg.context, cfg.validation_len)?;
    data.check_topk(cfg.topk)?;
    let view = chain.sync().await?;
    let teachers = top_miners(&view, cfg.distill_top);
    if teachers.is_empty() {
        return Err(no_teacher(&view, cfg.netuid));
    }
    let mut sink = DistillSink::open(dir, cfg.distill_cap_mb, data.vocab_size())?;
    let params = CollectParams::from_config(cfg, contexts);
    info!(
        block = view.block,
        tokens = data.len(),
        "collecting {contexts} contexts of {}..={} tokens from the training split of {} into {}, \
         {} per query, from uids {:?} (incentive {:?})",
        params.min_context,
        params.max_context,
        cfg.corpus.display(),
        dir.display(),
        params.batch,
        teachers.iter().map(|t| t.uid).collect::<Vec<_>>(),
        teachers.iter().map(|t| t.incentive).collect::<Vec<_>>(),
    );
    let mut rng = StdRng::from_entropy();
    let collected =
        collect(&dendrite, &data, &teachers, &params, &mut sink, &mut rng, shutdown_signal())
            .await?;
    if collected.records == 0 && !collected.interrupted {
        let reasons: Vec<String> =
            collected.last_failure.iter().map(|(uid, why)| format!("uid {uid}: {why}")).collect();
        return Err(ValidatorError::NoTeacher(format!(
            "no usable answer from uids {:?} in {} queries ({})",
            teachers.iter().map(|t| t.uid).collect::<Vec<_>>(),
            collected.queries,
            reasons.join("; ")
        )));
    }
    Ok(Summary {
        netuid: cfg.netuid,
        block: view.block,
        buffer: dir.clone(),
        buffer_bytes: sink.total_bytes(),
        teachers,
        collected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use subtensor_client::{
        primitives::{AxonInfo, NeuronInfoLite, PrometheusInfo},
        runtime::AccountId,
    };
    use subtensor_wallet::ss58;

    /// A neuron with `incentive`, serving on loopback port `port` (0: no axon).
    fn neuron(uid: u16, incentive: u16, port: u16) -> NeuronInfoLite<AccountId> {
        let account = AccountId::new([u8::try_from(uid).unwrap(); 32]);
        let axon = if port == 0 {
            AxonInfo::default()
        } else {
            AxonInfo::from_ip("127.0.0.1".parse().unwrap(), port)
        };
        NeuronInfoLite {
            hotkey: account.clone(),
            coldkey: account,
            uid,
            netuid: subtensor_client::primitives::NetUid(1),
            active: true,
            axon_info: axon,
            prometheus_info: PrometheusInfo::default(),
            stake: Vec::new(),
            rank: 0,
            emission: 0,
            incentive,
            consensus: 0,
            trust: 0,
            validator_trust: 0,
            dividends: 0,
            last_update: 0,
            validator_permit: false,
            pruning_score: 0,
        }
    }

    fn view(neurons: Vec<NeuronInfoLite<AccountId>>, own_uid: u16) -> SubnetView {
        SubnetView { block: 7, neurons, own_uid }
    }

    fn uids(teachers: &[Teacher]) -> Vec<u16> {
        teachers.iter().map(|t| t.uid).collect()
    }

    #[test]
    fn the_best_serving_miners_are_chosen_in_incentive_order() {
        let v = view(
            vec![
                neuron(0, 0, 9000),   // ours (a validator): never
                neuron(1, 100, 9001), // the least incentive
                neuron(2, 40_000, 0), // the best, but serves no axon
                neuron(3, 20_000, 9003),
                neuron(4, 0, 9004), // serving, no incentive
                neuron(5, 30_000, 9005),
                neuron(6, 20_000, 9006), // ties with 3: 3 first
            ],
            0,
        );
        assert_eq!(uids(&top_miners(&v, 3)), vec![5, 3, 6]);
        assert_eq!(uids(&top_miners(&v, 10)), vec![5, 3, 6, 1]);
        assert_eq!(uids(&top_miners(&v, 1)), vec![5]);
        assert!(top_miners(&v, 0).is_empty());
        let best = &top_miners(&v, 1)[0];
        assert_eq!(best.axon, "127.0.0.1:9005".parse().unwrap());
        assert_eq!(best.hotkey, ss58(&AccountId::new([5; 32])));
        assert_eq!(best.incentive, 30_000);
        assert!((best.weight - 30_000.0 / 65_535.0).abs() < 1e-12);
        // Our own uid is skipped even when it serves with the highest incentive.
        let v = view(vec![neuron(0, 60_000, 9000), neuron(1, 10, 9001)], 0);
        assert_eq!(uids(&top_miners(&v, 3)), vec![1]);
    }

    #[test]
    fn nobody_to_ask_is_explained() {
        let v = view(vec![neuron(0, 0, 0), neuron(1, 500, 0)], 0);
        assert!(top_miners(&v, 3).is_empty());
        let err = no_teacher(&v, 4).to_string();
        assert!(err.contains("no miner on subnet 4 serves an axon"), "{err}");
        let v = view(vec![neuron(0, 0, 0), neuron(1, 0, 9001), neuron(2, 0, 9002)], 0);
        assert!(top_miners(&v, 3).is_empty());
        let err = no_teacher(&v, 4).to_string();
        assert!(err.contains("2 miners serve an axon") && err.contains("incentive"), "{err}");
    }
}
