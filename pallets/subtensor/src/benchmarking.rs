//! FRAME benchmarks (v2) of every call of the pallet and of its per-block work.
//!
//! Each benchmark sets up the worst case its weight must cover, then runs the call (or the
//! block) once; `subtensor-node benchmark pallet` (built with the node's `runtime-benchmarks`
//! feature) measures them on the native runtime and writes [`crate::weights`], and
//! `cargo test -p pallet-subtensor --features runtime-benchmarks` runs each as a unit test on
//! the mock runtime, with the lowest, highest and a few intermediate component values.
//!
//! Worst cases:
//! - calls that check a neuron's per-UID vectors (`set_weights`, `reveal_weights`) or pick a UID
//!   to replace (`register`, `burned_register`) run on a subnet full at [`MAX_UIDS_LIMIT`] UIDs;
//! - `register_network` runs with every netuid below the subnet limit taken, so that the search
//!   for a free netuid is longest;
//! - `dissolve_network` removes `n` neurons that each hold weights, bonds, an axon, a Prometheus
//!   endpoint and a weight commitment, and the subnet's grid spec;
//! - `set_grid_spec` replaces a spec set a rate limit ago with one whose name has the most
//!   bytes, signed by the owner (whose ownership and rate limit are read);
//! - `epoch` drives the storage-level epoch through [`Pallet::block_step`] at a block where the
//!   subnet's epoch is due (the one subnet there is), with Yuma-3, liquid alpha and
//!   commit-reveal on (the costliest variant), paying out pending emission; it includes the
//!   small fixed cost of one subnet's block step;
//! - `block_step` runs with `s` subnets whose registration terms are all retargeted in that
//!   block and none of which runs its epoch (epochs are weighed by `epoch`).

use crate::{
    subnets::{registration::create_seal_hash, uids::set_uid_value, weights::commit_hash},
    *,
};
use alloc::{vec, vec::Vec};
use codec::{Encode, FullCodec};
use frame_benchmarking::v2::*;
use frame_support::{ensure, traits::fungible::Mutate, BoundedVec};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_core::H256;

/// The seed of every benchmark account.
const SEED: u32 = 0;

/// [`MAX_UIDS_LIMIT`] as the `u32` of component ranges.
const MAX_UIDS: u32 = MAX_UIDS_LIMIT as u32;

/// The most subnets `block_step` is benchmarked with (the default [`SubnetLimit`]).
const MAX_SUBNETS: u32 = 128;

/// The block the benchmarks run at (so that weights and registrations have a past).
const BENCH_BLOCK: u32 = 1_000;

/// One TAO in rao.
const TAO: u64 = 1_000_000_000;

/// What each weight function of [`crate::weights::WeightInfo`] weighs, by benchmark name: the
/// benchmark runner writes these as the functions' documentation.
pub const WEIGHT_DOCS: &[(&str, &str)] = &[
    ("set_weights", "`set_weights` with `n` weights, on a full subnet."),
    ("add_stake", "`add_stake`."),
    ("remove_stake", "`remove_stake`."),
    ("serve_axon", "`serve_axon`."),
    ("serve_prometheus", "`serve_prometheus`."),
    ("register", "`register` (proof of work), replacing a neuron of a full subnet."),
    ("burned_register", "`burned_register`, replacing a neuron of a full subnet."),
    ("register_network", "`register_network`."),
    ("dissolve_network", "`dissolve_network` of a subnet of `n` neurons."),
    ("decrease_take", "`decrease_take`."),
    ("increase_take", "`increase_take`."),
    ("set_hyperparameter", "`set_hyperparameter`."),
    ("set_global_parameter", "`set_global_parameter`."),
    ("set_grid_spec", "`set_grid_spec` by the subnet owner, replacing a spec."),
    ("clear_grid_spec", "`clear_grid_spec` by the subnet owner."),
    ("commit_weights", "`commit_weights`."),
    ("reveal_weights", "`reveal_weights` of `n` weights, on a full subnet."),
    (
        "block_step",
        "The block step over `s` subnets (emission split, registration retargeting), no epoch.",
    ),
    (
        "epoch",
        "One subnet epoch and payout: `n` UIDs, `v` validators, `w` weight and bond entries.",
    ),
];

/// The benchmark account `name` `index`.
fn account_of<T: Config>(name: &'static str, index: u32) -> T::AccountId {
    account(name, index, SEED)
}

