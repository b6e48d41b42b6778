//! Building and verifying GRANDPA justifications (`GrandpaJustification<Header>`, Substrate's
//! format): a round, a commit (target and signed precommits) and the headers linking every
//! precommit target to the commit target.

use crate::{
    chain::{ancestry, FinalityChain},
    config::voter_set,
    wire::decode_all,
    Error, Header,
};
use finality_grandpa::{voter_set::VoterSet, Chain, Message};
use sp_consensus_grandpa::{
    check_message_signature, AuthorityId, Commit, GrandpaJustification, SetId,
};
use sp_core::H256;
use sp_runtime::traits::Header as _;
use std::collections::{BTreeMap, BTreeSet};

/// Build the justification of `commit` made in `round`, with the headers between each
/// precommit target and the commit target from `chain`.
pub(crate) fn build_justification(
    chain: &dyn FinalityChain,
    round: u64,
    commit: Commit<Header>,
) -> Result<GrandpaJustification<Header>, Error> {
    let mut seen = BTreeSet::new();
    let mut votes_ancestries = Vec::new();
    for signed in &commit.precommits {
        let target = signed.precommit.target_hash;
        if target == commit.target_hash || seen.contains(&target) {
            continue;
        }
        let route = ancestry(chain, commit.target_hash, target).ok_or_else(|| {
            Error::Chain(format!(
                "precommit target {target:?} does not descend from commit target {:?}",
                commit.target_hash
            ))
        })?;
        for hash in std::iter::once(target).chain(route) {
            if seen.insert(hash) {
                let header = chain
                    .header(hash)
                    .ok_or_else(|| Error::Chain(format!("unknown header {hash:?}")))?;
                votes_ancestries.push(header);
            }
        }
    }
    Ok(GrandpaJustification { round, commit, votes_ancestries })
}

/// The chain given by a justification's `votes_ancestries`.
struct AncestryChain {
    headers: BTreeMap<H256, Header>,
}

impl AncestryChain {
    fn route(&self, base: H256, block: H256) -> Option<Vec<H256>> {
        let mut route = Vec::new();
        let mut current = block;
        loop {
            if current == base {
                // `route` ends with `base`: drop it.
                route.pop();
                return Some(route);
            }
            let header = self.headers.get(&current)?;
            current = *header.parent_hash();
            route.push(current);
        }
    }
}

impl Chain<H256, u32> for AncestryChain {
    fn ancestry(&self, base: H256, block: H256) -> Result<Vec<H256>, finality_grandpa::Error> {
        self.route(base, block).ok_or(finality_grandpa::Error::NotDescendent)
    }
}

/// Verify an encoded justification for block `target` (hash, number) against the authority
/// set `set_id` with `authorities`, and return it decoded.
///
/// Checks, in Substrate's way: it decodes completely; the commit targets `target`; every
/// precommit is signed by a member of the set with a valid signature over
/// `localized_payload(round, set_id, Precommit)`; every precommit target is the commit target
/// or descends from it through `votes_ancestries`, and every ancestry header is used; the
/// signers' distinct weight reaches the threshold (more than 2/3) and the commit target is the
/// precommit-GHOST of the commit.
pub fn verify_justification(
    encoded: &[u8],
    target: (H256, u32),
    set_id: SetId,
    authorities: &[(AuthorityId, u64)],
) -> Result<GrandpaJustification<Header>, Error> {
    let justification: GrandpaJustification<Header> = decode_all(encoded)?;
    let voters = voter_set(authorities)?;
    verify_decoded(&justification, target, set_id, &voters)?;
    Ok(justification)
}

