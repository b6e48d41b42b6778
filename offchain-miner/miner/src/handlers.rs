//! The synapse handlers: each turns a validated request into an engine [`Request`], waits for
//! the answer within the caller's deadline, and fills the synapse's outputs. In grid mode
//! ([`Handlers::with_grid`]) `GridGenerate` is served too, through the grid [`Batcher`].
//!
//! For routing and scoring tests, [`Handlers::with_added_latency`] delays every answer.

use crate::{
    bridge::Bridge,
    engine::{Answer, Engine, Request},
    grid::{Batcher, GridLimits},
    MinerError, Result,
};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtensor_axon::{
    synapse::{
        floor_probability, pad_hidden, GridAnswer, GridGenerate, TextCausalLM, TextCausalLMNext,
        TextLastHiddenState, TextSeq2Seq, TokenProbs, TopkPhrases, NETWORK_DIM,
    },
    Axon, Caller,
};
use subtensor_model::{GenerateParams, GridRequest, GridSampling};

/// Most new tokens one `TextSeq2Seq` request may ask for, over all its prompts.
pub const MAX_GENERATED_TOKENS: usize = 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct Handlers {
    engine: Engine,
    bridge: Arc<Bridge>,
    grid: Option<(Batcher, GridLimits)>,
    added_latency: Duration,
    #[cfg(feature = "test-utils")]
    cheat: Option<crate::cheat::CheatState>,
}

impl Handlers {
    /// Handlers computing with `engine`, translating tokens through `bridge`.
    pub fn new(engine: Engine, bridge: Bridge) -> Self {
        Self {
            engine,
            bridge: Arc::new(bridge),
            grid: None,
            added_latency: Duration::ZERO,
            #[cfg(feature = "test-utils")]
            cheat: None,
        }
    }

    /// For routing and scoring tests (`stminer --test-added-latency-ms`): every synapse's
    /// answer (or error) is sent `latency` later than it was computed. `GridGenerate`'s
    /// per-token times stay the real ones.
    pub fn with_added_latency(mut self, latency: Duration) -> Self {
        self.added_latency = latency;
        self
    }

    /// Test-only (feature `test-utils`): `GridGenerate` misbehaves as `cheat` says (see
    /// [`crate::cheat`]).
    #[cfg(feature = "test-utils")]
    pub fn with_grid_cheat(mut self, cheat: crate::cheat::GridCheat) -> Self {
        self.cheat = Some(crate::cheat::CheatState::new(cheat));
        self
    }

    /// Runs one handler's `work`, waits the added latency, then logs the result and turns an
    /// error into the axon's error text: the one place every synapse's answer passes through.
    async fn answer<S>(
        &self,
        caller: &Caller,
        synapse: &str,
        work: impl Future<Output = Result<S>>,
    ) -> std::result::Result<S, String> {
        let result = work.await;
        if !self.added_latency.is_zero() {
            tokio::time::sleep(self.added_latency).await;
        }
        logged(caller, synapse, result)
    }

    /// Grid mode: `GridGenerate` is served too, by `batcher` (feeding this engine), within
    /// `limits`.
    pub fn with_grid(mut self, batcher: Batcher, limits: GridLimits) -> Self {
        self.grid = Some((batcher, limits));
        self
    }

    /// Attaches the four synapses to `axon`, and `GridGenerate` in grid mode.
    pub fn attach(self, axon: Axon) -> Axon {
        let axon = match self.grid {
            Some(_) => {
                let g = self.clone();
                axon.attach(move |caller: Caller, s: GridGenerate| {
                    let h = g.clone();
                    async move { h.answer(&caller, "GridGenerate", h.grid(&caller, s)).await }
                })
            }
            None => axon,
        };
        let (a, b, c, d) = (self.clone(), self.clone(), self.clone(), self);
        axon.attach(move |caller: Caller, s: TextCausalLMNext| {
            let h = a.clone();
            async move { h.answer(&caller, "TextCausalLMNext", h.next(&caller, s)).await }
        })
        .attach(move |caller: Caller, s: TextCausalLM| {
            let h = b.clone();
            async move { h.answer(&caller, "TextCausalLM", h.causal(&caller, s)).await }
        })
        .attach(move |caller: Caller, s: TextLastHiddenState| {
            let h = c.clone();
            async move { h.answer(&caller, "TextLastHiddenState", h.hidden(&caller, s)).await }
        })
        .attach(move |caller: Caller, s: TextSeq2Seq| {
            let h = d.clone();
            async move { h.answer(&caller, "TextSeq2Seq", h.generate(&caller, s)).await }
        })
    }