/// `n` as a UID count (saturating at `u16::MAX`).
fn uid_count(n: u32) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Set the block number to [`BENCH_BLOCK`].
fn set_block<T: Config>() {
    frame_system::Pallet::<T>::set_block_number(BlockNumberFor::<T>::from(BENCH_BLOCK));
}

/// Dissolve every subnet (the chain's genesis may hold some).
fn clear_subnets<T: Config>() -> Result<(), BenchmarkError> {
    for netuid in Pallet::<T>::subnets() {
        Pallet::<T>::do_dissolve_network(None, netuid)?;
    }
    Ok(())
}

/// Create a subnet (no lock) owned by `owner` `index` with `owner_hot` `index` as UID 0, able to
/// hold [`MAX_UIDS_LIMIT`] UIDs.
fn new_subnet<T: Config>(index: u32) -> Result<NetUid, BenchmarkError> {
    let netuid = (1..=u16::MAX)
        .map(NetUid)
        .find(|n| !NetworksAdded::<T>::get(*n))
        .ok_or(BenchmarkError::Stop("no free netuid"))?;
    let owner = account_of::<T>("owner", index);
    let owner_hot = account_of::<T>("owner_hot", index);
    Pallet::<T>::init_subnet(netuid, &owner, &owner_hot, 0, Pallet::<T>::current_block())?;
    MaxAllowedUids::<T>::insert(netuid, MAX_UIDS_LIMIT);
    Ok(netuid)
}

/// The owner coldkey and hotkey of `netuid`.
fn owner_of<T: Config>(netuid: NetUid) -> Result<(T::AccountId, T::AccountId), BenchmarkError> {
    let owner = SubnetOwner::<T>::get(netuid).ok_or(BenchmarkError::Stop("no owner"))?;
    let hot = SubnetOwnerHotkey::<T>::get(netuid).ok_or(BenchmarkError::Stop("no owner hotkey"))?;
    Ok((owner, hot))
}

/// The hotkey of neuron `uid` of `netuid` as [`fill_subnet`] creates it.
fn neuron<T: Config>(netuid: NetUid, uid: u16) -> T::AccountId {
    account("neuron", u32::from(uid), u32::from(netuid.0))
}

/// Grow the per-UID vector `S[netuid]` to `n` entries of `value`.
fn grow<S, V>(netuid: NetUid, n: u16, value: V)
where
    S: frame_support::storage::StorageMap<NetUid, UidVec<V>, Query = UidVec<V>>,
    V: FullCodec + Clone,
{
    S::mutate(netuid, |vec| {
        while vec.len() < usize::from(n) {
            if vec.try_push(value.clone()).is_err() {
                return;
            }
        }
    });
}

/// Add neurons to `netuid` up to `n` UIDs, registered at block `registered`, as
/// `register_neuron` would (in bulk: one write per per-UID vector).
fn fill_subnet<T: Config>(netuid: NetUid, n: u32, registered: u64) {
    let n = uid_count(n).min(MAX_UIDS_LIMIT);
    for uid in SubnetworkN::<T>::get(netuid)..n {
        let hotkey = neuron::<T>(netuid, uid);
        let coldkey: T::AccountId = account("neuron_cold", u32::from(uid), u32::from(netuid.0));
        Keys::<T>::insert(netuid, uid, &hotkey);
        Uids::<T>::insert(netuid, &hotkey, uid);
        IsNetworkMember::<T>::insert(&hotkey, netuid, true);
        BlockAtRegistration::<T>::insert(netuid, uid, registered);
        if !Owner::<T>::contains_key(&hotkey) {
            Owner::<T>::insert(&hotkey, coldkey);
        }
    }
    grow::<LastUpdate<T>, _>(netuid, n, 0u64);
    grow::<Active<T>, _>(netuid, n, true);
    grow::<Rank<T>, _>(netuid, n, 0u16);
    grow::<Trust<T>, _>(netuid, n, 0u16);
    grow::<Consensus<T>, _>(netuid, n, 0u16);
    grow::<Incentive<T>, _>(netuid, n, 0u16);
    grow::<Dividends<T>, _>(netuid, n, 0u16);
    grow::<ValidatorTrust<T>, _>(netuid, n, 0u16);
    grow::<ValidatorPermit<T>, _>(netuid, n, false);
    grow::<Emission<T>, _>(netuid, n, 0u64);
    grow::<PruningScores<T>, _>(netuid, n, 0u16);
    grow::<StakeWeight<T>, _>(netuid, n, 0u16);
    SubnetworkN::<T>::insert(netuid, n);
}

