//! `verify_justification` on hand-made justifications: valid ones pass, tampered ones fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

mod common;

use codec::Encode;
use common::{id, id_of, key};
use finality_grandpa::{Commit, Message, Precommit, SignedPrecommit};
use sp_consensus_grandpa::{localized_payload, AuthoritySignature, GrandpaJustification};
use sp_core::{ed25519, Pair as _};
use subtensor_finality::{
    test_utils::{header_on, InMemoryChain},
    verify_justification, AuthorityList, Error, Header,
};

const ROUND: u64 = 3;

fn authorities() -> AuthorityList {
    (0..4).map(|i| (id(&key(i)), 1)).collect()
}

fn precommit(
    pair: &ed25519::Pair,
    round: u64,
    set_id: u64,
    target: &Header,
) -> SignedPrecommit<sp_core::H256, u32, AuthoritySignature, sp_consensus_grandpa::AuthorityId> {
    let (hash, number) = id_of(target);
    let precommit = Precommit { target_hash: hash, target_number: number };
    let payload =
        localized_payload(round, set_id, &Message::<_, u32>::Precommit(precommit.clone()));
    SignedPrecommit {
        precommit,
        signature: AuthoritySignature::from(pair.sign(&payload)),
        id: id(pair),
    }
}

/// Blocks 1..=7; three voters precommit block 5, the fourth block 7 (a descendant).
fn fixture() -> (Vec<Header>, GrandpaJustification<Header>) {
    let chain = InMemoryChain::new();
    let blocks = chain.extend(chain.genesis(), 7, 0);
    let target = &blocks[4];
    let mut precommits: Vec<_> = (0..3).map(|i| precommit(&key(i), ROUND, 0, target)).collect();
    precommits.push(precommit(&key(3), ROUND, 0, &blocks[6]));
    let (hash, number) = id_of(target);
    let justification = GrandpaJustification {
        round: ROUND,
        commit: Commit { target_hash: hash, target_number: number, precommits },
        votes_ancestries: vec![blocks[6].clone(), blocks[5].clone()],
    };
    (blocks, justification)
}

fn verify(j: &GrandpaJustification<Header>, target: &Header) -> Result<(), Error> {
    verify_justification(&j.encode(), id_of(target), 0, &authorities()).map(|_| ())
}

#[test]
fn a_valid_justification_verifies() {
    let (blocks, j) = fixture();
    let decoded = verify_justification(&j.encode(), id_of(&blocks[4]), 0, &authorities()).unwrap();
    assert_eq!(decoded, j);

    // Also valid without the fourth precommit and its ancestry (3 of 4 is enough).
    let mut three = j.clone();
    three.commit.precommits.pop();
    three.votes_ancestries.clear();
    verify(&three, &blocks[4]).unwrap();
}

#[test]
fn a_bad_signature_fails() {
    let (blocks, mut j) = fixture();
    let mut bytes = j.commit.precommits[1].signature.encode();
    bytes[10] ^= 0x40;
    j.commit.precommits[1].signature = codec::Decode::decode(&mut &bytes[..]).unwrap();
    assert!(matches!(verify(&j, &blocks[4]), Err(Error::InvalidJustification(_))));

    // Signatures for another round or another set id.
    let (_, mut j) = fixture();
    j.round = ROUND + 1;
    assert!(verify(&j, &blocks[4]).is_err());
    let (_, j) = fixture();
    assert!(verify_justification(&j.encode(), id_of(&blocks[4]), 1, &authorities()).is_err());
}

#[test]
fn a_wrong_target_fails() {
    let (blocks, j) = fixture();
    assert!(verify(&j, &blocks[5]).is_err());
    let (hash, number) = id_of(&blocks[4]);
    assert!(verify_justification(&j.encode(), (hash, number + 1), 0, &authorities()).is_err());

    // A commit whose target is below the precommit-GHOST: every precommit is on a descendant
    // of the claimed target (Substrate requires the target to be the GHOST itself).
    let (_, mut j) = fixture();
    let (hash, number) = id_of(&blocks[3]);
    j.commit.target_hash = hash;
    j.commit.target_number = number;
    j.votes_ancestries.push(blocks[4].clone());
    let err = verify(&j, &blocks[3]).unwrap_err();
    assert!(err.to_string().contains("GHOST"), "{err}");

    // A precommit on a sibling fork of the target.
    let sibling = header_on(id_of(&blocks[3]), 9);
    let (_, mut j) = fixture();
    j.commit.precommits[0] = precommit(&key(0), ROUND, 0, &sibling);
    j.votes_ancestries.push(sibling);
    assert!(verify(&j, &blocks[4]).is_err());
}

#[test]
fn insufficient_weight_fails() {
    let (blocks, mut j) = fixture();
    j.commit.precommits.truncate(2);
    j.votes_ancestries.clear();
    assert!(matches!(verify(&j, &blocks[4]), Err(Error::InvalidJustification(_))));

    // The same voter three times counts once.
    let (_, mut j) = fixture();
    let first = j.commit.precommits[0].clone();
    j.commit.precommits = vec![first.clone(), first.clone(), first];
    j.votes_ancestries.clear();
    assert!(verify(&j, &blocks[4]).is_err());

    // A precommit by a key outside the set.
    let (_, mut j) = fixture();
    j.commit.precommits[0] = precommit(&key(8), ROUND, 0, &blocks[4]);
    assert!(verify(&j, &blocks[4]).is_err());
}

#[test]
fn extra_or_missing_ancestry_fails() {
    let (blocks, mut j) = fixture();
    j.votes_ancestries.push(blocks[1].clone());
    assert!(verify(&j, &blocks[4]).is_err(), "an unused ancestry header must fail");

    let (_, mut j) = fixture();
    j.votes_ancestries.push(j.votes_ancestries[0].clone());
    assert!(verify(&j, &blocks[4]).is_err(), "a duplicate ancestry header must fail");

    let (_, mut j) = fixture();
    j.votes_ancestries.remove(1);
    assert!(verify(&j, &blocks[4]).is_err(), "a missing ancestry header must fail");
}

#[test]
fn undecodable_bytes_fail() {
    let (blocks, j) = fixture();
    assert!(matches!(
        verify_justification(&[1, 2, 3], id_of(&blocks[4]), 0, &authorities()),
        Err(Error::Decode(_))
    ));
    let mut bytes = j.encode();
    bytes.push(0);
    assert!(verify_justification(&bytes, id_of(&blocks[4]), 0, &authorities()).is_err());
    assert!(verify_justification(&[], id_of(&blocks[4]), 0, &authorities()).is_err());
}

#[test]
fn a_single_authority_signs_complete_justifications() {
    let pair = key(0);
    let set: AuthorityList = vec![(id(&pair), 1)];
    let block = sp_core::H256::repeat_byte(7);
    let encoded = subtensor_finality::single_authority_justification(&pair, 0, 42, block, 42);
    let justification = verify_justification(&encoded, (block, 42), 0, &set).unwrap();
    assert_eq!(justification.round, 42);
    // Another block, set, or signer does not verify.
    assert!(verify_justification(&encoded, (sp_core::H256::repeat_byte(8), 42), 0, &set).is_err());
    assert!(verify_justification(&encoded, (block, 42), 1, &set).is_err());
    assert!(verify_justification(&encoded, (block, 42), 0, &[(id(&key(1)), 1)]).is_err());
    // With two authorities one signature is not enough.
    assert!(verify_justification(&encoded, (block, 42), 0, &authorities()[..2]).is_err());
}
