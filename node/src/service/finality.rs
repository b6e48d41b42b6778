//! GRANDPA in the node: the chain engine seen as [`FinalityChain`], the justification check
//! the sync uses, and the view the RPC server gets.

use std::sync::Arc;
use subtensor_chain::{ChainApi, ChainEvent, ChainWrite, Client, Hash};
use subtensor_finality::{AuthorityId, AuthoritySet, FinalityChain, FinalityHandle};
use subtensor_runtime::{BlockNumber, Header};
use tokio::sync::broadcast;

/// How many import notifications may queue for the voter.
const IMPORTED_CAPACITY: usize = 1024;

/// The chain engine as GRANDPA sees it.
pub struct EngineChain {
    client: Arc<Client>,
    imported: broadcast::Sender<(Hash, BlockNumber)>,
}

impl EngineChain {
    /// Wrap `client`; spawns the task that turns its import events into notifications (must
    /// run within a tokio runtime).
    pub fn new(client: Arc<Client>) -> Arc<Self> {
        let (imported, _) = broadcast::channel(IMPORTED_CAPACITY);
        let sender = imported.clone();
        let mut events = client.subscribe();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(ChainEvent::Imported { hash, header }) => {
                        let _ = sender.send((hash, header.number));
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Arc::new(Self { client, imported })
    }
}

impl FinalityChain for EngineChain {
    fn header(&self, hash: Hash) -> Option<Header> {
        self.client.header(hash).ok().flatten()
    }

    fn canonical_hash(&self, number: u32) -> Option<Hash> {
        self.client.hash(number).ok().flatten()
    }

    fn best(&self) -> (Hash, u32) {
        let info = self.client.info();
        (info.best_hash, info.best_number)
    }

    fn finalized(&self) -> (Hash, u32) {
        let info = self.client.info();
        (info.finalized_hash, info.finalized_number)
    }

    fn best_chain_containing(&self, base: Hash) -> Option<(Hash, u32)> {
        if let Some(best) = self.client.best_containing(base) {
            return Some(best);
        }
        // A finalized ancestor of the last finalized block: the best chain contains it.
        let header = self.client.header(base).ok().flatten()?;
        (self.client.hash(header.number).ok().flatten() == Some(base)).then(|| self.best())
    }

    fn finalize(&self, hash: Hash, justification: Vec<u8>) -> Result<(), String> {
        self.client.finalize(hash, Some(justification)).map_err(|e| e.to_string())
    }

    fn justification(&self, hash: Hash) -> Option<Vec<u8>> {
        self.client.justification(hash).ok().flatten()
    }

    fn aux_get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.client.aux(key).ok().flatten()
    }

    fn aux_put(&self, key: &[u8], value: &[u8]) -> Result<(), String> {
        self.client.set_aux(&[(key, Some(value))]).map_err(|e| e.to_string())
    }

    fn imported(&self) -> broadcast::Receiver<(Hash, u32)> {
        self.imported.subscribe()
    }
}

/// Checks justifications received with blocks against the authority set.
pub struct GrandpaVerifier {
    /// The set.
    pub set: AuthoritySet,
}

impl subtensor_sync::JustificationVerifier for GrandpaVerifier {
    fn verify(&self, hash: Hash, number: BlockNumber, justification: &[u8]) -> Result<(), String> {
        subtensor_finality::verify_justification(
            justification,
            (hash, number),
            self.set.set_id,
            &self.set.authorities,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }
}

/// A justification check for chains without GRANDPA (a single authority that finalizes its
/// own blocks): nothing received is trusted as final.
pub struct NoFinality;

impl subtensor_sync::JustificationVerifier for NoFinality {
    fn verify(&self, _: Hash, _: BlockNumber, _: &[u8]) -> Result<(), String> {
        Err("this chain has no finality gadget".into())
    }
}

/// The `grandpa_*` RPC view.
pub struct GrandpaRpc(pub Arc<FinalityHandle>);

impl subtensor_rpc::GrandpaRpcApi for GrandpaRpc {
    fn round_state(&self) -> Result<serde_json::Value, String> {
        self.0.round_state().ok_or_else(|| "GRANDPA has not started a round yet".to_string())
    }

    fn prove_finality(&self, number: u32) -> Result<Option<Vec<u8>>, String> {
        Ok(self.0.prove_finality(number))
    }

    fn justifications(&self) -> broadcast::Receiver<Vec<u8>> {
        self.0.justifications()
    }
}

/// The GRANDPA authority set of the chain spec's authorities (equal weights, set 0).
pub fn authority_set(grandpa_keys: &[sp_core::ed25519::Public]) -> AuthoritySet {
    AuthoritySet::genesis(grandpa_keys.iter().map(|key| (AuthorityId::from(*key), 1u64)).collect())
}
