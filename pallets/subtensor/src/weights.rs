//! Weights (execution cost) of the pallet's calls and hooks.
//!
//! The figures are estimates from the calls' storage access counts, with the base costs taken
//! from the reference chain's benchmarks of the same calls; they are not yet produced by this
//! pallet's own FRAME benchmarks.

use frame_support::weights::{constants::RocksDbWeight, Weight};

/// Weight functions of the pallet.
pub trait WeightInfo {
    /// `set_weights` / `reveal_weights` with `n` weights.
    fn set_weights(n: u32) -> Weight;
    /// `add_stake`.
    fn add_stake() -> Weight;
    /// `remove_stake`.
    fn remove_stake() -> Weight;
    /// `serve_axon` / `serve_prometheus`.
    fn serve_axon() -> Weight;
    /// `register` / `burned_register`.
    fn register() -> Weight;
    /// `register_network`.
    fn register_network() -> Weight;
    /// `dissolve_network`.
    fn dissolve_network() -> Weight;
    /// `decrease_take` / `increase_take`.
    fn set_take() -> Weight;
    /// `set_hyperparameter` / `set_global_parameter`.
    fn set_hyperparameter() -> Weight;
    /// `commit_weights`.
    fn commit_weights() -> Weight;
    /// One subnet epoch over `n` uids and `w` stored weights.
    fn epoch(n: u32, w: u32) -> Weight;
}

/// Estimated weights, priced with RocksDB-style read and write costs.
pub struct SubstrateWeight;

impl WeightInfo for SubstrateWeight {
    fn set_weights(n: u32) -> Weight {
        Weight::from_parts(40_000_000, 0)
            .saturating_add(Weight::from_parts(20_000, 0).saturating_mul(n.into()))
            .saturating_add(RocksDbWeight::get().reads(12))
            .saturating_add(RocksDbWeight::get().writes(2))
    }
    fn add_stake() -> Weight {
        Weight::from_parts(60_000_000, 0)
            .saturating_add(RocksDbWeight::get().reads(6))
            .saturating_add(RocksDbWeight::get().writes(6))
    }
    fn remove_stake() -> Weight {
        Self::add_stake()
    }
    fn serve_axon() -> Weight {
        Weight::from_parts(30_000_000, 0)
            .saturating_add(RocksDbWeight::get().reads(4))
            .saturating_add(RocksDbWeight::get().writes(1))
    }
    fn register() -> Weight {
        Weight::from_parts(150_000_000, 0)
            .saturating_add(RocksDbWeight::get().reads(30))
            .saturating_add(RocksDbWeight::get().writes(30))
    }
    fn register_network() -> Weight {
        Weight::from_parts(150_000_000, 0)
            .saturating_add(RocksDbWeight::get().reads(20))
            .saturating_add(RocksDbWeight::get().writes(40))
    }
    fn dissolve_network() -> Weight {
        Weight::from_parts(500_000_000, 0)
            .saturating_add(RocksDbWeight::get().reads(50))
            .saturating_add(RocksDbWeight::get().writes(200))
    }
    fn set_take() -> Weight {
        Weight::from_parts(20_000_000, 0)
            .saturating_add(RocksDbWeight::get().reads(2))
            .saturating_add(RocksDbWeight::get().writes(1))
    }
    fn set_hyperparameter() -> Weight {
        Weight::from_parts(15_000_000, 0)
            .saturating_add(RocksDbWeight::get().reads(3))
            .saturating_add(RocksDbWeight::get().writes(1))
    }
    fn commit_weights() -> Weight {
        Weight::from_parts(30_000_000, 0)
            .saturating_add(RocksDbWeight::get().reads(5))
            .saturating_add(RocksDbWeight::get().writes(1))
    }
    fn epoch(n: u32, w: u32) -> Weight {
        Weight::from_parts(1_000_000, 0)
            .saturating_add(Weight::from_parts(60_000, 0).saturating_mul(n.into()))
            .saturating_add(Weight::from_parts(80, 0).saturating_mul(w.into()))
            .saturating_add(
                RocksDbWeight::get().reads(u64::from(n).saturating_mul(5).saturating_add(30)),
            )
            .saturating_add(
                RocksDbWeight::get().writes(u64::from(n).saturating_mul(3).saturating_add(20)),
            )
    }
}

impl WeightInfo for () {
    fn set_weights(n: u32) -> Weight {
        SubstrateWeight::set_weights(n)
    }
    fn add_stake() -> Weight {
        SubstrateWeight::add_stake()
    }
    fn remove_stake() -> Weight {
        SubstrateWeight::remove_stake()
    }
    fn serve_axon() -> Weight {
        SubstrateWeight::serve_axon()
    }
    fn register() -> Weight {
        SubstrateWeight::register()
    }
    fn register_network() -> Weight {
        SubstrateWeight::register_network()
    }
    fn dissolve_network() -> Weight {
        SubstrateWeight::dissolve_network()
    }
    fn set_take() -> Weight {
        SubstrateWeight::set_take()
    }
    fn set_hyperparameter() -> Weight {
        SubstrateWeight::set_hyperparameter()
    }
    fn commit_weights() -> Weight {
        SubstrateWeight::commit_weights()
    }
    fn epoch(n: u32, w: u32) -> Weight {
        SubstrateWeight::epoch(n, w)
    }
}
