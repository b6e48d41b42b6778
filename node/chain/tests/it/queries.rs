//! Storage queries: historical values and key pagination.

use crate::common::*;
use sp_keyring::Sr25519Keyring::{Alice, Bob, Ferdie};
use std::sync::Arc;
use subtensor_chain::{ChainApi, ChainError, MemoryDb, Pruning};
use subtensor_runtime::{genesis_config_presets::DEV_ENDOWMENT, RAO_PER_TAO};

#[test]
fn storage_at_old_blocks_stays_readable_in_archive_mode() {
    let client = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    let mut hashes = vec![genesis];
    for nonce in 0..4 {
        hashes.push(author(&client, &[transfer(Alice, Bob, 1, nonce, genesis)]).2);
    }
    for (n, hash) in hashes.iter().enumerate() {
        assert_eq!(free_balance(&client, *hash, Bob), DEV_ENDOWMENT + n as u64 * RAO_PER_TAO);
    }
    let unknown = sp_core::H256::repeat_byte(9);
    assert_eq!(client.storage(unknown, b"x").unwrap_err(), ChainError::UnknownBlock(unknown));
    assert_eq!(client.storage(genesis, b"no such key").unwrap(), None);
}

#[test]
fn storage_keys_are_paged_in_order() {
    let client = open(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    let prefix = account_prefix();
    let all = client.storage_keys(genesis, &prefix, None, 1000).unwrap();
    // The six endowed dev accounts, plus whatever genesis created besides.
    assert!(all.len() >= 6, "{}", all.len());
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    assert!(all.iter().all(|k| k.starts_with(&prefix)));
    assert!(all.contains(&account_key(&Ferdie.to_account_id())));

    // Pages of 2, each strictly after the last key of the previous one.
    let mut paged = Vec::new();
    let mut start: Option<Vec<u8>> = None;
    loop {
        let page = client.storage_keys(genesis, &prefix, start.as_deref(), 2).unwrap();
        assert!(page.len() <= 2);
        if page.is_empty() {
            break;
        }
        start = page.last().cloned();
        paged.extend(page);
    }
    assert_eq!(paged, all);

    // A start key equal to the prefix (as py-substrate-interface sends) or before it starts at
    // the first key; one past every prefixed key gives nothing.
    assert_eq!(client.storage_keys(genesis, &prefix, Some(&prefix), 1000).unwrap(), all);
    assert_eq!(
        client.storage_keys(genesis, &prefix, Some(&[0u8][..]), 3).unwrap(),
        all[..3].to_vec()
    );
    let mut past = prefix.clone();
    *past.last_mut().unwrap() += 1;
    assert!(client.storage_keys(genesis, &prefix, Some(&past), 10).unwrap().is_empty());
    assert!(client.storage_keys(genesis, &prefix, None, 0).unwrap().is_empty());
    // The whole state, from the empty prefix.
    let everything = client.storage_keys(genesis, &[], None, u32::MAX).unwrap();
    assert!(everything.len() > all.len());
    assert!(everything.windows(2).all(|w| w[0] < w[1]));
}
