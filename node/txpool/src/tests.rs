//! Unit tests against a small in-test [`ChainApi`] whose "runtime" validates scripted
//! transactions: each test extrinsic is a `System::remark` carrying a [`Script`] (sender, nonce,
//! priority, the verdict to give, extra tags and when it dies), checked against per-sender
//! on-chain nonces.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

use crate::*;
use codec::{Decode, Encode};
use parking_lot::Mutex;
use sp_core::H256;
use sp_runtime::{
    generic::Digest,
    traits::{BlakeTwo256, Hash as _, Header as _},
    transaction_validity::{
        InvalidTransaction, TransactionValidity, UnknownTransaction, ValidTransaction,
    },
};
use std::{collections::HashMap, sync::Arc, time::Duration};
use subtensor_chain::{ChainApi, ChainError, ChainEvent, ChainInfo, ChainResult};
use subtensor_runtime::{Block, BlockNumber, Header, RuntimeCall, UncheckedExtrinsic};
use tokio::sync::broadcast;

/// What the fake runtime says about a test transaction.
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Valid,
    BadProof,
    Unknown,
    NoTags,
}

#[derive(Encode, Decode, Clone, Debug)]
struct Script {
    sender: u8,
    nonce: u32,
    priority: u64,
    verdict: Verdict,
    /// Makes otherwise equal scripts different transactions.
    salt: u8,
    /// Tags required besides the previous nonce's.
    requires: Vec<Vec<u8>>,
    /// Tags provided besides the nonce's.
    provides: Vec<Vec<u8>>,
    /// The first block number it cannot be included in, like a mortal era's death: the
    /// longevity answered at block `n` is `dies_at - n - 1`; none means a longevity of 64.
    dies_at: Option<u64>,
}

impl Script {
    fn new(sender: u8, nonce: u32, priority: u64) -> Self {
        Self {
            sender,
            nonce,
            priority,
            verdict: Verdict::Valid,
            salt: 0,
            requires: vec![],
            provides: vec![],
            dies_at: None,
        }
    }
}

fn xt(sender: u8, nonce: u32, priority: u64) -> Vec<u8> {
    script(Script::new(sender, nonce, priority))
}

fn script(s: Script) -> Vec<u8> {
    let call = RuntimeCall::System(frame_system::Call::remark { remark: s.encode() });
    UncheckedExtrinsic::new_bare(call).encode()
}

fn hash_of(data: &[u8]) -> TxHash {
    TxHash::from(sp_crypto_hashing::blake2_256(data))
}

fn tag(sender: u8, nonce: u32) -> Vec<u8> {
    (sender, nonce).encode()
}

#[derive(Default)]
struct State {
    nonces: HashMap<u8, u32>,
    headers: HashMap<H256, Header>,
    blocks: HashMap<H256, Block>,
    canonical: Vec<H256>,
    finalized: H256,
    /// Makes every validation call fail (a runtime error: the pool keeps the transaction).
    failing: bool,
}

struct FakeChain {
    state: Mutex<State>,
    events: broadcast::Sender<ChainEvent>,
}

impl FakeChain {
    fn new() -> Arc<Self> {
        let genesis = Header::new(0, H256::zero(), H256::zero(), H256::zero(), Digest::default());
        let hash = genesis.hash();
        let mut state = State::default();
        state.headers.insert(hash, genesis.clone());
        state.blocks.insert(hash, Block { header: genesis, extrinsics: vec![] });
        state.canonical.push(hash);
        state.finalized = hash;
        Arc::new(Self { state: Mutex::new(state), events: broadcast::channel(16).0 })
    }

    /// Imports a block with `txs` (applying their nonces) as the new best block.
    fn import(&self, txs: &[Vec<u8>]) -> (H256, Header) {
        let mut state = self.state.lock();
        let parent = *state.canonical.last().unwrap();
        let number = state.canonical.len() as BlockNumber;
        let extrinsics: Vec<UncheckedExtrinsic> =
            txs.iter().map(|d| UncheckedExtrinsic::decode(&mut &d[..]).unwrap()).collect();
        for x in &extrinsics {
            let s = script_of(x);
            state.nonces.insert(s.sender, s.nonce + 1);
        }
        let root = BlakeTwo256::hash(&extrinsics.encode());
        let header = Header::new(number, root, H256::zero(), parent, Digest::default());
        let hash = header.hash();
        state.headers.insert(hash, header.clone());
        state.blocks.insert(hash, Block { header: header.clone(), extrinsics });
        state.canonical.push(hash);
        (hash, header)
    }

    fn finalize(&self, hash: H256) {
        self.state.lock().finalized = hash;
    }
}

