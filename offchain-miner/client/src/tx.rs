//! Submission of signed extrinsics: nonces, inclusion and finality, and the outcome read back
//! from the block's events.
//!
//! Extrinsics are the runtime's own [`UncheckedExtrinsic`], signed by the runtime's
//! `signing::sign_extrinsic` (its `SignedPayload` and `TxExtension`): mortal for 64 blocks from
//! the best block, no tip, no metadata hash. Its outcome is decided from `System.Events` of the
//! including block: `ExtrinsicFailed` becomes the decoded pallet error, and a `Sudo.Sudid` with
//! an error becomes that error too. A fee-free subtensor call that would fail is refused by the
//! node before inclusion; that refusal becomes the same pallet error.

use crate::{
    metadata::{dispatch_error, refused_call_error},
    Client, ClientError, Result,
};
use codec::{Decode, Encode};
use frame_system::{EventRecord, Phase};
use serde_json::Value;
use sp_core::{sr25519, Pair, H256};
use sp_runtime::generic::Era;
use std::time::Duration;
use subtensor_runtime::{
    signing::{sign_extrinsic, SigningContext},
    AccountId, Balance, BlockNumber, Nonce, RuntimeCall, RuntimeEvent, UncheckedExtrinsic,
};

/// How many blocks a signed extrinsic stays valid.
pub const ERA_PERIOD: u64 = 64;

/// What to wait for after submitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Until the transaction is in a best block.
    Inclusion,
    /// Until its block is finalized.
    Finalization,
}

/// An included, successful transaction.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// The block that includes it.
    pub block_hash: H256,
    /// That block's number.
    pub block_number: BlockNumber,
    /// The extrinsic's index in the block.
    pub index: u32,
    /// The extrinsic's hash.
    pub extrinsic_hash: H256,
    /// The events it emitted, in order.
    pub events: Vec<RuntimeEvent>,
    /// The fee it paid (rao).
    pub fee: Balance,
}

impl Receipt {
    /// The first event `pick` accepts.
    pub fn find<T>(&self, pick: impl FnMut(&RuntimeEvent) -> Option<T>) -> Option<T> {
        self.events.iter().find_map(pick)
    }
}

impl Client {
    /// The nonce for `account`'s next transaction: the node's (which counts its pool), or one
    /// past the last this client used, whichever is higher.
    async fn next_nonce(&self, account: &AccountId) -> Result<Nonce> {
        let ss58 = subtensor_wallet::ss58(account);
        let node = self.rpc.next_index(&ss58).await?;
        let ours = self.nonces.lock().map(|m| m.get(account).copied()).unwrap_or_default();
        Ok(ours.map_or(node, |n| n.max(node)))
    }

    fn used_nonce(&self, account: &AccountId, nonce: Nonce) {
        if let Ok(mut m) = self.nonces.lock() {
            m.insert(account.clone(), nonce.saturating_add(1));
        }
    }

    /// Signs `call` by `signer`, submits it and waits (at most `timeout`) for `wait`. Returns
    /// the receipt of a successful call, or the call's decoded error.
    pub async fn submit(
        &self,
        call: RuntimeCall,
        signer: &sr25519::Pair,
        wait: Wait,
        timeout: Duration,
    ) -> Result<Receipt> {
        let account = AccountId::from(signer.public());
        let nonce = self.next_nonce(&account).await?;
        let (birth_number, birth_hash) = self.best_block().await?;
        let context = SigningContext {
            genesis_hash: self.genesis,
            era: Era::mortal(ERA_PERIOD, u64::from(birth_number)),
            era_block_hash: birth_hash,
        };
        let encoded = sign_extrinsic(signer, call.clone(), nonce, 0, &context).encode();
        let mut updates = self
            .rpc
            .submit_and_watch(&encoded)
            .await
            .map_err(|refusal| refused_call_error(&call, refusal))?;
        self.used_nonce(&account, nonce);
        let waiting = match wait {
            Wait::Inclusion => "inclusion",
            Wait::Finalization => "finalization",
        };
        let block_hash = tokio::time::timeout(timeout, async {
            while let Some(update) = updates.next().await {
                let update = update.map_err(|e| ClientError::decode("a status update", e))?;
                if let Some(hash) = final_block(&update, wait)? {
                    return Ok(hash);
                }
            }
            Err(ClientError::NotIncluded("the node closed the status subscription".into()))
        })
        .await
        .map_err(|_| ClientError::Timeout { what: waiting.into(), seconds: timeout.as_secs() })??;
        self.receipt(block_hash, &encoded).await
    }

