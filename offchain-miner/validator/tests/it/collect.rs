//! Collecting a distillation buffer (`distill::collect::collect`) from axons on loopback: one
//! record per context and usable answer, weighted by the teacher's incentive, contexts cut
//! from the data with one length per query; failures counted, not written; a stop honoured.

use crate::key;
use crate::miners::{spawn, Behaviour, PERIOD, TOPK, VOCAB};
use rand::{rngs::StdRng, SeedableRng};
use std::{collections::BTreeMap, time::Duration};
use subtensor_axon::{AxonTarget, Dendrite};
use subtensor_model::distill::read_records;
use subtensor_validator::{
    data::EvalData,
    distill::{
        collect::{collect, CollectParams, Teacher},
        DistillSink,
    },
};

fn params(contexts: usize) -> CollectParams {
    CollectParams {
        contexts,
        batch: 4,
        min_context: 3,
        max_context: 12,
        validation_len: 2,
        topk: TOPK,
        timeout: Duration::from_secs(2),
        pause: Duration::ZERO,
    }
}

fn data() -> EvalData {
    EvalData::from_tokens((0..4000).map(|i| i % PERIOD).collect(), VOCAB).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn answers_become_incentive_weighted_records() {
    let mut axons = Vec::new();
    let mut teachers = Vec::new();
    for (uid, incentive, behaviour) in [
        (4u16, 40_000u16, Behaviour::Honest(0.9)),
        (7, 20_000, Behaviour::Honest(0.5)),
        (9, 5_000, Behaviour::Crash),
    ] {
        let axon = spawn(behaviour).await;
        let target = AxonTarget { addr: axon.addr, hotkey: key("//Bob").ss58() };
        teachers.push(Teacher::new(uid, &target, incentive));
        axons.push(axon);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut sink = DistillSink::open(dir.path(), 1, VOCAB).unwrap();
    let dendrite = Dendrite::new(key("//Alice"));
    let mut rng = StdRng::seed_from_u64(3);
    let done = collect(
        &dendrite,
        &data(),
        &teachers,
        &params(10),
        &mut sink,
        &mut rng,
        std::future::pending(),
    )
    .await
    .unwrap();

    // Queries of 4, 4 and 2 contexts; the crashing teacher fails each and writes nothing.
    assert_eq!((done.contexts, done.queries, done.records), (10, 3, 20));
    assert_eq!(done.answers, BTreeMap::from([(4, 10), (7, 10)]));
    assert_eq!(done.failures, BTreeMap::from([(9, 3)]));
    assert!(done.last_failure[&9].starts_with("status 500"), "{:?}", done.last_failure);
    assert!(done.mean_loss[&4] < done.mean_loss[&7], "{:?}", done.mean_loss);
    assert!(!done.interrupted);

    let records = read_records(dir.path()).unwrap().records;
    assert_eq!(records.len(), 20);
    let weight = BTreeMap::from([(4u16, 40_000f32 / 65_535.0), (7, 20_000f32 / 65_535.0)]);
    let mut per_context: BTreeMap<Vec<u32>, Vec<u16>> = BTreeMap::new();
    for r in &records {
        assert_eq!(r.weight, weight[&r.uid], "uid {}", r.uid);
        assert_eq!(r.vocab, VOCAB);
        assert!((3..=12).contains(&r.context.len()), "{:?}", r.context);
        // A contiguous window of the text, and the token that really followed it.
        assert!(r.context.windows(2).all(|w| w[1] == (w[0] + 1) % PERIOD), "{:?}", r.context);
        let next = (r.context.last().unwrap() + 1) % PERIOD;
        assert_eq!(r.true_next, Some(next));
        let p = if r.uid == 4 { 0.9 } else { 0.5 };
        let listed = r.teacher.iter().find(|(id, _)| *id == next).unwrap().1;
        assert!((listed - p).abs() < 1e-6, "uid {}: {listed}", r.uid);
        per_context.entry(r.context.clone()).or_default().push(r.uid);
    }
    // Every context was answered by both honest teachers.
    for (context, uids) in &per_context {
        let fours = uids.iter().filter(|&&u| u == 4).count();
        assert_eq!(fours * 2, uids.len(), "{context:?}: {uids:?}");
    }
    // The rows of one query share a length: the first query's 8 records (4 contexts × 2).
    assert!(records[..8].iter().all(|r| r.context.len() == records[0].context.len()));
    assert!(sink.total_bytes() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_the_collection_between_queries() {
    let axon = spawn(Behaviour::Honest(0.9)).await;
    let target = AxonTarget { addr: axon.addr, hotkey: key("//Bob").ss58() };
    let teachers = [Teacher::new(1, &target, 1000)];
    let dir = tempfile::tempdir().unwrap();
    let mut sink = DistillSink::open(dir.path(), 1, VOCAB).unwrap();
    let dendrite = Dendrite::new(key("//Alice"));
    let mut rng = StdRng::seed_from_u64(4);
    let done = collect(
        &dendrite,
        &data(),
        &teachers,
        &params(100),
        &mut sink,
        &mut rng,
        std::future::ready(()),
    )
    .await
    .unwrap();
    assert!(done.interrupted);
    assert_eq!((done.contexts, done.records), (0, 0));
    assert!(read_records(dir.path()).unwrap().records.is_empty());
}
