//! Aura consensus: authorities take turns by slot.
//!
//! Time is cut into slots of `slot_duration_ms`; a block's slot is its timestamp divided by the
//! slot duration, and the author of slot `s` is `authorities[s % authorities.len()]` (Aura's
//! round robin). When building, the node puts the slot into the header as the pre-runtime
//! digest `PreRuntime(*b"aura", slot.encode())` (u64, as `sp_consensus_slots::Slot`); after
//! execution it seals the header with `Seal(*b"aura", signature)`, the authority's sr25519
//! signature of the pre-seal header hash. Import checks the seal against the slot's author,
//! that the block's slot exceeds its parent's, and strips the seal before execution (the
//! runtime never sees it).

use crate::api::{ChainError, ChainResult};
use codec::{Decode, Encode};
use sp_core::{sr25519, Pair};
use sp_runtime::DigestItem;
use subtensor_runtime::Header;

/// The consensus engine id of Aura.
pub const AURA_ENGINE_ID: [u8; 4] = *b"aura";

/// The inherent identifier of the timestamp (`pallet_timestamp`), whose data is the u64
/// milliseconds of the block.
pub const TIMESTAMP_INHERENT: [u8; 8] = *b"timstap0";

/// The slot of a timestamp.
pub fn slot_at(timestamp_ms: u64, slot_duration_ms: u64) -> u64 {
    timestamp_ms.checked_div(slot_duration_ms).unwrap_or(timestamp_ms)
}

/// The author of `slot`: `authorities[slot % n]`; `None` without authorities.
pub fn slot_author(slot: u64, authorities: &[sr25519::Public]) -> Option<&sr25519::Public> {
    let n = u64::try_from(authorities.len()).ok()?;
    let index = usize::try_from(slot.checked_rem(n)?).ok()?;
    authorities.get(index)
}

/// How many slots ahead of the local clock a block may be and still be imported at once;
/// blocks further ahead are deferred until their slot comes.
pub const MAX_FUTURE_SLOTS: u64 = 1;

/// Whether `header`'s slot is too far ahead of `now_ms` to import it now (it should wait).
pub fn is_future(header: &Header, slot_duration_ms: u64, now_ms: u64) -> ChainResult<bool> {
    let now = slot_at(now_ms, slot_duration_ms);
    Ok(matches!(slot_of(header)?, Some(slot) if slot > now.saturating_add(MAX_FUTURE_SLOTS)))
}

/// The pre-runtime digest item announcing `slot`.
pub fn pre_digest(slot: u64) -> DigestItem {
    DigestItem::PreRuntime(AURA_ENGINE_ID, slot.encode())
}

/// The slot announced by `header`'s Aura pre-runtime digest; `None` for the genesis header,
/// an error when a non-genesis header has none, several, or a malformed one.
pub fn slot_of(header: &Header) -> ChainResult<Option<u64>> {
    let mut slots = header.digest.logs.iter().filter_map(|item| match item {
        DigestItem::PreRuntime(id, data) if *id == AURA_ENGINE_ID => Some(data),
        _ => None,
    });
    let first = slots.next();
    if slots.next().is_some() {
        return Err(ChainError::InvalidBlock("several Aura pre-runtime digests".into()));
    }
    match first {
        Some(data) => {
            let slot = u64::decode(&mut &data[..])
                .map_err(|e| ChainError::InvalidBlock(format!("bad Aura slot digest: {e}")))?;
            Ok(Some(slot))
        }
        None if header.number == 0 => Ok(None),
        None => Err(ChainError::InvalidBlock("missing Aura pre-runtime digest".into())),
    }
}

/// Seal `header` as `authority`: append `Seal(*b"aura", signature of the header hash)`.
pub fn seal(mut header: Header, authority: &sr25519::Pair) -> Header {
    let pre_hash = header.hash();
    let signature = authority.sign(pre_hash.as_bytes());
    header.digest.push(DigestItem::Seal(AURA_ENGINE_ID, signature.0.to_vec()));
    header
}