fn script_of(x: &UncheckedExtrinsic) -> Script {
    match &x.function {
        RuntimeCall::System(frame_system::Call::remark { remark }) => {
            Script::decode(&mut &remark[..]).unwrap()
        }
        other => panic!("unexpected call {other:?}"),
    }
}

impl ChainApi for FakeChain {
    fn info(&self) -> ChainInfo {
        let state = self.state.lock();
        let best_hash = *state.canonical.last().unwrap();
        ChainInfo {
            genesis_hash: state.canonical[0],
            best_hash,
            best_number: state.canonical.len() as BlockNumber - 1,
            finalized_hash: state.finalized,
            finalized_number: state.headers[&state.finalized].number,
        }
    }
    fn header(&self, hash: H256) -> ChainResult<Option<Header>> {
        Ok(self.state.lock().headers.get(&hash).cloned())
    }
    fn block(&self, hash: H256) -> ChainResult<Option<Block>> {
        Ok(self.state.lock().blocks.get(&hash).cloned())
    }
    fn hash(&self, number: BlockNumber) -> ChainResult<Option<H256>> {
        Ok(self.state.lock().canonical.get(number as usize).copied())
    }
    fn storage(&self, _: H256, _: &[u8]) -> ChainResult<Option<Vec<u8>>> {
        Ok(None)
    }
    fn storage_keys(
        &self,
        _: H256,
        _: &[u8],
        _: Option<&[u8]>,
        _: u32,
    ) -> ChainResult<Vec<Vec<u8>>> {
        Ok(vec![])
    }
    fn call(&self, at: H256, method: &str, args: &[u8]) -> ChainResult<Vec<u8>> {
        if method != VALIDATE_TRANSACTION {
            return Err(ChainError::MethodNotFound(method.into()));
        }
        let state = self.state.lock();
        if !state.headers.contains_key(&at) {
            return Err(ChainError::UnknownBlock(at));
        }
        if state.failing {
            return Err(ChainError::Execution("scripted failure".into()));
        }
        let (_, x, _): (TransactionSource, UncheckedExtrinsic, H256) =
            Decode::decode(&mut &args[..]).map_err(|e| ChainError::Decode(e.to_string()))?;
        let s = script_of(&x);
        let on_chain = state.nonces.get(&s.sender).copied().unwrap_or(0);
        // As frame-system's `CheckMortality`: validated for block `number + 1`.
        let next = u64::from(state.headers[&at].number) + 1;
        let validity: TransactionValidity = match s.verdict {
            Verdict::BadProof => Err(InvalidTransaction::BadProof.into()),
            Verdict::Unknown => Err(UnknownTransaction::CannotLookup.into()),
            _ if s.nonce < on_chain => Err(InvalidTransaction::Stale.into()),
            _ if s.dies_at.is_some_and(|death| death <= next) => {
                Err(InvalidTransaction::AncientBirthBlock.into())
            }
            verdict => Ok(ValidTransaction {
                priority: s.priority,
                requires: if s.nonce > on_chain {
                    vec![tag(s.sender, s.nonce - 1)]
                } else {
                    vec![]
                }
                .into_iter()
                .chain(s.requires.iter().cloned())
                .collect(),
                provides: if verdict == Verdict::NoTags {
                    vec![]
                } else {
                    vec![tag(s.sender, s.nonce)]
                        .into_iter()
                        .chain(s.provides.iter().cloned())
                        .collect()
                },
                longevity: s.dies_at.map_or(64, |death| death - next),
                propagate: true,
            }),
        };
        Ok(validity.encode())
    }
    fn runtime_version(&self, _: H256) -> ChainResult<sp_version::RuntimeVersion> {
        Ok(subtensor_runtime::VERSION)
    }
    fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }
}

fn pool_with(config: PoolConfig) -> (Arc<FakeChain>, Pool) {
    let chain = FakeChain::new();
    let pool = Pool::new(config, chain.clone());
    (chain, pool)
}

fn pool() -> (Arc<FakeChain>, Pool) {
    pool_with(PoolConfig::default())
}

const EXT: TransactionSource = TransactionSource::External;

fn ready_order(pool: &Pool) -> Vec<TxHash> {
    pool.ready().map(|tx| tx.hash).collect()
}

#[test]
fn admits_valid_transaction_and_refuses_duplicates() {
    let (_, pool) = pool();
    let data = xt(1, 0, 5);
    let hash = pool.submit(EXT, &data).unwrap();
    assert_eq!(hash, hash_of(&data));
    assert!(pool.is_ready(&hash));
    assert_eq!(
        pool.status(),
        PoolStatus { ready: 1, ready_bytes: data.len(), future: 0, future_bytes: 0 }
    );
    let err = pool.submit(EXT, &data).unwrap_err();
    assert_eq!(err, PoolError::AlreadyImported(hash));
    assert_eq!(err.rpc_code(), 1013);
}

