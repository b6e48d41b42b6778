//! Ranking by a reference model through real axons: of a miner answering sense and a faster one
//! answering shuffled words, the sensible answer is returned; without the reference, the first.

use crate::{post, start, Opts};
use http::StatusCode;
use serde_json::json;
use subtensor_gateway::{
    rank::Reference,
    test_utils::{reference_model, Behaviour},
};

const GOOD: &str = " jumps over the lazy dog. hello world,";
const GARBAGE: &str = " dog hello. lazy, the world jumps over";

fn request() -> serde_json::Value {
    json!({"model": "subnet-1", "prompt": "the quick brown fox", "max_tokens": 64, "seed": 1})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_reference_model_picks_the_sensible_answer() {
    let opts = Opts {
        answers: vec![GARBAGE, GOOD],
        reference: Some(Reference::new(reference_model())),
        ..Opts::default()
    };
    // The garbage miner answers at once, the good one 100 ms later.
    let gw = start(&[(0, Behaviour::Answer), (100, Behaviour::Answer)], opts).await;
    let url = format!("{}/v1/completions", gw.url);
    for _ in 0..4 {
        let (status, v) = post(&url, None, request()).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["choices"][0]["text"], GOOD, "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_reference_the_first_answer_wins() {
    let opts = Opts { answers: vec![GARBAGE, GOOD], ..Opts::default() };
    let gw = start(&[(0, Behaviour::Answer), (300, Behaviour::Answer)], opts).await;
    let (status, v) = post(&format!("{}/v1/completions", gw.url), None, request()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["choices"][0]["text"], GARBAGE, "{v}");
}
