//! A BTreeMap-backed [`ChainApi`] for the namespace tests, and helpers to call the module.
//!
//! Its "runtime" answers the entry points the RPC uses with fixed values; transactions are
//! `System::remark`s carrying `(sender byte, nonce)`, validated against per-account nonces the
//! way the real runtime's `CheckNonce` does (tags are SCALE `(AccountId, Nonce)`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

use crate::{rpc_module, ChainType, RpcDeps, SystemInfo};
use codec::{Decode, Encode};
use frame_support::{dispatch::DispatchClass, weights::Weight};
use jsonrpsee::{
    server::{MethodsError, Subscription},
    types::ErrorObjectOwned,
    RpcModule,
};
use pallet_transaction_payment::RuntimeDispatchInfo;
use parking_lot::Mutex;
use serde_json::Value;
use sp_core::{crypto::AccountId32, H256};
use sp_runtime::{
    generic::{Digest, DigestItem},
    traits::{BlakeTwo256, Hash as _, Header as _},
    transaction_validity::{
        InvalidTransaction, TransactionSource, TransactionValidity, ValidTransaction,
    },
};
use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::Duration,
};
use subtensor_chain::{ChainApi, ChainError, ChainEvent, ChainInfo, ChainResult};
use subtensor_primitives::{
    AxonInfo, GridModelName, GridSpec, GridSpecRecord, NetUid, NeuronInfo, NeuronInfoLite,
    PrometheusInfo, SubnetInfo,
};
use subtensor_runtime::{Block, BlockNumber, Header, RuntimeCall, UncheckedExtrinsic};
use subtensor_txpool::{Pool, PoolConfig};
use tokio::sync::broadcast;

/// Metadata bytes the fake runtime returns (prefix "meta", version 14).
pub(crate) const METADATA: &[u8] = &[0x6d, 0x65, 0x74, 0x61, 0x0e, 0x01, 0x02];

/// The account of sender byte `b`.
pub(crate) fn account(b: u8) -> AccountId32 {
    AccountId32::new([b; 32])
}

/// A transaction of `sender` with `nonce`; `bad` makes the fake runtime call it a bad proof.
pub(crate) fn xt(sender: u8, nonce: u32, bad: bool) -> Vec<u8> {
    let call =
        RuntimeCall::System(frame_system::Call::remark { remark: (sender, nonce, bad).encode() });
    UncheckedExtrinsic::new_bare(call).encode()
}

fn script_of(x: &UncheckedExtrinsic) -> (u8, u32, bool) {
    match &x.function {
        RuntimeCall::System(frame_system::Call::remark { remark }) => {
            Decode::decode(&mut &remark[..]).unwrap()
        }
        other => panic!("unexpected call {other:?}"),
    }
}

/// Two neurons of subnet 1.
pub(crate) fn neurons() -> Vec<NeuronInfo<AccountId32>> {
    let neuron = |uid: u16| NeuronInfo {
        hotkey: account(10 + uid as u8),
        coldkey: account(20 + uid as u8),
        uid,
        netuid: NetUid(1),
        active: true,
        axon_info: AxonInfo {
            block: 3,
            version: 7,
            ip: 0x7f00_0001,
            port: 8091,
            ip_type: 4,
            protocol: 4,
            placeholder1: 0,
            placeholder2: 0,
        },
        prometheus_info: PrometheusInfo::default(),
        stake: vec![(account(20), 1_000.into()), (account(21), 500.into())],
        rank: 100 * uid,
        emission: 1_000_000 + u64::from(uid),
        incentive: 1,
        consensus: 2,
        trust: 3,
        validator_trust: 4,
        dividends: 5,
        last_update: 9,
        validator_permit: uid == 0,
        weights: vec![(0.into(), 65535.into()), (1.into(), 10.into())],
        bonds: vec![(1.into(), 7.into())],
        pruning_score: 65535,
    };
    vec![neuron(1), neuron(0)]
}

/// The grid spec of subnet 1 (the only grid subnet of the fake runtime).
pub(crate) fn grid_spec() -> GridSpecRecord {
    GridSpecRecord {
        spec: GridSpec {
            model_sha256: [0xab; 32],
            sampler_version: 1,
            max_new_tokens: 32,
            max_context: 512,
            model_name: GridModelName::truncate_from(b"tiny-grid".to_vec()),
        },
        set_at_block: 4,
    }
}

