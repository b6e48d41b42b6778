//! Forks: two authorities build competing chains; fork choice, reorgs in the number index,
//! finality on either fork, discarded forks, pruning with forks, and the last authored slot.

use crate::common::*;
use proptest::prelude::*;
use sp_core::{sr25519, Pair, H256};
use sp_keyring::Sr25519Keyring;
use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};
use subtensor_chain::{
    db::Column, ChainApi, ChainError, ChainEvent, ChainWrite, Client, ClientConfig, Hash,
    ImportOutcome, MemoryDb, Pruning,
};
use subtensor_runtime::Block;

/// Alice authors even slots, Bob odd ones.
pub(crate) fn authorities() -> Vec<sr25519::Pair> {
    vec![Sr25519Keyring::Alice.pair(), Sr25519Keyring::Bob.pair()]
}

fn open_two(db: Arc<MemoryDb>, pruning: Pruning) -> Arc<Client> {
    open_two_on(db, pruning)
}

/// A client with Alice and Bob as authorities over any database.
pub(crate) fn open_two_on(db: Arc<dyn subtensor_chain::Database>, pruning: Pruning) -> Arc<Client> {
    let config = ClientConfig {
        authorities: authorities().iter().map(|p| p.public()).collect(),
        ..config(pruning)
    };
    Client::open(db, &dev_storage(), config).unwrap()
}

/// A block on `parent` in `slot`, sealed by the slot's author.
pub(crate) fn block_on(client: &Client, parent: Hash, slot: u64) -> Block {
    let built = client.build_block(parent, slot * SLOT_MS + 1, &[]).unwrap();
    let keys = authorities();
    let author = &keys[(slot % keys.len() as u64) as usize];
    Block {
        header: subtensor_chain::consensus::seal(built.block.header, author),
        extrinsics: built.block.extrinsics,
    }
}

fn import(client: &Client, block: Block) -> (Hash, bool) {
    match client.import_block(block).unwrap() {
        ImportOutcome::Imported { hash, best, .. } => (hash, best),
        other => panic!("{other:?}"),
    }
}

/// The number index is exactly the best chain.
pub(crate) fn assert_index_is_best_chain(client: &Client) {
    let info = client.info();
    let mut hash = info.best_hash;
    for number in (0..=info.best_number).rev() {
        assert_eq!(client.hash(number).unwrap(), Some(hash), "index at #{number}");
        hash = client.header(hash).unwrap().unwrap().parent_hash;
    }
    assert_eq!(client.hash(info.best_number + 1).unwrap(), None);
}

