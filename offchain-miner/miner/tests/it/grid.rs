//! `GridGenerate` in grid mode: the answer is the model's own grid sampler output, batching
//! concurrent requests changes nothing (tokens, and log-probabilities up to rounding),
//! requests beyond the grid's limits are refused, added
//! latency delays answers but not token times; with `test-utils`, each grid cheat departs
//! from the honest output as it should.

use crate::fixture::{contexts, fixture, load, Miner, CONTEXT, STANDARD_VOCAB, TIMEOUT};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use subtensor_axon::{
    synapse::{GridAnswer, GridParams},
    AxonError, GridGenerate, Reply,
};
use subtensor_miner::{
    engine::EngineConfig,
    grid::{BatcherConfig, GridLimits},
    handlers::Handlers,
};
use subtensor_model::{GridOutput, GridRequest, GridSampling, LanguageModel};

/// The grid's limits in these tests: a spec of 16 new tokens and a context of 40, on a model
/// of context 48.
const LIMITS: GridLimits =
    GridLimits { max_new_tokens: 16, max_context: 40, n_positions: CONTEXT as usize };

async fn grid_miner(batcher: BatcherConfig) -> Miner {
    let f = fixture();
    Miner::start_with(&f.model_dir, &f.standard, EngineConfig::default(), Some((batcher, LIMITS)))
        .await
}

/// What `generate_grid` gives locally for `prompt` under `p`, with the model's end-of-text
/// token as end-of-sequence (as the miner does).
fn local(model: &LanguageModel, prompt: &[u32], p: &GridParams) -> GridOutput {
    let req = GridRequest {
        sampling: GridSampling {
            temperature: p.temperature,
            top_k: p.top_k as usize,
            top_p: p.top_p,
        },
        seed: p.seed,
        max_new_tokens: p.max_new_tokens as usize,
        eos_id: model.eos_token_id(),
    };
    model.generate_grid(prompt, &req).unwrap()
}

/// Largest difference between a batched row's log-probabilities and the same request decoded
/// alone (rounding only; the validator's default tolerance is 1e-3).
const BATCH_LOGPROB_SLACK: f64 = 1e-5;

/// Asserts that a reply carries `want`'s tokens and stop flag, its log-probabilities up to
/// batching's rounding, with sane times.
fn assert_answer(reply: &GridGenerate, want: &GridOutput) {
    let got = reply.outputs().unwrap();
    assert_eq!(got.tokens, want.tokens);
    assert_eq!(got.stopped_at_eos, want.stopped_at_eos);
    assert_eq!(got.token_logprobs.len(), want.logprobs.len());
    for (a, b) in got.token_logprobs.iter().zip(&want.logprobs) {
        assert!((a - b).abs() <= BATCH_LOGPROB_SLACK, "log-probability {a} vs {b}");
    }
    let times = &got.token_times_ms;
    assert_eq!(times.len(), got.tokens.len());
    assert!(times.iter().all(|t| t.is_finite() && *t >= 0.0), "{times:?}");
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "times decrease: {times:?}");
}

fn params(seed: u64, temperature: f64, top_k: u32, top_p: f64, max_new_tokens: u32) -> GridParams {
    GridParams { seed, temperature, top_k, top_p, max_new_tokens }
}