#[test]
fn rejects_undecodable_bytes_with_bad_format() {
    let (_, pool) = pool();
    let err = pool.submit(EXT, &[0x10, 0x84, 0x00]).unwrap_err();
    assert!(matches!(err, PoolError::BadFormat(_)), "{err:?}");
    assert_eq!(err.rpc_code(), 1001);
    assert!(err.to_string().starts_with("Extrinsic has invalid format: "));
    // Trailing bytes after a valid extrinsic are refused too.
    let mut data = xt(1, 0, 1);
    data.push(0);
    assert!(matches!(pool.submit(EXT, &data), Err(PoolError::BadFormat(_))));
}

#[test]
fn invalid_transaction_is_rejected_with_substrate_text_and_banned() {
    let (_, pool) = pool();
    let data = script(Script { verdict: Verdict::BadProof, ..Script::new(1, 0, 1) });
    let err = pool.submit(EXT, &data).unwrap_err();
    assert_eq!(err, PoolError::InvalidTransaction(InvalidTransaction::BadProof));
    assert_eq!(err.rpc_code(), 1010);
    assert_eq!(
        invalid_transaction_text(&InvalidTransaction::BadProof),
        "Transaction has a bad signature"
    );
    assert_eq!(invalid_transaction_text(&InvalidTransaction::Stale), "Transaction is outdated");
    assert_eq!(
        invalid_transaction_text(&InvalidTransaction::Payment),
        "Inability to pay some fees (e.g. account balance too low)"
    );
    assert_eq!(invalid_transaction_text(&InvalidTransaction::Custom(7)), "Custom error: 7");
    assert!(pool.is_banned(&hash_of(&data)));
    let again = pool.submit(EXT, &data).unwrap_err();
    assert_eq!(again, PoolError::TemporarilyBanned);
    assert_eq!(again.rpc_code(), 1012);
}

#[test]
fn unknown_validity_and_missing_tags_are_rejected() {
    let (_, pool) = pool();
    let unknown = script(Script { verdict: Verdict::Unknown, ..Script::new(1, 0, 1) });
    let err = pool.submit(EXT, &unknown).unwrap_err();
    assert_eq!(err, PoolError::UnknownTransaction(UnknownTransaction::CannotLookup));
    assert_eq!(err.rpc_code(), 1011);
    assert!(!pool.is_banned(&hash_of(&unknown)));
    let no_tags = script(Script { verdict: Verdict::NoTags, ..Script::new(1, 0, 1) });
    assert_eq!(pool.submit(EXT, &no_tags).unwrap_err(), PoolError::NoTagsProvided);
}

#[test]
fn stale_nonce_is_outdated() {
    let (chain, pool) = pool();
    chain.import(&[xt(1, 0, 1)]);
    let err = pool.submit(EXT, &xt(1, 0, 2)).unwrap_err();
    assert_eq!(err, PoolError::InvalidTransaction(InvalidTransaction::Stale));
}

#[test]
fn nonce_gap_waits_in_future_and_is_promoted() {
    let (_, pool) = pool();
    let mut w2 = pool.submit_and_watch(EXT, &xt(1, 2, 100)).unwrap();
    assert_eq!(w2.try_next(), Some(TxStatus::Future));
    assert_eq!(pool.status().future, 1);
    let h0 = pool.submit(EXT, &xt(1, 0, 1)).unwrap();
    assert_eq!(w2.try_next(), None);
    let h1 = pool.submit(EXT, &xt(1, 1, 1)).unwrap();
    assert_eq!(w2.try_next(), Some(TxStatus::Ready));
    assert_eq!(pool.status().ready, 3);
    // Nonce order wins over priority.
    assert_eq!(ready_order(&pool), vec![h0, h1, w2.hash()]);
    assert!(pool.ready_provides(&tag(1, 2)));
    assert!(!pool.ready_provides(&tag(1, 3)));
}

#[test]
fn watch_attaches_to_a_pooled_transaction() {
    let (chain, pool) = pool();
    let d0 = xt(1, 0, 1);
    let hash = pool.submit(EXT, &d0).unwrap();
    assert!(pool.watch(&TxHash::repeat_byte(1)).is_none());
    let mut w = pool.watch(&hash).unwrap();
    assert_eq!(w.try_next(), Some(TxStatus::Ready));
    let (block, _) = chain.import(std::slice::from_ref(&d0));
    pool.on_block_imported(block, &[hash]);
    assert_eq!(w.try_next(), Some(TxStatus::InBlock(block)));
}

