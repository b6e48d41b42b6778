//! The OpenAI routes over real HTTP.

use crate::{http, post, sse, start, Opts, ANSWER};
use http::{Method, StatusCode};
use serde_json::{json, Value};
use subtensor_gateway::test_utils::Behaviour;

const A: Behaviour = Behaviour::Answer;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn completions_and_chat_answer() {
    let gw = start(&[(0, A), (50, A), (300, A)], Opts::default()).await;
    let (status, models) = post(&format!("{}/v1/models", gw.url), None, json!({})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{models}");
    let (status, body) = http(Method::GET, &format!("{}/v1/models", gw.url), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let models: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(models["data"][0]["id"], "subnet-1");

    let (status, v) = post(
        &format!("{}/v1/completions", gw.url),
        None,
        json!({"model": "subnet-1", "prompt": "hello", "max_tokens": 200}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["object"], "text_completion");
    assert_eq!(v["choices"][0]["text"], ANSWER);
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() >= 1);
    assert_eq!(
        v["usage"]["total_tokens"].as_u64(),
        Some(
            v["usage"]["prompt_tokens"].as_u64().unwrap()
                + v["usage"]["completion_tokens"].as_u64().unwrap()
        )
    );

    // A stop sequence cuts the text and makes the finish reason `stop`.
    let (_, v) = post(
        &format!("{}/v1/completions", gw.url),
        None,
        json!({"model": "subnet-1", "prompt": ["hello"], "stop": ["fox"], "max_tokens": 200}),
    )
    .await;
    assert_eq!(v["choices"][0]["text"], " hello world, the quick brown ");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");

    let (status, v) = post(
        &format!("{}/v1/chat/completions", gw.url),
        None,
        json!({"model": "subnet-1", "max_tokens": 4,
               "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    let content = v["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(!content.is_empty() && ANSWER.trim_start().starts_with(content), "{content}");
    assert_eq!(v["usage"]["completion_tokens"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streaming_sends_chunks_then_done() {
    let gw = start(&[(0, A), (50, A)], Opts::default()).await;
    let (status, body) = http(
        Method::POST,
        &format!("{}/v1/completions", gw.url),
        None,
        Some(json!({"model": "subnet-1", "prompt": "hello", "max_tokens": 200, "stream": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let events = sse(&body);
    let chunks: Vec<Value> =
        events[..events.len() - 1].iter().map(|e| serde_json::from_str(e).unwrap()).collect();
    assert!(chunks.len() > 3);
    let text: String =
        chunks.iter().map(|c| c["choices"][0]["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(text, ANSWER);
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "length");

    let (status, body) = http(
        Method::POST,
        &format!("{}/v1/chat/completions", gw.url),
        None,
        Some(json!({"model": "subnet-1", "max_tokens": 200, "stream": true,
                    "stream_options": {"include_usage": true},
                    "messages": [{"role": "user", "content": "hi"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let events = sse(&body);
    let chunks: Vec<Value> =
        events[..events.len() - 1].iter().map(|e| serde_json::from_str(e).unwrap()).collect();
    assert_eq!(chunks[0]["object"], "chat.completion.chunk");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(content, ANSWER.trim_start());
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert!(usage["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    assert_eq!(chunks[chunks.len() - 2]["choices"][0]["finish_reason"], "length");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_rate_limits_and_bad_requests() {
    let gw = start(
        &[(0, A)],
        Opts { keys: Some("# keys\nsecret\n"), rate: 0.5, burst: 3.0, ..Opts::default() },
    )
    .await;
    let url = format!("{}/v1/completions", gw.url);
    let ok = json!({"model": "subnet-1", "prompt": "hi", "max_tokens": 3});
    let (status, v) = post(&url, None, ok.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["error"]["code"], "invalid_api_key");
    let (status, _) = post(&url, Some("wrong"), ok.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, v) =
        post(&url, Some("secret"), json!({"model": "subnet-1", "prompt": "hi", "max_tokens": -1}))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["param"], "max_tokens");
    let long = "fox ".repeat(5000);
    let (status, v) =
        post(&url, Some("secret"), json!({"model": "subnet-1", "prompt": long})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["param"], "prompt");
    // Bad requests count too: this is the third of the burst of 3, the next one is limited
    // (refill 0.5/s).
    let (status, v) = post(&url, Some("secret"), ok.clone()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = post(&url, Some("secret"), ok.clone()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    // Health and the map need no key and no token.
    let (status, _) = http(Method::GET, &format!("{}/health", gw.url), None, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_model_and_no_miner() {
    let gw = start(&[(0, Behaviour::Fail)], Opts::default()).await;
    let url = format!("{}/v1/completions", gw.url);
    let (status, v) = post(&url, None, json!({"model": "gpt-4", "prompt": "hi"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["param"], "model");
    let (status, v) = post(&url, None, json!({"model": "subnet-1", "prompt": "hi"})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("uid 0"), "{v}");
    let (status, _) = http(Method::GET, &format!("{}/nope", gw.url), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let empty = start(&[], Opts::default()).await;
    let (status, v) = post(
        &format!("{}/v1/completions", empty.url),
        None,
        json!({"model": "subnet-1", "prompt": "hi"}),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["error"]["code"], "no_miner");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_map_reflects_requests() {
    let gw = start(&[(0, A), (50, A)], Opts::default()).await;
    for _ in 0..4 {
        let (status, _) = post(
            &format!("{}/v1/completions", gw.url),
            None,
            json!({"model": "subnet-1", "prompt": "hi", "max_tokens": 5}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    // Losers of the fan-out finish in the background.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, body) = http(Method::GET, &format!("{}/map", gw.url), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let map: Value = serde_json::from_slice(&body).unwrap();
    let subnet = map["1"].as_object().unwrap();
    let total: u64 = subnet.values().map(|m| m["successes"].as_u64().unwrap()).sum();
    assert_eq!(total, 8, "{map}");
    for m in subnet.values() {
        assert!(m["ttft_p50_ms"].as_f64().unwrap() >= 0.0);
        assert!(m["tokens_per_s"].as_f64().unwrap() > 0.0);
        assert_eq!(m["in_flight"], 0);
        assert!(m["addr"].as_str().unwrap().starts_with("127.0.0.1:"));
    }
    assert!(subnet["1"]["ttft_p50_ms"].as_f64() > subnet["0"]["ttft_p50_ms"].as_f64());
}
