//! The RPC module and the pool over the real chain engine (in-memory database, dev genesis,
//! native runtime): the wire facts that a fake chain cannot show (V14 metadata bytes, the
//! runtime's own validation texts, fee info, signed transfers from submission to finality).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

use codec::Encode;
use serde_json::{json, Value};
use sp_core::{Pair, H256};
use sp_genesis_builder::DEV_RUNTIME_PRESET;
use sp_keyring::Sr25519Keyring;
use std::{sync::Arc, time::Duration};
use subtensor_chain::{
    ChainApi, ChainWrite, Client, ClientConfig, ImportOutcome, MemoryDb, Pruning,
};
use subtensor_rpc::{rpc_module, ChainType, RpcDeps, SystemInfo};
use subtensor_runtime::*;
use subtensor_txpool::{maintain, Pool, PoolConfig};

const SLOT_MS: u64 = 1_000;

fn dev_client() -> Arc<Client> {
    let storage = genesis_config_presets::preset_storage(DEV_RUNTIME_PRESET).unwrap();
    let config = ClientConfig {
        authorities: vec![Sr25519Keyring::Alice.pair().public()],
        slot_duration_ms: SLOT_MS,
        pruning: Pruning::Archive,
        trie_cache_bytes: 16 * 1024 * 1024,
    };
    Client::open(Arc::new(MemoryDb::new()), &storage, config).unwrap()
}

/// A transfer of `tao` TAO to Bob, signed by `from` with `nonce`, immortal.
fn transfer(from: Sr25519Keyring, nonce: Nonce, tao: u64, genesis: H256) -> UncheckedExtrinsic {
    let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
        dest: Address::Id(Sr25519Keyring::Bob.to_account_id()),
        value: tao * RAO_PER_TAO,
    });
    signing::sign_extrinsic(
        &from.pair(),
        call,
        nonce,
        0,
        &signing::SigningContext::immortal(genesis),
    )
}

/// Builds a block from the pool's ready transactions, seals and imports it.
fn author(client: &Client, pool: &Pool) -> H256 {
    let info = client.info();
    let candidates: Vec<UncheckedExtrinsic> = pool.ready().map(|tx| tx.extrinsic.clone()).collect();
    let timestamp = (u64::from(info.best_number) + 1) * SLOT_MS + 17;
    let built = client.build_block(info.best_hash, timestamp, &candidates).unwrap();
    let header =
        subtensor_chain::consensus::seal(built.block.header.clone(), &Sr25519Keyring::Alice.pair());
    let block = Block { header, extrinsics: built.block.extrinsics.clone() };
    match client.import_block(block).unwrap() {
        ImportOutcome::Imported { hash, .. } => hash,
        other => panic!("not imported: {other:?}"),
    }
}

async fn call(
    module: &jsonrpsee::RpcModule<()>,
    method: &str,
    params: Value,
) -> Result<Value, jsonrpsee::types::ErrorObjectOwned> {
    let params: Vec<Value> = params.as_array().cloned().unwrap_or_default();
    match module.call::<_, Value>(method, params).await {
        Ok(v) => Ok(v),
        Err(jsonrpsee::server::MethodsError::JsonRpc(e)) => Err(e),
        Err(e) => panic!("{method}: {e}"),
    }
}