/// Give neuron `uid` of `netuid` a validator permit; returns its hotkey.
fn permit<T: Config>(netuid: NetUid, uid: u16) -> Result<T::AccountId, BenchmarkError> {
    set_uid_value::<ValidatorPermit<T>, _>(netuid, uid, true);
    Keys::<T>::get(netuid, uid).ok_or(BenchmarkError::Stop("no such uid"))
}

/// A weight row of `n` entries in descending UID order (so that storing it sorts it), with
/// values that differ.
fn weight_row(n: u32) -> (Vec<u16>, Vec<u16>) {
    let dests = (0..uid_count(n)).rev().collect();
    let values = (0..n).map(|i| uid_count(i.wrapping_rem(1_000).saturating_add(1))).collect();
    (dests, values)
}

/// `count` weight commitments with distinct hashes, revealable in epoch `reveal_epoch`.
fn commits(count: u32, commit_block: u64, reveal_epoch: u64) -> Vec<WeightCommit> {
    (0..count)
        .map(|i| WeightCommit {
            hash: H256::from_low_u64_be(u64::from(i).saturating_add(1)),
            commit_block,
            reveal_epoch,
        })
        .collect()
}

/// A storage row of `(uid, value)` pairs.
fn sparse_row(row: Vec<(u16, u16)>) -> SparseRow {
    BoundedVec::truncate_from(row)
}

/// A valid grid spec with digest byte `fill` and a model name of the most bytes.
fn grid_spec(fill: u8) -> GridSpec {
    let name = vec![b'm'; subtensor_primitives::GRID_MODEL_NAME_MAX_BYTES as usize];
    GridSpec {
        model_sha256: [fill; 32],
        sampler_version: 1,
        max_new_tokens: 256,
        max_context: 4096,
        model_name: BoundedVec::truncate_from(name),
    }
}

/// Stake `amount` from `coldkey` on `hotkey` (held by the pallet, as `add_stake` leaves it).
fn put_stake<T: Config>(hotkey: &T::AccountId, coldkey: &T::AccountId, amount: u64) {
    Pallet::<T>::increase_stake(hotkey, coldkey, amount);
}

#[benchmarks]
mod benchmarks {
    use super::*;

    #[benchmark]
    fn set_weights(n: Linear<1, MAX_UIDS>) -> Result<(), BenchmarkError> {
        let netuid = new_subnet::<T>(0)?;
        fill_subnet::<T>(netuid, MAX_UIDS, 1);
        let hotkey = permit::<T>(netuid, 1)?;
        let (dests, weights) = weight_row(n);

        #[extrinsic_call]
        _(RawOrigin::Signed(hotkey), netuid, dests, weights, 0);

        ensure!(Weights::<T>::get(netuid, 1).len() == n as usize, "weights not stored");
        Ok(())
    }

    #[benchmark]
    fn add_stake() -> Result<(), BenchmarkError> {
        let hotkey = account_of::<T>("hotkey", 0);
        let coldkey = account_of::<T>("coldkey", 0);
        Owner::<T>::insert(&hotkey, &coldkey);
        let amount = 100u64.saturating_mul(TAO);
        // The whole balance: the account is reaped.
        let _ = T::Currency::set_balance(&coldkey, amount);

        #[extrinsic_call]
        _(RawOrigin::Signed(coldkey.clone()), hotkey.clone(), amount);

        ensure!(Stake::<T>::get(&hotkey, &coldkey) == amount, "stake not added");
        Ok(())
    }

    #[benchmark]
    fn remove_stake() -> Result<(), BenchmarkError> {
        let hotkey = account_of::<T>("hotkey", 0);
        let coldkey = account_of::<T>("coldkey", 0);
        Owner::<T>::insert(&hotkey, &coldkey);
        let amount = 100u64.saturating_mul(TAO);
        let _ = T::Currency::set_balance(&coldkey, amount);
        Pallet::<T>::do_add_stake(&coldkey, &hotkey, amount)?;

        // All of it, to a coldkey without an account: the account is created.
        #[extrinsic_call]
        _(RawOrigin::Signed(coldkey.clone()), hotkey.clone(), amount);

        ensure!(Stake::<T>::get(&hotkey, &coldkey) == 0, "stake not removed");
        Ok(())
    }

