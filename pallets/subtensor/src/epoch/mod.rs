//! Yuma consensus epoch as pure functions: no storage, no `T: Config`, no floats, `no_std`.
//!
//! [`run_epoch`] takes an [`EpochInput`] (stake, stored weights and bonds, blocks, permits and
//! hyperparameters of one subnet) and returns an [`EpochOutput`] (consensus, incentive,
//! dividends, emissions, new bonds and permits). It reproduces the fixed-point arithmetic of
//! the reference chain's sparse `epoch_mechanism` (I32F32 vectors, I64F64 stake, I96F32
//! amounts) exactly, while costing O(number of weights + n) time and memory instead of O(n²).
//!
//! Modules: [`math`] (fixed-point vectors), [`sparse`] (sparse matrices), [`consensus`]
//! (weighted median), [`bonds`] (bond EMA and dividends, classic and Yuma-3), [`emission`]
//! (emission split), [`yuma`] (the epoch itself), [`types`] (input and output).
//!
//! The module only refers to itself through `super::`, so it can be included by path in other
//! crates (the crate root must declare `extern crate alloc;`).

pub mod bonds;
pub mod consensus;
pub mod emission;
pub mod math;
pub mod sparse;
pub mod types;
pub mod yuma;

#[cfg(test)]
mod tests;

pub use math::to_u16;
pub use types::{EpochInput, EpochOutput, EpochParams};
pub use yuma::{normalized_stake, run_epoch, subnet_size, topk_permits};
