//! A model on another tokenizer still answers in the network's standard tokens.

use crate::fixture::{contexts, fixture, load, Miner, OTHER_VOCAB, STANDARD_VOCAB, TIMEOUT};
use subtensor_axon::{
    phrase_cross_entropy,
    synapse::{floor_probability, GenerationParams, MAX_PHRASE_LEN},
    AxonError, TextCausalLM, TextCausalLMNext, TextLastHiddenState, TextSeq2Seq,
};
use subtensor_miner::{bridge::Bridge, engine::EngineConfig};
use subtensor_model::GenerateParams;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridged_model_answers_standard_phrases() {
    let f = fixture();
    assert_eq!(f.other.vocab_size(), OTHER_VOCAB);
    assert!(!Bridge::new(f.standard.clone(), f.other.clone()).is_identity());
    let miner = Miner::start(&f.bridged_dir, &f.standard, EngineConfig::default()).await;
    let model = load(&f.bridged_dir);
    assert_eq!(miner.engine.vocab_size(), OTHER_VOCAB);
    // Equal standard lengths; the model's own tokenizations differ in length.
    let rows = contexts(&f.standard, 4, 10);
    let texts: Vec<String> = rows.iter().map(|r| f.standard.decode(r).unwrap()).collect();
    let model_rows: Vec<Vec<u32>> = texts.iter().map(|t| f.other.encode(t).unwrap()).collect();
    assert!(model_rows.iter().any(|r| r.len() != model_rows[0].len()), "{model_rows:?}");
    assert!(rows.iter().zip(&model_rows).any(|(a, b)| a != b), "the tokenizers split alike");

    let k = 24u32;
    let request = TextCausalLMNext::request(&rows, k).unwrap();
    let reply = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap();
    let answer = reply.synapse.outputs().unwrap();
    // The engine groups rows by length as `next_token_topk` does: the same passes, same numbers.
    let want_rows = model.next_token_topk(&model_rows, k as usize).unwrap();
    let mut multi_token = 0;
    for (row, want) in answer.iter().zip(&want_rows) {
        assert_eq!(row.phrases.len(), k as usize);
        for ((p, phrase), (&id, &want_p)) in
            row.phrases.iter().zip(want.ids.iter().zip(&want.probs))
        {
            assert!(!phrase.is_empty() && phrase.len() <= MAX_PHRASE_LEN, "{phrase:?}");
            assert!(phrase.iter().all(|&t| (t as usize) < STANDARD_VOCAB), "{phrase:?}");
            // The phrase is the standard tokenization of the model token's text.
            let text = f.other.decode(&[id]).unwrap();
            assert_eq!(f.standard.decode(phrase).unwrap(), text, "model token {id}");
            assert_eq!(phrase, &f.standard.encode(&text).unwrap());
            assert_eq!(*p, want_p, "model token {id}");
            multi_token += usize::from(phrase.len() > 1);
        }
        // The floor is over the standard vocabulary.
        let sum: f32 = row.phrases.iter().map(|(p, _)| p).sum();
        assert_eq!(row.floor, floor_probability(sum, k, STANDARD_VOCAB as u32));
        assert!(row.floor > 0.0);
        // A validator can score it: the model's best phrase as the true continuation costs
        // −ln of its probability (plus that of any listed prefix of it).
        let (best_p, best) = &row.phrases[0];
        let loss = phrase_cross_entropy(row, best, STANDARD_VOCAB as u32);
        assert!(loss.phrase <= -f64::from(*best_p).ln() + 1e-4, "{loss:?}");
    }
    // Some model tokens span several standard tokens (the other vocabulary merges more).
    assert!(multi_token > 0);

    // Generation is bridged too: the model's tokens come back as standard ids and text.
    let params = GenerationParams { num_to_generate: 10, seed: 3, ..GenerationParams::default() };
    let prompts = contexts(&f.standard, 1, 6);
    let request = TextSeq2Seq::request(&prompts, &params).unwrap();
    let reply = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap();
    let local = GenerateParams {
        max_new_tokens: 10,
        temperature: params.temperature,
        top_k: params.topk as usize,
        top_p: params.top_p,
        repetition_penalty: params.repetition_penalty,
        no_repeat_ngram_size: params.no_repeat_ngram_size as usize,
        seed: 3,
        eos_id: None,
    };
    let prompt = f.other.encode(&f.standard.decode(&prompts[0]).unwrap()).unwrap();
    let want_text = f.other.decode(&model.generate(&prompt, &local).unwrap()).unwrap();
    assert_eq!(reply.synapse.texts.as_deref(), Some(&[want_text.clone()][..]));
    let mut want_ids = f.standard.encode(&want_text).unwrap();
    want_ids.truncate(10);
    assert_eq!(reply.synapse.outputs().unwrap(), vec![want_ids]);

    // Per-position synapses need equal tokenizers: refused.
    let causal = TextCausalLM::request(&rows, 4).unwrap();
    let err = miner.dendrite.call(&miner.target, &causal, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 500, .. }), "{err:?}");
    let hidden = TextLastHiddenState::request(&rows, None).unwrap();
    let err = miner.dendrite.call(&miner.target, &hidden, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 500, .. }), "{err:?}");
    // Standard ids the standard tokenizer does not have are a bad request, not a crash.
    let outside = TextCausalLMNext::request(&[vec![STANDARD_VOCAB as u32 + 5]], 3).unwrap();
    let err = miner.dendrite.call(&miner.target, &outside, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, AxonError::Status { code: 500, .. }), "{err:?}");
    miner.stop().await;
}
