//! Submission throughput of the pool with 1,000 and 8,000 transactions already pending.
//!
//! The pool validates through the real chain engine (in-memory database, native runtime) on
//! the dev genesis with 8,100 extra accounts endowed: the pending transactions are signed
//! balance transfers (nonce 0) from 1,000 or 8,000 of them, all ready. Each measured batch is
//! 100 more signed transfers from 100 other accounts; their signing is not timed, and they are
//! removed again (untimed) after each batch, so the pool size stays put. The figure is
//! transactions per second, runtime validation included.
//!
//! Run: `cargo bench -p subtensor-txpool --bench submit`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

use codec::Encode;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sp_core::{sr25519, Pair, H256};
use sp_genesis_builder::DEV_RUNTIME_PRESET;
use sp_keyring::Sr25519Keyring;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use subtensor_chain::{ChainApi, Client, ClientConfig, MemoryDb, Pruning};
use subtensor_runtime::*;
use subtensor_txpool::{Pool, PoolConfig, TransactionSource, TxHash};

/// Pool sizes measured.
const PENDING: [usize; 2] = [1_000, 8_000];
/// Transactions submitted per measured batch.
const BATCH: usize = 100;

/// A deterministic account for index `i` (a fresh seed each; no key derivation).
fn account(i: usize) -> sr25519::Pair {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    seed[8..16].copy_from_slice(b"poolbnch");
    sr25519::Pair::from_seed(&seed)
}

/// A dev chain whose genesis also endows `accounts` with 1,000 TAO each.
fn client(accounts: &[sr25519::Pair]) -> Arc<Client> {
    let preset = genesis_config_presets::get_preset(&DEV_RUNTIME_PRESET.into()).expect("dev");
    let mut patch: serde_json::Value = serde_json::from_slice(&preset).expect("preset json");
    let balances = patch["balances"]["balances"].as_array_mut().expect("dev balances");
    for pair in accounts {
        let entry = (AccountId::from(pair.public()), 1_000 * RAO_PER_TAO);
        balances.push(serde_json::to_value(entry).expect("balance entry json"));
    }
    let storage = genesis_config_presets::storage_from_patch(patch).expect("genesis storage");
    let config = ClientConfig {
        authorities: vec![Sr25519Keyring::Alice.pair().public()],
        slot_duration_ms: 1_000,
        pruning: Pruning::Archive,
        trie_cache_bytes: 64 * 1024 * 1024,
    };
    Client::open(Arc::new(MemoryDb::new()), &storage, config).expect("open the chain")
}

/// A transfer of `rao` to Bob signed by `from` with nonce 0, encoded as submitted.
fn transfer(from: &sr25519::Pair, rao: u64, genesis: H256) -> Vec<u8> {
    let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
        dest: Address::Id(Sr25519Keyring::Bob.to_account_id()),
        value: rao,
    });
    signing::sign_extrinsic(from, call, 0, 0, &signing::SigningContext::immortal(genesis)).encode()
}

fn submit(c: &mut Criterion) {
    let max = PENDING.iter().copied().max().unwrap_or(0);
    let accounts: Vec<sr25519::Pair> = (0..max + BATCH).map(account).collect();
    let (pending_accounts, batch_accounts) = accounts.split_at(max);
    let client = client(&accounts);
    let chain: Arc<dyn ChainApi> = client.clone();
    let genesis = chain.info().genesis_hash;

    let mut group = c.benchmark_group("txpool_submit");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(BATCH as u64));
    for pending in PENDING {
        let pool = Pool::new(PoolConfig::default(), chain.clone());
        let started = Instant::now();
        for pair in &pending_accounts[..pending] {
            pool.submit(TransactionSource::External, &transfer(pair, RAO_PER_TAO, genesis))
                .expect("pending transfer admitted");
        }
        assert_eq!(pool.status().ready, pending);
        println!("filled the pool with {pending} transfers in {:.2?}", started.elapsed());
        // Every batch uses new amounts: removed transactions are banned by hash.
        let mut round = 0u64;
        group.bench_function(BenchmarkId::new("pending", pending), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    let batch: Vec<Vec<u8>> = batch_accounts
                        .iter()
                        .map(|pair| transfer(pair, RAO_PER_TAO + round, genesis))
                        .collect();
                    let start = Instant::now();
                    let hashes: Vec<TxHash> = batch
                        .iter()
                        .map(|data| {
                            pool.submit(TransactionSource::External, data).expect("admitted")
                        })
                        .collect();
                    total += start.elapsed();
                    pool.remove_invalid(&hashes);
                }
                total
            });
        });
        assert_eq!(pool.status().ready, pending);
    }
    group.finish();
}

criterion_group!(benches, submit);
criterion_main!(benches);