#[test]
fn ready_iterator_orders_by_priority_then_age() {
    let (_, pool) = pool();
    let a = pool.submit(EXT, &xt(1, 0, 10)).unwrap();
    let b = pool.submit(EXT, &xt(2, 0, 20)).unwrap();
    let c = pool.submit(EXT, &xt(3, 0, 10)).unwrap();
    // Sender 2's second transaction has top priority but must follow its first.
    let b1 = pool.submit(EXT, &xt(2, 1, 50)).unwrap();
    assert_eq!(ready_order(&pool), vec![b, b1, a, c]);
}

#[test]
fn report_invalid_skips_dependents() {
    let (_, pool) = pool();
    let a0 = pool.submit(EXT, &xt(1, 0, 30)).unwrap();
    let _a1 = pool.submit(EXT, &xt(1, 1, 30)).unwrap();
    let b0 = pool.submit(EXT, &xt(2, 0, 10)).unwrap();
    let mut iter = pool.ready();
    let first = iter.next().unwrap();
    assert_eq!(first.hash, a0);
    iter.report_invalid(&first);
    assert_eq!(iter.map(|tx| tx.hash).collect::<Vec<_>>(), vec![b0]);
}

#[test]
fn higher_priority_replaces_same_nonce_lower_is_refused() {
    let (_, pool) = pool();
    let old = script(Script::new(1, 0, 5));
    let mut w_old = pool.submit_and_watch(EXT, &old).unwrap();
    assert_eq!(w_old.try_next(), Some(TxStatus::Ready));
    let low = script(Script { salt: 1, ..Script::new(1, 0, 5) });
    let err = pool.submit(EXT, &low).unwrap_err();
    assert_eq!(err, PoolError::TooLowPriority { old: 5, new: 5 });
    assert_eq!(err.rpc_code(), 1014);
    let high = script(Script { salt: 2, ..Script::new(1, 0, 6) });
    let new = pool.submit(EXT, &high).unwrap();
    assert_eq!(w_old.try_next(), Some(TxStatus::Usurped(new)));
    assert!(!pool.contains(&hash_of(&old)));
    assert_eq!(ready_order(&pool), vec![new]);
}

#[test]
fn limits_evict_the_worst_transaction() {
    let config = PoolConfig {
        ready: Limit { count: 2, total_bytes: 1 << 20 },
        future: Limit { count: 1, total_bytes: 1 << 20 },
        ..PoolConfig::default()
    };
    let (_, pool) = pool_with(config);
    let mut w_low = pool.submit_and_watch(EXT, &xt(1, 0, 1)).unwrap();
    pool.submit(EXT, &xt(2, 0, 5)).unwrap();
    // The newcomer is the worst: refused.
    let err = pool.submit(EXT, &xt(3, 0, 1)).unwrap_err();
    assert_eq!(err, PoolError::ImmediatelyDropped);
    assert_eq!(err.rpc_code(), 1016);
    // A better one evicts the lowest priority.
    pool.submit(EXT, &xt(4, 0, 9)).unwrap();
    assert_eq!(w_low.try_next(), Some(TxStatus::Ready));
    assert_eq!(w_low.try_next(), Some(TxStatus::Dropped));
    assert_eq!(pool.status().ready, 2);
    // Future queue limit: one slot.
    pool.submit(EXT, &xt(5, 3, 1)).unwrap();
    assert_eq!(pool.submit(EXT, &xt(6, 3, 1)).unwrap_err(), PoolError::ImmediatelyDropped);
    // Byte limit.
    let tiny = PoolConfig { ready: Limit { count: 100, total_bytes: 10 }, ..PoolConfig::default() };
    let (_, pool) = pool_with(tiny);
    assert_eq!(pool.submit(EXT, &xt(1, 0, 1)).unwrap_err(), PoolError::ImmediatelyDropped);
}

