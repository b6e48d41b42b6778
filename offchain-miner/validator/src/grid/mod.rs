//! Grid mode: validating a homogeneous inference grid (a subnet whose grid spec names the one
//! model every miner serves).
//!
//! Each step sends one challenge (a prompt from the held-out corpus, a fresh seed) to two or
//! three miners with `GridGenerate`. Identical answers are accepted at once (with a
//! spot-check probability of being verified anyway); every other answer is verified with one
//! teacher-forced pass of the validator's copy of the model
//! (`subtensor_model::LanguageModel::verify_grid`: a per-token margin against the grid
//! sampler with a calibrated tolerance, plus length and end-of-sequence checks). Verified
//! miners are scored on speed; a rejected answer is a proven cheat and scores zero for
//! several epochs.
//!
//! - [`challenge`]: challenge seeds;
//! - [`verifier`]: the model, the challenge shape and the verdict on one answer;
//! - [`score`]: a miner's record (success ring, speed ring, bans) and its score;
//! - [`step`]: one step without the chain ([`step::run_grid_step`]);
//! - [`plan`]: grid scores to weights, through the same rules as loss scores;
//! - [`organic`]: the gateway's verdicts on user traffic (wire format, folding into scores);
//! - [`organic_feed`]: fetching them from the gateway (`--organic-from`).

pub mod challenge;
pub mod organic;
pub mod organic_feed;
pub mod plan;
pub mod score;
pub mod step;
pub mod verifier;

pub use challenge::SeedSource;
pub use organic::{OrganicCursor, OrganicOutcome, OrganicPage, OrganicVerdict};
pub use organic_feed::OrganicFeed;
pub use score::{GridObservation, GridScore, GridScoring};
pub use step::{run_grid_step, ChallengeContext, GridStepParams, GridStepReport};
pub use verifier::{ChallengeShape, GridVerifier};
