//! The benchmarked weights bound what the heavy calls really cost: each heavy call runs in the
//! native runtime on the `dev` genesis plus a large subnet, and its declared weight (ref time,
//! picoseconds) must be at least its measured execution time.
//!
//! Measured: `set_weights` of a full row, `register` (proof of work) and `burned_register` on a
//! full subnet (a neuron is replaced), `register_network` with every netuid below the subnet
//! limit taken, `dissolve_network` of the full subnet, and the block step in which the full
//! subnet runs its epoch (against `block_step(s) + epoch(n, v, w)`). The setup is committed to
//! the state trie first, so reads come from the trie, as in the benchmarks; each call runs
//! [`RUNS`] times inside a storage transaction that is rolled back, and the fastest run counts
//! (the machine is shared, so slower runs are load, not cost).
//!
//! The timing assertions hold for optimised builds only: an unoptimised runtime is 10-30 times
//! slower than the release build the weights were measured with. `cargo test --release -p
//! subtensor-runtime --test weights_bound` (in `scripts/test.sh`) runs the full-size case with
//! the assertions (a 4096-UID subnet, 256 validators weighting every UID: 1M weights); a debug
//! build runs the same code on a 128-UID subnet and only checks that every call succeeds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use frame_support::{
    dispatch::GetDispatchInfo,
    traits::{fungible::Mutate, Hooks},
    weights::Weight,
};
use pallet_subtensor::{weights::WeightInfo as _, *};
use sp_runtime::traits::Dispatchable;
use std::time::{Duration, Instant};
use subtensor_runtime::{
    genesis_config_presets, AccountId, Balances, BlockNumber, Runtime, RuntimeCall, RuntimeOrigin,
    SubtensorModule, System, RAO_PER_TAO,
};

/// The runtime's weight functions of the pallet.
type PalletWeights = <Runtime as pallet_subtensor::Config>::WeightInfo;

/// Whether the timings mean anything (an optimised build, as the weights were measured).
const OPTIMIZED: bool = !cfg!(debug_assertions);

/// How many times each call runs; the fastest run counts.
const RUNS: usize = 5;

/// The block everything happens at.
const NOW: BlockNumber = 1_000;

/// The big subnet's UIDs, validators and weights per validator.
fn sizes() -> (u16, u16, u16) {
    if OPTIMIZED {
        (4096, 256, 4096)
    } else {
        (128, 8, 128)
    }
}

/// A distinct account for `(tag, i)`.
fn account(tag: u8, i: u32) -> AccountId {
    let mut bytes = [tag; 32];
    bytes[..4].copy_from_slice(&i.to_le_bytes());
    AccountId::new(bytes)
}

fn fund(who: &AccountId, amount: u64) {
    let _ = <Balances as Mutate<AccountId>>::set_balance(who, amount);
}

/// Create a subnet for `owner` with `hotkey`, at the minimum lock cost.
fn add_subnet(owner: &AccountId, hotkey: &AccountId) -> NetUid {
    NetworkLastLockCost::<Runtime>::put(NetworkMinLockCost::<Runtime>::get());
    fund(owner, SubtensorModule::network_lock_cost() + RAO_PER_TAO);
    SubtensorModule::do_register_network(owner, hotkey).expect("subnet registered");
    Uids::<Runtime>::iter().find(|(_, hk, _)| hk == hotkey).map(|(n, _, _)| n).expect("netuid")
}

/// The setup: the dev genesis, subnets up to one below the limit, and one big subnet of `n`
/// UIDs with `v` validators that each weight `k` UIDs, bonds from one epoch, and an axon per
/// neuron.
struct World {
    ext: sp_io::TestExternalities,
    netuid: NetUid,
    validator: AccountId,
}

