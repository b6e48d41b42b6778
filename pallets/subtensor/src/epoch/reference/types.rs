//! The epoch's own input and output types (shared, so outputs compare directly).

pub use super::super::types::{EpochInput, EpochOutput, EpochParams};
