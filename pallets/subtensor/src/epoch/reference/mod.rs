//! The epoch as it was before the fused passes of issue 12 (test only): a verbatim copy of
//! the previous `math`, `sparse`, `consensus`, `bonds`, `emission` and `yuma` modules, kept as
//! the reference the optimised [`super::run_epoch`] must match bit for bit (see
//! `tests.rs`, `matches_the_reference_*`). Not compiled outside tests.

#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod bonds;
pub mod consensus;
pub mod emission;
pub mod math;
pub mod sparse;
pub mod types;
pub mod yuma;

pub use yuma::run_epoch;
