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
//! The reference's steps are fused into a few passes over the weights and bonds, with
//! integer formulations of the fixed-point operations that give the same bits (divisions by a
//! prepared divisor, the `exp` series of liquid alpha with plain integers, several at a time).
//! The tests check every output bit for bit against the previous, step-by-step implementation,
//! kept as a test-only module (`reference`).
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
mod reference;
#[cfg(test)]
mod tests;

pub use math::to_u16;
pub use types::{EpochInput, EpochOutput, EpochParams};
pub use yuma::{normalized_stake, run_epoch, subnet_size, topk_permits};