fn served(miner: &Miner) -> u64 {
    miner.engine.stats().served.load(Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grid_generate_is_the_models_grid_sampler() {
    let f = fixture();
    let miner = grid_miner(BatcherConfig::default()).await;
    let model = load(&f.model_dir);
    assert!(model.eos_token_id().is_some(), "the fixture model records its end-of-text id");
    let variants = [
        params(1, 1.0, 0, 1.0, 16),
        params(2, 0.0, 0, 1.0, 12),
        params(3, 0.8, 20, 0.9, 10),
        params(4, 1.5, 5, 1.0, 1),
    ];
    let mut stops = Vec::new();
    for prompt in contexts(&f.standard, 3, 6) {
        for p in &variants {
            let request = GridGenerate::request(&prompt, p).unwrap();
            let reply = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap();
            let want = local(&model, &prompt, p);
            assert_answer(&reply.synapse, &want);
            // Decoded alone, as generate_grid decodes: the very same log-probabilities.
            assert_eq!(reply.synapse.token_logprobs.as_ref(), Some(&want.logprobs));
            stops.push(want.stopped_at_eos);
            assert_eq!(reply.synapse.params(), *p, "the request fields come back unchanged");
            assert_eq!(reply.synapse.prompt, prompt);
        }
    }
    // Both ways of ending were exercised: the model's sentences are short, so some outputs
    // stop at its end-of-text token, and others run to max_new_tokens.
    assert!(stops.contains(&true) && stops.contains(&false), "{stops:?}");
    // The seed is really passed through: another seed samples something else.
    let prompt = &contexts(&f.standard, 1, 6)[0];
    let a = GridGenerate::request(prompt, &params(10, 1.0, 0, 1.0, 16)).unwrap();
    let b = GridGenerate::request(prompt, &params(11, 1.0, 0, 1.0, 16)).unwrap();
    let a = miner.dendrite.call(&miner.target, &a, TIMEOUT).await.unwrap();
    let b = miner.dendrite.call(&miner.target, &b, TIMEOUT).await.unwrap();
    assert_ne!(a.synapse.tokens, b.synapse.tokens);
    // The four text synapses are still served in grid mode.
    let next = subtensor_axon::TextCausalLMNext::request(std::slice::from_ref(prompt), 3).unwrap();
    miner.dendrite.call(&miner.target, &next, TIMEOUT).await.unwrap();
    miner.stop().await;
}

/// Sends `requests` all at once and returns the replies in order.
async fn concurrently(miner: &Miner, requests: &[GridGenerate]) -> Vec<GridGenerate> {
    let mut tasks = Vec::new();
    for request in requests {
        let (d, t, r) = (miner.dendrite.clone(), miner.target.clone(), request.clone());
        tasks.push(tokio::spawn(async move { d.call(&t, &r, TIMEOUT).await }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap().unwrap().synapse);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batching_is_invisible() {
    let f = fixture();
    let model = load(&f.model_dir);
    // A long window so that every request lands in it; a batch of 4 ends it.
    let batched = BatcherConfig { max_batch: 4, wait: Duration::from_millis(500), queue: 16 };
    let miner = grid_miner(batched).await;
    // Four prompts of one length, each with its own seed, sampling and length.
    let prompts = contexts(&f.standard, 4, 7);
    let ps = [
        params(21, 1.0, 0, 1.0, 16),
        params(22, 0.7, 10, 1.0, 9),
        params(23, 1.2, 0, 0.8, 12),
        params(24, 0.0, 0, 1.0, 5),
    ];
    let requests: Vec<GridGenerate> =
        prompts.iter().zip(&ps).map(|(q, p)| GridGenerate::request(q, p).unwrap()).collect();
    let together = concurrently(&miner, &requests).await;
    let passes = served(&miner);
    assert!(passes < 4, "4 concurrent requests took {passes} decodings: no batching");
    for ((request, reply), (prompt, p)) in
        requests.iter().zip(&together).zip(prompts.iter().zip(&ps))
    {
        let alone = miner.dendrite.call(&miner.target, request, TIMEOUT).await.unwrap().synapse;
        assert_eq!(reply.tokens, alone.tokens);
        assert_eq!(reply.stopped_at_eos, alone.stopped_at_eos);
        assert_answer(reply, &local(&model, prompt, p));
    }
    assert_eq!(served(&miner), passes + 4, "single requests decode alone");
    // Prompts of two lengths: grouped by length, each group decoded together.
    let short = contexts(&f.standard, 2, 5);
    let long = contexts(&f.standard, 2, 8);
    let mixed: Vec<(Vec<u32>, GridParams)> =
        short.into_iter().chain(long).zip(ps.iter().cloned()).collect();
    let requests: Vec<GridGenerate> =
        mixed.iter().map(|(q, p)| GridGenerate::request(q, p).unwrap()).collect();
    let before = served(&miner);
    let replies = concurrently(&miner, &requests).await;
    let decodings = served(&miner) - before;
    assert!((2..4).contains(&decodings), "{decodings} decodings for two lengths");
    for (reply, (prompt, p)) in replies.iter().zip(&mixed) {
        assert_answer(reply, &local(&model, prompt, p));
    }
    miner.stop().await;

    // --grid-batch-max 1: no batching, the same answers.
    let single = BatcherConfig { max_batch: 1, wait: Duration::from_millis(500), queue: 16 };
    let miner = grid_miner(single).await;
    let requests: Vec<GridGenerate> =
        prompts.iter().zip(&ps).map(|(q, p)| GridGenerate::request(q, p).unwrap()).collect();
    let replies = concurrently(&miner, &requests).await;
    assert_eq!(served(&miner), 4);
    for (reply, want) in replies.iter().zip(&together) {
        assert_eq!(reply.tokens, want.tokens);
    }
    miner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_limits_are_refused() {
    let f = fixture();
    let miner = grid_miner(BatcherConfig::default()).await;
    let model = load(&f.model_dir);
    let ids = f.standard.encode(&f.held_out.join(" ")).unwrap();
    let call = |prompt: Vec<u32>, p: GridParams| {
        let (d, t) = (miner.dendrite.clone(), miner.target.clone());
        async move {
            let request = GridGenerate::request(&prompt, &p).unwrap();
            d.call(&t, &request, TIMEOUT).await
        }
    };
    let refused = |r: Result<Reply<GridGenerate>, AxonError>| match r {
        Err(AxonError::Status { code: 500, .. }) => {}
        other => panic!("expected a refusal (500), got {other:?}"),
    };
    // More new tokens than the spec allows.
    refused(call(ids[..5].to_vec(), params(1, 1.0, 0, 1.0, 17)).await);
    // Prompt plus new tokens beyond the spec's context (40), though within the model's (48).
    refused(call(ids[..25].to_vec(), params(1, 1.0, 0, 1.0, 16)).await);
    // Exactly the context is fine.
    let p = params(1, 1.0, 0, 1.0, 16);
    let reply = call(ids[..24].to_vec(), p.clone()).await.unwrap();
    assert_answer(&reply.synapse, &local(&model, &ids[..24], &p));
    // An id within the wire bound but outside the model's vocabulary.
    refused(call(vec![1, STANDARD_VOCAB as u32], params(1, 1.0, 0, 1.0, 4)).await);
    // Out-of-bounds parameters are refused by the axon itself (422).
    let mut bad = GridGenerate::request(&ids[..4], &params(1, 1.0, 0, 1.0, 4)).unwrap();
    bad.temperature = 50.0;
    let err = miner.dendrite.call(&miner.target, &bad, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 422, .. }), "{err:?}");
    // Nothing reached the model but the one valid request.
    assert_eq!(served(&miner), 1);
    miner.stop().await;

    // A miner not in grid mode does not serve the synapse at all.
    let plain = Miner::start(&f.model_dir, &f.standard, EngineConfig::default()).await;
    let request = GridGenerate::request(&ids[..4], &params(1, 1.0, 0, 1.0, 4)).unwrap();
    let err = plain.dendrite.call(&plain.target, &request, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 404, .. }), "{err:?}");
    plain.stop().await;
}

/// A grid miner whose handlers went through `customise`.
async fn custom_grid_miner(customise: impl FnOnce(Handlers) -> Handlers) -> Miner {
    let f = fixture();
    Miner::start_custom(
        &f.model_dir,
        &f.standard,
        EngineConfig::default(),
        Some((BatcherConfig::default(), LIMITS)),
        customise,
    )
    .await
}

/// Calls `miner` with `prompt` and `p`; returns the answer and the round-trip time.
async fn grid_call(miner: &Miner, prompt: &[u32], p: &GridParams) -> (GridAnswer, Duration) {
    let request = GridGenerate::request(prompt, p).unwrap();
    let started = Instant::now();
    let reply = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap();
    (reply.synapse.outputs().unwrap(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_latency_delays_every_answer_but_not_the_token_times() {
    let f = fixture();
    let latency = Duration::from_millis(800);
    let miner = custom_grid_miner(|h| h.with_added_latency(latency)).await;
    let model = load(&f.model_dir);
    let prompt = &contexts(&f.standard, 1, 6)[0];
    let p = params(5, 1.0, 0, 1.0, 16);
    let (answer, elapsed) = grid_call(&miner, prompt, &p).await;
    let want = local(&model, prompt, &p);
    assert_eq!((answer.tokens, answer.stopped_at_eos), (want.tokens, want.stopped_at_eos));
    assert!(elapsed >= latency, "answered after {elapsed:?}");
    let last = answer.token_times_ms.last().copied().unwrap_or(0.0);
    assert!(
        last < elapsed.as_secs_f64() * 1000.0 - 700.0,
        "token times include the added latency: last {last} ms of {elapsed:?}"
    );
    // The text synapses are delayed too.
    let next = subtensor_axon::TextCausalLMNext::request(std::slice::from_ref(prompt), 3).unwrap();
    let started = Instant::now();
    miner.dendrite.call(&miner.target, &next, TIMEOUT).await.unwrap();
    assert!(started.elapsed() >= latency, "TextCausalLMNext after {:?}", started.elapsed());
    miner.stop().await;
}

#[cfg(feature = "test-utils")]
mod cheats {
    use super::*;
    use subtensor_miner::cheat::{GridCheat, IGNORED_SEED};

    async fn cheater(cheat: GridCheat) -> Miner {
        custom_grid_miner(move |h| h.with_grid_cheat(cheat)).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wrong_model_cheat_samples_honestly() {
        let f = fixture();
        let model = load(&f.model_dir);
        let miner = cheater(GridCheat::WrongModel).await;
        let prompt = &contexts(&f.standard, 1, 6)[0];
        let p = params(7, 1.0, 0, 1.0, 16);
        let (answer, _) = grid_call(&miner, prompt, &p).await;
        let honest = local(&model, prompt, &p);
        assert_eq!(answer.tokens, honest.tokens);
        assert_eq!(answer.token_logprobs, honest.logprobs, "its own model's log-probabilities");
        miner.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ignore_seed_cheat_samples_with_seed_zero() {
        let f = fixture();
        let model = load(&f.model_dir);
        let miner = cheater(GridCheat::IgnoreSeed).await;
        let prompt = &contexts(&f.standard, 1, 6)[0];
        let p = params(5, 1.0, 0, 1.0, 16);
        let (answer, _) = grid_call(&miner, prompt, &p).await;
        let honest = local(&model, prompt, &p);
        let zero = local(&model, prompt, &GridParams { seed: IGNORED_SEED, ..p.clone() });
        assert_ne!(honest.tokens, zero.tokens, "seed 5 and seed 0 must differ for this test");
        assert_eq!(answer.tokens, zero.tokens);
        assert_eq!(answer.token_logprobs, zero.logprobs);
        assert_ne!(answer.tokens, honest.tokens);
        miner.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn greedy_cheat_ignores_the_temperature() {
        let f = fixture();
        let model = load(&f.model_dir);
        let miner = cheater(GridCheat::Greedy).await;
        let prompt = &contexts(&f.standard, 1, 6)[0];
        let greedy = local(&model, prompt, &params(1, 0.0, 0, 1.0, 16));
        // A seed where sampling at T = 1 departs from the argmax.
        let p = (1..50)
            .map(|seed| params(seed, 1.0, 0, 1.0, 16))
            .find(|p| local(&model, prompt, p).tokens != greedy.tokens)
            .expect("some seed samples off the argmax at T = 1");
        let (answer, _) = grid_call(&miner, prompt, &p).await;
        assert_eq!(answer.tokens, greedy.tokens);
        // Log-probabilities are of the raw distribution: right for the greedy tokens (only
        // the token margins give this cheat away).
        assert_eq!(answer.token_logprobs, greedy.logprobs);
        assert_ne!(answer.tokens, local(&model, prompt, &p).tokens);
        miner.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replay_cheat_repeats_its_first_answer() {
        let f = fixture();
        let model = load(&f.model_dir);
        let miner = cheater(GridCheat::Replay).await;
        let prompts = contexts(&f.standard, 2, 6);
        let first_p = params(3, 1.0, 0, 1.0, 16);
        let (first, _) = grid_call(&miner, &prompts[0], &first_p).await;
        let honest = local(&model, &prompts[0], &first_p);
        assert_eq!(first.tokens, honest.tokens, "honest at first");
        assert_eq!(first.token_logprobs, honest.logprobs);
        let second_p = params(4, 1.0, 0, 1.0, 16);
        let (second, _) = grid_call(&miner, &prompts[1], &second_p).await;
        assert_eq!(second.tokens, first.tokens);
        assert_eq!(second.token_logprobs, first.token_logprobs, "replayed with its tokens");
        assert_eq!(second.stopped_at_eos, first.stopped_at_eos);
        assert_ne!(second.tokens, local(&model, &prompts[1], &second_p).tokens);
        // Truncated to a smaller max_new_tokens.
        let short = params(9, 1.0, 0, 1.0, 3);
        let (third, _) = grid_call(&miner, &prompts[1], &short).await;
        let want: Vec<u32> = first.tokens.iter().take(3).copied().collect();
        assert_eq!(third.tokens, want);
        assert_eq!(third.token_logprobs, first.token_logprobs[..want.len()].to_vec());
        assert_eq!(third.stopped_at_eos, want.len() < 3);
        miner.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn late_cheat_answers_honestly_after_the_delay() {
        let f = fixture();
        let model = load(&f.model_dir);
        let delay = Duration::from_millis(1500);
        let miner = cheater(GridCheat::Late(delay)).await;
        let prompt = &contexts(&f.standard, 1, 6)[0];
        let p = params(6, 1.0, 0, 1.0, 16);
        let (answer, elapsed) = grid_call(&miner, prompt, &p).await;
        let honest = local(&model, prompt, &p);
        assert_eq!((answer.tokens, answer.token_logprobs), (honest.tokens, honest.logprobs));
        assert!(elapsed >= delay, "answered after {elapsed:?}");
        miner.stop().await;
    }
}
