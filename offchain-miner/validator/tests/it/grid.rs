//! Grid mode end to end without a chain: `grid::run_grid_step` challenges axons on loopback
//! that serve the grid model honestly or cheat (greedy, another seed, another model, the model
//! with slightly perturbed weights, replayed answers, answers held past the deadline); honest answers are never rejected, every cheater
//! is, and only honest miners get weight.

use crate::key;
use rand::{rngs::StdRng, SeedableRng};
use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};
use subtensor_axon::{
    axon::RunningAxon, synapse::GridAnswer, Axon, AxonConfig, AxonTarget, Caller, Dendrite,
    GridGenerate,
};
use subtensor_model::{Device, GptConfig, GridTolerance, LanguageModel};
use subtensor_validator::{
    data::EvalData,
    grid::{
        plan::plan_grid_weights, run_grid_step, ChallengeContext, ChallengeShape, GridObservation,
        GridScoring, GridStepParams, GridVerifier, SeedSource,
    },
    state::State,
    weights::WeightRules,
};

const VOCAB: u32 = 64;

fn config() -> GptConfig {
    GptConfig {
        vocab_size: VOCAB.into(),
        n_positions: 64,
        n_embd: 32,
        n_layer: 2,
        n_head: 4,
        layer_norm_epsilon: 1e-5,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Behaviour {
    Honest,
    /// Temperature 0 whatever was asked.
    Greedy,
    /// Its own seed instead of the request's.
    IgnoreSeed,
    /// Another model of the same architecture.
    OtherModel,
    /// The grid model with its weights perturbed by 1% of their RMS.
    Perturbed,
    /// The first answer it ever gave, every time.
    Replay,
    /// An honest answer, after the validator's deadline.
    Late,
}

async fn spawn(model: Arc<Mutex<LanguageModel>>, behaviour: Behaviour) -> RunningAxon {
    let replayed: Arc<Mutex<Option<GridAnswer>>> = Arc::default();
    Axon::new(key("//Bob"), AxonConfig::default())
        .attach(move |_caller: Caller, mut s: GridGenerate| {
            let (model, replayed) = (model.clone(), replayed.clone());
            async move {
                let prompt = s.prompt.clone();
                let mut params = s.params();
                match behaviour {
                    Behaviour::Greedy => params.temperature = 0.0,
                    Behaviour::IgnoreSeed => params.seed = 12345,
                    _ => {}
                }
                let answer = tokio::task::spawn_blocking(move || {
                    let model = model.lock().unwrap();
                    let verifier_req = subtensor_validator::grid::verifier::grid_request(
                        &params,
                        model.eos_token_id(),
                    );
                    let out = model.generate_grid(&prompt, &verifier_req).unwrap();
                    GridAnswer {
                        token_times_ms: out
                            .token_times
                            .iter()
                            .map(|t| t.as_secs_f64() * 1000.0)
                            .collect(),
                        tokens: out.tokens,
                        token_logprobs: out.logprobs,
                        stopped_at_eos: out.stopped_at_eos,
                    }
                })
                .await
                .unwrap();
                let answer = if behaviour == Behaviour::Replay {
                    replayed.lock().unwrap().get_or_insert(answer).clone()
                } else {
                    answer
                };
                if behaviour == Behaviour::Late {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                s.set_outputs(answer).map_err(|e| e.to_string())?;
                Ok::<_, String>(s)
            }
        })
        .spawn("127.0.0.1:0".parse::<SocketAddr>().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn honest_miners_pass_cheaters_are_rejected_and_get_no_weight() {
    let model = || LanguageModel::random(config(), Device::Cpu, 7).unwrap();
    let shared = Arc::new(Mutex::new(model()));
    let other = Arc::new(Mutex::new(LanguageModel::random(config(), Device::Cpu, 8).unwrap()));
    let perturbed = Arc::new(Mutex::new(model().perturbed(0.01, 1).unwrap()));
    let behaviours = [
        (1u16, Behaviour::Honest),
        (2, Behaviour::Honest),
        (3, Behaviour::Greedy),
        (4, Behaviour::IgnoreSeed),
        (5, Behaviour::OtherModel),
        (6, Behaviour::Replay),
        (7, Behaviour::Late),
        (8, Behaviour::Perturbed),
    ];
    let mut axons = Vec::new();
    let mut targets = BTreeMap::new();
    for (uid, b) in behaviours {
        let m = match b {
            Behaviour::OtherModel => other.clone(),
            Behaviour::Perturbed => perturbed.clone(),
            _ => shared.clone(),
        };
        let axon = spawn(m, b).await;
        targets.insert(uid, AxonTarget { addr: axon.addr, hotkey: key("//Bob").ss58() });
        axons.push(axon);
    }

    let verifier = GridVerifier::new(model(), GridTolerance::default()).unwrap();
    let mut text_rng = StdRng::seed_from_u64(3);
    let tokens: Vec<u32> =
        (0..3000).map(|_| rand::Rng::gen_range(&mut text_rng, 0..VOCAB)).collect();
    let data = EvalData::from_tokens(tokens, VOCAB).unwrap();
    let dendrite = Dendrite::new(key("//Alice"));
    let scoring = GridScoring { window: 32, percentile: 20.0, success_floor: 0.8, ban_blocks: 50 };
    let params = GridStepParams {
        redundancy: 3,
        shape: ChallengeShape {
            prompt_len: 8,
            new_tokens: 24,
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
        },
        timeout: Duration::from_secs(2),
        spot_check: 0.0,
        scoring,
    };
    let mut state = State::new(1, key("//Alice").ss58());
    let mut rng = StdRng::seed_from_u64(9);
    let seeds = SeedSource { hotkey: [1; 32], block_hash: [2; 32], secret: [3; 32] };
    let mut verifications = 0;
    let mut agreements = 0;
    for step in 0..24u64 {
        let ctx = ChallengeContext { seeds, block: 100 + step };
        let report = run_grid_step(
            &dendrite, &verifier, &data, &mut state, &targets, &params, &ctx, &mut rng,
        )
        .await
        .unwrap()
        .expect("serving uids are handed out");
        // Walks of 8 uids in steps of 3, 3 and 2.
        assert_eq!(report.outcomes.len(), if step % 3 == 2 { 2 } else { 3 });
        verifications += report.verifications;
        for o in &report.outcomes {
            if let GridObservation::Verified { by_agreement: true, .. } = o.observation {
                agreements += 1;
            }
        }
    }
    // Every uid was challenged once in each of the 8 walks of 3 steps.
    assert_eq!(state.sampler.walks, 8);
    assert_eq!(state.grid_counter, 24);
    for uid in [1, 2] {
        let s = &state.grid[&uid];
        assert_eq!((s.rejected, s.failed), (0, 0), "honest uid {uid}: {s:?}");
        assert_eq!(s.verified + s.agreed, 8);
    }
    for uid in [3, 4, 5, 6, 8] {
        let s = &state.grid[&uid];
        assert!(s.rejected >= 1, "cheater uid {uid} was never rejected: {s:?}");
        assert!(s.last_rejection.is_some());
    }
    // The replayer's first answer was honest; everything after it is rejected.
    assert_eq!(state.grid[&6].rejected, 7, "{:?}", state.grid[&6]);
    // The perturbed model is caught on every challenge (by its log-probabilities when its
    // tokens are the honest ones).
    assert_eq!(state.grid[&8].rejected, 8, "{:?}", state.grid[&8]);
    let late = &state.grid[&7];
    assert_eq!((late.failed, late.verified + late.agreed), (8, 0), "{late:?}");
    assert!(verifications > 0);
    // Honest pairs agreed at least once in 21 steps? Not guaranteed; counted only.
    let _ = agreements;

    let rules = WeightRules { n: 9, own_uid: 0, min_allowed: 1, max_weight_limit: u16::MAX };
    let w = plan_grid_weights(&state.grid, 120, &scoring, &rules).unwrap();
    for uid in 3..=8 {
        assert_eq!(w.share_of(uid), 0.0, "cheater uid {uid} got weight: {w:?}");
    }
    assert!(w.share_of(1) > 0.0 && w.share_of(2) > 0.0, "{w:?}");
}
