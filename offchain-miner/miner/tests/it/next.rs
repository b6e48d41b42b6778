//! `TextCausalLMNext` through the axon: the answer is the model's top-k, and its phrase
//! cross-entropy is what the full distribution says (top-k) or the documented floor (not).

use crate::fixture::{
    assert_is_topk, contexts, fixture, load, next_distribution, Miner, STANDARD_VOCAB, TIMEOUT,
};
use subtensor_axon::{
    phrase_cross_entropy,
    synapse::{decode_topk, encode_topk, floor_probability, TopkPhrases},
    TextCausalLMNext,
};
use subtensor_miner::engine::EngineConfig;

/// The single-token ids and the probabilities of an identity-bridge answer row.
fn ids_and_probs(row: &TopkPhrases) -> (Vec<u32>, Vec<f32>) {
    row.phrases
        .iter()
        .map(|(p, phrase)| {
            assert_eq!(phrase.len(), 1, "a same-tokenizer miner answers one-token phrases");
            (phrase[0], *p)
        })
        .unzip()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_is_the_models_topk() {
    let f = fixture();
    let miner = Miner::start(&f.model_dir, &f.standard, EngineConfig::default()).await;
    let model = load(&f.model_dir);
    let rows = contexts(&f.standard, 3, 12);
    // The inputs are real tokenizations: decode → encode gives them back.
    for row in &rows {
        let text = f.standard.decode(row).unwrap();
        assert_eq!(&f.standard.encode(&text).unwrap(), row, "{text:?}");
    }
    let k = 16u32;
    let v = STANDARD_VOCAB as u32;
    let request = TextCausalLMNext::request(&rows, k).unwrap();
    let reply = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap();
    let answer = reply.synapse.outputs().unwrap();
    assert_eq!(answer.len(), rows.len());
    // The same batch straight through the model: one pass of the same shape, same numbers.
    let want = model.next_token_topk(&rows, k as usize).unwrap();
    for ((got, want), row) in answer.iter().zip(&want).zip(&rows) {
        let (ids, probs) = ids_and_probs(got);
        assert_eq!(ids.len(), k as usize);
        assert_eq!(ids, want.ids);
        assert_eq!(probs, want.probs);
        let full = next_distribution(&model, row);
        assert_is_topk(&ids, &probs, &full, 1e-6);
        // The floor spreads the rest of the mass evenly over the unlisted tokens.
        let sum: f32 = probs.iter().sum();
        assert_eq!(got.floor, floor_probability(sum, k, v));
        let listed: f64 = ids.iter().map(|&id| full[id as usize]).sum();
        let floor = (1.0 - listed) / f64::from(v - k);
        assert!(
            (f64::from(got.floor) - floor).abs() <= 1e-6 * floor + 1e-9,
            "{} vs {floor}",
            got.floor
        );
        // A trained model is far from uniform: its top token is well above 1/V.
        assert!(probs[0] > 5.0 / v as f32, "top probability {}", probs[0]);
    }
    // The compact encoding round-trips: what came over the wire re-encodes to the same values.
    let (dims, wire) = reply.synapse.text_outputs.as_ref().unwrap().to_finite_f32().unwrap();
    assert_eq!(dims, vec![wire.len()]);
    assert_eq!(wire.len(), rows.len() * (2 * k as usize + 1));
    assert_eq!(encode_topk(&answer, k).unwrap(), wire);
    assert_eq!(decode_topk(&wire, rows.len(), k).unwrap(), answer);
    miner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topk_beyond_the_vocabulary_lists_every_token() {
    let f = fixture();
    let miner = Miner::start(&f.model_dir, &f.standard, EngineConfig::default()).await;
    let model = load(&f.model_dir);
    let rows = contexts(&f.standard, 1, 8);
    let v = STANDARD_VOCAB as u32;
    let k = v + 20;
    let request = TextCausalLMNext::request(&rows, k).unwrap();
    let reply = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap();
    let row = &reply.synapse.outputs().unwrap()[0];
    assert_eq!(row.phrases.len(), k as usize);
    // The whole vocabulary, then zero-probability padding.
    let (listed, padding) = row.phrases.split_at(STANDARD_VOCAB);
    assert!(padding.iter().all(|(p, phrase)| *p == 0.0 && phrase == &vec![0]), "{padding:?}");
    let mut ids: Vec<u32> = listed.iter().map(|(_, phrase)| phrase[0]).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..v).collect::<Vec<_>>());
    // With every token listed, the loss of any target is exactly −ln p.
    let full = next_distribution(&model, &rows[0]);
    for target in [0u32, 1, 57, v - 1] {
        let loss = phrase_cross_entropy(row, &[target], v);
        let want = -full[target as usize].ln();
        assert!((loss.phrase - want).abs() < 1e-4, "target {target}: {loss:?} vs {want}");
    }
    miner.stop().await;
}