    /// Finds the extrinsic `encoded` in block `block_hash` and reads its outcome.
    async fn receipt(&self, block_hash: H256, encoded: &[u8]) -> Result<Receipt> {
        let block = self
            .rpc
            .block(block_hash)
            .await?
            .ok_or_else(|| ClientError::NotFound(format!("block {block_hash:?}")))?;
        let index = block
            .extrinsics
            .iter()
            .position(|xt| xt.0 == encoded)
            .ok_or_else(|| ClientError::NotFound("the extrinsic in its block".into()))?;
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        // `System.Events` (a private storage item of frame-system, so by its name).
        let key = frame_support::storage::storage_prefix(b"System", b"Events");
        let records: Vec<EventRecord<RuntimeEvent, H256>> =
            self.storage_raw(&key, Some(block_hash)).await?.unwrap_or_default();
        let events: Vec<RuntimeEvent> = records
            .into_iter()
            .filter(|r| r.phase == Phase::ApplyExtrinsic(index))
            .map(|r| r.event)
            .collect();
        for event in &events {
            match event {
                RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
                    dispatch_error: e,
                    ..
                }) => return Err(dispatch_error(*e)),
                RuntimeEvent::Sudo(pallet_sudo::Event::Sudid { sudo_result: Err(e) }) => {
                    return Err(dispatch_error(*e))
                }
                _ => {}
            }
        }
        let fee = events
            .iter()
            .find_map(|e| match e {
                RuntimeEvent::TransactionPayment(
                    pallet_transaction_payment::Event::TransactionFeePaid { actual_fee, .. },
                ) => Some(*actual_fee),
                _ => None,
            })
            .unwrap_or(0);
        Ok(Receipt {
            block_hash,
            block_number: block.header.number,
            index,
            extrinsic_hash: H256(sp_crypto_hashing::blake2_256(encoded)),
            events,
            fee,
        })
    }
}

/// The block hash a status update ends the wait with, `None` to keep waiting, or an error for
/// a status that means the transaction will not be included.
fn final_block(update: &Value, wait: Wait) -> Result<Option<H256>> {
    let hash = |v: &Value| -> Result<H256> {
        serde_json::from_value(v.clone()).map_err(|e| ClientError::decode("a block hash", e))
    };
    match update {
        Value::String(s) => match s.as_str() {
            "future" | "ready" | "broadcast" => Ok(None),
            other => Err(ClientError::NotIncluded(other.to_owned())),
        },
        Value::Object(map) => {
            if let Some(h) = map.get("inBlock") {
                return if wait == Wait::Inclusion { hash(h).map(Some) } else { Ok(None) };
            }
            if let Some(h) = map.get("finalized") {
                return hash(h).map(Some);
            }
            if map.contains_key("retracted") || map.contains_key("broadcast") {
                return Ok(None);
            }
            Err(ClientError::NotIncluded(update.to_string()))
        }
        _ => Err(ClientError::NotIncluded(update.to_string())),
    }
}

/// Decodes an extrinsic as the runtime does (used by tests and tools that inspect blocks).
pub fn decode_extrinsic(bytes: &[u8]) -> Result<UncheckedExtrinsic> {
    UncheckedExtrinsic::decode(&mut &bytes[..]).map_err(|e| ClientError::decode("an extrinsic", e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;
    use sp_runtime::traits::Checkable;
    use subtensor_runtime::Runtime;

    #[test]
    fn statuses_end_the_wait_as_asked() {
        let h = format!("{:?}", H256::repeat_byte(7));
        assert_eq!(final_block(&json!("ready"), Wait::Inclusion).unwrap(), None);
        assert_eq!(
            final_block(&json!({ "inBlock": h }), Wait::Inclusion).unwrap(),
            Some(H256::repeat_byte(7))
        );
        assert_eq!(final_block(&json!({ "inBlock": h }), Wait::Finalization).unwrap(), None);
        assert!(final_block(&json!({ "finalized": h }), Wait::Finalization).unwrap().is_some());
        assert!(final_block(&json!("dropped"), Wait::Inclusion).is_err());
        assert!(final_block(&json!({ "usurped": h }), Wait::Inclusion).is_err());
    }

    #[test]
    fn submitted_extrinsics_decode_and_verify_with_the_runtime_types() {
        let alice = sr25519::Pair::from_string("//Alice", None).unwrap();
        let context = SigningContext {
            genesis_hash: H256::repeat_byte(1),
            era: Era::mortal(ERA_PERIOD, 100),
            era_block_hash: H256::repeat_byte(2),
        };
        let call = crate::calls::transfer(AccountId::from([9u8; 32]), 5);
        let xt = sign_extrinsic(&alice, call.clone(), 3, 0, &context);
        let decoded = decode_extrinsic(&xt.encode()).unwrap();
        assert_eq!(decoded.function, call);
        // The chain checks the signature against its genesis and birth-block hashes.
        let mut ext = sp_io::TestExternalities::default();
        ext.execute_with(|| {
            frame_system::BlockHash::<Runtime>::insert(0, context.genesis_hash);
            frame_system::BlockHash::<Runtime>::insert(100, context.era_block_hash);
            frame_system::Pallet::<Runtime>::set_block_number(110);
            let lookup = frame_system::ChainContext::<Runtime>::default();
            assert!(decoded.check(&lookup).is_ok());
            let other = SigningContext { genesis_hash: H256::repeat_byte(3), ..context };
            let bad = sign_extrinsic(&alice, call, 3, 0, &other);
            assert!(bad.check(&lookup).is_err());
        });
    }
}
