//! The scoring path end to end: the validator's step (`step::run_step`) queries axons on
//! loopback that answer well, badly, maliciously or not at all; only the honest ones may get
//! weight, and nothing crashes.

use crate::key;
use rand::{rngs::StdRng, SeedableRng};
use std::{collections::BTreeMap, net::SocketAddr, time::Duration};
use subtensor_axon::{
    axon::RunningAxon,
    synapse::{floor_probability, TopkPhrases},
    Axon, AxonConfig, AxonTarget, Caller, Dendrite, TextCausalLMNext,
};
use subtensor_validator::{
    data::EvalData,
    scoring::ScoringParams,
    state::State,
    step::{run_step, StepParams},
    weights::{plan_weights, Standing, WeightRules},
};

/// The evaluation text cycles through 0..PERIOD, so the next token is always `last + 1`.
pub(crate) const PERIOD: u32 = 200;
pub(crate) const VOCAB: u32 = 256;
pub(crate) const TOPK: u32 = 4;

/// How a loopback miner answers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Behaviour {
    /// Puts `p` on the true two-token continuation.
    Honest(f32),
    /// Puts all mass on a wrong token, floor 0.
    ConfidentlyWrong,
    /// Answers a one-row request it made up (does not echo the inputs).
    WrongRequest,
    /// Fails in its handler (500).
    Crash,
    /// Answers after the validator's timeout.
    Slow,
}

fn rows_for(tokens: &[Vec<u32>], behaviour: Behaviour) -> Vec<TopkPhrases> {
    tokens
        .iter()
        .map(|row| {
            let next = (row.last().copied().unwrap() + 1) % PERIOD;
            let after = (next + 1) % PERIOD;
            let (p, wrong) = match behaviour {
                Behaviour::Honest(p) => (p, false),
                _ => (1.0, true),
            };
            let first = if wrong { vec![(next + 7) % PERIOD] } else { vec![next, after] };
            let rest = (1.0 - p) / (TOPK - 1) as f32;
            let mut phrases = vec![(p, first)];
            phrases.extend((1..TOPK).map(|i| (rest, vec![(next + 10 + i) % PERIOD])));
            let floor = if wrong { 0.0 } else { floor_probability(p + rest * 3.0, TOPK, VOCAB) };
            TopkPhrases { phrases, floor }
        })
        .collect()
}

/// A loopback axon answering `TextCausalLMNext` with `behaviour` (hotkey //Bob).
pub(crate) async fn spawn(behaviour: Behaviour) -> RunningAxon {
    Axon::new(key("//Bob"), AxonConfig::default())
        .attach(move |_caller: Caller, mut s: TextCausalLMNext| async move {
            let tokens = s.tokens().map_err(|e| e.to_string())?;
            match behaviour {
                Behaviour::Crash => return Err("model exploded".to_owned()),
                Behaviour::Slow => tokio::time::sleep(Duration::from_secs(4)).await,
                Behaviour::WrongRequest => {
                    let first = tokens.first().cloned().unwrap();
                    let mut other =
                        TextCausalLMNext::request(std::slice::from_ref(&first), s.topk).unwrap();
                    other.set_outputs(&rows_for(&[first], Behaviour::Honest(0.9))).unwrap();
                    return Ok(other);
                }
                _ => {}
            }
            let rows = rows_for(&tokens, behaviour);
            s.set_outputs(&rows).map_err(|e| e.to_string())?;
            Ok(s)
        })
        .spawn("127.0.0.1:0".parse::<SocketAddr>().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_honest_miners_get_weight() {
    let behaviours = [
        (1u16, Behaviour::Honest(0.9)),
        (2, Behaviour::Honest(0.05)),
        (3, Behaviour::ConfidentlyWrong),
        (4, Behaviour::WrongRequest),
        (5, Behaviour::Crash),
        (6, Behaviour::Slow),
    ];
    let mut axons = Vec::new();
    let mut targets = BTreeMap::new();
    for (uid, b) in behaviours {
        let axon = spawn(b).await;
        targets.insert(uid, AxonTarget { addr: axon.addr, hotkey: key("//Bob").ss58() });
        axons.push(axon);
    }
    // A dead address too (uid 7): nothing listens there.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    targets.insert(7, AxonTarget { addr: dead, hotkey: key("//Bob").ss58() });

    let data = EvalData::from_tokens((0..4000).map(|i| i % PERIOD).collect(), VOCAB).unwrap();
    let dendrite = Dendrite::new(key("//Alice"));
    let params = StepParams {
        sample_size: targets.len(),
        batch: 3,
        context: 16,
        validation_len: 4,
        topk: TOPK,
        timeout: Duration::from_secs(2),
        scoring: ScoringParams::default(),
        thread_cpu: None,
    };
    let mut state = State::new(1, key("//Alice").ss58());
    let mut rng = StdRng::seed_from_u64(9);
    for _ in 0..3 {
        let report = run_step(&dendrite, &data, &mut state, &targets, &params, &mut rng)
            .await
            .unwrap()
            .expect("every serving uid is handed out");
        // The step's size is the whole subnet: every step is a full walk.
        assert!(report.completes_walk);
        assert_eq!(report.outcomes.len(), 7);
        for outcome in &report.outcomes {
            let (uid, obs) = (outcome.uid, &outcome.observation);
            match uid {
                1..=3 => assert!(!obs.is_failure(), "uid {uid}: {obs:?}"),
                _ => assert!(obs.is_failure(), "uid {uid}: {obs:?}"),
            }
        }
        assert_eq!(report.answered(), 3);
    }
    let scores = &state.uids;
    assert_eq!(scores.len(), 7);
    assert!(scores[&1].ema_loss < scores[&2].ema_loss);
    assert!(scores[&2].ema_loss < scores[&3].ema_loss);
    for uid in 4..=7 {
        assert_eq!(scores[&uid].zeroing, 0.0, "uid {uid}");
        assert_eq!(scores[&uid].failures, 3);
    }
    let standings: Vec<Standing> = scores
        .iter()
        .map(|(&uid, s)| Standing { uid, zeroing: s.zeroing, ema_loss: Some(s.ema_loss) })
        .collect();
    let rules = WeightRules { n: 8, own_uid: 0, min_allowed: 1, max_weight_limit: u16::MAX };
    let w = plan_weights(&standings, &rules).unwrap();
    assert_eq!(w.value_of(1), Some(65535));
    let mediocre = w.value_of(2).unwrap();
    assert!(mediocre > 0 && mediocre < 65535, "{w:?}");
    for uid in 3..=7 {
        assert_eq!(w.value_of(uid), None, "uid {uid} must get no weight: {w:?}");
    }
    for axon in axons {
        axon.shutdown().await.unwrap();
    }
}