#[test]
fn block_import_removes_included_and_revalidates_the_rest() {
    let (chain, pool) = pool();
    let d0 = xt(1, 0, 1);
    let mut w0 = pool.submit_and_watch(EXT, &d0).unwrap();
    let mut w1 = pool.submit_and_watch(EXT, &xt(1, 1, 1)).unwrap();
    let mut w2 = pool.submit_and_watch(EXT, &xt(1, 3, 1)).unwrap();
    // Another node's transaction with sender 2's nonce 0 gets included instead of ours.
    let mut w_other = pool.submit_and_watch(EXT, &xt(2, 0, 1)).unwrap();
    let rival = script(Script { salt: 9, ..Script::new(2, 0, 0) });
    for w in [&mut w0, &mut w1, &mut w_other] {
        assert_eq!(w.try_next(), Some(TxStatus::Ready));
    }
    assert_eq!(w2.try_next(), Some(TxStatus::Future));

    let (block, _) = chain.import(&[d0.clone(), rival.clone()]);
    pool.on_block_imported(block, &[hash_of(&d0), hash_of(&rival)]);
    assert_eq!(w0.try_next(), Some(TxStatus::InBlock(block)));
    assert_eq!(w_other.try_next(), Some(TxStatus::Invalid));
    assert!(!pool.contains(&hash_of(&d0)));
    assert!(pool.is_ready(&w1.hash()));
    // Nonce 1 now requires nothing; nonce 3 still waits for nonce 2.
    assert!(pool.get(&w1.hash()).unwrap().requires.is_empty());
    assert!(!pool.is_ready(&w2.hash()));
    // Included transactions are banned, as in Substrate.
    assert_eq!(pool.submit(EXT, &d0).unwrap_err(), PoolError::TemporarilyBanned);
    // A second report of the same block changes nothing.
    pool.on_block_imported(block, &[hash_of(&d0)]);
    assert_eq!(w0.try_next(), None);

    chain.finalize(block);
    pool.on_block_finalized(block);
    assert_eq!(w0.try_next(), Some(TxStatus::Finalized(block)));
    assert_eq!(w1.try_next(), None);
}

#[test]
fn finality_covers_earlier_blocks_and_times_out() {
    let config = PoolConfig { finality_timeout_blocks: 2, ..PoolConfig::default() };
    let (chain, pool) = pool_with(config);
    let a = xt(1, 0, 1);
    let b = xt(2, 0, 1);
    let c = xt(3, 0, 1);
    let mut wa = pool.submit_and_watch(EXT, &a).unwrap();
    let mut wb = pool.submit_and_watch(EXT, &b).unwrap();
    let (b1, _) = chain.import(std::slice::from_ref(&a));
    pool.on_block_imported(b1, &[hash_of(&a)]);
    let (b2, _) = chain.import(std::slice::from_ref(&b));
    pool.on_block_imported(b2, &[hash_of(&b)]);
    // Finalizing block 2 finalizes the transaction of block 1 too.
    pool.on_block_finalized(b2);
    assert_eq!(wa.try_next(), Some(TxStatus::Ready));
    assert_eq!(wa.try_next(), Some(TxStatus::InBlock(b1)));
    assert_eq!(wa.try_next(), Some(TxStatus::Finalized(b1)));
    assert_eq!(wb.try_next(), Some(TxStatus::Ready));
    assert_eq!(wb.try_next(), Some(TxStatus::InBlock(b2)));
    assert_eq!(wb.try_next(), Some(TxStatus::Finalized(b2)));

    let mut wc = pool.submit_and_watch(EXT, &c).unwrap();
    let (b3, _) = chain.import(std::slice::from_ref(&c));
    pool.on_block_imported(b3, &[hash_of(&c)]);
    for _ in 0..3 {
        let (b, _) = chain.import(&[]);
        pool.on_block_imported(b, &[]);
    }
    assert_eq!(wc.try_next(), Some(TxStatus::Ready));
    assert_eq!(wc.try_next(), Some(TxStatus::InBlock(b3)));
    assert_eq!(wc.try_next(), Some(TxStatus::FinalityTimeout(b3)));
}

#[test]
fn remove_invalid_drops_bans_and_demotes_dependents() {
    let (_, pool) = pool();
    let d0 = xt(1, 0, 1);
    let mut w0 = pool.submit_and_watch(EXT, &d0).unwrap();
    let h1 = pool.submit(EXT, &xt(1, 1, 1)).unwrap();
    pool.remove_invalid(&[hash_of(&d0)]);
    assert_eq!(w0.try_next(), Some(TxStatus::Ready));
    assert_eq!(w0.try_next(), Some(TxStatus::Invalid));
    assert!(pool.is_banned(&hash_of(&d0)));
    assert!(pool.contains(&h1));
    assert!(!pool.is_ready(&h1));
}

#[test]
fn ban_expires() {
    let config = PoolConfig { ban_time: Duration::from_millis(1), ..PoolConfig::default() };
    let (_, pool) = pool_with(config);
    let bad = script(Script { verdict: Verdict::BadProof, ..Script::new(1, 0, 1) });
    assert!(matches!(pool.submit(EXT, &bad), Err(PoolError::InvalidTransaction(_))));
    std::thread::sleep(Duration::from_millis(5));
    assert!(matches!(pool.submit(EXT, &bad), Err(PoolError::InvalidTransaction(_))));
}

