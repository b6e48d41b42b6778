//! The validator's loop: sync, query, score, set weights, persist.
//!
//! Each iteration: resync the metagraph and hyperparameters every `--sync-blocks` blocks
//! (resetting uids whose hotkey changed), reveal commitments whose window is open, set (or
//! commit) weights when a weight epoch has passed and a full walk of queries is done, then
//! query the next `--sample-size` uids of the walk with one random batch and fold the answers
//! into the scores. On a grid subnet with `--organic-from`, the gateway's verdicts on user
//! traffic are folded in first ([`crate::grid::organic`]). The state is saved after every
//! step.

use crate::distill::DistillSink;
use crate::{
    chain::{Chain, SubnetView},
    config::Config,
    data::EvalData,
    gate::{self, GateTrainer},
    grid::{self, ChallengeContext, GridStepParams, GridVerifier, OrganicFeed, SeedSource},
    report,
    scoring::ScoringParams,
    state::{Loaded, State, StateStore},
    step::{self, StepParams},
    weights::{self, RevealTiming, Standing, WeightRules, WeightVector},
    Result, ValidatorError,
};
use rand::{rngs::StdRng, SeedableRng};
use std::{collections::BTreeSet, time::Duration};
use subtensor_axon::{Dendrite, UnsignedResponses};
use subtensor_client::{
    primitives::{GridSpecRecord, SubnetHyperparams},
    ClientError,
};
use subtensor_model::GridTolerance;
use subtensor_wallet::Keypair;
use tracing::{debug, info, warn};

/// Most unrevealed commitments the pallet keeps per hotkey.
const MAX_PENDING_COMMITS: usize = 10;

/// How often to poll the best block while waiting.
const POLL: Duration = Duration::from_millis(500);

/// What one weight attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightsOutcome {
    /// Weights set in this block.
    Set(u64),
    /// Weights committed in this block; the reveal is pending.
    Committed(u64),
    /// Not now; retry at this block (or at the next sync when `None`).
    Wait(String, Option<u64>),
    /// Not possible with the current scores or subnet.
    Skip(String),
}

/// What the validator scores.
enum Mode {
    /// A loss-scored subnet: next-token phrases on the standard tokenizer's held-out split.
    Loss(EvalData),
    /// A grid subnet: verified generations of the spec's model, scored on speed.
    Grid(Box<GridMode>),
}

impl Mode {
    /// The standard vocabulary on a loss-scored subnet (`None`: grid).
    fn loss_vocab(&self) -> Option<u32> {
        match self {
            Mode::Loss(data) => Some(data.vocab_size()),
            Mode::Grid(_) => None,
        }
    }
}

/// Grid mode's parts.
struct GridMode {
    /// The spec the model was checked against.
    spec: GridSpecRecord,
    /// The model and tolerance.
    verifier: GridVerifier,
    /// The held-out split in the grid model's token ids.
    data: EvalData,
    /// This process's seed secret.
    secret: [u8; 32],
}

/// Loads what `cfg` scores on a subnet whose grid spec is `spec`: the held-out split with the
/// standard tokenizer (no spec), or the grid model and its tokenizer's split (a spec).
fn load_mode(cfg: &Config, spec: Option<GridSpecRecord>) -> Result<Mode> {
    let Some(spec) = spec else {
        if cfg.grid_model.is_some() {
            return Err(ValidatorError::Usage(format!(
                "subnet {} has no grid spec: --grid-model is for grid subnets",
                cfg.netuid
            )));
        }
        let tokenizer = cfg.tokenizer.as_ref().ok_or_else(|| {
            ValidatorError::Usage(format!(
                "--tokenizer is required: subnet {} is scored by loss on the standard tokenizer",
                cfg.netuid
            ))
        })?;
        let data = EvalData::load(&cfg.corpus, tokenizer)?;
        data.check_window(cfg.context, cfg.validation_len)?;
        data.check_topk(cfg.topk)?;
        info!(
            tokens = data.len(),
            vocab = data.vocab_size(),
            "held-out split of {} tokenized",
            cfg.corpus.display()
        );
        return Ok(Mode::Loss(data));
    };
    let dir = cfg.grid_model.as_ref().ok_or_else(|| {
        ValidatorError::Usage(format!(
            "subnet {} is a grid subnet serving {} (digest {}): pass --grid-model with that \
             model's directory",
            cfg.netuid,
            String::from_utf8_lossy(&spec.spec.model_name),
            hex::encode(spec.spec.model_sha256)
        ))
    })?;
    let verifier = GridVerifier::load(dir, &spec.spec, GridTolerance::default())?;
    let shape = cfg.grid_shape();
    verifier.check_shape(&shape, &spec.spec)?;
    let data = EvalData::load(&cfg.corpus, &dir.join(subtensor_model::TOKENIZER_FILE))?;
    data.check_window(shape.prompt_len, 1)?;
    info!(
        tokens = data.len(),
        "grid subnet {}: verifying {} (spec of block #{}), challenges of {} prompt tokens and {} \
         new tokens at temperature {}, {} miners each",
        cfg.netuid,
        String::from_utf8_lossy(&spec.spec.model_name),
        spec.set_at_block,
        shape.prompt_len,
        shape.new_tokens,
        shape.temperature,
        cfg.grid_redundancy
    );
    Ok(Mode::Grid(Box::new(GridMode { spec, verifier, data, secret: rand::random() })))
}

