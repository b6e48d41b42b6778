//! In-memory doubles for tests (feature `test-utils`): a fork-aware chain ([`InMemoryChain`])
//! and a network of any number of nodes in one process ([`TestNetwork`]), usable by this crate's
//! tests and by the node's sync tests.

mod chain;
mod network;

pub use chain::{header_on, InMemoryChain};
pub use network::{TestNetwork, TestNetworkNode};