#[tokio::test]
async fn maintain_follows_chain_events_and_signals_ready() {
    let (chain, pool) = pool();
    let pool = Arc::new(pool);
    let mut ready = pool.ready_notifications();
    let task = tokio::spawn(maintain(pool.clone()));
    tokio::task::yield_now().await;

    let d0 = xt(1, 0, 1);
    let mut w0 = pool.submit_and_watch(EXT, &d0).unwrap();
    assert_eq!(ready.recv().await.unwrap(), hash_of(&d0));
    assert_eq!(w0.next().await, Some(TxStatus::Ready));

    let (block, header) = chain.import(std::slice::from_ref(&d0));
    chain
        .events
        .send(ChainEvent::NewBest {
            hash: block,
            header: header.clone(),
            retracted: vec![],
            enacted: vec![block],
        })
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(5), w0.next()).await.unwrap();
    assert_eq!(status, Some(TxStatus::InBlock(block)));
    chain.finalize(block);
    chain.events.send(ChainEvent::Finalized { hash: block, header }).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(5), w0.next()).await.unwrap();
    assert_eq!(status, Some(TxStatus::Finalized(block)));
    assert_eq!(w0.next().await, None);
    task.abort();
}

/// `("subtensor", kind, hotkey)`: the tag the runtime gives fee-free calls, one pending per hotkey
/// and kind.
fn fee_free_tag(kind: u8, hotkey: u8) -> Vec<u8> {
    (b"subtensor".to_vec(), kind, hotkey).encode()
}

#[test]
fn second_fee_free_call_with_the_same_tag_is_refused() {
    let (_, pool) = pool();
    // Two senders (a coldkey and a hotkey, say) send the same kind of call for hotkey 7.
    let first = script(Script { provides: vec![fee_free_tag(1, 7)], ..Script::new(1, 0, 0) });
    let mut w_first = pool.submit_and_watch(EXT, &first).unwrap();
    assert_eq!(w_first.try_next(), Some(TxStatus::Ready));
    let second = script(Script { provides: vec![fee_free_tag(1, 7)], ..Script::new(2, 0, 0) });
    let err = pool.submit(EXT, &second).unwrap_err();
    assert_eq!(err, PoolError::TooLowPriority { old: 0, new: 0 });
    assert_eq!(err.rpc_code(), 1014);
    assert_eq!(err.to_string(), "Priority is too low: (0 vs 0)");
    // Not banned: it may come back once the first one is gone.
    assert!(!pool.is_banned(&hash_of(&second)));
    assert!(pool.contains(&hash_of(&first)));
    assert_eq!(w_first.try_next(), None);
    // Another kind, or another hotkey, is another tag.
    pool.submit(
        EXT,
        &script(Script { provides: vec![fee_free_tag(2, 7)], ..Script::new(3, 0, 0) }),
    )
    .unwrap();
    pool.submit(
        EXT,
        &script(Script { provides: vec![fee_free_tag(1, 8)], ..Script::new(4, 0, 0) }),
    )
    .unwrap();
    // Once the first one leaves, the second is admitted.
    pool.remove_invalid(&[hash_of(&first)]);
    pool.submit(EXT, &second).unwrap();
    pool.check_consistency();
}

#[test]
fn replacing_several_transactions_needs_more_than_their_priorities_added_up() {
    let (_, pool) = pool();
    let a = script(Script { provides: vec![b"a".to_vec()], ..Script::new(1, 0, 3) });
    let b = script(Script { provides: vec![b"b".to_vec()], ..Script::new(2, 0, 4) });
    let mut wa = pool.submit_and_watch(EXT, &a).unwrap();
    let mut wb = pool.submit_and_watch(EXT, &b).unwrap();
    // A transaction of sender 1 waiting for tag "a" falls back to the future queue with it.
    let mut wa1 = pool.submit_and_watch(EXT, &xt(1, 1, 1)).unwrap();
    let both = |priority, salt| {
        script(Script {
            provides: vec![b"a".to_vec(), b"b".to_vec()],
            salt,
            ..Script::new(3, 0, priority)
        })
    };
    assert_eq!(
        pool.submit(EXT, &both(7, 0)).unwrap_err(),
        PoolError::TooLowPriority { old: 7, new: 7 }
    );
    let new = pool.submit(EXT, &both(8, 1)).unwrap();
    for w in [&mut wa, &mut wb] {
        assert_eq!(w.try_next(), Some(TxStatus::Ready));
        assert_eq!(w.try_next(), Some(TxStatus::Usurped(new)));
    }
    assert_eq!(wa1.try_next(), Some(TxStatus::Ready));
    assert_eq!(wa1.try_next(), Some(TxStatus::Future));
    assert!(!pool.is_ready(&wa1.hash()));
    assert_eq!(ready_order(&pool), vec![new]);
    pool.check_consistency();
}