fn world() -> World {
    let (n, v, k) = sizes();
    let storage = genesis_config_presets::preset_storage(sp_genesis_builder::DEV_RUNTIME_PRESET)
        .expect("the dev preset builds");
    let mut ext = sp_io::TestExternalities::new(storage);
    let (netuid, validator) = ext.execute_with(|| {
        // Neurons register well before the weights are set (older weights are masked).
        System::set_block_number(NOW - 500);
        let owner = account(1, 0);
        let netuid = add_subnet(&owner, &account(2, 0));
        MaxAllowedUids::<Runtime>::insert(netuid, n);
        MaxAllowedValidators::<Runtime>::insert(netuid, v);
        MaxRegistrationsPerBlock::<Runtime>::insert(netuid, u16::MAX);
        TargetRegistrationsPerInterval::<Runtime>::insert(netuid, u16::MAX);
        Burn::<Runtime>::insert(netuid, 0);
        MinBurn::<Runtime>::insert(netuid, 0);
        Difficulty::<Runtime>::insert(netuid, 1);
        ServingAllowsLoopback::<Runtime>::put(true);
        let coldkey = account(3, 0);
        for uid in 1..u32::from(n) {
            SubtensorModule::do_burned_register(netuid, &coldkey, &account(4, uid))
                .expect("registered");
        }
        RegistrationsThisBlock::<Runtime>::remove(netuid);
        RegistrationsThisInterval::<Runtime>::remove(netuid);
        BurnRegistrationsThisInterval::<Runtime>::remove(netuid);
        System::set_block_number(NOW);
        // Validators spread over the UIDs, staked and permitted, each weighting `k` UIDs.
        let stride = n / v;
        let mut permits = ValidatorPermit::<Runtime>::get(netuid).into_inner();
        for i in 0..v {
            let uid = i * stride;
            let hotkey = Keys::<Runtime>::get(netuid, uid).expect("uid exists");
            let staker = account(5, u32::from(i));
            fund(&staker, 2_000 * RAO_PER_TAO);
            SubtensorModule::do_add_stake(&staker, &hotkey, 1_000 * RAO_PER_TAO + u64::from(i))
                .expect("staked");
            permits[usize::from(uid)] = true;
        }
        ValidatorPermit::<Runtime>::insert(
            netuid,
            frame_support::BoundedVec::truncate_from(permits),
        );
        for i in 0..v {
            let hotkey = Keys::<Runtime>::get(netuid, i * stride).expect("uid exists");
            let dests: Vec<u16> = (0..k).map(|j| (i * stride + j) % n).collect();
            let weights: Vec<u16> = (0..k).map(|j| 1 + (j.wrapping_mul(7_919) % 65_000)).collect();
            SubtensorModule::do_set_weights(&hotkey, netuid, dests, weights, 0)
                .expect("weights set");
        }
        // One epoch: bonds, permits and pruning scores as on a live subnet. The costliest
        // epoch variant: Yuma-3 with liquid alpha, and commit-reveal.
        Tempo::<Runtime>::insert(netuid, 1);
        Yuma3On::<Runtime>::insert(netuid, true);
        LiquidAlphaOn::<Runtime>::insert(netuid, true);
        PendingEmission::<Runtime>::insert(netuid, 0);
        SubtensorModule::on_initialize(NOW);
        // Everyone serves an axon.
        for uid in 0..n {
            let hotkey = Keys::<Runtime>::get(netuid, uid).expect("uid exists");
            let axon = AxonInfo { ip: 0x7f00_0001, port: 8091, ip_type: 4, ..Default::default() };
            Axons::<Runtime>::insert(netuid, &hotkey, axon);
        }
        // Other subnets up to one below the limit: `register_network` searches longest.
        for i in 1..u32::from(SubnetLimit::<Runtime>::get()) {
            if u32::from(TotalNetworks::<Runtime>::get()) + 1
                >= u32::from(SubnetLimit::<Runtime>::get())
            {
                break;
            }
            let other = add_subnet(&account(6, i), &account(7, i));
            // No epoch of theirs in the measured block.
            Tempo::<Runtime>::insert(other, u16::MAX);
        }
        // Weights may be set again.
        WeightsSetRateLimit::<Runtime>::insert(netuid, 0);
        let validator = Keys::<Runtime>::get(netuid, stride).expect("a validator");
        (netuid, validator)
    });
    ext.commit_all().expect("the setup commits");
    World { ext, netuid, validator }
}

/// The fastest of [`RUNS`] runs of `f`, each rolled back.
fn fastest<R>(
    ext: &mut sp_io::TestExternalities,
    mut f: impl FnMut() -> R,
    check: impl Fn(R),
) -> Duration {
    (0..RUNS)
        .map(|_| {
            ext.execute_with(|| {
                sp_io::storage::start_transaction();
                let start = Instant::now();
                let result = f();
                let elapsed = start.elapsed();
                sp_io::storage::rollback_transaction();
                check(result);
                elapsed
            })
        })
        .min()
        .unwrap_or_default()
}

/// Assert (optimised builds) that `weight` covers `measured`, and report both.
fn check_bound(what: &str, weight: Weight, measured: Duration) {
    let measured_ps = u64::try_from(measured.as_nanos()).unwrap_or(u64::MAX).saturating_mul(1_000);
    eprintln!(
        "{what}: weight {:.3} ms, measured {:.3} ms ({:.1}x)",
        weight.ref_time() as f64 / 1e9,
        measured_ps as f64 / 1e9,
        weight.ref_time() as f64 / measured_ps.max(1) as f64
    );
    if OPTIMIZED {
        assert!(
            weight.ref_time() >= measured_ps,
            "{what}: the weight ({} ps) is below the measured cost ({measured_ps} ps)",
            weight.ref_time()
        );
    }
}