/// Phrase cross-entropy on real answers against the full distribution.
///
/// With `K` the listed tokens (the top k) and `floor = (1 − Σ_K p) / (V − k)`:
/// * a target in `K` costs exactly `−ln p(target)`;
/// * a target outside `K` costs `−ln floor`, whatever its real probability.
///
/// What can be said about the floor, for unlisted targets (all checked below):
/// * neither the true loss nor the floor loss is ever below `−ln p_k` (the least likely listed
///   token): every unlisted `p ≤ p_k`, so their mean, the floor, is too. The floor never
///   rewards an unlisted token more than the listed tail;
/// * the floor loss lies between the true losses of the most and the least likely unlisted
///   token (the mean lies between the extremes);
/// * **averaged uniformly over the unlisted tokens, the true loss is ≥ the floor loss**
///   (Jensen: `mean(−ln p) ≥ −ln mean(p) = −ln floor`), so an approximation that must not
///   favour the miner on unknown tokens chose the right side;
/// * but weighted by the model's own probabilities (the targets a well-calibrated model
///   expects), the true loss is ≤ the floor loss (Gibbs: `Σ q (−ln p) = −ln S + H(q) ≤
///   −ln S + ln(V − k)` with `q = p / S`, `S = Σ_unlisted p`): per target there is no fixed
///   direction, only these averages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phrase_loss_matches_the_full_distribution() {
    let f = fixture();
    let miner = Miner::start(&f.model_dir, &f.standard, EngineConfig::default()).await;
    let model = load(&f.model_dir);
    let v = STANDARD_VOCAB as u32;
    let k = 4u32;
    // Contexts of 10 tokens whose real next token is known.
    let docs = contexts(&f.standard, 8, 11);
    let rows: Vec<Vec<u32>> = docs.iter().map(|d| d[..10].to_vec()).collect();
    let request = TextCausalLMNext::request(&rows, k).unwrap();
    let reply = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap();
    let answer = reply.synapse.outputs().unwrap();
    let (mut listed_cases, mut floor_cases) = (0, 0);
    for ((row, doc), context) in answer.iter().zip(&docs).zip(&rows) {
        let full = next_distribution(&model, context);
        let (ids, probs) = ids_and_probs(row);
        assert_is_topk(&ids, &probs, &full, 1e-6);
        let listed_mass: f64 = ids.iter().map(|&id| full[id as usize]).sum();
        let rest = 1.0 - listed_mass;
        let floor_loss = -(rest / f64::from(v - k)).ln();
        // The f32 sum of k probabilities and the f32 floor: relative error ~ k·ε/rest.
        let floor_tol = 1e-5 + 64.0 * f64::from(k) * f64::from(f32::EPSILON) / rest;
        let tail_loss = -f64::from(*probs.last().unwrap()).ln();
        let unlisted: Vec<f64> =
            (0..v).filter(|t| !ids.contains(t)).map(|t| full[t as usize]).collect();
        // The real next token, the most likely one and the least likely one.
        let argmin = (0..v).min_by(|&a, &b| full[a as usize].total_cmp(&full[b as usize])).unwrap();
        for target in [doc[10], ids[0], argmin] {
            // A longer true continuation changes nothing with one-token phrases.
            let loss = phrase_cross_entropy(row, &[target, doc[0], doc[1]], v);
            let true_loss = -full[target as usize].ln();
            if ids.contains(&target) {
                listed_cases += 1;
                assert!(
                    (loss.phrase - true_loss).abs() < 2e-5,
                    "{target}: {loss:?} vs {true_loss}"
                );
                assert!((loss.validation - true_loss).abs() < 2e-5, "{target}: {loss:?}");
            } else {
                floor_cases += 1;
                assert!(
                    (loss.phrase - floor_loss).abs() < floor_tol,
                    "{target}: {loss:?} vs {floor_loss}"
                );
                assert!((loss.validation - floor_loss).abs() < floor_tol, "{target}: {loss:?}");
                assert!(true_loss >= tail_loss - 1e-6, "{true_loss} < {tail_loss}");
                assert!(loss.phrase >= tail_loss - 1e-4, "{loss:?} < {tail_loss}");
            }
        }
        // The sandwich, Jensen and Gibbs, over this row's unlisted tokens.
        let most = unlisted.iter().copied().fold(0.0, f64::max);
        let least = unlisted.iter().copied().fold(1.0, f64::min);
        assert!(-most.ln() <= floor_loss + 1e-9 && floor_loss <= -least.ln() + 1e-9);
        let uniform = unlisted.iter().map(|p| -p.ln()).sum::<f64>() / unlisted.len() as f64;
        assert!(uniform >= floor_loss - 1e-9, "Jensen: {uniform} < {floor_loss}");
        let weighted = unlisted.iter().map(|p| p / rest * -p.ln()).sum::<f64>();
        assert!(weighted <= floor_loss + 1e-9, "Gibbs: {weighted} > {floor_loss}");
    }
    assert!(
        listed_cases >= rows.len() && floor_cases >= rows.len(),
        "{listed_cases} / {floor_cases}"
    );
    miner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_longer_than_the_context_keep_their_last_tokens() {
    let f = fixture();
    let miner = Miner::start(&f.model_dir, &f.standard, EngineConfig::default()).await;
    let model = load(&f.model_dir);
    let window = crate::fixture::CONTEXT as usize;
    let text: String = f.held_out.join(" ");
    let ids = f.standard.encode(&text).unwrap();
    assert!(ids.len() > window + 20);
    let long = ids[..window + 20].to_vec();
    let request = TextCausalLMNext::request(std::slice::from_ref(&long), 8).unwrap();
    let reply = miner.dendrite.call(&miner.target, &request, TIMEOUT).await.unwrap();
    let (got, _) = ids_and_probs(&reply.synapse.outputs().unwrap()[0]);
    let want = model.next_token_topk(&[long[20..].to_vec()], 8).unwrap();
    assert_eq!(got, want[0].ids);
    miner.stop().await;
}