#[derive(Default)]
pub(crate) struct State {
    pub canonical: Vec<H256>,
    pub blocks: HashMap<H256, Block>,
    pub storage: HashMap<H256, BTreeMap<Vec<u8>, Vec<u8>>>,
    pub nonces: HashMap<H256, HashMap<u8, u32>>,
    pub finalized: H256,
    pub spec_version: u32,
}

pub(crate) struct FakeChain {
    pub state: Mutex<State>,
    pub events: broadcast::Sender<ChainEvent>,
}

impl FakeChain {
    /// Genesis with storage `{0x01: 0xaa, 0x0102: 0xbb, 0x0103: 0xcc, 0x02: 0xdd}`, nonce 5
    /// for sender 1.
    pub(crate) fn new() -> Arc<Self> {
        let genesis = Header::new(0, H256::zero(), H256::zero(), H256::zero(), Digest::default());
        let hash = genesis.hash();
        let mut state = State { finalized: hash, spec_version: 100, ..State::default() };
        state.canonical.push(hash);
        state.blocks.insert(hash, Block { header: genesis, extrinsics: vec![] });
        let storage: BTreeMap<Vec<u8>, Vec<u8>> = [
            (vec![1], vec![0xaa]),
            (vec![1, 2], vec![0xbb]),
            (vec![1, 3], vec![0xcc]),
            (vec![2], vec![0xdd]),
        ]
        .into_iter()
        .collect();
        state.storage.insert(hash, storage);
        state.nonces.insert(hash, [(1u8, 5u32)].into_iter().collect());
        Arc::new(Self { state: Mutex::new(state), events: broadcast::channel(64).0 })
    }

    pub(crate) fn genesis(&self) -> H256 {
        self.state.lock().canonical[0]
    }

    /// Imports a best block with `txs`, applying `writes` to storage; emits `NewBest`.
    pub(crate) fn import(&self, txs: &[Vec<u8>], writes: &[(Vec<u8>, Option<Vec<u8>>)]) -> H256 {
        let mut state = self.state.lock();
        let parent = *state.canonical.last().unwrap();
        let number = state.canonical.len() as BlockNumber;
        let extrinsics: Vec<UncheckedExtrinsic> =
            txs.iter().map(|d| UncheckedExtrinsic::decode(&mut &d[..]).unwrap()).collect();
        let mut nonces = state.nonces[&parent].clone();
        for x in &extrinsics {
            let (sender, nonce, _) = script_of(x);
            nonces.insert(sender, nonce + 1);
        }
        let mut storage = state.storage[&parent].clone();
        for (key, value) in writes {
            match value {
                Some(v) => storage.insert(key.clone(), v.clone()),
                None => storage.remove(key),
            };
        }
        let digest = Digest { logs: vec![DigestItem::PreRuntime(*b"aura", number.encode())] };
        let root = BlakeTwo256::hash(&extrinsics.encode());
        let header = Header::new(number, root, H256::repeat_byte(number as u8), parent, digest);
        let hash = header.hash();
        state.blocks.insert(hash, Block { header: header.clone(), extrinsics });
        state.storage.insert(hash, storage);
        state.nonces.insert(hash, nonces);
        state.canonical.push(hash);
        drop(state);
        let _ = self.events.send(ChainEvent::Imported { hash, header: header.clone() });
        let _ = self.events.send(ChainEvent::NewBest {
            hash,
            header,
            retracted: Vec::new(),
            enacted: vec![hash],
        });
        hash
    }

    /// Finalizes `hash`; emits `Finalized`.
    pub(crate) fn finalize(&self, hash: H256) {
        let header = {
            let mut state = self.state.lock();
            state.finalized = hash;
            state.blocks[&hash].header.clone()
        };
        let _ = self.events.send(ChainEvent::Finalized { hash, header });
    }

    fn known(&self, at: H256) -> ChainResult<()> {
        if self.state.lock().blocks.contains_key(&at) {
            Ok(())
        } else {
            Err(ChainError::UnknownBlock(at))
        }
    }
}

