//! A misbehaving peer for the end-to-end tests (`tests/test_network.py`): it joins a network
//! through `--boot`, then sends garbage and oversized gossip, announces a child of the honest
//! node's best block sealed by a key that is not the slot's author, and serves that block (and
//! garbage) to whoever asks. Honest nodes must drop and ban it and keep going.
//!
//! Usage: `evil_peer --boot MULTIADDR --genesis HEX [--seconds 20]`; prints its peer id first.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

use codec::{Decode, Encode};
use sp_core::{sr25519, Pair, H256};
use sp_runtime::DigestItem;
use std::{str::FromStr, sync::Arc, time::Duration};
use subtensor_network::{Multiaddr, NetworkConfig, NodeKey};
use subtensor_network_api::{NetworkService, PeerEvent, Protocol, Topic};
use subtensor_runtime::Block;
use subtensor_sync::wire::{
    BlockAnnounce, BlockData, BlockRequest, BlockResponse, Direction, FromBlock, Role, Status,
};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() {
    let boot = Multiaddr::from_str(&arg("--boot").expect("--boot MULTIADDR")).unwrap();
    let genesis_hex = arg("--genesis").expect("--genesis HEX");
    let seconds: u64 = arg("--seconds").map(|s| s.parse().unwrap()).unwrap_or(20);
    let genesis = H256::from_slice(&hex::decode(genesis_hex.trim_start_matches("0x")).unwrap());

    let key = NodeKey::generate();
    println!("{}", key.peer_id());
    let mut config =
        NetworkConfig::new(subtensor_network_api::protocol_id(genesis.as_bytes()), key);
    config.listen_addresses = vec![subtensor_network::tcp_listen_address(true, 0)];
    config.boot_nodes = vec![boot];
    let (network, _task) = subtensor_network::start(config).unwrap();
    let network: Arc<dyn NetworkService> = network;
    let mut peers = network.peer_events();
    let mut status_requests = network.handle_requests(Protocol::Status);
    let mut block_requests = network.handle_requests(Protocol::Blocks);

    let peer = loop {
        if let Ok(PeerEvent::Connected { peer, .. }) = peers.recv().await {
            break peer;
        }
    };
    network.publish(Topic::Transactions, vec![0xff; 64]);
    network.publish(Topic::BlockAnnounces, b"not an announcement".to_vec());
    network.publish(Topic::Transactions, vec![0x42; 3 * 1024 * 1024]);

    // Serve whatever forged block is current, and garbage status.
    let served: Arc<parking_lot::Mutex<Option<Block>>> = Arc::default();
    let serving = served.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(request) = status_requests.recv() => {
                    let block = serving.lock().clone();
                    let status = Status {
                        genesis_hash: genesis,
                        roles: Role::Full,
                        best_hash: block.as_ref().map_or(genesis, |b| b.header.hash()),
                        best_number: block.as_ref().map_or(0, |b| b.header.number),
                        finalized_hash: genesis,
                        finalized_number: 0,
                    };
                    let _ = request.respond.send(status.encode());
                }
                Some(request) = block_requests.recv() => {
                    let blocks = serving.lock().clone().into_iter()
                        .map(|block| BlockData { block, justification: None }).collect();
                    let _ = request.respond.send(BlockResponse { blocks }.encode());
                }
                else => break,
            }
        }
    });

    // Again and again: the honest node's best block, a child of it sealed by the wrong key
    // (while the parent is not final yet, the honest node must check the seal), announced.
    let forger = sr25519::Pair::from_string("//Mallory", None).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while tokio::time::Instant::now() < deadline {
        let Ok(Ok(status)) = network.request(peer.clone(), Protocol::Status, Vec::new()).await
        else {
            break; // dropped and banned
        };
        let status = Status::decode(&mut &status[..]).unwrap();
        let request = BlockRequest {
            from: FromBlock::Hash(status.best_hash),
            direction: Direction::Descending,
            max: 1,
            justifications: false,
        };
        let Ok(Ok(answer)) =
            network.request(peer.clone(), Protocol::Blocks, request.encode()).await
        else {
            break;
        };
        let Some(parent) = BlockResponse::decode(&mut &answer[..]).unwrap().blocks.pop() else {
            continue;
        };
        let parent = parent.block;
        let parent_slot = subtensor_chain::consensus::slot_of(&parent.header).unwrap().unwrap_or(0);
        let mut header = parent.header.clone();
        header.parent_hash = parent.header.hash();
        header.number += 1;
        header.digest.logs = vec![subtensor_chain::consensus::pre_digest(parent_slot + 1)];
        let signature = forger.sign(header.hash().as_bytes());
        header.digest.push(DigestItem::Seal(*b"aura", signature.0.to_vec()));
        let evil = Block { header, extrinsics: parent.extrinsics.clone() };
        *served.lock() = Some(evil.clone());
        let announce = BlockAnnounce { header: evil.header.clone(), best: true };
        network.publish(Topic::BlockAnnounces, announce.encode());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
