//! Sync between real chain engines over the in-memory network.

// Tests may unwrap and index.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs,
    unreachable_pub
)]

mod common;

mod announce;
mod requests;
mod sync;
mod transactions;