impl ChainApi for FakeChain {
    fn info(&self) -> ChainInfo {
        let state = self.state.lock();
        ChainInfo {
            genesis_hash: state.canonical[0],
            best_hash: *state.canonical.last().unwrap(),
            best_number: state.canonical.len() as BlockNumber - 1,
            finalized_hash: state.finalized,
            finalized_number: state.blocks[&state.finalized].header.number,
        }
    }
    fn header(&self, hash: H256) -> ChainResult<Option<Header>> {
        Ok(self.state.lock().blocks.get(&hash).map(|b| b.header.clone()))
    }
    fn block(&self, hash: H256) -> ChainResult<Option<Block>> {
        Ok(self.state.lock().blocks.get(&hash).cloned())
    }
    fn hash(&self, number: BlockNumber) -> ChainResult<Option<H256>> {
        Ok(self.state.lock().canonical.get(number as usize).copied())
    }
    fn storage(&self, at: H256, key: &[u8]) -> ChainResult<Option<Vec<u8>>> {
        self.known(at)?;
        Ok(self.state.lock().storage[&at].get(key).cloned())
    }
    fn storage_keys(
        &self,
        at: H256,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        count: u32,
    ) -> ChainResult<Vec<Vec<u8>>> {
        self.known(at)?;
        let state = self.state.lock();
        Ok(state.storage[&at]
            .keys()
            .filter(|k| k.starts_with(prefix))
            .filter(|k| start_after.is_none_or(|s| k.as_slice() > s))
            .take(count as usize)
            .cloned()
            .collect())
    }
    fn call(&self, at: H256, method: &str, args: &[u8]) -> ChainResult<Vec<u8>> {
        self.known(at)?;
        let out = match method {
            "Metadata_metadata" => METADATA.to_vec().encode(),
            "Metadata_metadata_at_version" => {
                let version = u32::decode(&mut &args[..]).unwrap();
                (version == 15).then(|| METADATA.to_vec()).encode()
            }
            "AccountNonceApi_account_nonce" => {
                let who = AccountId32::decode(&mut &args[..]).unwrap();
                let sender = <[u8; 32]>::from(who)[0];
                let state = self.state.lock();
                state.nonces[&at].get(&sender).copied().unwrap_or(0).encode()
            }
            "TransactionPaymentApi_query_info" => {
                let (_, len): (UncheckedExtrinsic, u32) = Decode::decode(&mut &args[..]).unwrap();
                RuntimeDispatchInfo::<u64> {
                    weight: Weight::from_parts(1000, 64),
                    class: DispatchClass::Normal,
                    partial_fee: 100 + u64::from(len),
                }
                .encode()
            }
            "TaggedTransactionQueue_validate_transaction" => {
                let (_, x, _): (TransactionSource, UncheckedExtrinsic, H256) =
                    Decode::decode(&mut &args[..]).unwrap();
                let (sender, nonce, bad) = script_of(&x);
                let state = self.state.lock();
                let on_chain = state.nonces[&at].get(&sender).copied().unwrap_or(0);
                let validity: TransactionValidity = if bad {
                    Err(InvalidTransaction::BadProof.into())
                } else if nonce < on_chain {
                    Err(InvalidTransaction::Stale.into())
                } else {
                    let tag = |n: u32| (account(sender), n).encode();
                    Ok(ValidTransaction {
                        priority: 1,
                        requires: if nonce > on_chain { vec![tag(nonce - 1)] } else { vec![] },
                        provides: vec![tag(nonce)],
                        longevity: 64,
                        propagate: true,
                    })
                };
                validity.encode()
            }
            "NeuronInfoRuntimeApi_get_neurons" => {
                let netuid = NetUid::decode(&mut &args[..]).unwrap();
                if netuid == NetUid(1) { neurons() } else { vec![] }.encode()
            }
            "NeuronInfoRuntimeApi_get_neurons_lite" => {
                let netuid = NetUid::decode(&mut &args[..]).unwrap();
                let neurons = if netuid == NetUid(1) { neurons() } else { vec![] };
                neurons.into_iter().map(NeuronInfoLite::from).collect::<Vec<_>>().encode()
            }
            "SubnetInfoRuntimeApi_get_subnet_info" => {
                let netuid = NetUid::decode(&mut &args[..]).unwrap();
                let info = SubnetInfo::<AccountId32>::decode(&mut &[0u8; 1024][..]).unwrap();
                (netuid == NetUid(1)).then_some(info).encode()
            }
            "SubnetInfoRuntimeApi_get_subnets_info" => vec![7u8, 8, 9],
            "GridSpecRuntimeApi_get_grid_spec" => {
                let netuid = NetUid::decode(&mut &args[..]).unwrap();
                (netuid == NetUid(1)).then(grid_spec).encode()
            }
            "Core_panics" => return Err(ChainError::Execution("boom".into())),
            other => return Err(ChainError::MethodNotFound(other.into())),
        };
        Ok(out)
    }
    fn runtime_version(&self, at: H256) -> ChainResult<sp_version::RuntimeVersion> {
        self.known(at)?;
        let mut version = subtensor_runtime::VERSION;
        version.spec_version = self.state.lock().spec_version;
        Ok(version)
    }
    fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }
}