/// A running validator.
pub struct Validator {
    cfg: Config,
    chain: Chain,
    dendrite: Dendrite,
    mode: Mode,
    /// The routing gate trained after each loss-scored step (`--gate-model`).
    gate: Option<GateTrainer>,
    hotkey_public: [u8; 32],
    store: StateStore,
    state: State,
    view: SubnetView,
    params: SubnetHyperparams,
    last_sync: u64,
    scoring: ScoringParams,
    rng: StdRng,
    last_notice: Option<String>,
    /// No weight attempt before this block (after a refusal or an unmet rule).
    weights_retry_at: u64,
    /// The distillation buffer (`--distill-buffer`, loss-scored subnets).
    distill: Option<DistillSink>,
    /// The gateway's organic verdicts (`--organic-from`, grid subnets).
    organic: Option<OrganicFeed>,
}

impl Validator {
    /// Loads everything and connects: evaluation data, node, metagraph (our hotkey must be
    /// registered), hyperparameters, saved state.
    pub async fn start(cfg: Config, hotkey: Keypair) -> Result<Self> {
        cfg.check()?;
        let hotkey_ss58 = hotkey.ss58();
        let hotkey_public = hotkey.public();
        let dendrite = dendrite_for(&cfg, &hotkey);
        let chain = Chain::connect(&cfg.network, cfg.netuid, hotkey).await?;
        let view = chain.sync().await?;
        let params = chain.hyperparameters().await?;
        let mode = load_mode(&cfg, chain.grid_spec().await?)?;
        let mut gate = gate::trainer_for(&cfg, mode.loss_vocab())?;
        if let Some(gate) = gate.as_mut() {
            gate.retain(&view.hotkeys());
        }
        info!(
            uid = view.own_uid,
            neurons = view.n(),
            block = view.block,
            tempo = params.tempo,
            "validator {hotkey_ss58} on subnet {}",
            cfg.netuid
        );
        let mut store = StateStore::new(cfg.state_dir());
        store.lock()?;
        let mut state = match store.load(cfg.netuid, &hotkey_ss58)? {
            Loaded::State(state) => {
                info!(uids = state.uids.len(), "restored state from {}", store.path().display());
                state
            }
            Loaded::Missing => State::new(cfg.netuid, hotkey_ss58.clone()),
            Loaded::Discarded { reason, moved_to } => {
                warn!(
                    "ignoring state file {}: {reason}; starting fresh{}",
                    store.path().display(),
                    moved_to
                        .map(|p| format!(" (old file kept as {})", p.display()))
                        .unwrap_or_default()
                );
                State::new(cfg.netuid, hotkey_ss58.clone())
            }
        };
        let reset = state.reconcile(&view.hotkeys());
        if !reset.is_empty() {
            info!(?reset, "uids whose hotkey changed since the state was saved were reset");
        }
        if state.last_weights_block.is_some_and(|b| b > view.block) {
            warn!(
                "the saved state is from a later block than the chain's #{} (a new chain?): \
                 forgetting its last weights and pending commitments",
                view.block
            );
            state.last_weights_block = None;
            state.pending_commits.clear();
        }
        let scoring = ScoringParams { alpha: cfg.ema_alpha, power: cfg.scaling_power };
        let mut rng = StdRng::from_entropy();
        if cfg.once {
            // One full walk over every serving miner, not the rest of a restored one.
            state.sampler.order.clear();
            state.sampler.cursor = 0;
        }
        let serving = view.targets().keys().copied().collect();
        state.sampler.refresh(&serving, &mut rng);
        let distill = match (&cfg.distill_buffer, &mode) {
            (Some(dir), Mode::Loss(data)) => {
                Some(DistillSink::open(dir, cfg.distill_cap_mb, data.vocab_size())?)
            }
            (Some(_), Mode::Grid(_)) => {
                warn!("--distill-buffer ignored: a grid subnet has no next-token answers");
                None
            }
            (None, _) => None,
        };
        let organic = match (&cfg.organic_from, &mode) {
            (Some(url), Mode::Grid(_)) => {
                let feed = OrganicFeed::new(url)?;
                info!(
                    "folding the organic verdicts of the gateway at {} into grid scores",
                    feed.base()
                );
                Some(feed)
            }
            (Some(_), Mode::Loss(_)) => {
                warn!(
                    "--organic-from ignored: organic verdicts only apply to grid subnets (subnet \
                     {} is loss-scored)",
                    cfg.netuid
                );
                None
            }
            (None, _) => None,
        };
        Ok(Self {
            last_sync: view.block,
            cfg,
            chain,
            dendrite,
            mode,
            gate,
            hotkey_public,
            store,
            state,
            view,
            params,
            scoring,
            rng,
            last_notice: None,
            weights_retry_at: 0,
            distill,
            organic,
        })
    }

