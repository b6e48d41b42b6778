//! Writes the chain spec of the metagraph benchmark: the dev chain (as `subtensor-node
//! build-spec --chain dev --raw` prints it) whose subnet 1 is full, 4096 UIDs (the owner's and
//! 4095 hotkeys registered by the pallet's own code), the first 64 UIDs with validator permits,
//! 1,000 TAO of stake each and a weight row over all 4096 UIDs (262,144 weights), tempo 360.
//!
//! Run: `cargo bench -p subtensor-chain --bench metagraph_genesis -- --in dev-raw.json --out
//! bench-4096.json` (`scripts/bench-node.sh` does it), then start a node with
//! `--chain bench-4096.json`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

mod common;

use common::*;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let input = arg("--in").expect("--in: the raw dev chain spec (build-spec --chain dev --raw)");
    let output = arg("--out").expect("--out: where to write the benchmark chain spec");
    let neurons: usize = arg("--neurons").map(|n| n.parse().expect("--neurons N")).unwrap_or(4095);
    let started = std::time::Instant::now();

    let (mut spec, base) = raw_spec_storage(&input);
    let subnet = SubnetSpec { neurons, permits: 64, staked: 64, weight_rows: 64, tempo: 360 };
    let (storage, _) = subnet_genesis(base, &subnet);
    let top: serde_json::Map<String, serde_json::Value> = storage
        .top
        .iter()
        .map(|(k, v)| {
            (
                format!("0x{}", hex::encode(k)),
                serde_json::Value::String(format!("0x{}", hex::encode(v))),
            )
        })
        .collect();
    spec["genesis"]["raw"]["top"] = serde_json::Value::Object(top);
    spec["name"] = "Bittensor Bench (4096 uids)".into();
    spec["id"] = "bittensor_bench_4096".into();
    std::fs::write(&output, serde_json::to_string(&spec).expect("JSON")).expect("write --out");
    println!(
        "wrote {output}: subnet {NETUID} with {} neurons, {} storage entries ({} ms)",
        neurons + 1,
        storage.top.len(),
        started.elapsed().as_millis()
    );
}
