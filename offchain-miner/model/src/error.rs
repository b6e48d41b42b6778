//! The crate's one error type.

use std::path::{Path, PathBuf};

/// Everything that can go wrong loading, running, saving or training a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A JSON file could not be parsed or written.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// A model configuration is invalid or unsupported.
    #[error("invalid model config: {0}")]
    Config(String),
    /// A weights file does not match the model (missing, unknown or mis-shaped tensors).
    #[error("invalid weights: {0}")]
    Weights(String),
    /// A training checkpoint is missing or inconsistent.
    #[error("invalid checkpoint: {0}")]
    Checkpoint(String),
    /// A tokenizer could not be trained, loaded, saved or run.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A corpus could not be read or holds no usable text.
    #[error("corpus: {0}")]
    Corpus(String),
    /// A caller passed input the model cannot take (bad token ids, ragged batch, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A distillation buffer or record is invalid (bad settings, a record that does not
    /// verify or decode, a record too large for the buffer).
    #[error("distillation buffer: {0}")]
    Buffer(String),
    /// A device name is unknown or the device is not available.
    #[error("device: {0}")]
    Device(String),
    /// libtorch reported an error.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// `Result` with [`ModelError`].
pub type Result<T> = std::result::Result<T, ModelError>;

impl ModelError {
    /// An [`ModelError::Io`] for `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }

    /// A [`ModelError::Json`] for `path`.
    pub fn json(path: &Path, source: serde_json::Error) -> Self {
        Self::Json { path: path.to_path_buf(), source }
    }
}