    #[benchmark]
    fn serve_axon() -> Result<(), BenchmarkError> {
        let netuid = new_subnet::<T>(0)?;
        let (_, hotkey) = owner_of::<T>(netuid)?;
        ServingRateLimit::<T>::insert(netuid, 0);
        let axon = AxonInfo {
            block: 0,
            version: 1,
            ip: 0x0102_0304,
            port: 8091,
            ip_type: 4,
            protocol: 0,
            placeholder1: 0,
            placeholder2: 0,
        };
        Pallet::<T>::do_serve_axon(&hotkey, netuid, axon)?;

        #[extrinsic_call]
        _(RawOrigin::Signed(hotkey.clone()), netuid, 2, 0x0506_0708, 8092, 4, 0, 0, 0);

        ensure!(Axons::<T>::get(netuid, &hotkey).map(|a| a.version) == Some(2), "not served");
        Ok(())
    }

    #[benchmark]
    fn serve_prometheus() -> Result<(), BenchmarkError> {
        let netuid = new_subnet::<T>(0)?;
        let (_, hotkey) = owner_of::<T>(netuid)?;
        ServingRateLimit::<T>::insert(netuid, 0);
        let info = PrometheusInfo { block: 0, version: 1, ip: 0x0102_0304, port: 9090, ip_type: 4 };
        Pallet::<T>::do_serve_prometheus(&hotkey, netuid, info)?;

        #[extrinsic_call]
        _(RawOrigin::Signed(hotkey.clone()), netuid, 2, 0x0506_0708, 9091, 4);

        ensure!(Prometheus::<T>::get(netuid, &hotkey).map(|p| p.version) == Some(2), "not served");
        Ok(())
    }

    #[benchmark]
    fn register() -> Result<(), BenchmarkError> {
        set_block::<T>();
        let netuid = new_subnet::<T>(0)?;
        fill_subnet::<T>(netuid, MAX_UIDS, 1);
        // Any seal meets difficulty 1.
        Difficulty::<T>::insert(netuid, 1);
        let hotkey = account_of::<T>("pow_hot", 0);
        let coldkey = account_of::<T>("pow_cold", 0);
        let block = Pallet::<T>::current_block();
        let block_hash =
            frame_system::Pallet::<T>::block_hash(frame_system::Pallet::<T>::block_number());
        let nonce = 7u64;
        let work = create_seal_hash(block_hash.as_ref(), &hotkey.encode(), nonce);

        #[extrinsic_call]
        _(
            RawOrigin::Signed(hotkey.clone()),
            netuid,
            block,
            nonce,
            work.as_bytes().to_vec(),
            hotkey.clone(),
            coldkey,
        );

        ensure!(Uids::<T>::contains_key(netuid, &hotkey), "not registered");
        Ok(())
    }

    #[benchmark]
    fn burned_register() -> Result<(), BenchmarkError> {
        set_block::<T>();
        let netuid = new_subnet::<T>(0)?;
        fill_subnet::<T>(netuid, MAX_UIDS, 1);
        let hotkey = account_of::<T>("burn_hot", 0);
        let coldkey = account_of::<T>("burn_cold", 0);
        // Exactly the burn: the account is reaped.
        let _ = T::Currency::set_balance(&coldkey, Burn::<T>::get(netuid));

        #[extrinsic_call]
        _(RawOrigin::Signed(coldkey), netuid, hotkey.clone());

        ensure!(Uids::<T>::contains_key(netuid, &hotkey), "not registered");
        Ok(())
    }

    #[benchmark]
    fn register_network() -> Result<(), BenchmarkError> {
        clear_subnets::<T>()?;
        let limit = u32::from(SubnetLimit::<T>::get());
        for i in 1..limit {
            new_subnet::<T>(i)?;
        }
        let coldkey = account_of::<T>("network_cold", 0);
        let hotkey = account_of::<T>("network_hot", 0);
        let _ = T::Currency::set_balance(&coldkey, Pallet::<T>::network_lock_cost());

        #[extrinsic_call]
        _(RawOrigin::Signed(coldkey), hotkey);

        ensure!(u32::from(TotalNetworks::<T>::get()) == limit, "not registered");
        Ok(())
    }

