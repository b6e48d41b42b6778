//! Yuma epoch simulator: the JSON case format of the Yuma test vectors (`vectors/README.md`)
//! and its conversion to and from the pallet's epoch (`pallet_subtensor::epoch`).
//!
//! The binary `yuma-epoch` runs one case and prints the outputs; `tests/golden.rs` checks the
//! pallet's epoch against every vector of `vectors/public.json`.

pub use pallet_subtensor::epoch;

pub mod case;

pub use case::*;
