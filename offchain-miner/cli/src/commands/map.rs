//! `stcli subnet map --gateway URL`: a running gateway's latency map (`GET /map` of
//! `stgateway`), as a table (one row per subnet and uid) or, with `--json`, as the gateway
//! sent it.

use crate::{output::short, CliError, Ctx, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use serde_json::Value;
use std::time::Duration;

/// How long the gateway has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One miner's row of the map.
#[derive(Clone, Debug, PartialEq)]
pub struct MapRow {
    /// The subnet.
    pub netuid: u16,
    /// The miner's uid.
    pub uid: u16,
    /// Its hotkey.
    pub hotkey: String,
    /// EWMA round trip, ms.
    pub rtt_ms: Option<f64>,
    /// Time to first token p50, ms.
    pub ttft_p50_ms: Option<f64>,
    /// Time to first token p90, ms.
    pub ttft_p90_ms: Option<f64>,
    /// Median tokens per second.
    pub tokens_per_s: Option<f64>,
    /// Successes, partial answers and failures over the gateway's recent window.
    pub outcomes: [u64; 3],
    /// Requests in flight now.
    pub in_flight: u64,
}

/// Runs `subnet map`.
pub async fn run(ctx: &Ctx, gateway: &str) -> Result<()> {
    let map = fetch(gateway).await?;
    let rows = rows(&map)?;
    ctx.emit(map, || {
        let mut table = crate::output::Table::new(&[
            "NETUID",
            "UID",
            "HOTKEY",
            "RTT_MS",
            "TTFT_P50",
            "TTFT_P90",
            "TOK/S",
            "OK/PARTIAL/FAIL",
            "IN_FLIGHT",
        ]);
        for r in &rows {
            let [ok, partial, fail] = r.outcomes;
            table.row(vec![
                r.netuid.to_string(),
                r.uid.to_string(),
                short(&r.hotkey),
                figure(r.rtt_ms),
                figure(r.ttft_p50_ms),
                figure(r.ttft_p90_ms),
                figure(r.tokens_per_s),
                format!("{ok}/{partial}/{fail}"),
                r.in_flight.to_string(),
            ]);
        }
        table.print();
    });
    Ok(())
}

/// A figure with one decimal, `-` when unknown.
fn figure(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

/// `GET {gateway}/map`: the JSON body.
pub async fn fetch(gateway: &str) -> Result<Value> {
    let url = format!("{}/map", gateway.trim_end_matches('/'));
    let bad = |e: String| CliError::Gateway(format!("GET {url}: {e}"));
    let uri: http::Uri = url.parse().map_err(|e: http::uri::InvalidUri| bad(e.to_string()))?;
    if uri.scheme_str() != Some("http") {
        return Err(bad("only http:// gateways are supported".to_owned()));
    }
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let fetch = async {
        let resp = client.get(uri).await.map_err(|e| bad(e.to_string()))?;
        let status = resp.status();
        let body = resp.into_body().collect().await.map_err(|e| bad(e.to_string()))?.to_bytes();
        Ok::<_, CliError>((status, body))
    };
    let (status, body) =
        tokio::time::timeout(TIMEOUT, fetch).await.map_err(|_| bad("no answer".to_owned()))??;
    if !status.is_success() {
        return Err(bad(format!("status {status}")));
    }
    serde_json::from_slice(&body).map_err(|e| bad(format!("not JSON: {e}")))
}

/// The rows of a map (`{netuid: {uid: summary}}`), by subnet and uid.
pub fn rows(map: &Value) -> Result<Vec<MapRow>> {
    let bad = |what: &str| CliError::Gateway(format!("unexpected /map: {what}"));
    let subnets = map.as_object().ok_or_else(|| bad("not an object"))?;
    let mut out = Vec::new();
    for (netuid, miners) in subnets {
        let netuid: u16 = netuid.parse().map_err(|_| bad("a netuid is not a number"))?;
        let miners = miners.as_object().ok_or_else(|| bad("a subnet is not an object"))?;
        for (uid, m) in miners {
            let uid: u16 = uid.parse().map_err(|_| bad("a uid is not a number"))?;
            let num = |k: &str| m.get(k).and_then(Value::as_f64);
            let count = |k: &str| m.get(k).and_then(Value::as_u64).unwrap_or(0);
            out.push(MapRow {
                netuid,
                uid,
                hotkey: m.get("hotkey").and_then(Value::as_str).unwrap_or("").to_owned(),
                rtt_ms: num("rtt_ewma_ms"),
                ttft_p50_ms: num("ttft_p50_ms"),
                ttft_p90_ms: num("ttft_p90_ms"),
                tokens_per_s: num("tokens_per_s"),
                outcomes: [count("successes"), count("partials"), count("failures")],
                in_flight: count("in_flight"),
            });
        }
    }
    out.sort_by_key(|r| (r.netuid, r.uid));
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn rows_are_sorted_numerically_and_unknowns_stay_empty() {
        let map = serde_json::json!({
            "1": {
                "10": {"hotkey": "5Abc", "successes": 3, "partials": 0, "failures": 1,
                       "in_flight": 2, "rtt_ewma_ms": 12.5, "ttft_p50_ms": 11.0,
                       "ttft_p90_ms": 20.0, "tokens_per_s": 300.0},
                "2": {"hotkey": "5Def", "successes": 0, "partials": 0, "failures": 0,
                      "in_flight": 0, "rtt_ewma_ms": null}
            }
        });
        let rows = rows(&map).unwrap();
        assert_eq!(rows.iter().map(|r| r.uid).collect::<Vec<_>>(), vec![2, 10]);
        assert_eq!(rows[0].rtt_ms, None);
        assert_eq!(rows[1].outcomes, [3, 0, 1]);
        assert_eq!(rows[1].in_flight, 2);
        assert_eq!(figure(rows[1].rtt_ms), "12.5");
        assert!(matches!(super::rows(&serde_json::json!([1])), Err(CliError::Gateway(_))));
    }
}
