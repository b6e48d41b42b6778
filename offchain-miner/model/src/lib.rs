//! GPT-2 style decoder language models on libtorch (through `tch`).
//!
//! * [`LanguageModel`]: the model, with Hugging Face GPT-2 weights on disk (`config.json` +
//!   `model.safetensors`, loadable by `transformers`' `GPT2LMHeadModel`), inference for the
//!   miner (logits, hidden states, top-k, generation) and the held-out loss.
//! * [`TextTokenizer`]: byte-level BPE tokenizers in the `tokenizer.json` format.
//! * [`Corpus`]: documents from files (the `fortune` format or paragraphs), with a fixed
//!   held-out split.
//! * [`train`]: AdamW training with exact checkpoint/resume.
//! * [`distill`]: the distillation buffer, the KL to the network's answers, and distillation
//!   training.
//! * [`grid`]: the verifiable grid sampler (seeded Gumbel-max noise, cached decoding for the
//!   miner, teacher-forced margins for the validator).
//!
//! The `stmodel` binary wraps all of this for the command line.

mod config;
mod corpus;
mod device;
pub mod distill;
mod error;
mod forward;
mod fsutil;
mod generate;
pub mod grid;
mod inference;
mod init;
mod model;
mod safetensors_file;
mod tokenizer;
pub mod train;

pub use config::{GptConfig, HfExtras};
pub use corpus::{split_documents, Corpus};
pub use device::parse_device;
pub use error::{ModelError, Result};
pub use generate::GenerateParams;
pub use grid::{
    grid_pick, gumbel_row, token_logprob, token_margin, GridOutput, GridReference, GridRequest,
    GridSampling, GridTolerance, GridVerdict, GRID_SAMPLER_VERSION,
};
pub use inference::TokenTopk;
pub use model::{LanguageModel, CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE};
pub use tch;
pub use tch::{Device, Tensor};
pub use tokenizer::{TextTokenizer, EOT_TOKEN};

/// Sets the number of threads libtorch uses for intra-op parallelism (0 leaves the default).
pub fn set_threads(threads: usize) {
    if threads > 0 {
        tch::set_num_threads(i32::try_from(threads).unwrap_or(i32::MAX));
    }
}

#[cfg(test)]
mod send_check {
    fn assert_send<T: Send>() {}

    #[test]
    fn model_is_send() {
        assert_send::<crate::LanguageModel>();
        assert_send::<crate::TextTokenizer>();
    }
}
