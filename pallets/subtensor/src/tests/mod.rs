//! Tests of the pallet on a mock runtime, one module per concern. Every test goes through
//! [`mock::ExtBuilder::build_and_execute`], which checks the invariants afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod mock;
mod smoke;