    async fn compute(&self, caller: &Caller, request: Request) -> Result<Answer> {
        self.engine.run(request, caller.expires_at).await
    }

    fn to_model(&self, rows: &[Vec<u32>]) -> Result<Vec<Vec<u32>>> {
        rows.iter().map(|r| self.bridge.to_model(r)).collect()
    }

    /// `TextCausalLMNext`: the top-k next tokens as standard phrases, plus the floor.
    pub async fn next(&self, caller: &Caller, mut s: TextCausalLMNext) -> Result<TextCausalLMNext> {
        let topk = usize::try_from(s.topk).unwrap_or(usize::MAX);
        let rows = self.to_model(&s.tokens()?)?;
        let model_k = topk.min(self.engine.vocab_size());
        let Answer::Next(answer) =
            self.compute(caller, Request::Next { rows, topk: model_k }).await?
        else {
            return Err(MinerError::Engine("wrong answer kind".into()));
        };
        let vocab = u32::try_from(self.bridge.standard_vocab()).unwrap_or(u32::MAX);
        let mut out = Vec::with_capacity(answer.len());
        for row in answer {
            let mut phrases = Vec::with_capacity(topk);
            let mut sum = 0f32;
            for (&id, &p) in row.ids.iter().zip(&row.probs) {
                sum += p;
                phrases.push((p, self.bridge.phrase(id)?));
            }
            // A model with fewer tokens than `topk` pads with zero-probability entries.
            while phrases.len() < topk {
                phrases.push((0.0, vec![0]));
            }
            out.push(TopkPhrases {
                phrases,
                floor: floor_probability(sum.min(1.0), s.topk, vocab),
            });
        }
        s.set_outputs(&out)?;
        Ok(s)
    }

    /// `TextCausalLM`: the top-k tokens at every position.
    pub async fn causal(&self, caller: &Caller, mut s: TextCausalLM) -> Result<TextCausalLM> {
        self.bridge.require_identity("TextCausalLM")?;
        let rows = s.tokens()?;
        let topk = usize::try_from(s.topk).unwrap_or(usize::MAX);
        if topk > self.engine.vocab_size() {
            return Err(MinerError::Request(format!(
                "topk {topk} exceeds the model's vocabulary of {}",
                self.engine.vocab_size()
            )));
        }
        let Answer::Positions(answer) =
            self.compute(caller, Request::Positions { rows, topk }).await?
        else {
            return Err(MinerError::Engine("wrong answer kind".into()));
        };
        let answer: Vec<Vec<TokenProbs>> = answer
            .into_iter()
            .map(|row| row.into_iter().map(|t| TokenProbs { ids: t.ids, probs: t.probs }).collect())
            .collect();
        s.set_outputs(&answer)?;
        Ok(s)
    }

    /// `TextLastHiddenState`: the last hidden states, zero-padded to the network dimension.
    pub async fn hidden(
        &self,
        caller: &Caller,
        mut s: TextLastHiddenState,
    ) -> Result<TextLastHiddenState> {
        self.bridge.require_identity("TextLastHiddenState")?;
        let rows = s.tokens()?;
        let Answer::Hidden { values, dims } =
            self.compute(caller, Request::Hidden { rows }).await?
        else {
            return Err(MinerError::Engine("wrong answer kind".into()));
        };
        let [_, _, width] = dims;
        if width > NETWORK_DIM {
            return Err(MinerError::Request(format!(
                "the model's width {width} exceeds the network dimension {NETWORK_DIM}"
            )));
        }
        s.set_outputs(&pad_hidden(&values, width)?)?;
        Ok(s)
    }