    #[benchmark]
    fn dissolve_network(n: Linear<1, MAX_UIDS>) -> Result<(), BenchmarkError> {
        set_block::<T>();
        let netuid = new_subnet::<T>(0)?;
        fill_subnet::<T>(netuid, n, 1);
        CommitRevealWeightsEnabled::<T>::insert(netuid, true);
        let now = Pallet::<T>::current_block();
        for uid in 0..uid_count(n) {
            let hotkey = Keys::<T>::get(netuid, uid).ok_or(BenchmarkError::Stop("no uid"))?;
            Weights::<T>::insert(netuid, uid, sparse_row(vec![(uid, u16::MAX)]));
            Bonds::<T>::insert(netuid, uid, sparse_row(vec![(uid, u16::MAX)]));
            let axon = AxonInfo { ip: 0x0102_0304, port: 8091, ip_type: 4, ..Default::default() };
            Axons::<T>::insert(netuid, &hotkey, axon);
            let prometheus =
                PrometheusInfo { ip: 0x0102_0304, port: 9090, ip_type: 4, ..Default::default() };
            Prometheus::<T>::insert(netuid, &hotkey, prometheus);
            WeightCommits::<T>::insert(
                netuid,
                &hotkey,
                BoundedVec::truncate_from(commits(1, now, 0)),
            );
        }
        let lock = 100u64.saturating_mul(TAO);
        SubnetLocked::<T>::insert(netuid, lock);
        TotalSubnetLocked::<T>::mutate(|t| *t = t.saturating_add(lock));
        PendingEmission::<T>::insert(netuid, TAO);
        TotalPendingEmission::<T>::mutate(|t| *t = t.saturating_add(TAO));
        GridSpecs::<T>::insert(netuid, GridSpecRecord { spec: grid_spec(1), set_at_block: now });
        GridSpecLastSet::<T>::insert(netuid, now);
        let (owner, _) = owner_of::<T>(netuid)?;

        #[extrinsic_call]
        _(RawOrigin::Signed(owner), netuid);

        ensure!(!NetworksAdded::<T>::get(netuid), "not dissolved");
        ensure!(!GridSpecs::<T>::contains_key(netuid), "grid spec kept");
        Ok(())
    }

    #[benchmark]
    fn decrease_take() -> Result<(), BenchmarkError> {
        let hotkey = account_of::<T>("hotkey", 0);
        let coldkey = account_of::<T>("coldkey", 0);
        Owner::<T>::insert(&hotkey, &coldkey);

        #[extrinsic_call]
        _(RawOrigin::Signed(coldkey), hotkey.clone(), 0);

        ensure!(Delegates::<T>::get(&hotkey) == 0, "take not set");
        Ok(())
    }

    #[benchmark]
    fn increase_take() -> Result<(), BenchmarkError> {
        let hotkey = account_of::<T>("hotkey", 0);
        let coldkey = account_of::<T>("coldkey", 0);
        Owner::<T>::insert(&hotkey, &coldkey);
        Delegates::<T>::insert(&hotkey, 0);
        let take = MaxDelegateTake::<T>::get();

        #[extrinsic_call]
        _(RawOrigin::Signed(coldkey), hotkey.clone(), take);

        ensure!(Delegates::<T>::get(&hotkey) == take, "take not set");
        Ok(())
    }

    #[benchmark]
    fn set_hyperparameter() -> Result<(), BenchmarkError> {
        let netuid = new_subnet::<T>(0)?;
        let (owner, _) = owner_of::<T>(netuid)?;
        // Set by the owner (its ownership is read), and it reads and writes a second value.
        let value = Hyperparameter::MinBurn(1_000);

        #[extrinsic_call]
        _(RawOrigin::Signed(owner), netuid, value);

        ensure!(MinBurn::<T>::get(netuid) == 1_000, "not set");
        Ok(())
    }

    #[benchmark]
    fn set_global_parameter() -> Result<(), BenchmarkError> {
        let limit = SubnetLimit::<T>::get().saturating_add(1);

        #[extrinsic_call]
        _(RawOrigin::Root, GlobalParameter::SubnetLimit(limit));

        ensure!(SubnetLimit::<T>::get() == limit, "not set");
        Ok(())
    }