/// [`verify_justification`] on a decoded justification and a `VoterSet`.
pub(crate) fn verify_decoded(
    justification: &GrandpaJustification<Header>,
    target: (H256, u32),
    set_id: SetId,
    voters: &VoterSet<AuthorityId>,
) -> Result<(), Error> {
    let bad = |why: String| Err(Error::InvalidJustification(why));
    let commit = &justification.commit;
    if (commit.target_hash, commit.target_number) != target {
        return bad(format!(
            "commit targets #{} {:?}, expected #{} {:?}",
            commit.target_number, commit.target_hash, target.1, target.0
        ));
    }

    let mut headers = BTreeMap::new();
    for header in &justification.votes_ancestries {
        if headers.insert(header.hash(), header.clone()).is_some() {
            return bad(format!("duplicate ancestry header {:?}", header.hash()));
        }
    }
    let chain = AncestryChain { headers };

    let mut used = BTreeSet::new();
    let mut signers = BTreeSet::new();
    let mut weight = 0u64;
    for signed in &commit.precommits {
        let Some(info) = voters.get(&signed.id) else {
            return bad(format!("precommit by {} who is not in the set", signed.id));
        };
        let message = Message::Precommit(signed.precommit.clone());
        if !check_message_signature(
            &message,
            &signed.id,
            &signed.signature,
            justification.round,
            set_id,
        )
        .is_valid()
        {
            return bad(format!("bad signature on the precommit of {}", signed.id));
        }
        let precommit_target = signed.precommit.target_hash;
        if precommit_target != commit.target_hash {
            let Some(route) = chain.route(commit.target_hash, precommit_target) else {
                return bad(format!(
                    "precommit target {precommit_target:?} does not descend from the commit target"
                ));
            };
            match chain.headers.get(&precommit_target) {
                Some(header) if *header.number() == signed.precommit.target_number => {}
                _ => {
                    return bad(format!("precommit target {precommit_target:?} has a wrong number"))
                }
            }
            used.insert(precommit_target);
            used.extend(route);
        } else if signed.precommit.target_number != commit.target_number {
            return bad("precommit for the target with a wrong number".into());
        }
        if signers.insert(signed.id.clone()) {
            weight = weight.saturating_add(info.weight().get());
        }
    }

    if used.len() != chain.headers.len() {
        return bad(format!(
            "{} of {} ancestry headers are not needed by any precommit",
            chain.headers.len().saturating_sub(used.len()),
            chain.headers.len()
        ));
    }
    if weight < voters.threshold().get() {
        return bad(format!(
            "precommit weight {weight} is below the threshold {}",
            voters.threshold().get()
        ));
    }
    let result = finality_grandpa::validate_commit(commit, voters, &chain)
        .map_err(|e| Error::InvalidJustification(format!("commit validation: {e}")))?;
    if !result.is_valid() {
        return bad("the commit target is not the precommit-GHOST of its precommits".into());
    }
    Ok(())
}

/// The justification a chain with a single GRANDPA authority finalizes its blocks with: the
/// authority's precommit for `(hash, number)` in round `round` of set `set_id`, signed with
/// `pair` — a complete GRANDPA justification for a one-voter set (its weight is the whole
/// set's), so full nodes verify it with [`verify_justification`] like any other.
pub fn single_authority_justification(
    pair: &sp_core::ed25519::Pair,
    set_id: SetId,
    round: u64,
    hash: H256,
    number: u32,
) -> Vec<u8> {
    use codec::Encode;
    use sp_core::Pair as _;
    let precommit = finality_grandpa::Precommit { target_hash: hash, target_number: number };
    let payload = sp_consensus_grandpa::localized_payload(
        round,
        set_id,
        &Message::<H256, u32>::Precommit(precommit.clone()),
    );
    let signature = sp_consensus_grandpa::AuthoritySignature::from(pair.sign(&payload));
    let signed = finality_grandpa::SignedPrecommit {
        precommit,
        signature,
        id: AuthorityId::from(pair.public()),
    };
    let commit =
        Commit::<Header> { target_hash: hash, target_number: number, precommits: vec![signed] };
    GrandpaJustification::<Header> { round, commit, votes_ancestries: Vec::new() }.encode()
}
