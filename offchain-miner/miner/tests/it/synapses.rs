//! `TextCausalLM`, `TextLastHiddenState` and `TextSeq2Seq` through the axon.

use crate::fixture::{contexts, fixture, load, values, Miner, CONTEXT, STANDARD_VOCAB, TIMEOUT};
use subtensor_axon::{
    synapse::{GenerationParams, NETWORK_DIM},
    AxonError, TextCausalLM, TextLastHiddenState, TextSeq2Seq,
};
use subtensor_miner::engine::EngineConfig;
use subtensor_model::GenerateParams;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn causal_lm_gives_the_topk_at_every_position() {
    let f = fixture();
    let miner = Miner::start(&f.model_dir, &f.standard, EngineConfig::default()).await;
    let model = load(&f.model_dir);
    let rows = contexts(&f.standard, 2, 9);
    let k = 5;
    let request = TextCausalLM::request(&rows, k).unwrap();
    let reply = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap();
    let answer = reply.synapse.outputs().unwrap();
    let want = model.position_topk(&rows, k as usize).unwrap();
    assert_eq!(answer.len(), 2);
    for (got_row, want_row) in answer.iter().zip(&want) {
        assert_eq!(got_row.len(), 9);
        for (got, want) in got_row.iter().zip(want_row) {
            assert_eq!(got.ids, want.ids);
            assert_eq!(got.probs, want.probs);
        }
    }
    // Each position's distribution is over the token after it: the last position's top-k is
    // the next-token answer.
    let next = model.next_token_topk(&rows, k as usize).unwrap();
    assert_eq!(answer[0][8].ids, next[0].ids);
    // More than the model's vocabulary is refused, not padded.
    let too_many = TextCausalLM::request(&rows, STANDARD_VOCAB as u32 + 1).unwrap();
    let err = miner.dendrite.call(&miner.target, &too_many, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 500, .. }), "{err:?}");
    // Rows longer than the model's context are refused too (the model would see only their
    // last `CONTEXT` tokens, so positions would not line up), not answered misaligned.
    let ids = f.standard.encode(&f.held_out.join(" ")).unwrap();
    let long = vec![ids[..CONTEXT as usize + 4].to_vec()];
    let request = TextCausalLM::request(&long, k).unwrap();
    let err = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 500, .. }), "{err:?}");
    let request = TextLastHiddenState::request(&long, None).unwrap();
    let err = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 500, .. }), "{err:?}");
    miner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_states_are_the_models_zero_padded() {
    let f = fixture();
    let miner = Miner::start(&f.model_dir, &f.standard, EngineConfig::default()).await;
    let model = load(&f.model_dir);
    let (b, l) = (2, 8);
    let rows = contexts(&f.standard, b, l);
    let hidden = model.hidden_states(&rows).unwrap();
    let width = hidden.size()[2] as usize;
    assert!(width < NETWORK_DIM);
    let want = values(&hidden);
    assert_eq!(want.len(), b * l * width);

    let request = TextLastHiddenState::request(&rows, None).unwrap();
    let reply = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap();
    let got = reply.synapse.outputs().unwrap();
    let (dims, _) = reply.synapse.hidden_states.as_ref().unwrap().to_finite_f32().unwrap();
    assert_eq!(dims, vec![b, l, NETWORK_DIM]);
    for (pos, (got, want)) in got.chunks(NETWORK_DIM).zip(want.chunks(width)).enumerate() {
        assert_eq!(&got[..width], want, "position {pos}");
        assert!(got[width..].iter().all(|&x| x == 0.0), "position {pos} is not zero-padded");
    }
    assert!(want.iter().any(|&x| x != 0.0));

    // With a mask only those positions are sent; `outputs` scatters them back.
    let mask = vec![1u32, 4, 7];
    let request = TextLastHiddenState::request(&rows, Some(mask.clone())).unwrap();
    let reply = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap();
    let sent = reply.synapse.output_rows().unwrap();
    assert_eq!(sent.len(), b * mask.len() * NETWORK_DIM);
    let mut sent_rows = sent.chunks(NETWORK_DIM);
    for bi in 0..b {
        for &p in &mask {
            let at = (bi * l + p as usize) * width;
            let row = sent_rows.next().unwrap();
            assert_eq!(&row[..width], &want[at..at + width], "row {bi} position {p}");
            assert!(row[width..].iter().all(|&x| x == 0.0));
        }
    }
    let scattered = reply.synapse.outputs().unwrap();
    assert_eq!(scattered.len(), b * l * NETWORK_DIM);
    for (slot, row) in scattered.chunks(NETWORK_DIM).enumerate() {
        let masked = mask.contains(&((slot % l) as u32));
        assert_eq!(row.iter().any(|&x| x != 0.0), masked, "slot {slot}");
    }
    miner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seq2seq_generates_what_the_model_generates() {
    let f = fixture();
    let miner = Miner::start(&f.model_dir, &f.standard, EngineConfig::default()).await;
    let model = load(&f.model_dir);
    let prompts = contexts(&f.standard, 2, 6);
    let params = GenerationParams {
        topk: 20,
        num_to_generate: 12,
        no_repeat_ngram_size: 0,
        top_p: 0.95,
        temperature: 1.0,
        seed: 5,
        ..GenerationParams::default()
    };
    let request = TextSeq2Seq::request(&prompts, &params).unwrap();
    let reply = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap();
    let generations = reply.synapse.outputs().unwrap();
    let texts = reply.synapse.texts.clone().unwrap();
    assert_eq!((generations.len(), texts.len()), (2, 2));
    let local = GenerateParams {
        max_new_tokens: 12,
        temperature: 1.0,
        top_k: 20,
        top_p: 0.95,
        repetition_penalty: 1.0,
        no_repeat_ngram_size: 0,
        seed: 5,
        eos_id: None,
    };
    for ((prompt, got), text) in prompts.iter().zip(&generations).zip(&texts) {
        let want = model.generate(prompt, &local).unwrap();
        assert_eq!(got, &want);
        assert_eq!(got.len(), 12);
        assert!(got.iter().all(|&id| (id as usize) < STANDARD_VOCAB));
        assert_eq!(text, &f.standard.decode(got).unwrap());
    }
    // Another seed samples something else (the seed is really passed through).
    let other = TextSeq2Seq::request(&prompts, &GenerationParams { seed: 6, ..params }).unwrap();
    let reply = miner.dendrite.call(&miner.target, &other, TIMEOUT).await.unwrap();
    assert_ne!(reply.synapse.outputs().unwrap(), generations);
    miner.stop().await;
}
