//! The inference engine: concurrent next-token requests share forward passes and each caller
//! gets its own rows; rows of different lengths; deadlines; a full queue.

use crate::fixture::{assert_same_topk, contexts, fixture, load, Miner, TIMEOUT};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use subtensor_axon::TextCausalLMNext;
use subtensor_miner::{
    engine::{Answer, Engine, EngineConfig, Request},
    MinerError,
};
use subtensor_model::{tch::Device, GenerateParams, LanguageModel, TokenTopk};

/// Probabilities of a batched pass and of a single-row pass may differ in the last bits.
const BATCH_TOL: f32 = 1e-5;

fn engine(config: EngineConfig) -> Engine {
    let dir = fixture().model_dir.clone();
    Engine::start(move || LanguageModel::load(&dir, Device::Cpu), config).unwrap()
}

fn later() -> Instant {
    Instant::now() + TIMEOUT
}

fn next_rows(answer: Answer) -> Vec<TokenTopk> {
    match answer {
        Answer::Next(rows) => rows,
        other => panic!("expected a next-token answer, got {other:?}"),
    }
}

fn counters(e: &Engine) -> [u64; 5] {
    let s = e.stats();
    [&s.served, &s.expired, &s.failed, &s.merged_passes, &s.merged_rows]
        .map(|c| c.load(Ordering::Relaxed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_passes_and_get_their_own_rows() {
    let f = fixture();
    // A long window so that every request lands in it; a batch of exactly N rows ends it.
    const N: usize = 8;
    let e = engine(EngineConfig {
        max_batch_rows: N,
        batch_wait: Duration::from_millis(500),
        queue: 64,
    });
    let rows = contexts(&f.standard, N, 10);
    let mut tasks = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let (e, row) = (e.clone(), row.clone());
        // Each caller its own k, so that the answers are cut per request.
        let topk = 3 + i;
        tasks.push(tokio::spawn(async move {
            e.run(Request::Next { rows: vec![row], topk }, later()).await
        }));
    }
    let mut batched = Vec::new();
    for t in tasks {
        batched.push(next_rows(t.await.unwrap().unwrap()));
    }
    let [served, expired, failed, passes, merged_rows] = counters(&e);
    assert_eq!((served, expired, failed, merged_rows), (N as u64, 0, 0, N as u64));
    assert!(passes < N as u64, "{N} requests took {passes} passes: no batching");
    // Each caller got exactly its own row: compare with single runs, one request at a time.
    for (i, (row, got)) in rows.iter().zip(&batched).enumerate() {
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].ids.len(), 3 + i);
        let single = e.run(Request::Next { rows: vec![row.clone()], topk: 3 + i }, later()).await;
        let single = next_rows(single.unwrap());
        assert_same_topk(&got[0], &single[0], BATCH_TOL);
    }
    assert_eq!(counters(&e)[3], passes + N as u64, "single requests run alone");
    // Different rows really give different answers (the comparison above is not vacuous).
    assert!(batched.windows(2).any(|w| w[0][0].probs[0] != w[1][0].probs[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_dendrite_calls_are_batched_through_the_axon() {
    let f = fixture();
    const N: usize = 6;
    let config =
        EngineConfig { max_batch_rows: N, batch_wait: Duration::from_millis(500), queue: 64 };
    let miner = Miner::start(&f.model_dir, &f.standard, config).await;
    let model = load(&f.model_dir);
    let rows = contexts(&f.standard, N, 9);
    let mut tasks = Vec::new();
    for row in &rows {
        let (dendrite, target) = (miner.dendrite.clone(), miner.target.clone());
        let request = TextCausalLMNext::request(std::slice::from_ref(row), 5).unwrap();
        tasks.push(tokio::spawn(async move { dendrite.call(&target, &request, TIMEOUT).await }));
    }
    for (t, row) in tasks.into_iter().zip(&rows) {
        let reply = t.await.unwrap().unwrap();
        assert_eq!(reply.synapse.tokens().unwrap(), vec![row.clone()]);
        let answer = &reply.synapse.outputs().unwrap()[0];
        let got = TokenTopk {
            ids: answer.phrases.iter().map(|(_, p)| p[0]).collect(),
            probs: answer.phrases.iter().map(|(p, _)| *p).collect(),
        };
        let want = model.next_token_topk(std::slice::from_ref(row), 5).unwrap();
        assert_same_topk(&got, &want[0], BATCH_TOL);
    }
    let [served, _, _, passes, merged_rows] = counters(&miner.engine);
    assert_eq!((served, merged_rows), (N as u64, N as u64));
    assert!(passes < N as u64, "{N} calls took {passes} passes: no batching");
    miner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_different_lengths_in_one_request() {
    let f = fixture();
    let e = engine(EngineConfig::default());
    let model = load(&f.model_dir);
    let base = contexts(&f.standard, 4, 12);
    let rows =
        vec![base[0][..4].to_vec(), base[1][..9].to_vec(), base[2][..4].to_vec(), base[3].clone()];
    let answer =
        next_rows(e.run(Request::Next { rows: rows.clone(), topk: 7 }, later()).await.unwrap());
    assert_eq!(answer.len(), rows.len());
    for (got, row) in answer.iter().zip(&rows) {
        let single = model.next_token_topk(std::slice::from_ref(row), 7).unwrap();
        assert_same_topk(got, &single[0], BATCH_TOL);
    }
    // One pass per distinct length (4, 9, 12).
    let [served, _, _, passes, merged_rows] = counters(&e);
    assert_eq!((served, passes, merged_rows), (1, 3, 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_is_not_run() {
    let f = fixture();
    let e = engine(EngineConfig::default());
    let rows = contexts(&f.standard, 2, 6);
    let result = e.run(Request::Next { rows: rows.clone(), topk: 3 }, Instant::now()).await;
    assert!(matches!(result, Err(MinerError::Deadline)), "{result:?}");
    let generate = Request::Generate { prompts: rows.clone(), params: GenerateParams::default() };
    let result = e.run(generate, Instant::now()).await;
    assert!(matches!(result, Err(MinerError::Deadline)), "{result:?}");
    assert_eq!(counters(&e), [0, 2, 0, 0, 0], "expired requests must not reach the model");
    // The engine goes on serving.
    e.run(Request::Next { rows, topk: 3 }, later()).await.unwrap();
    assert_eq!(counters(&e), [1, 2, 0, 1, 2]);
}

/// Polls `fut` once: queues the engine request (its `try_send` happens on the first poll).
fn poll_once<F: Future>(fut: &mut Pin<Box<F>>) -> Poll<F::Output> {
    fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_busy_at_once() {
    let f = fixture();
    // One slot in the queue, no batching: while the thread generates, one request may wait.
    let e = engine(EngineConfig { max_batch_rows: 1, batch_wait: Duration::ZERO, queue: 1 });
    let prompt = contexts(&f.standard, 1, 6);
    let slow =
        GenerateParams { max_new_tokens: 200, temperature: 1.0, ..GenerateParams::default() };
    const N: usize = 6;
    // Queue N requests back to back, far faster than one generation of 200 tokens.
    let mut futures: Vec<_> = (0..N)
        .map(|_| {
            let request = Request::Generate { prompts: prompt.clone(), params: slow.clone() };
            let e = e.clone();
            Box::pin(async move { e.run(request, Instant::now() + TIMEOUT).await })
        })
        .collect();
    let first_polls: Vec<_> = futures.iter_mut().map(poll_once).collect();
    let busy =
        first_polls.iter().filter(|p| matches!(p, Poll::Ready(Err(MinerError::Busy)))).count();
    // The thread holds at most one request and the queue one more.
    assert!(busy >= N - 2, "{busy} of {N} refused: {first_polls:?}");
    assert!(
        first_polls.iter().all(|p| matches!(p, Poll::Pending | Poll::Ready(Err(MinerError::Busy)))),
        "{first_polls:?}"
    );
    // The accepted ones are answered in full.
    let mut answered = 0;
    for (fut, first) in futures.iter_mut().zip(&first_polls) {
        if first.is_pending() {
            match fut.await.unwrap() {
                Answer::Generate(out) => assert_eq!(out[0].len(), 200),
                other => panic!("{other:?}"),
            }
            answered += 1;
        }
    }
    assert_eq!(answered + busy, N);
    assert_eq!(counters(&e)[0], answered as u64);
    // Once the queue drains, requests are accepted again.
    let short = GenerateParams { max_new_tokens: 2, ..GenerateParams::default() };
    e.run(Request::Generate { prompts: prompt, params: short }, later()).await.unwrap();
}

/// A next-token request with a token the wire allows (< 50 258) but the model does not know
/// must fail alone; today it is merged with the other callers' rows of the same length and the
/// model's vocabulary check fails the whole pass, so one bad caller fails everyone batched with
/// it. See the report: the fix checks ids against the vocabulary before queueing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_of_vocabulary_row_fails_only_its_own_request() {
    let f = fixture();
    let e = engine(EngineConfig {
        max_batch_rows: 8,
        batch_wait: Duration::from_millis(500),
        queue: 8,
    });
    let good = contexts(&f.standard, 1, 5);
    let mut bad = good.clone();
    bad[0][2] = 40_000;
    let (e1, e2) = (e.clone(), e.clone());
    let good_task =
        tokio::spawn(async move { e1.run(Request::Next { rows: good, topk: 3 }, later()).await });
    let bad_task =
        tokio::spawn(async move { e2.run(Request::Next { rows: bad, topk: 3 }, later()).await });
    let (good, bad) = (good_task.await.unwrap(), bad_task.await.unwrap());
    assert!(bad.is_err());
    assert!(good.is_ok(), "a good request failed because of another caller's: {good:?}");
}