#[test]
fn stale_transactions_leave_after_their_longevity() {
    let (chain, pool) = pool();
    // Validated at block 0 for block 1 with death 3: longevity 2, stale once block 2 is best.
    let mortal = script(Script { dies_at: Some(3), ..Script::new(1, 0, 1) });
    let mut w_mortal = pool.submit_and_watch(EXT, &mortal).unwrap();
    assert_eq!(pool.get(&hash_of(&mortal)).unwrap().longevity, 2);
    let mut w_next = pool.submit_and_watch(EXT, &xt(1, 1, 1)).unwrap();
    let immortal = pool.submit(EXT, &xt(2, 0, 1)).unwrap();
    assert_eq!(w_mortal.try_next(), Some(TxStatus::Ready));
    assert_eq!(w_next.try_next(), Some(TxStatus::Ready));
    // The runtime cannot answer: revalidation keeps everything, longevity still applies.
    chain.state.lock().failing = true;
    let (b1, _) = chain.import(&[]);
    pool.on_block_imported(b1, &[]);
    assert!(pool.contains(&hash_of(&mortal)));
    assert_eq!(w_mortal.try_next(), None);
    let (b2, _) = chain.import(&[]);
    pool.on_block_imported(b2, &[]);
    assert_eq!(w_mortal.try_next(), Some(TxStatus::Invalid));
    assert!(!pool.contains(&hash_of(&mortal)));
    assert!(pool.is_banned(&hash_of(&mortal)));
    // Its successor waits for nonce 0 again; the immortal one stays.
    assert_eq!(w_next.try_next(), Some(TxStatus::Future));
    assert!(pool.is_ready(&immortal));
    pool.check_consistency();

    // Revalidation refreshes the longevity: 64 blocks from the last validation.
    chain.state.lock().failing = false;
    for _ in 0..70 {
        let (b, _) = chain.import(&[]);
        pool.on_block_imported(b, &[]);
    }
    assert!(pool.is_ready(&immortal));
}

#[test]
fn evicting_a_ready_transaction_demotes_and_evicts_its_dependents() {
    let config = PoolConfig {
        ready: Limit { count: 3, total_bytes: 1 << 20 },
        future: Limit { count: 1, total_bytes: 1 << 20 },
        ..PoolConfig::default()
    };
    let (_, pool) = pool_with(config);
    let mut w0 = pool.submit_and_watch(EXT, &xt(1, 0, 1)).unwrap();
    let mut w1 = pool.submit_and_watch(EXT, &xt(1, 1, 9)).unwrap();
    let mut w2 = pool.submit_and_watch(EXT, &xt(1, 2, 9)).unwrap();
    // A better transaction evicts the worst ready one (sender 1's nonce 0): its two successors
    // fall back to the future queue, which holds one, so the newer of them goes too.
    let best = pool.submit(EXT, &xt(2, 0, 5)).unwrap();
    assert_eq!(w0.try_next(), Some(TxStatus::Ready));
    assert_eq!(w0.try_next(), Some(TxStatus::Dropped));
    assert_eq!(w1.try_next(), Some(TxStatus::Ready));
    assert_eq!(w1.try_next(), Some(TxStatus::Future));
    assert_eq!(w2.try_next(), Some(TxStatus::Ready));
    assert_eq!(w2.try_next(), Some(TxStatus::Dropped));
    assert_eq!(pool.status().ready, 1);
    assert_eq!(pool.status().future, 1);
    assert_eq!(ready_order(&pool), vec![best]);
    pool.check_consistency();
}

#[test]
fn transaction_requiring_several_tags_waits_for_all_and_follows_them() {
    let (_, pool) = pool();
    let joint = script(Script { requires: vec![tag(1, 0), tag(2, 0)], ..Script::new(3, 0, 100) });
    let mut w = pool.submit_and_watch(EXT, &joint).unwrap();
    assert_eq!(w.try_next(), Some(TxStatus::Future));
    let a = pool.submit(EXT, &xt(1, 0, 1)).unwrap();
    assert_eq!(w.try_next(), None);
    let b = pool.submit(EXT, &xt(2, 0, 2)).unwrap();
    assert_eq!(w.try_next(), Some(TxStatus::Ready));
    assert_eq!(ready_order(&pool), vec![b, a, w.hash()]);
    // A yielded provider reported invalid keeps it out of the block.
    let mut iter = pool.ready();
    let first = iter.next().unwrap();
    iter.report_invalid(&first);
    assert_eq!(iter.map(|tx| tx.hash).collect::<Vec<_>>(), vec![a]);
    pool.check_consistency();
}

