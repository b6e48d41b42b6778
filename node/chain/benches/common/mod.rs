//! Shared by the node benchmarks: the dev genesis with a crafted subnet, signing, and a client.
//!
//! The subnet is set up by running the pallet's own registration code on the dev genesis state
//! (in `sp_io::TestExternalities`, before block 1), so that every storage item that goes with a
//! neuron is written as the runtime writes it; only what needs an epoch or many blocks on a live
//! chain (the subnet size limit, registration limits, validator permits, weights) is set
//! directly.

#![allow(dead_code, unreachable_pub)]

use sp_core::{sr25519, storage::Storage, Pair, H256};
use sp_genesis_builder::DEV_RUNTIME_PRESET;
use sp_keyring::Sr25519Keyring;
use sp_runtime::BuildStorage;
use std::sync::Arc;
use subtensor_chain::{BuiltBlock, ChainApi, ChainWrite, Client, ClientConfig, Database, Pruning};
use subtensor_runtime::*;

/// The subnet of the benchmarks (the dev chain's subnet 1, owned by //Alice).
pub const NETUID: u16 = 1;
/// Slot duration of the benchmark chains (the dev chain's).
pub const SLOT_MS: u64 = 1_000;

type Subtensor = pallet_subtensor::Pallet<Runtime>;

fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
    match (base, patch) {
        (serde_json::Value::Object(b), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, p) => *b = p,
    }
}

/// The genesis storage of the runtime's `dev` preset (what `--chain dev` starts from).
pub fn dev_storage() -> Storage {
    let patch = genesis_config_presets::get_preset(&DEV_RUNTIME_PRESET.into()).expect("dev preset");
    let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("config json");
    merge(&mut config, serde_json::from_slice(&patch).expect("preset json"));
    let config: RuntimeGenesisConfig = serde_json::from_value(config).expect("genesis config");
    config.build_storage().expect("genesis storage")
}

/// A deterministic hotkey for neuron `i` (a fresh seed each; no key derivation).
pub fn hotkey(i: usize) -> sr25519::Pair {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    seed[8..16].copy_from_slice(b"benchhot");
    sr25519::Pair::from_seed(&seed)
}

/// What to put in the subnet.
pub struct SubnetSpec {
    /// Neurons registered besides the owner's (UID 0): UIDs 1..=neurons.
    pub neurons: usize,
    /// The first this many UIDs (owner included) hold validator permits.
    pub permits: usize,
    /// The first this many UIDs get 1,000 TAO of //Alice's stake.
    pub staked: usize,
    /// The first this many UIDs get a weight row over every UID.
    pub weight_rows: usize,
    /// The subnet's tempo (blocks between epochs).
    pub tempo: u16,
}

/// `base` with subnet [`NETUID`] grown as `spec` says; returns the storage and the hotkeys of
/// UIDs 1..=neurons (index `i` is UID `i + 1`).
pub fn subnet_genesis(base: Storage, spec: &SubnetSpec) -> (Storage, Vec<sr25519::Pair>) {
    use pallet_subtensor::*;
    let hotkeys: Vec<sr25519::Pair> = (0..spec.neurons).map(hotkey).collect();
    let mut ext = sp_io::TestExternalities::new(base);
    let storage = ext.execute_with(|| {
        let netuid = NetUid(NETUID);
        let alice = Sr25519Keyring::Alice.to_account_id();
        let n = u16::try_from(spec.neurons + 1).expect("at most 4096 neurons");
        MaxAllowedUids::<Runtime>::insert(netuid, n.max(256));
        MaxAllowedValidators::<Runtime>::insert(
            netuid,
            u16::try_from(spec.permits).expect("permits"),
        );
        MaxRegistrationsPerBlock::<Runtime>::insert(netuid, u16::MAX);
        TargetRegistrationsPerInterval::<Runtime>::insert(netuid, u16::MAX);
        Burn::<Runtime>::insert(netuid, 0);
        Tempo::<Runtime>::insert(netuid, spec.tempo);
        for pair in &hotkeys {
            let hot = AccountId::from(pair.public());
            Subtensor::do_burned_register(netuid, &alice, &hot).expect("registration");
        }
        // Back to the dev chain's registration terms; the counters as after an adjustment.
        MaxRegistrationsPerBlock::<Runtime>::remove(netuid);
        TargetRegistrationsPerInterval::<Runtime>::remove(netuid);
        Burn::<Runtime>::remove(netuid);
        RegistrationsThisBlock::<Runtime>::remove(netuid);
        RegistrationsThisInterval::<Runtime>::remove(netuid);
        BurnRegistrationsThisInterval::<Runtime>::remove(netuid);
        assert_eq!(SubnetworkN::<Runtime>::get(netuid), n);

        let permits: Vec<bool> = (0..usize::from(n)).map(|uid| uid < spec.permits).collect();
        ValidatorPermit::<Runtime>::insert(
            netuid,
            UidVec::<bool>::try_from(permits).expect("at most 4096 uids"),
        );
        for uid in 0..spec.staked.min(usize::from(n)) {
            let hot = Keys::<Runtime>::get(netuid, uid as u16).expect("registered");
            Subtensor::do_add_stake(&alice, &hot, 1_000 * RAO_PER_TAO).expect("stake");
        }
        for uid in 0..spec.weight_rows.min(usize::from(n)) {
            let row: Vec<(u16, u16)> = (0..n)
                .map(|dest| (dest, 1 + ((dest as u32 * 7919 + uid as u32) % 65535) as u16))
                .collect();
            Weights::<Runtime>::insert(
                netuid,
                uid as u16,
                SparseRow::try_from(row).expect("at most 4096 weights"),
            );
        }
        let mut storage = Storage::default();
        let mut key = Vec::new();
        while let Some(next) = sp_io::storage::next_key(&key) {
            let value = sp_io::storage::get(&next).expect("a listed key has a value");
            storage.top.insert(next.clone(), value.to_vec());
            key = next;
        }
        storage
    });
    (storage, hotkeys)
}

