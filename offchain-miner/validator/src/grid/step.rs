//! One grid step without the chain: the walk's next miners, one challenge to all of them,
//! identical answers (same tokens, log-probabilities within the tolerance) accepted at once,
//! every other answer verified with one teacher-forced pass per distinct token sequence, the
//! outcomes folded into the state.
//!
//! [`run_grid_step`] is called by the binary ([`crate::Validator`] on a grid subnet) and by the
//! tests (axons on loopback). Answers are judged against the request the validator sent (the
//! echoed request fields of a response are ignored): only the tokens, their log-probabilities
//! and the end-of-sequence flag are taken from the miner.

use super::{
    challenge::SeedSource,
    score::{GridObservation, GridScoring},
    verifier::{ChallengeShape, GridVerifier},
};
use crate::{
    data::EvalData, report, scoring::failure_reason, state::State, Result, ValidatorError,
};
use rand::Rng;
use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};
use subtensor_axon::{synapse::GridAnswer, AxonError, AxonTarget, Dendrite, GridGenerate, Reply};
use tracing::{debug, info, warn};

/// The grid step's parameters (from the command line in the binary).
#[derive(Clone, Copy, Debug)]
pub struct GridStepParams {
    /// Miners sent the same challenge (2 or 3 lets identical answers vouch for each other).
    pub redundancy: usize,
    /// What each challenge asks for.
    pub shape: ChallengeShape,
    /// The fan-out's deadline, from its start.
    pub timeout: Duration,
    /// Probability that answers accepted by agreement are verified anyway (so that colluding
    /// cheaters who agree are still caught).
    pub spot_check: f64,
    /// How outcomes become scores.
    pub scoring: GridScoring,
}

/// What one miner's answer came to.
#[derive(Debug)]
pub struct GridOutcome {
    /// The uid.
    pub uid: u16,
    /// Its hotkey (SS58).
    pub hotkey: String,
    /// The judgement folded into the state.
    pub observation: GridObservation,
    /// The tokens answered (empty without a usable answer).
    pub tokens: Vec<u32>,
    /// The validator-measured round trip.
    pub elapsed: Option<Duration>,
}

/// What one grid step did.
#[derive(Debug)]
pub struct GridStepReport {
    /// The uids the sampler handed out, in walk order.
    pub uids: Vec<u16>,
    /// Whether this step finished a walk.
    pub completes_walk: bool,
    /// The challenge's prompt.
    pub prompt: Vec<u32>,
    /// The challenge's seed.
    pub seed: u64,
    /// One per uid queried, in query order.
    pub outcomes: Vec<GridOutcome>,
    /// Teacher-forced passes run (one per distinct answer verified).
    pub verifications: usize,
    /// Wall time of the fan-out.
    pub fan_out: Duration,
    /// Wall time of the verification passes.
    pub verifying: Duration,
}

/// Where a challenge's seed comes from and the block it is judged at.
#[derive(Clone, Copy, Debug)]
pub struct ChallengeContext {
    /// Seed material (hotkey, recent block hash, secret).
    pub seeds: SeedSource,
    /// The block outcomes are recorded at (bans count from it).
    pub block: u64,
}

/// A usable answer: the tokens and flag, and the round trip.
struct Usable {
    answer: GridAnswer,
    elapsed: Duration,
}

/// Tokens per second of an answer: tokens generated (the end-of-sequence token included when
/// it ended the generation) over the validator-measured round trip.
pub fn tokens_per_sec(answer: &GridAnswer, elapsed: Duration) -> f64 {
    let produced = answer.tokens.len().saturating_add(usize::from(answer.stopped_at_eos));
    let secs = elapsed.as_secs_f64().max(1e-6);
    produced as f64 / secs
}

