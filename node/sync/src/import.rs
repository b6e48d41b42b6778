//! Importing downloaded blocks: one worker thread consuming one bounded, ordered queue of
//! batches, and the finality of blocks that come with a justification.

use crate::{status::SyncStatus, wire::BlockData, Chain, JustificationVerifier};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use subtensor_chain::{consensus, ChainError, Hash, ImportOutcome};
use subtensor_network_api::PeerId;
use subtensor_runtime::{BlockNumber, Header};
use tokio::sync::{mpsc, oneshot};

/// Consecutive blocks downloaded from one peer, to import in order.
#[derive(Debug)]
pub(crate) struct ImportBatch {
    /// The peer that sent them (reported if they are invalid).
    pub origin: PeerId,
    /// The blocks, parents first.
    pub blocks: Vec<BlockData>,
    /// Where the outcome goes; a closed receiver means nobody waits any more, and the batch is
    /// skipped.
    pub reply: oneshot::Sender<BatchOutcome>,
}

/// What importing a batch did.
#[derive(Debug)]
pub(crate) enum BatchOutcome {
    /// Every block was imported or already known; the last one's hash and number.
    Done { last: Option<(Hash, BlockNumber)> },
    /// A block's slot is still too far in the future (it waited for it as long as allowed);
    /// the earlier blocks were imported.
    Future {
        /// The early block's number.
        number: BlockNumber,
    },
    /// A block was refused; the earlier ones were imported.
    Failed {
        /// The refused block's number.
        number: BlockNumber,
        /// Why.
        error: ChainError,
    },
}

/// Import one block received from the network and finalize it with its justification when that
/// verifies. Blocking. A failing justification is reported as an `Err` of the inner result,
/// after the block itself was imported.
pub(crate) fn import_one(
    chain: &Chain,
    verifier: &dyn JustificationVerifier,
    status: &SyncStatus,
    data: BlockData,
) -> Result<(ImportOutcome, Result<(), String>), ChainError> {
    let number = data.block.header.number;
    let outcome = chain.import_block(data.block)?;
    let hash = match outcome {
        ImportOutcome::Imported { hash, .. } => {
            status.count_imported();
            hash
        }
        ImportOutcome::AlreadyKnown(hash) => hash,
    };
    let finality = match data.justification {
        Some(justification) => finalize(chain, verifier, hash, number, justification),
        None => Ok(()),
    };
    Ok((outcome, finality))
}

/// Verify `justification` for block `hash` #`number` and finalize the block with it (a block
/// at or below our finalized one is left alone).
fn finalize(
    chain: &Chain,
    verifier: &dyn JustificationVerifier,
    hash: Hash,
    number: BlockNumber,
    justification: Vec<u8>,
) -> Result<(), String> {
    if number <= chain.info().finalized_number {
        return Ok(());
    }
    verifier.verify(hash, number, &justification)?;
    match chain.finalize(hash, Some(justification)) {
        Ok(()) => {
            log::debug!(target: "sync", "finalized #{number} {hash:?} with a justification");
            Ok(())
        }
        Err(e) => {
            // A valid justification for a block we cannot finalize (another fork got finalized
            // meanwhile): not the peer's fault.
            log::warn!(target: "sync", "cannot finalize #{number} {hash:?}: {e}");
            Ok(())
        }
    }
}

/// How the worker tells time: the clock and the slot duration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotClock {
    /// Milliseconds since the Unix epoch.
    pub now_ms: fn() -> u64,
    /// Milliseconds per slot.
    pub slot_duration_ms: u64,
}

/// How often the worker looks at the clock while a block waits for its slot.
const FUTURE_POLL: Duration = Duration::from_millis(50);

impl SlotClock {
    /// Wait (blocking) until `header`'s slot is close enough to import it, at most two slots;
    /// false if it is still too early then.
    fn wait_for_slot(&self, header: &Header) -> bool {
        let max_wait = Duration::from_millis(self.slot_duration_ms.saturating_mul(2));
        let start = Instant::now();
        loop {
            match consensus::is_future(header, self.slot_duration_ms, (self.now_ms)()) {
                // A bad digest is the import's business.
                Ok(false) | Err(_) => return true,
                Ok(true) if start.elapsed() >= max_wait => return false,
                Ok(true) => std::thread::sleep(FUTURE_POLL),
            }
        }
    }
}

/// The worker: import batches in queue order until every sender is gone.
pub(crate) fn run_worker(
    chain: Chain,
    verifier: Arc<dyn JustificationVerifier>,
    status: SyncStatus,
    network: Arc<dyn subtensor_network_api::NetworkService>,
    clock: SlotClock,
    mut queue: mpsc::Receiver<ImportBatch>,
) {
    while let Some(batch) = queue.blocking_recv() {
        if batch.reply.is_closed() {
            continue;
        }
        let mut last = None;
        let mut failure = None;
        let mut early = None;
        for data in batch.blocks {
            let number = data.block.header.number;
            if !clock.wait_for_slot(&data.block.header) {
                early = Some(number);
                break;
            }
            match import_one(&chain, verifier.as_ref(), &status, data) {
                Ok((outcome, finality)) => {
                    let hash = match outcome {
                        ImportOutcome::Imported { hash, .. }
                        | ImportOutcome::AlreadyKnown(hash) => hash,
                    };
                    last = Some((hash, number));
                    if let Err(why) = finality {
                        log::debug!(
                            target: "sync",
                            "bad justification of #{number} from {}: {why}",
                            batch.origin
                        );
                        network.report(
                            batch.origin.clone(),
                            subtensor_network_api::Misbehaviour::InvalidFinality(why),
                        );
                    }
                }
                Err(error) => {
                    failure = Some((number, error));
                    break;
                }
            }
        }
        let outcome = match (failure, early) {
            (Some((number, error)), _) => BatchOutcome::Failed { number, error },
            (None, Some(number)) => BatchOutcome::Future { number },
            (None, None) => BatchOutcome::Done { last },
        };
        // Nobody waiting is fine: the sync job was cancelled.
        let _ = batch.reply.send(outcome);
    }
    log::debug!(target: "sync", "import worker stopped");
}
