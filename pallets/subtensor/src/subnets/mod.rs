//! Subnets and the neurons on them: creation and dissolution, hyperparameters, grid specs, UID
//! slots, registration, weights and serving.

pub mod grid;
pub mod hyperparams;
pub mod network;
pub mod registration;
pub mod serving;
pub mod uids;
pub mod weights;
