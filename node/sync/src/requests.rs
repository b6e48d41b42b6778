//! Asking peers for their status and for blocks, with the sync's own timeout.

use crate::{
    error::{SyncError, SyncResult},
    wire::{decode_message, BlockRequest, BlockResponse, Direction, FromBlock, Status},
};
use codec::Encode;
use std::time::Duration;
use subtensor_chain::Hash;
use subtensor_network_api::{NetworkService, PeerId, Protocol};
use subtensor_runtime::BlockNumber;

/// Send `data` to `peer` on `protocol` and wait at most `timeout` for the answer.
async fn request(
    network: &dyn NetworkService,
    peer: &PeerId,
    protocol: Protocol,
    data: Vec<u8>,
    timeout: Duration,
) -> SyncResult<Vec<u8>> {
    let answer = network.request(peer.clone(), protocol, data);
    match tokio::time::timeout(timeout, answer).await {
        Err(_) => Err(SyncError::Timeout),
        Ok(Err(_)) => Err(SyncError::Shutdown),
        Ok(Ok(result)) => Ok(result?),
    }
}

/// `peer`'s [`Status`].
pub(crate) async fn status(
    network: &dyn NetworkService,
    peer: &PeerId,
    timeout: Duration,
) -> SyncResult<Status> {
    let raw = request(network, peer, Protocol::Status, Vec::new(), timeout).await?;
    decode_message(&raw)
}

/// The blocks `peer` answers to `block_request`.
pub(crate) async fn blocks(
    network: &dyn NetworkService,
    peer: &PeerId,
    block_request: BlockRequest,
    timeout: Duration,
) -> SyncResult<BlockResponse> {
    let raw = request(network, peer, Protocol::Blocks, block_request.encode(), timeout).await?;
    decode_message(&raw)
}

/// The hash of `peer`'s best-chain block at `number` (`None` if it has none).
pub(crate) async fn hash_at(
    network: &dyn NetworkService,
    peer: &PeerId,
    number: BlockNumber,
    timeout: Duration,
) -> SyncResult<Option<Hash>> {
    let request = BlockRequest {
        from: FromBlock::Number(number),
        direction: Direction::Ascending,
        max: 1,
        justifications: false,
    };
    let response = blocks(network, peer, request, timeout).await?;
    match response.blocks.as_slice() {
        [] => Ok(None),
        [data] if data.block.header.number == number => Ok(Some(data.block.header.hash())),
        _ => Err(SyncError::BadResponse(format!("wrong answer for the block at #{number}"))),
    }
}

/// Check that `blocks` are the consecutive chain asked for from `start` (at most `max`, at least
/// one): numbers follow each other and each block's parent is the one before it.
pub(crate) fn check_ascending(
    blocks: &[crate::wire::BlockData],
    start: BlockNumber,
    max: u32,
) -> SyncResult<()> {
    if blocks.is_empty() {
        return Err(SyncError::BadResponse("no blocks".into()));
    }
    if u32::try_from(blocks.len()).map_or(true, |n| n > max) {
        return Err(SyncError::BadResponse(format!("{} blocks, asked for {max}", blocks.len())));
    }
    let mut expected = start;
    let mut parent: Option<Hash> = None;
    for data in blocks {
        let header = &data.block.header;
        if header.number != expected {
            return Err(SyncError::BadResponse(format!(
                "block #{} where #{expected} was expected",
                header.number
            )));
        }
        if parent.is_some_and(|p| p != header.parent_hash) {
            return Err(SyncError::BadResponse(format!(
                "block #{} does not follow the previous one",
                header.number
            )));
        }
        parent = Some(header.hash());
        expected = expected.saturating_add(1);
    }
    Ok(())
}
