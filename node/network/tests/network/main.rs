//! The libp2p network over real TCP on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs, unreachable_pub, dead_code)]

mod common;
mod connect;
mod gossip;
mod peers;
mod requests;