/// Sends one challenge to the next `params.redundancy` miners of `state`'s walk among
/// `targets`, judges the answers and folds them into `state` (its grid scores and challenge
/// counter). `Ok(None)` when the sampler hands out no uid.
#[allow(clippy::too_many_arguments)]
pub async fn run_grid_step(
    dendrite: &Dendrite,
    verifier: &GridVerifier,
    data: &EvalData,
    state: &mut State,
    targets: &BTreeMap<u16, AxonTarget>,
    params: &GridStepParams,
    ctx: &ChallengeContext,
    rng: &mut impl Rng,
) -> Result<Option<GridStepReport>> {
    let eligible: BTreeSet<u16> = targets.keys().copied().collect();
    let step = state.sampler.next_step(params.redundancy, &eligible, rng);
    if step.uids.is_empty() {
        return Ok(None);
    }
    let prompt = data
        .sample(rng, 1, params.shape.prompt_len, 1)?
        .inputs
        .into_iter()
        .next()
        .ok_or_else(|| ValidatorError::Data("no prompt sampled".into()))?;
    let seed = ctx.seeds.seed(state.grid_counter);
    state.grid_counter = state.grid_counter.saturating_add(1);
    let request_params = params.shape.params(seed);
    let request = GridGenerate::request(&prompt, &request_params)
        .map_err(|e| ValidatorError::Query(e.to_string()))?;
    let (uids, queried): (Vec<u16>, Vec<AxonTarget>) =
        step.uids.iter().filter_map(|u| Some((*u, targets.get(u)?.clone()))).unzip();
    let started = Instant::now();
    let replies = dendrite.fan_out(&queried, &request, params.timeout).await;
    let fan_out = started.elapsed();

    // Usable answers, grouped by content (tokens and end-of-sequence flag).
    let usable: Vec<std::result::Result<Usable, String>> =
        replies.into_iter().map(usable).collect();
    let mut groups: BTreeMap<(&[u32], bool), Vec<usize>> = BTreeMap::new();
    for (i, u) in usable.iter().enumerate() {
        if let Ok(u) = u {
            groups
                .entry((u.answer.tokens.as_slice(), u.answer.stopped_at_eos))
                .or_default()
                .push(i);
        }
    }
    // One judgement per distinct token sequence: agreement (identical tokens and matching
    // log-probabilities, not spot-checked) or one teacher-forced pass that every answer with
    // these tokens is judged against (each with its own log-probabilities).
    let verify_started = Instant::now();
    let mut verifications = 0usize;
    let mut judged: BTreeMap<usize, (bool, Option<String>)> = BTreeMap::new();
    for members in groups.values() {
        let answers: Vec<(usize, &GridAnswer)> = members
            .iter()
            .filter_map(|&i| Some((i, &usable.get(i)?.as_ref().ok()?.answer)))
            .collect();
        let Some(&(_, first)) = answers.first() else {
            continue;
        };
        let agreed = answers.len() >= 2
            && answers
                .iter()
                .all(|(_, a)| verifier.logprobs_agree(&a.token_logprobs, &first.token_logprobs));
        if agreed && !rng.gen_bool(params.spot_check.clamp(0.0, 1.0)) {
            for &(i, _) in &answers {
                judged.insert(i, (true, None));
            }
            continue;
        }
        verifications = verifications.saturating_add(1);
        let reference = verifier.reference(&prompt, &request_params, &first.tokens)?;
        for &(i, answer) in &answers {
            let verdict = verifier.judge(&reference, &request_params, answer);
            judged.insert(
                i,
                (false, (!verdict.accepted).then(|| verdict.reason.unwrap_or_default())),
            );
        }
    }
    let verifying = verify_started.elapsed();

    let mut outcomes = Vec::with_capacity(uids.len());
    for (i, ((uid, target), u)) in uids.into_iter().zip(queried).zip(usable).enumerate() {
        let (observation, tokens, elapsed) = match u {
            Err(reason) => (GridObservation::Failed(reason), Vec::new(), None),
            Ok(u) => {
                let observation = match judged.remove(&i) {
                    Some((_, Some(reason))) => GridObservation::Rejected(reason),
                    Some((by_agreement, None)) => GridObservation::Verified {
                        tokens_per_sec: tokens_per_sec(&u.answer, u.elapsed),
                        by_agreement,
                    },
                    None => GridObservation::Failed("not judged".into()),
                };
                (observation, u.answer.tokens, Some(u.elapsed))
            }
        };
        let score = state.grid_score_mut(uid, &target.hotkey);
        score.observe(&observation, ctx.block, &params.scoring);
        let short = report::short_hotkey(&target.hotkey);
        match &observation {
            GridObservation::Verified { tokens_per_sec, by_agreement } => debug!(
                uid,
                tokens = tokens.len(),
                tokens_per_sec = format!("{tokens_per_sec:.1}"),
                by_agreement,
                "grid answer accepted"
            ),
            GridObservation::Rejected(reason) => warn!(
                uid,
                hotkey = %short,
                "grid answer REJECTED (banned until block {}): {reason}",
                score.banned_until.unwrap_or(0)
            ),
            GridObservation::Failed(reason) => {
                info!(uid, hotkey = %short, "grid query failed: {reason}")
            }
        }
        outcomes.push(GridOutcome { uid, hotkey: target.hotkey, observation, tokens, elapsed });
    }
    let accepted = outcomes
        .iter()
        .filter(|o| matches!(o.observation, GridObservation::Verified { .. }))
        .count();
    info!(
        uids = ?step.uids,
        accepted,
        rejected = outcomes.iter().filter(|o| matches!(o.observation, GridObservation::Rejected(_))).count(),
        failed = outcomes.iter().filter(|o| matches!(o.observation, GridObservation::Failed(_))).count(),
        verifications,
        secs = format!("{:.2}", started.elapsed().as_secs_f64()),
        "grid step done"
    );
    if step.completes_walk {
        info!(
            "walk {} complete: {} serving grid miners challenged",
            state.sampler.walks,
            eligible.len()
        );
    }
    Ok(Some(GridStepReport {
        uids: step.uids,
        completes_walk: step.completes_walk,
        prompt,
        seed,
        outcomes,
        verifications,
        fan_out,
        verifying,
    }))
}

/// The answer of a reply, or why there is none.
fn usable(
    reply: std::result::Result<Reply<GridGenerate>, AxonError>,
) -> std::result::Result<Usable, String> {
    let reply = reply.map_err(|e| failure_reason(&e))?;
    let answer = reply.synapse.outputs().map_err(|e| format!("malformed answer ({e})"))?;
    Ok(Usable { answer, elapsed: reply.elapsed })
}
