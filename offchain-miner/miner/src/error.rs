//! The miner's error type.

/// Everything that can go wrong in the miner.
#[derive(Debug, thiserror::Error)]
pub enum MinerError {
    /// Bad settings or files.
    #[error("{0}")]
    Config(String),
    /// A request the miner cannot serve.
    #[error("bad request: {0}")]
    Request(String),
    /// The model failed.
    #[error("model: {0}")]
    Model(#[from] subtensor_model::ModelError),
    /// The inference engine failed or stopped.
    #[error("engine: {0}")]
    Engine(String),
    /// The request queue is full.
    #[error("busy: the request queue is full")]
    Busy,
    /// The request's deadline passed before the model ran it.
    #[error("the deadline passed before inference")]
    Deadline,
    /// A synapse encoding or validation error.
    #[error("synapse: {0}")]
    Axon(#[from] subtensor_axon::AxonError),
    /// A chain error.
    #[error("chain: {0}")]
    Chain(#[from] subtensor_client::ClientError),
    /// A wallet error.
    #[error("wallet: {0}")]
    Wallet(#[from] subtensor_wallet::WalletError),
    /// An I/O error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The miner's result type.
pub type Result<T, E = MinerError> = std::result::Result<T, E>;