    /// `TextSeq2Seq`: a continuation of each prompt, as standard ids and text. At most
    /// [`MAX_GENERATED_TOKENS`] new tokens per request (prompts x `num_to_generate`), so one
    /// caller cannot hold the inference thread for minutes.
    pub async fn generate(&self, caller: &Caller, mut s: TextSeq2Seq) -> Result<TextSeq2Seq> {
        let rows = s.tokens()?;
        let total =
            rows.len().saturating_mul(usize::try_from(s.num_to_generate).unwrap_or(usize::MAX));
        if total > MAX_GENERATED_TOKENS {
            return Err(MinerError::Request(format!(
                "{} prompts x {} new tokens exceeds {MAX_GENERATED_TOKENS} per request",
                rows.len(),
                s.num_to_generate
            )));
        }
        let prompts = self.to_model(&rows)?;
        let params = GenerateParams {
            max_new_tokens: usize::try_from(s.num_to_generate).unwrap_or(0),
            temperature: s.temperature,
            top_k: usize::try_from(s.topk).unwrap_or(0),
            top_p: s.top_p,
            repetition_penalty: s.repetition_penalty,
            no_repeat_ngram_size: usize::try_from(s.no_repeat_ngram_size).unwrap_or(0),
            seed: s.seed,
            eos_id: None,
        };
        let Answer::Generate(new) =
            self.compute(caller, Request::Generate { prompts, params }).await?
        else {
            return Err(MinerError::Engine("wrong answer kind".into()));
        };
        let mut generations = Vec::with_capacity(new.len());
        let mut texts = Vec::with_capacity(new.len());
        let limit = usize::try_from(s.num_to_generate).unwrap_or(usize::MAX);
        for ids in new {
            let (mut std_ids, text) = self.bridge.generated(&ids)?;
            std_ids.truncate(limit);
            generations.push(std_ids);
            texts.push(text);
        }
        s.set_outputs(&generations, Some(texts))?;
        Ok(s)
    }
}

impl Handlers {
    /// `GridGenerate`: the grid sampler's continuation of the prompt (model-native ids), with
    /// the model's end-of-text token as end-of-sequence. Refused beyond the grid's
    /// [`GridLimits`] or for ids outside the model's vocabulary (checked here so that one
    /// caller's bad request never fails a batch shared with others). Token times count from
    /// the request's arrival at the axon.
    pub async fn grid(&self, caller: &Caller, mut s: GridGenerate) -> Result<GridGenerate> {
        let Some((batcher, limits)) = &self.grid else {
            return Err(MinerError::Request("this miner serves no grid".into()));
        };
        let max_new_tokens = usize::try_from(s.max_new_tokens).unwrap_or(usize::MAX);
        limits.check(s.prompt.len(), max_new_tokens)?;
        let vocab = self.engine.vocab_size();
        if let Some(id) =
            s.prompt.iter().find(|&&id| usize::try_from(id).map_or(true, |id| id >= vocab))
        {
            return Err(MinerError::Request(format!(
                "token id {id} is outside the model's vocabulary of {vocab} tokens"
            )));
        }
        let arrival = caller.expires_at.checked_sub(caller.deadline).unwrap_or_else(Instant::now);
        #[cfg(feature = "test-utils")]
        if let Some(replayed) = self.cheat.as_ref().and_then(|c| c.replay(max_new_tokens)) {
            let now = arrival.elapsed().as_secs_f64() * 1000.0;
            let token_times_ms = vec![now; replayed.tokens.len()];
            s.set_outputs(GridAnswer {
                tokens: replayed.tokens,
                token_logprobs: replayed.logprobs,
                token_times_ms,
                stopped_at_eos: replayed.stopped_at_eos,
            })?;
            return Ok(s);
        }
        let req = GridRequest {
            sampling: GridSampling {
                temperature: s.temperature,
                top_k: usize::try_from(s.top_k).unwrap_or(usize::MAX),
                top_p: s.top_p,
            },
            seed: s.seed,
            max_new_tokens,
            eos_id: self.engine.eos_token_id(),
        };
        #[cfg(feature = "test-utils")]
        let req = match &self.cheat {
            Some(c) => c.rewrite(req),
            None => req,
        };
        let (output, started) = batcher.generate(s.prompt.clone(), req, caller.expires_at).await?;
        let offset = started.saturating_duration_since(arrival);
        let token_times_ms = output
            .token_times
            .iter()
            .map(|t| offset.saturating_add(*t).as_secs_f64() * 1000.0)
            .collect();
        #[cfg(feature = "test-utils")]
        if let Some(c) = &self.cheat {
            c.remember(&output.tokens, &output.logprobs);
            let delay = c.delay();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
        s.set_outputs(GridAnswer {
            tokens: output.tokens,
            token_logprobs: output.logprobs,
            token_times_ms,
            stopped_at_eos: output.stopped_at_eos,
        })?;
        Ok(s)
    }
}

/// Logs one served request and turns an error into the axon's error text.
fn logged<S>(caller: &Caller, synapse: &str, result: Result<S>) -> std::result::Result<S, String> {
    match &result {
        Ok(_) => tracing::debug!(target: "miner", "{synapse} for {} answered", caller.hotkey_ss58),
        Err(e) => {
            tracing::info!(target: "miner", "{synapse} for {} failed: {e}", caller.hotkey_ss58)
        }
    }
    result.map_err(|e| e.to_string())
}