/// A fake chain, a pool on it and the full module.
pub(crate) struct Harness {
    pub chain: Arc<FakeChain>,
    pub pool: Arc<Pool>,
    pub module: RpcModule<()>,
}

pub(crate) fn system_info() -> SystemInfo {
    let properties =
        serde_json::json!({"ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO"});
    SystemInfo {
        name: "subtensor-rs".into(),
        version: "0.1.0".into(),
        chain_name: "Subtensor Dev".into(),
        chain_type: ChainType::Development,
        properties: properties.as_object().unwrap().clone(),
    }
}

pub(crate) fn harness() -> Harness {
    let chain = FakeChain::new();
    let pool = Arc::new(Pool::new(PoolConfig::default(), chain.clone()));
    let deps = RpcDeps {
        chain: chain.clone(),
        pool: pool.clone(),
        system: system_info(),
        network: None,
        grandpa: None,
        unsafe_methods: true,
    };
    let module = rpc_module(deps).unwrap();
    Harness { chain, pool, module }
}

impl Harness {
    /// Calls `method` with JSON `params`; the result or the error object.
    pub(crate) async fn call(
        &self,
        method: &str,
        params: Value,
    ) -> Result<Value, ErrorObjectOwned> {
        let params: Vec<Value> = params.as_array().cloned().unwrap_or_default();
        match self.module.call::<_, Value>(method, params).await {
            Ok(v) => Ok(v),
            Err(MethodsError::JsonRpc(e)) => Err(e),
            Err(e) => panic!("{method}: {e}"),
        }
    }

    /// Calls and expects success.
    pub(crate) async fn ok(&self, method: &str, params: Value) -> Value {
        self.call(method, params).await.unwrap_or_else(|e| panic!("{method}: {e:?}"))
    }

    /// Calls and expects an error; returns its code.
    pub(crate) async fn err(&self, method: &str, params: Value) -> ErrorObjectOwned {
        match self.call(method, params).await {
            Ok(v) => panic!("{method} succeeded with {v}"),
            Err(e) => e,
        }
    }

    /// Subscribes; the error object if refused.
    pub(crate) async fn subscribe(
        &self,
        method: &str,
        params: Value,
    ) -> Result<Subscription, ErrorObjectOwned> {
        let params: Vec<Value> = params.as_array().cloned().unwrap_or_default();
        match self.module.subscribe_unbounded(method, params).await {
            Ok(sub) => Ok(sub),
            Err(MethodsError::JsonRpc(e)) => Err(e),
            Err(e) => panic!("{method}: {e}"),
        }
    }
}

/// The next notification of `sub` as JSON (fails after 5 s).
pub(crate) async fn next(sub: &mut Subscription) -> Value {
    let item = tokio::time::timeout(Duration::from_secs(5), sub.next::<Value>())
        .await
        .expect("no notification within 5 s");
    item.expect("subscription ended").expect("bad notification").0
}

/// Whether `sub` stays silent for a moment.
pub(crate) async fn silent(sub: &mut Subscription) -> bool {
    tokio::time::timeout(Duration::from_millis(100), sub.next::<Value>()).await.is_err()
}

/// `0x`-hex of `bytes`.
pub(crate) fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}
