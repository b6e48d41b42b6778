//! The sync's wire messages, SCALE-encoded.
//!
//! | protocol / topic | request | response |
//! |---|---|---|
//! | [`Protocol::Status`] | empty bytes | [`Status`] |
//! | [`Protocol::Blocks`] | [`BlockRequest`] | [`BlockResponse`] |
//! | [`Topic::BlockAnnounces`] | [`BlockAnnounce`] (gossip) | — |
//! | [`Topic::Transactions`] | one encoded `UncheckedExtrinsic` (gossip, with its compact length prefix, exactly the bytes `author_submitExtrinsic` takes) | — |
//!
//! Everything received is decoded with [`decode_message`], which refuses trailing bytes and
//! values nested deeper than the node's limit (Substrate's `MAX_EXTRINSIC_DEPTH` for an
//! extrinsic, plus the levels of the enclosing message), so a hostile peer cannot overflow the
//! decoder's stack.
//!
//! [`Protocol::Status`]: subtensor_network_api::Protocol::Status
//! [`Protocol::Blocks`]: subtensor_network_api::Protocol::Blocks
//! [`Topic::BlockAnnounces`]: subtensor_network_api::Topic::BlockAnnounces
//! [`Topic::Transactions`]: subtensor_network_api::Topic::Transactions

use crate::error::{SyncError, SyncResult};
use codec::{Decode, DecodeLimit, Encode};
use subtensor_chain::{executor::MAX_BLOCK_DEPTH, Hash};
use subtensor_runtime::{Block, BlockNumber, Header};

/// The most blocks one [`BlockRequest`] may ask for; larger requests are capped.
pub const MAX_BLOCKS_PER_REQUEST: u32 = 128;

/// How deep a received message may nest: a block is [`MAX_BLOCK_DEPTH`] levels, and a
/// [`BlockResponse`] wraps blocks in one more level (its list); one more for slack.
pub const MAX_MESSAGE_DEPTH: u32 = MAX_BLOCK_DEPTH + 2;

/// What a node does in the network. Encoded as one byte, with Substrate's `Roles` bit values
/// (`FULL` = 1, `AUTHORITY` = 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub enum Role {
    /// A full node: imports and serves every block, authors none.
    #[codec(index = 1)]
    Full,
    /// A block authority (authors blocks in its Aura slots).
    #[codec(index = 4)]
    Authority,
}

impl Role {
    /// The name RPC gives the role (`system_peers` "roles": `FULL` / `AUTHORITY`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Full => "FULL",
            Role::Authority => "AUTHORITY",
        }
    }
}

/// A node's chain status: the answer to a [`Protocol::Status`] request (whose request is empty
/// bytes).
///
/// [`Protocol::Status`]: subtensor_network_api::Protocol::Status
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Status {
    /// Hash of the chain's genesis block: peers with another genesis are of another chain.
    pub genesis_hash: Hash,
    /// The node's role.
    pub roles: Role,
    /// Hash of its best block.
    pub best_hash: Hash,
    /// Number of its best block.
    pub best_number: BlockNumber,
    /// Hash of its last finalized block.
    pub finalized_hash: Hash,
    /// Number of its last finalized block.
    pub finalized_number: BlockNumber,
}

/// Where a [`BlockRequest`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum FromBlock {
    /// The block with this hash (any block the server knows, best chain or fork).
    #[codec(index = 0)]
    Hash(Hash),
    /// The server's best-chain block at this height.
    #[codec(index = 1)]
    Number(BlockNumber),
}

/// Which way a [`BlockRequest`] walks from its first block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum Direction {
    /// Upwards along the server's best chain (by number; stops where the best chain does not
    /// descend from the previous block, or at the best block).
    #[codec(index = 0)]
    Ascending,
    /// Downwards through the parents (stops after genesis).
    #[codec(index = 1)]
    Descending,
}

/// A request for blocks on [`Protocol::Blocks`].
///
/// [`Protocol::Blocks`]: subtensor_network_api::Protocol::Blocks
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct BlockRequest {
    /// The first block.
    pub from: FromBlock,
    /// Which way to go from it.
    pub direction: Direction,
    /// How many blocks at most; the server caps it at [`MAX_BLOCKS_PER_REQUEST`].
    pub max: u32,
    /// Whether to include the finality justification stored with each block.
    pub justifications: bool,
}

/// One block of a [`BlockResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct BlockData {
    /// The sealed block.
    pub block: Block,
    /// Its justification, if asked for and stored.
    pub justification: Option<Vec<u8>>,
}

/// The answer to a [`BlockRequest`]: the blocks in the requested order (possibly fewer than
/// asked: the server stops at the end of its chain, at [`MAX_BLOCKS_PER_REQUEST`], and before
/// the encoded response would exceed `Protocol::Blocks.max_response_bytes()`). Empty when the
/// first block is unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct BlockResponse {
    /// The blocks.
    pub blocks: Vec<BlockData>,
}

/// A new block, gossiped on [`Topic::BlockAnnounces`] by its author and forwarded by every node
/// that imported it.
///
/// [`Topic::BlockAnnounces`]: subtensor_network_api::Topic::BlockAnnounces
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct BlockAnnounce {
    /// The sealed header.
    pub header: Header,
    /// Whether it is the announcer's best block.
    pub best: bool,
}

/// Decode a message received from a peer: the whole input, at most [`MAX_MESSAGE_DEPTH`]
/// levels deep.
pub fn decode_message<T: Decode>(data: &[u8]) -> SyncResult<T> {
    let mut input = data;
    let value = T::decode_with_depth_limit(MAX_MESSAGE_DEPTH, &mut input)
        .map_err(|e| SyncError::Decode(subtensor_chain::executor::decode_error_text(&e)))?;
    if !input.is_empty() {
        return Err(SyncError::Decode(format!("{} trailing bytes", input.len())));
    }
    Ok(value)
}

/// Decode a gossiped transaction: exactly one extrinsic, within Substrate's nesting limit.
pub fn decode_transaction(data: &[u8]) -> SyncResult<subtensor_runtime::UncheckedExtrinsic> {
    subtensor_runtime::UncheckedExtrinsic::decode_all_with_depth_limit(
        subtensor_chain::executor::MAX_EXTRINSIC_DEPTH,
        &mut &data[..],
    )
    .map_err(|e| SyncError::Decode(subtensor_chain::executor::decode_error_text(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_trailing_bytes() {
        let request = BlockRequest {
            from: FromBlock::Number(7),
            direction: Direction::Ascending,
            max: 128,
            justifications: true,
        };
        let mut raw = request.encode();
        assert_eq!(decode_message::<BlockRequest>(&raw).unwrap(), request);
        raw.push(0);
        assert!(decode_message::<BlockRequest>(&raw).is_err());
        assert_eq!(Role::Authority.encode(), vec![4]);
        assert_eq!(Role::Full.encode(), vec![1]);
        assert!(decode_message::<Role>(&[2]).is_err());
    }
}