/// Check the seal of `header` against the author of its slot among `authorities`; return the
/// header without the seal and its slot. Needs no parent: a sync can check an announced header
/// before believing anything it claims.
pub fn check_seal(header: &Header, authorities: &[sr25519::Public]) -> ChainResult<(Header, u64)> {
    let mut stripped = header.clone();
    let signature = match stripped.digest.logs.pop() {
        Some(DigestItem::Seal(id, data)) if id == AURA_ENGINE_ID => data,
        _ => return Err(ChainError::InvalidBlock("the header has no Aura seal".into())),
    };
    let signature = sr25519::Signature::try_from(&signature[..])
        .map_err(|_| ChainError::InvalidBlock("malformed seal signature".into()))?;
    let slot = slot_of(&stripped)?
        .ok_or_else(|| ChainError::InvalidBlock("missing Aura pre-runtime digest".into()))?;
    let author = slot_author(slot, authorities)
        .ok_or_else(|| ChainError::InvalidBlock("the chain has no authorities".into()))?;
    let pre_hash = stripped.hash();
    if !sr25519::Pair::verify(&signature, pre_hash.as_bytes(), author) {
        return Err(ChainError::InvalidBlock(format!(
            "bad seal: not signed by the author of slot {slot}"
        )));
    }
    Ok((stripped, slot))
}

/// Check the seal of `header` against the author of its slot among `authorities` and that its
/// slot exceeds `parent`'s; return the header without the seal (as it was when executed).
/// Cheap (one signature check): done before any execution.
pub fn verify_and_strip(
    header: &Header,
    parent: &Header,
    authorities: &[sr25519::Public],
) -> ChainResult<Header> {
    let (stripped, slot) = check_seal(header, authorities)?;
    // The genesis header carries no slot: it counts as slot 0 (the runtime's Aura pallet
    // starts from slot 0 and refuses a slot that does not increase).
    let parent_slot = slot_of(parent)?.unwrap_or(0);
    if slot <= parent_slot {
        return Err(ChainError::InvalidBlock(format!(
            "slot {slot} does not exceed the parent's slot {parent_slot}"
        )));
    }
    Ok(stripped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sp_core::H256;
    use sp_runtime::{traits::Header as _, Digest};

    fn header(number: u32, slot: Option<u64>) -> Header {
        let digest = Digest { logs: slot.map(pre_digest).into_iter().collect() };
        Header::new(
            number,
            H256::repeat_byte(1),
            H256::repeat_byte(2),
            H256::repeat_byte(3),
            digest,
        )
    }

    #[test]
    fn seal_round_trip_and_failures() {
        let alice = sr25519::Pair::from_string("//Alice", None).unwrap();
        let bob = sr25519::Pair::from_string("//Bob", None).unwrap();
        let genesis = header(0, None);
        let unsealed = header(1, Some(5));
        let sealed = seal(unsealed.clone(), &alice);
        let alice_only = [alice.public()];
        assert_eq!(verify_and_strip(&sealed, &genesis, &alice_only).unwrap(), unsealed);
        // Wrong authority.
        assert!(verify_and_strip(&sealed, &genesis, &[bob.public()]).is_err());
        // No seal.
        assert!(verify_and_strip(&unsealed, &genesis, &alice_only).is_err());
        // Tampered header.
        let mut tampered = sealed.clone();
        tampered.state_root = H256::repeat_byte(9);
        assert!(verify_and_strip(&tampered, &genesis, &alice_only).is_err());
        // Slot not increasing.
        let parent = header(1, Some(5));
        let child = seal(header(2, Some(5)), &alice);
        assert!(verify_and_strip(&child, &parent, &alice_only).is_err());
        let child = seal(header(2, Some(6)), &alice);
        assert!(verify_and_strip(&child, &parent, &alice_only).is_ok());
        // Two authorities: slot 5 is Bob's (5 % 2 = 1), slot 6 Alice's.
        let both = [alice.public(), bob.public()];
        assert!(verify_and_strip(&seal(header(1, Some(5)), &alice), &genesis, &both).is_err());
        assert!(verify_and_strip(&seal(header(1, Some(5)), &bob), &genesis, &both).is_ok());
        assert!(verify_and_strip(&seal(header(1, Some(6)), &alice), &genesis, &both).is_ok());
        assert!(verify_and_strip(&seal(header(1, Some(6)), &bob), &genesis, &[]).is_err());
        // Slot 0 on genesis (which counts as slot 0).
        assert!(verify_and_strip(&seal(header(1, Some(0)), &alice), &genesis, &alice_only).is_err());
        // Future slots.
        assert!(!is_future(&header(1, Some(6)), 1_000, 5_500).unwrap());
        assert!(is_future(&header(1, Some(7)), 1_000, 5_500).unwrap());
        assert_eq!(slot_at(12_345, 1_000), 12);
        assert_eq!(slot_at(7, 0), 7);
    }
}