#[test]
fn a_longer_fork_wins_and_finality_can_move_the_best_chain_back() {
    let client = open_two(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    let mut events = client.subscribe();

    // Fork A: slots 2, 4 (Alice). Fork B: slots 3, 5, 7 (Bob).
    let (a1, best) = import(&client, block_on(&client, genesis, 2));
    assert!(best);
    let (a2, _) = import(&client, block_on(&client, a1, 4));
    let (b1, best) = import(&client, block_on(&client, genesis, 3));
    assert!(!best, "a shorter fork is not best");
    let (b2, best) = import(&client, block_on(&client, b1, 5));
    assert!(!best, "an equal fork seen later is not best");
    assert_eq!(client.info().best_hash, a2);
    assert_eq!(client.leaves(), vec![a2, b2]);
    let (b3, best) = import(&client, block_on(&client, b2, 7));
    assert!(best, "the longer fork wins");
    assert_index_is_best_chain(&client);

    let reorg = std::iter::from_fn(|| events.try_recv().ok())
        .find_map(|e| match e {
            ChainEvent::NewBest { hash, retracted, enacted, .. } if hash == b3 => {
                Some((retracted, enacted))
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(reorg, (vec![a2, a1], vec![b1, b2, b3]));

    // Finality lands on fork A: the best chain moves back to it although it is shorter, and
    // fork B is discarded.
    client.finalize(a1, Some(b"justification".to_vec())).unwrap();
    let info = client.info();
    assert_eq!((info.best_hash, info.best_number), (a2, 2));
    assert_eq!((info.finalized_hash, info.finalized_number), (a1, 1));
    assert_index_is_best_chain(&client);
    assert_eq!(client.leaves(), vec![a2]);
    assert_eq!(client.justification(a1).unwrap(), Some(b"justification".to_vec()));
    // The abandoned fork cannot be finalized; its bodies stay readable until the next
    // finalization (the pool takes their transactions back), then they are gone.
    assert!(matches!(client.finalize(b3, None), Err(ChainError::Finality(_))));
    assert!(client.block(b2).unwrap().is_some());
    let (late, _) = import(&client, block_on(&client, a1, 6));
    client.finalize(late, None).unwrap();
    for gone in [b1, b2, b3] {
        assert_eq!(client.header(gone).unwrap(), None);
    }
    client.verify_chain(&dev_storage()).unwrap();

    // The tree survives a restart.
    let db = Arc::new(MemoryDb::new());
    let client = open_two(db.clone(), Pruning::Archive);
    let (x1, _) = import(&client, block_on(&client, genesis, 2));
    let (y1, _) = import(&client, block_on(&client, genesis, 3));
    let (y2, _) = import(&client, block_on(&client, y1, 5));
    drop(client);
    let client = open_two(db, Pruning::Archive);
    assert_eq!(client.leaves(), vec![x1, y2]);
    assert_eq!(client.info().best_hash, y2);
    assert_eq!(client.best_containing(x1), Some((x1, 1)));
    assert_eq!(client.best_containing(genesis), Some((y2, 2)));
}

#[test]
fn the_last_authored_slot_is_stored_with_the_block() {
    let client = open_two(Arc::new(MemoryDb::new()), Pruning::Archive);
    let genesis = client.info().genesis_hash;
    assert_eq!(client.last_authored_slot().unwrap(), None);
    let block = block_on(&client, genesis, 4);
    client.import_authored_block(block, 4).unwrap();
    assert_eq!(client.last_authored_slot().unwrap(), Some(4));
}

/// One step of a random scenario.
#[derive(Debug, Clone)]
enum Step {
    /// Build on the block with this index (modulo the live blocks).
    Build(usize),
    /// Finalize the block with this index (modulo the live blocks).
    Finalize(usize),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<usize>().prop_map(Step::Build),
            1 => any::<usize>().prop_map(Step::Finalize),
        ],
        1..24,
    )
}

/// Every trie node reachable from `roots`.
fn reachable(db: &Arc<MemoryDb>, roots: &[H256]) -> BTreeSet<Vec<u8>> {
    crate::pruning::reachable(db, roots)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Random fork trees built and finalized in random orders: the best block is the highest
    /// block descending from the finalized one (first imported among equals), the number index
    /// is the best chain, discarded forks are gone, and the node column holds exactly the
    /// nodes of the kept states (every unfinalized block, the last two finalized ones).
    #[test]
    fn fork_choice_index_and_pruning_hold_over_random_trees(steps in steps()) {
        let db = Arc::new(MemoryDb::new());
        let client = open_two(db.clone(), Pruning::KeepLast(2));
        let genesis = client.info().genesis_hash;
        // Reference model: every live block with its number, parent and import order.
        let mut live: Vec<(Hash, u32, Hash)> = vec![(genesis, 0, Hash::zero())];
        let mut slot = 0u64;
        for step in steps {
            match step {
                Step::Build(i) => {
                    let finalized_number = client.info().finalized_number;
                    let buildable: Vec<Hash> = live.iter()
                        .filter(|(_, n, _)| *n >= finalized_number).map(|(h, _, _)| *h).collect();
                    let parent = buildable[i % buildable.len()];
                    slot += 1;
                    let block = block_on(&client, parent, slot);
                    let number = block.header.number;
                    let (hash, _) = import(&client, block);
                    live.push((hash, number, parent));
                }
                Step::Finalize(i) => {
                    let (target, number, _) = live[i % live.len()];
                    let before = client.info();
                    client.finalize(target, None).unwrap();
                    let after = client.info();
                    if number > before.finalized_number {
                        prop_assert_eq!(after.finalized_hash, target);
                        // Keep the target, its ancestors and its descendants.
                        let parents: HashMap<Hash, Hash> =
                            live.iter().map(|(h, _, p)| (*h, *p)).collect();
                        let chain_of = |mut b: Hash| {
                            let mut chain = BTreeSet::new();
                            while b != Hash::zero() {
                                chain.insert(b);
                                b = parents.get(&b).copied().unwrap_or(Hash::zero());
                            }
                            chain
                        };
                        let ancestors = chain_of(target);
                        live.retain(|(h, _, _)| ancestors.contains(h) || chain_of(*h).contains(&target));
                    } else {
                        prop_assert_eq!(after.finalized_hash, before.finalized_hash);
                    }
                }
            }
            let info = client.info();
            let finalized_number = info.finalized_number;
            // Best: the highest block above finality, the first imported among equals.
            let candidates: Vec<&(Hash, u32, Hash)> =
                live.iter().filter(|(_, n, _)| *n >= finalized_number).collect();
            let max = candidates.iter().map(|(_, n, _)| *n).max().unwrap();
            let expected = candidates.iter().find(|(_, n, _)| *n == max).unwrap().0;
            prop_assert_eq!(info.best_hash, expected);
            assert_index_is_best_chain(&client);
            // Discarded blocks are gone, live ones readable.
            for (hash, number, _) in &live {
                prop_assert!(client.header(*hash).unwrap().is_some());
                if *number + 1 >= finalized_number {
                    prop_assert!(client.storage(*hash, b":code").is_ok());
                }
            }
            // Exactly the kept states' nodes are stored.
            let kept: Vec<H256> = live.iter()
                .filter(|(_, n, _)| *n + 1 >= finalized_number)
                .map(|(h, _, _)| client.header(*h).unwrap().unwrap().state_root)
                .collect();
            let stored: BTreeSet<Vec<u8>> = db.keys(Column::TrieNodes).into_iter().collect();
            prop_assert_eq!(reachable(&db, &kept), stored);
        }
        client.verify_chain(&dev_storage()).unwrap();
    }
}