/// The block authority of the dev chain.
pub fn authority() -> sr25519::Pair {
    Sr25519Keyring::Alice.pair()
}

/// A client of the dev chain over `db` starting from `genesis`.
pub fn open(db: Arc<dyn Database>, genesis: &Storage) -> Arc<Client> {
    open_with(db, genesis, &[authority()], Pruning::Archive)
}

/// A client over `db` starting from `genesis` whose Aura authorities are `authorities` (the
/// author of slot `s` is `authorities[s % n]`), with [`SLOT_MS`] slots.
pub fn open_with(
    db: Arc<dyn Database>,
    genesis: &Storage,
    authorities: &[sr25519::Pair],
    pruning: Pruning,
) -> Arc<Client> {
    let config = ClientConfig {
        authorities: authorities.iter().map(Pair::public).collect(),
        slot_duration_ms: SLOT_MS,
        pruning,
        trie_cache_bytes: 64 * 1024 * 1024,
    };
    Client::open(db, genesis, config).expect("open the chain")
}

/// The timestamp of the next block on `client`'s best block: one slot later.
pub fn next_timestamp(client: &Client) -> u64 {
    (u64::from(client.info().best_number) + 1) * SLOT_MS + 17
}

/// The built block sealed by the authority.
pub fn seal(built: &BuiltBlock) -> Block {
    seal_by(built, &authority())
}

/// The built block sealed by `author` (the author of its slot).
pub fn seal_by(built: &BuiltBlock, author: &sr25519::Pair) -> Block {
    Block {
        header: subtensor_chain::consensus::seal(built.block.header.clone(), author),
        extrinsics: built.block.extrinsics.clone(),
    }
}

/// The author of `slot` among `authorities` (Aura's round robin: `slot % n`).
pub fn slot_author(authorities: &[sr25519::Pair], slot: u64) -> &sr25519::Pair {
    &authorities[(slot % authorities.len() as u64) as usize]
}

/// A block on `parent` in `slot` (timestamp inside the slot), with `extrinsics`, sealed by the
/// slot's author among `authorities`; panics if a transaction is not included.
pub fn block_in_slot(
    client: &Client,
    authorities: &[sr25519::Pair],
    parent: H256,
    slot: u64,
    extrinsics: &[UncheckedExtrinsic],
) -> Block {
    let built = client.build_block(parent, slot * SLOT_MS + 1, extrinsics).expect("build");
    assert!(built.rejected.is_empty(), "rejected: {:?}", built.rejected.first());
    assert_eq!(built.included.len(), extrinsics.len(), "not all transactions included");
    seal_by(&built, slot_author(authorities, slot))
}

/// The genesis storage of a raw chain spec (as `subtensor-node build-spec --raw` writes it),
/// with the spec itself.
pub fn raw_spec_storage(path: &str) -> (serde_json::Value, Storage) {
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read the chain spec"))
            .expect("JSON");
    let top = spec["genesis"]["raw"]["top"].as_object().expect("a raw spec (--raw)");
    let mut storage = Storage::default();
    for (k, v) in top {
        let key = hex::decode(k.trim_start_matches("0x")).expect("hex key");
        let value =
            hex::decode(v.as_str().expect("hex value").trim_start_matches("0x")).expect("hex");
        storage.top.insert(key, value);
    }
    (spec, storage)
}

/// A `transfer_keep_alive` of `amount` to `dest`.
pub fn transfer_call(dest: AccountId, amount: Balance) -> RuntimeCall {
    RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
        dest: Address::Id(dest),
        value: amount,
    })
}

/// `call` signed by `pair` with `nonce`, immortal, for the chain with `genesis` (the runtime's
/// own signing, so benchmarks sign exactly as clients do).
pub fn signed(
    pair: &sr25519::Pair,
    call: RuntimeCall,
    nonce: Nonce,
    genesis: H256,
) -> UncheckedExtrinsic {
    subtensor_runtime::signing::sign_extrinsic(
        pair,
        call,
        nonce,
        0,
        &subtensor_runtime::signing::SigningContext::immortal(genesis),
    )
}

/// Median of some durations in milliseconds.
pub fn median_ms(samples: &mut [f64]) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    match samples.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => samples[n / 2],
        n => (samples[n / 2 - 1] + samples[n / 2]) / 2.0,
    }
}
