//! Serving block requests: caps on count and size, directions.

use crate::common::*;
use codec::Encode;
use std::time::Duration;
use subtensor_chain::ChainApi;
use subtensor_network_api::{NetworkService, Protocol};
use subtensor_sync::{
    server::answer_blocks,
    testing::MemoryNetwork,
    wire::{decode_message, BlockRequest, BlockResponse, Direction, FromBlock, Status},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_requests_are_capped_in_count_and_size() {
    let client = client_with(200);
    let blocks = shared_chain();
    let network = MemoryNetwork::new();
    let server = start(&network, "server", client.clone());
    let asker = network.add_node("asker");
    network.connect(&asker.id(), &server.id);

    // Over the network: 200 asked, 128 answered, ascending along the best chain.
    let request = BlockRequest {
        from: FromBlock::Number(1),
        direction: Direction::Ascending,
        max: 200,
        justifications: true,
    };
    let raw = asker
        .request(server.id.clone(), Protocol::Blocks, request.encode())
        .await
        .unwrap()
        .unwrap();
    assert!(raw.len() <= Protocol::Blocks.max_response_bytes());
    let response: BlockResponse = decode_message(&raw).unwrap();
    assert_eq!(response.blocks.len(), 128);
    for (i, data) in response.blocks.iter().enumerate() {
        assert_eq!(data.block, blocks[i]);
        assert_eq!(data.justification, None);
    }

    // The status.
    let raw =
        asker.request(server.id.clone(), Protocol::Status, Vec::new()).await.unwrap().unwrap();
    let status: Status = decode_message(&raw).unwrap();
    assert_eq!((status.best_number, status.best_hash), (200, client.info().best_hash));

    // Descending from a hash walks the parents down to genesis.
    let h5 = blocks[4].header.hash();
    let request = BlockRequest {
        from: FromBlock::Hash(h5),
        direction: Direction::Descending,
        max: 10,
        justifications: false,
    };
    let response = answer_blocks(client.as_ref(), &request, usize::MAX).unwrap();
    let numbers: Vec<u32> = response.blocks.iter().map(|d| d.block.header.number).collect();
    assert_eq!(numbers, vec![5, 4, 3, 2, 1, 0]);

    // A size cap cuts the answer before it is exceeded.
    let one = BlockResponse { blocks: vec![response.blocks[0].clone()] }.encoded_size();
    let cap = one * 10;
    let request = BlockRequest {
        from: FromBlock::Number(1),
        direction: Direction::Ascending,
        max: 128,
        justifications: false,
    };
    let response = answer_blocks(client.as_ref(), &request, cap).unwrap();
    assert!(
        !response.blocks.is_empty() && response.blocks.len() < 128,
        "{}",
        response.blocks.len()
    );
    assert!(response.encoded_size() <= cap);

    // Unknown starts give empty answers; undecodable requests are refused.
    let request = BlockRequest {
        from: FromBlock::Number(1000),
        direction: Direction::Ascending,
        max: 5,
        justifications: false,
    };
    assert!(answer_blocks(client.as_ref(), &request, usize::MAX).unwrap().blocks.is_empty());
    let refused = tokio::time::timeout(
        Duration::from_secs(10),
        asker.request(server.id.clone(), Protocol::Blocks, vec![9, 9, 9]),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(refused.is_err());
}
