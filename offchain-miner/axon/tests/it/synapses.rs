//! The TextCausalLM, TextLastHiddenState, TextSeq2Seq and GridGenerate synapses end to end.

use super::*;
use subtensor_axon::{
    synapse::{pad_hidden, GenerationParams, GridAnswer, GridParams, NETWORK_DIM},
    AxonError, Dendrite, GridGenerate, TextCausalLM, TextLastHiddenState, TextSeq2Seq, TokenProbs,
};

/// Position answer: ids `t, t+1, …`, probabilities `1/4, 1/8, …`.
fn top(t: u32, k: u32) -> TokenProbs {
    TokenProbs {
        ids: (0..k).map(|i| t + i).collect(),
        probs: (0..k).map(|i| 0.5f32.powi(i as i32 + 2)).collect(),
    }
}

async fn axon() -> RunningAxon {
    Axon::new(key("//Bob"), AxonConfig::default())
        .attach(|_c: Caller, mut s: TextCausalLM| async move {
            let rows: Vec<Vec<TokenProbs>> = s
                .tokens()
                .map_err(|e| e.to_string())?
                .iter()
                .map(|row| row.iter().map(|&t| top(t, s.topk)).collect())
                .collect();
            s.set_outputs(&rows).map_err(|e| e.to_string())?;
            Ok(s)
        })
        .attach(|_c: Caller, mut s: TextLastHiddenState| async move {
            // A 2-wide model: [token, position], zero-padded.
            let narrow: Vec<f32> = s
                .tokens()
                .map_err(|e| e.to_string())?
                .iter()
                .flat_map(|row| row.iter().enumerate().flat_map(|(l, &t)| [t as f32, l as f32]))
                .collect();
            let hidden = pad_hidden(&narrow, 2).map_err(|e| e.to_string())?;
            s.set_outputs(&hidden).map_err(|e| e.to_string())?;
            Ok(s)
        })
        .attach(|_c: Caller, mut s: TextSeq2Seq| async move {
            // Row b continues with b+1 tokens `last+1, last+2, …`.
            let n = s.num_to_generate;
            let gens: Vec<Vec<u32>> = s
                .tokens()
                .map_err(|e| e.to_string())?
                .iter()
                .enumerate()
                .map(|(b, row)| {
                    let last = *row.last().unwrap();
                    (1..=(b as u32 + 1).min(n)).map(|i| last + i).collect()
                })
                .collect();
            let texts = gens.iter().map(|g| format!("{g:?}")).collect();
            s.set_outputs(&gens, Some(texts)).map_err(|e| e.to_string())?;
            Ok(s)
        })
        .attach(|_c: Caller, mut s: GridGenerate| async move {
            // Continues with `last+1, last+2, …` up to max_new_tokens, one millisecond apart.
            let last = *s.prompt.last().unwrap();
            let tokens: Vec<u32> = (1..=s.max_new_tokens).map(|i| last + i).collect();
            let token_times_ms = (1..=tokens.len()).map(|i| i as f64).collect();
            let token_logprobs = (1..=tokens.len()).map(|i| -0.5 * i as f64).collect();
            s.set_outputs(GridAnswer {
                tokens,
                token_logprobs,
                token_times_ms,
                stopped_at_eos: false,
            })
            .map_err(|e| e.to_string())?;
            Ok(s)
        })
        .spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_synapses_round_trip() {
    let axon = axon().await;
    let d = Dendrite::new(key("//Alice"));
    let t = target(axon.addr);
    let timeout = Duration::from_secs(10);
    let tokens = vec![vec![10, 20, 30], vec![40, 50, 60]];

    let r = d.call(&t, &TextCausalLM::request(&tokens, 3).unwrap(), timeout).await.unwrap();
    let out = r.synapse.outputs().unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[1][2], top(60, 3));
    assert_eq!(out[0][0].ids, vec![10, 11, 12]);

    let req = TextLastHiddenState::request(&tokens, Some(vec![1, 2])).unwrap();
    let r = d.call(&t, &req, timeout).await.unwrap();
    assert_eq!(r.synapse.hidden_states.as_ref().unwrap().shape, vec![4, NETWORK_DIM as i64]);
    let full = r.synapse.outputs().unwrap();
    let row = |b: usize, l: usize| &full[(b * 3 + l) * NETWORK_DIM..(b * 3 + l + 1) * NETWORK_DIM];
    assert_eq!(&row(1, 2)[..3], &[60.0, 2.0, 0.0]);
    assert_eq!(&row(0, 1)[..2], &[20.0, 1.0]);
    assert!(row(0, 0).iter().all(|&v| v == 0.0), "unmasked position is zero-filled");
    assert!(row(1, 1)[2..].iter().all(|&v| v == 0.0), "padding");

    let params = GenerationParams { num_to_generate: 4, top_p: 0.9, seed: 3, ..Default::default() };
    let r = d.call(&t, &TextSeq2Seq::request(&tokens, &params).unwrap(), timeout).await.unwrap();
    assert_eq!(r.synapse.outputs().unwrap(), vec![vec![31], vec![61, 62]]);
    assert_eq!(r.synapse.texts, Some(vec!["[31]".to_owned(), "[61, 62]".to_owned()]));
    assert_eq!(r.synapse.params(), params);

    // Out-of-bounds requests are refused by the axon (422), not handled.
    let mut bad = TextSeq2Seq::request(&tokens, &params).unwrap();
    bad.num_beams = 5;
    let err = d.call(&t, &bad, timeout).await.unwrap_err();
    // Our dendrite validates nothing before sending, so the axon is the one refusing.
    assert!(matches!(err, AxonError::Status { code: 422, .. }), "{err:?}");
    let mut bad = TextLastHiddenState::request(&tokens, None).unwrap();
    bad.mask = Some(vec![3]);
    let err = d.call(&t, &bad, timeout).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 422, .. }), "{err:?}");

    let params = GridParams { seed: 5, temperature: 0.5, top_k: 3, top_p: 0.5, max_new_tokens: 3 };
    let r = d.call(&t, &GridGenerate::request(&[7, 8], &params).unwrap(), timeout).await.unwrap();
    let out = r.synapse.outputs().unwrap();
    assert_eq!(out.tokens, vec![9, 10, 11]);
    assert_eq!(out.token_times_ms, vec![1.0, 2.0, 3.0]);
    assert_eq!(out.token_logprobs, vec![-0.5, -1.0, -1.5]);
    assert!(!out.stopped_at_eos);
    assert_eq!(r.synapse.params(), params);
    let mut bad = GridGenerate::request(&[7, 8], &params).unwrap();
    bad.top_p = 0.0;
    let err = d.call(&t, &bad, timeout).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 422, .. }), "{err:?}");
    axon.shutdown().await.unwrap();
}
