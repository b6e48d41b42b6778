//! What the node (RPC, sync) uses of a running gadget.

use crate::{shared::Shared, wire::FinalityProof};
use codec::Encode;
use finality_grandpa::voter::report;
use serde_json::{json, Value};
use sp_consensus_grandpa::{AuthorityId, AuthorityList, RoundNumber, SetId};
use sp_core::crypto::Ss58Codec;
use std::{collections::HashSet, sync::Arc};
use tokio::sync::broadcast;

/// A handle on a running GRANDPA gadget.
pub struct FinalityHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FinalityHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FinalityHandle")
            .field("set_id", &self.set_id())
            .field("voter", &self.local_id())
            .finish()
    }
}

impl FinalityHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        FinalityHandle { shared }
    }

    /// The authority set id.
    pub fn set_id(&self) -> SetId {
        self.shared.set_id()
    }

    /// The authorities of the set and their weights.
    pub fn authorities(&self) -> &AuthorityList {
        &self.shared.config.authority_set.authorities
    }

    /// Our authority id when we vote (a key in the set); `None` for an observer.
    pub fn local_id(&self) -> Option<AuthorityId> {
        self.shared.local.as_ref().map(|local| local.id.clone())
    }

    /// The voter's current round.
    pub fn current_round(&self) -> RoundNumber {
        self.shared.router.lock().current_round()
    }

    /// The voter's rounds in the shape of Substrate's `grandpa_roundState` RPC result:
    /// `{setId, best: {round, totalWeight, thresholdWeight, prevotes: {currentWeight, missing:
    /// [ss58…]}, precommits: {…}}, background: [same as best…]}` (numbers as JSON numbers,
    /// authorities as SS58 text with the default prefix). `None` while no voter runs (between
    /// a voter error and its restart).
    pub fn round_state(&self) -> Option<Value> {
        let state = self.shared.voter_state.lock().as_ref()?.get();
        let authorities: Vec<&AuthorityId> = self.authorities().iter().map(|(id, _)| id).collect();
        let round = |number: u64, state: &report::RoundState<AuthorityId>| {
            let missing = |ids: &HashSet<AuthorityId>| -> Vec<String> {
                authorities
                    .iter()
                    .filter(|id| !ids.contains(*id))
                    .map(|id| sp_core::ed25519::Public::from((*id).clone()).to_ss58check())
                    .collect()
            };
            json!({
                "round": number,
                "totalWeight": state.total_weight.get(),
                "thresholdWeight": state.threshold_weight.get(),
                "prevotes": {
                    "currentWeight": state.prevote_current_weight.0,
                    "missing": missing(&state.prevote_ids),
                },
                "precommits": {
                    "currentWeight": state.precommit_current_weight.0,
                    "missing": missing(&state.precommit_ids),
                },
            })
        };
        let mut background: Vec<_> = state.background_rounds.iter().collect();
        background.sort_by_key(|(number, _)| **number);
        Some(json!({
            "setId": self.set_id(),
            "best": round(state.best_round.0, &state.best_round.1),
            "background": background
                .into_iter()
                .map(|(number, state)| round(*number, state))
                .collect::<Vec<_>>(),
        }))
    }

    /// The encoded justifications (`GrandpaJustification<Header>`) of the blocks this gadget
    /// finalizes from now on (for `grandpa_subscribeJustifications`).
    pub fn justifications(&self) -> broadcast::Receiver<Vec<u8>> {
        self.shared.justifications.subscribe()
    }

    /// A SCALE-encoded [`FinalityProof`] for the finalized block `number`: the justification of
    /// the first block at or after it (on the finalized chain) that has one, with the headers
    /// after `number` up to that block (`grandpa_proveFinality`). `None` when `number` is not
    /// finalized or no justification is stored at or after it.
    pub fn prove_finality(&self, number: u32) -> Option<Vec<u8>> {
        let chain = &*self.shared.chain;
        let (_, finalized) = chain.finalized();
        if number > finalized {
            return None;
        }
        let mut headers = Vec::new();
        for n in number..=finalized {
            let hash = chain.canonical_hash(n)?;
            if n > number {
                headers.push(chain.header(hash)?);
            }
            if let Some(justification) = chain.justification(hash) {
                let proof = FinalityProof { block: hash, justification, unknown_headers: headers };
                return Some(proof.encode());
            }
        }
        None
    }
}