    #[benchmark]
    fn set_grid_spec() -> Result<(), BenchmarkError> {
        set_block::<T>();
        let netuid = new_subnet::<T>(0)?;
        let (owner, _) = owner_of::<T>(netuid)?;
        // A spec set exactly a rate limit ago is replaced (the limit is read and passes).
        let now = Pallet::<T>::current_block();
        let last = now.saturating_sub(GridSpecRateLimit::<T>::get());
        GridSpecs::<T>::insert(netuid, GridSpecRecord { spec: grid_spec(1), set_at_block: last });
        GridSpecLastSet::<T>::insert(netuid, last);
        let spec = grid_spec(2);

        #[extrinsic_call]
        _(RawOrigin::Signed(owner), netuid, spec.clone());

        ensure!(
            GridSpecs::<T>::get(netuid) == Some(GridSpecRecord { spec, set_at_block: now }),
            "not set"
        );
        Ok(())
    }

    #[benchmark]
    fn clear_grid_spec() -> Result<(), BenchmarkError> {
        set_block::<T>();
        let netuid = new_subnet::<T>(0)?;
        let (owner, _) = owner_of::<T>(netuid)?;
        let now = Pallet::<T>::current_block();
        GridSpecs::<T>::insert(netuid, GridSpecRecord { spec: grid_spec(1), set_at_block: now });
        GridSpecLastSet::<T>::insert(netuid, now);

        #[extrinsic_call]
        _(RawOrigin::Signed(owner), netuid);

        ensure!(!GridSpecs::<T>::contains_key(netuid), "not cleared");
        Ok(())
    }

    #[benchmark]
    fn commit_weights() -> Result<(), BenchmarkError> {
        set_block::<T>();
        let netuid = new_subnet::<T>(0)?;
        let (_, hotkey) = owner_of::<T>(netuid)?;
        CommitRevealWeightsEnabled::<T>::insert(netuid, true);
        let now = Pallet::<T>::current_block();
        let epoch_now = Pallet::<T>::epoch_index(netuid, now);
        // One slot left: every live commitment is read, kept and written back.
        let held =
            commits(MAX_UNREVEALED_COMMITS.saturating_sub(1), now, epoch_now.saturating_add(1));
        WeightCommits::<T>::insert(netuid, &hotkey, BoundedVec::truncate_from(held));

        #[extrinsic_call]
        _(RawOrigin::Signed(hotkey.clone()), netuid, H256::repeat_byte(0xab));

        ensure!(
            WeightCommits::<T>::get(netuid, &hotkey).len() == MAX_UNREVEALED_COMMITS as usize,
            "not committed"
        );
        Ok(())
    }

    #[benchmark]
    fn reveal_weights(n: Linear<1, MAX_UIDS>) -> Result<(), BenchmarkError> {
        set_block::<T>();
        let netuid = new_subnet::<T>(0)?;
        fill_subnet::<T>(netuid, MAX_UIDS, 1);
        let hotkey = permit::<T>(netuid, 1)?;
        CommitRevealWeightsEnabled::<T>::insert(netuid, true);
        let (uids, values) = weight_row(n);
        let salt: Vec<u16> = (1..=8).collect();
        let now = Pallet::<T>::current_block();
        let epoch_now = Pallet::<T>::epoch_index(netuid, now);
        // The commitment revealed is the last of a full list; the others stay.
        let mut held = commits(MAX_UNREVEALED_COMMITS.saturating_sub(1), now, epoch_now);
        held.push(WeightCommit {
            hash: commit_hash(&hotkey, netuid, &uids, &values, &salt, 0),
            commit_block: now.saturating_sub(1),
            reveal_epoch: epoch_now,
        });
        WeightCommits::<T>::insert(netuid, &hotkey, BoundedVec::truncate_from(held));

        #[extrinsic_call]
        _(RawOrigin::Signed(hotkey), netuid, uids, values, salt, 0);

        ensure!(Weights::<T>::get(netuid, 1).len() == n as usize, "weights not stored");
        Ok(())
    }

    #[benchmark]
    fn block_step(s: Linear<1, MAX_SUBNETS>) -> Result<(), BenchmarkError> {
        clear_subnets::<T>()?;
        set_block::<T>();
        for i in 0..s {
            let netuid = new_subnet::<T>(i)?;
            // No epoch is due; registration terms are retargeted in this block.
            Tempo::<T>::insert(netuid, u16::MAX);
            LastAdjustmentBlock::<T>::insert(netuid, 0);
            RegistrationsThisBlock::<T>::insert(netuid, 1);
            RegistrationsThisInterval::<T>::insert(netuid, 1);
            BurnRegistrationsThisInterval::<T>::insert(netuid, 1);
        }

        #[block]
        {
            Pallet::<T>::block_step();
        }

        ensure!(TotalPendingEmission::<T>::get() > 0, "nothing minted");
        Ok(())
    }

