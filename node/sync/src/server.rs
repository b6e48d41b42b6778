//! Answering peers' [`Protocol::Status`] and [`Protocol::Blocks`] requests from the chain.

use crate::{
    wire::{
        decode_message, BlockData, BlockRequest, BlockResponse, Direction, FromBlock, Role, Status,
        MAX_BLOCKS_PER_REQUEST,
    },
    Chain,
};
use codec::{Compact, Encode};
use std::sync::Arc;
use subtensor_chain::{ChainApi, ChainResult, Hash};
use subtensor_network_api::{IncomingRequest, Misbehaviour, NetworkService, Protocol};
use tokio::sync::{mpsc, Semaphore};

/// How many requests are answered at once; further ones wait in the network's (bounded) queue.
const CONCURRENT_REQUESTS: usize = 8;

/// Our [`Status`].
pub fn local_status(chain: &dyn ChainApi, role: Role) -> Status {
    let info = chain.info();
    Status {
        genesis_hash: info.genesis_hash,
        roles: role,
        best_hash: info.best_hash,
        best_number: info.best_number,
        finalized_hash: info.finalized_hash,
        finalized_number: info.finalized_number,
    }
}

/// The answer to `request`: at most [`MAX_BLOCKS_PER_REQUEST`] blocks, stopping before the
/// encoded response would exceed `max_bytes` (a first block larger than that yields an empty
/// response).
pub fn answer_blocks(
    chain: &dyn ChainApi,
    request: &BlockRequest,
    max_bytes: usize,
) -> ChainResult<BlockResponse> {
    let max = request.max.min(MAX_BLOCKS_PER_REQUEST);
    let mut blocks = Vec::new();
    let mut next = match request.from {
        FromBlock::Hash(hash) => Some(hash),
        FromBlock::Number(number) => chain.hash(number)?,
    };
    // The length prefix of the list, at its largest for MAX_BLOCKS_PER_REQUEST items.
    let mut size = Compact(MAX_BLOCKS_PER_REQUEST).encoded_size();
    let mut previous: Option<Hash> = None;
    while let Some(hash) = next {
        if blocks.len() >= usize::try_from(max).unwrap_or(usize::MAX) {
            break;
        }
        let Some(block) = chain.block(hash)? else { break };
        if request.direction == Direction::Ascending {
            // The best chain moved under us: stop where it no longer continues the previous block.
            if previous.is_some_and(|p| p != block.header.parent_hash) {
                break;
            }
        }
        let justification = if request.justifications { chain.justification(hash)? } else { None };
        let data = BlockData { block, justification };
        let item = data.encoded_size();
        match size.checked_add(item) {
            Some(total) if total <= max_bytes => size = total,
            _ => break,
        }
        let number = data.block.header.number;
        next = match request.direction {
            Direction::Ascending => match number.checked_add(1) {
                Some(n) => chain.hash(n)?,
                None => None,
            },
            Direction::Descending if number == 0 => None,
            Direction::Descending => Some(data.block.header.parent_hash),
        };
        previous = Some(hash);
        blocks.push(data);
    }
    Ok(BlockResponse { blocks })
}

/// Answer one request (blocking: reads the chain).
fn answer(
    chain: &dyn ChainApi,
    network: &dyn NetworkService,
    role: Role,
    request: &IncomingRequest,
) -> Option<Vec<u8>> {
    match request.protocol {
        Protocol::Status => Some(local_status(chain, role).encode()),
        Protocol::Blocks => {
            let decoded: BlockRequest = match decode_message(&request.data) {
                Ok(decoded) => decoded,
                Err(e) => {
                    log::debug!(target: "sync", "bad block request from {}: {e}", request.peer);
                    network.report(
                        request.peer.clone(),
                        Misbehaviour::BadMessage(format!("block request: {e}")),
                    );
                    return None;
                }
            };
            match answer_blocks(chain, &decoded, Protocol::Blocks.max_response_bytes()) {
                Ok(response) => Some(response.encode()),
                Err(e) => {
                    log::warn!(target: "sync", "cannot answer a block request: {e}");
                    None
                }
            }
        }
        Protocol::GrandpaCatchUp => None,
    }
}

/// Serve both protocols until the network drops its senders.
pub(crate) async fn serve(
    chain: Chain,
    network: Arc<dyn NetworkService>,
    role: Role,
    mut status: mpsc::Receiver<IncomingRequest>,
    mut blocks: mpsc::Receiver<IncomingRequest>,
) {
    let permits = Arc::new(Semaphore::new(CONCURRENT_REQUESTS));
    loop {
        let request = tokio::select! {
            Some(request) = status.recv() => request,
            Some(request) = blocks.recv() => request,
            else => break,
        };
        let Ok(permit) = permits.clone().acquire_owned().await else { break };
        let chain = chain.clone();
        let network = network.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // Dropping the responder without an answer refuses the request.
            if let Some(response) = answer(chain.as_ref(), network.as_ref(), role, &request) {
                let _ = request.respond.send(response);
            }
        });
    }
    log::debug!(target: "sync", "request server stopped");
}