    /// The state (for reports and tests).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Saves the state.
    pub fn save(&self) -> Result<()> {
        self.gate.as_ref().map(GateTrainer::save).transpose()?;
        self.store.save(&self.state)
    }

    /// Runs until stopped (or, with `--once`, until one walk and one weight setting are done).
    pub async fn run(&mut self) -> Result<()> {
        if self.cfg.once {
            return self.run_once().await;
        }
        loop {
            if let Err(e) = self.iteration().await {
                match e {
                    ValidatorError::NotRegistered { .. } | ValidatorError::GridSpecChanged(_) => {
                        return Err(e)
                    }
                    ValidatorError::Chain(ClientError::RuntimeMismatch { .. }) => return Err(e),
                    ValidatorError::Chain(
                        ClientError::Connect { .. } | ClientError::Transport(_),
                    ) => {
                        warn!("{e}; reconnecting in 5 s");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        match self.chain.reconnect(&self.cfg.network).await {
                            Ok(chain) => {
                                info!("reconnected to {}", self.cfg.network);
                                self.chain = chain;
                            }
                            Err(e) => warn!("reconnecting failed: {e}"),
                        }
                    }
                    other => {
                        warn!("{other}; retrying in 5 s");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                }
            }
            tokio::time::sleep(self.cfg.step_interval()).await;
        }
    }

    /// One walk of queries, then weights set (waiting for the rate limit, a validator permit
    /// or the reveal window as needed, within a bound), then exit.
    async fn run_once(&mut self) -> Result<()> {
        let start_walks = self.state.sampler.walks;
        while self.state.sampler.walks == start_walks {
            let best = self.chain.best_block().await?;
            self.maybe_sync(best).await?;
            if self.eligible().is_empty() {
                return Err(ValidatorError::Weights(format!(
                    "no miner on subnet {} serves an axon",
                    self.cfg.netuid
                )));
            }
            self.step().await?;
            self.save()?;
            tokio::time::sleep(self.cfg.step_interval()).await;
        }
        let best = self.chain.best_block().await?;
        let tempo = u64::from(self.params.tempo).max(1);
        let bound = best
            .saturating_add(self.params.weights_rate_limit)
            .saturating_add(
                tempo.saturating_mul(self.params.commit_reveal_period.saturating_add(2)),
            )
            .saturating_add(20);
        loop {
            let best = self.chain.best_block().await?;
            if best > bound {
                return Err(ValidatorError::Weights(format!(
                    "gave up waiting at block {best}: {}",
                    self.last_notice.clone().unwrap_or_else(|| "no progress".into())
                )));
            }
            self.maybe_sync(best).await?;
            if !self.state.pending_commits.is_empty() {
                let revealed = self.reveal_due(best, true).await?;
                self.save()?;
                if self.state.pending_commits.is_empty() && revealed > 0 {
                    return Ok(());
                }
                // Only expired commitments were dropped: fall through and set weights anew.
                if !self.state.pending_commits.is_empty() {
                    self.wait_blocks(best.saturating_add(1)).await?;
                    continue;
                }
            }
            match self.try_weights(best).await? {
                WeightsOutcome::Set(_) => {
                    self.save()?;
                    return Ok(());
                }
                WeightsOutcome::Committed(_) => self.save()?,
                WeightsOutcome::Wait(_, until) => {
                    let retry = until.unwrap_or(best.saturating_add(self.cfg.sync_blocks));
                    self.wait_blocks(retry.min(bound.saturating_add(1))).await?;
                }
                WeightsOutcome::Skip(reason) => return Err(ValidatorError::Weights(reason)),
            }
        }
    }

    /// One iteration of the normal loop.
    async fn iteration(&mut self) -> Result<()> {
        let best = self.chain.best_block().await?;
        self.maybe_sync(best).await?;
        self.reveal_due(best, false).await?;
        if self.state.sampler.walks > 0
            && best >= self.weights_retry_at
            && weights::weights_due(best, self.state.last_weights_block, self.epoch_blocks())
        {
            // After a refusal or an unmet rule, retry at the block it names or after a sync
            // interval: never a transaction per step.
            match self.try_weights(best).await? {
                WeightsOutcome::Set(_) | WeightsOutcome::Committed(_) => self.save()?,
                WeightsOutcome::Wait(_, Some(until)) => {
                    self.weights_retry_at = until.saturating_sub(1);
                }
                WeightsOutcome::Wait(_, None) | WeightsOutcome::Skip(_) => {
                    self.weights_retry_at = best.saturating_add(self.cfg.sync_blocks);
                }
            }
        }
        if self.eligible().is_empty() {
            self.notice(format!("no miner on subnet {} serves an axon yet", self.cfg.netuid));
            self.wait_blocks(best.saturating_add(1)).await?;
            return Ok(());
        }
        self.step().await?;
        self.save()
    }

    /// Blocks between weight settings.
    fn epoch_blocks(&self) -> u64 {
        self.cfg.epoch_blocks.unwrap_or(u64::from(self.params.tempo)).max(1)
    }

    /// Logs `message` at info the first time in a row, at debug after.
    fn notice(&mut self, message: String) {
        if self.last_notice.as_deref() == Some(message.as_str()) {
            debug!("{message}");
        } else {
            info!("{message}");
            self.last_notice = Some(message);
        }
    }

    /// The uids to query: serving axons other than ours.
    fn eligible(&self) -> BTreeSet<u16> {
        self.view.targets().keys().copied().collect()
    }

    /// Resyncs the metagraph and hyperparameters if `--sync-blocks` blocks passed.
    async fn maybe_sync(&mut self, best: u64) -> Result<()> {
        if best < self.last_sync.saturating_add(self.cfg.sync_blocks) {
            return Ok(());
        }
        let view = self.chain.sync().await?;
        self.params = self.chain.hyperparameters().await?;
        self.check_grid_spec().await?;
        let hotkeys = view.hotkeys();
        let reset = self.state.reconcile(&hotkeys);
        if !reset.is_empty() {
            info!(?reset, "hotkeys changed at these uids: their scores were reset");
        }
        if let Some(gate) = self.gate.as_mut() {
            gate.retain(&hotkeys);
        }
        self.last_sync = view.block;
        self.view = view;
        let eligible = self.eligible();
        self.state.sampler.refresh(&eligible, &mut self.rng);
        debug!(block = self.last_sync, serving = eligible.len(), "metagraph synced");
        Ok(())
    }

    /// Fails with [`ValidatorError::GridSpecChanged`] if the subnet's grid spec is not the one
    /// this validator started with (or the subnet became, or stopped being, a grid subnet).
    async fn check_grid_spec(&self) -> Result<()> {
        let now = self.chain.grid_spec().await?;
        let netuid = self.cfg.netuid;
        match (&self.mode, now) {
            (Mode::Loss(_), None) => Ok(()),
            (Mode::Grid(grid), Some(now)) if now.spec == grid.spec.spec => Ok(()),
            (Mode::Loss(_), Some(now)) => Err(ValidatorError::GridSpecChanged(format!(
                "subnet {netuid} became a grid subnet at block #{}",
                now.set_at_block
            ))),
            (Mode::Grid(_), None) => Err(ValidatorError::GridSpecChanged(format!(
                "subnet {netuid}'s grid spec was cleared"
            ))),
            (Mode::Grid(_), Some(now)) => Err(ValidatorError::GridSpecChanged(format!(
                "subnet {netuid}'s grid spec changed at block #{} (now {})",
                now.set_at_block,
                String::from_utf8_lossy(&now.spec.model_name)
            ))),
        }
    }

    /// One step of queries: [`step::run_step`] (loss) or [`grid::run_grid_step`] (grid) over
    /// the metagraph's serving axons.
    async fn step(&mut self) -> Result<()> {
        let targets = self.view.targets();
        let completes_walk = match &self.mode {
            Mode::Loss(data) => {
                let params = StepParams {
                    sample_size: self.cfg.sample_size,
                    batch: self.cfg.batch,
                    context: self.cfg.context,
                    validation_len: self.cfg.validation_len,
                    topk: self.cfg.topk,
                    timeout: self.cfg.timeout(),
                    scoring: self.scoring,
                    thread_cpu: None,
                };
                let report = step::run_step(
                    &self.dendrite,
                    data,
                    &mut self.state,
                    &targets,
                    &params,
                    &mut self.rng,
                )
                .await?;
                if let (Some(sink), Some(r)) = (self.distill.as_mut(), report.as_ref()) {
                    // A full or failing disk must not stop validation.
                    if let Err(e) = sink.record_step(r, &self.state) {
                        warn!("{e}");
                    }
                }
                gate::after_step(self.gate.as_mut(), report.as_ref(), data.vocab_size());
                report.map(|r| r.completes_walk)
            }
            Mode::Grid(grid) => {
                let (block, block_hash) = self.chain.best_block_hash().await?;
                let ctx = ChallengeContext {
                    seeds: SeedSource {
                        hotkey: self.hotkey_public,
                        block_hash,
                        secret: grid.secret,
                    },
                    block,
                };
                let params = GridStepParams {
                    redundancy: self.cfg.grid_redundancy,
                    shape: self.cfg.grid_shape(),
                    timeout: self.cfg.timeout(),
                    spot_check: self.cfg.grid_spot_check,
                    scoring: self.cfg.grid_scoring(self.epoch_blocks()),
                };
                if let Some(feed) = self.organic.as_mut() {
                    let hotkeys = self.view.hotkeys();
                    let netuid = self.cfg.netuid;
                    feed.pull(&mut self.state, netuid, &hotkeys, block, &params.scoring).await;
                }
                grid::run_grid_step(
                    &self.dendrite,
                    &grid.verifier,
                    &grid.data,
                    &mut self.state,
                    &targets,
                    &params,
                    &ctx,
                    &mut self.rng,
                )
                .await?
                .map(|r| r.completes_walk)
            }
        };
        if completes_walk == Some(true) && tracing::enabled!(tracing::Level::DEBUG) {
            let preview = self.plan(self.view.block).ok();
            debug!("scores now:\n{}", self.table(self.view.block, preview.as_ref()));
        }
        Ok(())
    }

    /// The score table at `block` with `weights`.
    fn table(&self, block: u64, weights: Option<&WeightVector>) -> String {
        match &self.mode {
            Mode::Loss(_) => report::epoch_table(&self.state.uids, weights),
            Mode::Grid(_) => report::grid_table(
                &self.state.grid,
                block,
                &self.cfg.grid_scoring(self.epoch_blocks()),
                weights,
            ),
        }
    }

    /// The weight vector the current scores give at `block`, under the subnet's rules.
    fn plan(&self, block: u64) -> std::result::Result<WeightVector, weights::Skip> {
        let rules = WeightRules {
            n: self.view.n(),
            own_uid: self.view.own_uid,
            min_allowed: self.params.min_allowed_weights,
            max_weight_limit: self.params.max_weights_limit,
        };
        if let Mode::Grid(_) = self.mode {
            let scoring = self.cfg.grid_scoring(self.epoch_blocks());
            return grid::plan::plan_grid_weights(&self.state.grid, block, &scoring, &rules);
        }
        let standings: Vec<Standing> = self
            .state
            .uids
            .iter()
            .map(|(&uid, s)| Standing {
                uid,
                zeroing: s.zeroing,
                ema_loss: (s.queries > 0).then_some(s.ema_loss),
            })
            .collect();
        weights::plan_weights(&standings, &rules)
    }

    /// Sets (or commits) weights now if every rule allows it.
    async fn try_weights(&mut self, best: u64) -> Result<WeightsOutcome> {
        let planned = match self.plan(best) {
            Ok(w) => w,
            Err(weights::Skip(reason)) => {
                self.notice(format!("weights not set: {reason}"));
                return Ok(WeightsOutcome::Skip(reason));
            }
        };
        if !self.params.commit_reveal_weights_enabled {
            let last_update = self.view.own().map_or(0, |n| n.last_update);
            let last = last_update.max(self.state.last_weights_block.unwrap_or(0));
            let next = best.saturating_add(1);
            if let Err(until) = weights::rate_limit_gate(last, self.params.weights_rate_limit, next)
            {
                let reason = format!("rate limit: next allowed at block {until}");
                self.notice(format!("weights not set yet: {reason}"));
                return Ok(WeightsOutcome::Wait(reason, Some(until)));
            }
        } else if self.state.pending_commits.len() >= MAX_PENDING_COMMITS {
            let reason = format!("{MAX_PENDING_COMMITS} commitments are still unrevealed");
            self.notice(format!("weights not committed yet: {reason}"));
            return Ok(WeightsOutcome::Wait(reason, None));
        }
        if let Some(reason) = self.chain.weights_blocker(&self.view).await? {
            self.notice(format!("weights not set yet: {reason}"));
            return Ok(WeightsOutcome::Wait(reason, None));
        }
        let version_key = self.params.weights_version;
        info!(
            "weights at block {best} ({} uids, version key {version_key}):\n{}",
            planned.uids.len(),
            self.table(best, Some(&planned))
        );
        if self.params.commit_reveal_weights_enabled {
            let tempo = self.params.tempo;
            let mut pending = self.chain.prepare_commit(
                &planned,
                version_key,
                best.saturating_add(1),
                tempo,
                self.params.commit_reveal_period,
            );
            // Saved before submitting: if we stop while it waits for inclusion, the commitment
            // may still land, and only this salt can reveal it.
            self.state.pending_commits.push(pending.clone());
            self.save()?;
            let block = match self.chain.commit(&pending).await {
                Ok(block) => block,
                Err(e) => {
                    if matches!(&e, ValidatorError::Chain(c) if c.module_error().is_some()) {
                        // Refused by the chain: it will never land.
                        self.state.pending_commits.retain(|c| c.hash != pending.hash);
                        self.save()?;
                        let reason = format!("commit refused: {e}");
                        warn!("{reason}");
                        return Ok(WeightsOutcome::Wait(reason, None));
                    }
                    return Err(e);
                }
            };
            let epoch = weights::epoch_index(self.cfg.netuid, tempo, block);
            pending.commit_block = block;
            pending.reveal_epoch = epoch.saturating_add(self.params.commit_reveal_period);
            if let Some(saved) =
                self.state.pending_commits.iter_mut().find(|c| c.hash == pending.hash)
            {
                *saved = pending.clone();
            }
            info!(
                block,
                reveal_epoch = pending.reveal_epoch,
                hash = %pending.hash,
                "weights committed"
            );
            self.state.last_weights_block = Some(block);
            return Ok(WeightsOutcome::Committed(block));
        }
        match self.chain.set_weights(&planned, version_key).await {
            Ok(block) => {
                info!(block, uids = planned.uids.len(), "weights set");
                self.state.last_weights_block = Some(block);
                Ok(WeightsOutcome::Set(block))
            }
            Err(ValidatorError::Chain(e)) if e.module_error().is_some() => {
                let reason = format!("set_weights refused: {e}");
                warn!("{reason}");
                Ok(WeightsOutcome::Wait(reason, None))
            }
            Err(e) => Err(e),
        }
    }

    /// Reveals every pending commitment whose window is open; drops expired ones. With
    /// `strict`, a refused reveal is an error.
    async fn reveal_due(&mut self, best: u64, strict: bool) -> Result<usize> {
        let next = best.saturating_add(1);
        let mut revealed = 0usize;
        let mut keep = Vec::new();
        let mut pending = std::mem::take(&mut self.state.pending_commits).into_iter();
        while let Some(commit) = pending.next() {
            match weights::reveal_timing(
                self.cfg.netuid,
                self.params.tempo,
                commit.reveal_epoch,
                next,
            ) {
                RevealTiming::TooEarly(at) => {
                    self.notice(format!("commitment {} revealable from block {at}", commit.hash));
                    keep.push(commit);
                }
                RevealTiming::Expired => {
                    warn!(hash = %commit.hash, "commitment expired unrevealed; dropped");
                }
                RevealTiming::Now => match self.chain.reveal_weights(&commit).await {
                    Ok(block) => {
                        let uids = commit.weights.uids.len();
                        // The cadence counts from commits: `last_weights_block` stays.
                        info!(block, hash = %commit.hash, uids, "weights revealed");
                        revealed = revealed.saturating_add(1);
                    }
                    Err(ValidatorError::Chain(e)) if e.module_error() == Some("RevealTooEarly") => {
                        keep.push(commit);
                    }
                    Err(ValidatorError::Chain(e)) if e.module_error().is_some() => {
                        warn!(hash = %commit.hash, "reveal refused ({e}); commitment dropped");
                        if strict {
                            keep.extend(pending);
                            self.state.pending_commits = keep;
                            return Err(ValidatorError::Weights(format!("reveal refused: {e}")));
                        }
                    }
                    Err(e) => {
                        keep.push(commit);
                        keep.extend(pending);
                        self.state.pending_commits = keep;
                        return Err(e);
                    }
                },
            }
        }
        self.state.pending_commits = keep;
        Ok(revealed)
    }

    /// Waits until the best block reaches `block` (polling).
    async fn wait_blocks(&self, block: u64) -> Result<()> {
        loop {
            if self.chain.best_block().await? >= block {
                return Ok(());
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The dendrite that queries miners: signed by `hotkey`, accepting unsigned responses only
/// with `--accept-unsigned`.
pub fn dendrite_for(cfg: &Config, hotkey: &Keypair) -> Dendrite {
    let policy =
        if cfg.accept_unsigned { UnsignedResponses::Accept } else { UnsignedResponses::Reject };
    Dendrite::new(hotkey.clone()).unsigned_responses(policy)
}

/// Loads the hotkey of the configured wallet (unlocked with `STCLI_PASSWORD` if encrypted).
pub fn load_hotkey(cfg: &Config) -> Result<Keypair> {
    let wallet =
        subtensor_wallet::Wallet::new(&cfg.wallet_path, &cfg.wallet_name, &cfg.wallet_hotkey)?;
    let mut password = || {
        std::env::var(crate::config::PASSWORD_ENV).map_err(|_| {
            subtensor_wallet::WalletError::Password(format!(
                "the hotkey is encrypted: set {} to its password",
                crate::config::PASSWORD_ENV
            ))
        })
    };
    Ok(wallet.hotkey(&mut password)?)
}

/// Runs a validator from `cfg` until SIGINT/SIGTERM (or the end of a `--once` run), saving its
/// state on the way out.
pub async fn run(cfg: Config) -> Result<()> {
    cfg.check()?;
    let hotkey = load_hotkey(&cfg)?;
    let mut validator = tokio::select! {
        v = Validator::start(cfg, hotkey) => v?,
        _ = shutdown_signal() => {
            info!("stopped before start-up finished");
            return Ok(());
        }
    };
    let outcome = tokio::select! {
        r = validator.run() => Some(r),
        _ = shutdown_signal() => None,
    };
    let saved = validator.save();
    match outcome {
        Some(result) => result.and(saved),
        None => {
            saved?;
            info!("stopped by signal; state saved to {}", validator.store.path().display());
            Ok(())
        }
    }
}