mod random_histories {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    /// One step of a random pool history.
    #[derive(Debug, Clone)]
    enum Op {
        Submit {
            sender: u8,
            nonce: u32,
            priority: u64,
            salt: u8,
            requires: Vec<u8>,
            provides: Vec<u8>,
            dies_at: Option<u64>,
        },
        /// Removes the pooled transaction at this index (modulo the count) as invalid: among the
        /// ready ones, best first, or among all.
        RemoveInvalid { index: usize, ready: bool },
        /// Imports a block with the first `n` transactions of the ready iterator.
        Block(usize),
    }

    fn extra(id: u8) -> Vec<u8> {
        (b"x".to_vec(), id).encode()
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (
                0u8..4,
                prop_oneof![3 => 0u32..2, 1 => 2u32..4],
                0u64..5,
                0u8..3,
                prop::option::weighted(0.2, 0u8..3),
                prop::option::weighted(0.4, 0u8..3),
                prop::option::weighted(0.15, 1u64..8),
            )
                .prop_map(|(sender, nonce, priority, salt, requires, provides, dies_at)| {
                    let (requires, provides) = (requires.into_iter().collect(), provides.into_iter().collect());
                    Op::Submit { sender, nonce, priority, salt, requires, provides, dies_at }
                }),
            2 => (any::<usize>(), any::<bool>())
                .prop_map(|(index, ready)| Op::RemoveInvalid { index, ready }),
            1 => (0usize..4).prop_map(Op::Block),
        ]
    }

    /// The ready iterator yields the ready set, each transaction after the providers of the
    /// tags it requires.
    fn check_iterator(pool: &Pool) {
        let yielded: Vec<Arc<PoolTransaction>> = pool.ready().collect();
        let ready: HashSet<TxHash> =
            pool.all().iter().filter(|tx| pool.is_ready(&tx.hash)).map(|tx| tx.hash).collect();
        let mut seen_tags: HashSet<Vec<u8>> = HashSet::new();
        for tx in &yielded {
            for tag in &tx.requires {
                assert!(seen_tags.contains(tag), "yielded before what it requires");
            }
            seen_tags.extend(tx.provides.iter().cloned());
        }
        let hashes: HashSet<TxHash> = yielded.iter().map(|tx| tx.hash).collect();
        assert_eq!(hashes.len(), yielded.len(), "yielded twice");
        assert_eq!(hashes, ready);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn incremental_ready_set_equals_the_closure(
            ops in prop::collection::vec(op(), 1..60),
            small_limits in any::<bool>(),
        ) {
            let config = if small_limits {
                PoolConfig {
                    ready: Limit { count: 6, total_bytes: 1 << 20 },
                    future: Limit { count: 3, total_bytes: 1 << 20 },
                    ..PoolConfig::default()
                }
            } else {
                PoolConfig::default()
            };
            let (chain, pool) = pool_with(config.clone());
            for op in ops {
                match op {
                    Op::Submit { sender, nonce, priority, salt, requires, provides, dies_at } => {
                        let data = script(Script {
                            salt,
                            requires: requires.into_iter().map(extra).collect(),
                            provides: provides.into_iter().map(extra).collect(),
                            dies_at,
                            ..Script::new(sender, nonce, priority)
                        });
                        let _ = pool.submit(EXT, &data);
                    }
                    Op::RemoveInvalid { index, ready } => {
                        let candidates: Vec<Arc<PoolTransaction>> =
                            if ready { pool.ready().collect() } else { pool.all() };
                        if !candidates.is_empty() {
                            pool.remove_invalid(&[candidates[index % candidates.len()].hash]);
                        }
                    }
                    Op::Block(n) => {
                        let txs: Vec<Arc<PoolTransaction>> = pool.ready().take(n).collect();
                        let data: Vec<Vec<u8>> = txs.iter().map(|tx| tx.data.clone()).collect();
                        let hashes: Vec<TxHash> = txs.iter().map(|tx| tx.hash).collect();
                        let (block, _) = chain.import(&data);
                        pool.on_block_imported(block, &hashes);
                    }
                }
                pool.check_consistency();
                check_iterator(&pool);
                let status = pool.status();
                prop_assert!(status.ready <= config.ready.count);
                prop_assert!(status.future <= config.future.count);
            }
        }
    }
}
