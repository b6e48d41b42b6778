//! # subtensor-validator
//!
//! The validator neuron (`stvalidator`): it queries a subnet's miners through the dendrite
//! with `TextCausalLMNext`, scores their next-phrase predictions on a held-out corpus with the
//! 2022 Bittensor recipe (phrase cross-entropy → EMA → Kaplan scaling law → zeroing EMA), and
//! writes its judgement to the chain as weights once per tempo, through commit-reveal when the
//! subnet asks for it. On a grid subnet (one with a grid spec) it instead challenges miners
//! with `GridGenerate`, verifies their answers against the named model and scores them on
//! speed ([`grid`]).
//!
//! Modules, pure ones first:
//! - [`scoring`]: answers to losses, EMAs, the scaling law ([`scoring::UidScore`]);
//! - [`weights`]: `normalize_max_weight`, u16 conversion, min-allowed padding, the rate-limit
//!   and commit-reveal timing rules of the pallet ([`weights::plan_weights`]);
//! - [`sampler`]: the random walk that queries every serving miner once per walk;
//! - [`state`]: the persisted state, written atomically;
//! - [`report`]: the per-epoch table;
//! - [`data`]: the evaluation batches (held-out split; the training split for collection);
//! - [`step`]: one step without the chain (sample, fan-out, score), shared by the binary, the
//!   benchmark and the tests;
//! - [`distill`]: the records of each step for the distillation buffer (`--distill-buffer`),
//!   and [`distill::collect`], which fills a buffer on purpose from the best miners by
//!   incentive (`--distill-collect N`) instead of validating;
//! - [`gate`]: the conditional computation gate (issue 14): per-uid loss predictions from
//!   prompt features, trained on the measured losses, that choose the miners of user traffic;
//! - [`grid`]: grid mode (subnets with a grid spec): challenges, verification, speed scores;
//! - [`chain`]: metagraph, hyperparameters, permit/stake checks, set/commit/reveal;
//! - [`validator`]: the loop, `--once`, signals; [`config`]: the command line.
//!
//! It does not train or serve a model, register the hotkey, or stake: use `stcli` for those.

#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod chain;
pub mod config;
pub mod data;
pub mod distill;
mod error;
pub mod gate;
pub mod grid;
pub mod report;
pub mod sampler;
pub mod scoring;
pub mod state;
pub mod step;
pub mod validator;
pub mod weights;

pub use config::Config;
pub use error::{Result, ValidatorError};
pub use validator::{run, Validator};
