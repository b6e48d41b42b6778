//! Emission: the halving block reward ([`block_emission`]), its split among subnets each block
//! and the per-tempo epoch that pays it out ([`run_coinbase`]), and the storage glue around the
//! pure Yuma epoch ([`epoch_io`]).

pub mod block_emission;
pub mod epoch_io;
pub mod run_coinbase;
