//! Block building: the block-builder runtime entry points over an overlay on the parent state.
//!
//! 1. `Core_initialize_block` with a header carrying the Aura pre-runtime digest of the slot;
//! 2. `BlockBuilder_inherent_extrinsics` with the timestamp inherent data (`timstap0` → u64
//!    milliseconds), each inherent applied with `BlockBuilder_apply_extrinsic`;
//! 3. each candidate applied in its own overlay transaction: `Ok(_)` commits it (also when the
//!    dispatch failed: it paid its fee), `Err(validity)` or a runtime panic rolls it back and
//!    reports it, `ExhaustsResources` ends the block (that candidate and all later ones are
//!    left for a later block), and so does a deadline (the candidates not yet applied when it
//!    passes are left for a later block);
//! 4. `BlockBuilder_finalize_block` gives the header with the real state and extrinsics roots.
//!
//! The overlay's trie changes are kept so that importing the sealed block needs no second
//! execution.

use super::{Client, Prepared, PREPARED_CAPACITY};
use crate::{
    api::{BuiltBlock, ChainApi, ChainError, ChainResult, Hash, PANICKED_EXTRINSIC},
    consensus,
    executor::{self, Overlay},
    state::{state_version, NodeChanges, State},
};
use codec::Encode;
use sp_inherents::InherentData;
use sp_runtime::{
    traits::Header as HeaderT,
    transaction_validity::{InvalidTransaction, TransactionValidityError},
    ApplyExtrinsicResult, Digest,
};
use subtensor_runtime::{Block, Header, UncheckedExtrinsic};

/// What happened to one candidate.
enum Applied {
    Included,
    Rejected(TransactionValidityError),
    BlockFull,
}

/// Apply `xt` in its own overlay transaction.
fn apply_candidate(state: &State, overlay: &mut Overlay, xt: &UncheckedExtrinsic) -> Applied {
    overlay.start_transaction();
    let result: ChainResult<ApplyExtrinsicResult> =
        executor::call_decode(state, overlay, "BlockBuilder_apply_extrinsic", &xt.encode());
    let outcome = match result {
        Ok(Ok(_)) => Applied::Included,
        Ok(Err(TransactionValidityError::Invalid(InvalidTransaction::ExhaustsResources))) => {
            Applied::BlockFull
        }
        Ok(Err(e)) => Applied::Rejected(e),
        Err(e) => {
            log::warn!(target: "chain", "dropping an extrinsic that broke the runtime: {e}");
            Applied::Rejected(PANICKED_EXTRINSIC)
        }
    };
    let closed = match outcome {
        Applied::Included => overlay.commit_transaction(),
        _ => overlay.rollback_transaction(),
    };
    if closed.is_err() {
        log::error!(target: "chain", "overlay transaction already closed");
    }
    outcome
}

/// See [`crate::ChainWrite::build_block`].
pub(super) fn build_block(
    client: &Client,
    parent_hash: Hash,
    timestamp_ms: u64,
    candidates: &[UncheckedExtrinsic],
    deadline: Option<std::time::Instant>,
) -> ChainResult<BuiltBlock> {
    let parent = client.header(parent_hash)?.ok_or(ChainError::UnknownParent(parent_hash))?;
    let slot = consensus::slot_at(timestamp_ms, client.config.slot_duration_ms);
    // Genesis counts as slot 0.
    let parent_slot = consensus::slot_of(&parent)?.unwrap_or(0);
    if slot <= parent_slot {
        return Err(ChainError::InvalidBlock(format!(
            "slot {slot} of timestamp {timestamp_ms} does not exceed the parent's slot \
             {parent_slot}"
        )));
    }
    let state = client.state_of(parent_hash, &parent, true)?;
    let mut overlay = Overlay::default();

    let number = parent
        .number
        .checked_add(1)
        .ok_or_else(|| ChainError::InvalidBlock("block number overflow".into()))?;
    let pre_header = Header::new(
        number,
        Default::default(),
        Default::default(),
        parent_hash,
        Digest { logs: vec![consensus::pre_digest(slot)] },
    );
    executor::call(&state, &mut overlay, "Core_initialize_block", &pre_header.encode())?;

    let mut data = InherentData::new();
    data.put_data(consensus::TIMESTAMP_INHERENT, &timestamp_ms)
        .map_err(|e| ChainError::Execution(format!("inherent data: {e}")))?;
    let inherents: Vec<UncheckedExtrinsic> = executor::call_decode(
        &state,
        &mut overlay,
        "BlockBuilder_inherent_extrinsics",
        &data.encode(),
    )?;
    let mut extrinsics = Vec::with_capacity(inherents.len().saturating_add(candidates.len()));
    for xt in inherents {
        let result: ApplyExtrinsicResult = executor::call_decode(
            &state,
            &mut overlay,
            "BlockBuilder_apply_extrinsic",
            &xt.encode(),
        )?;
        if result != Ok(Ok(())) {
            return Err(ChainError::Execution(format!("an inherent failed: {result:?}")));
        }
        extrinsics.push(xt);
    }

    let mut included = Vec::new();
    let mut rejected = Vec::new();
    let mut not_included = Vec::new();
    for (index, xt) in candidates.iter().enumerate() {
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            log::debug!(
                target: "chain",
                "block #{number}: building deadline reached, {} candidates left for later",
                candidates.len().saturating_sub(index)
            );
            not_included.extend(index..candidates.len());
            break;
        }
        match apply_candidate(&state, &mut overlay, xt) {
            Applied::Included => {
                included.push(index);
                extrinsics.push(xt.clone());
            }
            Applied::Rejected(e) => rejected.push((index, e)),
            Applied::BlockFull => {
                not_included.extend(index..candidates.len());
                break;
            }
        }
    }

    let header: Header =
        executor::call_decode(&state, &mut overlay, "BlockBuilder_finalize_block", &[])?;
    let changes = overlay
        .drain_storage_changes(&state, state_version())
        .map_err(|e| ChainError::Execution(format!("collecting state changes: {e}")))?;
    if changes.transaction_storage_root != header.state_root {
        return Err(ChainError::Execution(format!(
            "the runtime reported state root {:?}, the trie gives {:?}",
            header.state_root, changes.transaction_storage_root
        )));
    }
    let prepared = Prepared {
        pre_hash: header.hash(),
        changes: NodeChanges::from_transaction(changes.transaction),
    };
    {
        let mut cache = client.prepared.lock();
        cache.retain(|p| p.pre_hash != prepared.pre_hash);
        if cache.len() >= PREPARED_CAPACITY {
            cache.pop_front();
        }
        cache.push_back(prepared);
    }
    log::debug!(
        target: "chain",
        "built #{number} on {parent_hash:?}: {} included, {} rejected, {} left out",
        included.len(),
        rejected.len(),
        not_included.len()
    );
    Ok(BuiltBlock { block: Block { header, extrinsics }, included, rejected, not_included })
}