async fn next(sub: &mut jsonrpsee::server::Subscription) -> Value {
    let item = tokio::time::timeout(Duration::from_secs(10), sub.next::<Value>()).await;
    item.expect("no notification in 10 s").unwrap().unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_chain_round_trip() {
    let client = dev_client();
    let chain: Arc<dyn ChainApi> = client.clone();
    let pool = Arc::new(Pool::new(PoolConfig::default(), chain.clone()));
    let maintenance = tokio::spawn(maintain(pool.clone()));
    let system = SystemInfo {
        name: "subtensor-rs".into(),
        version: "0.1.0".into(),
        chain_name: "Development".into(),
        chain_type: ChainType::Development,
        properties: serde_json::Map::new(),
    };
    let module = rpc_module(RpcDeps {
        chain: chain.clone(),
        pool: pool.clone(),
        system,
        network: None,
        grandpa: None,
        unsafe_methods: true,
    })
    .unwrap();
    let genesis = client.info().genesis_hash;

    // Metadata: V14 through state_getMetadata, Option<V15> through state_call.
    let md = call(&module, "state_getMetadata", json!([])).await.unwrap();
    assert!(md.as_str().unwrap().starts_with("0x6d6574610e"), "{}", &md.as_str().unwrap()[..20]);
    let v15 = call(&module, "state_call", json!(["Metadata_metadata_at_version", "0x0f000000"]))
        .await
        .unwrap();
    assert!(v15.as_str().unwrap().starts_with("0x01"));
    let e = call(&module, "state_call", json!(["Nope_nope", "0x"])).await.unwrap_err();
    assert_eq!(
        e.message(),
        "Client error: Execution failed: Other: Exported method Nope_nope is not found"
    );
    let version = call(&module, "state_getRuntimeVersion", json!([])).await.unwrap();
    assert_eq!(version["specName"], json!("node-subtensor"));
    let header = call(&module, "chain_getHeader", json!([])).await.unwrap();
    assert_eq!(header["number"], json!("0x0"));

    // Fees and nonces.
    let alice = Sr25519Keyring::Alice.to_account_id().to_string();
    assert_eq!(call(&module, "account_nextIndex", json!([alice])).await.unwrap(), json!(0));
    let tx0 = transfer(Sr25519Keyring::Alice, 0, 1, genesis).encode();
    let info = call(&module, "payment_queryInfo", json!([format!("0x{}", hex::encode(&tx0))]))
        .await
        .unwrap();
    assert_eq!(info["class"], json!("normal"));
    assert!(info["partialFee"].as_str().unwrap().parse::<u64>().unwrap() > 0, "{info}");

    // A bad signature is refused with the runtime's text.
    let mut forged = transfer(Sr25519Keyring::Alice, 0, 1, genesis);
    if let sp_runtime::generic::Preamble::Signed(_, sig, _) = &mut forged.preamble {
        *sig = Signature::Sr25519(sp_core::sr25519::Signature::from_raw([1; 64]));
    }
    let e = call(
        &module,
        "author_submitExtrinsic",
        json!([format!("0x{}", hex::encode(forged.encode()))]),
    )
    .await
    .unwrap_err();
    assert_eq!((e.code(), e.data().unwrap().get()), (1010, "\"Transaction has a bad signature\""));

    // Submit nonce 0 (watched) and 1; both ready; next index 2.
    let params: Vec<Value> = vec![json!(format!("0x{}", hex::encode(&tx0)))];
    let mut sub =
        module.subscribe_unbounded("author_submitAndWatchExtrinsic", params).await.unwrap();
    assert_eq!(next(&mut sub).await, json!("ready"));
    let tx1 = transfer(Sr25519Keyring::Alice, 1, 1, genesis).encode();
    call(&module, "author_submitExtrinsic", json!([format!("0x{}", hex::encode(&tx1))]))
        .await
        .unwrap();
    assert_eq!(call(&module, "system_accountNextIndex", json!([alice])).await.unwrap(), json!(2));
    assert_eq!(pool.status().ready, 2);

    // Author a block with them: inBlock, pool emptied, nonce on chain.
    let block = tokio::task::block_in_place(|| author(&client, &pool));
    assert_eq!(next(&mut sub).await, json!({"inBlock": format!("{block:?}")}));
    let got = call(&module, "chain_getBlock", json!([format!("{block:?}")])).await.unwrap();
    let xts = got["block"]["extrinsics"].as_array().unwrap();
    assert!(xts.contains(&json!(format!("0x{}", hex::encode(&tx0)))));
    assert_eq!(pool.status().ready, 0);
    assert_eq!(call(&module, "account_nextIndex", json!([alice])).await.unwrap(), json!(2));
    // Resubmitting an included transaction: banned (Substrate does the same).
    let e = call(&module, "author_submitExtrinsic", json!([format!("0x{}", hex::encode(&tx0))]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), 1012);
    // A fresh transaction with a used nonce: outdated.
    let stale = transfer(Sr25519Keyring::Alice, 0, 2, genesis).encode();
    let e = call(&module, "author_submitExtrinsic", json!([format!("0x{}", hex::encode(stale))]))
        .await
        .unwrap_err();
    assert_eq!(e.data().unwrap().get(), "\"Transaction is outdated\"");

    client.finalize(block, None).unwrap();
    assert_eq!(next(&mut sub).await, json!({"finalized": format!("{block:?}")}));
    assert_eq!(
        call(&module, "chain_getFinalizedHead", json!([])).await.unwrap(),
        json!(format!("{block:?}"))
    );
    maintenance.abort();
}
