//! Transaction gossip between pools.

use crate::common::*;
use sp_keyring::Sr25519Keyring;
use sp_runtime::transaction_validity::TransactionSource;
use std::time::Duration;
use subtensor_chain::ChainApi;
use subtensor_network_api::{Acceptance, NetworkService, Topic};
use subtensor_runtime::{signing, Address, RuntimeCall, RAO_PER_TAO};
use subtensor_sync::testing::MemoryNetwork;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_transaction_reaches_the_other_pools() {
    let network = MemoryNetwork::new();
    let a = start(&network, "a", new_client(1));
    let b = start(&network, "b", new_client(1));
    let c = start(&network, "c", new_client(1));
    network.connect(&a.id, &b.id);
    network.connect(&b.id, &c.id);
    wait_until("statuses", WAIT, || b.sync.status().peers().len() == 2).await;

    let genesis = a.client.info().genesis_hash;
    let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
        dest: Address::Id(Sr25519Keyring::Bob.to_account_id()),
        value: RAO_PER_TAO,
    });
    let xt = signing::sign_extrinsic(
        &Sr25519Keyring::Alice.pair(),
        call,
        0,
        0,
        &signing::SigningContext::immortal(genesis),
    );
    let data = codec::Encode::encode(&xt);
    let hash = a.pool.submit(TransactionSource::External, &data).unwrap();
    wait_until("c's pool to hold it", WAIT, || c.pool.contains(&hash)).await;
    assert!(b.pool.contains(&hash));
    // The verdict follows the pool's admission: wait for it too.
    let accepted_by = |node| {
        network.verdicts().iter().any(|v| v.node == node && v.acceptance == Acceptance::Accept)
    };
    wait_until("b's Accept", WAIT, || accepted_by(b.id.clone())).await;
    wait_until("c's Accept", WAIT, || accepted_by(c.id.clone())).await;

    // Garbage is rejected.
    let evil = network.add_node("evil");
    network.connect(&evil.id(), &c.id);
    evil.publish(Topic::Transactions, vec![0xff; 7]);
    wait_until("the rejection", WAIT, || {
        network.verdicts().iter().any(|v| v.node == c.id && v.acceptance == Acceptance::Reject)
    })
    .await;
}