    /// `n` UIDs, `v` of them validators (spread over the UID range) that hold `w` weight and
    /// bond entries in total: `w / 2` weights and a bond on each UID they weight, as on a live
    /// subnet. The owner's UID 0 is a validator with most of the stake that weights every UID,
    /// so every UID is in consensus and paid (the most payouts); the other validators share the
    /// remaining weights, on consecutive UIDs from their own. Every UID is active. For every
    /// combination the runner and the tests use (each component swept with the others at their
    /// maximum) the ranges keep `v <= n` and `n <= w / 2 <= n + (v - 1) * n`.
    #[benchmark]
    fn epoch(
        n: Linear<256, MAX_UIDS>,
        v: Linear<16, 256>,
        w: Linear<8_192, 131_072>,
    ) -> Result<(), BenchmarkError> {
        clear_subnets::<T>()?;
        set_block::<T>();
        let now = Pallet::<T>::current_block();
        let netuid = new_subnet::<T>(0)?;
        fill_subnet::<T>(netuid, n, 1);
        // Due at every block; the costliest variant: Yuma-3 with liquid alpha (a sigmoid per
        // bond entry) and commit-reveal (every hotkey's commitments are read).
        Tempo::<T>::insert(netuid, 1);
        Yuma3On::<T>::insert(netuid, true);
        LiquidAlphaOn::<T>::insert(netuid, true);
        CommitRevealWeightsEnabled::<T>::insert(netuid, true);
        let v = v.min(n).max(1);
        MaxAllowedValidators::<T>::insert(netuid, uid_count(v));
        let stride = n.checked_div(v).unwrap_or(1).max(1);
        // The owner's UID 0 holds most of the stake and weights every UID, so every UID is in
        // consensus and paid; the other validators share the rest of the weights.
        let rest = w.checked_div(2).unwrap_or(0).saturating_sub(n);
        let others = v.saturating_sub(1).max(1);
        let per_validator = rest.checked_div(others).unwrap_or(0);
        let extra = rest.checked_rem(others).unwrap_or(0);
        for i in 0..v {
            let uid = uid_count(i.saturating_mul(stride));
            let hotkey = permit::<T>(netuid, uid)?;
            let coldkey = Owner::<T>::get(&hotkey).ok_or(BenchmarkError::Stop("no owner"))?;
            let (stake, len) = if i == 0 {
                (TAO.saturating_mul(1_000_000), n)
            } else {
                let len = per_validator.saturating_add(u32::from(i <= extra)).min(n);
                (TAO.saturating_mul(1_000).saturating_add(u64::from(i)), len)
            };
            put_stake::<T>(&hotkey, &coldkey, stake);
            let mut row: Vec<(u16, u16)> = (0..len)
                .map(|j| {
                    let dest = u32::from(uid).saturating_add(j).checked_rem(n).unwrap_or(0);
                    let value = j.wrapping_mul(7_919).wrapping_rem(65_535).saturating_add(1);
                    (uid_count(dest), uid_count(value))
                })
                .collect();
            if let Some(first) = row.first_mut() {
                first.1 = u16::MAX;
            }
            row.sort_unstable_by_key(|(dest, _)| *dest);
            let entries = u32::try_from(row.len()).unwrap_or(u32::MAX);
            WeightEntries::<T>::mutate(netuid, |c| *c = c.saturating_add(entries));
            BondEntries::<T>::mutate(netuid, |c| *c = c.saturating_add(entries));
            Weights::<T>::insert(netuid, uid, sparse_row(row.clone()));
            Bonds::<T>::insert(netuid, uid, sparse_row(row));
        }
        LastUpdate::<T>::insert(
            netuid,
            BoundedVec::truncate_from(vec![now.saturating_sub(1); usize::from(uid_count(n))]),
        );
        let pending = TAO.saturating_mul(1_000);
        PendingEmission::<T>::insert(netuid, pending);
        TotalPendingEmission::<T>::mutate(|t| *t = t.saturating_add(pending));

        #[block]
        {
            Pallet::<T>::block_step();
        }

        ensure!(LastStepBlock::<T>::get(netuid) == now, "the epoch did not run");
        Ok(())
    }

    impl_benchmark_test_suite!(
        Pallet,
        crate::tests::mock::new_test_ext(),
        crate::tests::mock::Test
    );
}
