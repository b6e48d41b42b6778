//! The chain specs committed in `chain-spec/` are what `build-spec` prints for the current
//! runtime. Regenerate them after a runtime change with:
//! `subtensor-node build-spec --chain dev > chain-spec/dev.json` (and the same for `local`).

use subtensor_node::chain_spec;

fn check(name: &str, built: chain_spec::ChainSpec, committed: &str) {
    let built = built.to_json().unwrap();
    assert!(
        built.trim() == committed.trim(),
        "chain-spec/{name}.json is stale: regenerate it with \
         `subtensor-node build-spec --chain {name} > chain-spec/{name}.json`"
    );
    let parsed: chain_spec::ChainSpec = serde_json::from_str(committed).unwrap();
    assert!(parsed.genesis_storage().is_ok());
}

#[test]
fn committed_dev_spec_matches_the_runtime() {
    check("dev", chain_spec::dev().unwrap(), include_str!("../../chain-spec/dev.json"));
}

#[test]
fn committed_local_spec_matches_the_runtime() {
    check("local", chain_spec::local().unwrap(), include_str!("../../chain-spec/local.json"));
}
