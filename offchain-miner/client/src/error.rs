//! [`ClientError`], the one error type of this crate, and its [`Result`] alias.

/// Everything that can go wrong talking to a node. Messages are one line, fit for users.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node could not be reached (down, wrong URL, refused connection).
    #[error("cannot reach the node at {url}: {reason}")]
    Connect {
        /// The endpoint.
        url: String,
        /// Why.
        reason: String,
    },
    /// The connection broke or a request timed out.
    #[error("connection to the node failed: {0}")]
    Transport(String),
    /// The node answered a call with a JSON-RPC error.
    #[error("{method} failed: {message}")]
    Rpc {
        /// The method called.
        method: String,
        /// The JSON-RPC error code.
        code: i32,
        /// The message, with the error's data appended when it has some.
        message: String,
    },
    /// The node refused a transaction before including it (bad nonce, cannot pay fees, ...).
    #[error("transaction refused by the node: {0}")]
    Rejected(String),
    /// The transaction was included but its call failed with a pallet error.
    #[error("{pallet}.{name}: {docs}")]
    Module {
        /// The pallet ("SubtensorModule", "Balances", ...).
        pallet: String,
        /// The error variant ("SettingWeightsTooFast", ...).
        name: String,
        /// Its documentation (first line), or "" if none.
        docs: String,
    },
    /// The transaction was included but its call failed with a non-pallet error
    /// (`BadOrigin`, `Token(FundsUnavailable)`, ...).
    #[error("transaction failed: {0}")]
    Dispatch(String),
    /// The transaction left the pool without being included (dropped, usurped, invalid).
    #[error("transaction was not included: {0}")]
    NotIncluded(String),
    /// A wait (inclusion, finality, a block) took longer than allowed.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: u64,
    },
    /// Data from the node could not be decoded with this client's runtime types.
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// The decoder's complaint.
        reason: String,
    },
    /// The node runs a runtime this client was not built for.
    #[error("the node runs {node}, this client was built for {ours}: rebuild the client")]
    RuntimeMismatch {
        /// The node's `spec_name/spec_version`.
        node: String,
        /// This client's.
        ours: String,
    },
    /// Something asked for does not exist on chain (a subnet, a neuron, a block).
    #[error("{0}")]
    NotFound(String),
    /// The proof-of-work solver stopped without a solution.
    #[error("proof of work: {0}")]
    Pow(String),
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, ClientError>;

impl ClientError {
    /// A [`ClientError::Decode`].
    pub(crate) fn decode(what: impl Into<String>, reason: impl ToString) -> Self {
        ClientError::Decode { what: what.into(), reason: reason.to_string() }
    }

    /// The pallet error's name, if this is a [`ClientError::Module`].
    pub fn module_error(&self) -> Option<&str> {
        match self {
            ClientError::Module { name, .. } => Some(name),
            _ => None,
        }
    }
}
