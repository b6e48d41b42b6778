//! Integration tests of the chain engine on the runtime's `dev` chain: authoring and import,
//! refused blocks, persistence in parity-db, historical queries, pruning, and finality.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

mod authoring;
mod common;
mod crash;
mod forks;
mod invalid;
mod persistence;
mod pruning;
mod queries;