/// Dispatch `call` from `origin` [`RUNS`] times; check it succeeds and its weight covers it.
fn check_call(world: &mut World, what: &str, call: RuntimeCall, origin: RuntimeOrigin) {
    let weight = call.get_dispatch_info().call_weight;
    let measured = fastest(
        &mut world.ext,
        || call.clone().dispatch(origin.clone()),
        |result| {
            let post = result.unwrap_or_else(|e| panic!("{what} failed: {e:?}"));
            if let Some(actual) = post.actual_weight {
                assert!(actual.ref_time() <= weight.ref_time(), "{what}: actual above declared");
            }
        },
    );
    check_bound(what, weight, measured);
}

#[test]
fn benchmarked_weights_cover_the_heavy_calls() {
    let mut world = world();
    let netuid = world.netuid;
    let (n, _, k) = sizes();

    // set_weights of a full row by a validator.
    let dests: Vec<u16> = (0..k).rev().collect();
    let weights: Vec<u16> = (0..k).map(|j| 1 + j % 1_000).collect();
    let call = RuntimeCall::SubtensorModule(pallet_subtensor::Call::set_weights {
        netuid,
        dests,
        weights,
        version_key: 0,
    });
    let validator = RuntimeOrigin::signed(world.validator.clone());
    check_call(&mut world, "set_weights (full row)", call, validator);

    // Proof-of-work registration on the full subnet.
    let hotkey = account(8, 0);
    let (block, work) = world.ext.execute_with(|| {
        let hash = System::block_hash(NOW);
        let seal = pallet_subtensor::subnets::registration::create_seal_hash(
            hash.as_ref(),
            hotkey.as_ref(),
            3,
        );
        (u64::from(NOW), seal.as_bytes().to_vec())
    });
    let call = RuntimeCall::SubtensorModule(pallet_subtensor::Call::register {
        netuid,
        block_number: block,
        nonce: 3,
        work,
        hotkey: hotkey.clone(),
        coldkey: account(9, 0),
    });
    check_call(&mut world, "register (full subnet)", call, RuntimeOrigin::signed(hotkey));

    // Burned registration on the full subnet.
    let coldkey = account(10, 0);
    world.ext.execute_with(|| fund(&coldkey, 10 * RAO_PER_TAO));
    world.ext.commit_all().expect("commits");
    let call = RuntimeCall::SubtensorModule(pallet_subtensor::Call::burned_register {
        netuid,
        hotkey: account(11, 0),
    });
    check_call(&mut world, "burned_register (full subnet)", call, RuntimeOrigin::signed(coldkey));

    // A subnet registration with every netuid but one taken.
    let coldkey = account(12, 0);
    world.ext.execute_with(|| {
        fund(&coldkey, SubtensorModule::network_lock_cost() + RAO_PER_TAO);
    });
    world.ext.commit_all().expect("commits");
    let call = RuntimeCall::SubtensorModule(pallet_subtensor::Call::register_network {
        hotkey: account(13, 0),
    });
    check_call(&mut world, "register_network", call, RuntimeOrigin::signed(coldkey));

    // Dissolving the full subnet.
    let call = RuntimeCall::SubtensorModule(pallet_subtensor::Call::dissolve_network { netuid });
    check_call(&mut world, "dissolve_network (full subnet)", call, RuntimeOrigin::root());

    // The block step in which the full subnet runs its epoch, with commit-reveal on (every
    // hotkey's commitments are read).
    let (subnets, v, w) = world.ext.execute_with(|| {
        CommitRevealWeightsEnabled::<Runtime>::insert(netuid, true);
        let v = u32::from(MaxAllowedValidators::<Runtime>::get(netuid)).min(u32::from(n));
        // Weight and bond entries, as the epoch's weight counts them.
        let w: u32 = (0..n)
            .map(|uid| {
                (Weights::<Runtime>::get(netuid, uid).len()
                    + Bonds::<Runtime>::get(netuid, uid).len()) as u32
            })
            .sum();
        (u32::from(TotalNetworks::<Runtime>::get()), v, w)
    });
    world.ext.commit_all().expect("commits");
    let weight =
        PalletWeights::block_step(subnets).saturating_add(PalletWeights::epoch(u32::from(n), v, w));
    let measured = fastest(
        &mut world.ext,
        || {
            System::set_block_number(NOW + 1);
            SubtensorModule::on_initialize(NOW + 1)
        },
        |_| {},
    );
    world.ext.execute_with(|| {
        assert_eq!(LastStepBlock::<Runtime>::get(netuid), u64::from(NOW), "rolled back");
    });
    check_bound(&format!("block step with the epoch of {n} UIDs, {w} entries"), weight, measured);
}
